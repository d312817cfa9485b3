// RUN: dsp-opt %s -split-input-file --dsp-insert-reshards | FileCheck %s

// Each conversion, written with the shardings a plan gives: the producer's
// dsp.sharding and what the consumer needs in dsp.operand_shardings.

// Split to another split dim: all_to_all from the old dim (concat) to the
// new one (split).
// CHECK-LABEL: func.func @split_to_split(
// CHECK:         %[[A:.*]] = dsp.neg %{{.*}} {dsp.sharding = [#dsp.shard<dim = 0>]}
// CHECK-NEXT:    %[[B:.*]] = dsp.all_to_all %[[A]] split 1 concat 0 {dsp.sharding = [#dsp.shard<dim = 1>]} : tensor<4x8xf32>
// CHECK-NEXT:    %[[C:.*]] = dsp.exp %[[B]] {dsp.sharding = [#dsp.shard<dim = 1>]}
// CHECK-NEXT:    %[[G:.*]] = dsp.all_gather %[[C]] dim 1 {dsp.sharding = [#dsp.shard<replicated>]} : tensor<4x8xf32>
// CHECK-NEXT:    return %[[G]]
module attributes {dsp.group = #dsp.group<ranks = 4>} {
  func.func @split_to_split(%x: tensor<4x8xf32> {dsp.sharding = #dsp.shard<dim = 0>}) -> tensor<4x8xf32> {
    %0 = dsp.neg %x {dsp.operand_shardings = [#dsp.shard<dim = 0>], dsp.sharding = [#dsp.shard<dim = 0>]} : tensor<4x8xf32>
    %1 = dsp.exp %0 {dsp.operand_shardings = [#dsp.shard<dim = 1>], dsp.sharding = [#dsp.shard<dim = 1>]} : tensor<4x8xf32>
    return %1 : tensor<4x8xf32>
  }
}

// -----

// Split to replicated: all_gather along the split dim.
// CHECK-LABEL: func.func @split_to_replicated(
// CHECK-SAME:      %[[X:.*]]: tensor<4x8xf32> {dsp.sharding = #dsp.shard<dim = 1>})
// CHECK-NEXT:    %[[G:.*]] = dsp.all_gather %[[X]] dim 1 {dsp.sharding = [#dsp.shard<replicated>]} : tensor<4x8xf32>
// CHECK-NEXT:    %[[R:.*]] = dsp.softmax %[[G]] {axis = 1 : i64, dsp.sharding = [#dsp.shard<replicated>]}
// CHECK-NEXT:    return %[[R]]
module attributes {dsp.group = #dsp.group<ranks = 4>} {
  func.func @split_to_replicated(%x: tensor<4x8xf32> {dsp.sharding = #dsp.shard<dim = 1>}) -> tensor<4x8xf32> {
    %0 = dsp.softmax %x {axis = 1 : i64, dsp.operand_shardings = [#dsp.shard<replicated>], dsp.sharding = [#dsp.shard<replicated>]} : tensor<4x8xf32>
    return %0 : tensor<4x8xf32>
  }
}

// -----

// Replicated to split: each rank keeps its block (local_slice), and a
// constant, which has no sharding, counts as replicated. The pad of the
// target sharding is kept.
// CHECK-LABEL: func.func @replicated_to_split(
// CHECK-SAME:      %[[X:.*]]: tensor<6x8xf32> {dsp.sharding = #dsp.shard<replicated>})
// CHECK-DAG:     %[[C:.*]] = dsp.constant dense<2.000000e+00> : tensor<6x8xf32>
// CHECK-DAG:     %[[XS:.*]] = dsp.local_slice %[[X]] dim 0 {dsp.sharding = [#dsp.shard<dim = 0, pad = 2>]} : tensor<6x8xf32>
// CHECK-DAG:     %[[CS:.*]] = dsp.local_slice %[[C]] dim 0 {dsp.sharding = [#dsp.shard<dim = 0, pad = 2>]} : tensor<6x8xf32>
// CHECK:         %[[M:.*]] = dsp.mul %[[XS]], %[[CS]] {dsp.sharding = [#dsp.shard<dim = 0, pad = 2>]}
// CHECK-NEXT:    %[[G:.*]] = dsp.all_gather %[[M]] dim 0 {dsp.sharding = [#dsp.shard<replicated>]}
// CHECK-NEXT:    return %[[G]]
module attributes {dsp.group = #dsp.group<ranks = 4>} {
  func.func @replicated_to_split(%x: tensor<6x8xf32> {dsp.sharding = #dsp.shard<replicated>}) -> tensor<6x8xf32> {
    %c = dsp.constant dense<2.0> : tensor<6x8xf32>
    %0 = dsp.mul %x, %c {dsp.operand_shardings = [#dsp.shard<dim = 0, pad = 2>, #dsp.shard<dim = 0, pad = 2>], dsp.sharding = [#dsp.shard<dim = 0, pad = 2>]} : tensor<6x8xf32>, tensor<6x8xf32> -> tensor<6x8xf32>
    return %0 : tensor<6x8xf32>
  }
}

// -----

// Partial to replicated: all_reduce; partial to split: reduce_scatter on
// the split dim.
// CHECK-LABEL: func.func @partial(
// CHECK:         %[[P:.*]] = dsp.matmul %{{.*}}, %{{.*}} {dsp.sharding = [#dsp.shard<partial>]}
// CHECK-DAG:     %[[R:.*]] = dsp.all_reduce %[[P]] sum {dsp.sharding = [#dsp.shard<replicated>]} : tensor<4x8xf32>
// CHECK-DAG:     %[[S:.*]] = dsp.reduce_scatter %[[P]] dim 0 sum {dsp.sharding = [#dsp.shard<dim = 0>]} : tensor<4x8xf32>
// CHECK:         dsp.exp %[[R]] {dsp.sharding = [#dsp.shard<replicated>]}
// CHECK:         dsp.neg %[[S]] {dsp.sharding = [#dsp.shard<dim = 0>]}
module attributes {dsp.group = #dsp.group<ranks = 4>} {
  func.func @partial(%a: tensor<4x16xf32> {dsp.sharding = #dsp.shard<dim = 1>}, %b: tensor<16x8xf32> {dsp.sharding = #dsp.shard<dim = 0>}) -> (tensor<4x8xf32>, tensor<4x8xf32>) {
    %0 = dsp.matmul %a, %b {dsp.operand_shardings = [#dsp.shard<dim = 1>, #dsp.shard<dim = 0>], dsp.sharding = [#dsp.shard<partial>]} : tensor<4x16xf32>, tensor<16x8xf32> -> tensor<4x8xf32>
    %1 = dsp.exp %0 {dsp.operand_shardings = [#dsp.shard<replicated>], dsp.sharding = [#dsp.shard<replicated>]} : tensor<4x8xf32>
    %2 = dsp.neg %0 {dsp.operand_shardings = [#dsp.shard<dim = 0>], dsp.sharding = [#dsp.shard<dim = 0>]} : tensor<4x8xf32>
    %3 = dsp.all_gather %2 dim 0 {dsp.sharding = [#dsp.shard<replicated>]} : tensor<4x8xf32>
    return %1, %3 : tensor<4x8xf32>, tensor<4x8xf32>
  }
}

// -----

// A switch between two factors of one dim: [B, T*S] split on T (the major
// factor, named as the whole dim) to split on S. Split and concat dim are
// the same; the factors are in the result's sharding.
// CHECK-LABEL: func.func @factor_switch(
// CHECK-SAME:      %[[X:.*]]: tensor<2x32xf32> {dsp.sharding = #dsp.shard<dim = 1>})
// CHECK-NEXT:    %[[A:.*]] = dsp.all_to_all %[[X]] split 1 concat 1 {dsp.sharding = [#dsp.shard<dim = 1, factors = [4, 8], factor = 1>]} : tensor<2x32xf32>
// CHECK-NEXT:    %[[N:.*]] = dsp.neg %[[A]] {dsp.sharding = [#dsp.shard<dim = 1, factors = [4, 8], factor = 1>]}
// CHECK-NEXT:    %[[G:.*]] = dsp.all_gather %[[N]] dim 1 {dsp.sharding = [#dsp.shard<replicated>]}
// CHECK-NEXT:    return %[[G]]
module attributes {dsp.group = #dsp.group<ranks = 4>} {
  func.func @factor_switch(%x: tensor<2x32xf32> {dsp.sharding = #dsp.shard<dim = 1>}) -> tensor<2x32xf32> {
    %0 = dsp.neg %x {dsp.operand_shardings = [#dsp.shard<dim = 1, factors = [4, 8], factor = 1>], dsp.sharding = [#dsp.shard<dim = 1, factors = [4, 8], factor = 1>]} : tensor<2x32xf32>
    return %0 : tensor<2x32xf32>
  }
}

// -----

// Function results are made replicated; a replicated or unsharded result
// is returned as is.
// CHECK-LABEL: func.func @results(
// CHECK-SAME:      %[[X:.*]]: tensor<4x8xf32> {dsp.sharding = #dsp.shard<dim = 0>}, %[[Y:.*]]: tensor<4x8xf32> {dsp.sharding = #dsp.shard<replicated>})
// CHECK-NEXT:    %[[G:.*]] = dsp.all_gather %[[X]] dim 0 {dsp.sharding = [#dsp.shard<replicated>]}
// CHECK-NEXT:    return %[[G]], %[[Y]]
module attributes {dsp.group = #dsp.group<ranks = 4>} {
  func.func @results(%x: tensor<4x8xf32> {dsp.sharding = #dsp.shard<dim = 0>}, %y: tensor<4x8xf32> {dsp.sharding = #dsp.shard<replicated>}) -> (tensor<4x8xf32>, tensor<4x8xf32>) {
    return %x, %y : tensor<4x8xf32>, tensor<4x8xf32>
  }
}

// -----

// Two users that need the same conversion of one value share one
// collective; a user that needs another sharding gets its own, and a
// result returned twice is gathered once.
// CHECK-LABEL: func.func @shared(
// CHECK-SAME:      %[[X:.*]]: tensor<4x8xf32> {dsp.sharding = #dsp.shard<dim = 0>})
// CHECK-DAG:     %[[T:.*]] = dsp.all_to_all %[[X]] split 1 concat 0 {dsp.sharding = [#dsp.shard<dim = 1>]}
// CHECK-DAG:     %[[G:.*]] = dsp.all_gather %[[X]] dim 0 {dsp.sharding = [#dsp.shard<replicated>]}
// CHECK-NOT:     dsp.all_to_all
// CHECK:         %[[A:.*]] = dsp.exp %[[T]]
// CHECK-NEXT:    %[[B:.*]] = dsp.neg %[[T]]
// CHECK-NEXT:    %[[C:.*]] = dsp.add %[[A]], %[[B]]
// CHECK-NEXT:    %[[GC:.*]] = dsp.all_gather %[[C]] dim 1
// CHECK-NEXT:    %[[D:.*]] = dsp.softmax %[[G]]
// CHECK-NOT:     dsp.all_gather
// CHECK:         return %[[GC]], %[[GC]], %[[D]]
module attributes {dsp.group = #dsp.group<ranks = 4>} {
  func.func @shared(%x: tensor<4x8xf32> {dsp.sharding = #dsp.shard<dim = 0>}) -> (tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>) {
    %0 = dsp.exp %x {dsp.operand_shardings = [#dsp.shard<dim = 1>], dsp.sharding = [#dsp.shard<dim = 1>]} : tensor<4x8xf32>
    %1 = dsp.neg %x {dsp.operand_shardings = [#dsp.shard<dim = 1>], dsp.sharding = [#dsp.shard<dim = 1>]} : tensor<4x8xf32>
    %2 = dsp.add %0, %1 {dsp.operand_shardings = [#dsp.shard<dim = 1>, #dsp.shard<dim = 1>], dsp.sharding = [#dsp.shard<dim = 1>]} : tensor<4x8xf32>, tensor<4x8xf32> -> tensor<4x8xf32>
    %3 = dsp.softmax %x {axis = 0 : i64, dsp.operand_shardings = [#dsp.shard<replicated>], dsp.sharding = [#dsp.shard<replicated>]} : tensor<4x8xf32>
    return %2, %2, %3 : tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>
  }
}

// -----

// A read sharding routes every reader through one conversion: the value is
// switched to dim 1 once, a reader that needs dim 1 takes that, one that
// needs it replicated gathers from there, one that needs the producer's own
// dim 0 reads the producer; the attribute is gone afterwards.
// CHECK-LABEL: func.func @read_sharding(
// CHECK:         %[[A:.*]] = dsp.neg %{{.*}} {dsp.sharding = [#dsp.shard<dim = 0>]}
// CHECK-NEXT:    %[[S:.*]] = dsp.all_to_all %[[A]] split 1 concat 0 {dsp.sharding = [#dsp.shard<dim = 1>]} : tensor<4x8xf32>
// CHECK-NEXT:    %[[G:.*]] = dsp.all_gather %[[S]] dim 1 {dsp.sharding = [#dsp.shard<replicated>]} : tensor<4x8xf32>
// CHECK-NEXT:    dsp.exp %[[S]] {dsp.sharding = [#dsp.shard<dim = 1>]}
// CHECK:         dsp.abs %[[G]] {dsp.sharding = [#dsp.shard<replicated>]}
// CHECK-NEXT:    dsp.relu %[[A]] {dsp.sharding = [#dsp.shard<dim = 0>]}
// CHECK-NOT:     dsp.read_sharding
module attributes {dsp.group = #dsp.group<ranks = 4>} {
  func.func @read_sharding(%x: tensor<4x8xf32> {dsp.sharding = #dsp.shard<dim = 0>}) -> (tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>) {
    %0 = dsp.neg %x {dsp.operand_shardings = [#dsp.shard<dim = 0>], dsp.read_sharding = #dsp.shard<dim = 1>, dsp.sharding = [#dsp.shard<dim = 0>]} : tensor<4x8xf32>
    %1 = dsp.exp %0 {dsp.operand_shardings = [#dsp.shard<dim = 1>], dsp.sharding = [#dsp.shard<dim = 1>]} : tensor<4x8xf32>
    %2 = dsp.abs %0 {dsp.operand_shardings = [#dsp.shard<replicated>], dsp.sharding = [#dsp.shard<replicated>]} : tensor<4x8xf32>
    %3 = dsp.relu %0 {dsp.operand_shardings = [#dsp.shard<dim = 0>], dsp.sharding = [#dsp.shard<dim = 0>]} : tensor<4x8xf32>
    return %1, %2, %3 : tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>
  }
}

// -----

// An argument's read sharding works the same way.
// CHECK-LABEL: func.func @argument_read_sharding(
// CHECK-SAME:      %[[X:[^:]*]]: tensor<4x8xf32> {dsp.sharding = #dsp.shard<dim = 0>})
// CHECK-NEXT:    %[[S:.*]] = dsp.all_to_all %[[X]] split 1 concat 0 {dsp.sharding = [#dsp.shard<dim = 1>]} : tensor<4x8xf32>
// CHECK-NEXT:    %[[G:.*]] = dsp.all_gather %[[S]] dim 1 {dsp.sharding = [#dsp.shard<replicated>]} : tensor<4x8xf32>
// CHECK-NEXT:    dsp.exp %[[S]]
// CHECK:         dsp.abs %[[G]]
module attributes {dsp.group = #dsp.group<ranks = 4>} {
  func.func @argument_read_sharding(%x: tensor<4x8xf32> {dsp.sharding = #dsp.shard<dim = 0>, dsp.read_sharding = #dsp.shard<dim = 1>}) -> (tensor<4x8xf32>, tensor<4x8xf32>) {
    %1 = dsp.exp %x {dsp.operand_shardings = [#dsp.shard<dim = 1>], dsp.sharding = [#dsp.shard<dim = 1>]} : tensor<4x8xf32>
    %2 = dsp.abs %x {dsp.operand_shardings = [#dsp.shard<replicated>], dsp.sharding = [#dsp.shard<replicated>]} : tensor<4x8xf32>
    return %1, %2 : tensor<4x8xf32>, tensor<4x8xf32>
  }
}

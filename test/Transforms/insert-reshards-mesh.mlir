// RUN: dsp-opt %s -split-input-file --dsp-insert-reshards | FileCheck %s

// On a mesh, a reshard between compound shardings is one collective per
// mesh axis whose part changes, each among the sub-groups of that axis.

// B over axis 0 and T over axis 1: T to C on axis 1, then B to T on axis 0,
// then a gather on each axis for the result.
// CHECK-LABEL: func.func @one_axis_at_a_time(
// CHECK-NEXT:    %[[A:.*]] = dsp.all_to_all %{{.*}} split 2 concat 1 axis 1 {dsp.sharding = [#dsp.shard<axes = [<dim = 0>, <dim = 2>]>]} : tensor<4x6x8xf32>
// CHECK-NEXT:    %[[N:.*]] = dsp.neg %[[A]]
// CHECK-NEXT:    %[[B:.*]] = dsp.all_to_all %[[N]] split 1 concat 0 axis 0 {dsp.sharding = [#dsp.shard<axes = [<dim = 1>, <dim = 2>]>]}
// CHECK-NEXT:    %[[E:.*]] = dsp.exp %[[B]]
// CHECK-NEXT:    %[[G:.*]] = dsp.all_gather %[[E]] dim 1 axis 0 {dsp.sharding = [#dsp.shard<axes = [<replicated>, <dim = 2>]>]}
// CHECK-NEXT:    %[[R:.*]] = dsp.all_gather %[[G]] dim 2 axis 1 {dsp.sharding = [#dsp.shard<replicated>]}
// CHECK-NEXT:    return %[[R]]
module attributes {dsp.group = #dsp.group<ranks = 4, mesh = [2, 2]>} {
  func.func @one_axis_at_a_time(%x: tensor<4x6x8xf32> {dsp.sharding = #dsp.shard<axes = [<dim = 0>, <dim = 1>]>}) -> tensor<4x6x8xf32> {
    %0 = dsp.neg %x {dsp.operand_shardings = [#dsp.shard<axes = [<dim = 0>, <dim = 2>]>], dsp.sharding = [#dsp.shard<axes = [<dim = 0>, <dim = 2>]>]} : tensor<4x6x8xf32>
    %1 = dsp.exp %0 {dsp.operand_shardings = [#dsp.shard<axes = [<dim = 1>, <dim = 2>]>], dsp.sharding = [#dsp.shard<axes = [<dim = 1>, <dim = 2>]>]} : tensor<4x6x8xf32>
    return %1 : tensor<4x6x8xf32>
  }
}

// -----

// Swapping the dims of the two axes would split dim 1 twice on the way:
// axis 0 is gathered first and sliced once axis 1 has its new part.
// CHECK-LABEL: func.func @swap(
// CHECK-NEXT:    %[[G:.*]] = dsp.all_gather %{{.*}} dim 0 axis 0 {dsp.sharding = [#dsp.shard<axes = [<replicated>, <dim = 1>]>]}
// CHECK-NEXT:    %[[A:.*]] = dsp.all_to_all %[[G]] split 0 concat 1 axis 1 {dsp.sharding = [#dsp.shard<axes = [<replicated>, <dim = 0>]>]}
// CHECK-NEXT:    %[[S:.*]] = dsp.local_slice %[[A]] dim 1 axis 0 {dsp.sharding = [#dsp.shard<axes = [<dim = 1>, <dim = 0>]>]}
// CHECK-NEXT:    dsp.neg %[[S]]
module attributes {dsp.group = #dsp.group<ranks = 4, mesh = [2, 2]>} {
  func.func @swap(%x: tensor<4x6x8xf32> {dsp.sharding = #dsp.shard<axes = [<dim = 0>, <dim = 1>]>}) -> tensor<4x6x8xf32> {
    %0 = dsp.neg %x {dsp.operand_shardings = [#dsp.shard<axes = [<dim = 1>, <dim = 0>]>], dsp.sharding = [#dsp.shard<axes = [<dim = 1>, <dim = 0>]>]} : tensor<4x6x8xf32>
    %1 = dsp.all_gather %0 dim 1 axis 0 {dsp.sharding = [#dsp.shard<axes = [<replicated>, <dim = 0>]>]} : tensor<4x6x8xf32>
    %2 = dsp.all_gather %1 dim 0 axis 1 {dsp.sharding = [#dsp.shard<replicated>]} : tensor<4x6x8xf32>
    return %2 : tensor<4x6x8xf32>
  }
}

// -----

// Partial sums on axis 1 (a reduction over C, split there): the gather of
// axis 0, then the all_reduce of axis 1.
// CHECK-LABEL: func.func @partial_on_one_axis(
// CHECK-NEXT:    %[[S:.*]] = dsp.reduce_sum
// CHECK-NEXT:    %[[G:.*]] = dsp.all_gather %[[S]] dim 0 axis 0 {dsp.sharding = [#dsp.shard<axes = [<replicated>, <partial>]>]}
// CHECK-NEXT:    %[[R:.*]] = dsp.all_reduce %[[G]] sum axis 1 {dsp.sharding = [#dsp.shard<replicated>]}
// CHECK-NEXT:    return %[[R]]
module attributes {dsp.group = #dsp.group<ranks = 4, mesh = [2, 2]>} {
  func.func @partial_on_one_axis(%x: tensor<4x6x8xf32> {dsp.sharding = #dsp.shard<axes = [<dim = 0>, <dim = 2>]>}) -> tensor<4x6x1xf32> {
    %0 = dsp.reduce_sum %x {axes = array<i64: 2>, keepdims = true, dsp.operand_shardings = [#dsp.shard<axes = [<dim = 0>, <dim = 2>]>], dsp.sharding = [#dsp.shard<axes = [<dim = 0>, <partial>]>]} : tensor<4x6x8xf32> -> tensor<4x6x1xf32>
    return %0 : tensor<4x6x1xf32>
  }
}

// -----

// A split over all ranks is no part of one mesh axis: it goes through the
// replicated value.
// CHECK-LABEL: func.func @whole_group(
// CHECK-NEXT:    %[[G:.*]] = dsp.all_gather %{{.*}} dim 0 {dsp.sharding = [#dsp.shard<replicated>]}
// CHECK-NEXT:    %[[A:.*]] = dsp.local_slice %[[G]] dim 0 axis 0 {dsp.sharding = [#dsp.shard<axes = [<dim = 0>, <replicated>]>]}
// CHECK-NEXT:    %[[B:.*]] = dsp.local_slice %[[A]] dim 1 axis 1 {dsp.sharding = [#dsp.shard<axes = [<dim = 0>, <dim = 1>]>]}
// CHECK-NEXT:    dsp.neg %[[B]]
module attributes {dsp.group = #dsp.group<ranks = 4, mesh = [2, 2]>} {
  func.func @whole_group(%x: tensor<4x6x8xf32> {dsp.sharding = #dsp.shard<dim = 0>}) -> tensor<4x6x8xf32> {
    %0 = dsp.neg %x {dsp.operand_shardings = [#dsp.shard<axes = [<dim = 0>, <dim = 1>]>], dsp.sharding = [#dsp.shard<axes = [<dim = 0>, <dim = 1>]>]} : tensor<4x6x8xf32>
    %1 = dsp.all_gather %0 dim 0 axis 0 {dsp.sharding = [#dsp.shard<axes = [<replicated>, <dim = 1>]>]} : tensor<4x6x8xf32>
    %2 = dsp.all_gather %1 dim 1 axis 1 {dsp.sharding = [#dsp.shard<replicated>]} : tensor<4x6x8xf32>
    return %2 : tensor<4x6x8xf32>
  }
}

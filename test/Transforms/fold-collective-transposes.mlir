// RUN: dsp-opt %s -split-input-file --dsp-fold-collective-transposes | FileCheck %s

// A transpose whose only use is an all_to_all becomes its input_perm; the
// switch still reads the [1, 2, 16, 32] block of [1, 8, 16, 32] split on
// dim 1.
// CHECK-LABEL: func.func @input_transpose(
// CHECK-SAME:      %[[X:.*]]: tensor<1x16x2x32xf32>
// CHECK-NEXT:    %[[S:.*]] = dsp.all_to_all %[[X]] split 2 concat 1 input_perm [0, 2, 1, 3] {dsp.sharding = [#dsp.shard<dim = 2>]} : tensor<1x16x2x32xf32> -> tensor<1x8x4x32xf32>
// CHECK-NEXT:    return %[[S]]
module attributes {dsp.group = #dsp.group<ranks = 4, per_rank = true>} {
  func.func @input_transpose(%x: tensor<1x16x2x32xf32> {dsp.sharding = #dsp.shard<dim = 2>}) -> tensor<1x8x4x32xf32> {
    %0 = dsp.transpose %x perm [0, 2, 1, 3] {dsp.sharding = [#dsp.shard<dim = 1>]} : tensor<1x16x2x32xf32> -> tensor<1x2x16x32xf32>
    %1 = dsp.all_to_all %0 split 2 concat 1 {dsp.sharding = [#dsp.shard<dim = 2>]} : tensor<1x2x16x32xf32> -> tensor<1x8x4x32xf32>
    return %1 : tensor<1x8x4x32xf32>
  }
}

// -----

// A transpose that is the only use of the result becomes its output_perm;
// the op takes over the transpose's type and sharding.
// CHECK-LABEL: func.func @output_transpose(
// CHECK-SAME:      %[[X:.*]]: tensor<8x4x16xf32>
// CHECK-NEXT:    %[[S:.*]] = dsp.all_to_all %[[X]] split 1 concat 0 output_perm [1, 0, 2] {dsp.sharding = [#dsp.shard<dim = 0>]} : tensor<8x4x16xf32> -> tensor<1x32x16xf32>
// CHECK-NEXT:    %[[N:.*]] = dsp.neg %[[S]]
// CHECK-NEXT:    return %[[N]]
module attributes {dsp.group = #dsp.group<ranks = 4, per_rank = true>} {
  func.func @output_transpose(%x: tensor<8x4x16xf32> {dsp.sharding = #dsp.shard<dim = 0>}) -> tensor<1x32x16xf32> {
    %0 = dsp.all_to_all %x split 1 concat 0 {dsp.sharding = [#dsp.shard<dim = 1>]} : tensor<8x4x16xf32> -> tensor<32x1x16xf32>
    %1 = dsp.transpose %0 perm [1, 0, 2] {dsp.sharding = [#dsp.shard<dim = 0>]} : tensor<32x1x16xf32> -> tensor<1x32x16xf32>
    %2 = dsp.neg %1 {dsp.sharding = [#dsp.shard<dim = 0>]} : tensor<1x32x16xf32>
    return %2 : tensor<1x32x16xf32>
  }
}

// -----

// Both sides at once.
// CHECK-LABEL: func.func @both_sides(
// CHECK-SAME:      %[[X:.*]]: tensor<4x8x16xf32>
// CHECK-NEXT:    %[[S:.*]] = dsp.all_to_all %[[X]] split 0 concat 1 input_perm [1, 0, 2] output_perm [1, 0, 2] {dsp.sharding = [#dsp.shard<dim = 1>]} : tensor<4x8x16xf32> -> tensor<8x4x16xf32>
// CHECK-NEXT:    return %[[S]]
module attributes {dsp.group = #dsp.group<ranks = 2, per_rank = true>} {
  func.func @both_sides(%x: tensor<4x8x16xf32> {dsp.sharding = #dsp.shard<dim = 0>}) -> tensor<8x4x16xf32> {
    %0 = dsp.transpose %x perm [1, 0, 2] {dsp.sharding = [#dsp.shard<dim = 1>]} : tensor<4x8x16xf32> -> tensor<8x4x16xf32>
    %1 = dsp.all_to_all %0 split 0 concat 1 {dsp.sharding = [#dsp.shard<dim = 0>]} : tensor<8x4x16xf32> -> tensor<4x8x16xf32>
    %2 = dsp.transpose %1 perm [1, 0, 2] {dsp.sharding = [#dsp.shard<dim = 1>]} : tensor<4x8x16xf32> -> tensor<8x4x16xf32>
    return %2 : tensor<8x4x16xf32>
  }
}

// -----

// A transpose with another use, or a result with another use, stays: the
// transposed value is needed anyway.
// CHECK-LABEL: func.func @shared_values(
// CHECK:         dsp.transpose
// CHECK:         dsp.all_to_all
// CHECK-NOT:     input_perm
// CHECK-NOT:     output_perm
// CHECK:         dsp.transpose
module attributes {dsp.group = #dsp.group<ranks = 2, per_rank = true>} {
  func.func @shared_values(%x: tensor<4x8x16xf32> {dsp.sharding = #dsp.shard<dim = 0>}) -> (tensor<8x4x16xf32>, tensor<8x4x16xf32>, tensor<4x8x16xf32>) {
    %0 = dsp.transpose %x perm [1, 0, 2] {dsp.sharding = [#dsp.shard<dim = 1>]} : tensor<4x8x16xf32> -> tensor<8x4x16xf32>
    %1 = dsp.all_to_all %0 split 0 concat 1 {dsp.sharding = [#dsp.shard<dim = 0>]} : tensor<8x4x16xf32> -> tensor<4x8x16xf32>
    %2 = dsp.transpose %1 perm [1, 0, 2] {dsp.sharding = [#dsp.shard<dim = 1>]} : tensor<4x8x16xf32> -> tensor<8x4x16xf32>
    return %0, %2, %1 : tensor<8x4x16xf32>, tensor<8x4x16xf32>, tensor<4x8x16xf32>
  }
}

// -----

// Global IR keeps its transposes: only per-rank IR has the folded form.
// CHECK-LABEL: func.func @global_ir(
// CHECK:         dsp.transpose
// CHECK-NOT:     input_perm
func.func @global_ir(%x: tensor<4x8xf32>) -> tensor<8x4xf32> {
  %0 = dsp.transpose %x perm [1, 0] : tensor<4x8xf32> -> tensor<8x4xf32>
  %1 = dsp.all_to_all %0 split 0 concat 1 : tensor<8x4xf32>
  return %1 : tensor<8x4xf32>
}

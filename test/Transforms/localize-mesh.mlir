// RUN: dsp-opt %s -split-input-file --dsp-insert-reshards --dsp-localize | FileCheck %s

// Per-rank IR on a mesh: each value's block under its compound sharding,
// and collectives that name the mesh axis they run on.

// CHECK-LABEL: func.func @blocks(
// CHECK-SAME:      %[[X:.*]]: tensor<2x3x8xf32> {dsp.sharding = #dsp.shard<axes = [<dim = 0>, <dim = 1>]>}) -> tensor<4x6x8xf32>
// CHECK-NEXT:    %[[A:.*]] = dsp.all_to_all %[[X]] split 2 concat 1 axis 1 {{.*}} : tensor<2x3x8xf32> -> tensor<2x6x4xf32>
// CHECK-NEXT:    %[[N:.*]] = dsp.neg %[[A]] {{.*}} : tensor<2x6x4xf32>
// CHECK-NEXT:    %[[B:.*]] = dsp.all_to_all %[[N]] split 1 concat 0 axis 0 {{.*}} : tensor<2x6x4xf32> -> tensor<4x3x4xf32>
// CHECK-NEXT:    %[[E:.*]] = dsp.exp %[[B]] {{.*}} : tensor<4x3x4xf32>
// CHECK-NEXT:    %[[G:.*]] = dsp.all_gather %[[E]] dim 1 axis 0 {{.*}} : tensor<4x3x4xf32> -> tensor<4x6x4xf32>
// CHECK-NEXT:    %[[R:.*]] = dsp.all_gather %[[G]] dim 2 axis 1 {{.*}} : tensor<4x6x4xf32> -> tensor<4x6x8xf32>
// CHECK-NEXT:    return %[[R]]

module attributes {dsp.group = #dsp.group<ranks = 4, mesh = [2, 2]>} {
  func.func @blocks(%x: tensor<4x6x8xf32> {dsp.sharding = #dsp.shard<axes = [<dim = 0>, <dim = 1>]>}) -> tensor<4x6x8xf32> {
    %0 = dsp.neg %x {dsp.operand_shardings = [#dsp.shard<axes = [<dim = 0>, <dim = 2>]>], dsp.sharding = [#dsp.shard<axes = [<dim = 0>, <dim = 2>]>]} : tensor<4x6x8xf32>
    %1 = dsp.exp %0 {dsp.operand_shardings = [#dsp.shard<axes = [<dim = 1>, <dim = 2>]>], dsp.sharding = [#dsp.shard<axes = [<dim = 1>, <dim = 2>]>]} : tensor<4x6x8xf32>
    return %1 : tensor<4x6x8xf32>
  }
}

// -----

// A sum over T, split with a pad on axis 1: zero_pad zeroes that axis's pad
// first; B's split on axis 0 has none.
// CHECK-LABEL: func.func @pads(
// CHECK-SAME:      %[[X:.*]]: tensor<2x3x6xf32>
// CHECK-NEXT:    %[[P:.*]] = dsp.zero_pad %[[X]] axis 1 {dsp.sharding = [#dsp.shard<axes = [<dim = 0>, <dim = 1, pad = 1>]>]} : tensor<2x3x6xf32>
// CHECK-NEXT:    %[[S:.*]] = dsp.reduce_sum %[[P]] {{.*}} : tensor<2x3x6xf32> -> tensor<2x1x6xf32>
// CHECK-NEXT:    %[[G:.*]] = dsp.all_gather %[[S]] dim 0 axis 0 {{.*}} : tensor<2x1x6xf32> -> tensor<4x1x6xf32>
// CHECK-NEXT:    %[[R:.*]] = dsp.all_reduce %[[G]] sum axis 1 {{.*}} : tensor<4x1x6xf32>
// CHECK-NEXT:    return %[[R]]
module attributes {dsp.group = #dsp.group<ranks = 4, mesh = [2, 2]>} {
  func.func @pads(%x: tensor<4x5x6xf32> {dsp.sharding = #dsp.shard<axes = [<dim = 0>, <dim = 1, pad = 1>]>}) -> tensor<4x1x6xf32> {
    %0 = dsp.reduce_sum %x {axes = array<i64: 1>, keepdims = true, dsp.operand_shardings = [#dsp.shard<axes = [<dim = 0>, <dim = 1, pad = 1>]>], dsp.sharding = [#dsp.shard<axes = [<dim = 0>, <partial>]>]} : tensor<4x5x6xf32> -> tensor<4x1x6xf32>
    return %0 : tensor<4x1x6xf32>
  }
}

// RUN: dsp-opt %s -split-input-file --dsp-fuse-matmul-epilogue | FileCheck %s

// A bias add, an erf GELU and a residual add fold into the product.
// CHECK-LABEL: func.func @bias_gelu_residual(
// CHECK-SAME:      %[[X:.*]]: tensor<64x288xf32>, %[[W:.*]]: tensor<288x1152xf32>, %[[B:.*]]: tensor<1152xf32>, %[[R:.*]]: tensor<64x1152xf32>)
// CHECK-NEXT:    %[[L:.*]] = dsp.linear %[[X]], %[[W]] bias %[[B]] residual %[[R]] {activation = "gelu"} : (tensor<64x288xf32>, tensor<288x1152xf32>, tensor<1152xf32>, tensor<64x1152xf32>) -> tensor<64x1152xf32>
// CHECK-NEXT:    return %[[L]]
func.func @bias_gelu_residual(%x: tensor<64x288xf32>, %w: tensor<288x1152xf32>, %b: tensor<1152xf32>, %r: tensor<64x1152xf32>) -> tensor<64x1152xf32> {
  %0 = dsp.matmul %x, %w : tensor<64x288xf32>, tensor<288x1152xf32> -> tensor<64x1152xf32>
  %1 = dsp.add %0, %b : tensor<64x1152xf32>, tensor<1152xf32> -> tensor<64x1152xf32>
  %2 = dsp.gelu %1 : tensor<64x1152xf32>
  %3 = dsp.add %r, %2 : tensor<64x1152xf32>, tensor<64x1152xf32> -> tensor<64x1152xf32>
  return %3 : tensor<64x1152xf32>
}

// -----

// The tanh GELU; the bias comes first in its add, and its [1, 1, N] shape
// becomes [N].
// CHECK-LABEL: func.func @gelu_tanh_bias_of_rank_3(
// CHECK-SAME:      %[[X:.*]]: tensor<2x8x16xf32>, %[[W:.*]]: tensor<16x32xf32>, %[[B:.*]]: tensor<1x1x32xf32>)
// CHECK-NEXT:    %[[B1:.*]] = dsp.reshape %[[B]] : tensor<1x1x32xf32> -> tensor<32xf32>
// CHECK-NEXT:    %[[L:.*]] = dsp.linear %[[X]], %[[W]] bias %[[B1]] {activation = "gelu_tanh"} : (tensor<2x8x16xf32>, tensor<16x32xf32>, tensor<32xf32>) -> tensor<2x8x32xf32>
// CHECK-NEXT:    return %[[L]]
func.func @gelu_tanh_bias_of_rank_3(%x: tensor<2x8x16xf32>, %w: tensor<16x32xf32>, %b: tensor<1x1x32xf32>) -> tensor<2x8x32xf32> {
  %0 = dsp.matmul %x, %w : tensor<2x8x16xf32>, tensor<16x32xf32> -> tensor<2x8x32xf32>
  %1 = dsp.add %b, %0 : tensor<1x1x32xf32>, tensor<2x8x32xf32> -> tensor<2x8x32xf32>
  %2 = dsp.gelu %1 {approximate = "tanh"} : tensor<2x8x32xf32>
  return %2 : tensor<2x8x32xf32>
}

// -----

// SiLU; a constant bias of rank 2 is reshaped by folding.
// CHECK-LABEL: func.func @silu_constant_bias(
// CHECK-SAME:      %[[X:.*]]: tensor<8x16xf32>, %[[W:.*]]: tensor<16x4xf32>)
// CHECK-NEXT:    %[[B:.*]] = dsp.constant dense<[1.000000e+00, 2.000000e+00, 3.000000e+00, 4.000000e+00]> : tensor<4xf32>
// CHECK-NEXT:    %[[L:.*]] = dsp.linear %[[X]], %[[W]] bias %[[B]] {activation = "silu"}
// CHECK-NEXT:    return %[[L]]
func.func @silu_constant_bias(%x: tensor<8x16xf32>, %w: tensor<16x4xf32>) -> tensor<8x4xf32> {
  %b = dsp.constant dense<[[1.0, 2.0, 3.0, 4.0]]> : tensor<1x4xf32>
  %0 = dsp.matmul %x, %w : tensor<8x16xf32>, tensor<16x4xf32> -> tensor<8x4xf32>
  %1 = dsp.add %0, %b : tensor<8x4xf32>, tensor<1x4xf32> -> tensor<8x4xf32>
  %2 = dsp.silu %1 : tensor<8x4xf32>
  return %2 : tensor<8x4xf32>
}

// -----

// A projection and residual without activation; the fused op keeps the
// sharding of the ops it replaces.
// CHECK-LABEL: func.func @bias_residual(
// CHECK-SAME:      %[[X:.*]]: tensor<8x16xf32>, %[[W:.*]]: tensor<16x4xf32>, %[[B:.*]]: tensor<4xf32>, %[[R:.*]]: tensor<8x4xf32>)
// CHECK-NEXT:    %[[L:.*]] = dsp.linear %[[X]], %[[W]] bias %[[B]] residual %[[R]] {dsp.sharding = [#dsp.shard<dim = 0>]} : (tensor<8x16xf32>, tensor<16x4xf32>, tensor<4xf32>, tensor<8x4xf32>) -> tensor<8x4xf32>
// CHECK-NEXT:    return %[[L]]
module attributes {dsp.group = #dsp.group<ranks = 2, per_rank = true>} {
func.func @bias_residual(%x: tensor<8x16xf32>, %w: tensor<16x4xf32>, %b: tensor<4xf32>, %r: tensor<8x4xf32>) -> tensor<8x4xf32> {
  %0 = dsp.matmul %x, %w {dsp.sharding = [#dsp.shard<dim = 0>]} : tensor<8x16xf32>, tensor<16x4xf32> -> tensor<8x4xf32>
  %1 = dsp.add %0, %b {dsp.sharding = [#dsp.shard<dim = 0>]} : tensor<8x4xf32>, tensor<4xf32> -> tensor<8x4xf32>
  %2 = dsp.add %1, %r {dsp.sharding = [#dsp.shard<dim = 0>]} : tensor<8x4xf32>, tensor<8x4xf32> -> tensor<8x4xf32>
  return %2 : tensor<8x4xf32>
}
}

// -----

// An intermediate read twice stops the chain before it: the product is
// read again, so nothing fuses; the bias sum is read again, so only the
// bias folds, and the GELU stays.
// CHECK-LABEL: func.func @multiple_uses(
// CHECK-SAME:      %[[X:.*]]: tensor<8x16xf32>, %[[W:.*]]: tensor<16x4xf32>, %[[B:.*]]: tensor<4xf32>)
// CHECK-NEXT:    %[[P:.*]] = dsp.matmul %[[X]], %[[W]]
// CHECK-NEXT:    %[[S:.*]] = dsp.add %[[P]], %[[B]]
// CHECK-NEXT:    %[[L:.*]] = dsp.linear %[[X]], %[[W]] bias %[[B]] :
// CHECK-NEXT:    %[[G:.*]] = dsp.gelu %[[L]]
// CHECK-NEXT:    return %[[P]], %[[S]], %[[L]], %[[G]]
func.func @multiple_uses(%x: tensor<8x16xf32>, %w: tensor<16x4xf32>, %b: tensor<4xf32>) -> (tensor<8x4xf32>, tensor<8x4xf32>, tensor<8x4xf32>, tensor<8x4xf32>) {
  %0 = dsp.matmul %x, %w : tensor<8x16xf32>, tensor<16x4xf32> -> tensor<8x4xf32>
  %1 = dsp.add %0, %b : tensor<8x4xf32>, tensor<4xf32> -> tensor<8x4xf32>
  %2 = dsp.matmul %x, %w : tensor<8x16xf32>, tensor<16x4xf32> -> tensor<8x4xf32>
  %3 = dsp.add %2, %b : tensor<8x4xf32>, tensor<4xf32> -> tensor<8x4xf32>
  %4 = dsp.gelu %3 : tensor<8x4xf32>
  return %0, %1, %3, %4 : tensor<8x4xf32>, tensor<8x4xf32>, tensor<8x4xf32>, tensor<8x4xf32>
}

// -----

// A bias over rows ([M, 1]) or a scalar is no row bias: nothing fuses.
// CHECK-LABEL: func.func @bias_on_wrong_dim(
// CHECK-NOT:     dsp.linear
// CHECK:         return
func.func @bias_on_wrong_dim(%x: tensor<8x16xf32>, %w: tensor<16x4xf32>, %c: tensor<8x1xf32>, %s: tensor<1xf32>) -> (tensor<8x4xf32>, tensor<8x4xf32>) {
  %0 = dsp.matmul %x, %w : tensor<8x16xf32>, tensor<16x4xf32> -> tensor<8x4xf32>
  %1 = dsp.add %0, %c : tensor<8x4xf32>, tensor<8x1xf32> -> tensor<8x4xf32>
  %2 = dsp.matmul %x, %w : tensor<8x16xf32>, tensor<16x4xf32> -> tensor<8x4xf32>
  %3 = dsp.add %2, %s : tensor<8x4xf32>, tensor<1xf32> -> tensor<8x4xf32>
  return %1, %3 : tensor<8x4xf32>, tensor<8x4xf32>
}

// -----

// A bias that widens the product ([2, 1, N] over [M, N]) does not fold.
// CHECK-LABEL: func.func @bias_widens_product(
// CHECK-NOT:     dsp.linear
// CHECK:         return
func.func @bias_widens_product(%x: tensor<8x16xf32>, %w: tensor<16x4xf32>, %b: tensor<2x1x4xf32>) -> tensor<2x8x4xf32> {
  %0 = dsp.matmul %x, %w : tensor<8x16xf32>, tensor<16x4xf32> -> tensor<8x4xf32>
  %1 = dsp.add %0, %b : tensor<8x4xf32>, tensor<2x1x4xf32> -> tensor<2x8x4xf32>
  return %1 : tensor<2x8x4xf32>
}

// -----

// A residual that broadcasts ([N]) is no residual: the bias and SiLU fold,
// the second add stays.
// CHECK-LABEL: func.func @residual_broadcast(
// CHECK-SAME:      %[[X:.*]]: tensor<8x16xf32>, %[[W:.*]]: tensor<16x4xf32>, %[[B:.*]]: tensor<4xf32>, %[[R:.*]]: tensor<4xf32>)
// CHECK-NEXT:    %[[L:.*]] = dsp.linear %[[X]], %[[W]] bias %[[B]] {activation = "silu"}
// CHECK-NEXT:    %[[A:.*]] = dsp.add %[[L]], %[[R]]
// CHECK-NEXT:    return %[[A]]
func.func @residual_broadcast(%x: tensor<8x16xf32>, %w: tensor<16x4xf32>, %b: tensor<4xf32>, %r: tensor<4xf32>) -> tensor<8x4xf32> {
  %0 = dsp.matmul %x, %w : tensor<8x16xf32>, tensor<16x4xf32> -> tensor<8x4xf32>
  %1 = dsp.add %0, %b : tensor<8x4xf32>, tensor<4xf32> -> tensor<8x4xf32>
  %2 = dsp.silu %1 : tensor<8x4xf32>
  %3 = dsp.add %2, %r : tensor<8x4xf32>, tensor<4xf32> -> tensor<8x4xf32>
  return %3 : tensor<8x4xf32>
}

// -----

// Without a bias there is no epilogue: an activation right after the
// product stays.
// CHECK-LABEL: func.func @no_bias(
// CHECK-NOT:     dsp.linear
// CHECK:         return
func.func @no_bias(%x: tensor<8x16xf32>, %w: tensor<16x4xf32>) -> tensor<8x4xf32> {
  %0 = dsp.matmul %x, %w : tensor<8x16xf32>, tensor<16x4xf32> -> tensor<8x4xf32>
  %1 = dsp.gelu %0 : tensor<8x4xf32>
  return %1 : tensor<8x4xf32>
}

// -----

// Global IR of a device group is left to propagation: nothing fuses.
// CHECK-LABEL: func.func @global_ir(
// CHECK-NOT:     dsp.linear
// CHECK:         return
module attributes {dsp.group = #dsp.group<ranks = 2>} {
func.func @global_ir(%x: tensor<8x16xf32>, %w: tensor<16x4xf32>, %b: tensor<4xf32>) -> tensor<8x4xf32> {
  %0 = dsp.matmul %x, %w : tensor<8x16xf32>, tensor<16x4xf32> -> tensor<8x4xf32>
  %1 = dsp.add %0, %b : tensor<8x4xf32>, tensor<4xf32> -> tensor<8x4xf32>
  return %1 : tensor<8x4xf32>
}
}

// -----

// The residual add sees the product through a reshape that adds a leading
// dim: the residual is read in the product's shape and the sum reshaped
// back. Each reshape keeps the sharding of the shape it is in.
// CHECK-LABEL: func.func @residual_through_reshape(
// CHECK-SAME:      %[[X:.*]]: tensor<2x4x8xf32>, %[[W:.*]]: tensor<8x8xf32>, %[[B:.*]]: tensor<8xf32>, %[[R:.*]]: tensor<1x2x4x8xf32>)
// CHECK-NEXT:    %[[R3:.*]] = dsp.reshape %[[R]] {dsp.sharding = [#dsp.shard<dim = 0>]} : tensor<1x2x4x8xf32> -> tensor<2x4x8xf32>
// CHECK-NEXT:    %[[L:.*]] = dsp.linear %[[X]], %[[W]] bias %[[B]] residual %[[R3]] {activation = "gelu", dsp.sharding = [#dsp.shard<dim = 0>]} : (tensor<2x4x8xf32>, tensor<8x8xf32>, tensor<8xf32>, tensor<2x4x8xf32>) -> tensor<2x4x8xf32>
// CHECK-NEXT:    %[[S:.*]] = dsp.reshape %[[L]] {dsp.sharding = [#dsp.shard<dim = 1>]} : tensor<2x4x8xf32> -> tensor<1x2x4x8xf32>
// CHECK-NEXT:    return %[[S]]
module attributes {dsp.group = #dsp.group<ranks = 2, per_rank = true>} {
func.func @residual_through_reshape(%x: tensor<2x4x8xf32>, %w: tensor<8x8xf32>, %b: tensor<8xf32>, %r: tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32> {
  %0 = dsp.matmul %x, %w {dsp.sharding = [#dsp.shard<dim = 0>]} : tensor<2x4x8xf32>, tensor<8x8xf32> -> tensor<2x4x8xf32>
  %1 = dsp.add %0, %b {dsp.sharding = [#dsp.shard<dim = 0>]} : tensor<2x4x8xf32>, tensor<8xf32> -> tensor<2x4x8xf32>
  %2 = dsp.gelu %1 {dsp.sharding = [#dsp.shard<dim = 0>]} : tensor<2x4x8xf32>
  %3 = dsp.reshape %2 {dsp.sharding = [#dsp.shard<dim = 1>]} : tensor<2x4x8xf32> -> tensor<1x2x4x8xf32>
  %4 = dsp.add %r, %3 {dsp.sharding = [#dsp.shard<dim = 1>]} : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32> -> tensor<1x2x4x8xf32>
  return %4 : tensor<1x2x4x8xf32>
}
}

// -----

// A reshaped product read elsewhere too, or reshaped and then added to
// something that broadcasts, keeps its reshape and add: the bias alone
// folds.
// CHECK-LABEL: func.func @reshape_not_into_a_residual(
// CHECK-SAME:      %[[X:.*]]: tensor<2x4x8xf32>, %[[W:.*]]: tensor<8x8xf32>, %[[B:.*]]: tensor<8xf32>, %[[R:.*]]: tensor<1x2x4x8xf32>, %[[C:.*]]: tensor<1x1x1x8xf32>)
// CHECK-NEXT:    %[[L0:.*]] = dsp.linear %[[X]], %[[W]] bias %[[B]] :
// CHECK-NEXT:    %[[V0:.*]] = dsp.reshape %[[L0]]
// CHECK-NEXT:    %[[A0:.*]] = dsp.add %[[R]], %[[V0]]
// CHECK-NEXT:    %[[L1:.*]] = dsp.linear %[[X]], %[[W]] bias %[[B]] :
// CHECK-NEXT:    %[[V1:.*]] = dsp.reshape %[[L1]]
// CHECK-NEXT:    %[[A1:.*]] = dsp.add %[[V1]], %[[C]]
// CHECK-NEXT:    return %[[V0]], %[[A0]], %[[A1]]
func.func @reshape_not_into_a_residual(%x: tensor<2x4x8xf32>, %w: tensor<8x8xf32>, %b: tensor<8xf32>, %r: tensor<1x2x4x8xf32>, %c: tensor<1x1x1x8xf32>) -> (tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) {
  %0 = dsp.matmul %x, %w : tensor<2x4x8xf32>, tensor<8x8xf32> -> tensor<2x4x8xf32>
  %1 = dsp.add %0, %b : tensor<2x4x8xf32>, tensor<8xf32> -> tensor<2x4x8xf32>
  %2 = dsp.reshape %1 : tensor<2x4x8xf32> -> tensor<1x2x4x8xf32>
  %3 = dsp.add %r, %2 : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32> -> tensor<1x2x4x8xf32>
  %4 = dsp.matmul %x, %w : tensor<2x4x8xf32>, tensor<8x8xf32> -> tensor<2x4x8xf32>
  %5 = dsp.add %4, %b : tensor<2x4x8xf32>, tensor<8xf32> -> tensor<2x4x8xf32>
  %6 = dsp.reshape %5 : tensor<2x4x8xf32> -> tensor<1x2x4x8xf32>
  %7 = dsp.add %6, %c : tensor<1x2x4x8xf32>, tensor<1x1x1x8xf32> -> tensor<1x2x4x8xf32>
  return %2, %3, %7 : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>
}

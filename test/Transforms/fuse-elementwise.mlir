// RUN: dsp-opt %s -split-input-file --dsp-fuse-elementwise | FileCheck %s

// A bias add, GELU and residual add become one pass over memory; the bias
// broadcasts to the iteration space.
// CHECK-LABEL: func.func @bias_gelu_residual(
// CHECK-SAME:      %[[X:.*]]: tensor<64x1152xf32>, %[[B:.*]]: tensor<1152xf32>, %[[R:.*]]: tensor<64x1152xf32>)
// CHECK-NEXT:    %[[F:.*]] = dsp.fused(%[[X]], %[[B]], %[[R]]) : (tensor<64x1152xf32>, tensor<1152xf32>, tensor<64x1152xf32>) -> tensor<64x1152xf32> {
// CHECK-NEXT:    ^bb0(%[[A0:.*]]: tensor<64x1152xf32>, %[[A1:.*]]: tensor<1152xf32>, %[[A2:.*]]: tensor<64x1152xf32>):
// CHECK-NEXT:      %[[S:.*]] = dsp.add %[[A0]], %[[A1]]
// CHECK-NEXT:      %[[G:.*]] = dsp.gelu %[[S]] {approximate = "tanh"}
// CHECK-NEXT:      %[[O:.*]] = dsp.add %[[G]], %[[A2]]
// CHECK-NEXT:      dsp.yield %[[O]] : tensor<64x1152xf32>
// CHECK-NEXT:    }
// CHECK-NEXT:    return %[[F]]
func.func @bias_gelu_residual(%x: tensor<64x1152xf32>, %b: tensor<1152xf32>, %r: tensor<64x1152xf32>) -> tensor<64x1152xf32> {
  %0 = dsp.add %x, %b : tensor<64x1152xf32>, tensor<1152xf32> -> tensor<64x1152xf32>
  %1 = dsp.gelu %0 {approximate = "tanh"} : tensor<64x1152xf32>
  %2 = dsp.add %1, %r : tensor<64x1152xf32>, tensor<64x1152xf32> -> tensor<64x1152xf32>
  return %2 : tensor<64x1152xf32>
}

// -----

// A producer also read after the group becomes one more result; a splat
// constant is recomputed in the body instead of read, and its copy outside
// goes once nothing reads it.
// CHECK-LABEL: func.func @side_result(
// CHECK-SAME:      %[[X:.*]]: tensor<8x16xf32>, %[[W:.*]]: tensor<16x16xf32>)
// CHECK-NEXT:    %[[F:.*]]:2 = dsp.fused(%[[X]]) : (tensor<8x16xf32>) -> (tensor<8x16xf32>, tensor<8x16xf32>) {
// CHECK-NEXT:    ^bb0(%[[A:.*]]: tensor<8x16xf32>):
// CHECK-NEXT:      %[[H:.*]] = dsp.constant dense<5.000000e-01> : tensor<f32>
// CHECK-NEXT:      %[[M:.*]] = dsp.mul %[[A]], %[[H]]
// CHECK-NEXT:      %[[E:.*]] = dsp.exp %[[M]]
// CHECK-NEXT:      dsp.yield %[[M]], %[[E]] : tensor<8x16xf32>, tensor<8x16xf32>
// CHECK-NEXT:    }
// CHECK-NEXT:    %[[P:.*]] = dsp.matmul %[[F]]#0, %[[W]]
// CHECK-NEXT:    return %[[F]]#1, %[[P]]
func.func @side_result(%x: tensor<8x16xf32>, %w: tensor<16x16xf32>) -> (tensor<8x16xf32>, tensor<8x16xf32>) {
  %h = dsp.constant dense<0.5> : tensor<f32>
  %0 = dsp.mul %x, %h : tensor<8x16xf32>, tensor<f32> -> tensor<8x16xf32>
  %1 = dsp.exp %0 : tensor<8x16xf32>
  %2 = dsp.matmul %0, %w : tensor<8x16xf32>, tensor<16x16xf32> -> tensor<8x16xf32>
  return %1, %2 : tensor<8x16xf32>, tensor<8x16xf32>
}

// -----

// A producer read by an op between it and the group's last op stays out:
// fusing it would move its result after that reader. Each op still becomes
// a kernel of its own.
// CHECK-LABEL: func.func @read_in_between(
// CHECK:         %[[N:.*]] = dsp.fused(%{{.*}}) : (tensor<8x16xf32>) -> tensor<8x16xf32> {
// CHECK:           dsp.neg
// CHECK:         %[[P:.*]] = dsp.matmul %[[N]]
// CHECK-NEXT:    %[[S:.*]] = dsp.fused(%[[N]], %[[P]]) : (tensor<8x16xf32>, tensor<8x16xf32>) -> tensor<8x16xf32> {
// CHECK:           dsp.add
// CHECK:         return %[[S]]
func.func @read_in_between(%x: tensor<8x16xf32>, %w: tensor<16x16xf32>) -> tensor<8x16xf32> {
  %0 = dsp.neg %x : tensor<8x16xf32>
  %1 = dsp.matmul %0, %w : tensor<8x16xf32>, tensor<16x16xf32> -> tensor<8x16xf32>
  %2 = dsp.add %0, %1 : tensor<8x16xf32>, tensor<8x16xf32> -> tensor<8x16xf32>
  return %2 : tensor<8x16xf32>
}

// -----

// adaLN: a modulation computed on [B, 1, C] joins the group of the
// [B, N, C] stream it scales, recomputed per element; a comparison and a
// select on booleans fuse as well.
// CHECK-LABEL: func.func @modulation(
// CHECK:         dsp.fused(%{{.*}}, %{{.*}}, %{{.*}}) : (tensor<2x1x32xf32>, tensor<2x64x32xf32>, tensor<2x1x32xf32>) -> tensor<2x64x32xf32> {
// CHECK:           dsp.add
// CHECK:           dsp.mul
// CHECK:           dsp.add
// CHECK:           dsp.greater
// CHECK:           dsp.where
// CHECK:           dsp.yield
// CHECK-NOT:     dsp.fused
func.func @modulation(%x: tensor<2x64x32xf32>, %scale: tensor<2x1x32xf32>, %shift: tensor<2x1x32xf32>) -> tensor<2x64x32xf32> {
  %one = dsp.constant dense<1.0> : tensor<f32>
  %0 = dsp.add %scale, %one : tensor<2x1x32xf32>, tensor<f32> -> tensor<2x1x32xf32>
  %1 = dsp.mul %x, %0 : tensor<2x64x32xf32>, tensor<2x1x32xf32> -> tensor<2x64x32xf32>
  %2 = dsp.add %1, %shift : tensor<2x64x32xf32>, tensor<2x1x32xf32> -> tensor<2x64x32xf32>
  %3 = dsp.greater %2, %x : tensor<2x64x32xf32>, tensor<2x64x32xf32> -> tensor<2x64x32xi1>
  %4 = dsp.where %3, %2, %x : tensor<2x64x32xi1>, tensor<2x64x32xf32>, tensor<2x64x32xf32> -> tensor<2x64x32xf32>
  return %4 : tensor<2x64x32xf32>
}

// -----

// An op with no elements stays alone: no kernel has an empty grid.
// CHECK-LABEL: func.func @empty(
// CHECK-NEXT:    dsp.exp
// CHECK-NOT:     dsp.fused
func.func @empty(%x: tensor<0x4xf32>) -> tensor<0x4xf32> {
  %0 = dsp.exp %x : tensor<0x4xf32>
  return %0 : tensor<0x4xf32>
}

// -----

// A layer norm over the last dim joins its group with the residual add that
// feeds it and the adaLN modulation after it; the residual sum, read later,
// becomes one more result.
// CHECK-LABEL: func.func @layer_norm_modulation(
// CHECK-NEXT:    %[[F:.*]]:2 = dsp.fused(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}) : (tensor<2x64x32xf32>, tensor<2x64x32xf32>, tensor<32xf32>, tensor<32xf32>, tensor<2x1x32xf32>, tensor<2x1x32xf32>) -> (tensor<2x64x32xf32>, tensor<2x64x32xf32>) {
// CHECK:           %[[H:.*]] = dsp.add
// CHECK-NEXT:      %[[N:.*]] = dsp.layer_norm %[[H]]
// CHECK-NEXT:      dsp.constant
// CHECK-NEXT:      dsp.add
// CHECK-NEXT:      dsp.mul %[[N]]
// CHECK-NEXT:      %[[O:.*]] = dsp.add
// CHECK-NEXT:      dsp.yield %[[H]], %[[O]]
// CHECK-NEXT:    }
// CHECK-NEXT:    %[[P:.*]] = dsp.matmul %[[F]]#1
// CHECK-NEXT:    return %[[F]]#0, %[[P]]
func.func @layer_norm_modulation(%x: tensor<2x64x32xf32>, %r: tensor<2x64x32xf32>, %g: tensor<32xf32>, %b: tensor<32xf32>, %scale: tensor<2x1x32xf32>, %shift: tensor<2x1x32xf32>, %w: tensor<32x32xf32>) -> (tensor<2x64x32xf32>, tensor<2x64x32xf32>) {
  %one = dsp.constant dense<1.0> : tensor<f32>
  %0 = dsp.add %x, %r : tensor<2x64x32xf32>, tensor<2x64x32xf32> -> tensor<2x64x32xf32>
  %1 = dsp.layer_norm %0, %g, %b {axis = 2 : i64, epsilon = 1.0e-6 : f64} : (tensor<2x64x32xf32>, tensor<32xf32>, tensor<32xf32>) -> tensor<2x64x32xf32>
  %2 = dsp.add %scale, %one : tensor<2x1x32xf32>, tensor<f32> -> tensor<2x1x32xf32>
  %3 = dsp.mul %1, %2 : tensor<2x64x32xf32>, tensor<2x1x32xf32> -> tensor<2x64x32xf32>
  %4 = dsp.add %3, %shift : tensor<2x64x32xf32>, tensor<2x1x32xf32> -> tensor<2x64x32xf32>
  %5 = dsp.matmul %4, %w : tensor<2x64x32xf32>, tensor<32x32xf32> -> tensor<2x64x32xf32>
  return %0, %5 : tensor<2x64x32xf32>, tensor<2x64x32xf32>
}

// -----

// A softmax over the last axis starts a group of its own, and takes in the
// scaling before it.
// CHECK-LABEL: func.func @softmax(
// CHECK-NEXT:    %[[F:.*]] = dsp.fused(%{{.*}}) : (tensor<4x8x16xf32>) -> tensor<4x8x16xf32> {
// CHECK:           dsp.mul
// CHECK-NEXT:      %[[S:.*]] = dsp.softmax
// CHECK-NEXT:      dsp.yield %[[S]]
// CHECK:         dsp.matmul %[[F]]
// CHECK-NEXT:    %[[G:.*]] = dsp.fused(%{{.*}}) : (tensor<4x8x16xf32>) -> tensor<4x8x16xf32> {
// CHECK-NEXT:    ^bb0(%[[A:.*]]: tensor<4x8x16xf32>):
// CHECK-NEXT:      %[[T:.*]] = dsp.softmax %[[A]]
// CHECK-NEXT:      dsp.yield %[[T]]
func.func @softmax(%x: tensor<4x8x16xf32>, %w: tensor<16x16xf32>) -> tensor<4x8x16xf32> {
  %c = dsp.constant dense<0.25> : tensor<f32>
  %0 = dsp.mul %x, %c : tensor<4x8x16xf32>, tensor<f32> -> tensor<4x8x16xf32>
  %1 = dsp.softmax %0 {axis = 2 : i64} : tensor<4x8x16xf32>
  %2 = dsp.matmul %1, %w : tensor<4x8x16xf32>, tensor<16x16xf32> -> tensor<4x8x16xf32>
  %3 = dsp.softmax %2 {axis = 2 : i64} : tensor<4x8x16xf32>
  return %3 : tensor<4x8x16xf32>
}

// -----

// A layer norm over several trailing dims and a softmax over another axis
// stay out, as do more rows than a grid holds; the element-wise ops around
// them fuse on their own.
// CHECK-LABEL: func.func @rows_left_alone(
// CHECK:         dsp.fused
// CHECK-NOT:       dsp.layer_norm
// CHECK:           dsp.yield
// CHECK-NEXT:    }
// CHECK-NEXT:    dsp.layer_norm
// CHECK-NEXT:    dsp.softmax
// CHECK-NEXT:    dsp.fused
// CHECK-NOT:       dsp.softmax
// CHECK:           dsp.yield
// CHECK:       func.func @too_many_rows(
// CHECK-NEXT:    dsp.softmax
// CHECK-NEXT:    return
func.func @rows_left_alone(%x: tensor<4x8x16xf32>, %g: tensor<8x16xf32>) -> tensor<4x8x16xf32> {
  %0 = dsp.exp %x : tensor<4x8x16xf32>
  %1 = dsp.layer_norm %0, %g {axis = 1 : i64, epsilon = 1.0e-5 : f64} : (tensor<4x8x16xf32>, tensor<8x16xf32>) -> tensor<4x8x16xf32>
  %2 = dsp.softmax %1 {axis = 1 : i64} : tensor<4x8x16xf32>
  %3 = dsp.neg %2 : tensor<4x8x16xf32>
  return %3 : tensor<4x8x16xf32>
}

func.func @too_many_rows(%x: tensor<2147483648x2xf32>) -> tensor<2147483648x2xf32> {
  %0 = dsp.softmax %x {axis = 1 : i64} : tensor<2147483648x2xf32>
  return %0 : tensor<2147483648x2xf32>
}

// -----

// A group holds one row op: of two layer norms in a chain, the first is a
// group of its own.
// CHECK-LABEL: func.func @one_row_op(
// CHECK:         %[[F:.*]] = dsp.fused(%{{.*}}, %{{.*}}) : (tensor<8x16xf32>, tensor<16xf32>) -> tensor<8x16xf32> {
// CHECK-NEXT:    ^bb0
// CHECK-NEXT:      dsp.layer_norm
// CHECK-NEXT:      dsp.yield
// CHECK:         dsp.fused(%[[F]], %{{.*}}) : (tensor<8x16xf32>, tensor<16xf32>) -> tensor<8x16xf32> {
// CHECK-NEXT:    ^bb0
// CHECK-NEXT:      dsp.layer_norm
// CHECK-NEXT:      dsp.exp
// CHECK-NEXT:      dsp.yield
func.func @one_row_op(%x: tensor<8x16xf32>, %g: tensor<16xf32>) -> tensor<8x16xf32> {
  %0 = dsp.layer_norm %x, %g {axis = 1 : i64, epsilon = 1.0e-5 : f64} : (tensor<8x16xf32>, tensor<16xf32>) -> tensor<8x16xf32>
  %1 = dsp.layer_norm %0, %g {axis = 1 : i64, epsilon = 1.0e-5 : f64} : (tensor<8x16xf32>, tensor<16xf32>) -> tensor<8x16xf32>
  %2 = dsp.exp %1 : tensor<8x16xf32>
  return %2 : tensor<8x16xf32>
}

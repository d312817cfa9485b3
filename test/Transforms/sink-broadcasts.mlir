// RUN: dsp-opt %s -split-input-file --dsp-sink-broadcasts | FileCheck %s

// Latte's AdaLN: the timestep embedding is repeated for every frame,
// reshaped into its chunks and sliced; the scale and shift end up as slices
// of the small embedding that the elementwise ops broadcast themselves.
// CHECK-LABEL: func.func @adaln(
// CHECK-SAME:      %[[X:[^:]*]]: tensor<16x32x8xf32>, %[[T:[^:]*]]: tensor<1x24xf32>)
// CHECK-NEXT:    %[[ONE:.*]] = dsp.constant dense<1.000000e+00> : tensor<f32>
// CHECK-NEXT:    %[[R:.*]] = dsp.reshape %[[T]] : tensor<1x24xf32> -> tensor<1x3x8xf32>
// CHECK-NEXT:    %[[SCALE:.*]] = dsp.slice %[[R]] {limits = array<i64: 1, 1, 8>, starts = array<i64: 0, 0, 0>, strides = array<i64: 1, 1, 1>} : tensor<1x3x8xf32> -> tensor<1x1x8xf32>
// CHECK-NEXT:    %[[SHIFT:.*]] = dsp.slice %[[R]] {limits = array<i64: 1, 2, 8>, starts = array<i64: 0, 1, 0>, strides = array<i64: 1, 1, 1>} : tensor<1x3x8xf32> -> tensor<1x1x8xf32>
// CHECK-NEXT:    %[[S1:.*]] = dsp.add %[[SCALE]], %[[ONE]] : tensor<1x1x8xf32>, tensor<f32> -> tensor<1x1x8xf32>
// CHECK-NEXT:    %[[M:.*]] = dsp.mul %[[X]], %[[S1]] : tensor<16x32x8xf32>, tensor<1x1x8xf32> -> tensor<16x32x8xf32>
// CHECK-NEXT:    %[[Y:.*]] = dsp.add %[[M]], %[[SHIFT]] : tensor<16x32x8xf32>, tensor<1x1x8xf32> -> tensor<16x32x8xf32>
// CHECK-NEXT:    return %[[Y]]
func.func @adaln(%x: tensor<16x32x8xf32>, %t: tensor<1x24xf32>) -> tensor<16x32x8xf32> {
  %one = dsp.constant dense<1.0> : tensor<f32>
  %r0 = dsp.reshape %t : tensor<1x24xf32> -> tensor<1x1x24xf32>
  %e = dsp.expand %r0 : tensor<1x1x24xf32> -> tensor<1x16x24xf32>
  %r = dsp.reshape %e : tensor<1x16x24xf32> -> tensor<16x3x8xf32>
  %scale = dsp.slice %r {starts = array<i64: 0, 0, 0>, limits = array<i64: 16, 1, 8>, strides = array<i64: 1, 1, 1>} : tensor<16x3x8xf32> -> tensor<16x1x8xf32>
  %shift = dsp.slice %r {starts = array<i64: 0, 1, 0>, limits = array<i64: 16, 2, 8>, strides = array<i64: 1, 1, 1>} : tensor<16x3x8xf32> -> tensor<16x1x8xf32>
  %s1 = dsp.add %one, %scale : tensor<f32>, tensor<16x1x8xf32> -> tensor<16x1x8xf32>
  %m = dsp.mul %x, %s1 : tensor<16x32x8xf32>, tensor<16x1x8xf32> -> tensor<16x32x8xf32>
  %y = dsp.add %m, %shift : tensor<16x32x8xf32>, tensor<16x1x8xf32> -> tensor<16x32x8xf32>
  return %y : tensor<16x32x8xf32>
}

// -----

// Text tokens repeated for every frame before the K projection: the
// projection runs once and the expand moves through the head split to the
// end.
// CHECK-LABEL: func.func @text_projection(
// CHECK-SAME:      %[[Y:[^:]*]]: tensor<1x6x8xf32>, %[[W:[^:]*]]: tensor<8x8xf32>)
// CHECK-NEXT:    %[[K:.*]] = dsp.matmul %[[Y]], %[[W]] : tensor<1x6x8xf32>, tensor<8x8xf32> -> tensor<1x6x8xf32>
// CHECK-NEXT:    %[[H:.*]] = dsp.reshape %[[K]] : tensor<1x6x8xf32> -> tensor<1x6x2x4xf32>
// CHECK-NEXT:    %[[T:.*]] = dsp.transpose %[[H]] perm [0, 2, 1, 3] : tensor<1x6x2x4xf32> -> tensor<1x2x6x4xf32>
// CHECK-NEXT:    %[[E:.*]] = dsp.expand %[[T]] : tensor<1x2x6x4xf32> -> tensor<16x2x6x4xf32>
// CHECK-NEXT:    return %[[E]]
func.func @text_projection(%y: tensor<1x6x8xf32>, %w: tensor<8x8xf32>) -> tensor<16x2x6x4xf32> {
  %r0 = dsp.reshape %y : tensor<1x6x8xf32> -> tensor<1x1x6x8xf32>
  %e = dsp.expand %r0 : tensor<1x1x6x8xf32> -> tensor<1x16x6x8xf32>
  %r = dsp.reshape %e : tensor<1x16x6x8xf32> -> tensor<16x6x8xf32>
  %k = dsp.matmul %r, %w : tensor<16x6x8xf32>, tensor<8x8xf32> -> tensor<16x6x8xf32>
  %h = dsp.reshape %k : tensor<16x6x8xf32> -> tensor<16x6x2x4xf32>
  %t = dsp.transpose %h perm [0, 2, 1, 3] : tensor<16x6x2x4xf32> -> tensor<16x2x6x4xf32>
  return %t : tensor<16x2x6x4xf32>
}

// -----

// A reshape that merges a broadcast dim with another dim, and a matmul
// whose contracted dim is broadcast, keep the expand before them (the
// transpose still moves it one op down).
// CHECK-LABEL: func.func @stays(
// CHECK-SAME:      %[[X:[^:]*]]: tensor<1x4xf32>, %[[W:[^:]*]]: tensor<3x5xf32>)
// CHECK-NEXT:    %[[E:.*]] = dsp.expand %[[X]] : tensor<1x4xf32> -> tensor<3x4xf32>
// CHECK-NEXT:    dsp.reshape %[[E]] : tensor<3x4xf32> -> tensor<12xf32>
// CHECK-NEXT:    %[[T:.*]] = dsp.transpose %[[X]] perm [1, 0] : tensor<1x4xf32> -> tensor<4x1xf32>
// CHECK-NEXT:    %[[TE:.*]] = dsp.expand %[[T]] : tensor<4x1xf32> -> tensor<4x3xf32>
// CHECK-NEXT:    dsp.matmul %[[TE]], %[[W]] : tensor<4x3xf32>, tensor<3x5xf32> -> tensor<4x5xf32>
func.func @stays(%x: tensor<1x4xf32>, %w: tensor<3x5xf32>) -> (tensor<12xf32>, tensor<3x5xf32>) {
  %e = dsp.expand %x : tensor<1x4xf32> -> tensor<3x4xf32>
  %r = dsp.reshape %e : tensor<3x4xf32> -> tensor<12xf32>
  %c = dsp.expand %x : tensor<1x4xf32> -> tensor<3x4xf32>
  %t = dsp.transpose %c perm [1, 0] : tensor<3x4xf32> -> tensor<4x3xf32>
  %m = dsp.matmul %t, %w : tensor<4x3xf32>, tensor<3x5xf32> -> tensor<4x5xf32>
  %s = dsp.slice %m {starts = array<i64: 0, 0>, limits = array<i64: 3, 5>, strides = array<i64: 1, 1>} : tensor<4x5xf32> -> tensor<3x5xf32>
  return %r, %s : tensor<12xf32>, tensor<3x5xf32>
}

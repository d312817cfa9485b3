// RUN: dsp-opt %s --dsp-sink-concat -split-input-file | FileCheck %s

// Unary ops run per piece; the concat moves below the chain.
// CHECK-LABEL: func.func @unary(
// CHECK-SAME:      %[[A:.*]]: tensor<1x1x4xf32>, %[[B:.*]]: tensor<1x6x4xf32>)
// CHECK-NEXT:    %[[EXP:.*]] = dsp.exp %[[A]] : tensor<1x1x4xf32>
// CHECK-NEXT:    %[[EXP1:.*]] = dsp.exp %[[B]] : tensor<1x6x4xf32>
// CHECK-NEXT:    %[[GELU:.*]] = dsp.gelu %[[EXP]] : tensor<1x1x4xf32>
// CHECK-NEXT:    %[[GELU1:.*]] = dsp.gelu %[[EXP1]] : tensor<1x6x4xf32>
// CHECK-NEXT:    %[[CONCAT:.*]] = dsp.concat %[[GELU]], %[[GELU1]] {axis = 1 : i64} : (tensor<1x1x4xf32>, tensor<1x6x4xf32>) -> tensor<1x7x4xf32>
// CHECK-NEXT:    return %[[CONCAT]]
func.func @unary(%a: tensor<1x1x4xf32>, %b: tensor<1x6x4xf32>) -> tensor<1x7x4xf32> {
  %0 = dsp.concat %a, %b {axis = 1 : i64} : (tensor<1x1x4xf32>, tensor<1x6x4xf32>) -> tensor<1x7x4xf32>
  %1 = dsp.exp %0 : tensor<1x7x4xf32>
  %2 = dsp.gelu %1 : tensor<1x7x4xf32>
  return %2 : tensor<1x7x4xf32>
}

// -----

// Broadcast operands without the token dim (a bias [C], a [1, 1, C]
// operand) are passed to every piece unchanged.
// CHECK-LABEL: func.func @binary_broadcast(
// CHECK-SAME:      %[[A:.*]]: tensor<1x1x4xf32>, %[[B:.*]]: tensor<1x6x4xf32>, %[[BIAS:.*]]: tensor<4xf32>, %[[CLS:.*]]: tensor<1x1x4xf32>)
// CHECK-NEXT:    %[[ADD:.*]] = dsp.add %[[A]], %[[BIAS]] : tensor<1x1x4xf32>, tensor<4xf32> -> tensor<1x1x4xf32>
// CHECK-NEXT:    %[[ADD1:.*]] = dsp.add %[[B]], %[[BIAS]] : tensor<1x6x4xf32>, tensor<4xf32> -> tensor<1x6x4xf32>
// CHECK-NEXT:    %[[MUL:.*]] = dsp.mul %[[CLS]], %[[ADD]] : tensor<1x1x4xf32>, tensor<1x1x4xf32> -> tensor<1x1x4xf32>
// CHECK-NEXT:    %[[MUL1:.*]] = dsp.mul %[[CLS]], %[[ADD1]] : tensor<1x1x4xf32>, tensor<1x6x4xf32> -> tensor<1x6x4xf32>
// CHECK-NEXT:    %[[CONCAT:.*]] = dsp.concat %[[MUL]], %[[MUL1]] {axis = 1 : i64}
// CHECK-NEXT:    return %[[CONCAT]]
func.func @binary_broadcast(%a: tensor<1x1x4xf32>, %b: tensor<1x6x4xf32>, %bias: tensor<4xf32>, %cls: tensor<1x1x4xf32>) -> tensor<1x7x4xf32> {
  %0 = dsp.concat %a, %b {axis = 1 : i64} : (tensor<1x1x4xf32>, tensor<1x6x4xf32>) -> tensor<1x7x4xf32>
  %1 = dsp.add %0, %bias : tensor<1x7x4xf32>, tensor<4xf32> -> tensor<1x7x4xf32>
  %2 = dsp.mul %cls, %1 : tensor<1x1x4xf32>, tensor<1x7x4xf32> -> tensor<1x7x4xf32>
  return %2 : tensor<1x7x4xf32>
}

// -----

// A position embedding [1, N, C] has the token dim: each piece adds its
// slice of it, which folds to a constant.
// CHECK-LABEL: func.func @constant_sliced(
// CHECK-SAME:      %[[A:.*]]: tensor<1x1x2xf32>, %[[B:.*]]: tensor<1x2x2xf32>)
// CHECK-DAG:     %[[POS1:.*]] = dsp.constant dense<{{\[\[\[}}3.000000e+00, 4.000000e+00], [5.000000e+00, 6.000000e+00]]]> : tensor<1x2x2xf32>
// CHECK-DAG:     %[[POS0:.*]] = dsp.constant dense<{{\[\[\[}}1.000000e+00, 2.000000e+00]]]> : tensor<1x1x2xf32>
// CHECK:         %[[ADD:.*]] = dsp.add %[[A]], %[[POS0]] : tensor<1x1x2xf32>, tensor<1x1x2xf32> -> tensor<1x1x2xf32>
// CHECK-NEXT:    %[[ADD1:.*]] = dsp.add %[[B]], %[[POS1]] : tensor<1x2x2xf32>, tensor<1x2x2xf32> -> tensor<1x2x2xf32>
// CHECK-NEXT:    %[[CONCAT:.*]] = dsp.concat %[[ADD]], %[[ADD1]] {axis = 1 : i64}
// CHECK-NEXT:    return %[[CONCAT]]
func.func @constant_sliced(%a: tensor<1x1x2xf32>, %b: tensor<1x2x2xf32>) -> tensor<1x3x2xf32> {
  %0 = dsp.concat %a, %b {axis = 1 : i64} : (tensor<1x1x2xf32>, tensor<1x2x2xf32>) -> tensor<1x3x2xf32>
  %pos = dsp.constant dense<[[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]]> : tensor<1x3x2xf32>
  %1 = dsp.add %0, %pos : tensor<1x3x2xf32>, tensor<1x3x2xf32> -> tensor<1x3x2xf32>
  return %1 : tensor<1x3x2xf32>
}

// -----

// Two concats with the same split points split together.
// CHECK-LABEL: func.func @equal_splits(
// CHECK-SAME:      %[[A:.*]]: tensor<1x1x4xf32>, %[[B:.*]]: tensor<1x6x4xf32>, %[[C:.*]]: tensor<1x1x4xf32>, %[[D:.*]]: tensor<1x6x4xf32>)
// CHECK-NEXT:    %[[ADD:.*]] = dsp.add %[[A]], %[[C]] : tensor<1x1x4xf32>, tensor<1x1x4xf32> -> tensor<1x1x4xf32>
// CHECK-NEXT:    %[[ADD1:.*]] = dsp.add %[[B]], %[[D]] : tensor<1x6x4xf32>, tensor<1x6x4xf32> -> tensor<1x6x4xf32>
// CHECK-NEXT:    %[[CONCAT:.*]] = dsp.concat %[[ADD]], %[[ADD1]] {axis = 1 : i64}
// CHECK-NEXT:    return %[[CONCAT]]
func.func @equal_splits(%a: tensor<1x1x4xf32>, %b: tensor<1x6x4xf32>, %c: tensor<1x1x4xf32>, %d: tensor<1x6x4xf32>) -> tensor<1x7x4xf32> {
  %0 = dsp.concat %a, %b {axis = 1 : i64} : (tensor<1x1x4xf32>, tensor<1x6x4xf32>) -> tensor<1x7x4xf32>
  %1 = dsp.concat %c, %d {axis = 1 : i64} : (tensor<1x1x4xf32>, tensor<1x6x4xf32>) -> tensor<1x7x4xf32>
  %2 = dsp.add %0, %1 : tensor<1x7x4xf32>, tensor<1x7x4xf32> -> tensor<1x7x4xf32>
  return %2 : tensor<1x7x4xf32>
}

// -----

// Concats with different split points would not line up: not split.
// CHECK-LABEL: func.func @mismatched_splits(
// CHECK-SAME:      %[[A:.*]]: tensor<1x1x4xf32>, %[[B:.*]]: tensor<1x6x4xf32>, %[[C:.*]]: tensor<1x2x4xf32>, %[[D:.*]]: tensor<1x5x4xf32>)
// CHECK-NEXT:    %[[CONCAT:.*]] = dsp.concat %[[A]], %[[B]] {axis = 1 : i64}
// CHECK-NEXT:    %[[CONCAT1:.*]] = dsp.concat %[[C]], %[[D]] {axis = 1 : i64}
// CHECK-NEXT:    %[[ADD:.*]] = dsp.add %[[CONCAT]], %[[CONCAT1]] : tensor<1x7x4xf32>, tensor<1x7x4xf32> -> tensor<1x7x4xf32>
// CHECK-NEXT:    return %[[ADD]]
func.func @mismatched_splits(%a: tensor<1x1x4xf32>, %b: tensor<1x6x4xf32>, %c: tensor<1x2x4xf32>, %d: tensor<1x5x4xf32>) -> tensor<1x7x4xf32> {
  %0 = dsp.concat %a, %b {axis = 1 : i64} : (tensor<1x1x4xf32>, tensor<1x6x4xf32>) -> tensor<1x7x4xf32>
  %1 = dsp.concat %c, %d {axis = 1 : i64} : (tensor<1x2x4xf32>, tensor<1x5x4xf32>) -> tensor<1x7x4xf32>
  %2 = dsp.add %0, %1 : tensor<1x7x4xf32>, tensor<1x7x4xf32> -> tensor<1x7x4xf32>
  return %2 : tensor<1x7x4xf32>
}

// -----

// An operand that is no concat is sliced to each piece; a scalar is passed.
// CHECK-LABEL: func.func @where(
// CHECK-SAME:      %[[A:.*]]: tensor<1x4xf32>, %[[B:.*]]: tensor<6x4xf32>, %[[C:.*]]: tensor<7x1xi1>, %[[Z:.*]]: tensor<f32>)
// CHECK-NEXT:    %[[C0:.*]] = dsp.slice %[[C]] {limits = array<i64: 1, 1>, starts = array<i64: 0, 0>, strides = array<i64: 1, 1>} : tensor<7x1xi1> -> tensor<1x1xi1>
// CHECK-NEXT:    %[[WHERE:.*]] = dsp.where %[[C0]], %[[A]], %[[Z]] : tensor<1x1xi1>, tensor<1x4xf32>, tensor<f32> -> tensor<1x4xf32>
// CHECK-NEXT:    %[[C1:.*]] = dsp.slice %[[C]] {limits = array<i64: 7, 1>, starts = array<i64: 1, 0>, strides = array<i64: 1, 1>} : tensor<7x1xi1> -> tensor<6x1xi1>
// CHECK-NEXT:    %[[WHERE1:.*]] = dsp.where %[[C1]], %[[B]], %[[Z]] : tensor<6x1xi1>, tensor<6x4xf32>, tensor<f32> -> tensor<6x4xf32>
// CHECK-NEXT:    %[[CONCAT:.*]] = dsp.concat %[[WHERE]], %[[WHERE1]] {axis = 0 : i64}
// CHECK-NEXT:    return %[[CONCAT]]
func.func @where(%a: tensor<1x4xf32>, %b: tensor<6x4xf32>, %c: tensor<7x1xi1>, %z: tensor<f32>) -> tensor<7x4xf32> {
  %0 = dsp.concat %a, %b {axis = 0 : i64} : (tensor<1x4xf32>, tensor<6x4xf32>) -> tensor<7x4xf32>
  %1 = dsp.where %c, %0, %z : tensor<7x1xi1>, tensor<7x4xf32>, tensor<f32> -> tensor<7x4xf32>
  return %1 : tensor<7x4xf32>
}

// -----

// Layer norm splits along the dims before its axis, not along a normalized
// dim.
// CHECK-LABEL: func.func @layer_norm(
// CHECK-SAME:      %[[A:.*]]: tensor<1x1x4xf32>, %[[B:.*]]: tensor<1x6x4xf32>, %[[S:.*]]: tensor<4xf32>, %[[T:.*]]: tensor<4xf32>, %[[C:.*]]: tensor<1x7x1xf32>, %[[S2:.*]]: tensor<7x5xf32>)
// CHECK-NEXT:    %[[CONCAT:.*]] = dsp.concat %[[A]], %[[B]] {axis = 1 : i64}
// CHECK-NEXT:    %[[LN:.*]] = dsp.layer_norm %[[A]], %[[S]], %[[T]] {axis = 2 : i64, epsilon = 1.000000e-05 : f64} : (tensor<1x1x4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<1x1x4xf32>
// CHECK-NEXT:    %[[LN1:.*]] = dsp.layer_norm %[[B]], %[[S]], %[[T]] {axis = 2 : i64, epsilon = 1.000000e-05 : f64} : (tensor<1x6x4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<1x6x4xf32>
// CHECK-NEXT:    %[[CONCAT1:.*]] = dsp.concat %[[LN]], %[[LN1]] {axis = 1 : i64}
// CHECK-NEXT:    %[[CONCAT2:.*]] = dsp.concat %[[CONCAT]], %[[C]] {axis = 2 : i64}
// CHECK-NEXT:    %[[LN2:.*]] = dsp.layer_norm %[[CONCAT2]], %[[S2]] {axis = 1 : i64, epsilon = 1.000000e-05 : f64} : (tensor<1x7x5xf32>, tensor<7x5xf32>) -> tensor<1x7x5xf32>
// CHECK-NEXT:    return %[[CONCAT1]], %[[LN2]]
func.func @layer_norm(%a: tensor<1x1x4xf32>, %b: tensor<1x6x4xf32>, %s: tensor<4xf32>, %t: tensor<4xf32>, %c: tensor<1x7x1xf32>, %s2: tensor<7x5xf32>) -> (tensor<1x7x4xf32>, tensor<1x7x5xf32>) {
  %0 = dsp.concat %a, %b {axis = 1 : i64} : (tensor<1x1x4xf32>, tensor<1x6x4xf32>) -> tensor<1x7x4xf32>
  %1 = dsp.layer_norm %0, %s, %t {axis = 2 : i64, epsilon = 1.0e-05 : f64} : (tensor<1x7x4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<1x7x4xf32>
  %2 = dsp.concat %0, %c {axis = 2 : i64} : (tensor<1x7x4xf32>, tensor<1x7x1xf32>) -> tensor<1x7x5xf32>
  %3 = dsp.layer_norm %2, %s2 {axis = 1 : i64, epsilon = 1.0e-05 : f64} : (tensor<1x7x5xf32>, tensor<7x5xf32>) -> tensor<1x7x5xf32>
  return %1, %3 : tensor<1x7x4xf32>, tensor<1x7x5xf32>
}

// -----

// Matmul splits along its rows (the weight is shared) and along batch dims
// (with both operands concatenated alike), not along the reduced dim.
// CHECK-LABEL: func.func @matmul(
// CHECK-SAME:      %[[A:[^:]*]]: tensor<1x1x4xf32>, %[[B:[^:]*]]: tensor<1x6x4xf32>, %[[W:[^:]*]]: tensor<4x8xf32>, %[[C:[^:]*]]: tensor<2x3x4xf32>, %[[D:[^:]*]]: tensor<5x3x4xf32>, %[[E:[^:]*]]: tensor<2x4x8xf32>, %[[F:[^:]*]]: tensor<5x4x8xf32>, %[[G:[^:]*]]: tensor<3x1xf32>, %[[H:[^:]*]]: tensor<3x3xf32>, %[[K:[^:]*]]: tensor<4x8xf32>)
// CHECK-NEXT:    %[[MM:.*]] = dsp.matmul %[[A]], %[[W]] : tensor<1x1x4xf32>, tensor<4x8xf32> -> tensor<1x1x8xf32>
// CHECK-NEXT:    %[[MM1:.*]] = dsp.matmul %[[B]], %[[W]] : tensor<1x6x4xf32>, tensor<4x8xf32> -> tensor<1x6x8xf32>
// CHECK-NEXT:    %[[ROWS:.*]] = dsp.concat %[[MM]], %[[MM1]] {axis = 1 : i64}
// CHECK-NEXT:    %[[MM2:.*]] = dsp.matmul %[[C]], %[[E]] : tensor<2x3x4xf32>, tensor<2x4x8xf32> -> tensor<2x3x8xf32>
// CHECK-NEXT:    %[[MM3:.*]] = dsp.matmul %[[D]], %[[F]] : tensor<5x3x4xf32>, tensor<5x4x8xf32> -> tensor<5x3x8xf32>
// CHECK-NEXT:    %[[BATCH:.*]] = dsp.concat %[[MM2]], %[[MM3]] {axis = 0 : i64}
// CHECK-NEXT:    %[[GH:.*]] = dsp.concat %[[G]], %[[H]] {axis = 1 : i64}
// CHECK-NEXT:    %[[MM4:.*]] = dsp.matmul %[[GH]], %[[K]] : tensor<3x4xf32>, tensor<4x8xf32> -> tensor<3x8xf32>
// CHECK-NEXT:    return %[[ROWS]], %[[BATCH]], %[[MM4]]
func.func @matmul(%a: tensor<1x1x4xf32>, %b: tensor<1x6x4xf32>, %w: tensor<4x8xf32>, %c: tensor<2x3x4xf32>, %d: tensor<5x3x4xf32>, %e: tensor<2x4x8xf32>, %f: tensor<5x4x8xf32>, %g: tensor<3x1xf32>, %h: tensor<3x3xf32>, %k: tensor<4x8xf32>) -> (tensor<1x7x8xf32>, tensor<7x3x8xf32>, tensor<3x8xf32>) {
  %0 = dsp.concat %a, %b {axis = 1 : i64} : (tensor<1x1x4xf32>, tensor<1x6x4xf32>) -> tensor<1x7x4xf32>
  %1 = dsp.matmul %0, %w : tensor<1x7x4xf32>, tensor<4x8xf32> -> tensor<1x7x8xf32>
  %2 = dsp.concat %c, %d {axis = 0 : i64} : (tensor<2x3x4xf32>, tensor<5x3x4xf32>) -> tensor<7x3x4xf32>
  %3 = dsp.concat %e, %f {axis = 0 : i64} : (tensor<2x4x8xf32>, tensor<5x4x8xf32>) -> tensor<7x4x8xf32>
  %4 = dsp.matmul %2, %3 : tensor<7x3x4xf32>, tensor<7x4x8xf32> -> tensor<7x3x8xf32>
  %5 = dsp.concat %g, %h {axis = 1 : i64} : (tensor<3x1xf32>, tensor<3x3xf32>) -> tensor<3x4xf32>
  %6 = dsp.matmul %5, %k : tensor<3x4xf32>, tensor<4x8xf32> -> tensor<3x8xf32>
  return %1, %4, %6 : tensor<1x7x8xf32>, tensor<7x3x8xf32>, tensor<3x8xf32>
}

// -----

// Softmax splits along dims other than its axis.
// CHECK-LABEL: func.func @softmax(
// CHECK-SAME:      %[[A:.*]]: tensor<1x1x4xf32>, %[[B:.*]]: tensor<1x6x4xf32>)
// CHECK-NEXT:    %[[CONCAT:.*]] = dsp.concat %[[A]], %[[B]] {axis = 1 : i64}
// CHECK-NEXT:    %[[SM:.*]] = dsp.softmax %[[A]] {axis = 2 : i64} : tensor<1x1x4xf32>
// CHECK-NEXT:    %[[SM1:.*]] = dsp.softmax %[[B]] {axis = 2 : i64} : tensor<1x6x4xf32>
// CHECK-NEXT:    %[[CONCAT1:.*]] = dsp.concat %[[SM]], %[[SM1]] {axis = 1 : i64}
// CHECK-NEXT:    %[[SM2:.*]] = dsp.softmax %[[CONCAT]] {axis = 1 : i64} : tensor<1x7x4xf32>
// CHECK-NEXT:    return %[[CONCAT1]], %[[SM2]]
func.func @softmax(%a: tensor<1x1x4xf32>, %b: tensor<1x6x4xf32>) -> (tensor<1x7x4xf32>, tensor<1x7x4xf32>) {
  %0 = dsp.concat %a, %b {axis = 1 : i64} : (tensor<1x1x4xf32>, tensor<1x6x4xf32>) -> tensor<1x7x4xf32>
  %1 = dsp.softmax %0 {axis = 2 : i64} : tensor<1x7x4xf32>
  %2 = dsp.softmax %0 {axis = 1 : i64} : tensor<1x7x4xf32>
  return %1, %2 : tensor<1x7x4xf32>, tensor<1x7x4xf32>
}

// -----

// Attention mixes the key sequence: keys and values that are concats along
// it are not split.
// CHECK-LABEL: func.func @attention_keys(
// CHECK-SAME:      %[[Q:.*]]: tensor<1x2x3x8xf32>, %[[A:.*]]: tensor<1x2x1x8xf32>, %[[B:.*]]: tensor<1x2x6x8xf32>)
// CHECK-NEXT:    %[[KV:.*]] = dsp.concat %[[A]], %[[B]] {axis = 2 : i64}
// CHECK-NEXT:    %[[ATTENTION:.*]] = dsp.attention %[[Q]], %[[KV]], %[[KV]] {scale = 5.000000e-01 : f64} : (tensor<1x2x3x8xf32>, tensor<1x2x7x8xf32>, tensor<1x2x7x8xf32>) -> tensor<1x2x3x8xf32>
// CHECK-NEXT:    return %[[ATTENTION]]
func.func @attention_keys(%q: tensor<1x2x3x8xf32>, %a: tensor<1x2x1x8xf32>, %b: tensor<1x2x6x8xf32>) -> tensor<1x2x3x8xf32> {
  %0 = dsp.concat %a, %b {axis = 2 : i64} : (tensor<1x2x1x8xf32>, tensor<1x2x6x8xf32>) -> tensor<1x2x7x8xf32>
  %1 = dsp.attention %q, %0, %0 {scale = 0.5 : f64} : (tensor<1x2x3x8xf32>, tensor<1x2x7x8xf32>, tensor<1x2x7x8xf32>) -> tensor<1x2x3x8xf32>
  return %1 : tensor<1x2x3x8xf32>
}

// -----

// Attention stays whole even though its query sequence is parallel: each
// query piece would read all the keys again.
// CHECK-LABEL: func.func @attention_queries(
// CHECK-SAME:      %[[A:.*]]: tensor<1x2x1x8xf32>, %[[B:.*]]: tensor<1x2x6x8xf32>)
// CHECK-NEXT:    %[[QKV:.*]] = dsp.concat %[[A]], %[[B]] {axis = 2 : i64}
// CHECK-NEXT:    %[[ATTENTION:.*]] = dsp.attention %[[QKV]], %[[QKV]], %[[QKV]] {scale = 5.000000e-01 : f64} : (tensor<1x2x7x8xf32>, tensor<1x2x7x8xf32>, tensor<1x2x7x8xf32>) -> tensor<1x2x7x8xf32>
// CHECK-NEXT:    return %[[ATTENTION]]
func.func @attention_queries(%a: tensor<1x2x1x8xf32>, %b: tensor<1x2x6x8xf32>) -> tensor<1x2x7x8xf32> {
  %0 = dsp.concat %a, %b {axis = 2 : i64} : (tensor<1x2x1x8xf32>, tensor<1x2x6x8xf32>) -> tensor<1x2x7x8xf32>
  %1 = dsp.attention %0, %0, %0 {scale = 0.5 : f64} : (tensor<1x2x7x8xf32>, tensor<1x2x7x8xf32>, tensor<1x2x7x8xf32>) -> tensor<1x2x7x8xf32>
  return %1 : tensor<1x2x7x8xf32>
}

// -----

// A patch-embedding conv maps an image dim onto the compound [patches,
// kernel offset]: not split, even at a patch boundary.
// CHECK-LABEL: func.func @compound(
// CHECK-SAME:      %[[A:.*]]: tensor<1x3x4x8xf32>, %[[B:.*]]: tensor<1x3x4x8xf32>, %[[W:.*]]: tensor<16x3x2x2xf32>)
// CHECK-NEXT:    %[[CONCAT:.*]] = dsp.concat %[[A]], %[[B]] {axis = 2 : i64}
// CHECK-NEXT:    %[[CONV:.*]] = dsp.conv %[[CONCAT]], %[[W]] {{.*}} : (tensor<1x3x8x8xf32>, tensor<16x3x2x2xf32>) -> tensor<1x16x4x4xf32>
// CHECK-NEXT:    return %[[CONV]]
func.func @compound(%a: tensor<1x3x4x8xf32>, %b: tensor<1x3x4x8xf32>, %w: tensor<16x3x2x2xf32>) -> tensor<1x16x4x4xf32> {
  %0 = dsp.concat %a, %b {axis = 2 : i64} : (tensor<1x3x4x8xf32>, tensor<1x3x4x8xf32>) -> tensor<1x3x8x8xf32>
  %1 = dsp.conv %0, %w {dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 2, 2>} : (tensor<1x3x8x8xf32>, tensor<16x3x2x2xf32>) -> tensor<1x16x4x4xf32>
  return %1 : tensor<1x16x4x4xf32>
}

// -----

// A reshape that merges the token dim with others has no whole factor for
// it: not split.
// CHECK-LABEL: func.func @reshape_merged(
// CHECK-SAME:      %[[A:.*]]: tensor<1x1x4xf32>, %[[B:.*]]: tensor<1x6x4xf32>)
// CHECK-NEXT:    %[[CONCAT:.*]] = dsp.concat %[[A]], %[[B]] {axis = 1 : i64}
// CHECK-NEXT:    %[[RESHAPE:.*]] = dsp.reshape %[[CONCAT]] : tensor<1x7x4xf32> -> tensor<28xf32>
// CHECK-NEXT:    return %[[RESHAPE]]
func.func @reshape_merged(%a: tensor<1x1x4xf32>, %b: tensor<1x6x4xf32>) -> tensor<28xf32> {
  %0 = dsp.concat %a, %b {axis = 1 : i64} : (tensor<1x1x4xf32>, tensor<1x6x4xf32>) -> tensor<1x7x4xf32>
  %1 = dsp.reshape %0 : tensor<1x7x4xf32> -> tensor<28xf32>
  return %1 : tensor<28xf32>
}

// -----

// A slice that keeps the token dim whole runs per piece, so that a gather
// of the CLS token reads the CLS piece.
// CHECK-LABEL: func.func @slice_other_dim(
// CHECK-SAME:      %[[A:.*]]: tensor<8x1x4xf32>, %[[B:.*]]: tensor<8x6x4xf32>)
// CHECK-NEXT:    %[[I:.*]] = dsp.constant dense<0> : tensor<2xi64>
// CHECK-NEXT:    %[[SLICE:.*]] = dsp.slice %[[A]] {limits = array<i64: 1, 1, 4>, starts = array<i64: 0, 0, 0>, strides = array<i64: 1, 1, 1>} : tensor<8x1x4xf32> -> tensor<1x1x4xf32>
// CHECK-NEXT:    %[[GATHER:.*]] = dsp.gather %[[SLICE]], %[[I]] {axis = 1 : i64} : tensor<1x1x4xf32>, tensor<2xi64> -> tensor<1x2x4xf32>
// CHECK-NEXT:    %[[SUM:.*]] = dsp.reduce_sum %[[GATHER]]
// CHECK-NEXT:    return %[[SUM]]
func.func @slice_other_dim(%a: tensor<8x1x4xf32>, %b: tensor<8x6x4xf32>) -> tensor<4xf32> {
  %0 = dsp.concat %a, %b {axis = 1 : i64} : (tensor<8x1x4xf32>, tensor<8x6x4xf32>) -> tensor<8x7x4xf32>
  %1 = dsp.slice %0 {starts = array<i64: 0, 0, 0>, limits = array<i64: 1, 7, 4>, strides = array<i64: 1, 1, 1>} : tensor<8x7x4xf32> -> tensor<1x7x4xf32>
  %i = dsp.constant dense<0> : tensor<2xi64>
  %2 = dsp.gather %1, %i {axis = 1 : i64} : tensor<1x7x4xf32>, tensor<2xi64> -> tensor<1x2x4xf32>
  %3 = dsp.reduce_sum %2 {axes = array<i64: 0, 1>, keepdims = false} : tensor<1x2x4xf32> -> tensor<4xf32>
  return %3 : tensor<4xf32>
}

// -----

// A transformer MLP with its residual: everything runs per piece and one
// concat is left at the end.
// CHECK-LABEL: func.func @mlp(
// CHECK-SAME:      %[[A:[^:]*]]: tensor<1x1x4xf32>, %[[B:[^:]*]]: tensor<1x6x4xf32>, %[[S:[^:]*]]: tensor<4xf32>, %[[W1:[^:]*]]: tensor<4x8xf32>, %[[B1:[^:]*]]: tensor<8xf32>, %[[W2:[^:]*]]: tensor<8x4xf32>)
// CHECK-NEXT:    %[[LN:.*]] = dsp.layer_norm %[[A]], %[[S]] {{.*}} -> tensor<1x1x4xf32>
// CHECK-NEXT:    %[[LN1:.*]] = dsp.layer_norm %[[B]], %[[S]] {{.*}} -> tensor<1x6x4xf32>
// CHECK-NEXT:    %[[MM:.*]] = dsp.matmul %[[LN]], %[[W1]] : tensor<1x1x4xf32>, tensor<4x8xf32> -> tensor<1x1x8xf32>
// CHECK-NEXT:    %[[MM1:.*]] = dsp.matmul %[[LN1]], %[[W1]] : tensor<1x6x4xf32>, tensor<4x8xf32> -> tensor<1x6x8xf32>
// CHECK-NEXT:    %[[ADD:.*]] = dsp.add %[[MM]], %[[B1]]
// CHECK-NEXT:    %[[ADD1:.*]] = dsp.add %[[MM1]], %[[B1]]
// CHECK-NEXT:    %[[GELU:.*]] = dsp.gelu %[[ADD]] : tensor<1x1x8xf32>
// CHECK-NEXT:    %[[GELU1:.*]] = dsp.gelu %[[ADD1]] : tensor<1x6x8xf32>
// CHECK-NEXT:    %[[MM2:.*]] = dsp.matmul %[[GELU]], %[[W2]] : tensor<1x1x8xf32>, tensor<8x4xf32> -> tensor<1x1x4xf32>
// CHECK-NEXT:    %[[MM3:.*]] = dsp.matmul %[[GELU1]], %[[W2]] : tensor<1x6x8xf32>, tensor<8x4xf32> -> tensor<1x6x4xf32>
// CHECK-NEXT:    %[[RES:.*]] = dsp.add %[[A]], %[[MM2]]
// CHECK-NEXT:    %[[RES1:.*]] = dsp.add %[[B]], %[[MM3]]
// CHECK-NEXT:    %[[CONCAT:.*]] = dsp.concat %[[RES]], %[[RES1]] {axis = 1 : i64} : (tensor<1x1x4xf32>, tensor<1x6x4xf32>) -> tensor<1x7x4xf32>
// CHECK-NEXT:    return %[[CONCAT]]
func.func @mlp(%a: tensor<1x1x4xf32>, %b: tensor<1x6x4xf32>, %s: tensor<4xf32>, %w1: tensor<4x8xf32>, %b1: tensor<8xf32>, %w2: tensor<8x4xf32>) -> tensor<1x7x4xf32> {
  %0 = dsp.concat %a, %b {axis = 1 : i64} : (tensor<1x1x4xf32>, tensor<1x6x4xf32>) -> tensor<1x7x4xf32>
  %1 = dsp.layer_norm %0, %s {axis = 2 : i64, epsilon = 1.0e-05 : f64} : (tensor<1x7x4xf32>, tensor<4xf32>) -> tensor<1x7x4xf32>
  %2 = dsp.matmul %1, %w1 : tensor<1x7x4xf32>, tensor<4x8xf32> -> tensor<1x7x8xf32>
  %3 = dsp.add %2, %b1 : tensor<1x7x8xf32>, tensor<8xf32> -> tensor<1x7x8xf32>
  %4 = dsp.gelu %3 : tensor<1x7x8xf32>
  %5 = dsp.matmul %4, %w2 : tensor<1x7x8xf32>, tensor<8x4xf32> -> tensor<1x7x4xf32>
  %6 = dsp.add %0, %5 : tensor<1x7x4xf32>, tensor<1x7x4xf32> -> tensor<1x7x4xf32>
  return %6 : tensor<1x7x4xf32>
}

// -----

// Slices that split a result into pieces move up: each piece is computed
// from the matching pieces of the operands (the split of a joint text and
// video stream after attention reaches back to where the tokens meet).
// CHECK-LABEL: func.func @split_after(
// CHECK-SAME:      %[[X:[^:]*]]: tensor<1x7x4xf32>, %[[W:[^:]*]]: tensor<4x4xf32>)
// CHECK-NEXT:    %[[X0:.*]] = dsp.slice %[[X]] {limits = array<i64: 1, 1, 4>, starts = array<i64: 0, 0, 0>, strides = array<i64: 1, 1, 1>}
// CHECK-NEXT:    %[[M0:.*]] = dsp.matmul %[[X0]], %[[W]] : tensor<1x1x4xf32>, tensor<4x4xf32> -> tensor<1x1x4xf32>
// CHECK-NEXT:    %[[X1:.*]] = dsp.slice %[[X]] {limits = array<i64: 1, 7, 4>, starts = array<i64: 0, 1, 0>, strides = array<i64: 1, 1, 1>}
// CHECK-NEXT:    %[[M1:.*]] = dsp.matmul %[[X1]], %[[W]] : tensor<1x6x4xf32>, tensor<4x4xf32> -> tensor<1x6x4xf32>
// CHECK-NEXT:    %[[G0:.*]] = dsp.gelu %[[M0]] : tensor<1x1x4xf32>
// CHECK-NEXT:    %[[G1:.*]] = dsp.gelu %[[M1]] : tensor<1x6x4xf32>
// CHECK-NEXT:    return %[[G0]], %[[G1]]
func.func @split_after(%x: tensor<1x7x4xf32>, %w: tensor<4x4xf32>) -> (tensor<1x1x4xf32>, tensor<1x6x4xf32>) {
  %0 = dsp.matmul %x, %w : tensor<1x7x4xf32>, tensor<4x4xf32> -> tensor<1x7x4xf32>
  %1 = dsp.gelu %0 : tensor<1x7x4xf32>
  %a = dsp.slice %1 {starts = array<i64: 0, 0, 0>, limits = array<i64: 1, 1, 4>, strides = array<i64: 1, 1, 1>} : tensor<1x7x4xf32> -> tensor<1x1x4xf32>
  %b = dsp.slice %1 {starts = array<i64: 0, 1, 0>, limits = array<i64: 1, 7, 4>, strides = array<i64: 1, 1, 1>} : tensor<1x7x4xf32> -> tensor<1x6x4xf32>
  return %a, %b : tensor<1x1x4xf32>, tensor<1x6x4xf32>
}

// -----

// A part nobody reads is not computed (CogVideoX drops the text tokens
// after its final norm).
// CHECK-LABEL: func.func @drop_text(
// CHECK-SAME:      %[[X:[^:]*]]: tensor<1x7x4xf32>, %[[S:[^:]*]]: tensor<4xf32>)
// CHECK-NEXT:    %[[V:.*]] = dsp.slice %[[X]] {limits = array<i64: 1, 7, 4>, starts = array<i64: 0, 1, 0>, strides = array<i64: 1, 1, 1>}
// CHECK-NEXT:    %[[N:.*]] = dsp.layer_norm %[[V]], %[[S]] {{.*}} -> tensor<1x6x4xf32>
// CHECK-NEXT:    return %[[N]]
func.func @drop_text(%x: tensor<1x7x4xf32>, %s: tensor<4xf32>) -> tensor<1x6x4xf32> {
  %0 = dsp.layer_norm %x, %s {axis = 2 : i64, epsilon = 1.0e-05 : f64} : (tensor<1x7x4xf32>, tensor<4xf32>) -> tensor<1x7x4xf32>
  %b = dsp.slice %0 {starts = array<i64: 0, 1, 0>, limits = array<i64: 1, 7, 4>, strides = array<i64: 1, 1, 1>} : tensor<1x7x4xf32> -> tensor<1x6x4xf32>
  return %b : tensor<1x6x4xf32>
}

// -----

// Overlapping slices would compute the overlap twice; an op that mixes the
// sliced dim cannot run per piece. Both stay.
// CHECK-LABEL: func.func @overlap(
// CHECK-NEXT:    dsp.gelu %{{.*}} : tensor<1x7x4xf32>
// CHECK-LABEL: func.func @mixing(
// CHECK-NEXT:    dsp.softmax %{{.*}} {axis = 1 : i64} : tensor<1x7x4xf32>
func.func @overlap(%x: tensor<1x7x4xf32>) -> (tensor<1x4x4xf32>, tensor<1x4x4xf32>) {
  %0 = dsp.gelu %x : tensor<1x7x4xf32>
  %a = dsp.slice %0 {starts = array<i64: 0, 0, 0>, limits = array<i64: 1, 4, 4>, strides = array<i64: 1, 1, 1>} : tensor<1x7x4xf32> -> tensor<1x4x4xf32>
  %b = dsp.slice %0 {starts = array<i64: 0, 3, 0>, limits = array<i64: 1, 7, 4>, strides = array<i64: 1, 1, 1>} : tensor<1x7x4xf32> -> tensor<1x4x4xf32>
  return %a, %b : tensor<1x4x4xf32>, tensor<1x4x4xf32>
}
func.func @mixing(%x: tensor<1x7x4xf32>) -> (tensor<1x1x4xf32>, tensor<1x6x4xf32>) {
  %0 = dsp.softmax %x {axis = 1 : i64} : tensor<1x7x4xf32>
  %a = dsp.slice %0 {starts = array<i64: 0, 0, 0>, limits = array<i64: 1, 1, 4>, strides = array<i64: 1, 1, 1>} : tensor<1x7x4xf32> -> tensor<1x1x4xf32>
  %b = dsp.slice %0 {starts = array<i64: 0, 1, 0>, limits = array<i64: 1, 7, 4>, strides = array<i64: 1, 1, 1>} : tensor<1x7x4xf32> -> tensor<1x6x4xf32>
  return %a, %b : tensor<1x1x4xf32>, tensor<1x6x4xf32>
}

// -----

// A residual add whose operand is a concat slices the other operand; the
// slices move up through the ops that made it, and one concat is left.
// CHECK-LABEL: func.func @residual(
// CHECK-SAME:      %[[A:[^:]*]]: tensor<1x1x4xf32>, %[[B:[^:]*]]: tensor<1x6x4xf32>, %[[X:[^:]*]]: tensor<1x7x8xf32>, %[[W:[^:]*]]: tensor<8x4xf32>)
// CHECK-NEXT:    %[[X0:.*]] = dsp.slice %[[X]] {{.*}} -> tensor<1x1x8xf32>
// CHECK-NEXT:    %[[G0:.*]] = dsp.gelu %[[X0]]
// CHECK-NEXT:    %[[X1:.*]] = dsp.slice %[[X]] {{.*}} -> tensor<1x6x8xf32>
// CHECK-NEXT:    %[[G1:.*]] = dsp.gelu %[[X1]]
// CHECK-NEXT:    %[[M0:.*]] = dsp.matmul %[[G0]], %[[W]]
// CHECK-NEXT:    %[[M1:.*]] = dsp.matmul %[[G1]], %[[W]]
// CHECK-NEXT:    %[[R0:.*]] = dsp.add %[[A]], %[[M0]]
// CHECK-NEXT:    %[[R1:.*]] = dsp.add %[[B]], %[[M1]]
// CHECK-NEXT:    %[[C:.*]] = dsp.concat %[[R0]], %[[R1]] {axis = 1 : i64}
// CHECK-NEXT:    return %[[C]]
func.func @residual(%a: tensor<1x1x4xf32>, %b: tensor<1x6x4xf32>, %x: tensor<1x7x8xf32>, %w: tensor<8x4xf32>) -> tensor<1x7x4xf32> {
  %0 = dsp.concat %a, %b {axis = 1 : i64} : (tensor<1x1x4xf32>, tensor<1x6x4xf32>) -> tensor<1x7x4xf32>
  %1 = dsp.gelu %x : tensor<1x7x8xf32>
  %2 = dsp.matmul %1, %w : tensor<1x7x8xf32>, tensor<8x4xf32> -> tensor<1x7x4xf32>
  %3 = dsp.add %0, %2 : tensor<1x7x4xf32>, tensor<1x7x4xf32> -> tensor<1x7x4xf32>
  return %3 : tensor<1x7x4xf32>
}

// RUN: dsp-opt %s --verify-roundtrip | FileCheck %s
// RUN: dsp-opt %s --verify-roundtrip --mlir-print-op-generic | dsp-opt --verify-roundtrip | FileCheck %s

// Round trip of every dsp op and attribute in its custom form.

// CHECK: module attributes {dsp.group = #dsp.group<ranks = 4>} {
module attributes {dsp.group = #dsp.group<ranks = 4>} {

// CHECK-LABEL: func.func @constant_dense()
// CHECK-NEXT:    %[[CONSTANT:.*]] = dsp.constant dense<[1, 2]> : tensor<2xi64>
// CHECK-NEXT:    return %[[CONSTANT]] : tensor<2xi64>
func.func @constant_dense() -> tensor<2xi64> {
  %0 = dsp.constant dense<[1, 2]> : tensor<2xi64>
  return %0 : tensor<2xi64>
}

// CHECK-LABEL: func.func @constant_splat_and_bool()
// CHECK-NEXT:    %[[CONSTANT:.*]] = dsp.constant dense<1.500000e+00> : tensor<2x3xf32>
// CHECK-NEXT:    %[[CONSTANT1:.*]] = dsp.constant dense<[true, false]> : tensor<2xi1>
// CHECK-NEXT:    return %[[CONSTANT]], %[[CONSTANT1]] : tensor<2x3xf32>, tensor<2xi1>
func.func @constant_splat_and_bool() -> (tensor<2x3xf32>, tensor<2xi1>) {
  %0 = dsp.constant dense<1.500000e+00> : tensor<2x3xf32>
  %1 = dsp.constant dense<[true, false]> : tensor<2xi1>
  return %0, %1 : tensor<2x3xf32>, tensor<2xi1>
}

// CHECK-LABEL: func.func @weight()
// CHECK-NEXT:    %[[WEIGHT:.*]] = dsp.weight "blocks.0.attn.qkv.weight" : tensor<4x8xbf16>
// CHECK-NEXT:    return %[[WEIGHT]] : tensor<4x8xbf16>
func.func @weight() -> tensor<4x8xbf16> {
  %0 = dsp.weight "blocks.0.attn.qkv.weight" : tensor<4x8xbf16>
  return %0 : tensor<4x8xbf16>
}

// CHECK-LABEL: func.func @unary(
// CHECK-SAME:      %[[X:[^:]*]]: tensor<2x8xf32>) -> tensor<2x8xf32>
// CHECK-NEXT:    %[[NEG:.*]] = dsp.neg %[[X]] : tensor<2x8xf32>
// CHECK-NEXT:    %[[EXP:.*]] = dsp.exp %[[NEG]] : tensor<2x8xf32>
// CHECK-NEXT:    %[[LOG:.*]] = dsp.log %[[EXP]] : tensor<2x8xf32>
// CHECK-NEXT:    %[[SQRT:.*]] = dsp.sqrt %[[LOG]] : tensor<2x8xf32>
// CHECK-NEXT:    %[[RECIPROCAL:.*]] = dsp.reciprocal %[[SQRT]] : tensor<2x8xf32>
// CHECK-NEXT:    %[[ABS:.*]] = dsp.abs %[[RECIPROCAL]] : tensor<2x8xf32>
// CHECK-NEXT:    %[[ERF:.*]] = dsp.erf %[[ABS]] : tensor<2x8xf32>
// CHECK-NEXT:    %[[TANH:.*]] = dsp.tanh %[[ERF]] : tensor<2x8xf32>
// CHECK-NEXT:    %[[SIGMOID:.*]] = dsp.sigmoid %[[TANH]] : tensor<2x8xf32>
// CHECK-NEXT:    %[[RELU:.*]] = dsp.relu %[[SIGMOID]] : tensor<2x8xf32>
// CHECK-NEXT:    %[[SIN:.*]] = dsp.sin %[[RELU]] : tensor<2x8xf32>
// CHECK-NEXT:    %[[COS:.*]] = dsp.cos %[[SIN]] : tensor<2x8xf32>
// CHECK-NEXT:    %[[SILU:.*]] = dsp.silu %[[COS]] : tensor<2x8xf32>
// CHECK-NEXT:    return %[[SILU]] : tensor<2x8xf32>
func.func @unary(%x: tensor<2x8xf32>) -> tensor<2x8xf32> {
  %0 = dsp.neg %x : tensor<2x8xf32>
  %1 = dsp.exp %0 : tensor<2x8xf32>
  %2 = dsp.log %1 : tensor<2x8xf32>
  %3 = dsp.sqrt %2 : tensor<2x8xf32>
  %4 = dsp.reciprocal %3 : tensor<2x8xf32>
  %5 = dsp.abs %4 : tensor<2x8xf32>
  %6 = dsp.erf %5 : tensor<2x8xf32>
  %7 = dsp.tanh %6 : tensor<2x8xf32>
  %8 = dsp.sigmoid %7 : tensor<2x8xf32>
  %9 = dsp.relu %8 : tensor<2x8xf32>
  %10 = dsp.sin %9 : tensor<2x8xf32>
  %11 = dsp.cos %10 : tensor<2x8xf32>
  %12 = dsp.silu %11 : tensor<2x8xf32>
  return %12 : tensor<2x8xf32>
}

// CHECK-LABEL: func.func @gelu(
// CHECK-SAME:      %[[X:[^:]*]]: tensor<2x8xf16>) -> (tensor<2x8xf16>, tensor<2x8xf16>, tensor<2x8xf16>)
// CHECK-NEXT:    %[[GELU:.*]] = dsp.gelu %[[X]] : tensor<2x8xf16>
// CHECK-NEXT:    %[[GELU1:.*]] = dsp.gelu %[[X]] {approximate = "tanh"} : tensor<2x8xf16>
// CHECK-NEXT:    %[[GELU2:.*]] = dsp.gelu %[[X]] : tensor<2x8xf16>
// CHECK-NEXT:    return %[[GELU]], %[[GELU1]], %[[GELU2]] : tensor<2x8xf16>, tensor<2x8xf16>, tensor<2x8xf16>
func.func @gelu(%x: tensor<2x8xf16>) -> (tensor<2x8xf16>, tensor<2x8xf16>, tensor<2x8xf16>) {
  %0 = dsp.gelu %x : tensor<2x8xf16>
  %1 = dsp.gelu %x {approximate = "tanh"} : tensor<2x8xf16>
  %2 = dsp.gelu %x {approximate = "none"} : tensor<2x8xf16>
  return %0, %1, %2 : tensor<2x8xf16>, tensor<2x8xf16>, tensor<2x8xf16>
}

// CHECK-LABEL: func.func @isnan_not_cast(
// CHECK-SAME:      %[[X:[^:]*]]: tensor<2x8xf32>, %[[I:[^:]*]]: tensor<3xi32>) -> (tensor<2x8xi1>, tensor<2x8xbf16>, tensor<3xi1>)
// CHECK-NEXT:    %[[ISNAN:.*]] = dsp.isnan %[[X]] : tensor<2x8xf32> -> tensor<2x8xi1>
// CHECK-NEXT:    %[[NOT:.*]] = dsp.not %[[ISNAN]] : tensor<2x8xi1>
// CHECK-NEXT:    %[[CAST:.*]] = dsp.cast %[[X]] : tensor<2x8xf32> -> tensor<2x8xbf16>
// CHECK-NEXT:    %[[CAST1:.*]] = dsp.cast %[[I]] : tensor<3xi32> -> tensor<3xi1>
// CHECK-NEXT:    return %[[NOT]], %[[CAST]], %[[CAST1]] : tensor<2x8xi1>, tensor<2x8xbf16>, tensor<3xi1>
func.func @isnan_not_cast(%x: tensor<2x8xf32>, %i: tensor<3xi32>) -> (tensor<2x8xi1>, tensor<2x8xbf16>, tensor<3xi1>) {
  %0 = dsp.isnan %x : tensor<2x8xf32> -> tensor<2x8xi1>
  %1 = dsp.not %0 : tensor<2x8xi1>
  %2 = dsp.cast %x : tensor<2x8xf32> -> tensor<2x8xbf16>
  %3 = dsp.cast %i : tensor<3xi32> -> tensor<3xi1>
  return %1, %2, %3 : tensor<2x8xi1>, tensor<2x8xbf16>, tensor<3xi1>
}

// CHECK-LABEL: func.func @arith(
// CHECK-SAME:      %[[A:[^:]*]]: tensor<2x8xf32>, %[[B:[^:]*]]: tensor<8xf32>, %[[C:[^:]*]]: tensor<2x1xf32>) -> tensor<2x8xf32>
// CHECK-NEXT:    %[[ADD:.*]] = dsp.add %[[A]], %[[B]] : tensor<2x8xf32>, tensor<8xf32> -> tensor<2x8xf32>
// CHECK-NEXT:    %[[SUB:.*]] = dsp.sub %[[ADD]], %[[C]] : tensor<2x8xf32>, tensor<2x1xf32> -> tensor<2x8xf32>
// CHECK-NEXT:    %[[MUL:.*]] = dsp.mul %[[C]], %[[B]] : tensor<2x1xf32>, tensor<8xf32> -> tensor<2x8xf32>
// CHECK-NEXT:    %[[DIV:.*]] = dsp.div %[[SUB]], %[[MUL]] : tensor<2x8xf32>, tensor<2x8xf32> -> tensor<2x8xf32>
// CHECK-NEXT:    %[[POW:.*]] = dsp.pow %[[DIV]], %[[B]] : tensor<2x8xf32>, tensor<8xf32> -> tensor<2x8xf32>
// CHECK-NEXT:    %[[MAX:.*]] = dsp.max %[[POW]], %[[A]] : tensor<2x8xf32>, tensor<2x8xf32> -> tensor<2x8xf32>
// CHECK-NEXT:    %[[MIN:.*]] = dsp.min %[[MAX]], %[[C]] : tensor<2x8xf32>, tensor<2x1xf32> -> tensor<2x8xf32>
// CHECK-NEXT:    return %[[MIN]] : tensor<2x8xf32>
func.func @arith(%a: tensor<2x8xf32>, %b: tensor<8xf32>, %c: tensor<2x1xf32>) -> tensor<2x8xf32> {
  %0 = dsp.add %a, %b : tensor<2x8xf32>, tensor<8xf32> -> tensor<2x8xf32>
  %1 = dsp.sub %0, %c : tensor<2x8xf32>, tensor<2x1xf32> -> tensor<2x8xf32>
  %2 = dsp.mul %c, %b : tensor<2x1xf32>, tensor<8xf32> -> tensor<2x8xf32>
  %3 = dsp.div %1, %2 : tensor<2x8xf32>, tensor<2x8xf32> -> tensor<2x8xf32>
  %4 = dsp.pow %3, %b : tensor<2x8xf32>, tensor<8xf32> -> tensor<2x8xf32>
  %5 = dsp.max %4, %a : tensor<2x8xf32>, tensor<2x8xf32> -> tensor<2x8xf32>
  %6 = dsp.min %5, %c : tensor<2x8xf32>, tensor<2x1xf32> -> tensor<2x8xf32>
  return %6 : tensor<2x8xf32>
}

// CHECK-LABEL: func.func @integer_arith(
// CHECK-SAME:      %[[A:[^:]*]]: tensor<4xi64>, %[[B:[^:]*]]: tensor<i64>) -> tensor<4xi64>
// CHECK-NEXT:    %[[ADD:.*]] = dsp.add %[[A]], %[[B]] : tensor<4xi64>, tensor<i64> -> tensor<4xi64>
// CHECK-NEXT:    %[[DIV:.*]] = dsp.div %[[ADD]], %[[B]] : tensor<4xi64>, tensor<i64> -> tensor<4xi64>
// CHECK-NEXT:    return %[[DIV]] : tensor<4xi64>
func.func @integer_arith(%a: tensor<4xi64>, %b: tensor<i64>) -> tensor<4xi64> {
  %0 = dsp.add %a, %b : tensor<4xi64>, tensor<i64> -> tensor<4xi64>
  %1 = dsp.div %0, %b : tensor<4xi64>, tensor<i64> -> tensor<4xi64>
  return %1 : tensor<4xi64>
}

// CHECK-LABEL: func.func @compare(
// CHECK-SAME:      %[[A:[^:]*]]: tensor<2x8xi32>, %[[B:[^:]*]]: tensor<1x8xi32>) -> (tensor<2x8xi1>, tensor<2x8xi1>, tensor<2x8xi1>, tensor<2x8xi1>, tensor<2x8xi1>)
// CHECK-NEXT:    %[[EQUAL:.*]] = dsp.equal %[[A]], %[[B]] : tensor<2x8xi32>, tensor<1x8xi32> -> tensor<2x8xi1>
// CHECK-NEXT:    %[[LESS:.*]] = dsp.less %[[A]], %[[B]] : tensor<2x8xi32>, tensor<1x8xi32> -> tensor<2x8xi1>
// CHECK-NEXT:    %[[LESS_EQUAL:.*]] = dsp.less_equal %[[A]], %[[B]] : tensor<2x8xi32>, tensor<1x8xi32> -> tensor<2x8xi1>
// CHECK-NEXT:    %[[GREATER:.*]] = dsp.greater %[[B]], %[[A]] : tensor<1x8xi32>, tensor<2x8xi32> -> tensor<2x8xi1>
// CHECK-NEXT:    %[[GREATER_EQUAL:.*]] = dsp.greater_equal %[[A]], %[[A]] : tensor<2x8xi32>, tensor<2x8xi32> -> tensor<2x8xi1>
// CHECK-NEXT:    return %[[EQUAL]], %[[LESS]], %[[LESS_EQUAL]], %[[GREATER]], %[[GREATER_EQUAL]] : tensor<2x8xi1>, tensor<2x8xi1>, tensor<2x8xi1>, tensor<2x8xi1>, tensor<2x8xi1>
func.func @compare(%a: tensor<2x8xi32>, %b: tensor<1x8xi32>) -> (tensor<2x8xi1>, tensor<2x8xi1>, tensor<2x8xi1>, tensor<2x8xi1>, tensor<2x8xi1>) {
  %0 = dsp.equal %a, %b : tensor<2x8xi32>, tensor<1x8xi32> -> tensor<2x8xi1>
  %1 = dsp.less %a, %b : tensor<2x8xi32>, tensor<1x8xi32> -> tensor<2x8xi1>
  %2 = dsp.less_equal %a, %b : tensor<2x8xi32>, tensor<1x8xi32> -> tensor<2x8xi1>
  %3 = dsp.greater %b, %a : tensor<1x8xi32>, tensor<2x8xi32> -> tensor<2x8xi1>
  %4 = dsp.greater_equal %a, %a : tensor<2x8xi32>, tensor<2x8xi32> -> tensor<2x8xi1>
  return %0, %1, %2, %3, %4 : tensor<2x8xi1>, tensor<2x8xi1>, tensor<2x8xi1>, tensor<2x8xi1>, tensor<2x8xi1>
}

// CHECK-LABEL: func.func @logical(
// CHECK-SAME:      %[[A:[^:]*]]: tensor<2x8xi1>, %[[B:[^:]*]]: tensor<8xi1>) -> tensor<2x8xi1>
// CHECK-NEXT:    %[[AND:.*]] = dsp.and %[[A]], %[[B]] : tensor<2x8xi1>, tensor<8xi1> -> tensor<2x8xi1>
// CHECK-NEXT:    %[[OR:.*]] = dsp.or %[[AND]], %[[B]] : tensor<2x8xi1>, tensor<8xi1> -> tensor<2x8xi1>
// CHECK-NEXT:    %[[XOR:.*]] = dsp.xor %[[OR]], %[[A]] : tensor<2x8xi1>, tensor<2x8xi1> -> tensor<2x8xi1>
// CHECK-NEXT:    return %[[XOR]] : tensor<2x8xi1>
func.func @logical(%a: tensor<2x8xi1>, %b: tensor<8xi1>) -> tensor<2x8xi1> {
  %0 = dsp.and %a, %b : tensor<2x8xi1>, tensor<8xi1> -> tensor<2x8xi1>
  %1 = dsp.or %0, %b : tensor<2x8xi1>, tensor<8xi1> -> tensor<2x8xi1>
  %2 = dsp.xor %1, %a : tensor<2x8xi1>, tensor<2x8xi1> -> tensor<2x8xi1>
  return %2 : tensor<2x8xi1>
}

// CHECK-LABEL: func.func @where(
// CHECK-SAME:      %[[C:[^:]*]]: tensor<2x1xi1>, %[[T:[^:]*]]: tensor<8xf32>, %[[F:[^:]*]]: tensor<f32>) -> tensor<2x8xf32>
// CHECK-NEXT:    %[[WHERE:.*]] = dsp.where %[[C]], %[[T]], %[[F]] : tensor<2x1xi1>, tensor<8xf32>, tensor<f32> -> tensor<2x8xf32>
// CHECK-NEXT:    return %[[WHERE]] : tensor<2x8xf32>
func.func @where(%c: tensor<2x1xi1>, %t: tensor<8xf32>, %f: tensor<f32>) -> tensor<2x8xf32> {
  %0 = dsp.where %c, %t, %f : tensor<2x1xi1>, tensor<8xf32>, tensor<f32> -> tensor<2x8xf32>
  return %0 : tensor<2x8xf32>
}

// CHECK-LABEL: func.func @matmul(
// CHECK-SAME:      %[[A:[^:]*]]: tensor<2x1x4x8xf32>, %[[B:[^:]*]]: tensor<3x8x5xf32>, %[[W:[^:]*]]: tensor<8x16xf32>) -> (tensor<2x3x4x5xf32>, tensor<2x1x4x16xf32>)
// CHECK-NEXT:    %[[MATMUL:.*]] = dsp.matmul %[[A]], %[[B]] : tensor<2x1x4x8xf32>, tensor<3x8x5xf32> -> tensor<2x3x4x5xf32>
// CHECK-NEXT:    %[[MATMUL1:.*]] = dsp.matmul %[[A]], %[[W]] : tensor<2x1x4x8xf32>, tensor<8x16xf32> -> tensor<2x1x4x16xf32>
// CHECK-NEXT:    return %[[MATMUL]], %[[MATMUL1]] : tensor<2x3x4x5xf32>, tensor<2x1x4x16xf32>
func.func @matmul(%a: tensor<2x1x4x8xf32>, %b: tensor<3x8x5xf32>, %w: tensor<8x16xf32>) -> (tensor<2x3x4x5xf32>, tensor<2x1x4x16xf32>) {
  %0 = dsp.matmul %a, %b : tensor<2x1x4x8xf32>, tensor<3x8x5xf32> -> tensor<2x3x4x5xf32>
  %1 = dsp.matmul %a, %w : tensor<2x1x4x8xf32>, tensor<8x16xf32> -> tensor<2x1x4x16xf32>
  return %0, %1 : tensor<2x3x4x5xf32>, tensor<2x1x4x16xf32>
}

// CHECK-LABEL: func.func @layer_norm(
// CHECK-SAME:      %[[X:[^:]*]]: tensor<2x4x8xf32>, %[[S:[^:]*]]: tensor<8xf32>, %[[B:[^:]*]]: tensor<8xf32>, %[[S2:[^:]*]]: tensor<4x8xf32>) -> (tensor<2x4x8xf32>, tensor<2x4x8xf32>)
// CHECK-NEXT:    %[[LAYER_NORM:.*]] = dsp.layer_norm %[[X]], %[[S]], %[[B]] {axis = 2 : i64, epsilon = 1.000000e-05 : f64} : (tensor<2x4x8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<2x4x8xf32>
// CHECK-NEXT:    %[[LAYER_NORM1:.*]] = dsp.layer_norm %[[X]], %[[S2]] {axis = 1 : i64, epsilon = 9.9999999999999995E-7 : f64} : (tensor<2x4x8xf32>, tensor<4x8xf32>) -> tensor<2x4x8xf32>
// CHECK-NEXT:    return %[[LAYER_NORM]], %[[LAYER_NORM1]] : tensor<2x4x8xf32>, tensor<2x4x8xf32>
func.func @layer_norm(%x: tensor<2x4x8xf32>, %s: tensor<8xf32>, %b: tensor<8xf32>, %s2: tensor<4x8xf32>) -> (tensor<2x4x8xf32>, tensor<2x4x8xf32>) {
  %0 = dsp.layer_norm %x, %s, %b {axis = 2 : i64, epsilon = 1.000000e-05 : f64} : (tensor<2x4x8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<2x4x8xf32>
  %1 = dsp.layer_norm %x, %s2 {axis = 1 : i64, epsilon = 9.9999999999999995e-07 : f64} : (tensor<2x4x8xf32>, tensor<4x8xf32>) -> tensor<2x4x8xf32>
  return %0, %1 : tensor<2x4x8xf32>, tensor<2x4x8xf32>
}

// CHECK-LABEL: func.func @softmax(
// CHECK-SAME:      %[[X:[^:]*]]: tensor<2x4x8xf32>) -> tensor<2x4x8xf32>
// CHECK-NEXT:    %[[SOFTMAX:.*]] = dsp.softmax %[[X]] {axis = 2 : i64} : tensor<2x4x8xf32>
// CHECK-NEXT:    return %[[SOFTMAX]] : tensor<2x4x8xf32>
func.func @softmax(%x: tensor<2x4x8xf32>) -> tensor<2x4x8xf32> {
  %0 = dsp.softmax %x {axis = 2 : i64} : tensor<2x4x8xf32>
  return %0 : tensor<2x4x8xf32>
}

// CHECK-LABEL: func.func @attention(
// CHECK-SAME:      %[[Q:[^:]*]]: tensor<2x4x16x8xf32>, %[[K:[^:]*]]: tensor<2x4x32x8xf32>, %[[V:[^:]*]]: tensor<2x4x32x6xf32>, %[[M:[^:]*]]: tensor<16x32xf32>) -> (tensor<2x4x16x6xf32>, tensor<2x4x16x6xf32>)
// CHECK-NEXT:    %[[ATTENTION:.*]] = dsp.attention %[[Q]], %[[K]], %[[V]] {scale = 0.35355339059327379 : f64} : (tensor<2x4x16x8xf32>, tensor<2x4x32x8xf32>, tensor<2x4x32x6xf32>) -> tensor<2x4x16x6xf32>
// CHECK-NEXT:    %[[ATTENTION1:.*]] = dsp.attention %[[Q]], %[[K]], %[[V]] mask %[[M]] {scale = 1.250000e-01 : f64} : (tensor<2x4x16x8xf32>, tensor<2x4x32x8xf32>, tensor<2x4x32x6xf32>, tensor<16x32xf32>) -> tensor<2x4x16x6xf32>
// CHECK-NEXT:    return %[[ATTENTION]], %[[ATTENTION1]] : tensor<2x4x16x6xf32>, tensor<2x4x16x6xf32>
func.func @attention(%q: tensor<2x4x16x8xf32>, %k: tensor<2x4x32x8xf32>, %v: tensor<2x4x32x6xf32>, %m: tensor<16x32xf32>) -> (tensor<2x4x16x6xf32>, tensor<2x4x16x6xf32>) {
  %0 = dsp.attention %q, %k, %v {scale = 0.35355339059327379 : f64} : (tensor<2x4x16x8xf32>, tensor<2x4x32x8xf32>, tensor<2x4x32x6xf32>) -> tensor<2x4x16x6xf32>
  %1 = dsp.attention %q, %k, %v mask %m {scale = 1.250000e-01 : f64} : (tensor<2x4x16x8xf32>, tensor<2x4x32x8xf32>, tensor<2x4x32x6xf32>, tensor<16x32xf32>) -> tensor<2x4x16x6xf32>
  return %0, %1 : tensor<2x4x16x6xf32>, tensor<2x4x16x6xf32>
}

// CHECK-LABEL: func.func @conv(
// CHECK-SAME:      %[[X:[^:]*]]: tensor<1x3x8x16x16xf32>, %[[W:[^:]*]]: tensor<32x3x2x4x4xf32>, %[[B:[^:]*]]: tensor<32xf32>, %[[Y:[^:]*]]: tensor<1x4x10x10xf32>, %[[GW:[^:]*]]: tensor<8x2x3x3xf32>) -> (tensor<1x32x4x4x4xf32>, tensor<1x32x4x4x4xf32>, tensor<1x8x4x5xf32>)
// CHECK-NEXT:    %[[CONV:.*]] = dsp.conv %[[X]], %[[W]], %[[B]] {dilations = array<i64: 1, 1, 1>, pads = array<i64: 0, 0, 0, 0, 0, 0>, strides = array<i64: 2, 4, 4>} : (tensor<1x3x8x16x16xf32>, tensor<32x3x2x4x4xf32>, tensor<32xf32>) -> tensor<1x32x4x4x4xf32>
// CHECK-NEXT:    %[[CONV1:.*]] = dsp.conv %[[X]], %[[W]] {dilations = array<i64: 1, 1, 1>, pads = array<i64: 0, 0, 0, 0, 0, 0>, strides = array<i64: 2, 4, 4>} : (tensor<1x3x8x16x16xf32>, tensor<32x3x2x4x4xf32>) -> tensor<1x32x4x4x4xf32>
// CHECK-NEXT:    %[[CONV2:.*]] = dsp.conv %[[Y]], %[[GW]] {dilations = array<i64: 2, 1>, group = 2 : i64, pads = array<i64: 1, 0, 1, 1>, strides = array<i64: 2, 2>} : (tensor<1x4x10x10xf32>, tensor<8x2x3x3xf32>) -> tensor<1x8x4x5xf32>
// CHECK-NEXT:    return %[[CONV]], %[[CONV1]], %[[CONV2]] : tensor<1x32x4x4x4xf32>, tensor<1x32x4x4x4xf32>, tensor<1x8x4x5xf32>
func.func @conv(%x: tensor<1x3x8x16x16xf32>, %w: tensor<32x3x2x4x4xf32>, %b: tensor<32xf32>, %y: tensor<1x4x10x10xf32>, %gw: tensor<8x2x3x3xf32>) -> (tensor<1x32x4x4x4xf32>, tensor<1x32x4x4x4xf32>, tensor<1x8x4x5xf32>) {
  %0 = dsp.conv %x, %w, %b {dilations = array<i64: 1, 1, 1>, pads = array<i64: 0, 0, 0, 0, 0, 0>, strides = array<i64: 2, 4, 4>} : (tensor<1x3x8x16x16xf32>, tensor<32x3x2x4x4xf32>, tensor<32xf32>) -> tensor<1x32x4x4x4xf32>
  %1 = dsp.conv %x, %w {dilations = array<i64: 1, 1, 1>, pads = array<i64: 0, 0, 0, 0, 0, 0>, strides = array<i64: 2, 4, 4>} : (tensor<1x3x8x16x16xf32>, tensor<32x3x2x4x4xf32>) -> tensor<1x32x4x4x4xf32>
  %2 = dsp.conv %y, %gw {dilations = array<i64: 2, 1>, group = 2 : i64, pads = array<i64: 1, 0, 1, 1>, strides = array<i64: 2, 2>} : (tensor<1x4x10x10xf32>, tensor<8x2x3x3xf32>) -> tensor<1x8x4x5xf32>
  return %0, %1, %2 : tensor<1x32x4x4x4xf32>, tensor<1x32x4x4x4xf32>, tensor<1x8x4x5xf32>
}

// CHECK-LABEL: func.func @reductions(
// CHECK-SAME:      %[[X:[^:]*]]: tensor<2x4x8xf32>) -> (tensor<2x1x1xf32>, tensor<2x8xf32>, tensor<2x4x1xf32>)
// CHECK-NEXT:    %[[REDUCE_SUM:.*]] = dsp.reduce_sum %[[X]] {axes = array<i64: 1, 2>} : tensor<2x4x8xf32> -> tensor<2x1x1xf32>
// CHECK-NEXT:    %[[REDUCE_MEAN:.*]] = dsp.reduce_mean %[[X]] {axes = array<i64: 1>, keepdims = false} : tensor<2x4x8xf32> -> tensor<2x8xf32>
// CHECK-NEXT:    %[[REDUCE_MAX:.*]] = dsp.reduce_max %[[X]] {axes = array<i64: 2>} : tensor<2x4x8xf32> -> tensor<2x4x1xf32>
// CHECK-NEXT:    return %[[REDUCE_SUM]], %[[REDUCE_MEAN]], %[[REDUCE_MAX]] : tensor<2x1x1xf32>, tensor<2x8xf32>, tensor<2x4x1xf32>
func.func @reductions(%x: tensor<2x4x8xf32>) -> (tensor<2x1x1xf32>, tensor<2x8xf32>, tensor<2x4x1xf32>) {
  %0 = dsp.reduce_sum %x {axes = array<i64: 1, 2>} : tensor<2x4x8xf32> -> tensor<2x1x1xf32>
  %1 = dsp.reduce_mean %x {axes = array<i64: 1>, keepdims = false} : tensor<2x4x8xf32> -> tensor<2x8xf32>
  %2 = dsp.reduce_max %x {axes = array<i64: 2>, keepdims = true} : tensor<2x4x8xf32> -> tensor<2x4x1xf32>
  return %0, %1, %2 : tensor<2x1x1xf32>, tensor<2x8xf32>, tensor<2x4x1xf32>
}

// CHECK-LABEL: func.func @data_movement(
// CHECK-SAME:      %[[X:[^:]*]]: tensor<2x4x8xf32>, %[[Y:[^:]*]]: tensor<2x3x8xf32>, %[[I:[^:]*]]: tensor<5xi64>, %[[J:[^:]*]]: tensor<2x3xi32>) -> (tensor<8x8xf32>, tensor<8x2x4xf32>, tensor<2x7x8xf32>, tensor<2x2x3xf32>, tensor<2x5x8xf32>, tensor<2x2x3x8xf32>, tensor<3x2x4x8xf32>, tensor<4x4x16xf32>)
// CHECK-NEXT:    %[[RESHAPE:.*]] = dsp.reshape %[[X]] : tensor<2x4x8xf32> -> tensor<8x8xf32>
// CHECK-NEXT:    %[[TRANSPOSE:.*]] = dsp.transpose %[[X]] perm [2, 0, 1] : tensor<2x4x8xf32> -> tensor<8x2x4xf32>
// CHECK-NEXT:    %[[CONCAT:.*]] = dsp.concat %[[X]], %[[Y]] {axis = 1 : i64} : (tensor<2x4x8xf32>, tensor<2x3x8xf32>) -> tensor<2x7x8xf32>
// CHECK-NEXT:    %[[SLICE:.*]] = dsp.slice %[[X]] {limits = array<i64: 2, -1, 8>, starts = array<i64: 0, 3, 1>, strides = array<i64: 1, -2, 3>} : tensor<2x4x8xf32> -> tensor<2x2x3xf32>
// CHECK-NEXT:    %[[GATHER:.*]] = dsp.gather %[[X]], %[[I]] {axis = 1 : i64} : tensor<2x4x8xf32>, tensor<5xi64> -> tensor<2x5x8xf32>
// CHECK-NEXT:    %[[GATHER1:.*]] = dsp.gather %[[Y]], %[[J]] {axis = 1 : i64} : tensor<2x3x8xf32>, tensor<2x3xi32> -> tensor<2x2x3x8xf32>
// CHECK-NEXT:    %[[EXPAND:.*]] = dsp.expand %[[X]] : tensor<2x4x8xf32> -> tensor<3x2x4x8xf32>
// CHECK-NEXT:    %[[TILE:.*]] = dsp.tile %[[X]] {repeats = array<i64: 2, 1, 2>} : tensor<2x4x8xf32> -> tensor<4x4x16xf32>
// CHECK-NEXT:    return %[[RESHAPE]], %[[TRANSPOSE]], %[[CONCAT]], %[[SLICE]], %[[GATHER]], %[[GATHER1]], %[[EXPAND]], %[[TILE]] : tensor<8x8xf32>, tensor<8x2x4xf32>, tensor<2x7x8xf32>, tensor<2x2x3xf32>, tensor<2x5x8xf32>, tensor<2x2x3x8xf32>, tensor<3x2x4x8xf32>, tensor<4x4x16xf32>
func.func @data_movement(%x: tensor<2x4x8xf32>, %y: tensor<2x3x8xf32>, %i: tensor<5xi64>, %j: tensor<2x3xi32>) -> (tensor<8x8xf32>, tensor<8x2x4xf32>, tensor<2x7x8xf32>, tensor<2x2x3xf32>, tensor<2x5x8xf32>, tensor<2x2x3x8xf32>, tensor<3x2x4x8xf32>, tensor<4x4x16xf32>) {
  %0 = dsp.reshape %x : tensor<2x4x8xf32> -> tensor<8x8xf32>
  %1 = dsp.transpose %x perm [2, 0, 1] : tensor<2x4x8xf32> -> tensor<8x2x4xf32>
  %2 = dsp.concat %x, %y {axis = 1 : i64} : (tensor<2x4x8xf32>, tensor<2x3x8xf32>) -> tensor<2x7x8xf32>
  %3 = dsp.slice %x {limits = array<i64: 2, -1, 8>, starts = array<i64: 0, 3, 1>, strides = array<i64: 1, -2, 3>} : tensor<2x4x8xf32> -> tensor<2x2x3xf32>
  %4 = dsp.gather %x, %i {axis = 1 : i64} : tensor<2x4x8xf32>, tensor<5xi64> -> tensor<2x5x8xf32>
  %5 = dsp.gather %y, %j {axis = 1 : i64} : tensor<2x3x8xf32>, tensor<2x3xi32> -> tensor<2x2x3x8xf32>
  %6 = dsp.expand %x : tensor<2x4x8xf32> -> tensor<3x2x4x8xf32>
  %7 = dsp.tile %x {repeats = array<i64: 2, 1, 2>} : tensor<2x4x8xf32> -> tensor<4x4x16xf32>
  return %0, %1, %2, %3, %4, %5, %6, %7 : tensor<8x8xf32>, tensor<8x2x4xf32>, tensor<2x7x8xf32>, tensor<2x2x3xf32>, tensor<2x5x8xf32>, tensor<2x2x3x8xf32>, tensor<3x2x4x8xf32>, tensor<4x4x16xf32>
}

// CHECK-LABEL: func.func @collectives(
// CHECK-SAME:      %[[X:[^:]*]]: tensor<2x8x16xf32>) -> tensor<2x8x16xf32>
// CHECK-NEXT:    %[[LOCAL_SLICE:.*]] = dsp.local_slice %[[X]] dim 1 {dsp.sharding = [#dsp.shard<dim = 1>]} : tensor<2x8x16xf32>
// CHECK-NEXT:    %[[ALL_TO_ALL:.*]] = dsp.all_to_all %[[LOCAL_SLICE]] split 2 concat 1 {dsp.sharding = [#dsp.shard<dim = 2>]} : tensor<2x8x16xf32>
// CHECK-NEXT:    %[[ALL_GATHER:.*]] = dsp.all_gather %[[ALL_TO_ALL]] dim 2 {dsp.sharding = [#dsp.shard<replicated>]} : tensor<2x8x16xf32>
// CHECK-NEXT:    %[[EXP:.*]] = dsp.exp %[[ALL_GATHER]] {dsp.sharding = [#dsp.shard<partial>]} : tensor<2x8x16xf32>
// CHECK-NEXT:    %[[REDUCE_SCATTER:.*]] = dsp.reduce_scatter %[[EXP]] dim 0 sum {dsp.sharding = [#dsp.shard<dim = 0, pad = 2>]} : tensor<2x8x16xf32>
// CHECK-NEXT:    %[[ALL_REDUCE:.*]] = dsp.all_reduce %[[EXP]] max {dsp.sharding = [#dsp.shard<replicated>]} : tensor<2x8x16xf32>
// CHECK-NEXT:    %[[ALL_REDUCE1:.*]] = dsp.all_reduce %[[REDUCE_SCATTER]] sum : tensor<2x8x16xf32>
// CHECK-NEXT:    %[[ALL_GATHER1:.*]] = dsp.all_gather %[[ALL_REDUCE1]] dim 0 : tensor<2x8x16xf32>
// CHECK-NEXT:    return %[[ALL_GATHER1]] : tensor<2x8x16xf32>
func.func @collectives(%x: tensor<2x8x16xf32>) -> tensor<2x8x16xf32> {
  %0 = dsp.local_slice %x dim 1 {dsp.sharding = [#dsp.shard<dim = 1>]} : tensor<2x8x16xf32>
  %1 = dsp.all_to_all %0 split 2 concat 1 {dsp.sharding = [#dsp.shard<dim = 2>]} : tensor<2x8x16xf32>
  %2 = dsp.all_gather %1 dim 2 {dsp.sharding = [#dsp.shard<replicated>]} : tensor<2x8x16xf32>
  %3 = dsp.exp %2 {dsp.sharding = [#dsp.shard<partial>]} : tensor<2x8x16xf32>
  %4 = dsp.reduce_scatter %3 dim 0 sum {dsp.sharding = [#dsp.shard<dim = 0, pad = 2>]} : tensor<2x8x16xf32>
  %5 = dsp.all_reduce %3 max {dsp.sharding = [#dsp.shard<replicated>]} : tensor<2x8x16xf32>
  %6 = dsp.all_reduce %4 sum : tensor<2x8x16xf32>
  %7 = dsp.all_gather %6 dim 0 : tensor<2x8x16xf32>
  return %7 : tensor<2x8x16xf32>
}

// CHECK-LABEL: func.func @shardings(
// CHECK-SAME:      %[[X:[^:]*]]: tensor<2x24x16xf32>) -> (tensor<2x24x16xf32>, tensor<2x24x16xf32>, tensor<2x24x16xf32>, tensor<2x24x16xf32>)
// CHECK-NEXT:    %[[NEG:.*]] = dsp.neg %[[X]] {dsp.sharding = [#dsp.shard<dim = 1, factors = [8, 3], factor = 0>]} : tensor<2x24x16xf32>
// CHECK-NEXT:    %[[NEG1:.*]] = dsp.neg %[[X]] {dsp.sharding = [#dsp.shard<dim = 1, factors = [2, 4, 3], factor = 2, pad = 1>]} : tensor<2x24x16xf32>
// CHECK-NEXT:    %[[NEG2:.*]] = dsp.neg %[[X]] {dsp.sharding = [#dsp.shard<dim = 2>]} : tensor<2x24x16xf32>
// CHECK-NEXT:    %[[NEG3:.*]] = dsp.neg %[[X]] {dsp.sharding = [#dsp.shard<dim = 0, pad = 2>], other = "kept"} : tensor<2x24x16xf32>
// CHECK-NEXT:    return %[[NEG]], %[[NEG1]], %[[NEG2]], %[[NEG3]] : tensor<2x24x16xf32>, tensor<2x24x16xf32>, tensor<2x24x16xf32>, tensor<2x24x16xf32>
func.func @shardings(%x: tensor<2x24x16xf32>) -> (tensor<2x24x16xf32>, tensor<2x24x16xf32>, tensor<2x24x16xf32>, tensor<2x24x16xf32>) {
  %0 = dsp.neg %x {dsp.sharding = [#dsp.shard<dim = 1, factors = [8, 3], factor = 0>]} : tensor<2x24x16xf32>
  %1 = dsp.neg %x {dsp.sharding = [#dsp.shard<dim = 1, factors = [2, 4, 3], factor = 2, pad = 1>]} : tensor<2x24x16xf32>
  %2 = dsp.neg %x {dsp.sharding = [#dsp.shard<dim = 2, pad = 0>]} : tensor<2x24x16xf32>
  %3 = dsp.neg %x {dsp.sharding = [#dsp.shard<dim = 0, pad = 2>], other = "kept"} : tensor<2x24x16xf32>
  return %0, %1, %2, %3 : tensor<2x24x16xf32>, tensor<2x24x16xf32>, tensor<2x24x16xf32>, tensor<2x24x16xf32>
}
}

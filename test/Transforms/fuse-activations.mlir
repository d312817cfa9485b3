// RUN: dsp-opt %s --dsp-fuse-activations -canonicalize -split-input-file | FileCheck %s

// x * 0.5 * (1 + erf(x / sqrt(2))), as exporters write GELU.
// CHECK-LABEL: func.func @gelu_erf(
// CHECK-SAME: %[[X:[^:]+]]: tensor<2x8xf32>)
// CHECK-NEXT: %[[G:.+]] = dsp.gelu %[[X]] : tensor<2x8xf32>
// CHECK-NEXT: return %[[G]]
func.func @gelu_erf(%x: tensor<2x8xf32>) -> tensor<2x8xf32> {
  %sqrt2 = dsp.constant dense<1.41421354> : tensor<f32>
  %one = dsp.constant dense<1.0> : tensor<f32>
  %half = dsp.constant dense<0.5> : tensor<f32>
  %0 = dsp.div %x, %sqrt2 : tensor<2x8xf32>, tensor<f32> -> tensor<2x8xf32>
  %1 = dsp.erf %0 : tensor<2x8xf32>
  %2 = dsp.add %1, %one : tensor<2x8xf32>, tensor<f32> -> tensor<2x8xf32>
  %3 = dsp.mul %x, %2 : tensor<2x8xf32>, tensor<2x8xf32> -> tensor<2x8xf32>
  %4 = dsp.mul %3, %half : tensor<2x8xf32>, tensor<f32> -> tensor<2x8xf32>
  return %4 : tensor<2x8xf32>
}

// The other order: 0.5 * x first, erf(x * 1/sqrt(2)), the one on the left.
// CHECK-LABEL: func.func @gelu_erf_reordered(
// CHECK-SAME: %[[X:[^:]+]]: tensor<4xf32>)
// CHECK-NEXT: %[[G:.+]] = dsp.gelu %[[X]] : tensor<4xf32>
// CHECK-NEXT: return %[[G]]
func.func @gelu_erf_reordered(%x: tensor<4xf32>) -> tensor<4xf32> {
  %rsqrt2 = dsp.constant dense<0.707106769> : tensor<f32>
  %one = dsp.constant dense<1.0> : tensor<f32>
  %half = dsp.constant dense<0.5> : tensor<f32>
  %0 = dsp.mul %half, %x : tensor<f32>, tensor<4xf32> -> tensor<4xf32>
  %1 = dsp.mul %rsqrt2, %x : tensor<f32>, tensor<4xf32> -> tensor<4xf32>
  %2 = dsp.erf %1 : tensor<4xf32>
  %3 = dsp.add %one, %2 : tensor<f32>, tensor<4xf32> -> tensor<4xf32>
  %4 = dsp.mul %0, %3 : tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>
  return %4 : tensor<4xf32>
}

// -----

// The tanh form as ViViT exports it: x*0.5, x*0.7978846, x*0.044715*x, +1,
// *, tanh, +1, *.
// CHECK-LABEL: func.func @gelu_tanh(
// CHECK-SAME: %[[X:[^:]+]]: tensor<1x3x8xf32>)
// CHECK-NEXT: %[[G:.+]] = dsp.gelu %[[X]] {approximate = "tanh"} : tensor<1x3x8xf32>
// CHECK-NEXT: return %[[G]]
func.func @gelu_tanh(%x: tensor<1x3x8xf32>) -> tensor<1x3x8xf32> {
  %half = dsp.constant dense<0.5> : tensor<f32>
  %c0 = dsp.constant dense<0.797884583> : tensor<f32>
  %c1 = dsp.constant dense<4.471500e-02> : tensor<f32>
  %one = dsp.constant dense<1.0> : tensor<f32>
  %0 = dsp.mul %x, %half : tensor<1x3x8xf32>, tensor<f32> -> tensor<1x3x8xf32>
  %1 = dsp.mul %x, %c0 : tensor<1x3x8xf32>, tensor<f32> -> tensor<1x3x8xf32>
  %2 = dsp.mul %x, %c1 : tensor<1x3x8xf32>, tensor<f32> -> tensor<1x3x8xf32>
  %3 = dsp.mul %2, %x : tensor<1x3x8xf32>, tensor<1x3x8xf32> -> tensor<1x3x8xf32>
  %4 = dsp.add %3, %one : tensor<1x3x8xf32>, tensor<f32> -> tensor<1x3x8xf32>
  %5 = dsp.mul %1, %4 : tensor<1x3x8xf32>, tensor<1x3x8xf32> -> tensor<1x3x8xf32>
  %6 = dsp.tanh %5 : tensor<1x3x8xf32>
  %7 = dsp.add %6, %one : tensor<1x3x8xf32>, tensor<f32> -> tensor<1x3x8xf32>
  %8 = dsp.mul %0, %7 : tensor<1x3x8xf32>, tensor<1x3x8xf32> -> tensor<1x3x8xf32>
  return %8 : tensor<1x3x8xf32>
}

// -----

// CHECK-LABEL: func.func @silu(
// CHECK-SAME: %[[X:[^:]+]]: tensor<2x8xf32>)
// CHECK-NEXT: %[[S:.+]] = dsp.silu %[[X]] : tensor<2x8xf32>
// CHECK-NEXT: return %[[S]]
func.func @silu(%x: tensor<2x8xf32>) -> tensor<2x8xf32> {
  %0 = dsp.sigmoid %x : tensor<2x8xf32>
  %1 = dsp.mul %x, %0 : tensor<2x8xf32>, tensor<2x8xf32> -> tensor<2x8xf32>
  return %1 : tensor<2x8xf32>
}

// Two activations in a row, each fused on its own input.
// CHECK-LABEL: func.func @silu_then_gelu(
// CHECK-SAME: %[[X:[^:]+]]: tensor<2x8xf32>)
// CHECK-NEXT: %[[S:.+]] = dsp.silu %[[X]] : tensor<2x8xf32>
// CHECK-NEXT: %[[G:.+]] = dsp.gelu %[[S]] : tensor<2x8xf32>
// CHECK-NEXT: return %[[G]]
func.func @silu_then_gelu(%x: tensor<2x8xf32>) -> tensor<2x8xf32> {
  %sqrt2 = dsp.constant dense<1.41421354> : tensor<f32>
  %one = dsp.constant dense<1.0> : tensor<f32>
  %half = dsp.constant dense<0.5> : tensor<f32>
  %s0 = dsp.sigmoid %x : tensor<2x8xf32>
  %y = dsp.mul %s0, %x : tensor<2x8xf32>, tensor<2x8xf32> -> tensor<2x8xf32>
  %0 = dsp.div %y, %sqrt2 : tensor<2x8xf32>, tensor<f32> -> tensor<2x8xf32>
  %1 = dsp.erf %0 : tensor<2x8xf32>
  %2 = dsp.add %1, %one : tensor<2x8xf32>, tensor<f32> -> tensor<2x8xf32>
  %3 = dsp.mul %y, %2 : tensor<2x8xf32>, tensor<2x8xf32> -> tensor<2x8xf32>
  %4 = dsp.mul %3, %half : tensor<2x8xf32>, tensor<f32> -> tensor<2x8xf32>
  return %4 : tensor<2x8xf32>
}

// -----

// Near misses.

// 0.6 instead of 0.5: not GELU.
// CHECK-LABEL: func.func @gelu_wrong_constant(
// CHECK-NOT: dsp.gelu
// CHECK: dsp.erf
// CHECK: return
func.func @gelu_wrong_constant(%x: tensor<2x8xf32>) -> tensor<2x8xf32> {
  %sqrt2 = dsp.constant dense<1.41421354> : tensor<f32>
  %one = dsp.constant dense<1.0> : tensor<f32>
  %c = dsp.constant dense<0.6> : tensor<f32>
  %0 = dsp.div %x, %sqrt2 : tensor<2x8xf32>, tensor<f32> -> tensor<2x8xf32>
  %1 = dsp.erf %0 : tensor<2x8xf32>
  %2 = dsp.add %1, %one : tensor<2x8xf32>, tensor<f32> -> tensor<2x8xf32>
  %3 = dsp.mul %x, %2 : tensor<2x8xf32>, tensor<2x8xf32> -> tensor<2x8xf32>
  %4 = dsp.mul %3, %c : tensor<2x8xf32>, tensor<f32> -> tensor<2x8xf32>
  return %4 : tensor<2x8xf32>
}

// The tanh form with 0.05 for 0.044715.
// CHECK-LABEL: func.func @gelu_tanh_wrong_constant(
// CHECK-NOT: dsp.gelu
// CHECK: dsp.tanh
// CHECK: return
func.func @gelu_tanh_wrong_constant(%x: tensor<8xf32>) -> tensor<8xf32> {
  %half = dsp.constant dense<0.5> : tensor<f32>
  %c0 = dsp.constant dense<0.797884583> : tensor<f32>
  %c1 = dsp.constant dense<5.000000e-02> : tensor<f32>
  %one = dsp.constant dense<1.0> : tensor<f32>
  %0 = dsp.mul %x, %half : tensor<8xf32>, tensor<f32> -> tensor<8xf32>
  %1 = dsp.mul %x, %c0 : tensor<8xf32>, tensor<f32> -> tensor<8xf32>
  %2 = dsp.mul %x, %c1 : tensor<8xf32>, tensor<f32> -> tensor<8xf32>
  %3 = dsp.mul %2, %x : tensor<8xf32>, tensor<8xf32> -> tensor<8xf32>
  %4 = dsp.add %3, %one : tensor<8xf32>, tensor<f32> -> tensor<8xf32>
  %5 = dsp.mul %1, %4 : tensor<8xf32>, tensor<8xf32> -> tensor<8xf32>
  %6 = dsp.tanh %5 : tensor<8xf32>
  %7 = dsp.add %6, %one : tensor<8xf32>, tensor<f32> -> tensor<8xf32>
  %8 = dsp.mul %0, %7 : tensor<8xf32>, tensor<8xf32> -> tensor<8xf32>
  return %8 : tensor<8xf32>
}

// erf's result is also returned: fusing would compute it twice.
// CHECK-LABEL: func.func @gelu_intermediate_escapes(
// CHECK-NOT: dsp.gelu
// CHECK: %[[E:.+]] = dsp.erf
// CHECK: return %{{.+}}, %[[E]]
func.func @gelu_intermediate_escapes(%x: tensor<2x8xf32>) -> (tensor<2x8xf32>, tensor<2x8xf32>) {
  %sqrt2 = dsp.constant dense<1.41421354> : tensor<f32>
  %one = dsp.constant dense<1.0> : tensor<f32>
  %half = dsp.constant dense<0.5> : tensor<f32>
  %0 = dsp.div %x, %sqrt2 : tensor<2x8xf32>, tensor<f32> -> tensor<2x8xf32>
  %1 = dsp.erf %0 : tensor<2x8xf32>
  %2 = dsp.add %1, %one : tensor<2x8xf32>, tensor<f32> -> tensor<2x8xf32>
  %3 = dsp.mul %x, %2 : tensor<2x8xf32>, tensor<2x8xf32> -> tensor<2x8xf32>
  %4 = dsp.mul %3, %half : tensor<2x8xf32>, tensor<f32> -> tensor<2x8xf32>
  return %4, %1 : tensor<2x8xf32>, tensor<2x8xf32>
}

// sigmoid(x) * y is not SiLU.
// CHECK-LABEL: func.func @silu_other_operand(
// CHECK-NOT: dsp.silu
// CHECK: dsp.sigmoid
// CHECK: return
func.func @silu_other_operand(%x: tensor<2x8xf32>, %y: tensor<2x8xf32>) -> tensor<2x8xf32> {
  %0 = dsp.sigmoid %x : tensor<2x8xf32>
  %1 = dsp.mul %y, %0 : tensor<2x8xf32>, tensor<2x8xf32> -> tensor<2x8xf32>
  return %1 : tensor<2x8xf32>
}

// RUN: dsp-opt %s --verify-roundtrip | FileCheck %s
// RUN: dsp-opt %s --verify-roundtrip --mlir-print-op-generic | dsp-opt --verify-roundtrip | FileCheck %s

// Round trip of the ops that exist in per-rank IR only, in their custom form.

// CHECK: module attributes {dsp.group = #dsp.group<ranks = 2, per_rank = true>} {
module attributes {dsp.group = #dsp.group<ranks = 2, per_rank = true>} {

// CHECK-LABEL: func.func @linear(
// CHECK-SAME:      %[[A:[^:]*]]: tensor<2x4x8xf32>, %[[W:[^:]*]]: tensor<8x16xf32>, %[[B:[^:]*]]: tensor<16xf32>, %[[R:[^:]*]]: tensor<2x4x16xf32>) -> (tensor<2x4x16xf32>, tensor<2x4x16xf32>)
// CHECK-NEXT:    %[[LINEAR:.*]] = dsp.linear %[[A]], %[[W]] bias %[[B]] : (tensor<2x4x8xf32>, tensor<8x16xf32>, tensor<16xf32>) -> tensor<2x4x16xf32>
// CHECK-NEXT:    %[[LINEAR1:.*]] = dsp.linear %[[A]], %[[W]] bias %[[B]] residual %[[R]] {activation = "gelu_tanh"} : (tensor<2x4x8xf32>, tensor<8x16xf32>, tensor<16xf32>, tensor<2x4x16xf32>) -> tensor<2x4x16xf32>
// CHECK-NEXT:    return %[[LINEAR]], %[[LINEAR1]] : tensor<2x4x16xf32>, tensor<2x4x16xf32>
func.func @linear(%a: tensor<2x4x8xf32>, %w: tensor<8x16xf32>, %b: tensor<16xf32>, %r: tensor<2x4x16xf32>) -> (tensor<2x4x16xf32>, tensor<2x4x16xf32>) {
  %0 = dsp.linear %a, %w bias %b : (tensor<2x4x8xf32>, tensor<8x16xf32>, tensor<16xf32>) -> tensor<2x4x16xf32>
  %1 = dsp.linear %a, %w bias %b residual %r {activation = "gelu_tanh"} : (tensor<2x4x8xf32>, tensor<8x16xf32>, tensor<16xf32>, tensor<2x4x16xf32>) -> tensor<2x4x16xf32>
  return %0, %1 : tensor<2x4x16xf32>, tensor<2x4x16xf32>
}

}

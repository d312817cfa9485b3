// RUN: dsp-opt %s -canonicalize | FileCheck %s

// A weight that only transposes and slices read is stored rearranged, so
// that no run transposes it (exporters write x W^T as a Transpose node of
// the [out, in] weight); one that another op reads too stays as it is, so
// that folding never copies weights.

// CHECK-LABEL: func.func @transposed_weight(
// CHECK-NEXT:    %[[W:.*]] = dsp.constant dense_resource<[[T:[^>]*]]> : tensor<3x2xf32>
// CHECK-NEXT:    %[[Y:.*]] = dsp.matmul %{{.*}}, %[[W]]
// CHECK-NEXT:    return %[[Y]]
func.func @transposed_weight(%x: tensor<4x3xf32>) -> tensor<4x2xf32> {
  %w = dsp.constant dense_resource<w> : tensor<2x3xf32>
  %t = dsp.transpose %w perm [1, 0] : tensor<2x3xf32> -> tensor<3x2xf32>
  %y = dsp.matmul %x, %t : tensor<4x3xf32>, tensor<3x2xf32> -> tensor<4x2xf32>
  return %y : tensor<4x2xf32>
}

// The rows of a fused weight, each sliced off and transposed.
// CHECK-LABEL: func.func @sliced_weight(
// CHECK-DAG:     dsp.constant dense_resource<[[A:[^>]*]]> : tensor<2x2xf32>
// CHECK-DAG:     dsp.constant dense_resource<[[B:[^>]*]]> : tensor<2x2xf32>
// CHECK-NOT:     dsp.slice
// CHECK-NOT:     dsp.transpose
// CHECK:         return
func.func @sliced_weight(%x: tensor<4x2xf32>) -> (tensor<4x2xf32>, tensor<4x2xf32>) {
  %w = dsp.constant dense_resource<v> : tensor<4x2xf32>
  %a = dsp.slice %w {starts = array<i64: 0, 0>, limits = array<i64: 2, 2>, strides = array<i64: 1, 1>} : tensor<4x2xf32> -> tensor<2x2xf32>
  %b = dsp.slice %w {starts = array<i64: 2, 0>, limits = array<i64: 4, 2>, strides = array<i64: 1, 1>} : tensor<4x2xf32> -> tensor<2x2xf32>
  %at = dsp.transpose %a perm [1, 0] : tensor<2x2xf32> -> tensor<2x2xf32>
  %bt = dsp.transpose %b perm [1, 0] : tensor<2x2xf32> -> tensor<2x2xf32>
  %ya = dsp.matmul %x, %at : tensor<4x2xf32>, tensor<2x2xf32> -> tensor<4x2xf32>
  %yb = dsp.matmul %x, %bt : tensor<4x2xf32>, tensor<2x2xf32> -> tensor<4x2xf32>
  return %ya, %yb : tensor<4x2xf32>, tensor<4x2xf32>
}

// The weight is also read as it is: the transpose stays.
// CHECK-LABEL: func.func @weight_read_twice(
// CHECK:         dsp.transpose
func.func @weight_read_twice(%x: tensor<3x3xf32>) -> (tensor<3x3xf32>, tensor<3x3xf32>) {
  %w = dsp.constant dense_resource<u> : tensor<3x3xf32>
  %t = dsp.transpose %w perm [1, 0] : tensor<3x3xf32> -> tensor<3x3xf32>
  %a = dsp.matmul %x, %t : tensor<3x3xf32>, tensor<3x3xf32> -> tensor<3x3xf32>
  %b = dsp.matmul %x, %w : tensor<3x3xf32>, tensor<3x3xf32> -> tensor<3x3xf32>
  return %a, %b : tensor<3x3xf32>, tensor<3x3xf32>
}

// A blob shorter than its type (hostile input) is left for the program
// writer to report, never read past its end.
// CHECK-LABEL: func.func @short_blob(
// CHECK:         dsp.transpose
func.func @short_blob() -> tensor<3x2xf32> {
  %w = dsp.constant dense_resource<s> : tensor<2x3xf32>
  %t = dsp.transpose %w perm [1, 0] : tensor<2x3xf32> -> tensor<3x2xf32>
  return %t : tensor<3x2xf32>
}

// 1 2 3 / 4 5 6 becomes 1 4 / 2 5 / 3 6; 1 2 / 3 4 / 5 6 / 7 8 becomes
// 1 3 / 2 4 and 5 7 / 6 8.
// CHECK:      dialect_resources
// CHECK-DAG:  [[T]]: "0x040000000000803F00008040000000400000A040000040400000C040"
// CHECK-DAG:  [[A]]: "0x040000000000803F000040400000004000008040"
// CHECK-DAG:  [[B]]: "0x040000000000A0400000E0400000C04000000041"
{-#
  dialect_resources: {
    builtin: {
      w: "0x040000000000803F0000004000004040000080400000A0400000C040",
      v: "0x040000000000803F0000004000004040000080400000A0400000C0400000E04000000041",
      s: "0x040000000000803F",
      u: "0x040000000000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F"
    }
  }
#-}

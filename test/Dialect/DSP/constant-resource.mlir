// RUN: dsp-opt %s | dsp-opt | FileCheck %s

// Weights are dense_resource blobs: their bytes stay in the resource section
// and survive a print and a parse. (--verify-roundtrip cannot check this
// file: reparsing into the same context renames the blob.)

// CHECK-LABEL: func.func @constant_resource()
// CHECK-NEXT:    %[[W:.*]] = dsp.constant dense_resource<blob> : tensor<2xf32>
// CHECK-NEXT:    return %[[W]] : tensor<2xf32>
func.func @constant_resource() -> tensor<2xf32> {
  %0 = dsp.constant dense_resource<blob> : tensor<2xf32>
  return %0 : tensor<2xf32>
}

// CHECK:      dialect_resources: {
// CHECK-NEXT:   builtin: {
// CHECK-NEXT:     blob: "0x040000000000803F00000040"
// CHECK-NEXT:   }
// CHECK-NEXT: }

{-#
  dialect_resources: {
    builtin: {
      blob: "0x040000000000803F00000040"
    }
  }
#-}

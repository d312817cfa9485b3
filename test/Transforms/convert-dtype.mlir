// RUN: dsp-opt %s -split-input-file --dsp-convert-dtype=dtype=bf16 | FileCheck %s --check-prefix=BF16
// RUN: dsp-opt %s -split-input-file --dsp-convert-dtype=dtype=f16 | FileCheck %s --check-prefix=F16
// RUN: dsp-opt %s -split-input-file --dsp-convert-dtype=dtype=f32 | FileCheck %s --check-prefix=F32
// RUN: not dsp-opt %s -split-input-file --dsp-convert-dtype=dtype=f64 2>&1 | FileCheck %s --check-prefix=BAD

// Arguments, results, op results and constants change; integer and boolean
// tensors do not. Values round to nearest, ties to even: in bf16, 1 + 2^-8
// lies halfway between 1 and 1 + 2^-7 and goes down to the even 1;
// 1 + 3 * 2^-8 lies halfway between 1 + 2^-7 and 1 + 2^-6 and goes up to
// the even 1 + 2^-6 (1.015625). f16 holds both.
// BF16-LABEL: func.func @convert(
// BF16-SAME:      %{{.*}}: tensor<2x4xbf16>, %{{.*}}: tensor<2x4xi64>) -> (tensor<2x4xbf16>, tensor<2x4xi1>)
// BF16-DAG:     dsp.constant dense<[1.000000e+00, 1.015630e+00, 2.000000e+00, 1.000000e+00]> : tensor<4xbf16>
// BF16-DAG:     dsp.constant dense<2.500000e-01> : tensor<bf16>
// BF16:         dsp.add %{{.*}} : tensor<2x4xbf16>, tensor<4xbf16> -> tensor<2x4xbf16>
// BF16:         dsp.cast %{{.*}} : tensor<2x4xi64> -> tensor<2x4xbf16>
// BF16:         dsp.less %{{.*}} : tensor<2x4xbf16>, tensor<2x4xbf16> -> tensor<2x4xi1>
// F16-LABEL: func.func @convert(
// F16-SAME:      %{{.*}}: tensor<2x4xf16>, %{{.*}}: tensor<2x4xi64>) -> (tensor<2x4xf16>, tensor<2x4xi1>)
// F16-DAG:     dsp.constant dense<[1.003910e+00, 1.011720e+00, 2.000000e+00, 1.000000e+00]> : tensor<4xf16>
// F32-LABEL: func.func @convert(
// F32-SAME:      %{{.*}}: tensor<2x4xf32>
// F32:         dsp.constant dense<[1.00390625, 1.01171875, 2.000000e+00, 1.000000e+00]> : tensor<4xf32>
// BAD: unknown dtype 'f64', expected f32, bf16 or f16
func.func @convert(%x: tensor<2x4xf32>, %i: tensor<2x4xi64>) -> (tensor<2x4xf32>, tensor<2x4xi1>) {
  %c = dsp.constant dense<[1.00390625, 1.01171875, 2.0, 1.0]> : tensor<4xf32>
  %q = dsp.constant dense<0.25> : tensor<f32>
  %0 = dsp.add %x, %c : tensor<2x4xf32>, tensor<4xf32> -> tensor<2x4xf32>
  %1 = dsp.mul %0, %q : tensor<2x4xf32>, tensor<f32> -> tensor<2x4xf32>
  %2 = dsp.cast %i : tensor<2x4xi64> -> tensor<2x4xf32>
  %3 = dsp.less %1, %2 : tensor<2x4xf32>, tensor<2x4xf32> -> tensor<2x4xi1>
  return %1, %3 : tensor<2x4xf32>, tensor<2x4xi1>
}

// -----

// Weights held as resource blobs are converted into a new blob; the values
// are 1.0 and 2.0 in f32 (0x3F800000, 0x40000000), 0x3F80 and 0x4000 in
// bf16.
// BF16-LABEL: func.func @blob(
// BF16:         dsp.constant dense_resource<[[W:.*]]> : tensor<2xbf16>
// BF16:       [[W]]: "0x02000000803F0040"
func.func @blob(%x: tensor<2xf32>) -> tensor<2xf32> {
  %w = dsp.constant dense_resource<w> : tensor<2xf32>
  %0 = dsp.add %x, %w : tensor<2xf32>, tensor<2xf32> -> tensor<2xf32>
  return %0 : tensor<2xf32>
}
{-#
  dialect_resources: {
    builtin: {
      w: "0x040000000000803F00000040"
    }
  }
#-}

// -----

// A sinusoidal embedding keeps its angles in f32: the timestep's cast, the
// frequencies and their product, sin and cos. bf16 would put 500 * freq off
// by radians. Casts narrow where they leave (the concat) and widen a
// narrowed value that joins them (the matmul's result).
// BF16-LABEL: func.func @angles(
// BF16-SAME:      %{{.*}}: tensor<1x1xi64>, %{{.*}}: tensor<1x4xbf16>, %{{.*}}: tensor<4x4xbf16>) -> tensor<1x8xbf16>
// BF16-DAG:     %[[FREQ:.*]] = dsp.constant dense<{{.*}}> : tensor<1x4xf32>
// BF16-DAG:     %[[T:.*]] = dsp.cast %{{.*}} : tensor<1x1xi64> -> tensor<1x1xf32>
// BF16:         %[[ARG:.*]] = dsp.mul %[[T]], %[[FREQ]] : tensor<1x1xf32>, tensor<1x4xf32> -> tensor<1x4xf32>
// BF16:         %[[P:.*]] = dsp.matmul %{{.*}} : tensor<1x4xbf16>, tensor<4x4xbf16> -> tensor<1x4xbf16>
// BF16:         %[[WIDE:.*]] = dsp.cast %[[P]] : tensor<1x4xbf16> -> tensor<1x4xf32>
// BF16:         %[[SHIFTED:.*]] = dsp.add %[[ARG]], %[[WIDE]] : tensor<1x4xf32>, tensor<1x4xf32> -> tensor<1x4xf32>
// BF16:         %[[SIN:.*]] = dsp.sin %[[SHIFTED]] : tensor<1x4xf32>
// BF16:         %[[COS:.*]] = dsp.cos %[[SHIFTED]] : tensor<1x4xf32>
// BF16-DAG:     %[[NSIN:.*]] = dsp.cast %[[SIN]] : tensor<1x4xf32> -> tensor<1x4xbf16>
// BF16-DAG:     %[[NCOS:.*]] = dsp.cast %[[COS]] : tensor<1x4xf32> -> tensor<1x4xbf16>
// BF16:         dsp.concat %[[NSIN]], %[[NCOS]] {axis = 1 : i64} : (tensor<1x4xbf16>, tensor<1x4xbf16>) -> tensor<1x8xbf16>
func.func @angles(%t: tensor<1x1xi64>, %x: tensor<1x4xf32>, %w: tensor<4x4xf32>) -> tensor<1x8xf32> {
  %freq = dsp.constant dense<[[1.0, 0.1, 0.01, 0.001]]> : tensor<1x4xf32>
  %0 = dsp.cast %t : tensor<1x1xi64> -> tensor<1x1xf32>
  %1 = dsp.mul %0, %freq : tensor<1x1xf32>, tensor<1x4xf32> -> tensor<1x4xf32>
  %2 = dsp.matmul %x, %w : tensor<1x4xf32>, tensor<4x4xf32> -> tensor<1x4xf32>
  %3 = dsp.add %1, %2 : tensor<1x4xf32>, tensor<1x4xf32> -> tensor<1x4xf32>
  %4 = dsp.sin %3 : tensor<1x4xf32>
  %5 = dsp.cos %3 : tensor<1x4xf32>
  %6 = dsp.concat %4, %5 {axis = 1 : i64} : (tensor<1x4xf32>, tensor<1x4xf32>) -> tensor<1x8xf32>
  return %6 : tensor<1x8xf32>
}

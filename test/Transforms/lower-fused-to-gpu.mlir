// RUN: dsp-opt %s -split-input-file --dsp-lower-fused-to-gpu | FileCheck %s

// A bias [C] broadcast over [N, C]: two dims, the bias read at row 0; rows
// on the grid's x, tiles of 256 columns on its y (a guard where 256 does
// not divide 1152). Inputs then results, one pointer each.
// CHECK-LABEL: module attributes {gpu.container_module}
// CHECK:         func.func @bias(
// CHECK-NEXT:      %[[L:.*]] = dsp.launch @fused_0_kernel::@fused_0_kernel grid [64, 5, 1] block [1, 256, 1](%arg0, %arg1) : (tensor<64x1152xf32>, tensor<1152xf32>) -> tensor<64x1152xf32>
// CHECK-NEXT:      return %[[L]]
// CHECK:         gpu.module @fused_0_kernel {
// CHECK-NEXT:      gpu.func @fused_0_kernel(%[[X:.*]]: memref<64x1152xf32>, %[[B:.*]]: memref<1x1152xf32>, %[[O:.*]]: memref<64x1152xf32>) kernel
// CHECK:             scf.if
// CHECK:               memref.load %[[X]]
// CHECK:               memref.load %[[B]][%c0,
// CHECK:               arith.addf
// CHECK:               math.erf
// CHECK:               memref.store %{{.*}}, %[[O]]
func.func @bias(%x: tensor<64x1152xf32>, %b: tensor<1152xf32>) -> tensor<64x1152xf32> {
  %0 = dsp.fused(%x, %b) : (tensor<64x1152xf32>, tensor<1152xf32>) -> tensor<64x1152xf32> {
  ^bb0(%a0: tensor<64x1152xf32>, %a1: tensor<1152xf32>):
    %1 = dsp.add %a0, %a1 : tensor<64x1152xf32>, tensor<1152xf32> -> tensor<64x1152xf32>
    %2 = dsp.gelu %1 : tensor<64x1152xf32>
    dsp.yield %2 : tensor<64x1152xf32>
  }
  return %0 : tensor<64x1152xf32>
}

// -----

// Same-shape operands merge into one dim; bf16 is widened to f32 on load
// and rounded once on store; the sharding of the result carries over.
// CHECK-LABEL: func.func @narrow(
// CHECK-NEXT:      dsp.launch @fused_0_kernel::@fused_0_kernel grid [16, 1, 1] block [256, 1, 1](%arg0, %arg1) {dsp.sharding = [#dsp.shard<dim = 0>]}
// CHECK:         gpu.func @fused_0_kernel(%{{.*}}: memref<4096xbf16>, %{{.*}}: memref<4096xbf16>, %{{.*}}: memref<4096xbf16>) kernel
// CHECK:           arith.extf %{{.*}} : bf16 to f32
// CHECK:           arith.extf %{{.*}} : bf16 to f32
// CHECK:           arith.mulf %{{.*}} : f32
// CHECK:           arith.truncf %{{.*}} : f32 to bf16
module attributes {dsp.group = #dsp.group<ranks = 2, per_rank = true>} {
  func.func @narrow(%x: tensor<4x32x32xbf16> {dsp.sharding = #dsp.shard<dim = 0>}, %y: tensor<4x32x32xbf16> {dsp.sharding = #dsp.shard<dim = 0>}) -> tensor<8x32x32xbf16> {
    %0 = dsp.fused(%x, %y) {dsp.sharding = [#dsp.shard<dim = 0>]} : (tensor<4x32x32xbf16>, tensor<4x32x32xbf16>) -> tensor<4x32x32xbf16> {
    ^bb0(%a0: tensor<4x32x32xbf16>, %a1: tensor<4x32x32xbf16>):
      %1 = dsp.silu %a0 : tensor<4x32x32xbf16>
      %2 = dsp.mul %1, %a1 : tensor<4x32x32xbf16>, tensor<4x32x32xbf16> -> tensor<4x32x32xbf16>
      dsp.yield %2 : tensor<4x32x32xbf16>
    }
    %3 = dsp.all_gather %0 dim 0 {dsp.sharding = [#dsp.shard<replicated>]} : tensor<4x32x32xbf16> -> tensor<8x32x32xbf16>
    return %3 : tensor<8x32x32xbf16>
  }
}

// -----

// Integer division by zero is 0 and casts from float saturate, as on cpu;
// a boolean result is stored as i1 (one byte).
// CHECK-LABEL: func.func @integers(
// CHECK:         gpu.func @fused_0_kernel(%{{.*}}: memref<8xi64>, %{{.*}}: memref<8xf32>, %{{.*}}: memref<8xi64>, %{{.*}}: memref<8xi1>) kernel
// CHECK:           arith.fptosi
// CHECK:           arith.divsi
// CHECK:           arith.select
// CHECK:           arith.cmpi slt
func.func @integers(%x: tensor<8xi64>, %y: tensor<8xf32>) -> (tensor<8xi64>, tensor<8xi1>) {
  %0:2 = dsp.fused(%x, %y) : (tensor<8xi64>, tensor<8xf32>) -> (tensor<8xi64>, tensor<8xi1>) {
  ^bb0(%a0: tensor<8xi64>, %a1: tensor<8xf32>):
    %1 = dsp.cast %a1 : tensor<8xf32> -> tensor<8xi64>
    %2 = dsp.div %a0, %1 : tensor<8xi64>, tensor<8xi64> -> tensor<8xi64>
    %3 = dsp.less %2, %a0 : tensor<8xi64>, tensor<8xi64> -> tensor<8xi1>
    dsp.yield %2, %3 : tensor<8xi64>, tensor<8xi1>
  }
  return %0#0, %0#1 : tensor<8xi64>, tensor<8xi1>
}

// -----

// Four merged dims (the second operand broadcast on dims 1 and 3) run as
// rows by columns: 24 rows, each operand indexed by the row's digits; the
// result is written as rows by columns. 70000 rows fit the grid's x.
// CHECK-LABEL: func.func @rows(
// CHECK-NEXT:      dsp.launch @fused_0_kernel::@fused_0_kernel grid [24, 1, 1] block [1, 32, 1]
// CHECK-NEXT:      dsp.launch @fused_1_kernel::@fused_1_kernel grid [70000, 1, 1] block [1, 32, 1]
// CHECK:         gpu.func @fused_0_kernel(%{{.*}}: memref<2x3x4x5xf32>, %[[Y:.*]]: memref<2x1x4x1xf32>, %[[O:.*]]: memref<24x5xf32>) kernel
// CHECK:           memref.load %[[Y]][%{{.*}}, %c0, %{{.*}}, %c0]
// CHECK:           memref.store %{{.*}}, %[[O]][%{{.*}}, %{{.*}}] : memref<24x5xf32>
func.func @rows(%x: tensor<2x3x4x5xf32>, %y: tensor<2x1x4x1xf32>, %a: tensor<70000x8xf32>, %b: tensor<8xf32>) -> (tensor<2x3x4x5xf32>, tensor<70000x8xf32>) {
  %0 = dsp.fused(%x, %y) : (tensor<2x3x4x5xf32>, tensor<2x1x4x1xf32>) -> tensor<2x3x4x5xf32> {
  ^bb0(%a0: tensor<2x3x4x5xf32>, %a1: tensor<2x1x4x1xf32>):
    %1 = dsp.add %a0, %a1 : tensor<2x3x4x5xf32>, tensor<2x1x4x1xf32> -> tensor<2x3x4x5xf32>
    dsp.yield %1 : tensor<2x3x4x5xf32>
  }
  %2 = dsp.fused(%a, %b) : (tensor<70000x8xf32>, tensor<8xf32>) -> tensor<70000x8xf32> {
  ^bb0(%a0: tensor<70000x8xf32>, %a1: tensor<8xf32>):
    %3 = dsp.mul %a0, %a1 : tensor<70000x8xf32>, tensor<8xf32> -> tensor<70000x8xf32>
    dsp.yield %3 : tensor<70000x8xf32>
  }
  return %0, %2 : tensor<2x3x4x5xf32>, tensor<70000x8xf32>
}

// -----

// A layer norm with its residual add and adaLN modulation: one block per
// row (2 * 64 rows on the grid's x), its 32 threads strided over the row's
// columns. The mean, then the mean square of (v - mean), each reduced
// across the block; the residual add is recomputed in each pass and the
// results are written once, in bf16.
// CHECK-LABEL: func.func @layer_norm_modulation(
// CHECK-NEXT:      %[[L:.*]]:2 = dsp.launch @fused_0_kernel::@fused_0_kernel grid [128, 1, 1] block [32, 1, 1](%arg0, %arg1, %arg2, %arg3, %arg4, %arg5)
// CHECK:         gpu.func @fused_0_kernel(%[[X:.*]]: memref<2x64x32xbf16>, %[[R:.*]]: memref<2x64x32xbf16>, %[[G:.*]]: memref<1x1x32xbf16>, %[[B:.*]]: memref<1x1x32xbf16>, %[[SC:.*]]: memref<2x1x32xbf16>, %[[SH:.*]]: memref<2x1x32xbf16>, %[[H:.*]]: memref<128x32xbf16>, %[[O:.*]]: memref<128x32xbf16>) kernel
// CHECK:           %[[ROW:.*]] = gpu.block_id  x
// CHECK:           scf.for
// CHECK-NOT:         memref.load %[[G]]
// CHECK:             memref.load %[[X]]
// CHECK:             memref.load %[[R]]
// CHECK:             arith.addf
// CHECK:           gpu.all_reduce  add
// CHECK:           arith.divf
// CHECK:           scf.for
// CHECK:             arith.subf
// CHECK:             arith.mulf
// CHECK:           gpu.all_reduce  add
// CHECK:           math.rsqrt
// CHECK:           scf.for
// CHECK-DAG:         memref.load %[[G]]
// CHECK-DAG:         memref.load %[[B]]
// CHECK-DAG:         memref.load %[[SC]]
// CHECK-DAG:         memref.load %[[SH]]
// CHECK:             arith.truncf %{{.*}} : f32 to bf16
// CHECK:             memref.store %{{.*}}, %[[H]][%[[ROW]],
// CHECK:             memref.store %{{.*}}, %[[O]][%[[ROW]],
func.func @layer_norm_modulation(%x: tensor<2x64x32xbf16>, %r: tensor<2x64x32xbf16>, %g: tensor<32xbf16>, %b: tensor<32xbf16>, %scale: tensor<2x1x32xbf16>, %shift: tensor<2x1x32xbf16>) -> (tensor<2x64x32xbf16>, tensor<2x64x32xbf16>) {
  %0:2 = dsp.fused(%x, %r, %g, %b, %scale, %shift) : (tensor<2x64x32xbf16>, tensor<2x64x32xbf16>, tensor<32xbf16>, tensor<32xbf16>, tensor<2x1x32xbf16>, tensor<2x1x32xbf16>) -> (tensor<2x64x32xbf16>, tensor<2x64x32xbf16>) {
  ^bb0(%a0: tensor<2x64x32xbf16>, %a1: tensor<2x64x32xbf16>, %a2: tensor<32xbf16>, %a3: tensor<32xbf16>, %a4: tensor<2x1x32xbf16>, %a5: tensor<2x1x32xbf16>):
    %1 = dsp.add %a0, %a1 : tensor<2x64x32xbf16>, tensor<2x64x32xbf16> -> tensor<2x64x32xbf16>
    %2 = dsp.layer_norm %1, %a2, %a3 {axis = 2 : i64, epsilon = 1.0e-6 : f64} : (tensor<2x64x32xbf16>, tensor<32xbf16>, tensor<32xbf16>) -> tensor<2x64x32xbf16>
    %3 = dsp.constant dense<1.0> : tensor<bf16>
    %4 = dsp.add %a4, %3 : tensor<2x1x32xbf16>, tensor<bf16> -> tensor<2x1x32xbf16>
    %5 = dsp.mul %2, %4 : tensor<2x64x32xbf16>, tensor<2x1x32xbf16> -> tensor<2x64x32xbf16>
    %6 = dsp.add %5, %a5 : tensor<2x64x32xbf16>, tensor<2x1x32xbf16> -> tensor<2x64x32xbf16>
    dsp.yield %1, %6 : tensor<2x64x32xbf16>, tensor<2x64x32xbf16>
  }
  return %0#0, %0#1 : tensor<2x64x32xbf16>, tensor<2x64x32xbf16>
}

// -----

// A softmax over rows of 1000: 256 threads per row, each over every 256th
// column; the maximum (NaN skipped), then the sum of exp(v - max); a row
// that is all -inf gives zeros. Rows of same-shape dims merge.
// CHECK-LABEL: func.func @softmax(
// CHECK-NEXT:      dsp.launch @fused_0_kernel::@fused_0_kernel grid [24, 1, 1] block [256, 1, 1](%arg0)
// CHECK:         gpu.func @fused_0_kernel(%{{.*}}: memref<24x1000xf32>, %{{.*}}: memref<24x1000xf32>) kernel
// CHECK:           gpu.all_reduce  maxnumf
// CHECK:           math.exp
// CHECK:           gpu.all_reduce  add
// CHECK:           scf.for
// CHECK:             math.exp
// CHECK:             arith.cmpf oeq
// CHECK:             arith.select
// CHECK:             memref.store
func.func @softmax(%x: tensor<2x12x1000xf32>) -> tensor<2x12x1000xf32> {
  %0 = dsp.fused(%x) : (tensor<2x12x1000xf32>) -> tensor<2x12x1000xf32> {
  ^bb0(%a0: tensor<2x12x1000xf32>):
    %1 = dsp.softmax %a0 {axis = 2 : i64} : tensor<2x12x1000xf32>
    dsp.yield %1 : tensor<2x12x1000xf32>
  }
  return %0 : tensor<2x12x1000xf32>
}

// -----

// The kernel takes the fused op's inputs and then its results, in order,
// as the runtime passes them, even where its body reads a later input
// first: here the row, in the passes that reduce it.
// CHECK-LABEL: func.func @parameter_order(
// CHECK-NEXT:      dsp.launch @fused_0_kernel::@fused_0_kernel grid [64, 1, 1] block [32, 1, 1](%arg0, %arg1)
// CHECK:         gpu.func @fused_0_kernel(%[[SHIFT:.*]]: memref<1x32xf32>, %[[X:.*]]: memref<64x32xf32>, %[[OUT:.*]]: memref<64x32xf32>) kernel
// CHECK:           scf.for
// CHECK:             memref.load %[[X]]
// CHECK:           gpu.all_reduce  add
// CHECK:           scf.for
// CHECK:             memref.load %[[X]]
// CHECK:           gpu.all_reduce  add
// CHECK:           scf.for
// CHECK-DAG:         memref.load %[[SHIFT]]
// CHECK-DAG:         memref.load %[[X]]
// CHECK:             memref.store %{{.*}}, %[[OUT]]
func.func @parameter_order(%shift: tensor<1x32xf32>, %x: tensor<64x32xf32>) -> tensor<64x32xf32> {
  %0 = dsp.fused(%shift, %x) : (tensor<1x32xf32>, tensor<64x32xf32>) -> tensor<64x32xf32> {
  ^bb0(%a0: tensor<1x32xf32>, %a1: tensor<64x32xf32>):
    %1 = dsp.constant dense<1.0> : tensor<32xf32>
    %2 = dsp.layer_norm %a1, %1 {axis = 1 : i64, epsilon = 1.0e-6 : f64} : (tensor<64x32xf32>, tensor<32xf32>) -> tensor<64x32xf32>
    %3 = dsp.add %2, %a0 : tensor<64x32xf32>, tensor<1x32xf32> -> tensor<64x32xf32>
    dsp.yield %3 : tensor<64x32xf32>
  }
  return %0 : tensor<64x32xf32>
}

// A value read by several ops is converted once for all of them. An axial
// block over a [rows, cols, dim] = [8, 16, 32] grid: row attention mixes
// the columns (batch: rows), column attention mixes the rows (batch:
// columns). The residual x1 after row attention is read by the column
// attention's input and by the final residual add; both want it on the
// columns, so one all_to_all serves both and the result is gathered from
// the columns. Charging each reader for its own conversion would make that
// cost two, the same as switching back, and the planner would then switch
// twice.
// RUN: dsp-opt %s --dsp-propagate-sharding="ranks=4 strategy=auto" --dsp-insert-reshards | FileCheck %s

// CHECK-LABEL: func.func @axial_block(
// CHECK-SAME:      {dsp.sharding = #dsp.shard<dim = 0>}
// CHECK-NOT:     dsp.all_to_all
// CHECK:         %[[X1:.*]] = dsp.add {{.*}} {dsp.sharding = [#dsp.shard<dim = 0>]}
// CHECK-NEXT:    %[[COLS:.*]] = dsp.all_to_all %[[X1]] split 1 concat 0 {dsp.sharding = [#dsp.shard<dim = 1>]} : tensor<8x16x32xf32>
// CHECK-NOT:     dsp.all_to_all
// CHECK:         dsp.add %[[COLS]], %{{.*}} {dsp.sharding = [#dsp.shard<dim = 1>]}
// CHECK-NEXT:    dsp.all_gather %{{.*}} dim 1
// CHECK-NOT:     dsp.read_sharding
func.func @axial_block(%x: tensor<8x16x32xf32>) -> tensor<8x16x32xf32> {
  %rq = dsp.reshape %x : tensor<8x16x32xf32> -> tensor<8x1x16x32xf32>
  %ra = dsp.attention %rq, %rq, %rq {scale = 0.125 : f64} : (tensor<8x1x16x32xf32>, tensor<8x1x16x32xf32>, tensor<8x1x16x32xf32>) -> tensor<8x1x16x32xf32>
  %ro = dsp.reshape %ra : tensor<8x1x16x32xf32> -> tensor<8x16x32xf32>
  %x1 = dsp.add %x, %ro : tensor<8x16x32xf32>, tensor<8x16x32xf32> -> tensor<8x16x32xf32>
  %t = dsp.transpose %x1 perm [1, 0, 2] : tensor<8x16x32xf32> -> tensor<16x8x32xf32>
  %cq = dsp.reshape %t : tensor<16x8x32xf32> -> tensor<16x1x8x32xf32>
  %ca = dsp.attention %cq, %cq, %cq {scale = 0.125 : f64} : (tensor<16x1x8x32xf32>, tensor<16x1x8x32xf32>, tensor<16x1x8x32xf32>) -> tensor<16x1x8x32xf32>
  %co = dsp.reshape %ca : tensor<16x1x8x32xf32> -> tensor<16x8x32xf32>
  %ct = dsp.transpose %co perm [1, 0, 2] : tensor<16x8x32xf32> -> tensor<8x16x32xf32>
  %x2 = dsp.add %x1, %ct : tensor<8x16x32xf32>, tensor<8x16x32xf32> -> tensor<8x16x32xf32>
  return %x2 : tensor<8x16x32xf32>
}

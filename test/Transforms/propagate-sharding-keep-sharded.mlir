// An output pinned to an input's sharding (keep-sharded=OUTPUT:INPUT), as
// a denoising loop feeds each step's output back as the next step's input:
// the output is not gathered but converted to the input's block, and both
// carry that sharding. The axial block reads x on its rows (dim 0) and
// leaves its result on the columns (dim 1), where it is gathered unpinned.
// Pinned, the result is returned in x's block, whichever the solver finds
// cheapest for the whole.
// RUN: dsp-opt %s -split-input-file --dsp-propagate-sharding="ranks=4 strategy=auto" --dsp-insert-reshards | FileCheck %s --check-prefix=FREE
// RUN: dsp-opt %s -split-input-file --dsp-propagate-sharding="ranks=4 strategy=auto keep-sharded=output:x" --dsp-insert-reshards | FileCheck %s
// RUN: dsp-opt %s -split-input-file --dsp-pipeline="ranks=4 keep-sharded=output:x" | FileCheck %s

// FREE-LABEL: func.func @axial_block(
// FREE:         dsp.all_gather
// FREE-NEXT:    return

// CHECK-LABEL: func.func @axial_block(
// CHECK-SAME:      {dsp.name = "x", dsp.sharding = #dsp.shard<[[KEPT:[^>]*]]>}
// CHECK-SAME:      -> (tensor<8x16x32xf32> {dsp.kept_sharded = "x", dsp.name = "output", dsp.sharding = #dsp.shard<[[KEPT]]>})
// CHECK:         %[[OUT:.*]] = dsp.add %{{[0-9]+}}, %{{[0-9]+}} {dsp.sharding = [#dsp.shard<[[KEPT]]>]}
// CHECK-NEXT:    return %[[OUT]]
func.func @axial_block(%x: tensor<8x16x32xf32> {dsp.name = "x"}) -> (tensor<8x16x32xf32> {dsp.name = "output"}) {
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

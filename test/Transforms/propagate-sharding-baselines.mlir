// The classic strategies are the published methods, per layer, at every N:
// a ViT block as the TorchScript exporter writes it (a fused QKV projection
// with its bias added apart, Q, K and V taken out by gather) with a GELU MLP.

// ulysses is DeepSpeed-Ulysses: the projections keep their weights whole and
// run on the sequence; Q, K and V each switch to heads and the output switches
// back (4 all-to-alls); the MLP stays on the sequence. The last all_gather
// is the result's.
// RUN: dsp-opt %s --dsp-propagate-sharding="ranks=2 strategy=ulysses" --dsp-insert-reshards | FileCheck %s --check-prefix=ULY
// RUN: dsp-opt %s --dsp-propagate-sharding="ranks=4 strategy=ulysses" --dsp-insert-reshards | FileCheck %s --check-prefix=ULY
// ULY-LABEL: func.func @vit_block(
// ULY-NOT:       dsp.all_
// ULY-NOT:       dsp.local_slice
// ULY:           dsp.matmul {{.*}} {dsp.sharding = [#dsp.shard<dim = 1>]} : tensor<1x16x64xf32>, tensor<64x192xf32>
// ULY-NOT:       dsp.all_
// ULY-COUNT-3:   dsp.all_to_all %{{.*}} split 1 concat 2
// ULY-NOT:       dsp.all_
// ULY:           dsp.attention {{.*}}{dsp.sharding = [#dsp.shard<dim = 1>]
// ULY-COUNT-1:   dsp.all_to_all
// ULY-NOT:       dsp.all_
// ULY-NOT:       dsp.reduce_scatter
// ULY:           dsp.all_gather
// ULY-NEXT:      return

// megatron-sp is Megatron-LM's sequence parallelism: all_gather before the
// QKV projection and the MLP's first matmul (columns: heads, hidden
// features), reduce_scatter after the output projection and the MLP's
// second matmul (rows); every weight of both is sliced, never gathered.
// RUN: dsp-opt %s --dsp-propagate-sharding="ranks=2 strategy=megatron-sp" --dsp-insert-reshards | FileCheck %s --check-prefix=MEG
// RUN: dsp-opt %s --dsp-propagate-sharding="ranks=4 strategy=megatron-sp" --dsp-insert-reshards | FileCheck %s --check-prefix=MEG
// MEG-LABEL: func.func @vit_block(
// MEG-COUNT-6:   dsp.local_slice
// MEG-NOT:       dsp.all_to_all
// MEG:           dsp.all_gather {{.*}} : tensor<1x16x64xf32>
// MEG-NEXT:      dsp.matmul {{.*}} {dsp.sharding = [#dsp.shard<dim = 2, factors = [3, 64], factor = 1>]} : tensor<1x16x64xf32>, tensor<64x192xf32>
// MEG-NOT:       dsp.all_
// MEG:           dsp.attention {{.*}}{dsp.sharding = [#dsp.shard<dim = 1>]
// MEG-NOT:       dsp.all_
// MEG:           dsp.matmul {{.*}} {dsp.sharding = [#dsp.shard<partial>]} : tensor<1x16x64xf32>, tensor<64x64xf32>
// MEG-NEXT:      dsp.reduce_scatter %{{.*}} dim 1 sum
// MEG-NOT:       dsp.all_to_all
// MEG:           dsp.all_gather {{.*}} : tensor<1x16x64xf32>
// MEG-NEXT:      dsp.matmul {{.*}} {dsp.sharding = [#dsp.shard<dim = 2>]} : tensor<1x16x64xf32>, tensor<64x256xf32>
// MEG-NOT:       dsp.all_
// MEG:           dsp.gelu {{.*}} {dsp.sharding = [#dsp.shard<dim = 2>]}
// MEG-NOT:       dsp.all_
// MEG:           dsp.matmul {{.*}} {dsp.sharding = [#dsp.shard<partial>]} : tensor<1x16x256xf32>, tensor<256x64xf32>
// MEG-NEXT:      dsp.reduce_scatter %{{.*}} dim 1 sum
// MEG-NOT:       dsp.all_
// MEG:           dsp.all_gather
// MEG-NEXT:      return

// Each rank holds 1/N of the attention and MLP weights under megatron-sp
// (the norms' and the output biases' whole), all of them under ulysses.
// RUN: dsp-opt %s --dsp-propagate-sharding="ranks=2 strategy=megatron-sp" --dsp-insert-reshards --dsp-summary -o /dev/null 2>&1 | FileCheck %s --check-prefix=WEIGHTS2
// RUN: dsp-opt %s --dsp-propagate-sharding="ranks=4 strategy=megatron-sp" --dsp-insert-reshards --dsp-summary -o /dev/null 2>&1 | FileCheck %s --check-prefix=WEIGHTS4
// RUN: dsp-opt %s --dsp-propagate-sharding="ranks=4 strategy=ulysses" --dsp-insert-reshards --dsp-summary -o /dev/null 2>&1 | FileCheck %s --check-prefix=WHOLE
// WEIGHTS2: weights: 98.4 KiB per rank of 195 KiB (0.50 of total)
// WEIGHTS4: weights: 50.0 KiB per rank of 195 KiB (0.26 of total)
// WHOLE:    weights: 195 KiB per rank of 195 KiB (1.00 of total)

func.func @vit_block(%x: tensor<1x16x64xf32>) -> tensor<1x16x64xf32> {
  %g1 = dsp.constant dense<1.0> : tensor<64xf32>
  %beta1 = dsp.constant dense<0.0> : tensor<64xf32>
  %g2 = dsp.constant dense<1.0> : tensor<64xf32>
  %beta2 = dsp.constant dense<0.0> : tensor<64xf32>
  %wqkv = dsp.constant dense<0.01> : tensor<64x192xf32>
  %bqkv = dsp.constant dense<0.02> : tensor<192xf32>
  %wo = dsp.constant dense<0.03> : tensor<64x64xf32>
  %bo = dsp.constant dense<0.04> : tensor<64xf32>
  %w1 = dsp.constant dense<0.05> : tensor<64x256xf32>
  %b1 = dsp.constant dense<0.06> : tensor<256xf32>
  %w2 = dsp.constant dense<0.07> : tensor<256x64xf32>
  %b2 = dsp.constant dense<0.08> : tensor<64xf32>
  %i0 = dsp.constant dense<0> : tensor<i64>
  %i1 = dsp.constant dense<1> : tensor<i64>
  %i2 = dsp.constant dense<2> : tensor<i64>
  %ln1 = dsp.layer_norm %x, %g1, %beta1 {axis = 2 : i64, epsilon = 1.0e-06 : f64} : (tensor<1x16x64xf32>, tensor<64xf32>, tensor<64xf32>) -> tensor<1x16x64xf32>
  %qkv = dsp.matmul %ln1, %wqkv : tensor<1x16x64xf32>, tensor<64x192xf32> -> tensor<1x16x192xf32>
  %qkv_b = dsp.add %qkv, %bqkv : tensor<1x16x192xf32>, tensor<192xf32> -> tensor<1x16x192xf32>
  %split = dsp.reshape %qkv_b : tensor<1x16x192xf32> -> tensor<1x16x3x4x16xf32>
  %heads = dsp.transpose %split perm [2, 0, 3, 1, 4] : tensor<1x16x3x4x16xf32> -> tensor<3x1x4x16x16xf32>
  %q = dsp.gather %heads, %i0 {axis = 0 : i64} : tensor<3x1x4x16x16xf32>, tensor<i64> -> tensor<1x4x16x16xf32>
  %k = dsp.gather %heads, %i1 {axis = 0 : i64} : tensor<3x1x4x16x16xf32>, tensor<i64> -> tensor<1x4x16x16xf32>
  %v = dsp.gather %heads, %i2 {axis = 0 : i64} : tensor<3x1x4x16x16xf32>, tensor<i64> -> tensor<1x4x16x16xf32>
  %att = dsp.attention %q, %k, %v {scale = 2.500000e-01 : f64} : (tensor<1x4x16x16xf32>, tensor<1x4x16x16xf32>, tensor<1x4x16x16xf32>) -> tensor<1x4x16x16xf32>
  %merge = dsp.transpose %att perm [0, 2, 1, 3] : tensor<1x4x16x16xf32> -> tensor<1x16x4x16xf32>
  %cat = dsp.reshape %merge : tensor<1x16x4x16xf32> -> tensor<1x16x64xf32>
  %proj = dsp.matmul %cat, %wo : tensor<1x16x64xf32>, tensor<64x64xf32> -> tensor<1x16x64xf32>
  %proj_b = dsp.add %proj, %bo : tensor<1x16x64xf32>, tensor<64xf32> -> tensor<1x16x64xf32>
  %x1 = dsp.add %x, %proj_b : tensor<1x16x64xf32>, tensor<1x16x64xf32> -> tensor<1x16x64xf32>
  %ln2 = dsp.layer_norm %x1, %g2, %beta2 {axis = 2 : i64, epsilon = 1.0e-06 : f64} : (tensor<1x16x64xf32>, tensor<64xf32>, tensor<64xf32>) -> tensor<1x16x64xf32>
  %fc1 = dsp.matmul %ln2, %w1 : tensor<1x16x64xf32>, tensor<64x256xf32> -> tensor<1x16x256xf32>
  %fc1_b = dsp.add %fc1, %b1 : tensor<1x16x256xf32>, tensor<256xf32> -> tensor<1x16x256xf32>
  %act = dsp.gelu %fc1_b {approximate = "none"} : tensor<1x16x256xf32>
  %fc2 = dsp.matmul %act, %w2 : tensor<1x16x256xf32>, tensor<256x64xf32> -> tensor<1x16x64xf32>
  %fc2_b = dsp.add %fc2, %b2 : tensor<1x16x64xf32>, tensor<64xf32> -> tensor<1x16x64xf32>
  %x2 = dsp.add %x1, %fc2_b : tensor<1x16x64xf32>, tensor<1x16x64xf32> -> tensor<1x16x64xf32>
  return %x2 : tensor<1x16x64xf32>
}

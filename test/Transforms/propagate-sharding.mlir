// An ST-DiT block (Open-Sora) in dsp IR: x is [B, T, S, C] = [1, 8, 16, 64]
// with 4 heads of 16, text tokens y are [B, L, C] = [1, 8, 64]. Spatial
// self-attention runs per frame on [B*T, S, C] (a fused QKV projection),
// temporal self-attention per patch on [B*S, T, C] (separate Q, K and V
// projections), cross attention has its queries on all T*S tokens and K and
// V from y, then an MLP; each with its residual.

// Sequence strategies: spatial attention shards its batch B*T (T), temporal
// attention its batch B*S (S): one all_to_all switches from T to S between
// the two attentions, outside the projections. Cross attention (its queries
// on the S part of T*S) and the MLP stay on S; a next block switches back to
// T for its spatial attention. Each rank reads its block of x split on T. So
// 2L - 1 switches for L blocks, and the result is gathered (on S) at the end.
// RUN: dsp-opt %s -split-input-file --dsp-propagate-sharding="ranks=4 strategy=auto" --dsp-insert-reshards | FileCheck %s --check-prefixes=SEQ,TWO
// RUN: dsp-opt %s -split-input-file --dsp-propagate-sharding="ranks=4 strategy=dsp" --dsp-insert-reshards | FileCheck %s --check-prefixes=SEQ,TWO
// RUN: dsp-opt %s -split-input-file --dsp-propagate-sharding="ranks=2 strategy=dsp" --dsp-insert-reshards | FileCheck %s --check-prefix=COUNT2
// RUN: dsp-opt %s -split-input-file --dsp-propagate-sharding="ranks=4 strategy=ulysses" --dsp-insert-reshards | FileCheck %s --check-prefix=ULY
// RUN: dsp-opt %s -split-input-file --dsp-propagate-sharding="ranks=2 strategy=megatron-sp" --dsp-insert-reshards | FileCheck %s --check-prefix=MEG
// RUN: dsp-opt %s -split-input-file --dsp-propagate-sharding="ranks=4 strategy=megatron-sp" --dsp-insert-reshards | FileCheck %s --check-prefix=MEG
// RUN: dsp-opt %s -split-input-file --dsp-propagate-sharding="ranks=4 strategy=none" --dsp-insert-reshards | FileCheck %s --check-prefix=NONE

// At 2 ranks reading x on S and switching first costs the same: still
// 2L - 1 switches.
// COUNT2-LABEL: func.func @stdit_block(
// COUNT2-COUNT-1: dsp.all_to_all
// COUNT2-NOT:     dsp.all_to_all
// COUNT2-LABEL: func.func @two_blocks(
// COUNT2-COUNT-3: dsp.all_to_all
// COUNT2-NOT:     dsp.all_to_all

// SEQ-LABEL: func.func @stdit_block(
// SEQ-NOT:     dsp.all_to_all
// SEQ:         dsp.matmul {{.*}} -> tensor<8x16x192xf32>
// SEQ-NOT:     dsp.all_to_all
// SEQ:         dsp.attention {{.*}}{dsp.sharding = [#dsp.shard<dim = 0>]{{.*}} -> tensor<8x4x16x16xf32>
// SEQ:         dsp.all_to_all
// SEQ-NOT:     dsp.all_to_all
// SEQ:         dsp.matmul {{.*}} -> tensor<16x8x64xf32>
// SEQ-NOT:     dsp.all_to_all
// SEQ:         dsp.attention {{.*}}{dsp.sharding = [#dsp.shard<dim = 0>]{{.*}} -> tensor<16x4x8x16xf32>
// SEQ-NOT:     dsp.all_to_all
// SEQ:         dsp.attention {{.*}}{dsp.sharding = [#dsp.shard<dim = 2, factors = [8, 16], factor = 1>]{{.*}} -> tensor<1x4x128x16xf32>
// SEQ-NOT:     dsp.all_to_all
// SEQ:         %[[OUT:.*]] = dsp.all_gather %{{.*}} dim 2 {dsp.sharding = [#dsp.shard<replicated>]} : tensor<1x8x16x64xf32>
// SEQ-NEXT:    return %[[OUT]]

// Ulysses switches to heads around every attention: Q, K and V in, each as
// attention reads it (the fused QKV of the spatial attention is sliced
// first; the cross attention's text K and V are a side stream computed
// replicated, so only its Q moves), and the output back: 4 + 4 + 2
// all-to-alls per block at any N. Temporal attention's own sequence T is the
// one split outside attention, so no other switch.
// RUN: dsp-opt %s -split-input-file --dsp-propagate-sharding="ranks=2 strategy=ulysses" --dsp-insert-reshards | FileCheck %s --check-prefix=ULYCOUNT
// RUN: dsp-opt %s -split-input-file --dsp-propagate-sharding="ranks=4 strategy=ulysses" --dsp-insert-reshards | FileCheck %s --check-prefix=ULYCOUNT
// ULYCOUNT-LABEL:    func.func @stdit_block(
// ULYCOUNT-NOT:      dsp.all_gather
// ULYCOUNT-COUNT-10: dsp.all_to_all
// ULYCOUNT-NOT:      dsp.all_to_all
// ULYCOUNT-NOT:      dsp.reduce_scatter
// ULYCOUNT:          dsp.all_gather
// ULYCOUNT-NEXT:     return
// ULY-LABEL: func.func @stdit_block(
// ULY:         dsp.matmul {{.*}} -> tensor<8x16x192xf32>
// ULY-NOT:     dsp.all_to_all
// ULY-COUNT-3: dsp.all_to_all %{{.*}} split 1 concat 0 {dsp.sharding = [#dsp.shard<dim = 1>]} : tensor<8x4x16x16xf32>
// ULY-NOT:     dsp.all_to_all
// ULY:         dsp.attention {{.*}}{dsp.sharding = [#dsp.shard<dim = 1>]{{.*}} -> tensor<8x4x16x16xf32>
// ULY-COUNT-1: dsp.all_to_all
// ULY-NOT:     dsp.all_to_all
// ULY:         dsp.matmul {{.*}} -> tensor<8x16x64xf32>
// ULY-COUNT-3: dsp.all_to_all %{{.*}} split 1 concat 2 {dsp.sharding = [#dsp.shard<dim = 1>]} : tensor<16x4x8x16xf32>
// ULY-NOT:     dsp.all_to_all
// ULY:         dsp.attention {{.*}}{dsp.sharding = [#dsp.shard<dim = 1>]{{.*}} -> tensor<16x4x8x16xf32>
// ULY-COUNT-1: dsp.all_to_all
// ULY-NOT:     dsp.all_to_all
// ULY:         dsp.matmul {{.*}} -> tensor<16x8x64xf32>
// ULY-COUNT-1: dsp.all_to_all %{{.*}} split 1 concat 2 {dsp.sharding = [#dsp.shard<dim = 1>]}
// ULY-NOT:     dsp.all_to_all
// ULY:         dsp.attention {{.*}}{dsp.sharding = [#dsp.shard<dim = 1>]{{.*}} -> tensor<1x4x128x16xf32>
// ULY-COUNT-1: dsp.all_to_all
// ULY-NOT:     dsp.all_to_all
// ULY:         return

// Megatron-SP: all_gather of the sequence into the (column-sharded) QKV
// projections, heads through attention, reduce_scatter of the partial sums
// of the (row-sharded) output projection, and the same around the MLP
// (column-sharded fc1, row-sharded fc2); no all_to_all.
// MEG-LABEL: func.func @stdit_block(
// MEG-NOT:     dsp.all_to_all
// MEG:         dsp.all_gather {{.*}} : tensor<8x16x64xf32>
// MEG-NEXT:    dsp.matmul {{.*}} {dsp.sharding = [#dsp.shard<dim = 2, factors = [3, 64], factor = 1>]} : tensor<8x16x64xf32>, tensor<64x192xf32> -> tensor<8x16x192xf32>
// MEG-NOT:     dsp.all_
// MEG:         dsp.attention {{.*}}{dsp.sharding = [#dsp.shard<dim = 1>]{{.*}} -> tensor<8x4x16x16xf32>
// MEG-NOT:     dsp.all_
// MEG:         dsp.matmul {{.*}} {dsp.sharding = [#dsp.shard<partial>]} : tensor<8x16x64xf32>, tensor<64x64xf32> -> tensor<8x16x64xf32>
// MEG-NEXT:    dsp.reduce_scatter %{{.*}} dim {{[0-9]}} sum
// MEG-NOT:     dsp.all_to_all
// MEG:         dsp.all_gather {{.*}} : tensor<16x8x64xf32>
// MEG-NEXT:    dsp.matmul {{.*}} {dsp.sharding = [#dsp.shard<dim = 2>]} : tensor<16x8x64xf32>, tensor<64x64xf32> -> tensor<16x8x64xf32>
// MEG-NOT:     dsp.all_
// MEG:         dsp.attention {{.*}}{dsp.sharding = [#dsp.shard<dim = 1>]{{.*}} -> tensor<16x4x8x16xf32>
// MEG-NOT:     dsp.all_
// MEG:         dsp.matmul {{.*}} {dsp.sharding = [#dsp.shard<partial>]} : tensor<16x8x64xf32>, tensor<64x64xf32> -> tensor<16x8x64xf32>
// MEG-NEXT:    dsp.reduce_scatter %{{.*}} dim {{[0-9]}} sum
// MEG-NOT:     dsp.all_to_all
// MEG:         dsp.all_gather {{.*}} : tensor<1x128x64xf32>
// MEG-NEXT:    dsp.matmul {{.*}} {dsp.sharding = [#dsp.shard<dim = 2>]} : tensor<1x128x64xf32>, tensor<64x64xf32> -> tensor<1x128x64xf32>
// MEG-NOT:     dsp.all_
// MEG:         dsp.attention {{.*}}{dsp.sharding = [#dsp.shard<dim = 1>]{{.*}} -> tensor<1x4x128x16xf32>
// MEG-NOT:     dsp.all_
// MEG:         dsp.matmul {{.*}} {dsp.sharding = [#dsp.shard<partial>]} : tensor<1x128x64xf32>, tensor<64x64xf32> -> tensor<1x128x64xf32>
// MEG-NEXT:    dsp.reduce_scatter %{{.*}} dim {{[0-9]}} sum
// MEG-NOT:     dsp.all_to_all
// MEG:         dsp.all_gather {{.*}} : tensor<1x8x16x64xf32>
// MEG-NEXT:    dsp.matmul {{.*}} {dsp.sharding = [#dsp.shard<dim = 3>]} : tensor<1x8x16x64xf32>, tensor<64x256xf32> -> tensor<1x8x16x256xf32>
// MEG-NEXT:    dsp.gelu {{.*}} {approximate = "tanh", dsp.sharding = [#dsp.shard<dim = 3>]}
// MEG-NEXT:    dsp.matmul {{.*}} {dsp.sharding = [#dsp.shard<partial>]} : tensor<1x8x16x256xf32>, tensor<256x64xf32> -> tensor<1x8x16x64xf32>
// MEG-NEXT:    dsp.reduce_scatter %{{.*}} dim {{[0-9]}} sum
// MEG-NOT:     dsp.all_to_all
// MEG:         %[[OUT:.*]] = dsp.all_gather
// MEG-NEXT:    return %[[OUT]]

// None: every value replicated, no collective.
// NONE-LABEL: func.func @stdit_block(
// NONE-NOT:     #dsp.shard<dim
// NONE-NOT:     #dsp.shard<partial>
// NONE-NOT:     dsp.all_
// NONE-NOT:     dsp.reduce_scatter
// NONE-NOT:     dsp.local_slice
// NONE:         dsp.attention {{.*}}{dsp.sharding = [#dsp.shard<replicated>]{{.*}} -> tensor<8x4x16x16xf32>
// NONE-NOT:     #dsp.shard<dim
// NONE-NOT:     #dsp.shard<partial>
// NONE-NOT:     dsp.all_
// NONE-NOT:     dsp.reduce_scatter
// NONE-NOT:     dsp.local_slice
// NONE:         return

func.func @stdit_block(%x: tensor<1x8x16x64xf32>, %y: tensor<1x8x64xf32>) -> tensor<1x8x16x64xf32> {
  %b0_g1 = dsp.constant dense<1.0> : tensor<64xf32>
  %b0_beta1 = dsp.constant dense<0.0> : tensor<64xf32>
  %b0_g2 = dsp.constant dense<1.0> : tensor<64xf32>
  %b0_beta2 = dsp.constant dense<0.0> : tensor<64xf32>
  %b0_g3 = dsp.constant dense<1.0> : tensor<64xf32>
  %b0_beta3 = dsp.constant dense<0.0> : tensor<64xf32>
  %b0_wqkv = dsp.constant dense<0.01> : tensor<64x192xf32>
  %b0_swo = dsp.constant dense<0.04> : tensor<64x64xf32>
  %b0_twq = dsp.constant dense<0.01> : tensor<64x64xf32>
  %b0_twk = dsp.constant dense<0.02> : tensor<64x64xf32>
  %b0_twv = dsp.constant dense<0.03> : tensor<64x64xf32>
  %b0_two = dsp.constant dense<0.04> : tensor<64x64xf32>
  %b0_cwq = dsp.constant dense<0.01> : tensor<64x64xf32>
  %b0_cwk = dsp.constant dense<0.02> : tensor<64x64xf32>
  %b0_cwv = dsp.constant dense<0.03> : tensor<64x64xf32>
  %b0_cwo = dsp.constant dense<0.04> : tensor<64x64xf32>
  %b0_w1 = dsp.constant dense<0.05> : tensor<64x256xf32>
  %b0_w2 = dsp.constant dense<0.06> : tensor<256x64xf32>
  %b0_ln1 = dsp.layer_norm %x, %b0_g1, %b0_beta1 {axis = 3 : i64, epsilon = 1.0e-06 : f64} : (tensor<1x8x16x64xf32>, tensor<64xf32>, tensor<64xf32>) -> tensor<1x8x16x64xf32>
  %b0_s_in = dsp.reshape %b0_ln1 : tensor<1x8x16x64xf32> -> tensor<8x16x64xf32>
  %b0_s_qkv = dsp.matmul %b0_s_in, %b0_wqkv : tensor<8x16x64xf32>, tensor<64x192xf32> -> tensor<8x16x192xf32>
  %b0_s_split = dsp.reshape %b0_s_qkv : tensor<8x16x192xf32> -> tensor<8x16x3x4x16xf32>
  %b0_s_heads = dsp.transpose %b0_s_split perm [2, 0, 3, 1, 4] : tensor<8x16x3x4x16xf32> -> tensor<3x8x4x16x16xf32>
  %b0_s_q5 = dsp.slice %b0_s_heads {limits = array<i64: 1, 8, 4, 16, 16>, starts = array<i64: 0, 0, 0, 0, 0>, strides = array<i64: 1, 1, 1, 1, 1>} : tensor<3x8x4x16x16xf32> -> tensor<1x8x4x16x16xf32>
  %b0_s_q = dsp.reshape %b0_s_q5 : tensor<1x8x4x16x16xf32> -> tensor<8x4x16x16xf32>
  %b0_s_k5 = dsp.slice %b0_s_heads {limits = array<i64: 2, 8, 4, 16, 16>, starts = array<i64: 1, 0, 0, 0, 0>, strides = array<i64: 1, 1, 1, 1, 1>} : tensor<3x8x4x16x16xf32> -> tensor<1x8x4x16x16xf32>
  %b0_s_k = dsp.reshape %b0_s_k5 : tensor<1x8x4x16x16xf32> -> tensor<8x4x16x16xf32>
  %b0_s_v5 = dsp.slice %b0_s_heads {limits = array<i64: 3, 8, 4, 16, 16>, starts = array<i64: 2, 0, 0, 0, 0>, strides = array<i64: 1, 1, 1, 1, 1>} : tensor<3x8x4x16x16xf32> -> tensor<1x8x4x16x16xf32>
  %b0_s_v = dsp.reshape %b0_s_v5 : tensor<1x8x4x16x16xf32> -> tensor<8x4x16x16xf32>
  %b0_s_att = dsp.attention %b0_s_q, %b0_s_k, %b0_s_v {scale = 2.500000e-01 : f64} : (tensor<8x4x16x16xf32>, tensor<8x4x16x16xf32>, tensor<8x4x16x16xf32>) -> tensor<8x4x16x16xf32>
  %b0_s_merge = dsp.transpose %b0_s_att perm [0, 2, 1, 3] : tensor<8x4x16x16xf32> -> tensor<8x16x4x16xf32>
  %b0_s_cat = dsp.reshape %b0_s_merge : tensor<8x16x4x16xf32> -> tensor<8x16x64xf32>
  %b0_s_proj = dsp.matmul %b0_s_cat, %b0_swo : tensor<8x16x64xf32>, tensor<64x64xf32> -> tensor<8x16x64xf32>
  %b0_s_out = dsp.reshape %b0_s_proj : tensor<8x16x64xf32> -> tensor<1x8x16x64xf32>
  %b0_x1 = dsp.add %x, %b0_s_out : tensor<1x8x16x64xf32>, tensor<1x8x16x64xf32> -> tensor<1x8x16x64xf32>
  %b0_ln2 = dsp.layer_norm %b0_x1, %b0_g2, %b0_beta2 {axis = 3 : i64, epsilon = 1.0e-06 : f64} : (tensor<1x8x16x64xf32>, tensor<64xf32>, tensor<64xf32>) -> tensor<1x8x16x64xf32>
  %b0_t_tr = dsp.transpose %b0_ln2 perm [0, 2, 1, 3] : tensor<1x8x16x64xf32> -> tensor<1x16x8x64xf32>
  %b0_t_in = dsp.reshape %b0_t_tr : tensor<1x16x8x64xf32> -> tensor<16x8x64xf32>
  %b0_t_qp = dsp.matmul %b0_t_in, %b0_twq : tensor<16x8x64xf32>, tensor<64x64xf32> -> tensor<16x8x64xf32>
  %b0_t_qr = dsp.reshape %b0_t_qp : tensor<16x8x64xf32> -> tensor<16x8x4x16xf32>
  %b0_t_q = dsp.transpose %b0_t_qr perm [0, 2, 1, 3] : tensor<16x8x4x16xf32> -> tensor<16x4x8x16xf32>
  %b0_t_kp = dsp.matmul %b0_t_in, %b0_twk : tensor<16x8x64xf32>, tensor<64x64xf32> -> tensor<16x8x64xf32>
  %b0_t_kr = dsp.reshape %b0_t_kp : tensor<16x8x64xf32> -> tensor<16x8x4x16xf32>
  %b0_t_k = dsp.transpose %b0_t_kr perm [0, 2, 1, 3] : tensor<16x8x4x16xf32> -> tensor<16x4x8x16xf32>
  %b0_t_vp = dsp.matmul %b0_t_in, %b0_twv : tensor<16x8x64xf32>, tensor<64x64xf32> -> tensor<16x8x64xf32>
  %b0_t_vr = dsp.reshape %b0_t_vp : tensor<16x8x64xf32> -> tensor<16x8x4x16xf32>
  %b0_t_v = dsp.transpose %b0_t_vr perm [0, 2, 1, 3] : tensor<16x8x4x16xf32> -> tensor<16x4x8x16xf32>
  %b0_t_att = dsp.attention %b0_t_q, %b0_t_k, %b0_t_v {scale = 2.500000e-01 : f64} : (tensor<16x4x8x16xf32>, tensor<16x4x8x16xf32>, tensor<16x4x8x16xf32>) -> tensor<16x4x8x16xf32>
  %b0_t_merge = dsp.transpose %b0_t_att perm [0, 2, 1, 3] : tensor<16x4x8x16xf32> -> tensor<16x8x4x16xf32>
  %b0_t_cat = dsp.reshape %b0_t_merge : tensor<16x8x4x16xf32> -> tensor<16x8x64xf32>
  %b0_t_proj = dsp.matmul %b0_t_cat, %b0_two : tensor<16x8x64xf32>, tensor<64x64xf32> -> tensor<16x8x64xf32>
  %b0_t_back = dsp.reshape %b0_t_proj : tensor<16x8x64xf32> -> tensor<1x16x8x64xf32>
  %b0_t_out = dsp.transpose %b0_t_back perm [0, 2, 1, 3] : tensor<1x16x8x64xf32> -> tensor<1x8x16x64xf32>
  %b0_x2 = dsp.add %b0_x1, %b0_t_out : tensor<1x8x16x64xf32>, tensor<1x8x16x64xf32> -> tensor<1x8x16x64xf32>
  %b0_c_in = dsp.reshape %b0_x2 : tensor<1x8x16x64xf32> -> tensor<1x128x64xf32>
  %b0_c_qp = dsp.matmul %b0_c_in, %b0_cwq : tensor<1x128x64xf32>, tensor<64x64xf32> -> tensor<1x128x64xf32>
  %b0_c_qr = dsp.reshape %b0_c_qp : tensor<1x128x64xf32> -> tensor<1x128x4x16xf32>
  %b0_c_q = dsp.transpose %b0_c_qr perm [0, 2, 1, 3] : tensor<1x128x4x16xf32> -> tensor<1x4x128x16xf32>
  %b0_c_kp = dsp.matmul %y, %b0_cwk : tensor<1x8x64xf32>, tensor<64x64xf32> -> tensor<1x8x64xf32>
  %b0_c_kr = dsp.reshape %b0_c_kp : tensor<1x8x64xf32> -> tensor<1x8x4x16xf32>
  %b0_c_k = dsp.transpose %b0_c_kr perm [0, 2, 1, 3] : tensor<1x8x4x16xf32> -> tensor<1x4x8x16xf32>
  %b0_c_vp = dsp.matmul %y, %b0_cwv : tensor<1x8x64xf32>, tensor<64x64xf32> -> tensor<1x8x64xf32>
  %b0_c_vr = dsp.reshape %b0_c_vp : tensor<1x8x64xf32> -> tensor<1x8x4x16xf32>
  %b0_c_v = dsp.transpose %b0_c_vr perm [0, 2, 1, 3] : tensor<1x8x4x16xf32> -> tensor<1x4x8x16xf32>
  %b0_c_att = dsp.attention %b0_c_q, %b0_c_k, %b0_c_v {scale = 2.500000e-01 : f64} : (tensor<1x4x128x16xf32>, tensor<1x4x8x16xf32>, tensor<1x4x8x16xf32>) -> tensor<1x4x128x16xf32>
  %b0_c_merge = dsp.transpose %b0_c_att perm [0, 2, 1, 3] : tensor<1x4x128x16xf32> -> tensor<1x128x4x16xf32>
  %b0_c_cat = dsp.reshape %b0_c_merge : tensor<1x128x4x16xf32> -> tensor<1x128x64xf32>
  %b0_c_proj = dsp.matmul %b0_c_cat, %b0_cwo : tensor<1x128x64xf32>, tensor<64x64xf32> -> tensor<1x128x64xf32>
  %b0_c_out = dsp.reshape %b0_c_proj : tensor<1x128x64xf32> -> tensor<1x8x16x64xf32>
  %b0_x3 = dsp.add %b0_x2, %b0_c_out : tensor<1x8x16x64xf32>, tensor<1x8x16x64xf32> -> tensor<1x8x16x64xf32>
  %b0_ln3 = dsp.layer_norm %b0_x3, %b0_g3, %b0_beta3 {axis = 3 : i64, epsilon = 1.0e-06 : f64} : (tensor<1x8x16x64xf32>, tensor<64xf32>, tensor<64xf32>) -> tensor<1x8x16x64xf32>
  %b0_fc1 = dsp.matmul %b0_ln3, %b0_w1 : tensor<1x8x16x64xf32>, tensor<64x256xf32> -> tensor<1x8x16x256xf32>
  %b0_act = dsp.gelu %b0_fc1 {approximate = "tanh"} : tensor<1x8x16x256xf32>
  %b0_fc2 = dsp.matmul %b0_act, %b0_w2 : tensor<1x8x16x256xf32>, tensor<256x64xf32> -> tensor<1x8x16x64xf32>
  %b0_x4 = dsp.add %b0_x3, %b0_fc2 : tensor<1x8x16x64xf32>, tensor<1x8x16x64xf32> -> tensor<1x8x16x64xf32>
  return %b0_x4 : tensor<1x8x16x64xf32>
}


// -----

// Two blocks chained: T to S inside each, S back to T between them.
// TWO-LABEL: func.func @two_blocks(
// TWO-SAME:      {dsp.sharding = #dsp.shard<dim = 1>}
// TWO-NOT:     dsp.all_to_all
// TWO:         dsp.attention {{.*}} -> tensor<8x4x16x16xf32>
// TWO:         dsp.all_to_all
// TWO-NOT:     dsp.all_to_all
// TWO:         dsp.attention {{.*}} -> tensor<16x4x8x16xf32>
// TWO:         dsp.all_to_all
// TWO-NOT:     dsp.all_to_all
// TWO:         dsp.attention {{.*}} -> tensor<8x4x16x16xf32>
// TWO:         dsp.all_to_all
// TWO-NOT:     dsp.all_to_all
// TWO:         dsp.attention {{.*}} -> tensor<16x4x8x16xf32>
// TWO-NOT:     dsp.all_to_all
// TWO:         return
func.func @two_blocks(%x: tensor<1x8x16x64xf32>, %y: tensor<1x8x64xf32>) -> tensor<1x8x16x64xf32> {
  %b0_g1 = dsp.constant dense<1.0> : tensor<64xf32>
  %b0_beta1 = dsp.constant dense<0.0> : tensor<64xf32>
  %b0_g2 = dsp.constant dense<1.0> : tensor<64xf32>
  %b0_beta2 = dsp.constant dense<0.0> : tensor<64xf32>
  %b0_g3 = dsp.constant dense<1.0> : tensor<64xf32>
  %b0_beta3 = dsp.constant dense<0.0> : tensor<64xf32>
  %b0_wqkv = dsp.constant dense<0.01> : tensor<64x192xf32>
  %b0_swo = dsp.constant dense<0.04> : tensor<64x64xf32>
  %b0_twq = dsp.constant dense<0.01> : tensor<64x64xf32>
  %b0_twk = dsp.constant dense<0.02> : tensor<64x64xf32>
  %b0_twv = dsp.constant dense<0.03> : tensor<64x64xf32>
  %b0_two = dsp.constant dense<0.04> : tensor<64x64xf32>
  %b0_cwq = dsp.constant dense<0.01> : tensor<64x64xf32>
  %b0_cwk = dsp.constant dense<0.02> : tensor<64x64xf32>
  %b0_cwv = dsp.constant dense<0.03> : tensor<64x64xf32>
  %b0_cwo = dsp.constant dense<0.04> : tensor<64x64xf32>
  %b0_w1 = dsp.constant dense<0.05> : tensor<64x256xf32>
  %b0_w2 = dsp.constant dense<0.06> : tensor<256x64xf32>
  %b0_ln1 = dsp.layer_norm %x, %b0_g1, %b0_beta1 {axis = 3 : i64, epsilon = 1.0e-06 : f64} : (tensor<1x8x16x64xf32>, tensor<64xf32>, tensor<64xf32>) -> tensor<1x8x16x64xf32>
  %b0_s_in = dsp.reshape %b0_ln1 : tensor<1x8x16x64xf32> -> tensor<8x16x64xf32>
  %b0_s_qkv = dsp.matmul %b0_s_in, %b0_wqkv : tensor<8x16x64xf32>, tensor<64x192xf32> -> tensor<8x16x192xf32>
  %b0_s_split = dsp.reshape %b0_s_qkv : tensor<8x16x192xf32> -> tensor<8x16x3x4x16xf32>
  %b0_s_heads = dsp.transpose %b0_s_split perm [2, 0, 3, 1, 4] : tensor<8x16x3x4x16xf32> -> tensor<3x8x4x16x16xf32>
  %b0_s_q5 = dsp.slice %b0_s_heads {limits = array<i64: 1, 8, 4, 16, 16>, starts = array<i64: 0, 0, 0, 0, 0>, strides = array<i64: 1, 1, 1, 1, 1>} : tensor<3x8x4x16x16xf32> -> tensor<1x8x4x16x16xf32>
  %b0_s_q = dsp.reshape %b0_s_q5 : tensor<1x8x4x16x16xf32> -> tensor<8x4x16x16xf32>
  %b0_s_k5 = dsp.slice %b0_s_heads {limits = array<i64: 2, 8, 4, 16, 16>, starts = array<i64: 1, 0, 0, 0, 0>, strides = array<i64: 1, 1, 1, 1, 1>} : tensor<3x8x4x16x16xf32> -> tensor<1x8x4x16x16xf32>
  %b0_s_k = dsp.reshape %b0_s_k5 : tensor<1x8x4x16x16xf32> -> tensor<8x4x16x16xf32>
  %b0_s_v5 = dsp.slice %b0_s_heads {limits = array<i64: 3, 8, 4, 16, 16>, starts = array<i64: 2, 0, 0, 0, 0>, strides = array<i64: 1, 1, 1, 1, 1>} : tensor<3x8x4x16x16xf32> -> tensor<1x8x4x16x16xf32>
  %b0_s_v = dsp.reshape %b0_s_v5 : tensor<1x8x4x16x16xf32> -> tensor<8x4x16x16xf32>
  %b0_s_att = dsp.attention %b0_s_q, %b0_s_k, %b0_s_v {scale = 2.500000e-01 : f64} : (tensor<8x4x16x16xf32>, tensor<8x4x16x16xf32>, tensor<8x4x16x16xf32>) -> tensor<8x4x16x16xf32>
  %b0_s_merge = dsp.transpose %b0_s_att perm [0, 2, 1, 3] : tensor<8x4x16x16xf32> -> tensor<8x16x4x16xf32>
  %b0_s_cat = dsp.reshape %b0_s_merge : tensor<8x16x4x16xf32> -> tensor<8x16x64xf32>
  %b0_s_proj = dsp.matmul %b0_s_cat, %b0_swo : tensor<8x16x64xf32>, tensor<64x64xf32> -> tensor<8x16x64xf32>
  %b0_s_out = dsp.reshape %b0_s_proj : tensor<8x16x64xf32> -> tensor<1x8x16x64xf32>
  %b0_x1 = dsp.add %x, %b0_s_out : tensor<1x8x16x64xf32>, tensor<1x8x16x64xf32> -> tensor<1x8x16x64xf32>
  %b0_ln2 = dsp.layer_norm %b0_x1, %b0_g2, %b0_beta2 {axis = 3 : i64, epsilon = 1.0e-06 : f64} : (tensor<1x8x16x64xf32>, tensor<64xf32>, tensor<64xf32>) -> tensor<1x8x16x64xf32>
  %b0_t_tr = dsp.transpose %b0_ln2 perm [0, 2, 1, 3] : tensor<1x8x16x64xf32> -> tensor<1x16x8x64xf32>
  %b0_t_in = dsp.reshape %b0_t_tr : tensor<1x16x8x64xf32> -> tensor<16x8x64xf32>
  %b0_t_qp = dsp.matmul %b0_t_in, %b0_twq : tensor<16x8x64xf32>, tensor<64x64xf32> -> tensor<16x8x64xf32>
  %b0_t_qr = dsp.reshape %b0_t_qp : tensor<16x8x64xf32> -> tensor<16x8x4x16xf32>
  %b0_t_q = dsp.transpose %b0_t_qr perm [0, 2, 1, 3] : tensor<16x8x4x16xf32> -> tensor<16x4x8x16xf32>
  %b0_t_kp = dsp.matmul %b0_t_in, %b0_twk : tensor<16x8x64xf32>, tensor<64x64xf32> -> tensor<16x8x64xf32>
  %b0_t_kr = dsp.reshape %b0_t_kp : tensor<16x8x64xf32> -> tensor<16x8x4x16xf32>
  %b0_t_k = dsp.transpose %b0_t_kr perm [0, 2, 1, 3] : tensor<16x8x4x16xf32> -> tensor<16x4x8x16xf32>
  %b0_t_vp = dsp.matmul %b0_t_in, %b0_twv : tensor<16x8x64xf32>, tensor<64x64xf32> -> tensor<16x8x64xf32>
  %b0_t_vr = dsp.reshape %b0_t_vp : tensor<16x8x64xf32> -> tensor<16x8x4x16xf32>
  %b0_t_v = dsp.transpose %b0_t_vr perm [0, 2, 1, 3] : tensor<16x8x4x16xf32> -> tensor<16x4x8x16xf32>
  %b0_t_att = dsp.attention %b0_t_q, %b0_t_k, %b0_t_v {scale = 2.500000e-01 : f64} : (tensor<16x4x8x16xf32>, tensor<16x4x8x16xf32>, tensor<16x4x8x16xf32>) -> tensor<16x4x8x16xf32>
  %b0_t_merge = dsp.transpose %b0_t_att perm [0, 2, 1, 3] : tensor<16x4x8x16xf32> -> tensor<16x8x4x16xf32>
  %b0_t_cat = dsp.reshape %b0_t_merge : tensor<16x8x4x16xf32> -> tensor<16x8x64xf32>
  %b0_t_proj = dsp.matmul %b0_t_cat, %b0_two : tensor<16x8x64xf32>, tensor<64x64xf32> -> tensor<16x8x64xf32>
  %b0_t_back = dsp.reshape %b0_t_proj : tensor<16x8x64xf32> -> tensor<1x16x8x64xf32>
  %b0_t_out = dsp.transpose %b0_t_back perm [0, 2, 1, 3] : tensor<1x16x8x64xf32> -> tensor<1x8x16x64xf32>
  %b0_x2 = dsp.add %b0_x1, %b0_t_out : tensor<1x8x16x64xf32>, tensor<1x8x16x64xf32> -> tensor<1x8x16x64xf32>
  %b0_c_in = dsp.reshape %b0_x2 : tensor<1x8x16x64xf32> -> tensor<1x128x64xf32>
  %b0_c_qp = dsp.matmul %b0_c_in, %b0_cwq : tensor<1x128x64xf32>, tensor<64x64xf32> -> tensor<1x128x64xf32>
  %b0_c_qr = dsp.reshape %b0_c_qp : tensor<1x128x64xf32> -> tensor<1x128x4x16xf32>
  %b0_c_q = dsp.transpose %b0_c_qr perm [0, 2, 1, 3] : tensor<1x128x4x16xf32> -> tensor<1x4x128x16xf32>
  %b0_c_kp = dsp.matmul %y, %b0_cwk : tensor<1x8x64xf32>, tensor<64x64xf32> -> tensor<1x8x64xf32>
  %b0_c_kr = dsp.reshape %b0_c_kp : tensor<1x8x64xf32> -> tensor<1x8x4x16xf32>
  %b0_c_k = dsp.transpose %b0_c_kr perm [0, 2, 1, 3] : tensor<1x8x4x16xf32> -> tensor<1x4x8x16xf32>
  %b0_c_vp = dsp.matmul %y, %b0_cwv : tensor<1x8x64xf32>, tensor<64x64xf32> -> tensor<1x8x64xf32>
  %b0_c_vr = dsp.reshape %b0_c_vp : tensor<1x8x64xf32> -> tensor<1x8x4x16xf32>
  %b0_c_v = dsp.transpose %b0_c_vr perm [0, 2, 1, 3] : tensor<1x8x4x16xf32> -> tensor<1x4x8x16xf32>
  %b0_c_att = dsp.attention %b0_c_q, %b0_c_k, %b0_c_v {scale = 2.500000e-01 : f64} : (tensor<1x4x128x16xf32>, tensor<1x4x8x16xf32>, tensor<1x4x8x16xf32>) -> tensor<1x4x128x16xf32>
  %b0_c_merge = dsp.transpose %b0_c_att perm [0, 2, 1, 3] : tensor<1x4x128x16xf32> -> tensor<1x128x4x16xf32>
  %b0_c_cat = dsp.reshape %b0_c_merge : tensor<1x128x4x16xf32> -> tensor<1x128x64xf32>
  %b0_c_proj = dsp.matmul %b0_c_cat, %b0_cwo : tensor<1x128x64xf32>, tensor<64x64xf32> -> tensor<1x128x64xf32>
  %b0_c_out = dsp.reshape %b0_c_proj : tensor<1x128x64xf32> -> tensor<1x8x16x64xf32>
  %b0_x3 = dsp.add %b0_x2, %b0_c_out : tensor<1x8x16x64xf32>, tensor<1x8x16x64xf32> -> tensor<1x8x16x64xf32>
  %b0_ln3 = dsp.layer_norm %b0_x3, %b0_g3, %b0_beta3 {axis = 3 : i64, epsilon = 1.0e-06 : f64} : (tensor<1x8x16x64xf32>, tensor<64xf32>, tensor<64xf32>) -> tensor<1x8x16x64xf32>
  %b0_fc1 = dsp.matmul %b0_ln3, %b0_w1 : tensor<1x8x16x64xf32>, tensor<64x256xf32> -> tensor<1x8x16x256xf32>
  %b0_act = dsp.gelu %b0_fc1 {approximate = "tanh"} : tensor<1x8x16x256xf32>
  %b0_fc2 = dsp.matmul %b0_act, %b0_w2 : tensor<1x8x16x256xf32>, tensor<256x64xf32> -> tensor<1x8x16x64xf32>
  %b0_x4 = dsp.add %b0_x3, %b0_fc2 : tensor<1x8x16x64xf32>, tensor<1x8x16x64xf32> -> tensor<1x8x16x64xf32>
  %b1_g1 = dsp.constant dense<1.0> : tensor<64xf32>
  %b1_beta1 = dsp.constant dense<0.0> : tensor<64xf32>
  %b1_g2 = dsp.constant dense<1.0> : tensor<64xf32>
  %b1_beta2 = dsp.constant dense<0.0> : tensor<64xf32>
  %b1_g3 = dsp.constant dense<1.0> : tensor<64xf32>
  %b1_beta3 = dsp.constant dense<0.0> : tensor<64xf32>
  %b1_wqkv = dsp.constant dense<0.01> : tensor<64x192xf32>
  %b1_swo = dsp.constant dense<0.04> : tensor<64x64xf32>
  %b1_twq = dsp.constant dense<0.01> : tensor<64x64xf32>
  %b1_twk = dsp.constant dense<0.02> : tensor<64x64xf32>
  %b1_twv = dsp.constant dense<0.03> : tensor<64x64xf32>
  %b1_two = dsp.constant dense<0.04> : tensor<64x64xf32>
  %b1_cwq = dsp.constant dense<0.01> : tensor<64x64xf32>
  %b1_cwk = dsp.constant dense<0.02> : tensor<64x64xf32>
  %b1_cwv = dsp.constant dense<0.03> : tensor<64x64xf32>
  %b1_cwo = dsp.constant dense<0.04> : tensor<64x64xf32>
  %b1_w1 = dsp.constant dense<0.05> : tensor<64x256xf32>
  %b1_w2 = dsp.constant dense<0.06> : tensor<256x64xf32>
  %b1_ln1 = dsp.layer_norm %b0_x4, %b1_g1, %b1_beta1 {axis = 3 : i64, epsilon = 1.0e-06 : f64} : (tensor<1x8x16x64xf32>, tensor<64xf32>, tensor<64xf32>) -> tensor<1x8x16x64xf32>
  %b1_s_in = dsp.reshape %b1_ln1 : tensor<1x8x16x64xf32> -> tensor<8x16x64xf32>
  %b1_s_qkv = dsp.matmul %b1_s_in, %b1_wqkv : tensor<8x16x64xf32>, tensor<64x192xf32> -> tensor<8x16x192xf32>
  %b1_s_split = dsp.reshape %b1_s_qkv : tensor<8x16x192xf32> -> tensor<8x16x3x4x16xf32>
  %b1_s_heads = dsp.transpose %b1_s_split perm [2, 0, 3, 1, 4] : tensor<8x16x3x4x16xf32> -> tensor<3x8x4x16x16xf32>
  %b1_s_q5 = dsp.slice %b1_s_heads {limits = array<i64: 1, 8, 4, 16, 16>, starts = array<i64: 0, 0, 0, 0, 0>, strides = array<i64: 1, 1, 1, 1, 1>} : tensor<3x8x4x16x16xf32> -> tensor<1x8x4x16x16xf32>
  %b1_s_q = dsp.reshape %b1_s_q5 : tensor<1x8x4x16x16xf32> -> tensor<8x4x16x16xf32>
  %b1_s_k5 = dsp.slice %b1_s_heads {limits = array<i64: 2, 8, 4, 16, 16>, starts = array<i64: 1, 0, 0, 0, 0>, strides = array<i64: 1, 1, 1, 1, 1>} : tensor<3x8x4x16x16xf32> -> tensor<1x8x4x16x16xf32>
  %b1_s_k = dsp.reshape %b1_s_k5 : tensor<1x8x4x16x16xf32> -> tensor<8x4x16x16xf32>
  %b1_s_v5 = dsp.slice %b1_s_heads {limits = array<i64: 3, 8, 4, 16, 16>, starts = array<i64: 2, 0, 0, 0, 0>, strides = array<i64: 1, 1, 1, 1, 1>} : tensor<3x8x4x16x16xf32> -> tensor<1x8x4x16x16xf32>
  %b1_s_v = dsp.reshape %b1_s_v5 : tensor<1x8x4x16x16xf32> -> tensor<8x4x16x16xf32>
  %b1_s_att = dsp.attention %b1_s_q, %b1_s_k, %b1_s_v {scale = 2.500000e-01 : f64} : (tensor<8x4x16x16xf32>, tensor<8x4x16x16xf32>, tensor<8x4x16x16xf32>) -> tensor<8x4x16x16xf32>
  %b1_s_merge = dsp.transpose %b1_s_att perm [0, 2, 1, 3] : tensor<8x4x16x16xf32> -> tensor<8x16x4x16xf32>
  %b1_s_cat = dsp.reshape %b1_s_merge : tensor<8x16x4x16xf32> -> tensor<8x16x64xf32>
  %b1_s_proj = dsp.matmul %b1_s_cat, %b1_swo : tensor<8x16x64xf32>, tensor<64x64xf32> -> tensor<8x16x64xf32>
  %b1_s_out = dsp.reshape %b1_s_proj : tensor<8x16x64xf32> -> tensor<1x8x16x64xf32>
  %b1_x1 = dsp.add %b0_x4, %b1_s_out : tensor<1x8x16x64xf32>, tensor<1x8x16x64xf32> -> tensor<1x8x16x64xf32>
  %b1_ln2 = dsp.layer_norm %b1_x1, %b1_g2, %b1_beta2 {axis = 3 : i64, epsilon = 1.0e-06 : f64} : (tensor<1x8x16x64xf32>, tensor<64xf32>, tensor<64xf32>) -> tensor<1x8x16x64xf32>
  %b1_t_tr = dsp.transpose %b1_ln2 perm [0, 2, 1, 3] : tensor<1x8x16x64xf32> -> tensor<1x16x8x64xf32>
  %b1_t_in = dsp.reshape %b1_t_tr : tensor<1x16x8x64xf32> -> tensor<16x8x64xf32>
  %b1_t_qp = dsp.matmul %b1_t_in, %b1_twq : tensor<16x8x64xf32>, tensor<64x64xf32> -> tensor<16x8x64xf32>
  %b1_t_qr = dsp.reshape %b1_t_qp : tensor<16x8x64xf32> -> tensor<16x8x4x16xf32>
  %b1_t_q = dsp.transpose %b1_t_qr perm [0, 2, 1, 3] : tensor<16x8x4x16xf32> -> tensor<16x4x8x16xf32>
  %b1_t_kp = dsp.matmul %b1_t_in, %b1_twk : tensor<16x8x64xf32>, tensor<64x64xf32> -> tensor<16x8x64xf32>
  %b1_t_kr = dsp.reshape %b1_t_kp : tensor<16x8x64xf32> -> tensor<16x8x4x16xf32>
  %b1_t_k = dsp.transpose %b1_t_kr perm [0, 2, 1, 3] : tensor<16x8x4x16xf32> -> tensor<16x4x8x16xf32>
  %b1_t_vp = dsp.matmul %b1_t_in, %b1_twv : tensor<16x8x64xf32>, tensor<64x64xf32> -> tensor<16x8x64xf32>
  %b1_t_vr = dsp.reshape %b1_t_vp : tensor<16x8x64xf32> -> tensor<16x8x4x16xf32>
  %b1_t_v = dsp.transpose %b1_t_vr perm [0, 2, 1, 3] : tensor<16x8x4x16xf32> -> tensor<16x4x8x16xf32>
  %b1_t_att = dsp.attention %b1_t_q, %b1_t_k, %b1_t_v {scale = 2.500000e-01 : f64} : (tensor<16x4x8x16xf32>, tensor<16x4x8x16xf32>, tensor<16x4x8x16xf32>) -> tensor<16x4x8x16xf32>
  %b1_t_merge = dsp.transpose %b1_t_att perm [0, 2, 1, 3] : tensor<16x4x8x16xf32> -> tensor<16x8x4x16xf32>
  %b1_t_cat = dsp.reshape %b1_t_merge : tensor<16x8x4x16xf32> -> tensor<16x8x64xf32>
  %b1_t_proj = dsp.matmul %b1_t_cat, %b1_two : tensor<16x8x64xf32>, tensor<64x64xf32> -> tensor<16x8x64xf32>
  %b1_t_back = dsp.reshape %b1_t_proj : tensor<16x8x64xf32> -> tensor<1x16x8x64xf32>
  %b1_t_out = dsp.transpose %b1_t_back perm [0, 2, 1, 3] : tensor<1x16x8x64xf32> -> tensor<1x8x16x64xf32>
  %b1_x2 = dsp.add %b1_x1, %b1_t_out : tensor<1x8x16x64xf32>, tensor<1x8x16x64xf32> -> tensor<1x8x16x64xf32>
  %b1_c_in = dsp.reshape %b1_x2 : tensor<1x8x16x64xf32> -> tensor<1x128x64xf32>
  %b1_c_qp = dsp.matmul %b1_c_in, %b1_cwq : tensor<1x128x64xf32>, tensor<64x64xf32> -> tensor<1x128x64xf32>
  %b1_c_qr = dsp.reshape %b1_c_qp : tensor<1x128x64xf32> -> tensor<1x128x4x16xf32>
  %b1_c_q = dsp.transpose %b1_c_qr perm [0, 2, 1, 3] : tensor<1x128x4x16xf32> -> tensor<1x4x128x16xf32>
  %b1_c_kp = dsp.matmul %y, %b1_cwk : tensor<1x8x64xf32>, tensor<64x64xf32> -> tensor<1x8x64xf32>
  %b1_c_kr = dsp.reshape %b1_c_kp : tensor<1x8x64xf32> -> tensor<1x8x4x16xf32>
  %b1_c_k = dsp.transpose %b1_c_kr perm [0, 2, 1, 3] : tensor<1x8x4x16xf32> -> tensor<1x4x8x16xf32>
  %b1_c_vp = dsp.matmul %y, %b1_cwv : tensor<1x8x64xf32>, tensor<64x64xf32> -> tensor<1x8x64xf32>
  %b1_c_vr = dsp.reshape %b1_c_vp : tensor<1x8x64xf32> -> tensor<1x8x4x16xf32>
  %b1_c_v = dsp.transpose %b1_c_vr perm [0, 2, 1, 3] : tensor<1x8x4x16xf32> -> tensor<1x4x8x16xf32>
  %b1_c_att = dsp.attention %b1_c_q, %b1_c_k, %b1_c_v {scale = 2.500000e-01 : f64} : (tensor<1x4x128x16xf32>, tensor<1x4x8x16xf32>, tensor<1x4x8x16xf32>) -> tensor<1x4x128x16xf32>
  %b1_c_merge = dsp.transpose %b1_c_att perm [0, 2, 1, 3] : tensor<1x4x128x16xf32> -> tensor<1x128x4x16xf32>
  %b1_c_cat = dsp.reshape %b1_c_merge : tensor<1x128x4x16xf32> -> tensor<1x128x64xf32>
  %b1_c_proj = dsp.matmul %b1_c_cat, %b1_cwo : tensor<1x128x64xf32>, tensor<64x64xf32> -> tensor<1x128x64xf32>
  %b1_c_out = dsp.reshape %b1_c_proj : tensor<1x128x64xf32> -> tensor<1x8x16x64xf32>
  %b1_x3 = dsp.add %b1_x2, %b1_c_out : tensor<1x8x16x64xf32>, tensor<1x8x16x64xf32> -> tensor<1x8x16x64xf32>
  %b1_ln3 = dsp.layer_norm %b1_x3, %b1_g3, %b1_beta3 {axis = 3 : i64, epsilon = 1.0e-06 : f64} : (tensor<1x8x16x64xf32>, tensor<64xf32>, tensor<64xf32>) -> tensor<1x8x16x64xf32>
  %b1_fc1 = dsp.matmul %b1_ln3, %b1_w1 : tensor<1x8x16x64xf32>, tensor<64x256xf32> -> tensor<1x8x16x256xf32>
  %b1_act = dsp.gelu %b1_fc1 {approximate = "tanh"} : tensor<1x8x16x256xf32>
  %b1_fc2 = dsp.matmul %b1_act, %b1_w2 : tensor<1x8x16x256xf32>, tensor<256x64xf32> -> tensor<1x8x16x64xf32>
  %b1_x4 = dsp.add %b1_x3, %b1_fc2 : tensor<1x8x16x64xf32>, tensor<1x8x16x64xf32> -> tensor<1x8x16x64xf32>
  return %b1_x4 : tensor<1x8x16x64xf32>
}


// The plan report's bytes for one ST-DiT block ([1, 8, 16, 64] f32, 4 heads
// of 16, text [1, 8, 64]) under each strategy, against sums worked out by
// hand. Per rank, for a value of M bytes on N ranks (CostModel.h):
//   all_to_all M(N-1)/N^2, all_gather and reduce_scatter M(N-1)/N,
//   all_reduce 2M(N-1)/N.
// Sizes: x-sized [1, 8, 16, 64] = 8192 f32 = 32768 B; the text K or V in
// heads [1, 4, 8, 16] = 512 f32 = 2048 B; the fused QKV [8, 16, 3, 4, 16] =
// 24576 f32 = 98304 B.

// RUN: dsp-opt %s --dsp-propagate-sharding="ranks=4 strategy=auto" --dsp-insert-reshards --dsp-report=%t.auto.json -o /dev/null
// RUN: FileCheck %s --check-prefix=AUTO < %t.auto.json
// RUN: dsp-opt %s --dsp-propagate-sharding="ranks=4 strategy=dsp" --dsp-insert-reshards --dsp-report=%t.dsp.json -o /dev/null
// RUN: FileCheck %s --check-prefix=AUTO < %t.dsp.json
// RUN: dsp-opt %s --dsp-propagate-sharding="ranks=4 strategy=auto" --dsp-insert-reshards --dsp-summary -o /dev/null 2>&1 | FileCheck %s --check-prefix=SUMMARY
// RUN: dsp-opt %s --dsp-propagate-sharding="ranks=2 strategy=auto" --dsp-insert-reshards --dsp-report=%t.auto2.json -o /dev/null
// RUN: FileCheck %s --check-prefix=AUTO2 < %t.auto2.json
// RUN: dsp-opt %s --dsp-propagate-sharding="ranks=4 strategy=ulysses" --dsp-insert-reshards --dsp-report=%t.ulysses.json -o /dev/null
// RUN: FileCheck %s --check-prefix=ULY < %t.ulysses.json
// RUN: dsp-opt %s --dsp-propagate-sharding="ranks=4 strategy=megatron-sp" --dsp-insert-reshards --dsp-report=%t.megatron.json -o /dev/null
// RUN: FileCheck %s --check-prefix=MEG < %t.megatron.json
// RUN: dsp-opt %s --dsp-propagate-sharding="ranks=4 strategy=none" --dsp-insert-reshards --dsp-report=%t.none.json -o /dev/null
// RUN: FileCheck %s --check-prefix=NONE < %t.none.json

// auto and dsp, 4 ranks: each rank reads its block of x (split on T),
// spatial attention runs on T, one all_to_all of an x-sized value moves to
// S (32768 * 3/16 = 6144) for temporal and cross attention and the MLP, and
// the result is gathered from S (32768 * 3/4 = 24576): 30720. The text K
// and V projections, a side stream, run replicated: cheaper than gathering
// them. All else is split 4 ways without pads; the busiest rank does a
// quarter of the rest plus the two replicated projections [1, 8, 64] x
// [64, 64]: (20521984 - 2 * 65536) / 4 + 2 * 65536 = 5229568.
// AUTO:      "bytes": 32768,
// AUTO-NEXT: "bytes_per_rank": 6144,
// AUTO:      "kind": "all_to_all",
// AUTO:      "bytes": 32768,
// AUTO-NEXT: "bytes_per_rank": 24576,
// AUTO:      "kind": "all_gather",
// AUTO:      "compute": {
// AUTO-NEXT:   "flops_per_rank": 5229568,
// AUTO-NEXT:   "flops_total": 20521984
// AUTO:      "totals": {
// AUTO-NEXT:   "bytes_per_rank": 30720,
// AUTO:        "count": {
// AUTO-NEXT:     "all_gather": 1,
// AUTO-NEXT:     "all_to_all": 1
// AUTO-NEXT:   },

// SUMMARY:      Totals
// SUMMARY-NEXT:   {{^}}  all_gather: 1{{$}}
// SUMMARY-NEXT:   {{^}}  all_to_all: 1{{$}}
// SUMMARY-NEXT:   {{^}}  bytes per rank: 30.0 KiB (gathering the results: 24.0 KiB){{$}}

// auto, 2 ranks: 32768 * 1/4 + 32768 * 1/2 = 8192 + 16384 = 24576.
// AUTO2:      "bytes": 32768,
// AUTO2-NEXT: "bytes_per_rank": 8192,
// AUTO2:      "kind": "all_to_all",
// AUTO2:      "totals": {
// AUTO2-NEXT:   "bytes_per_rank": 24576,

// ulysses, 4 ranks: spatial: Q, K and V sliced from the fused QKV and the
// output (4 * 6144 = 24576, what the fused QKV and the output would move:
// 98304 * 3/16 + 6144); temporal: Q, K, V and the output (4 * 6144 =
// 24576); cross: Q and the output (2 * 6144), the text K and V replicated;
// the result gathered (24576). 24576 + 24576 + 12288 + 24576 = 86016.
// Every weight is whole on every rank: 6 norm vectors (1536), the fused QKV
// (49152), 8 [64, 64] projections (131072) and the MLP (131072): 329216.
// ULY:      "bytes": 32768,
// ULY-NEXT: "bytes_per_rank": 6144,
// ULY:      "kind": "all_to_all",
// ULY:      "totals": {
// ULY-NEXT:   "bytes_per_rank": 86016,
// ULY:        "count": {
// ULY-NEXT:     "all_gather": 1,
// ULY-NEXT:     "all_to_all": 10
// ULY-NEXT:   },
// ULY:      "weights": {
// ULY-NEXT:   "bytes_per_rank": 329216,
// ULY-NEXT:   "bytes_total": 329216

// megatron-sp, 4 ranks: an all_gather of x into each of the three
// attentions' projections and into the MLP and a reduce_scatter out of each
// (8 * 32768 * 3/4), the result gathered (24576): 9 * 24576 = 221184. Each
// rank holds a quarter of every projection and MLP weight and the norms
// whole: 1536 + (329216 - 1536) / 4 = 83456.
// MEG:      "totals": {
// MEG-NEXT:   "bytes_per_rank": 221184,
// MEG:        "count": {
// MEG-NEXT:     "all_gather": 5,
// MEG-NEXT:     "reduce_scatter": 4
// MEG-NEXT:   },
// MEG:      "weights": {
// MEG-NEXT:   "bytes_per_rank": 83456,
// MEG-NEXT:   "bytes_total": 329216

// none: nothing moves and one rank does all the work.
// NONE:      "collectives": [],
// NONE:      "flops_per_rank": 20521984,
// NONE:      "totals": {
// NONE-NEXT:   "bytes_per_rank": 0,
// NONE:        "count": {},

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


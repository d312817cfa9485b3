// Dims that do not divide by the rank count are padded: T = 6 frames on 4
// ranks is split as 8 with 2 pad frames.

// RUN: dsp-opt %s -split-input-file --dsp-propagate-sharding="ranks=4 strategy=auto" --dsp-insert-reshards | FileCheck %s
// RUN: dsp-opt %s -split-input-file --dsp-propagate-sharding="ranks=4 strategy=dsp" --dsp-insert-reshards | FileCheck %s
// RUN: dsp-opt %s -split-input-file --dsp-propagate-sharding="ranks=4 strategy=auto" --dsp-insert-reshards --dsp-summary -o /dev/null 2>&1 | FileCheck %s --check-prefix=BYTES

// Bytes move with their pads. The switch of [1, 6, 16, 64] f32 (24576 B)
// from T padded to 8 carries 24576 * 8/6 = 32768 B: 32768 * 3/16 = 6144 per
// rank. The result [1, 6, 16, 64] is split on S (even): 24576 * 3/4 =
// 18432. The mean's all_reduce of [1, 64] f32 (256 B): 2 * 256 * 3/4 = 384.
// BYTES-LABEL: Plan for 4 ranks
// BYTES:       all_to_all {{.*}} 6.00 KiB {{.*}} T → S of [B,T,S,C] = [1,6,16,64]
// BYTES:       all_gather {{.*}} 18.0 KiB {{.*}} S → replicated of [B,T,S,C] = [1,6,16,64]
// BYTES:       bytes per rank: 24.0 KiB (gathering the results: 18.0 KiB){{$}}
// BYTES-LABEL: Plan for 4 ranks
// BYTES:       all_reduce {{.*}} 384 B {{.*}} partial sums → replicated of {{.*}}[1,64]
// BYTES:       bytes per rank: 384 B (gathering the results: 0 B){{$}}

// The ST-DiT block with T = 6: each rank reads its block of x split on T,
// padded to 8; spatial attention shards its batch B*T the same way, one
// switch moves the padded block to S (16, even) for temporal and cross
// attention, and the result is gathered from S.
// CHECK-LABEL: func.func @uneven_block(
// CHECK-SAME:      {dsp.sharding = #dsp.shard<dim = 1, pad = 2>}
// CHECK:         dsp.layer_norm {{.*}}{{{.*}}dsp.sharding = [#dsp.shard<dim = 1, pad = 2>]{{.*}} -> tensor<1x6x16x64xf32>
// CHECK-NOT:     dsp.all_to_all
// CHECK:         dsp.matmul {{.*}} {dsp.sharding = [#dsp.shard<dim = 0, pad = 2>]} : tensor<6x16x64xf32>, tensor<64x192xf32> -> tensor<6x16x192xf32>
// CHECK-NOT:     dsp.all_to_all
// CHECK:         dsp.attention {{.*}}{dsp.sharding = [#dsp.shard<dim = 0, pad = 2>]{{.*}} -> tensor<6x4x16x16xf32>
// CHECK:         dsp.all_to_all %{{.*}} split 2 concat 1 {dsp.sharding = [#dsp.shard<dim = 2>]} : tensor<1x6x16x64xf32>
// CHECK-NOT:     dsp.all_to_all
// CHECK:         dsp.attention {{.*}}{dsp.sharding = [#dsp.shard<dim = 0>]{{.*}} -> tensor<16x4x6x16xf32>
// CHECK-NOT:     dsp.all_to_all
// CHECK:         dsp.attention {{.*}}{dsp.sharding = [#dsp.shard<dim = 2, factors = [6, 16], factor = 1>]{{.*}} -> tensor<1x4x96x16xf32>
// CHECK-NOT:     dsp.all_to_all
// CHECK:         dsp.all_gather %{{.*}} dim 2
// CHECK-NEXT:    return

func.func @uneven_block(%x: tensor<1x6x16x64xf32>, %y: tensor<1x8x64xf32>) -> tensor<1x6x16x64xf32> {
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
  %b0_ln1 = dsp.layer_norm %x, %b0_g1, %b0_beta1 {axis = 3 : i64, epsilon = 1.0e-06 : f64} : (tensor<1x6x16x64xf32>, tensor<64xf32>, tensor<64xf32>) -> tensor<1x6x16x64xf32>
  %b0_s_in = dsp.reshape %b0_ln1 : tensor<1x6x16x64xf32> -> tensor<6x16x64xf32>
  %b0_s_qkv = dsp.matmul %b0_s_in, %b0_wqkv : tensor<6x16x64xf32>, tensor<64x192xf32> -> tensor<6x16x192xf32>
  %b0_s_split = dsp.reshape %b0_s_qkv : tensor<6x16x192xf32> -> tensor<6x16x3x4x16xf32>
  %b0_s_heads = dsp.transpose %b0_s_split perm [2, 0, 3, 1, 4] : tensor<6x16x3x4x16xf32> -> tensor<3x6x4x16x16xf32>
  %b0_s_q5 = dsp.slice %b0_s_heads {limits = array<i64: 1, 6, 4, 16, 16>, starts = array<i64: 0, 0, 0, 0, 0>, strides = array<i64: 1, 1, 1, 1, 1>} : tensor<3x6x4x16x16xf32> -> tensor<1x6x4x16x16xf32>
  %b0_s_q = dsp.reshape %b0_s_q5 : tensor<1x6x4x16x16xf32> -> tensor<6x4x16x16xf32>
  %b0_s_k5 = dsp.slice %b0_s_heads {limits = array<i64: 2, 6, 4, 16, 16>, starts = array<i64: 1, 0, 0, 0, 0>, strides = array<i64: 1, 1, 1, 1, 1>} : tensor<3x6x4x16x16xf32> -> tensor<1x6x4x16x16xf32>
  %b0_s_k = dsp.reshape %b0_s_k5 : tensor<1x6x4x16x16xf32> -> tensor<6x4x16x16xf32>
  %b0_s_v5 = dsp.slice %b0_s_heads {limits = array<i64: 3, 6, 4, 16, 16>, starts = array<i64: 2, 0, 0, 0, 0>, strides = array<i64: 1, 1, 1, 1, 1>} : tensor<3x6x4x16x16xf32> -> tensor<1x6x4x16x16xf32>
  %b0_s_v = dsp.reshape %b0_s_v5 : tensor<1x6x4x16x16xf32> -> tensor<6x4x16x16xf32>
  %b0_s_att = dsp.attention %b0_s_q, %b0_s_k, %b0_s_v {scale = 2.500000e-01 : f64} : (tensor<6x4x16x16xf32>, tensor<6x4x16x16xf32>, tensor<6x4x16x16xf32>) -> tensor<6x4x16x16xf32>
  %b0_s_merge = dsp.transpose %b0_s_att perm [0, 2, 1, 3] : tensor<6x4x16x16xf32> -> tensor<6x16x4x16xf32>
  %b0_s_cat = dsp.reshape %b0_s_merge : tensor<6x16x4x16xf32> -> tensor<6x16x64xf32>
  %b0_s_proj = dsp.matmul %b0_s_cat, %b0_swo : tensor<6x16x64xf32>, tensor<64x64xf32> -> tensor<6x16x64xf32>
  %b0_s_out = dsp.reshape %b0_s_proj : tensor<6x16x64xf32> -> tensor<1x6x16x64xf32>
  %b0_x1 = dsp.add %x, %b0_s_out : tensor<1x6x16x64xf32>, tensor<1x6x16x64xf32> -> tensor<1x6x16x64xf32>
  %b0_ln2 = dsp.layer_norm %b0_x1, %b0_g2, %b0_beta2 {axis = 3 : i64, epsilon = 1.0e-06 : f64} : (tensor<1x6x16x64xf32>, tensor<64xf32>, tensor<64xf32>) -> tensor<1x6x16x64xf32>
  %b0_t_tr = dsp.transpose %b0_ln2 perm [0, 2, 1, 3] : tensor<1x6x16x64xf32> -> tensor<1x16x6x64xf32>
  %b0_t_in = dsp.reshape %b0_t_tr : tensor<1x16x6x64xf32> -> tensor<16x6x64xf32>
  %b0_t_qp = dsp.matmul %b0_t_in, %b0_twq : tensor<16x6x64xf32>, tensor<64x64xf32> -> tensor<16x6x64xf32>
  %b0_t_qr = dsp.reshape %b0_t_qp : tensor<16x6x64xf32> -> tensor<16x6x4x16xf32>
  %b0_t_q = dsp.transpose %b0_t_qr perm [0, 2, 1, 3] : tensor<16x6x4x16xf32> -> tensor<16x4x6x16xf32>
  %b0_t_kp = dsp.matmul %b0_t_in, %b0_twk : tensor<16x6x64xf32>, tensor<64x64xf32> -> tensor<16x6x64xf32>
  %b0_t_kr = dsp.reshape %b0_t_kp : tensor<16x6x64xf32> -> tensor<16x6x4x16xf32>
  %b0_t_k = dsp.transpose %b0_t_kr perm [0, 2, 1, 3] : tensor<16x6x4x16xf32> -> tensor<16x4x6x16xf32>
  %b0_t_vp = dsp.matmul %b0_t_in, %b0_twv : tensor<16x6x64xf32>, tensor<64x64xf32> -> tensor<16x6x64xf32>
  %b0_t_vr = dsp.reshape %b0_t_vp : tensor<16x6x64xf32> -> tensor<16x6x4x16xf32>
  %b0_t_v = dsp.transpose %b0_t_vr perm [0, 2, 1, 3] : tensor<16x6x4x16xf32> -> tensor<16x4x6x16xf32>
  %b0_t_att = dsp.attention %b0_t_q, %b0_t_k, %b0_t_v {scale = 2.500000e-01 : f64} : (tensor<16x4x6x16xf32>, tensor<16x4x6x16xf32>, tensor<16x4x6x16xf32>) -> tensor<16x4x6x16xf32>
  %b0_t_merge = dsp.transpose %b0_t_att perm [0, 2, 1, 3] : tensor<16x4x6x16xf32> -> tensor<16x6x4x16xf32>
  %b0_t_cat = dsp.reshape %b0_t_merge : tensor<16x6x4x16xf32> -> tensor<16x6x64xf32>
  %b0_t_proj = dsp.matmul %b0_t_cat, %b0_two : tensor<16x6x64xf32>, tensor<64x64xf32> -> tensor<16x6x64xf32>
  %b0_t_back = dsp.reshape %b0_t_proj : tensor<16x6x64xf32> -> tensor<1x16x6x64xf32>
  %b0_t_out = dsp.transpose %b0_t_back perm [0, 2, 1, 3] : tensor<1x16x6x64xf32> -> tensor<1x6x16x64xf32>
  %b0_x2 = dsp.add %b0_x1, %b0_t_out : tensor<1x6x16x64xf32>, tensor<1x6x16x64xf32> -> tensor<1x6x16x64xf32>
  %b0_c_in = dsp.reshape %b0_x2 : tensor<1x6x16x64xf32> -> tensor<1x96x64xf32>
  %b0_c_qp = dsp.matmul %b0_c_in, %b0_cwq : tensor<1x96x64xf32>, tensor<64x64xf32> -> tensor<1x96x64xf32>
  %b0_c_qr = dsp.reshape %b0_c_qp : tensor<1x96x64xf32> -> tensor<1x96x4x16xf32>
  %b0_c_q = dsp.transpose %b0_c_qr perm [0, 2, 1, 3] : tensor<1x96x4x16xf32> -> tensor<1x4x96x16xf32>
  %b0_c_kp = dsp.matmul %y, %b0_cwk : tensor<1x8x64xf32>, tensor<64x64xf32> -> tensor<1x8x64xf32>
  %b0_c_kr = dsp.reshape %b0_c_kp : tensor<1x8x64xf32> -> tensor<1x8x4x16xf32>
  %b0_c_k = dsp.transpose %b0_c_kr perm [0, 2, 1, 3] : tensor<1x8x4x16xf32> -> tensor<1x4x8x16xf32>
  %b0_c_vp = dsp.matmul %y, %b0_cwv : tensor<1x8x64xf32>, tensor<64x64xf32> -> tensor<1x8x64xf32>
  %b0_c_vr = dsp.reshape %b0_c_vp : tensor<1x8x64xf32> -> tensor<1x8x4x16xf32>
  %b0_c_v = dsp.transpose %b0_c_vr perm [0, 2, 1, 3] : tensor<1x8x4x16xf32> -> tensor<1x4x8x16xf32>
  %b0_c_att = dsp.attention %b0_c_q, %b0_c_k, %b0_c_v {scale = 2.500000e-01 : f64} : (tensor<1x4x96x16xf32>, tensor<1x4x8x16xf32>, tensor<1x4x8x16xf32>) -> tensor<1x4x96x16xf32>
  %b0_c_merge = dsp.transpose %b0_c_att perm [0, 2, 1, 3] : tensor<1x4x96x16xf32> -> tensor<1x96x4x16xf32>
  %b0_c_cat = dsp.reshape %b0_c_merge : tensor<1x96x4x16xf32> -> tensor<1x96x64xf32>
  %b0_c_proj = dsp.matmul %b0_c_cat, %b0_cwo : tensor<1x96x64xf32>, tensor<64x64xf32> -> tensor<1x96x64xf32>
  %b0_c_out = dsp.reshape %b0_c_proj : tensor<1x96x64xf32> -> tensor<1x6x16x64xf32>
  %b0_x3 = dsp.add %b0_x2, %b0_c_out : tensor<1x6x16x64xf32>, tensor<1x6x16x64xf32> -> tensor<1x6x16x64xf32>
  %b0_ln3 = dsp.layer_norm %b0_x3, %b0_g3, %b0_beta3 {axis = 3 : i64, epsilon = 1.0e-06 : f64} : (tensor<1x6x16x64xf32>, tensor<64xf32>, tensor<64xf32>) -> tensor<1x6x16x64xf32>
  %b0_fc1 = dsp.matmul %b0_ln3, %b0_w1 : tensor<1x6x16x64xf32>, tensor<64x256xf32> -> tensor<1x6x16x256xf32>
  %b0_act = dsp.gelu %b0_fc1 {approximate = "tanh"} : tensor<1x6x16x256xf32>
  %b0_fc2 = dsp.matmul %b0_act, %b0_w2 : tensor<1x6x16x256xf32>, tensor<256x64xf32> -> tensor<1x6x16x64xf32>
  %b0_x4 = dsp.add %b0_x3, %b0_fc2 : tensor<1x6x16x64xf32>, tensor<1x6x16x64xf32> -> tensor<1x6x16x64xf32>
  return %b0_x4 : tensor<1x6x16x64xf32>
}

// -----

// TimeSformer's head: each rank reads its block of the frames (with the
// pad), and the mean over the 6 frames of a padded split is a
// partial sum on each rank (the pad frames are zeros), all-reduced before
// the classifier.
// CHECK-LABEL: func.func @cls_mean(
// CHECK-SAME:      %[[X:.*]]: tensor<1x6x64xf32> {dsp.sharding = #dsp.shard<dim = 1, pad = 2>})
// CHECK:         %[[LN:.*]] = dsp.layer_norm %[[X]], {{.*}}dsp.sharding = [#dsp.shard<dim = 1, pad = 2>]
// CHECK-NEXT:    %[[MEAN:.*]] = dsp.reduce_mean %[[LN]] {axes = array<i64: 1>, dsp.sharding = [#dsp.shard<partial>], keepdims = false} : tensor<1x6x64xf32> -> tensor<1x64xf32>
// CHECK-NEXT:    %[[SUM:.*]] = dsp.all_reduce %[[MEAN]] sum {dsp.sharding = [#dsp.shard<replicated>]} : tensor<1x64xf32>
// CHECK-NEXT:    %[[HEAD:.*]] = dsp.matmul %[[SUM]], %{{.*}} {dsp.sharding = [#dsp.shard<replicated>]}
// CHECK-NEXT:    return %[[HEAD]]
func.func @cls_mean(%x: tensor<1x6x64xf32>) -> tensor<1x10xf32> {
  %g = dsp.constant dense<1.0> : tensor<64xf32>
  %b = dsp.constant dense<0.0> : tensor<64xf32>
  %w = dsp.constant dense<0.5> : tensor<64x10xf32>
  %ln = dsp.layer_norm %x, %g, %b {axis = 2 : i64, epsilon = 1.0e-06 : f64} : (tensor<1x6x64xf32>, tensor<64xf32>, tensor<64xf32>) -> tensor<1x6x64xf32>
  %m = dsp.reduce_mean %ln {axes = array<i64: 1>, keepdims = false} : tensor<1x6x64xf32> -> tensor<1x64xf32>
  %h = dsp.matmul %m, %w : tensor<1x64xf32>, tensor<64x10xf32> -> tensor<1x10xf32>
  return %h : tensor<1x10xf32>
}

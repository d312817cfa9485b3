// Joint attention over all T*S = 128 tokens (ViViT, CogVideoX): the only
// sequence factor the attention has is its query sequence.

// Under auto with bandwidth the only cost (latency-us=0), switching to the
// heads moves less than gathering K and V: for M bytes of Q, K, V and the
// output on 4 ranks, 4 * M * 3/16 < 2 * M * 3/4. Q, K and V go into the
// heads dim before attention and the output back to the sequence after.
// (The cuda target, whose backend has no ring kernel yet, leaves the ring
// out.)
// RUN: dsp-opt %s --dsp-set-target="target=cuda" --dsp-propagate-sharding="ranks=4 strategy=auto latency-us=0" --dsp-insert-reshards | FileCheck %s --check-prefix=AUTO

// On the cpu target auto may also run the attention as a ring, whose
// transfers then hide behind its compute: nothing moves but the result.
// With 5 us per transfer the ring's 3 steps expose more than the switch to
// heads costs, and auto switches (on one axis of the ranks; mesh=4 keeps
// auto from splitting them into a 2x2 mesh).
// RUN: dsp-opt %s --dsp-propagate-sharding="ranks=4 strategy=auto latency-us=0" --dsp-insert-reshards | FileCheck %s --check-prefix=AUTO-RING
// RUN: dsp-opt %s --dsp-propagate-sharding="ranks=4 strategy=auto latency-us=5 mesh=4" --dsp-insert-reshards | FileCheck %s --check-prefix=AUTO-HEADS

// dsp never shards heads: attention shards its query sequence and K and V
// are gathered; there is no all_to_all.
// RUN: dsp-opt %s --dsp-propagate-sharding="ranks=4 strategy=dsp" --dsp-insert-reshards | FileCheck %s --check-prefix=DSP
// RUN: dsp-opt %s --dsp-propagate-sharding="ranks=4 strategy=dsp latency-us=0" --dsp-insert-reshards | FileCheck %s --check-prefix=DSP

// AUTO-LABEL: func.func @joint(
// AUTO-NOT:     dsp.all_gather
// AUTO:         %[[Q:.*]] = dsp.all_to_all %{{.*}} split 1 concat 2 {dsp.sharding = [#dsp.shard<dim = 1>]} : tensor<1x4x128x16xf32>
// AUTO:         %[[K:.*]] = dsp.all_to_all %{{.*}} split 1 concat 2 {dsp.sharding = [#dsp.shard<dim = 1>]} : tensor<1x4x128x16xf32>
// AUTO:         %[[V:.*]] = dsp.all_to_all %{{.*}} split 1 concat 2 {dsp.sharding = [#dsp.shard<dim = 1>]} : tensor<1x4x128x16xf32>
// AUTO-NEXT:    %[[A:.*]] = dsp.attention %[[Q]], %[[K]], %[[V]] {dsp.sharding = [#dsp.shard<dim = 1>]
// AUTO-NEXT:    %[[AT:.*]] = dsp.transpose %[[A]] perm [0, 2, 1, 3] {dsp.sharding = [#dsp.shard<dim = 2>]}
// AUTO-NEXT:    dsp.all_to_all %[[AT]] split 1 concat 2 {dsp.sharding = [#dsp.shard<dim = 1>]} : tensor<1x128x4x16xf32>
// AUTO:         dsp.matmul %{{.*}}, %{{.*}} {dsp.sharding = [#dsp.shard<dim = 1>]}
// AUTO-NOT:     dsp.all_to_all
// AUTO:         %[[OUT:.*]] = dsp.all_gather %{{.*}} dim 1
// AUTO-NEXT:    return %[[OUT]]

// AUTO-RING-LABEL: func.func @joint(
// AUTO-RING-NOT:     dsp.all_
// AUTO-RING:         dsp.attention {{.*}} {dsp.sharding = [#dsp.shard<dim = 2>]
// AUTO-RING-NEXT:    dsp.transpose
// AUTO-RING-NOT:     dsp.all_to_all
// AUTO-RING:         %[[OUT:.*]] = dsp.all_gather %{{.*}} dim 1
// AUTO-RING-NEXT:    return %[[OUT]]

// AUTO-HEADS-LABEL: func.func @joint(
// AUTO-HEADS:         dsp.attention {{.*}} {dsp.sharding = [#dsp.shard<dim = 1>]

// DSP-LABEL: func.func @joint(
// DSP-NOT:     dsp.all_to_all
// DSP:         %[[Q:.*]] = dsp.transpose {{.*}} {dsp.sharding = [#dsp.shard<dim = 2>]} : tensor<1x128x4x16xf32> -> tensor<1x4x128x16xf32>
// DSP:         %[[K:.*]] = dsp.all_gather %{{.*}} dim 2 {dsp.sharding = [#dsp.shard<replicated>]} : tensor<1x4x128x16xf32>
// DSP:         %[[V:.*]] = dsp.all_gather %{{.*}} dim 2 {dsp.sharding = [#dsp.shard<replicated>]} : tensor<1x4x128x16xf32>
// DSP-NEXT:    dsp.attention %[[Q]], %[[K]], %[[V]] {dsp.sharding = [#dsp.shard<dim = 2>]
// DSP-NOT:     dsp.all_to_all
// DSP-NOT:     dsp.all_gather
// DSP:         %[[OUT:.*]] = dsp.all_gather %{{.*}} dim 1
// DSP-NEXT:    return %[[OUT]]

func.func @joint(%x: tensor<1x128x64xf32>) -> tensor<1x128x64xf32> {
  %g = dsp.constant dense<1.0> : tensor<64xf32>
  %b = dsp.constant dense<0.0> : tensor<64xf32>
  %wq = dsp.constant dense<0.01> : tensor<64x64xf32>
  %wk = dsp.constant dense<0.02> : tensor<64x64xf32>
  %wv = dsp.constant dense<0.03> : tensor<64x64xf32>
  %wo = dsp.constant dense<0.04> : tensor<64x64xf32>
  %ln = dsp.layer_norm %x, %g, %b {axis = 2 : i64, epsilon = 1.0e-06 : f64} : (tensor<1x128x64xf32>, tensor<64xf32>, tensor<64xf32>) -> tensor<1x128x64xf32>
  %qp = dsp.matmul %ln, %wq : tensor<1x128x64xf32>, tensor<64x64xf32> -> tensor<1x128x64xf32>
  %qr = dsp.reshape %qp : tensor<1x128x64xf32> -> tensor<1x128x4x16xf32>
  %q = dsp.transpose %qr perm [0, 2, 1, 3] : tensor<1x128x4x16xf32> -> tensor<1x4x128x16xf32>
  %kp = dsp.matmul %ln, %wk : tensor<1x128x64xf32>, tensor<64x64xf32> -> tensor<1x128x64xf32>
  %kr = dsp.reshape %kp : tensor<1x128x64xf32> -> tensor<1x128x4x16xf32>
  %k = dsp.transpose %kr perm [0, 2, 1, 3] : tensor<1x128x4x16xf32> -> tensor<1x4x128x16xf32>
  %vp = dsp.matmul %ln, %wv : tensor<1x128x64xf32>, tensor<64x64xf32> -> tensor<1x128x64xf32>
  %vr = dsp.reshape %vp : tensor<1x128x64xf32> -> tensor<1x128x4x16xf32>
  %v = dsp.transpose %vr perm [0, 2, 1, 3] : tensor<1x128x4x16xf32> -> tensor<1x4x128x16xf32>
  %a = dsp.attention %q, %k, %v {scale = 2.500000e-01 : f64} : (tensor<1x4x128x16xf32>, tensor<1x4x128x16xf32>, tensor<1x4x128x16xf32>) -> tensor<1x4x128x16xf32>
  %m = dsp.transpose %a perm [0, 2, 1, 3] : tensor<1x4x128x16xf32> -> tensor<1x128x4x16xf32>
  %c = dsp.reshape %m : tensor<1x128x4x16xf32> -> tensor<1x128x64xf32>
  %o = dsp.matmul %c, %wo : tensor<1x128x64xf32>, tensor<64x64xf32> -> tensor<1x128x64xf32>
  %r = dsp.add %x, %o : tensor<1x128x64xf32>, tensor<1x128x64xf32> -> tensor<1x128x64xf32>
  return %r : tensor<1x128x64xf32>
}

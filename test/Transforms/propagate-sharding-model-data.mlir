// A rotary table computed from constants alone (positions times
// frequencies, then cos and sin) feeds the Q and K of an attention. No input
// reaches it, so every rank computes all of it, as it holds the constants,
// and its readers slice the part they need: whatever the strategy, no
// collective moves the table (before, it was computed split on the sequence
// and all-gathered for the head-sharded readers of auto and megatron-sp).
// RUN: dsp-opt %s --dsp-propagate-sharding="ranks=4 strategy=auto" --dsp-insert-reshards | FileCheck %s --check-prefixes=CHECK,HEADS
// RUN: dsp-opt %s --dsp-propagate-sharding="ranks=4 strategy=megatron-sp" --dsp-insert-reshards | FileCheck %s --check-prefixes=CHECK,HEADS
// RUN: dsp-opt %s --dsp-propagate-sharding="ranks=4 strategy=dsp" --dsp-insert-reshards | FileCheck %s --check-prefixes=CHECK,SEQ
// RUN: dsp-opt %s --dsp-propagate-sharding="ranks=4 strategy=ulysses" --dsp-insert-reshards | FileCheck %s --check-prefixes=CHECK,SEQ

// CHECK-LABEL: func.func @rope(
// CHECK-NOT:     dsp.{{all_gather|all_to_all|all_reduce|reduce_scatter}} {{.*}}tensor<64x16xf32>
// CHECK:         %[[ANGLE:.*]] = dsp.mul {{.*}}{dsp.sharding = [#dsp.shard<replicated>]} : tensor<64x1xf32>, tensor<1x16xf32> -> tensor<64x16xf32>
// CHECK-NEXT:    %[[COS:.*]] = dsp.cos %[[ANGLE]] {dsp.sharding = [#dsp.shard<replicated>]}
// Where Q is split on the sequence, its rows of the table are sliced; where
// it is split on heads, the table is read whole.
// SEQ-NEXT:      %[[ROWS:.*]] = dsp.local_slice %[[COS]] dim 0
// HEADS-NOT:     dsp.local_slice %[[COS]]
// CHECK:         dsp.sin %[[ANGLE]] {dsp.sharding = [#dsp.shard<replicated>]}
// CHECK-NOT:     dsp.{{all_gather|all_to_all|all_reduce|reduce_scatter}} {{.*}}tensor<64x16xf32>
// HEADS-NOT:     dsp.local_slice %[[COS]]
// SEQ:           dsp.mul {{.*}}, %[[ROWS]]
// HEADS:         dsp.mul {{.*}}, %[[COS]] {dsp.sharding = [#dsp.shard<dim = 1>]}
// CHECK-NOT:     dsp.{{all_gather|all_to_all|all_reduce|reduce_scatter}} {{.*}}tensor<64x16xf32>
// CHECK:         dsp.attention
// CHECK-NOT:     dsp.{{all_gather|all_to_all|all_reduce|reduce_scatter}} {{.*}}tensor<64x16xf32>
// CHECK:         return

func.func @rope(%x: tensor<1x64x64xf32>) -> tensor<1x64x64xf32> {
  %wq = dsp.constant dense<0.01> : tensor<64x64xf32>
  %wk = dsp.constant dense<0.02> : tensor<64x64xf32>
  %wv = dsp.constant dense<0.03> : tensor<64x64xf32>
  %wo = dsp.constant dense<0.04> : tensor<64x64xf32>
  %pos = dsp.constant dense<1.0> : tensor<64x1xf32>
  %freq = dsp.constant dense<0.5> : tensor<1x16xf32>
  %angle = dsp.mul %pos, %freq : tensor<64x1xf32>, tensor<1x16xf32> -> tensor<64x16xf32>
  %cos = dsp.cos %angle : tensor<64x16xf32>
  %sin = dsp.sin %angle : tensor<64x16xf32>
  %qp = dsp.matmul %x, %wq : tensor<1x64x64xf32>, tensor<64x64xf32> -> tensor<1x64x64xf32>
  %qr = dsp.reshape %qp : tensor<1x64x64xf32> -> tensor<1x64x4x16xf32>
  %q = dsp.transpose %qr perm [0, 2, 1, 3] : tensor<1x64x4x16xf32> -> tensor<1x4x64x16xf32>
  %kp = dsp.matmul %x, %wk : tensor<1x64x64xf32>, tensor<64x64xf32> -> tensor<1x64x64xf32>
  %kr = dsp.reshape %kp : tensor<1x64x64xf32> -> tensor<1x64x4x16xf32>
  %k = dsp.transpose %kr perm [0, 2, 1, 3] : tensor<1x64x4x16xf32> -> tensor<1x4x64x16xf32>
  %vp = dsp.matmul %x, %wv : tensor<1x64x64xf32>, tensor<64x64xf32> -> tensor<1x64x64xf32>
  %vr = dsp.reshape %vp : tensor<1x64x64xf32> -> tensor<1x64x4x16xf32>
  %v = dsp.transpose %vr perm [0, 2, 1, 3] : tensor<1x64x4x16xf32> -> tensor<1x4x64x16xf32>
  %qc = dsp.mul %q, %cos : tensor<1x4x64x16xf32>, tensor<64x16xf32> -> tensor<1x4x64x16xf32>
  %qs = dsp.mul %q, %sin : tensor<1x4x64x16xf32>, tensor<64x16xf32> -> tensor<1x4x64x16xf32>
  %qrot = dsp.add %qc, %qs : tensor<1x4x64x16xf32>, tensor<1x4x64x16xf32> -> tensor<1x4x64x16xf32>
  %kc = dsp.mul %k, %cos : tensor<1x4x64x16xf32>, tensor<64x16xf32> -> tensor<1x4x64x16xf32>
  %ks = dsp.mul %k, %sin : tensor<1x4x64x16xf32>, tensor<64x16xf32> -> tensor<1x4x64x16xf32>
  %krot = dsp.add %kc, %ks : tensor<1x4x64x16xf32>, tensor<1x4x64x16xf32> -> tensor<1x4x64x16xf32>
  %att = dsp.attention %qrot, %krot, %v {scale = 2.500000e-01 : f64} : (tensor<1x4x64x16xf32>, tensor<1x4x64x16xf32>, tensor<1x4x64x16xf32>) -> tensor<1x4x64x16xf32>
  %merge = dsp.transpose %att perm [0, 2, 1, 3] : tensor<1x4x64x16xf32> -> tensor<1x64x4x16xf32>
  %cat = dsp.reshape %merge : tensor<1x64x4x16xf32> -> tensor<1x64x64xf32>
  %out = dsp.matmul %cat, %wo : tensor<1x64x64xf32>, tensor<64x64xf32> -> tensor<1x64x64xf32>
  return %out : tensor<1x64x64xf32>
}

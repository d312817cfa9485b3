// A rotary table computed from constants alone (positions times
// frequencies, then cos and sin) feeds the Q and K of an attention. No input
// reaches it, so every rank computes the part of it that it reads, or all of
// it and slices that: whatever the strategy, no collective moves the table
// (before, it was computed split on the sequence and all-gathered for the
// head-sharded readers of megatron-sp).
// RUN: dsp-opt %s --dsp-propagate-sharding="ranks=4 strategy=auto" --dsp-insert-reshards | FileCheck %s --check-prefix=WHOLE
// RUN: dsp-opt %s --dsp-propagate-sharding="ranks=4 strategy=megatron-sp" --dsp-insert-reshards | FileCheck %s --check-prefix=WHOLE
// RUN: dsp-opt %s --dsp-propagate-sharding="ranks=4 strategy=dsp" --dsp-insert-reshards | FileCheck %s --check-prefix=PART
// RUN: dsp-opt %s --dsp-propagate-sharding="ranks=4 strategy=ulysses" --dsp-insert-reshards | FileCheck %s --check-prefix=PART

// Heads are sharded where the table is read: every rank computes all of it.
// WHOLE-LABEL: func.func @rope(
// WHOLE-NOT:     dsp.{{all_gather|all_to_all|all_reduce|reduce_scatter}} {{.*}}tensor<64x16xf32>
// WHOLE:         dsp.cos {{.*}}{dsp.sharding = [#dsp.shard<replicated>]}
// WHOLE-NOT:     dsp.{{all_gather|all_to_all|all_reduce|reduce_scatter}} {{.*}}tensor<64x16xf32>
// WHOLE:         dsp.attention {{.*}}{dsp.sharding = [#dsp.shard<dim = 1>]
// WHOLE-NOT:     dsp.{{all_gather|all_to_all|all_reduce|reduce_scatter}} {{.*}}tensor<64x16xf32>
// WHOLE:         return

// The sequence is sharded where the table is read: every rank computes its
// rows.
// PART-LABEL: func.func @rope(
// PART-NOT:     dsp.{{all_gather|all_to_all|all_reduce|reduce_scatter}} {{.*}}tensor<64x16xf32>
// PART:         dsp.cos {{.*}}{dsp.sharding = [#dsp.shard<dim = 0>]}
// PART-NOT:     dsp.{{all_gather|all_to_all|all_reduce|reduce_scatter}} {{.*}}tensor<64x16xf32>
// PART:         dsp.attention
// PART-NOT:     dsp.{{all_gather|all_to_all|all_reduce|reduce_scatter}} {{.*}}tensor<64x16xf32>
// PART:         return

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

// USP (Ulysses inside groups, a ring across them) on attention that mixes
// every token: 4 heads on 8 ranks make a 2x4 mesh; each attention splits its
// heads over axis 1 and its sequence over axis 0, whose 2 ranks pass their
// key and value blocks around.
// RUN: dsp-opt %s --dsp-propagate-sharding="ranks=8 strategy=usp" --dsp-insert-reshards | FileCheck %s

// The report lists the ring on axis 0: 1 step of a rank's K and V blocks,
// [1, 1, 64, 16] f32 each.
// RUN: dsp-opt %s --dsp-propagate-sharding="ranks=8 strategy=usp" --dsp-insert-reshards --dsp-report=%t.json -o /dev/null
// RUN: FileCheck %s --check-prefix=REPORT < %t.json

// The program runs it as ring_attention on mesh axis 0.
// RUN: dsp-opt %s --dsp-pipeline="ranks=8 strategy=usp" --emit=program-text | FileCheck %s --check-prefix=PROGRAM

// Where the heads divide among all ranks usp is Ulysses; where no divisor
// of the ranks but 1 divides the heads, it is the ring.
// RUN: dsp-opt %s --dsp-propagate-sharding="ranks=4 strategy=usp" | FileCheck %s --check-prefix=ULYSSES
// RUN: dsp-opt %s --dsp-propagate-sharding="ranks=3 strategy=usp" | FileCheck %s --check-prefix=RING

// A given mesh of two axes is used as it is; one of three is refused.
// RUN: dsp-opt %s --dsp-propagate-sharding="ranks=8 mesh=4x2 strategy=usp" | FileCheck %s --check-prefix=MESH
// RUN: not dsp-opt %s --dsp-propagate-sharding="ranks=8 mesh=2x2x2 strategy=usp" 2>&1 | FileCheck %s --check-prefix=AXES

// CHECK:       dsp.group = #dsp.group<ranks = 8, mesh = [2, 4]>
// CHECK-LABEL: func.func @main(
// CHECK-SAME:    %arg0: tensor<1x128x64xf32> {dsp.sharding = #dsp.shard<axes = [<dim = 1>, <replicated>]>}
// CHECK:         %[[Q:.*]] = dsp.transpose {{.*}} {dsp.sharding = [#dsp.shard<axes = [<dim = 2>, <dim = 1>]>]} : tensor<1x128x4x16xf32> -> tensor<1x4x128x16xf32>
// CHECK:         dsp.attention %[[Q]], %{{.*}}, %{{.*}} {dsp.sharding = [#dsp.shard<axes = [<dim = 2>, <dim = 1>]>]
// CHECK:         dsp.all_gather %{{.*}} dim 2 axis 1

// REPORT:      "bytes": 8192
// REPORT-NEXT: "bytes_per_rank": 8192
// REPORT:      "kind": "ring_attention"
// REPORT:      "steps": 1

// PROGRAM-LABEL: op: "ring_attention"
// PROGRAM:       name: "key_count"
// PROGRAM-NEXT:  ints {
// PROGRAM-NEXT:    values: 128
// PROGRAM:       name: "axis"
// PROGRAM-NEXT:  ints {
// PROGRAM-NEXT:    values: 0

// ULYSSES:     dsp.group = #dsp.group<ranks = 4>
// ULYSSES:     dsp.attention {{.*}}dsp.sharding = [#dsp.shard<dim = 1>]

// RING:        dsp.group = #dsp.group<ranks = 3>
// RING:        dsp.attention {{.*}}dsp.sharding = [#dsp.shard<dim = 2, pad = 1>]

// MESH:        dsp.group = #dsp.group<ranks = 8, mesh = [4, 2]>
// MESH:        dsp.attention {{.*}}dsp.sharding = [#dsp.shard<axes = [<dim = 2>, <dim = 1>]>]

// AXES: error: usp runs Ulysses on one mesh axis and the ring on another; give a mesh of two axes, such as 2x4

func.func @main(%x: tensor<1x128x64xf32>) -> tensor<1x128x64xf32> {
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

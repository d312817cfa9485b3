// Ring attention: under strategy=ring a self-attention over one sequence
// keeps Q, K and V in blocks of the sequence (the K and V blocks travel
// around the ranks at run time), so no collective feeds it. Attention with
// a mask, across two sequences or over a batch of sequences runs as under
// dsp.
// RUN: dsp-opt %s --split-input-file --dsp-propagate-sharding="ranks=4 strategy=ring" --dsp-insert-reshards | FileCheck %s

// The plan report lists each ring with its steps and the bytes of a step
// (of the last function: the report is written once per split).
// RUN: dsp-opt %s --split-input-file --dsp-propagate-sharding="ranks=4 strategy=ring" --dsp-insert-reshards --dsp-report=%t.json -o /dev/null
// RUN: FileCheck %s --check-prefix=REPORT < %t.json

// The program runs it as ring_attention; 70 keys on 4 ranks are blocks of
// 18, the last 2 keys padding.
// RUN: dsp-opt %s --split-input-file --dsp-pipeline="ranks=4 strategy=ring" --emit=program-text | FileCheck %s --check-prefix=PROGRAM

// CHECK-LABEL: func.func @main(
// CHECK-SAME:    %arg0: tensor<1x4x128x16xf32> {dsp.sharding = #dsp.shard<dim = 2>}
// CHECK-SAME:    %arg1: tensor<1x4x128x16xf32> {dsp.sharding = #dsp.shard<dim = 2>}
// CHECK-SAME:    %arg2: tensor<1x4x128x16xf32> {dsp.sharding = #dsp.shard<dim = 2>}
// CHECK-NEXT:    %[[A:.*]] = dsp.attention %arg0, %arg1, %arg2 {dsp.sharding = [#dsp.shard<dim = 2>]
// CHECK-NEXT:    dsp.all_gather %[[A]] dim 2

// PROGRAM-LABEL: op: "ring_attention"
// PROGRAM:       name: "key_count"
// PROGRAM-NEXT:  ints {
// PROGRAM-NEXT:    values: 128
func.func @main(%q: tensor<1x4x128x16xf32>, %k: tensor<1x4x128x16xf32>, %v: tensor<1x4x128x16xf32>) -> tensor<1x4x128x16xf32> {
  %a = dsp.attention %q, %k, %v {scale = 2.500000e-01 : f64} : (tensor<1x4x128x16xf32>, tensor<1x4x128x16xf32>, tensor<1x4x128x16xf32>) -> tensor<1x4x128x16xf32>
  return %a : tensor<1x4x128x16xf32>
}

// -----

// Cross attention (queries of one sequence, keys of another) gathers K
// and V.
// CHECK-LABEL: func.func @main(
// CHECK-SAME:    {dsp.sharding = #dsp.shard<dim = 2>}
// CHECK-SAME:    {dsp.sharding = #dsp.shard<replicated>}
// CHECK-SAME:    {dsp.sharding = #dsp.shard<replicated>}
// CHECK-NEXT:    dsp.attention
// PROGRAM-NOT:   ring_attention
func.func @main(%q: tensor<1x4x128x16xf32>, %k: tensor<1x4x64x16xf32>, %v: tensor<1x4x64x16xf32>) -> tensor<1x4x128x16xf32> {
  %a = dsp.attention %q, %k, %v {scale = 2.500000e-01 : f64} : (tensor<1x4x128x16xf32>, tensor<1x4x64x16xf32>, tensor<1x4x64x16xf32>) -> tensor<1x4x128x16xf32>
  return %a : tensor<1x4x128x16xf32>
}

// -----

// A mask: each rank reads K and V whole.
// CHECK-LABEL: func.func @main(
// CHECK-SAME:    {dsp.sharding = #dsp.shard<dim = 2>}
// CHECK-SAME:    {dsp.sharding = #dsp.shard<replicated>}
// CHECK-SAME:    {dsp.sharding = #dsp.shard<replicated>}
// CHECK-NEXT:    dsp.attention {{.*}} mask
// PROGRAM-NOT:   ring_attention
func.func @main(%q: tensor<1x4x128x16xf32>, %k: tensor<1x4x128x16xf32>, %v: tensor<1x4x128x16xf32>, %m: tensor<1x1x128x128xf32>) -> tensor<1x4x128x16xf32> {
  %a = dsp.attention %q, %k, %v mask %m {scale = 2.500000e-01 : f64} : (tensor<1x4x128x16xf32>, tensor<1x4x128x16xf32>, tensor<1x4x128x16xf32>, tensor<1x1x128x128xf32>) -> tensor<1x4x128x16xf32>
  return %a : tensor<1x4x128x16xf32>
}

// -----

// CHECK-LABEL: func.func @main(
// CHECK-SAME:    {dsp.sharding = #dsp.shard<dim = 2, pad = 2>}
// CHECK-SAME:    {dsp.sharding = #dsp.shard<dim = 2, pad = 2>}
// CHECK-SAME:    {dsp.sharding = #dsp.shard<dim = 2, pad = 2>}
// CHECK-NEXT:    dsp.attention {{.*}} {dsp.sharding = [#dsp.shard<dim = 2, pad = 2>]

// A rank's K and V blocks are [1, 4, 18, 16] f32, 4608 bytes each; 3 steps
// on 4 ranks.
// REPORT:      "bytes": 9216
// REPORT-NEXT: "bytes_per_rank": 27648
// REPORT:      "kind": "ring_attention"
// REPORT:      "steps": 3

// PROGRAM-LABEL: op: "ring_attention"
// PROGRAM:       name: "key_count"
// PROGRAM-NEXT:  ints {
// PROGRAM-NEXT:    values: 70
func.func @main(%q: tensor<1x4x70x16xf32>, %k: tensor<1x4x70x16xf32>, %v: tensor<1x4x70x16xf32>) -> tensor<1x4x70x16xf32> {
  %a = dsp.attention %q, %k, %v {scale = 2.500000e-01 : f64} : (tensor<1x4x70x16xf32>, tensor<1x4x70x16xf32>, tensor<1x4x70x16xf32>) -> tensor<1x4x70x16xf32>
  return %a : tensor<1x4x70x16xf32>
}


// RUN: dsp-opt %s -split-input-file | FileCheck %s

// A group with a mesh and compound shardings print as they parse; the
// one-axis spellings are unchanged.

// CHECK: module attributes {dsp.group = #dsp.group<ranks = 8, mesh = [2, 4]>}
// CHECK: func.func @compound(%{{.*}}: tensor<4x6x8xf32> {dsp.sharding = #dsp.shard<axes = [<dim = 0>, <dim = 1, pad = 2>]>})
// CHECK: dsp.neg %{{.*}} {dsp.sharding = [#dsp.shard<axes = [<replicated>, <dim = 2>]>]}
// CHECK: dsp.exp %{{.*}} {dsp.sharding = [#dsp.shard<axes = [<dim = 1, factors = [2, 3], factor = 0>, <dim = 1, factors = [2, 3], factor = 1, pad = 1>]>]}
// CHECK: dsp.abs %{{.*}} {dsp.sharding = [#dsp.shard<axes = [<dim = 0>, <partial>]>]}
// CHECK: dsp.sqrt %{{.*}} {dsp.sharding = [#dsp.shard<dim = 0, pad = 4>]}
module attributes {dsp.group = #dsp.group<ranks = 8, mesh = [2, 4]>} {
  func.func @compound(%x: tensor<4x6x8xf32> {dsp.sharding = #dsp.shard<axes = [<dim = 0>, <dim = 1, pad = 2>]>}) -> tensor<4x6x8xf32> {
    %0 = dsp.neg %x {dsp.sharding = [#dsp.shard<axes = [<replicated>, <dim = 2>]>]} : tensor<4x6x8xf32>
    %1 = dsp.exp %0 {dsp.sharding = [#dsp.shard<axes = [<dim = 1, factors = [2, 3], factor = 0>, <dim = 1, factors = [2, 3], factor = 1, pad = 1>]>]} : tensor<4x6x8xf32>
    %2 = dsp.abs %1 {dsp.sharding = [#dsp.shard<axes = [<dim = 0>, <partial>]>]} : tensor<4x6x8xf32>
    %3 = dsp.sqrt %2 {dsp.sharding = [#dsp.shard<dim = 0, pad = 4>]} : tensor<4x6x8xf32>
    return %3 : tensor<4x6x8xf32>
  }
}

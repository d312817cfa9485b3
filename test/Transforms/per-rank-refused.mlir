// Planning and reshard insertion work on global IR; per-rank IR is refused.
// RUN: not dsp-opt %s --dsp-propagate-sharding="ranks=2" 2>&1 | FileCheck %s --check-prefix=PLAN
// RUN: not dsp-opt %s --dsp-insert-reshards 2>&1 | FileCheck %s --check-prefix=RESHARD
// RUN: dsp-opt %s --dsp-localize | FileCheck %s --check-prefix=AGAIN

// PLAN: error: a plan is made on global IR, and this module is per-rank IR (--dsp-localize ran)
// RESHARD: error: reshards are inserted into global IR, and this module is per-rank IR (--dsp-localize ran)
// Localizing per-rank IR changes nothing.
// AGAIN: dsp.neg %{{.*}} {dsp.sharding = [#dsp.shard<dim = 0>]} : tensor<2x8xf32>
module attributes {dsp.group = #dsp.group<ranks = 2, per_rank = true>} {
  func.func @main(%x: tensor<2x8xf32> {dsp.sharding = #dsp.shard<dim = 0>}) -> tensor<4x8xf32> {
    %0 = dsp.neg %x {dsp.sharding = [#dsp.shard<dim = 0>]} : tensor<2x8xf32>
    %1 = dsp.all_gather %0 dim 0 {dsp.sharding = [#dsp.shard<replicated>]} : tensor<2x8xf32> -> tensor<4x8xf32>
    return %1 : tensor<4x8xf32>
  }
}

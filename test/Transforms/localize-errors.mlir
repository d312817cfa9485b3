// RUN: dsp-opt %s -split-input-file -verify-diagnostics --dsp-localize

module attributes {dsp.group = #dsp.group<ranks = 2>} {
  func.func @unplanned(%x: tensor<4x6xf32>) -> tensor<4x6xf32> {
    // expected-error @below {{a multi-rank program needs every op sharded; run --dsp-propagate-sharding and --dsp-insert-reshards (or --dsp-pipeline) first}}
    %0 = dsp.neg %x : tensor<4x6xf32>
    return %0 : tensor<4x6xf32>
  }
}

// -----

module attributes {dsp.group = #dsp.group<ranks = 2>} {
  func.func @no_reshards(%x: tensor<4x6xf32> {dsp.sharding = #dsp.shard<dim = 0>}) -> tensor<4x6xf32> {
    // expected-error @below {{has shardings that no collective converts yet; run --dsp-insert-reshards first}}
    %0 = dsp.neg %x {dsp.operand_shardings = [#dsp.shard<dim = 1>], dsp.sharding = [#dsp.shard<dim = 1>]} : tensor<4x6xf32>
    return %0 : tensor<4x6xf32>
  }
}

// -----

// A slice that does not keep its split dim whole cannot run on blocks.
module attributes {dsp.group = #dsp.group<ranks = 2>} {
  func.func @partial_slice(%x: tensor<8x4xf32> {dsp.sharding = #dsp.shard<dim = 0>}) -> tensor<4x4xf32> {
    // expected-error @below {{on the blocks of its operands computes 'tensor<3x4xf32>', not its result's block 'tensor<2x4xf32>'}}
    %0 = dsp.slice %x {starts = array<i64: 1, 0>, limits = array<i64: 5, 4>, strides = array<i64: 1, 1>, dsp.sharding = [#dsp.shard<dim = 0>]} : tensor<8x4xf32> -> tensor<4x4xf32>
    %1 = dsp.all_gather %0 dim 0 {dsp.sharding = [#dsp.shard<replicated>]} : tensor<4x4xf32>
    return %1 : tensor<4x4xf32>
  }
}

// -----

// A switch between two factors of one dim has no per-rank form on a mesh
// axis yet.
module attributes {dsp.group = #dsp.group<ranks = 4, mesh = [2, 2]>} {
  func.func @factor_switch_on_axis(%x: tensor<2x12xf32> {dsp.sharding = #dsp.shard<axes = [<dim = 0>, <dim = 1, factors = [2, 6], factor = 0>]>}) -> tensor<2x12xf32> {
    // expected-error @below {{cannot lower a switch between two factors of one dim on a mesh axis yet}}
    %0 = dsp.all_to_all %x split 1 concat 1 axis 1 {dsp.sharding = [#dsp.shard<axes = [<dim = 0>, <dim = 1, factors = [2, 6], factor = 1>]>]} : tensor<2x12xf32>
    return %0 : tensor<2x12xf32>
  }
}

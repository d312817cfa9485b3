// RUN: dsp-opt %s -split-input-file -verify-diagnostics

// The verifiers of meshes and compound shardings.

// expected-error @below {{the mesh sizes multiply to 6, not the 8 ranks}}
module attributes {dsp.group = #dsp.group<ranks = 8, mesh = [2, 3]>} {
}

// -----

// expected-error @below {{a mesh has at least two axes}}
module attributes {dsp.group = #dsp.group<ranks = 8, mesh = [8]>} {
}

// -----

func.func @one_entry(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  // expected-error @below {{a compound sharding has one entry per mesh axis, at least two}}
  %0 = dsp.neg %x {dsp.sharding = [#dsp.shard<axes = [<dim = 0>]>]} : tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// -----

func.func @all_replicated(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  // expected-error @below {{a compound sharding of the same kind on every axis is written #dsp.shard<replicated>}}
  %0 = dsp.neg %x {dsp.sharding = [#dsp.shard<axes = [<replicated>, <replicated>]>]} : tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// -----

func.func @nested(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  // expected-error @below {{a mesh axis holds a value replicated, partial or split, not compound}}
  %0 = dsp.neg %x {dsp.sharding = [#dsp.shard<axes = [<dim = 0>, <axes = [<dim = 1>, <replicated>]>]>]} : tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// -----

module attributes {dsp.group = #dsp.group<ranks = 4, mesh = [2, 2]>} {
  func.func @axis_count(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
    // expected-error @below {{a sharding over 3 mesh axes on a group of 2 axes}}
    %0 = dsp.neg %x {dsp.sharding = [#dsp.shard<axes = [<dim = 0>, <dim = 1>, <replicated>]>]} : tensor<4x8xf32>
    return %0 : tensor<4x8xf32>
  }
}

// -----

module attributes {dsp.group = #dsp.group<ranks = 4, mesh = [2, 2]>} {
  func.func @overlap(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
    // expected-error @below {{mesh axes 0 and 1 split overlapping parts of dim 1}}
    %0 = dsp.neg %x {dsp.sharding = [#dsp.shard<axes = [<dim = 1>, <dim = 1, factors = [2, 4], factor = 1>]>]} : tensor<4x8xf32>
    return %0 : tensor<4x8xf32>
  }
}

// -----

module attributes {dsp.group = #dsp.group<ranks = 8, mesh = [2, 4]>} {
  func.func @pad_per_axis(%x: tensor<4x6xf32>) -> tensor<4x6xf32> {
    // expected-error @below {{mesh axis 1: split(dim=1,outer=1,size=6,inner=1,pad=0): size+pad must be a multiple of the 4 ranks}}
    %0 = dsp.neg %x {dsp.sharding = [#dsp.shard<axes = [<dim = 0>, <dim = 1>]>]} : tensor<4x6xf32>
    return %0 : tensor<4x6xf32>
  }
}

// -----

module attributes {dsp.group = #dsp.group<ranks = 4, mesh = [2, 2]>} {
  func.func @collective_without_axis(%x: tensor<4x8xf32> {dsp.sharding = #dsp.shard<axes = [<dim = 0>, <dim = 1>]>}) -> tensor<4x8xf32> {
    // expected-error @below {{'dsp.all_gather' op on a compound sharding names the mesh axis it runs on}}
    %0 = dsp.all_gather %x dim 1 {dsp.sharding = [#dsp.shard<axes = [<dim = 0>, <replicated>]>]} : tensor<4x8xf32>
    return %0 : tensor<4x8xf32>
  }
}

// -----

module attributes {dsp.group = #dsp.group<ranks = 4, mesh = [2, 2]>} {
  func.func @collective_other_axis(%x: tensor<4x8xf32> {dsp.sharding = #dsp.shard<axes = [<dim = 0>, <dim = 1>]>}) -> tensor<4x8xf32> {
    // expected-error @below {{'dsp.all_gather' op on mesh axis 1 must hold mesh axis 0 alike, but turns #dsp.shard<dim = 0> into #dsp.shard<replicated>}}
    %0 = dsp.all_gather %x dim 1 axis 1 {dsp.sharding = [#dsp.shard<replicated>]} : tensor<4x8xf32>
    return %0 : tensor<4x8xf32>
  }
}

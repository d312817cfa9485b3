// A pin of an output to an input names both; names that do not exist, a
// pin that is not two names, and an output of another type than its input
// are errors that say so.

// RUN: dsp-opt %s -split-input-file -verify-diagnostics --dsp-propagate-sharding="ranks=4 keep-sharded=out:x"
// RUN: not dsp-opt %s -split-input-file --dsp-propagate-sharding="ranks=4 keep-sharded=output:x" -o /dev/null 2>&1 | FileCheck %s --check-prefix=NOOUT
// RUN: not dsp-opt %s -split-input-file --dsp-pipeline="ranks=4 keep-sharded=out" -o /dev/null 2>&1 | FileCheck %s --check-prefix=NOTPAIR
// NOOUT: error: keep-sharded 'output:x': the model has no output named 'output' (outputs: 'out')
// NOTPAIR: error: keep-sharded 'out' is not OUTPUT:INPUT, an output's and an input's name

func.func @same(%x: tensor<4x8xf32> {dsp.name = "x"}) -> (tensor<4x8xf32> {dsp.name = "out"}) {
  %0 = dsp.neg %x : tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// -----

// expected-error @+1 {{output 'out' is to keep the sharding of input 'x', but the model has no input named so (inputs: 'latent', 't')}}
func.func @no_input(%x: tensor<4x8xf32> {dsp.name = "latent"}, %t: tensor<4x8xf32> {dsp.name = "t"}) -> (tensor<4x8xf32> {dsp.name = "out"}) {
  %0 = dsp.add %x, %t : tensor<4x8xf32>, tensor<4x8xf32> -> tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// -----

// expected-error @+1 {{output 'out' of type 'tensor<4x4xf32>' cannot keep the sharding of input 'x' of type 'tensor<4x8xf32>': a kept output has its input's shape and element type}}
func.func @other_shape(%x: tensor<4x8xf32> {dsp.name = "x"}) -> (tensor<4x4xf32> {dsp.name = "out"}) {
  %0 = dsp.slice %x {starts = array<i64: 0, 0>, limits = array<i64: 4, 4>, strides = array<i64: 1, 1>} : tensor<4x8xf32> -> tensor<4x4xf32>
  return %0 : tensor<4x4xf32>
}

// -----

// A pin written in the IR is checked the same way.
// expected-error @+1 {{output 'y' is to keep the sharding of input 'z', but the model has no input named so (inputs: 'x')}}
func.func @pinned_in_ir(%x: tensor<4x8xf32> {dsp.name = "x"}) -> (tensor<4x8xf32> {dsp.name = "y", dsp.kept_sharded = "z"}, tensor<4x8xf32> {dsp.name = "out"}) {
  %0 = dsp.neg %x : tensor<4x8xf32>
  return %0, %0 : tensor<4x8xf32>, tensor<4x8xf32>
}

// -----

// expected-error @+1 {{'dsp.kept_sharded' is a result attribute}}
func.func @on_argument(%x: tensor<4x8xf32> {dsp.kept_sharded = "x"}) -> tensor<4x8xf32> {
  return %x : tensor<4x8xf32>
}

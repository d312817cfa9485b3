// A program is the per-rank IR serialized 1:1: one tensor per value, one
// instruction per op, collectives with the layouts they convert between.
// RUN: dsp-opt %s -split-input-file --emit=program-text | FileCheck %s

// One rank: inherent attributes with their defaults; a result that is an
// argument gets a tensor of its own, a reshape of the argument that shares
// its bytes (offset 0, not printed); two tensors whose lifetimes overlap get
// disjoint arena ranges, 64-byte aligned.
// CHECK-LABEL: format_version:
// CHECK:       ranks: 1
// CHECK:       tensors {
// CHECK-NEXT:    name: "x"
// CHECK-NEXT:    dtype: F32
// CHECK-NEXT:    shape: 2
// CHECK-NEXT:    shape: 3
// CHECK-NEXT:    kind: INPUT
// CHECK-NEXT:    bytes: 24
// CHECK:       tensors {
// CHECK-NEXT:    name: "y"
// CHECK-NEXT:    dtype: F32
// CHECK:         kind: OUTPUT
// CHECK-NEXT:    offset: 64
// CHECK:       tensors {
// CHECK-NEXT:    name: "same"
// CHECK:         kind: OUTPUT
// CHECK-NEXT:    bytes: 24
// The softmax is a fused instruction whose body holds it as a step: its
// input is value 0, its output value 1, the body's result.
// CHECK:       instructions {
// CHECK-NEXT:    op: "fused"
// CHECK-NEXT:    inputs: 0
// CHECK-NEXT:    outputs: 1
// CHECK:         body {
// CHECK-NEXT:      values {
// CHECK-NEXT:        dtype: F32
// CHECK-NEXT:        shape: 2
// CHECK-NEXT:        shape: 3
// CHECK-NEXT:        kind: INPUT
// CHECK-NEXT:      }
// CHECK-NEXT:      values {
// CHECK:             kind: INTERMEDIATE
// CHECK-NEXT:      }
// CHECK-NEXT:      steps {
// CHECK-NEXT:        op: "softmax"
// CHECK-NEXT:        inputs: 0
// CHECK-NEXT:        outputs: 1
// CHECK-NEXT:        attributes {
// CHECK-NEXT:          name: "axis"
// CHECK-NEXT:          ints {
// CHECK-NEXT:            values: 1
// CHECK:           results: 1
// CHECK-NEXT:    }
// CHECK:       instructions {
// CHECK-NEXT:    op: "reshape"
// CHECK-NEXT:    inputs: 0
// CHECK-NEXT:    outputs: 2
// CHECK:       inputs: 0
// CHECK-NEXT:  outputs: 1
// CHECK-NEXT:  outputs: 2
// CHECK-NEXT:  arena_bytes: 128
func.func @main(%x: tensor<2x3xf32> {dsp.name = "x"}) -> (tensor<2x3xf32> {dsp.name = "y"}, tensor<2x3xf32> {dsp.name = "same"}) {
  %0 = dsp.softmax %x {axis = 1 : i64} : tensor<2x3xf32>
  return %0, %x : tensor<2x3xf32>, tensor<2x3xf32>
}

// -----

// Four ranks: the input is each rank's block with its layout
// [kind, dim, outer, size, inner, pad] and global shape; the partial mean is
// a zero_pad, a reduce_sum and a mul by 1/6, a splat constant of the fused
// body; the all_reduce and the output carry their layouts.
// CHECK-LABEL: format_version:
// CHECK:       ranks: 4
// CHECK:       tensors {
// CHECK-NEXT:    name: "x"
// CHECK-NEXT:    dtype: F32
// CHECK-NEXT:    shape: 2
// CHECK-NEXT:    shape: 2
// CHECK-NEXT:    shape: 4
// CHECK-NEXT:    kind: INPUT
// CHECK-NEXT:    bytes: 64
// CHECK-NEXT:    layout: 1
// CHECK-NEXT:    layout: 1
// CHECK-NEXT:    layout: 1
// CHECK-NEXT:    layout: 6
// CHECK-NEXT:    layout: 1
// CHECK-NEXT:    layout: 2
// CHECK-NEXT:    global_shape: 2
// CHECK-NEXT:    global_shape: 6
// CHECK-NEXT:    global_shape: 4
// CHECK-NOT:     kind: WEIGHT
// CHECK:       instructions {
// CHECK-NEXT:    op: "zero_pad"
// CHECK:           name: "from"
// CHECK:           name: "global_shape"
// CHECK:       instructions {
// CHECK-NEXT:    op: "reduce_sum"
// CHECK:       instructions {
// CHECK-NEXT:    op: "fused"
// CHECK:             kind: INPUT
// CHECK-NEXT:      }
// CHECK-NEXT:      values {
// CHECK-NEXT:        dtype: F32
// CHECK-NEXT:        kind: WEIGHT
// CHECK-NEXT:        splat {
// CHECK-NEXT:          element: "\253\252*>"
// CHECK:           steps {
// CHECK-NEXT:        op: "mul"
// CHECK-NEXT:        inputs: 0
// CHECK-NEXT:        inputs: 1
// CHECK-NEXT:        outputs: 2
// CHECK:       instructions {
// CHECK-NEXT:    op: "all_reduce"
// CHECK:           name: "from"
// CHECK-NEXT:      ints {
// CHECK-NEXT:        values: 2
// CHECK:           name: "to"
// CHECK-NEXT:      ints {
// CHECK-NEXT:        values: 0
// CHECK:           name: "reduction"
// CHECK-NEXT:      str: "sum"
// CHECK-NOT:   op:
// CHECK:       outputs:
module attributes {dsp.group = #dsp.group<ranks = 4>} {
  func.func @main(%x: tensor<2x6x4xf32> {dsp.name = "x", dsp.sharding = #dsp.shard<dim = 1, pad = 2>}) -> tensor<2x1x4xf32> {
    %0 = dsp.reduce_mean %x {axes = array<i64: 1>, dsp.sharding = [#dsp.shard<partial>]} : tensor<2x6x4xf32> -> tensor<2x1x4xf32>
    %1 = dsp.all_reduce %0 sum {dsp.sharding = [#dsp.shard<replicated>]} : tensor<2x1x4xf32>
    return %1 : tensor<2x1x4xf32>
  }
}

// -----

// A weight imported without its bytes (--no-weights) is generated at load,
// at the init scale of the layer that reads it: +-1/sqrt(fan_in) for a
// matmul's right operand (fan_in 4 here), around 1 for a norm's scale.
// CHECK-LABEL: format_version:
// CHECK:         name: "proj.weight"
// CHECK-NEXT:    dtype: F32
// CHECK:         kind: WEIGHT
// CHECK:         generated {
// CHECK-NEXT:      seed: {{[0-9]+}}
// CHECK-NEXT:      bound: 0.5
// CHECK-NEXT:    }
// CHECK:         name: "norm.weight"
// CHECK:         generated {
// CHECK-NEXT:      seed: {{[0-9]+}}
// CHECK-NEXT:      center: 1
// CHECK-NEXT:      bound: 0.1
// CHECK-NEXT:    }
// CHECK:         name: "norm.bias"
// CHECK:         generated {
// CHECK-NEXT:      seed: {{[0-9]+}}
// CHECK-NEXT:      bound: 0.5
// CHECK-NEXT:    }
func.func @main(%x: tensor<2x4xf32>) -> tensor<2x4xf32> {
  %w = dsp.weight "proj.weight" : tensor<4x4xf32>
  %0 = dsp.matmul %x, %w : tensor<2x4xf32>, tensor<4x4xf32> -> tensor<2x4xf32>
  %scale = dsp.weight "norm.weight" : tensor<4xf32>
  %bias = dsp.weight "norm.bias" : tensor<4xf32>
  %1 = dsp.layer_norm %0, %scale, %bias {axis = 1 : i64, epsilon = 1.0e-05 : f64} : (tensor<2x4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<2x4xf32>
  return %1 : tensor<2x4xf32>
}

// -----

// A matmul with a bias add, GELU and residual add is one matmul instruction
// with inputs a, b, bias and residual and the activation; its weight keeps
// the init scale of a matmul's right operand (fan_in 4).
// CHECK-LABEL: format_version:
// CHECK:         name: "fc.weight"
// CHECK:         generated {
// CHECK-NEXT:      seed: {{[0-9]+}}
// CHECK-NEXT:      bound: 0.5
// CHECK-NEXT:    }
// CHECK:       instructions {
// CHECK-NEXT:    op: "matmul"
// CHECK-NEXT:    inputs: 0
// CHECK-NEXT:    inputs: 1
// CHECK-NEXT:    inputs: 2
// CHECK-NEXT:    inputs: 0
// CHECK-NEXT:    outputs: 3
// CHECK-NEXT:    attributes {
// CHECK-NEXT:      name: "activation"
// CHECK-NEXT:      str: "gelu"
// CHECK-NEXT:    }
// CHECK-NEXT:    location: "fc"
// CHECK-NEXT:  }
// CHECK-NEXT:  inputs: 0
func.func @main(%x: tensor<2x4xf32>) -> tensor<2x4xf32> {
  %w = dsp.weight "fc.weight" : tensor<4x4xf32>
  %b = dsp.weight "fc.bias" : tensor<4xf32>
  %0 = dsp.matmul %x, %w : tensor<2x4xf32>, tensor<4x4xf32> -> tensor<2x4xf32> loc("fc")
  %1 = dsp.add %0, %b : tensor<2x4xf32>, tensor<4xf32> -> tensor<2x4xf32> loc("fc.add")
  %2 = dsp.gelu %1 : tensor<2x4xf32>
  %3 = dsp.add %2, %x : tensor<2x4xf32>, tensor<2x4xf32> -> tensor<2x4xf32>
  return %3 : tensor<2x4xf32>
}

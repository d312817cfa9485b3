// RUN: dsp-opt %s -split-input-file -allow-unregistered-dialect -verify-diagnostics

// One case per verifier, type-inference and parser error of the dsp dialect.

func.func @add_no_broadcast(%a: tensor<2x3xf32>, %b: tensor<4xf32>) -> tensor<2x3xf32> {
  // expected-error @below {{operand shapes [2, 3] and [4] do not broadcast}}
  // expected-error @below {{'dsp.add' op failed to infer returned types}}
  %0 = dsp.add %a, %b : tensor<2x3xf32>, tensor<4xf32> -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

func.func @add_wrong_result(%a: tensor<2x3xf32>, %b: tensor<3xf32>) -> tensor<3xf32> {
  // expected-error @below {{'dsp.add' op inferred type(s) 'tensor<2x3xf32>' are incompatible with return type(s) of operation 'tensor<3xf32>'}}
  // expected-error @below {{'dsp.add' op failed to infer returned types}}
  %0 = dsp.add %a, %b : tensor<2x3xf32>, tensor<3xf32> -> tensor<3xf32>
  return %0 : tensor<3xf32>
}

// -----

func.func @add_element_types(%a: tensor<3xi32>, %b: tensor<3xi64>) -> tensor<3xi32> {
  // expected-error @below {{'dsp.add' op failed to verify that all of {lhs, rhs, output} have same element type}}
  %0 = dsp.add %a, %b : tensor<3xi32>, tensor<3xi64> -> tensor<3xi32>
  return %0 : tensor<3xi32>
}

// -----

func.func @less_no_broadcast(%a: tensor<2x3xi64>, %b: tensor<2xi64>) -> tensor<2x3xi1> {
  // expected-error @below {{operand shapes [2, 3] and [2] do not broadcast}}
  // expected-error @below {{'dsp.less' op failed to infer returned types}}
  %0 = dsp.less %a, %b : tensor<2x3xi64>, tensor<2xi64> -> tensor<2x3xi1>
  return %0 : tensor<2x3xi1>
}

// -----

func.func @where_no_broadcast(%c: tensor<4x1xi1>, %t: tensor<3xf32>, %f: tensor<2x1xf32>) -> tensor<4x3xf32> {
  // expected-error @below {{operand shapes [4, 3] and [2, 1] do not broadcast}}
  // expected-error @below {{'dsp.where' op failed to infer returned types}}
  %0 = dsp.where %c, %t, %f : tensor<4x1xi1>, tensor<3xf32>, tensor<2x1xf32> -> tensor<4x3xf32>
  return %0 : tensor<4x3xf32>
}

// -----

func.func @matmul_rank(%a: tensor<8xf32>, %b: tensor<8x4xf32>) -> tensor<4xf32> {
  // expected-error @below {{operands must have rank 2 or more}}
  // expected-error @below {{'dsp.matmul' op failed to infer returned types}}
  %0 = dsp.matmul %a, %b : tensor<8xf32>, tensor<8x4xf32> -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @matmul_contracting(%a: tensor<2x8xf32>, %b: tensor<4x8xf32>) -> tensor<2x8xf32> {
  // expected-error @below {{contracting dims differ: lhs [2, 8] and rhs [4, 8]}}
  // expected-error @below {{'dsp.matmul' op failed to infer returned types}}
  %0 = dsp.matmul %a, %b : tensor<2x8xf32>, tensor<4x8xf32> -> tensor<2x8xf32>
  return %0 : tensor<2x8xf32>
}

// -----

func.func @matmul_batch(%a: tensor<3x2x8xf32>, %b: tensor<4x8x5xf32>) -> tensor<3x2x5xf32> {
  // expected-error @below {{batch dims of [3, 2, 8] and [4, 8, 5] do not broadcast}}
  // expected-error @below {{'dsp.matmul' op failed to infer returned types}}
  %0 = dsp.matmul %a, %b : tensor<3x2x8xf32>, tensor<4x8x5xf32> -> tensor<3x2x5xf32>
  return %0 : tensor<3x2x5xf32>
}

// -----

func.func @attention_rank(%q: tensor<4x16x8xf32>, %k: tensor<4x16x8xf32>, %v: tensor<4x16x8xf32>) -> tensor<4x16x8xf32> {
  // expected-error @below {{query, key and value must be [batch, heads, sequence, head_dim] tensors}}
  // expected-error @below {{'dsp.attention' op failed to infer returned types}}
  %0 = dsp.attention %q, %k, %v {scale = 1.0 : f64} : (tensor<4x16x8xf32>, tensor<4x16x8xf32>, tensor<4x16x8xf32>) -> tensor<4x16x8xf32>
  return %0 : tensor<4x16x8xf32>
}

// -----

func.func @attention_heads(%q: tensor<1x4x16x8xf32>, %k: tensor<1x2x16x8xf32>, %v: tensor<1x4x16x8xf32>) -> tensor<1x4x16x8xf32> {
  // expected-error @below {{batch and heads differ: query [1, 4, 16, 8], key [1, 2, 16, 8], value [1, 4, 16, 8]}}
  // expected-error @below {{'dsp.attention' op failed to infer returned types}}
  %0 = dsp.attention %q, %k, %v {scale = 1.0 : f64} : (tensor<1x4x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x4x16x8xf32>) -> tensor<1x4x16x8xf32>
  return %0 : tensor<1x4x16x8xf32>
}

// -----

func.func @attention_head_dim(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x6xf32>, %v: tensor<1x4x16x8xf32>) -> tensor<1x4x16x8xf32> {
  // expected-error @below {{query head_dim 8 differs from key head_dim 6}}
  // expected-error @below {{'dsp.attention' op failed to infer returned types}}
  %0 = dsp.attention %q, %k, %v {scale = 1.0 : f64} : (tensor<1x4x16x8xf32>, tensor<1x4x16x6xf32>, tensor<1x4x16x8xf32>) -> tensor<1x4x16x8xf32>
  return %0 : tensor<1x4x16x8xf32>
}

// -----

func.func @attention_key_sequence(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x32x8xf32>, %v: tensor<1x4x16x8xf32>) -> tensor<1x4x16x8xf32> {
  // expected-error @below {{key sequence 32 differs from value sequence 16}}
  // expected-error @below {{'dsp.attention' op failed to infer returned types}}
  %0 = dsp.attention %q, %k, %v {scale = 1.0 : f64} : (tensor<1x4x16x8xf32>, tensor<1x4x32x8xf32>, tensor<1x4x16x8xf32>) -> tensor<1x4x16x8xf32>
  return %0 : tensor<1x4x16x8xf32>
}

// -----

func.func @attention_mask(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x32x8xf32>, %v: tensor<1x4x32x8xf32>, %m: tensor<16x16xf32>) -> tensor<1x4x16x8xf32> {
  // expected-error @below {{mask [16, 16] does not broadcast to the scores [1, 4, 16, 32]}}
  // expected-error @below {{'dsp.attention' op failed to infer returned types}}
  %0 = dsp.attention %q, %k, %v mask %m {scale = 1.0 : f64} : (tensor<1x4x16x8xf32>, tensor<1x4x32x8xf32>, tensor<1x4x32x8xf32>, tensor<16x16xf32>) -> tensor<1x4x16x8xf32>
  return %0 : tensor<1x4x16x8xf32>
}

// -----

func.func @attention_mask_too_large(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x32x8xf32>, %v: tensor<1x4x32x8xf32>, %m: tensor<2x1x16x32xf32>) -> tensor<1x4x16x8xf32> {
  // expected-error @below {{mask [2, 1, 16, 32] does not broadcast to the scores [1, 4, 16, 32]}}
  // expected-error @below {{'dsp.attention' op failed to infer returned types}}
  %0 = dsp.attention %q, %k, %v mask %m {scale = 1.0 : f64} : (tensor<1x4x16x8xf32>, tensor<1x4x32x8xf32>, tensor<1x4x32x8xf32>, tensor<2x1x16x32xf32>) -> tensor<1x4x16x8xf32>
  return %0 : tensor<1x4x16x8xf32>
}

// -----

func.func @conv_rank(%x: tensor<1x3x16xf32>, %w: tensor<8x3x4x4xf32>) -> tensor<1x8x4xf32> {
  // expected-error @below {{input 'tensor<1x3x16xf32>' and weight 'tensor<8x3x4x4xf32>' must both be [N, C, spatial...] tensors}}
  // expected-error @below {{'dsp.conv' op failed to infer returned types}}
  %0 = dsp.conv %x, %w {dilations = array<i64: 1>, pads = array<i64: 0, 0>, strides = array<i64: 4>} : (tensor<1x3x16xf32>, tensor<8x3x4x4xf32>) -> tensor<1x8x4xf32>
  return %0 : tensor<1x8x4xf32>
}

// -----

func.func @conv_attribute_counts(%x: tensor<1x3x16x16xf32>, %w: tensor<8x3x4x4xf32>) -> tensor<1x8x4x4xf32> {
  // expected-error @below {{expected 2 strides and dilations and 4 pads}}
  // expected-error @below {{'dsp.conv' op failed to infer returned types}}
  %0 = dsp.conv %x, %w {dilations = array<i64: 1, 1>, pads = array<i64: 0, 0>, strides = array<i64: 4, 4>} : (tensor<1x3x16x16xf32>, tensor<8x3x4x4xf32>) -> tensor<1x8x4x4xf32>
  return %0 : tensor<1x8x4x4xf32>
}

// -----

func.func @conv_groups(%x: tensor<1x4x16x16xf32>, %w: tensor<6x4x4x4xf32>) -> tensor<1x6x4x4xf32> {
  // expected-error @below {{weight 'tensor<6x4x4x4xf32>' does not fit 4 input channels in 2 groups}}
  // expected-error @below {{'dsp.conv' op failed to infer returned types}}
  %0 = dsp.conv %x, %w {dilations = array<i64: 1, 1>, group = 2 : i64, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 4, 4>} : (tensor<1x4x16x16xf32>, tensor<6x4x4x4xf32>) -> tensor<1x6x4x4xf32>
  return %0 : tensor<1x6x4x4xf32>
}

// -----

func.func @conv_bias(%x: tensor<1x3x16x16xf32>, %w: tensor<8x3x4x4xf32>, %b: tensor<3xf32>) -> tensor<1x8x4x4xf32> {
  // expected-error @below {{bias must have shape [8]}}
  // expected-error @below {{'dsp.conv' op failed to infer returned types}}
  %0 = dsp.conv %x, %w, %b {dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 4, 4>} : (tensor<1x3x16x16xf32>, tensor<8x3x4x4xf32>, tensor<3xf32>) -> tensor<1x8x4x4xf32>
  return %0 : tensor<1x8x4x4xf32>
}

// -----

func.func @conv_stride(%x: tensor<1x3x16x16xf32>, %w: tensor<8x3x4x4xf32>) -> tensor<1x8x4x4xf32> {
  // expected-error @below {{strides and dilations must be positive and pads non-negative}}
  // expected-error @below {{'dsp.conv' op failed to infer returned types}}
  %0 = dsp.conv %x, %w {dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 4, 0>} : (tensor<1x3x16x16xf32>, tensor<8x3x4x4xf32>) -> tensor<1x8x4x4xf32>
  return %0 : tensor<1x8x4x4xf32>
}

// -----

func.func @conv_kernel_too_large(%x: tensor<1x3x16x2xf32>, %w: tensor<8x3x4x4xf32>) -> tensor<1x8x4x1xf32> {
  // expected-error @below {{kernel does not fit spatial dim 1}}
  // expected-error @below {{'dsp.conv' op failed to infer returned types}}
  %0 = dsp.conv %x, %w {dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 4, 4>} : (tensor<1x3x16x2xf32>, tensor<8x3x4x4xf32>) -> tensor<1x8x4x1xf32>
  return %0 : tensor<1x8x4x1xf32>
}

// -----

func.func @reduce_axes_unsorted(%x: tensor<2x4x8xf32>) -> tensor<2x1x1xf32> {
  // expected-error @below {{axes must be sorted, unique and in range for 'tensor<2x4x8xf32>'}}
  // expected-error @below {{'dsp.reduce_sum' op failed to infer returned types}}
  %0 = dsp.reduce_sum %x {axes = array<i64: 2, 1>} : tensor<2x4x8xf32> -> tensor<2x1x1xf32>
  return %0 : tensor<2x1x1xf32>
}

// -----

func.func @reduce_axes_duplicate(%x: tensor<2x4x8xf32>) -> tensor<2x1x8xf32> {
  // expected-error @below {{axes must be sorted, unique and in range for 'tensor<2x4x8xf32>'}}
  // expected-error @below {{'dsp.reduce_mean' op failed to infer returned types}}
  %0 = dsp.reduce_mean %x {axes = array<i64: 1, 1>} : tensor<2x4x8xf32> -> tensor<2x1x8xf32>
  return %0 : tensor<2x1x8xf32>
}

// -----

func.func @reduce_axes_range(%x: tensor<2x4x8xf32>) -> tensor<2x4x8xf32> {
  // expected-error @below {{axes must be sorted, unique and in range for 'tensor<2x4x8xf32>'}}
  // expected-error @below {{'dsp.reduce_max' op failed to infer returned types}}
  %0 = dsp.reduce_max %x {axes = array<i64: 3>} : tensor<2x4x8xf32> -> tensor<2x4x8xf32>
  return %0 : tensor<2x4x8xf32>
}

// -----

func.func @reduce_axes_negative(%x: tensor<2x4x8xf32>) -> tensor<2x4x1xf32> {
  // expected-error @below {{axes must be sorted, unique and in range for 'tensor<2x4x8xf32>'}}
  // expected-error @below {{'dsp.reduce_max' op failed to infer returned types}}
  %0 = dsp.reduce_max %x {axes = array<i64: -1>} : tensor<2x4x8xf32> -> tensor<2x4x1xf32>
  return %0 : tensor<2x4x1xf32>
}

// -----

func.func @reduce_keepdims_result(%x: tensor<2x4x8xf32>) -> tensor<2x1x8xf32> {
  // expected-error @below {{'dsp.reduce_sum' op inferred type(s) 'tensor<2x8xf32>' are incompatible with return type(s) of operation 'tensor<2x1x8xf32>'}}
  // expected-error @below {{'dsp.reduce_sum' op failed to infer returned types}}
  %0 = dsp.reduce_sum %x {axes = array<i64: 1>, keepdims = false} : tensor<2x4x8xf32> -> tensor<2x1x8xf32>
  return %0 : tensor<2x1x8xf32>
}

// -----

func.func @transpose_duplicate(%x: tensor<2x4x8xf32>) -> tensor<2x2x8xf32> {
  // expected-error @below {{perm [0, 0, 2] is not a permutation of the dims of 'tensor<2x4x8xf32>'}}
  // expected-error @below {{'dsp.transpose' op failed to infer returned types}}
  %0 = dsp.transpose %x perm [0, 0, 2] : tensor<2x4x8xf32> -> tensor<2x2x8xf32>
  return %0 : tensor<2x2x8xf32>
}

// -----

func.func @transpose_length(%x: tensor<2x4x8xf32>) -> tensor<4x2xf32> {
  // expected-error @below {{perm [1, 0] is not a permutation of the dims of 'tensor<2x4x8xf32>'}}
  // expected-error @below {{'dsp.transpose' op failed to infer returned types}}
  %0 = dsp.transpose %x perm [1, 0] : tensor<2x4x8xf32> -> tensor<4x2xf32>
  return %0 : tensor<4x2xf32>
}

// -----

func.func @concat_none() -> tensor<2xf32> {
  // expected-error @below {{needs at least one input}}
  // expected-error @below {{'dsp.concat' op failed to infer returned types}}
  %0 = dsp.concat {axis = 0 : i64} : () -> tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

func.func @concat_axis(%a: tensor<2x3xf32>, %b: tensor<2x3xf32>) -> tensor<2x3xf32> {
  // expected-error @below {{axis 2 is out of range for 'tensor<2x3xf32>'}}
  // expected-error @below {{'dsp.concat' op failed to infer returned types}}
  %0 = dsp.concat %a, %b {axis = 2 : i64} : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

func.func @concat_rank(%a: tensor<2x3xf32>, %b: tensor<3xf32>) -> tensor<2x6xf32> {
  // expected-error @below {{inputs 'tensor<2x3xf32>' and 'tensor<3xf32>' differ in rank or element type}}
  // expected-error @below {{'dsp.concat' op failed to infer returned types}}
  %0 = dsp.concat %a, %b {axis = 1 : i64} : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x6xf32>
  return %0 : tensor<2x6xf32>
}

// -----

func.func @concat_element_type(%a: tensor<2x3xf32>, %b: tensor<2x3xf16>) -> tensor<2x6xf32> {
  // expected-error @below {{inputs 'tensor<2x3xf32>' and 'tensor<2x3xf16>' differ in rank or element type}}
  // expected-error @below {{'dsp.concat' op failed to infer returned types}}
  %0 = dsp.concat %a, %b {axis = 1 : i64} : (tensor<2x3xf32>, tensor<2x3xf16>) -> tensor<2x6xf32>
  return %0 : tensor<2x6xf32>
}

// -----

func.func @concat_dim(%a: tensor<2x3xf32>, %b: tensor<4x3xf32>) -> tensor<2x6xf32> {
  // expected-error @below {{inputs 'tensor<2x3xf32>' and 'tensor<4x3xf32>' differ in dim 0}}
  // expected-error @below {{'dsp.concat' op failed to infer returned types}}
  %0 = dsp.concat %a, %b {axis = 1 : i64} : (tensor<2x3xf32>, tensor<4x3xf32>) -> tensor<2x6xf32>
  return %0 : tensor<2x6xf32>
}

// -----

func.func @slice_counts(%x: tensor<4x8xf32>) -> tensor<2x8xf32> {
  // expected-error @below {{expected 2 starts, limits and strides}}
  // expected-error @below {{'dsp.slice' op failed to infer returned types}}
  %0 = dsp.slice %x {limits = array<i64: 2>, starts = array<i64: 0>, strides = array<i64: 1>} : tensor<4x8xf32> -> tensor<2x8xf32>
  return %0 : tensor<2x8xf32>
}

// -----

func.func @slice_limit(%x: tensor<4x8xf32>) -> tensor<4x9xf32> {
  // expected-error @below {{dim 1: start 0, limit 9, stride 1 do not fit size 8}}
  // expected-error @below {{'dsp.slice' op failed to infer returned types}}
  %0 = dsp.slice %x {limits = array<i64: 4, 9>, starts = array<i64: 0, 0>, strides = array<i64: 1, 1>} : tensor<4x8xf32> -> tensor<4x9xf32>
  return %0 : tensor<4x9xf32>
}

// -----

func.func @slice_start_after_limit(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  // expected-error @below {{dim 1: start 3, limit 2, stride 1 do not fit size 8}}
  // expected-error @below {{'dsp.slice' op failed to infer returned types}}
  %0 = dsp.slice %x {limits = array<i64: 4, 2>, starts = array<i64: 0, 3>, strides = array<i64: 1, 1>} : tensor<4x8xf32> -> tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// -----

func.func @slice_negative_stride_start(%x: tensor<4x8xf32>) -> tensor<4x4xf32> {
  // expected-error @below {{dim 1: start 8, limit -1, stride -2 do not fit size 8}}
  // expected-error @below {{'dsp.slice' op failed to infer returned types}}
  %0 = dsp.slice %x {limits = array<i64: 4, -1>, starts = array<i64: 0, 8>, strides = array<i64: 1, -2>} : tensor<4x8xf32> -> tensor<4x4xf32>
  return %0 : tensor<4x4xf32>
}

// -----

func.func @slice_zero_stride(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  // expected-error @below {{dim 1: start 0, limit 8, stride 0 do not fit size 8}}
  // expected-error @below {{'dsp.slice' op failed to infer returned types}}
  %0 = dsp.slice %x {limits = array<i64: 4, 8>, starts = array<i64: 0, 0>, strides = array<i64: 1, 0>} : tensor<4x8xf32> -> tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// -----

func.func @gather_axis(%x: tensor<4x8xf32>, %i: tensor<2xi64>) -> tensor<4x8xf32> {
  // expected-error @below {{axis 2 is out of range for 'tensor<4x8xf32>'}}
  // expected-error @below {{'dsp.gather' op failed to infer returned types}}
  %0 = dsp.gather %x, %i {axis = 2 : i64} : tensor<4x8xf32>, tensor<2xi64> -> tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// -----

func.func @gather_result(%x: tensor<4x8xf32>, %i: tensor<2xi64>) -> tensor<4x8xf32> {
  // expected-error @below {{'dsp.gather' op inferred type(s) 'tensor<4x2xf32>' are incompatible with return type(s) of operation 'tensor<4x8xf32>'}}
  // expected-error @below {{'dsp.gather' op failed to infer returned types}}
  %0 = dsp.gather %x, %i {axis = 1 : i64} : tensor<4x8xf32>, tensor<2xi64> -> tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// -----

func.func @expand(%x: tensor<3x8xf32>) -> tensor<4x8xf32> {
  // expected-error @below {{'dsp.expand' op cannot broadcast 'tensor<3x8xf32>' to 'tensor<4x8xf32>'}}
  %0 = dsp.expand %x : tensor<3x8xf32> -> tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// -----

func.func @expand_rank(%x: tensor<2x3x8xf32>) -> tensor<3x8xf32> {
  // expected-error @below {{'dsp.expand' op cannot broadcast 'tensor<2x3x8xf32>' to 'tensor<3x8xf32>'}}
  %0 = dsp.expand %x : tensor<2x3x8xf32> -> tensor<3x8xf32>
  return %0 : tensor<3x8xf32>
}

// -----

func.func @tile_count(%x: tensor<3x8xf32>) -> tensor<6x8xf32> {
  // expected-error @below {{expected 2 non-negative repeats}}
  // expected-error @below {{'dsp.tile' op failed to infer returned types}}
  %0 = dsp.tile %x {repeats = array<i64: 2>} : tensor<3x8xf32> -> tensor<6x8xf32>
  return %0 : tensor<6x8xf32>
}

// -----

func.func @tile_negative(%x: tensor<3x8xf32>) -> tensor<3x8xf32> {
  // expected-error @below {{expected 2 non-negative repeats}}
  // expected-error @below {{'dsp.tile' op failed to infer returned types}}
  %0 = dsp.tile %x {repeats = array<i64: 1, -1>} : tensor<3x8xf32> -> tensor<3x8xf32>
  return %0 : tensor<3x8xf32>
}

// -----

func.func @reshape(%x: tensor<3x8xf32>) -> tensor<5x5xf32> {
  // expected-error @below {{'dsp.reshape' op cannot reshape 'tensor<3x8xf32>' into 'tensor<5x5xf32>': element counts differ}}
  %0 = dsp.reshape %x : tensor<3x8xf32> -> tensor<5x5xf32>
  return %0 : tensor<5x5xf32>
}

// -----

func.func @layer_norm_axis(%x: tensor<2x8xf32>, %s: tensor<8xf32>) -> tensor<2x8xf32> {
  // expected-error @below {{'dsp.layer_norm' op axis 2 is out of range for 'tensor<2x8xf32>'}}
  %0 = dsp.layer_norm %x, %s {axis = 2 : i64, epsilon = 1.0e-5 : f64} : (tensor<2x8xf32>, tensor<8xf32>) -> tensor<2x8xf32>
  return %0 : tensor<2x8xf32>
}

// -----

func.func @layer_norm_negative_axis(%x: tensor<2x8xf32>, %s: tensor<8xf32>) -> tensor<2x8xf32> {
  // expected-error @below {{custom op 'dsp.layer_norm' 'dsp.layer_norm' op attribute 'axis' failed to satisfy constraint: 64-bit signless integer attribute whose value is non-negative}}
  %0 = dsp.layer_norm %x, %s {axis = -1 : i64, epsilon = 1.0e-5 : f64} : (tensor<2x8xf32>, tensor<8xf32>) -> tensor<2x8xf32>
  return %0 : tensor<2x8xf32>
}

// -----

func.func @layer_norm_scale(%x: tensor<2x8xf32>, %s: tensor<2x8xf32>) -> tensor<2x8xf32> {
  // expected-error @below {{'dsp.layer_norm' op scale must have type 'tensor<8xf32>', got 'tensor<2x8xf32>'}}
  %0 = dsp.layer_norm %x, %s {axis = 1 : i64, epsilon = 1.0e-5 : f64} : (tensor<2x8xf32>, tensor<2x8xf32>) -> tensor<2x8xf32>
  return %0 : tensor<2x8xf32>
}

// -----

func.func @layer_norm_scale_element_type(%x: tensor<2x8xf32>, %s: tensor<8xf16>) -> tensor<2x8xf32> {
  // expected-error @below {{'dsp.layer_norm' op scale must have type 'tensor<8xf32>', got 'tensor<8xf16>'}}
  %0 = dsp.layer_norm %x, %s {axis = 1 : i64, epsilon = 1.0e-5 : f64} : (tensor<2x8xf32>, tensor<8xf16>) -> tensor<2x8xf32>
  return %0 : tensor<2x8xf32>
}

// -----

func.func @layer_norm_bias(%x: tensor<2x8xf32>, %s: tensor<8xf32>, %b: tensor<4xf32>) -> tensor<2x8xf32> {
  // expected-error @below {{'dsp.layer_norm' op bias must have type 'tensor<8xf32>', got 'tensor<4xf32>'}}
  %0 = dsp.layer_norm %x, %s, %b {axis = 1 : i64, epsilon = 1.0e-5 : f64} : (tensor<2x8xf32>, tensor<8xf32>, tensor<4xf32>) -> tensor<2x8xf32>
  return %0 : tensor<2x8xf32>
}

// -----

func.func @layer_norm_result(%x: tensor<2x8xf32>, %s: tensor<8xf32>) -> tensor<8xf32> {
  // expected-error @below {{'dsp.layer_norm' op inferred type(s) 'tensor<2x8xf32>' are incompatible with return type(s) of operation 'tensor<8xf32>'}}
  // expected-error @below {{'dsp.layer_norm' op failed to infer returned types}}
  %0 = dsp.layer_norm %x, %s {axis = 1 : i64, epsilon = 1.0e-5 : f64} : (tensor<2x8xf32>, tensor<8xf32>) -> tensor<8xf32>
  return %0 : tensor<8xf32>
}

// -----

func.func @softmax_axis(%x: tensor<2x8xf32>) -> tensor<2x8xf32> {
  // expected-error @below {{'dsp.softmax' op axis 2 is out of range for 'tensor<2x8xf32>'}}
  %0 = dsp.softmax %x {axis = 2 : i64} : tensor<2x8xf32>
  return %0 : tensor<2x8xf32>
}

// -----

func.func @gelu_approximate(%x: tensor<2x8xf32>) -> tensor<2x8xf32> {
  // expected-error @below {{'dsp.gelu' op approximate must be "none" or "tanh", got "fast"}}
  %0 = dsp.gelu %x {approximate = "fast"} : tensor<2x8xf32>
  return %0 : tensor<2x8xf32>
}

// -----

func.func @all_to_all_same_dims(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  // expected-error @below {{'dsp.all_to_all' op split_dim and concat_dim may be equal only when the operand or the result is split on a factor of that dim}}
  %0 = dsp.all_to_all %x split 1 concat 1 : tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// -----

func.func @all_to_all_dim_range(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  // expected-error @below {{'dsp.all_to_all' op dim 2 is out of range for 'tensor<4x8xf32>'}}
  %0 = dsp.all_to_all %x split 2 concat 0 : tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// -----

func.func @all_to_all_sharding(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  // expected-error @below {{'dsp.all_to_all' op result must be split on split_dim, but its sharding is #dsp.shard<dim = 0>}}
  %0 = dsp.all_to_all %x split 1 concat 0 {dsp.sharding = [#dsp.shard<dim = 0>]} : tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// -----

func.func @all_gather_dim_range(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  // expected-error @below {{'dsp.all_gather' op dim 2 is out of range for 'tensor<4x8xf32>'}}
  %0 = dsp.all_gather %x dim 2 : tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// -----

func.func @all_gather_sharding(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  // expected-error @below {{'dsp.all_gather' op result must be replicated, but its sharding is #dsp.shard<dim = 1>}}
  %0 = dsp.all_gather %x dim 1 {dsp.sharding = [#dsp.shard<dim = 1>]} : tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// -----

func.func @all_reduce_sharding(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  // expected-error @below {{'dsp.all_reduce' op result must be replicated, but its sharding is #dsp.shard<partial>}}
  %0 = dsp.all_reduce %x sum {dsp.sharding = [#dsp.shard<partial>]} : tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// -----

func.func @all_reduce_kind(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  // expected-error @below {{custom op 'dsp.all_reduce' expected string or keyword containing one of the following enum values for attribute 'reduction' [sum, max]}}
  %0 = dsp.all_reduce %x mean : tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// -----

func.func @reduce_scatter_dim_range(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  // expected-error @below {{'dsp.reduce_scatter' op dim 5 is out of range for 'tensor<4x8xf32>'}}
  %0 = dsp.reduce_scatter %x dim 5 sum : tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// -----

func.func @reduce_scatter_sharding(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  // expected-error @below {{'dsp.reduce_scatter' op result must be split on dim, but its sharding is #dsp.shard<dim = 0>}}
  %0 = dsp.reduce_scatter %x dim 1 max {dsp.sharding = [#dsp.shard<dim = 0>]} : tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// -----

func.func @local_slice_dim_range(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  // expected-error @below {{'dsp.local_slice' op dim 2 is out of range for 'tensor<4x8xf32>'}}
  %0 = dsp.local_slice %x dim 2 : tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// -----

func.func @local_slice_sharding(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  // expected-error @below {{'dsp.local_slice' op result must be split on dim, but its sharding is #dsp.shard<replicated>}}
  %0 = dsp.local_slice %x dim 0 {dsp.sharding = [#dsp.shard<replicated>]} : tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// -----

func.func @collective_type(%x: tensor<4x8xf32>) -> tensor<8x4xf32> {
  // expected-error @below {{'dsp.all_gather' op requires the same type for the operand and the result outside per-rank IR}}
  %0 = "dsp.all_gather"(%x) {dim = 0 : i64} : (tensor<4x8xf32>) -> tensor<8x4xf32>
  return %0 : tensor<8x4xf32>
}

// -----

func.func @shard_negative_dim(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  // expected-error @below {{split dim must be non-negative, got -1}}
  %0 = dsp.neg %x {dsp.sharding = [#dsp.shard<dim = -1>]} : tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// -----

func.func @shard_negative_pad(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  // expected-error @below {{pad must be non-negative, got -1}}
  %0 = dsp.neg %x {dsp.sharding = [#dsp.shard<dim = 0, pad = -1>]} : tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// -----

func.func @shard_factor_without_factors(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  // expected-error @below {{'factor' needs 'factors'}}
  %0 = dsp.neg %x {dsp.sharding = [#dsp.shard<dim = 0, factor = 1>]} : tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// -----

func.func @shard_one_factor(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  // expected-error @below {{'factors' must list at least two factors}}
  %0 = dsp.neg %x {dsp.sharding = [#dsp.shard<dim = 0, factors = [4], factor = 0>]} : tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// -----

func.func @shard_zero_factor(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  // expected-error @below {{every factor must be positive}}
  %0 = dsp.neg %x {dsp.sharding = [#dsp.shard<dim = 1, factors = [0, 8], factor = 1>]} : tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// -----

func.func @shard_factor_index(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  // expected-error @below {{factor index 2 is out of range for 2 factors}}
  %0 = dsp.neg %x {dsp.sharding = [#dsp.shard<dim = 1, factors = [2, 4], factor = 2>]} : tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// -----

func.func @shard_unknown_key(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  // expected-error @below {{expected 'factors', 'factor' or 'pad', got 'axis'}}
  %0 = dsp.neg %x {dsp.sharding = [#dsp.shard<dim = 1, axis = 2>]} : tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// -----

func.func @shard_repeated_key(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  // expected-error @below {{'factors' is given twice}}
  %0 = dsp.neg %x {dsp.sharding = [#dsp.shard<dim = 1, factors = [2], factors = [4], factor = 1>]} : tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// -----

func.func @shard_no_dim(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  // expected-error @below {{expected 'dim'}}
  %0 = dsp.neg %x {dsp.sharding = [#dsp.shard<split>]} : tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// -----

func.func @shard_replicated_with_dim(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  // expected-error @below {{expected '>'}}
  %0 = dsp.neg %x {dsp.sharding = [#dsp.shard<replicated, dim = 0>]} : tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// -----

// expected-error @below {{a device group has 1 to 65536 ranks, got 0}}
module attributes {dsp.group = #dsp.group<ranks = 0>} {
}

// -----

// expected-error @below {{a device group has 1 to 65536 ranks, got 4294967296}}
module attributes {dsp.group = #dsp.group<ranks = 4294967296>} {
}

// -----

// expected-error @below {{'dsp.group' must be a #dsp.group}}
module attributes {dsp.group = 4 : i64} {
}

// -----

// expected-error @below {{'dsp.group' belongs on the module}}
func.func @group_on_function() attributes {dsp.group = #dsp.group<ranks = 4>} {
  return
}

// -----

// expected-error @below {{'dsp.approximate_plan' must be a dictionary on a function}}
module attributes {dsp.approximate_plan = {modeled_s = 1.0 : f64}} {
}

// -----

func.func @sharding_not_array(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  // expected-error @below {{'dsp.sharding' must be an array with one #dsp.shard per result (1)}}
  %0 = dsp.neg %x {dsp.sharding = #dsp.shard<replicated>} : tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// -----

func.func @sharding_arity(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  // expected-error @below {{'dsp.sharding' must be an array with one #dsp.shard per result (1)}}
  %0 = dsp.neg %x {dsp.sharding = [#dsp.shard<replicated>, #dsp.shard<replicated>]} : tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// -----

func.func @sharding_entry(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  // expected-error @below {{'dsp.sharding' entry 0 is not a #dsp.shard}}
  %0 = dsp.neg %x {dsp.sharding = [0 : i64]} : tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// -----

func.func @sharding_unranked() -> i32 {
  // expected-error @below {{result 0 is not a ranked tensor, so it cannot be sharded}}
  %0 = "test.op"() {dsp.sharding = [#dsp.shard<replicated>]} : () -> i32
  return %0 : i32
}

// -----

func.func @sharding_dim_range(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  // expected-error @below {{result 0: split dim 2 is out of range for 'tensor<4x8xf32>'}}
  %0 = dsp.neg %x {dsp.sharding = [#dsp.shard<dim = 2>]} : tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// -----

func.func @sharding_factors_product(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  // expected-error @below {{result 0: factors multiply to 4 but dim 1 of 'tensor<4x8xf32>' has size 8}}
  %0 = dsp.neg %x {dsp.sharding = [#dsp.shard<dim = 1, factors = [2, 2], factor = 0>]} : tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// -----

module attributes {dsp.group = #dsp.group<ranks = 4>} {
func.func @sharding_indivisible(%x: tensor<6x8xf32>) -> tensor<6x8xf32> {
  // expected-error @below {{result 0: split(dim=0,outer=1,size=6,inner=1,pad=0): size+pad must be a multiple of the 4 ranks}}
  %0 = dsp.neg %x {dsp.sharding = [#dsp.shard<dim = 0>]} : tensor<6x8xf32>
  return %0 : tensor<6x8xf32>
}
}

// -----

module attributes {dsp.group = #dsp.group<ranks = 4>} {
func.func @sharding_factor_indivisible(%x: tensor<6x8xf32>) -> tensor<6x8xf32> {
  // expected-error @below {{result 0: split(dim=1,outer=1,size=2,inner=4,pad=1): size+pad must be a multiple of the 4 ranks}}
  %0 = dsp.neg %x {dsp.sharding = [#dsp.shard<dim = 1, factors = [2, 4], factor = 0, pad = 1>]} : tensor<6x8xf32>
  return %0 : tensor<6x8xf32>
}
}

// -----

module attributes {dsp.group = #dsp.group<ranks = 2>} {
func.func @sharding_pad_too_large(%x: tensor<6x8xf32>) -> tensor<6x8xf32> {
  // expected-error @below {{result 0: split(dim=0,outer=1,size=6,inner=1,pad=2): pad must be less than the 2 ranks}}
  %0 = dsp.neg %x {dsp.sharding = [#dsp.shard<dim = 0, pad = 2>]} : tensor<6x8xf32>
  return %0 : tensor<6x8xf32>
}
}

// -----

func.func @unknown_attribute(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  // expected-error @below {{unknown dsp attribute 'dsp.shard'}}
  %0 = dsp.neg %x {dsp.shard = [#dsp.shard<replicated>]} : tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// -----

func.func @constant_type() -> tensor<2xi32> {
  // expected-error @below {{'dsp.constant' op failed to verify that all of {value, output} have same type}}
  %0 = "dsp.constant"() <{value = dense<[1, 2]> : tensor<2xi64>}> : () -> tensor<2xi32>
  return %0 : tensor<2xi32>
}

// -----

func.func @dynamic_shape(%x: tensor<?x8xf32>) -> tensor<?x8xf32> {
  // expected-error @below {{'dsp.neg' op operand #0 must be statically shaped tensor of 32-bit float or 16-bit float or bfloat16 type values, but got 'tensor<?x8xf32>'}}
  %0 = dsp.neg %x : tensor<?x8xf32>
  return %0 : tensor<?x8xf32>
}

// -----

func.func @isnan_shape(%x: tensor<4xf32>) -> tensor<2xi1> {
  // expected-error @below {{'dsp.isnan' op requires the same shape for all operands and results}}
  %0 = dsp.isnan %x : tensor<4xf32> -> tensor<2xi1>
  return %0 : tensor<2xi1>
}

// -----

// expected-error @below {{expected 'ranks'}}
module attributes {dsp.group = #dsp.group<4>} {
}

// -----

func.func @read_sharding_not_shard(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  // expected-error @below {{'dsp.read_sharding' must be one #dsp.shard on an op with one ranked tensor result}}
  %0 = dsp.neg %x {dsp.read_sharding = [#dsp.shard<dim = 0>]} : tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// -----

func.func @read_sharding_dim_range(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  // expected-error @below {{'dsp.read_sharding': split dim 2 is out of range for 'tensor<4x8xf32>'}}
  %0 = dsp.neg %x {dsp.read_sharding = #dsp.shard<dim = 2>} : tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// -----

// expected-error @below {{an argument's 'dsp.read_sharding' must be one #dsp.shard}}
func.func @argument_read_sharding_not_shard(%x: tensor<4x8xf32> {dsp.read_sharding = 1 : i64}) {
  return
}

// -----

// Per-rank IR: a value's type must be a block of its sharding.
module attributes {dsp.group = #dsp.group<ranks = 4, per_rank = true>} {
  func.func @per_rank_not_a_block(%x: tensor<4x4xf32>) -> tensor<4x4xf32> {
    // expected-error @below {{result 0: 'tensor<4x4xf32>' is no block of 4 ranks: the blocks of 8 positions are not those of factor 4}}
    %0 = dsp.neg %x {dsp.sharding = [#dsp.shard<dim = 1, factors = [4, 2], factor = 0>]} : tensor<4x4xf32>
    return %0 : tensor<4x4xf32>
  }
}

// -----

func.func @zero_pad_global(%x: tensor<4x6xf32>) -> tensor<4x6xf32> {
  // expected-error @below {{'dsp.zero_pad' op exists in per-rank IR only}}
  %0 = dsp.zero_pad %x : tensor<4x6xf32>
  return %0 : tensor<4x6xf32>
}

// -----

module attributes {dsp.group = #dsp.group<ranks = 4>} {
  func.func @linear_global(%x: tensor<4x6xf32>, %w: tensor<6x2xf32>, %b: tensor<2xf32>) -> tensor<4x2xf32> {
    // expected-error @below {{'dsp.linear' op exists in per-rank IR only}}
    %0 = dsp.linear %x, %w bias %b : (tensor<4x6xf32>, tensor<6x2xf32>, tensor<2xf32>) -> tensor<4x2xf32>
    return %0 : tensor<4x2xf32>
  }
}

// -----

func.func @linear_result_type(%x: tensor<4x6xf32>, %w: tensor<6x2xf32>, %b: tensor<2xf32>) -> tensor<4x3xf32> {
  // expected-error @below {{'dsp.linear' op result must have the product's type 'tensor<4x2xf32>', got 'tensor<4x3xf32>'}}
  %0 = dsp.linear %x, %w bias %b : (tensor<4x6xf32>, tensor<6x2xf32>, tensor<2xf32>) -> tensor<4x3xf32>
  return %0 : tensor<4x3xf32>
}

// -----

func.func @linear_bias_shape(%x: tensor<4x6xf32>, %w: tensor<6x2xf32>, %b: tensor<1x2xf32>) -> tensor<4x2xf32> {
  // expected-error @below {{'dsp.linear' op bias must have shape [2], got 'tensor<1x2xf32>'}}
  %0 = dsp.linear %x, %w bias %b : (tensor<4x6xf32>, tensor<6x2xf32>, tensor<1x2xf32>) -> tensor<4x2xf32>
  return %0 : tensor<4x2xf32>
}

// -----

func.func @linear_residual_shape(%x: tensor<4x6xf32>, %w: tensor<6x2xf32>, %b: tensor<2xf32>, %r: tensor<2xf32>) -> tensor<4x2xf32> {
  // expected-error @below {{'dsp.linear' op residual must have the result's type 'tensor<4x2xf32>', got 'tensor<2xf32>'}}
  %0 = dsp.linear %x, %w bias %b residual %r : (tensor<4x6xf32>, tensor<6x2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<4x2xf32>
  return %0 : tensor<4x2xf32>
}

// -----

func.func @linear_activation(%x: tensor<4x6xf32>, %w: tensor<6x2xf32>, %b: tensor<2xf32>) -> tensor<4x2xf32> {
  // expected-error @below {{'dsp.linear' op activation must be one of 'none', 'gelu', 'gelu_tanh', 'silu', got "relu"}}
  %0 = dsp.linear %x, %w bias %b {activation = "relu"} : (tensor<4x6xf32>, tensor<6x2xf32>, tensor<2xf32>) -> tensor<4x2xf32>
  return %0 : tensor<4x2xf32>
}

// -----

module attributes {dsp.group = #dsp.group<ranks = 4, per_rank = true>} {
  func.func @zero_pad_no_pad(%x: tensor<1x6xf32>) -> tensor<1x6xf32> {
    // expected-error @below {{'dsp.zero_pad' op result must be split with a pad}}
    %0 = dsp.zero_pad %x {dsp.sharding = [#dsp.shard<dim = 0>]} : tensor<1x6xf32>
    return %0 : tensor<1x6xf32>
  }
}

// -----

module attributes {dsp.group = #dsp.group<ranks = 4, per_rank = true>} {
  func.func @per_rank_factor_switch(%x: tensor<2x8x3xf32> {dsp.sharding = #dsp.shard<dim = 1, factors = [4, 8], factor = 0>}) -> tensor<2x8x3xf32> {
    // expected-error @below {{'dsp.all_to_all' op a switch within one dim has no per-rank form; --dsp-localize makes it a switch between two dims of a view}}
    %0 = dsp.all_to_all %x split 1 concat 1 {dsp.sharding = [#dsp.shard<dim = 1, factors = [4, 8], factor = 1>]} : tensor<2x8x3xf32>
    return %0 : tensor<2x8x3xf32>
  }
}

// -----

module attributes {dsp.group = #dsp.group<ranks = 4, per_rank = true>} {
  func.func @per_rank_collective_types(%x: tensor<1x6xf32> {dsp.sharding = #dsp.shard<dim = 0>}) -> tensor<8x6xf32> {
    // expected-error @below {{'dsp.all_gather' op operand and result are blocks of different global types, 'tensor<4x6xf32>' and 'tensor<8x6xf32>'}}
    %0 = dsp.all_gather %x dim 0 {dsp.sharding = [#dsp.shard<replicated>]} : tensor<1x6xf32> -> tensor<8x6xf32>
    return %0 : tensor<8x6xf32>
  }
}

// -----

func.func @fused_not_elementwise(%x: tensor<2x2xf32>) -> tensor<2x2xf32> {
  %0 = dsp.fused(%x) : (tensor<2x2xf32>) -> tensor<2x2xf32> {
  ^bb0(%a: tensor<2x2xf32>):
    // expected-error @below {{'dsp.matmul' op cannot be fused: neither element-wise, a splat constant nor a row op}}
    %1 = dsp.matmul %a, %a : tensor<2x2xf32>, tensor<2x2xf32> -> tensor<2x2xf32>
    dsp.yield %1 : tensor<2x2xf32>
  }
  return %0 : tensor<2x2xf32>
}

// -----

func.func @fused_two_row_ops(%x: tensor<2x4xf32>) -> tensor<2x4xf32> {
  %0 = dsp.fused(%x) : (tensor<2x4xf32>) -> tensor<2x4xf32> {
  ^bb0(%a: tensor<2x4xf32>):
    %1 = dsp.softmax %a {axis = 1 : i64} : tensor<2x4xf32>
    // expected-error @below {{'dsp.softmax' op cannot be fused: the body holds a row op already}}
    %2 = dsp.softmax %1 {axis = 1 : i64} : tensor<2x4xf32>
    dsp.yield %2 : tensor<2x4xf32>
  }
  return %0 : tensor<2x4xf32>
}

// -----

func.func @fused_row_op_space(%x: tensor<2x4xf32>, %y: tensor<4xf32>) -> tensor<2x4xf32> {
  %0 = dsp.fused(%x, %y) : (tensor<2x4xf32>, tensor<4xf32>) -> tensor<2x4xf32> {
  ^bb0(%a: tensor<2x4xf32>, %b: tensor<4xf32>):
    // expected-error @below {{'dsp.softmax' op row op result must have the shape of the fused iteration space}}
    %1 = dsp.softmax %b {axis = 0 : i64} : tensor<4xf32>
    %2 = dsp.add %a, %1 : tensor<2x4xf32>, tensor<4xf32> -> tensor<2x4xf32>
    dsp.yield %2 : tensor<2x4xf32>
  }
  return %0 : tensor<2x4xf32>
}

// -----

func.func @fused_yield_type(%x: tensor<2x2xf32>) -> tensor<2x2xf32> {
  // expected-error @below {{'dsp.fused' op yielded values must have the types of the results}}
  %0 = dsp.fused(%x) : (tensor<2x2xf32>) -> tensor<2x2xf32> {
  ^bb0(%a: tensor<2x2xf32>):
    %1 = dsp.reshape %a : tensor<2x2xf32> -> tensor<4xf32>
    dsp.yield %1 : tensor<4xf32>
  }
  return %0 : tensor<2x2xf32>
}

// -----

func.func @fused_block_arguments(%x: tensor<2x2xf32>) -> tensor<2x2xf32> {
  // expected-error @below {{'dsp.fused' op block arguments must have the types of the inputs}}
  %0 = dsp.fused(%x) : (tensor<2x2xf32>) -> tensor<2x2xf32> {
  ^bb0(%a: tensor<2x2xbf16>):
    %1 = dsp.neg %a : tensor<2x2xbf16>
    dsp.yield %x : tensor<2x2xf32>
  }
  return %0 : tensor<2x2xf32>
}

// -----

func.func @fused_spaces(%x: tensor<2x2xf32>, %y: tensor<2xf32>) -> (tensor<2x2xf32>, tensor<2xf32>) {
  // expected-error @below {{'dsp.fused' op results must share one shape, the iteration space}}
  %0:2 = dsp.fused(%x, %y) : (tensor<2x2xf32>, tensor<2xf32>) -> (tensor<2x2xf32>, tensor<2xf32>) {
  ^bb0(%a: tensor<2x2xf32>, %b: tensor<2xf32>):
    dsp.yield %a, %b : tensor<2x2xf32>, tensor<2xf32>
  }
  return %0#0, %0#1 : tensor<2x2xf32>, tensor<2xf32>
}

// -----

module attributes {gpu.container_module} {
  gpu.module @k {
  }
  func.func @launch_block(%x: tensor<2xf32>) -> tensor<2xf32> {
    // expected-error @below {{'dsp.launch' op block of 2048 threads, more than 1024}}
    %0 = dsp.launch @k::@k grid [1, 1, 1] block [1024, 2, 1] (%x) : (tensor<2xf32>) -> tensor<2xf32>
    return %0 : tensor<2xf32>
  }
}

// -----

module attributes {gpu.container_module} {
  gpu.module @k {
  }
  func.func @launch_grid(%x: tensor<2xf32>) -> tensor<2xf32> {
    // expected-error @below {{'dsp.launch' op grid or block extent 1 is out of CUDA's launch limits}}
    %0 = dsp.launch @k::@k grid [1, 65536, 1] block [32, 1, 1] (%x) : (tensor<2xf32>) -> tensor<2xf32>
    return %0 : tensor<2xf32>
  }
}

// -----

func.func @launch_undefined(%x: tensor<2xf32>) -> tensor<2xf32> {
  // expected-error @below {{'dsp.launch' op kernel module "missing" is not defined}}
  %0 = dsp.launch @missing::@k grid [1, 1, 1] block [32, 1, 1] (%x) : (tensor<2xf32>) -> tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

// expected-error @below {{target cuda needs a chip such as "sm_90", got compute_90}}
module attributes {dsp.target = #dsp.target<cuda, chip = "compute_90">} {
}

// -----

// expected-error @below {{'dsp.target' must be a #dsp.target on the module}}
module attributes {dsp.target = "cuda"} {
}

// -----

func.func @all_to_all_perm_in_global_ir(%x: tensor<4x8xf32>) -> tensor<8x4xf32> {
  // expected-error @below {{'dsp.all_to_all' op input_perm is per-rank IR only (run --dsp-fold-collective-transposes after --dsp-localize)}}
  %0 = dsp.all_to_all %x split 0 concat 1 input_perm [1, 0] : tensor<4x8xf32> -> tensor<8x4xf32>
  return %0 : tensor<8x4xf32>
}

// -----

module attributes {dsp.group = #dsp.group<ranks = 2, per_rank = true>} {
  func.func @all_to_all_perm_not_a_permutation(%x: tensor<4x8xf32> {dsp.sharding = #dsp.shard<dim = 0>}) -> tensor<8x4xf32> {
    // expected-error @below {{'dsp.all_to_all' op output_perm [1, 1] is not a permutation of 2 dims}}
    %0 = dsp.all_to_all %x split 0 concat 1 output_perm [1, 1] {dsp.sharding = [#dsp.shard<dim = 0>]} : tensor<4x8xf32> -> tensor<8x4xf32>
    return %0 : tensor<8x4xf32>
  }
}

// -----

module attributes {dsp.group = #dsp.group<ranks = 2, per_rank = true>} {
  func.func @all_to_all_perm_wrong_blocks(%x: tensor<4x8xf32> {dsp.sharding = #dsp.shard<dim = 0>}) -> tensor<8x4xf32> {
    // expected-error @below {{'dsp.all_to_all' op operand and result are blocks of different global types}}
    %0 = dsp.all_to_all %x split 0 concat 1 input_perm [1, 0] {dsp.sharding = [#dsp.shard<dim = 0>]} : tensor<4x8xf32> -> tensor<8x4xf32>
    return %0 : tensor<8x4xf32>
  }
}

// -----

func.func @attention_perm_in_global_ir(%q: tensor<2x16x4x8xf32>, %k: tensor<2x4x16x8xf32>) -> tensor<2x4x16x8xf32> {
  // expected-error @below {{'dsp.attention' op query_perm is per-rank IR only (run --dsp-fold-attention-transposes after --dsp-localize)}}
  %0 = dsp.attention %q, %k, %k query_perm [0, 2, 1, 3] {scale = 1.0 : f64} : (tensor<2x16x4x8xf32>, tensor<2x4x16x8xf32>, tensor<2x4x16x8xf32>) -> tensor<2x4x16x8xf32>
  return %0 : tensor<2x4x16x8xf32>
}

// -----

module attributes {dsp.group = #dsp.group<ranks = 1, per_rank = true>} {
  func.func @attention_perm_moves_head_dim(%q: tensor<2x4x8x16xf32>, %k: tensor<2x4x16x8xf32>) -> tensor<2x4x16x8xf32> {
    // expected-error @below {{'dsp.attention' op failed to infer returned types}}
    // expected-error @below {{key_perm [0, 1, 3, 2] is not a permutation of 4 dims that keeps the head dim last}}
    %0 = dsp.attention %k, %q, %k key_perm [0, 1, 3, 2] {scale = 1.0 : f64} : (tensor<2x4x16x8xf32>, tensor<2x4x8x16xf32>, tensor<2x4x16x8xf32>) -> tensor<2x4x16x8xf32>
    return %0 : tensor<2x4x16x8xf32>
  }
}

// -----

func.func @attention_select_in_global_ir(%p: tensor<2x4x3x16x8xf32>, %k: tensor<2x4x16x8xf32>) -> tensor<2x4x16x8xf32> {
  // expected-error @below {{'dsp.attention' op value_select is per-rank IR only (run --dsp-fold-attention-transposes after --dsp-localize)}}
  %0 = dsp.attention %k, %k, %p value_select [2, 1] {scale = 1.0 : f64} : (tensor<2x4x16x8xf32>, tensor<2x4x16x8xf32>, tensor<2x4x3x16x8xf32>) -> tensor<2x4x16x8xf32>
  return %0 : tensor<2x4x16x8xf32>
}

// -----

module attributes {dsp.group = #dsp.group<ranks = 1, per_rank = true>} {
  func.func @attention_select_out_of_range(%p: tensor<2x4x3x16x8xf32>, %k: tensor<2x4x16x8xf32>) -> tensor<2x4x16x8xf32> {
    // expected-error @below {{'dsp.attention' op failed to infer returned types}}
    // expected-error @below {{key_select [2, 3] is not [dim, index] of a dim of a rank-5 operand [2, 4, 3, 16, 8]}}
    %0 = dsp.attention %k, %p, %k key_select [2, 3] {scale = 1.0 : f64} : (tensor<2x4x16x8xf32>, tensor<2x4x3x16x8xf32>, tensor<2x4x16x8xf32>) -> tensor<2x4x16x8xf32>
    return %0 : tensor<2x4x16x8xf32>
  }
}

// -----

module attributes {dsp.group = #dsp.group<ranks = 1, per_rank = true>} {
  func.func @attention_select_of_rank_4(%k: tensor<2x4x16x8xf32>) -> tensor<2x4x16x8xf32> {
    // expected-error @below {{'dsp.attention' op failed to infer returned types}}
    // expected-error @below {{query_select [0, 1] is not [dim, index] of a dim of a rank-5 operand [2, 4, 16, 8]}}
    %0 = dsp.attention %k, %k, %k query_select [0, 1] {scale = 1.0 : f64} : (tensor<2x4x16x8xf32>, tensor<2x4x16x8xf32>, tensor<2x4x16x8xf32>) -> tensor<2x4x16x8xf32>
    return %0 : tensor<2x4x16x8xf32>
  }
}

// -----

module attributes {dsp.group = #dsp.group<ranks = 2, per_rank = true>} {
  func.func @attention_perm_on_a_ring(%q: tensor<1x8x4x8xf32> {dsp.sharding = #dsp.shard<dim = 1>}, %k: tensor<1x4x8x8xf32> {dsp.sharding = #dsp.shard<dim = 2>}) -> tensor<1x4x8x8xf32> {
    // expected-error @below {{'dsp.attention' op query_perm on an attention that runs as a ring}}
    %0 = dsp.attention %q, %k, %k query_perm [0, 2, 1, 3] {dsp.sharding = [#dsp.shard<dim = 2>], scale = 1.0 : f64} : (tensor<1x8x4x8xf32>, tensor<1x4x8x8xf32>, tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32>
    return %0 : tensor<1x4x8x8xf32>
  }
}

// RUN: dsp-opt %s --dsp-test-sharding-rules -verify-diagnostics -o /dev/null

// The factor mapping of each dsp op, as the test pass prints it.

// Elementwise ops: every result dim is a parallel factor; operands align at
// the trailing dim and a broadcast dim of size 1 maps onto no factor ("1").
func.func @elementwise_broadcast(%a: tensor<2x4x8xf32>, %b: tensor<4x1xf32>, %c: tensor<8xf32>) -> tensor<2x4x8xf32> {
  // expected-remark @below {{sharding rule: ([a, b, c], [b, 1]) -> ([a, b, c]) {a = 2 parallel, b = 4 parallel, c = 8 parallel}}}
  %0 = dsp.add %a, %b : tensor<2x4x8xf32>, tensor<4x1xf32> -> tensor<2x4x8xf32>
  // expected-remark @below {{sharding rule: ([c], [a, b, c]) -> ([a, b, c]) {a = 2 parallel, b = 4 parallel, c = 8 parallel}}}
  %1 = dsp.mul %c, %0 : tensor<8xf32>, tensor<2x4x8xf32> -> tensor<2x4x8xf32>
  // expected-remark @below {{sharding rule: ([a, b, c]) -> ([a, b, c]) {a = 2 parallel, b = 4 parallel, c = 8 parallel}}}
  %2 = dsp.exp %1 : tensor<2x4x8xf32>
  return %2 : tensor<2x4x8xf32>
}

func.func @elementwise_where(%c: tensor<1x8xi1>, %t: tensor<4x1xf32>, %f: tensor<f32>) -> tensor<4x8xf32> {
  // expected-remark @below {{sharding rule: ([1, b], [a, 1], []) -> ([a, b]) {a = 4 parallel, b = 8 parallel}}}
  %0 = dsp.where %c, %t, %f : tensor<1x8xi1>, tensor<4x1xf32>, tensor<f32> -> tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

func.func @elementwise_cast_isnan(%x: tensor<4x8xf32>) -> (tensor<4x8xi1>, tensor<4x8xf16>) {
  // expected-remark @below {{sharding rule: ([a, b]) -> ([a, b]) {a = 4 parallel, b = 8 parallel}}}
  %0 = dsp.isnan %x : tensor<4x8xf32> -> tensor<4x8xi1>
  // expected-remark @below {{sharding rule: ([a, b]) -> ([a, b]) {a = 4 parallel, b = 8 parallel}}}
  %1 = dsp.cast %x : tensor<4x8xf32> -> tensor<4x8xf16>
  return %0, %1 : tensor<4x8xi1>, tensor<4x8xf16>
}

// [..., M, K] x [K, N]: M and N parallel, K a reduction.
func.func @matmul(%a: tensor<4x16x32xf32>, %w: tensor<32x64xf32>) -> tensor<4x16x64xf32> {
  // expected-remark @below {{sharding rule: ([a, b, c], [c, d]) -> ([a, b, d]) {a = 4 parallel, b = 16 parallel, c = 32 reduction, d = 64 parallel}}}
  %0 = dsp.matmul %a, %w : tensor<4x16x32xf32>, tensor<32x64xf32> -> tensor<4x16x64xf32>
  return %0 : tensor<4x16x64xf32>
}

// Batch dims broadcast as numpy does: the size-1 batch dim of the lhs maps
// onto no factor.
func.func @matmul_broadcast_batch(%a: tensor<2x1x16x32xf32>, %b: tensor<3x32x8xf32>) -> tensor<2x3x16x8xf32> {
  // expected-remark @below {{sharding rule: ([a, 1, c, d], [b, d, e]) -> ([a, b, c, e]) {a = 2 parallel, b = 3 parallel, c = 16 parallel, d = 32 reduction, e = 8 parallel}}}
  %0 = dsp.matmul %a, %b : tensor<2x1x16x32xf32>, tensor<3x32x8xf32> -> tensor<2x3x16x8xf32>
  return %0 : tensor<2x3x16x8xf32>
}

// The normalized dims (axis ..< rank) mix; scale and bias share their factors.
func.func @layer_norm(%x: tensor<2x16x32xf32>, %s: tensor<32xf32>, %b: tensor<32xf32>, %s2: tensor<16x32xf32>) -> (tensor<2x16x32xf32>, tensor<2x16x32xf32>) {
  // expected-remark @below {{sharding rule: ([a, b, c], [c], [c]) -> ([a, b, c]) {a = 2 parallel, b = 16 parallel, c = 32 mixing}}}
  %0 = dsp.layer_norm %x, %s, %b {axis = 2 : i64, epsilon = 1.0e-5 : f64} : (tensor<2x16x32xf32>, tensor<32xf32>, tensor<32xf32>) -> tensor<2x16x32xf32>
  // expected-remark @below {{sharding rule: ([a, b, c], [b, c]) -> ([a, b, c]) {a = 2 parallel, b = 16 mixing, c = 32 mixing}}}
  %1 = dsp.layer_norm %x, %s2 {axis = 1 : i64, epsilon = 1.0e-5 : f64} : (tensor<2x16x32xf32>, tensor<16x32xf32>) -> tensor<2x16x32xf32>
  return %0, %1 : tensor<2x16x32xf32>, tensor<2x16x32xf32>
}

// Only the softmax axis mixes.
func.func @softmax(%x: tensor<2x4x16xf32>) -> tensor<2x4x16xf32> {
  // expected-remark @below {{sharding rule: ([a, b, c]) -> ([a, b, c]) {a = 2 parallel, b = 4 mixing, c = 16 parallel}}}
  %0 = dsp.softmax %x {axis = 1 : i64} : tensor<2x4x16xf32>
  return %0 : tensor<2x4x16xf32>
}

// Batch, heads and query sequence are parallel; the key sequence and the
// head dim of query and key mix (the softmax is not linear); the mask is
// broadcast onto the scores.
func.func @attention(%q: tensor<2x8x16x64xf32>, %k: tensor<2x8x32x64xf32>, %v: tensor<2x8x32x48xf32>, %m: tensor<1x16x1xf32>) -> (tensor<2x8x16x48xf32>, tensor<2x8x16x48xf32>) {
  // expected-remark @below {{sharding rule: ([a, b, c, e], [a, b, d, e], [a, b, d, f]) -> ([a, b, c, f]) {a = 2 parallel, b = 8 parallel, c = 16 parallel, d = 32 mixing, e = 64 mixing, f = 48 parallel}}}
  %0 = dsp.attention %q, %k, %v {scale = 0.125 : f64} : (tensor<2x8x16x64xf32>, tensor<2x8x32x64xf32>, tensor<2x8x32x48xf32>) -> tensor<2x8x16x48xf32>
  // expected-remark @below {{sharding rule: ([a, b, c, e], [a, b, d, e], [a, b, d, f], [1, c, 1]) -> ([a, b, c, f]) {a = 2 parallel, b = 8 parallel, c = 16 parallel, d = 32 mixing, e = 64 mixing, f = 48 parallel}}}
  %1 = dsp.attention %q, %k, %v mask %m {scale = 0.125 : f64} : (tensor<2x8x16x64xf32>, tensor<2x8x32x64xf32>, tensor<2x8x32x48xf32>, tensor<1x16x1xf32>) -> tensor<2x8x16x48xf32>
  return %0, %1 : tensor<2x8x16x48xf32>, tensor<2x8x16x48xf32>
}

// kernel == stride, no pad: each spatial dim is [patches, kernel offset], the
// patches parallel and the offset (like the input channels) a reduction.
func.func @conv_patch_embedding(%x: tensor<2x3x8x32x32xf32>, %w: tensor<64x3x2x16x16xf32>, %b: tensor<64xf32>) -> tensor<2x64x4x2x2xf32> {
  // expected-remark @below {{sharding rule: ([a, c, d*e, f*g, h*i], [b, c, e, g, i], [b]) -> ([a, b, d, f, h]) {a = 2 parallel, b = 64 parallel, c = 3 reduction, d = 4 parallel, e = 2 reduction, f = 2 parallel, g = 16 reduction, h = 2 parallel, i = 16 reduction}}}
  %0 = dsp.conv %x, %w, %b {dilations = array<i64: 1, 1, 1>, pads = array<i64: 0, 0, 0, 0, 0, 0>, strides = array<i64: 2, 16, 16>} : (tensor<2x3x8x32x32xf32>, tensor<64x3x2x16x16xf32>, tensor<64xf32>) -> tensor<2x64x4x2x2xf32>
  return %0 : tensor<2x64x4x2x2xf32>
}

// A padded 3x3 convolution: spatial dims mix.
func.func @conv_regular(%x: tensor<1x4x10x10xf32>, %w: tensor<8x4x3x3xf32>) -> tensor<1x8x10x10xf32> {
  // expected-remark @below {{sharding rule: ([a, c, d, g], [b, c, e, h]) -> ([a, b, f, i]) {a = 1 parallel, b = 8 parallel, c = 4 reduction, d = 10 mixing, e = 3 mixing, f = 10 mixing, g = 10 mixing, h = 3 mixing, i = 10 mixing}}}
  %0 = dsp.conv %x, %w {dilations = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>} : (tensor<1x4x10x10xf32>, tensor<8x4x3x3xf32>) -> tensor<1x8x10x10xf32>
  return %0 : tensor<1x8x10x10xf32>
}

// A grouped convolution ties input to output channels: both channel factors mix.
func.func @conv_grouped(%x: tensor<1x4x10x10xf32>, %w: tensor<8x2x2x2xf32>) -> tensor<1x8x5x5xf32> {
  // expected-remark @below {{sharding rule: ([a, c, e*f, g*h], [b, d, f, h]) -> ([a, b, e, g]) {a = 1 parallel, b = 8 parallel, c = 4 mixing, d = 2 mixing, e = 5 parallel, f = 2 reduction, g = 5 parallel, h = 2 reduction}}}
  %0 = dsp.conv %x, %w {dilations = array<i64: 1, 1>, group = 2 : i64, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 2, 2>} : (tensor<1x4x10x10xf32>, tensor<8x2x2x2xf32>) -> tensor<1x8x5x5xf32>
  return %0 : tensor<1x8x5x5xf32>
}

// The result dims carry the factors of the permuted input dims.
func.func @transpose(%x: tensor<2x4x8xf32>) -> tensor<8x2x4xf32> {
  // expected-remark @below {{sharding rule: ([a, b, c]) -> ([c, a, b]) {a = 2 parallel, b = 4 parallel, c = 8 parallel}}}
  %0 = dsp.transpose %x perm [2, 0, 1] : tensor<2x4x8xf32> -> tensor<8x2x4xf32>
  return %0 : tensor<8x2x4xf32>
}

// Summed and averaged dims are reductions, max mixes; keepdims leaves "1".
func.func @reductions(%x: tensor<2x4x8xf32>) -> (tensor<2x1x1xf32>, tensor<2x8xf32>, tensor<2x4x1xf32>) {
  // expected-remark @below {{sharding rule: ([a, b, c]) -> ([a, 1, 1]) {a = 2 parallel, b = 4 reduction, c = 8 reduction}}}
  %0 = dsp.reduce_sum %x {axes = array<i64: 1, 2>} : tensor<2x4x8xf32> -> tensor<2x1x1xf32>
  // expected-remark @below {{sharding rule: ([a, b, c]) -> ([a, c]) {a = 2 parallel, b = 4 reduction, c = 8 parallel}}}
  %1 = dsp.reduce_mean %x {axes = array<i64: 1>, keepdims = false} : tensor<2x4x8xf32> -> tensor<2x8xf32>
  // expected-remark @below {{sharding rule: ([a, b, c]) -> ([a, b, 1]) {a = 2 parallel, b = 4 parallel, c = 8 mixing}}}
  %2 = dsp.reduce_max %x {axes = array<i64: 2>} : tensor<2x4x8xf32> -> tensor<2x4x1xf32>
  return %0, %1, %2 : tensor<2x1x1xf32>, tensor<2x8xf32>, tensor<2x4x1xf32>
}

// Constants and weights: one parallel factor per result dim, no operands.
func.func @constant_weight() -> (tensor<2x3xi64>, tensor<4x8xf32>) {
  // expected-remark @below {{sharding rule: () -> ([a, b]) {a = 2 parallel, b = 3 parallel}}}
  %0 = dsp.constant dense<[[1, 2, 3], [4, 5, 6]]> : tensor<2x3xi64>
  // expected-remark @below {{sharding rule: () -> ([a, b]) {a = 4 parallel, b = 8 parallel}}}
  %1 = dsp.weight "w" : tensor<4x8xf32>
  return %0, %1 : tensor<2x3xi64>, tensor<4x8xf32>
}

// Reshapes map onto the common refinement of the two shapes: a dim split
// or merged maps onto a compound factor, all parallel.
func.func @reshape_split(%x: tensor<2x128x64xf32>) -> tensor<2x8x16x64xf32> {
  // expected-remark @below {{sharding rule: ([a, b*c, d]) -> ([a, b, c, d]) {a = 2 parallel, b = 8 parallel, c = 16 parallel, d = 64 parallel}}}
  %0 = dsp.reshape %x : tensor<2x128x64xf32> -> tensor<2x8x16x64xf32>
  return %0 : tensor<2x8x16x64xf32>
}

// Neither shape refines the other: 4 = 4, then 6 = 2 * 3 and 8 = 4 * 2.
func.func @reshape_refine_both(%x: tensor<4x6xf32>) -> tensor<8x3xf32> {
  // expected-remark @below {{sharding rule: ([a, b*c]) -> ([a*b, c]) {a = 4 parallel, b = 2 parallel, c = 3 parallel}}}
  %0 = dsp.reshape %x : tensor<4x6xf32> -> tensor<8x3xf32>
  return %0 : tensor<8x3xf32>
}

// The fused QKV projection [B, N, 3*H*D] split into [B, N, 3, H, D].
func.func @reshape_fused_qkv(%x: tensor<2x16x192xf32>) -> tensor<2x16x3x4x16xf32> {
  // expected-remark @below {{sharding rule: ([a, b, c*d*e]) -> ([a, b, c, d, e]) {a = 2 parallel, b = 16 parallel, c = 3 parallel, d = 4 parallel, e = 16 parallel}}}
  %0 = dsp.reshape %x : tensor<2x16x192xf32> -> tensor<2x16x3x4x16xf32>
  return %0 : tensor<2x16x3x4x16xf32>
}

// Divided space-time attention with the frame index innermost in the token
// order (token = patch * T + frame, S = 16 patches, T = 8 frames): the frames
// factor is 8 in every rule of the chain, so a sharding on T carries through.
func.func @reshape_timesformer(%x: tensor<1x128x64xf32>) -> tensor<8x16x64xf32> {
  // expected-remark @below {{sharding rule: ([a, b*c, d]) -> ([a, b, c, d]) {a = 1 parallel, b = 16 parallel, c = 8 parallel, d = 64 parallel}}}
  %0 = dsp.reshape %x : tensor<1x128x64xf32> -> tensor<1x16x8x64xf32>
  // expected-remark @below {{sharding rule: ([a, b, c, d]) -> ([a, c, b, d]) {a = 1 parallel, b = 16 parallel, c = 8 parallel, d = 64 parallel}}}
  %1 = dsp.transpose %0 perm [0, 2, 1, 3] : tensor<1x16x8x64xf32> -> tensor<1x8x16x64xf32>
  // expected-remark @below {{sharding rule: ([1, a, b, c]) -> ([a, b, c]) {a = 8 parallel, b = 16 parallel, c = 64 parallel}}}
  %2 = dsp.reshape %1 : tensor<1x8x16x64xf32> -> tensor<8x16x64xf32>
  return %2 : tensor<8x16x64xf32>
}

// Size-1 dims that are dropped, inserted or inside a group map onto no
// factor.
func.func @reshape_unit_dims(%x: tensor<1x4xf32>, %y: tensor<4x1x6xf32>) -> (tensor<4x1xf32>, tensor<2x12xf32>) {
  // expected-remark @below {{sharding rule: ([1, a]) -> ([a, 1]) {a = 4 parallel}}}
  %0 = dsp.reshape %x : tensor<1x4xf32> -> tensor<4x1xf32>
  // expected-remark @below {{sharding rule: ([a*b, 1, c]) -> ([a, b*c]) {a = 2 parallel, b = 2 parallel, c = 6 parallel}}}
  %1 = dsp.reshape %y : tensor<4x1x6xf32> -> tensor<2x12xf32>
  return %0, %1 : tensor<4x1xf32>, tensor<2x12xf32>
}

// [6, 5] -> [5, 6] has no common factor: the group mixes, each side with
// its own factors, while the next group [4] -> [2, 2] stays parallel.
func.func @reshape_unrefinable(%x: tensor<6x5x4xf32>) -> tensor<5x6x2x2xf32> {
  // expected-remark @below {{sharding rule: ([a, b, e*f]) -> ([c, d, e, f]) {a = 6 mixing, b = 5 mixing, c = 5 mixing, d = 6 mixing, e = 2 parallel, f = 2 parallel}}}
  %0 = dsp.reshape %x : tensor<6x5x4xf32> -> tensor<5x6x2x2xf32>
  return %0 : tensor<5x6x2x2xf32>
}

// Partly refinable groups: a factor lines up at the major end ([4, 3] ->
// [6, 2] share the leading 2) or at the minor end ([3, 4] -> [2, 6] share
// the trailing 2); what lies between mixes.
func.func @reshape_partly_refinable(%x: tensor<4x3xf32>, %y: tensor<3x4xf32>) -> (tensor<6x2xf32>, tensor<2x6xf32>) {
  // expected-remark @below {{sharding rule: ([a*b, c]) -> ([a*d, e]) {a = 2 parallel, b = 2 mixing, c = 3 mixing, d = 3 mixing, e = 2 mixing}}}
  %0 = dsp.reshape %x : tensor<4x3xf32> -> tensor<6x2xf32>
  // expected-remark @below {{sharding rule: ([a, b*e]) -> ([c, d*e]) {a = 3 mixing, b = 2 mixing, c = 2 mixing, d = 3 mixing, e = 2 parallel}}}
  %1 = dsp.reshape %y : tensor<3x4xf32> -> tensor<2x6xf32>
  return %0, %1 : tensor<6x2xf32>, tensor<2x6xf32>
}

// Concat: the other dims are shared; the axis of each input and of the
// result is its own mixing factor.
func.func @concat(%x: tensor<2x4x8xf32>, %y: tensor<2x3x8xf32>, %cls: tensor<1x64xf32>, %p: tensor<4x64xf32>, %q: tensor<2x64xf32>) -> (tensor<2x7x8xf32>, tensor<7x64xf32>) {
  // expected-remark @below {{sharding rule: ([a, b, c], [a, d, c]) -> ([a, e, c]) {a = 2 parallel, b = 4 mixing, c = 8 parallel, d = 3 mixing, e = 7 mixing}}}
  %0 = dsp.concat %x, %y {axis = 1 : i64} : (tensor<2x4x8xf32>, tensor<2x3x8xf32>) -> tensor<2x7x8xf32>
  // expected-remark @below {{sharding rule: ([a, b], [c, b], [d, b]) -> ([e, b]) {a = 1 mixing, b = 64 parallel, c = 4 mixing, d = 2 mixing, e = 7 mixing}}}
  %1 = dsp.concat %cls, %p, %q {axis = 0 : i64} : (tensor<1x64xf32>, tensor<4x64xf32>, tensor<2x64xf32>) -> tensor<7x64xf32>
  return %0, %1 : tensor<2x7x8xf32>, tensor<7x64xf32>
}

// Slice: a dim taken whole is shared; a sliced, strided or reversed dim
// mixes, with its own factors on each side.
func.func @slice(%x: tensor<1x129x64xf32>, %y: tensor<2x4xf32>) -> (tensor<1x1x64xf32>, tensor<1x128x64xf32>, tensor<2x2xf32>, tensor<2x4xf32>) {
  // expected-remark @below {{sharding rule: ([a, b, c]) -> ([a, d, c]) {a = 1 parallel, b = 129 mixing, c = 64 parallel, d = 1 mixing}}}
  %0 = dsp.slice %x {limits = array<i64: 1, 1, 64>, starts = array<i64: 0, 0, 0>, strides = array<i64: 1, 1, 1>} : tensor<1x129x64xf32> -> tensor<1x1x64xf32>
  // expected-remark @below {{sharding rule: ([a, b, c]) -> ([a, d, c]) {a = 1 parallel, b = 129 mixing, c = 64 parallel, d = 128 mixing}}}
  %1 = dsp.slice %x {limits = array<i64: 1, 129, 64>, starts = array<i64: 0, 1, 0>, strides = array<i64: 1, 1, 1>} : tensor<1x129x64xf32> -> tensor<1x128x64xf32>
  // expected-remark @below {{sharding rule: ([a, b]) -> ([a, c]) {a = 2 parallel, b = 4 mixing, c = 2 mixing}}}
  %2 = dsp.slice %y {limits = array<i64: 2, 4>, starts = array<i64: 0, 0>, strides = array<i64: 1, 2>} : tensor<2x4xf32> -> tensor<2x2xf32>
  // expected-remark @below {{sharding rule: ([a, b]) -> ([a, c]) {a = 2 parallel, b = 4 mixing, c = 4 mixing}}}
  %3 = dsp.slice %y {limits = array<i64: 2, -1>, starts = array<i64: 0, 3>, strides = array<i64: 1, -1>} : tensor<2x4xf32> -> tensor<2x4xf32>
  return %0, %1, %2, %3 : tensor<1x1x64xf32>, tensor<1x128x64xf32>, tensor<2x2xf32>, tensor<2x4xf32>
}

// Gather: data dims off the axis and the indices dims are parallel and
// shared with the result dims they become; the data axis mixes.
func.func @gather(%x: tensor<4x8xf32>, %i: tensor<i64>, %y: tensor<2x10x8xf32>, %j: tensor<3x5xi64>) -> (tensor<8xf32>, tensor<2x3x5x8xf32>) {
  // expected-remark @below {{sharding rule: ([a, b], []) -> ([b]) {a = 4 mixing, b = 8 parallel}}}
  %0 = dsp.gather %x, %i {axis = 0 : i64} : tensor<4x8xf32>, tensor<i64> -> tensor<8xf32>
  // expected-remark @below {{sharding rule: ([a, b, c], [d, e]) -> ([a, d, e, c]) {a = 2 parallel, b = 10 mixing, c = 8 parallel, d = 3 parallel, e = 5 parallel}}}
  %1 = dsp.gather %y, %j {axis = 1 : i64} : tensor<2x10x8xf32>, tensor<3x5xi64> -> tensor<2x3x5x8xf32>
  return %0, %1 : tensor<8xf32>, tensor<2x3x5x8xf32>
}

// Expand broadcasts as elementwise ops do: an expanded size-1 dim maps onto
// no factor ("1"), a new leading dim appears only in the result.
func.func @expand(%x: tensor<4x1xf32>, %y: tensor<2x4xf32>) -> (tensor<2x4x8xf32>, tensor<3x2x4xf32>) {
  // expected-remark @below {{sharding rule: ([b, 1]) -> ([a, b, c]) {a = 2 parallel, b = 4 parallel, c = 8 parallel}}}
  %0 = dsp.expand %x : tensor<4x1xf32> -> tensor<2x4x8xf32>
  // expected-remark @below {{sharding rule: ([b, c]) -> ([a, b, c]) {a = 3 parallel, b = 2 parallel, c = 4 parallel}}}
  %1 = dsp.expand %y : tensor<2x4xf32> -> tensor<3x2x4xf32>
  return %0, %1 : tensor<2x4x8xf32>, tensor<3x2x4xf32>
}

// Tile: a dim repeated once is shared; a repeated dim mixes, with its own
// factors on each side.
func.func @tile(%x: tensor<2x4xf32>) -> tensor<4x4xf32> {
  // expected-remark @below {{sharding rule: ([a, c]) -> ([b, c]) {a = 2 mixing, b = 4 mixing, c = 4 parallel}}}
  %0 = dsp.tile %x {repeats = array<i64: 2, 1>} : tensor<2x4xf32> -> tensor<4x4xf32>
  return %0 : tensor<4x4xf32>
}

// Collectives have no rule of their own and run replicated: every dim of
// every operand and result is its own mixing factor.
func.func @replicated_default(%x: tensor<2x4x8xf32>, %y: tensor<2x4xf32>) -> (tensor<2x4x8xf32>, tensor<2x4xf32>) {
  // expected-remark @below {{sharding rule: ([a, b, c]) -> ([d, e, f]) {a = 2 mixing, b = 4 mixing, c = 8 mixing, d = 2 mixing, e = 4 mixing, f = 8 mixing}}}
  %0 = dsp.all_gather %x dim 1 : tensor<2x4x8xf32>
  // expected-remark @below {{sharding rule: ([a, b]) -> ([c, d]) {a = 2 mixing, b = 4 mixing, c = 2 mixing, d = 4 mixing}}}
  %1 = dsp.all_to_all %y split 1 concat 0 : tensor<2x4xf32>
  return %0, %1 : tensor<2x4x8xf32>, tensor<2x4xf32>
}

// Pad: an unpadded dim is shared; a padded dim is mixing in every mode (a
// constant pad shifts the elements too), on each side its own factor. The
// fill value has no dims.
func.func @pad(%x: tensor<2x3x4xf32>, %v: tensor<f32>) -> (tensor<2x5x4xf32>, tensor<2x3x6xf32>) {
  // expected-remark @below {{sharding rule: ([a, b, d], []) -> ([a, c, d]) {a = 2 parallel, b = 3 mixing, c = 5 mixing, d = 4 parallel}}}
  %0 = dsp.pad %x, %v {pads = array<i64: 0, 1, 0, 0, 1, 0>} : (tensor<2x3x4xf32>, tensor<f32>) -> tensor<2x5x4xf32>
  // expected-remark @below {{sharding rule: ([a, b, c]) -> ([a, b, d]) {a = 2 parallel, b = 3 parallel, c = 4 mixing, d = 6 mixing}}}
  %1 = dsp.pad %x {mode = "reflect", pads = array<i64: 0, 0, 1, 0, 0, 1>} : (tensor<2x3x4xf32>) -> tensor<2x3x6xf32>
  return %0, %1 : tensor<2x5x4xf32>, tensor<2x3x6xf32>
}

// ScatterElements: the axis is mixing; another dim is shared where the
// indices span it, mixing where they cover part of it.
func.func @scatter_elements(%x: tensor<4x6x8xf32>, %i: tensor<4x2x5xi64>, %u: tensor<4x2x5xf32>) -> tensor<4x6x8xf32> {
  // expected-remark @below {{sharding rule: ([a, b, d], [a, c, e], [a, c, e]) -> ([a, b, d]) {a = 4 parallel, b = 6 mixing, c = 2 mixing, d = 8 mixing, e = 5 mixing}}}
  %0 = dsp.scatter_elements %x, %i, %u {axis = 1 : i64} : (tensor<4x6x8xf32>, tensor<4x2x5xi64>, tensor<4x2x5xf32>) -> tensor<4x6x8xf32>
  return %0 : tensor<4x6x8xf32>
}

// RUN: dsp-opt %s -split-input-file --dsp-localize | FileCheck %s

// Types become blocks, arguments included; the group is marked per-rank.
// A split value's block is its padded split extent over the ranks.
// CHECK-LABEL: module attributes {dsp.group = #dsp.group<ranks = 4, per_rank = true>}
// CHECK-LABEL: func.func @blocks(
// CHECK-SAME:      %[[X:.*]]: tensor<4x2xf32> {dsp.sharding = #dsp.shard<dim = 1, pad = 2>}) -> tensor<4x6xf32>
// CHECK-NEXT:    %[[A:.*]] = dsp.neg %[[X]] {dsp.sharding = [#dsp.shard<dim = 1, pad = 2>]} : tensor<4x2xf32>
// CHECK-NEXT:    %[[B:.*]] = dsp.all_to_all %[[A]] split 0 concat 1 {dsp.sharding = [#dsp.shard<dim = 0>]} : tensor<4x2xf32> -> tensor<1x6xf32>
// CHECK-NEXT:    %[[C:.*]] = dsp.exp %[[B]] {dsp.sharding = [#dsp.shard<dim = 0>]} : tensor<1x6xf32>
// CHECK-NEXT:    %[[G:.*]] = dsp.all_gather %[[C]] dim 0 {dsp.sharding = [#dsp.shard<replicated>]} : tensor<1x6xf32> -> tensor<4x6xf32>
// CHECK-NEXT:    return %[[G]] : tensor<4x6xf32>
module attributes {dsp.group = #dsp.group<ranks = 4>} {
  func.func @blocks(%x: tensor<4x6xf32> {dsp.sharding = #dsp.shard<dim = 1, pad = 2>}) -> tensor<4x6xf32> {
    %0 = dsp.neg %x {dsp.sharding = [#dsp.shard<dim = 1, pad = 2>]} : tensor<4x6xf32>
    %1 = dsp.all_to_all %0 split 0 concat 1 {dsp.sharding = [#dsp.shard<dim = 0>]} : tensor<4x6xf32>
    %2 = dsp.exp %1 {dsp.sharding = [#dsp.shard<dim = 0>]} : tensor<4x6xf32>
    %3 = dsp.all_gather %2 dim 0 {dsp.sharding = [#dsp.shard<replicated>]} : tensor<4x6xf32>
    return %3 : tensor<4x6xf32>
  }
}

// -----

// A mean over a split factor: the pads are zeroed, each rank sums its block
// and scales by one over the global count (6, not the block's 2).
// CHECK-LABEL: func.func @partial_mean(
// CHECK-SAME:      %[[X:.*]]: tensor<2x2x4xf32>
// CHECK-DAG:     %[[P:.*]] = dsp.zero_pad %[[X]] {dsp.sharding = [#dsp.shard<dim = 1, pad = 2>]} : tensor<2x2x4xf32>
// CHECK-DAG:     %[[S:.*]] = dsp.reduce_sum %[[P]] {axes = array<i64: 1>, dsp.sharding = [#dsp.shard<partial>]} : tensor<2x2x4xf32> -> tensor<2x1x4xf32>
// CHECK-DAG:     %[[C:.*]] = dsp.constant dense<0.166666672> : tensor<f32>
// CHECK:         %[[M:.*]] = dsp.mul %[[S]], %[[C]] {dsp.sharding = [#dsp.shard<partial>]} : tensor<2x1x4xf32>, tensor<f32> -> tensor<2x1x4xf32>
// CHECK-NEXT:    %[[R:.*]] = dsp.all_reduce %[[M]] sum {dsp.sharding = [#dsp.shard<replicated>]} : tensor<2x1x4xf32>
// CHECK-NEXT:    return %[[R]]
module attributes {dsp.group = #dsp.group<ranks = 4>} {
  func.func @partial_mean(%x: tensor<2x6x4xf32> {dsp.sharding = #dsp.shard<dim = 1, pad = 2>}) -> tensor<2x1x4xf32> {
    %0 = dsp.reduce_mean %x {axes = array<i64: 1>, keepdims = true, dsp.sharding = [#dsp.shard<partial>]} : tensor<2x6x4xf32> -> tensor<2x1x4xf32>
    %1 = dsp.all_reduce %0 sum {dsp.sharding = [#dsp.shard<replicated>]} : tensor<2x1x4xf32>
    return %1 : tensor<2x1x4xf32>
  }
}

// -----

// A contraction over a split factor with a pad: both operands' pads are
// zeroed once, however many ops read them; without a pad nothing is.
// CHECK-LABEL: func.func @partial_matmul(
// CHECK-SAME:      %[[A:.*]]: tensor<3x2xf32> {{.*}}, %[[B:.*]]: tensor<2x5xf32>
// CHECK-NEXT:    %[[PA:.*]] = dsp.zero_pad %[[A]] {dsp.sharding = [#dsp.shard<dim = 1, pad = 1>]} : tensor<3x2xf32>
// CHECK-NEXT:    %[[PB:.*]] = dsp.zero_pad %[[B]] {dsp.sharding = [#dsp.shard<dim = 0, pad = 1>]} : tensor<2x5xf32>
// CHECK-NEXT:    %[[M:.*]] = dsp.matmul %[[PA]], %[[PB]] {dsp.sharding = [#dsp.shard<partial>]} : tensor<3x2xf32>, tensor<2x5xf32> -> tensor<3x5xf32>
// CHECK-NEXT:    %[[N:.*]] = dsp.matmul %[[PA]], %[[PB]] {dsp.sharding = [#dsp.shard<partial>]} : tensor<3x2xf32>, tensor<2x5xf32> -> tensor<3x5xf32>
module attributes {dsp.group = #dsp.group<ranks = 2>} {
  func.func @partial_matmul(%a: tensor<3x3xf32> {dsp.sharding = #dsp.shard<dim = 1, pad = 1>}, %b: tensor<3x5xf32> {dsp.sharding = #dsp.shard<dim = 0, pad = 1>}) -> (tensor<3x5xf32>, tensor<3x5xf32>) {
    %0 = dsp.matmul %a, %b {dsp.sharding = [#dsp.shard<partial>]} : tensor<3x3xf32>, tensor<3x5xf32> -> tensor<3x5xf32>
    %1 = dsp.matmul %a, %b {dsp.sharding = [#dsp.shard<partial>]} : tensor<3x3xf32>, tensor<3x5xf32> -> tensor<3x5xf32>
    %2 = dsp.all_reduce %0 sum {dsp.sharding = [#dsp.shard<replicated>]} : tensor<3x5xf32>
    %3 = dsp.all_reduce %1 sum {dsp.sharding = [#dsp.shard<replicated>]} : tensor<3x5xf32>
    return %2, %3 : tensor<3x5xf32>, tensor<3x5xf32>
  }
}

// -----

// A slice that keeps its split dim whole takes the block's extent there.
// CHECK-LABEL: func.func @slice(
// CHECK-NEXT:    dsp.slice %{{.*}} {dsp.sharding = [#dsp.shard<dim = 0>], limits = array<i64: 2, 3>, starts = array<i64: 0, 1>, strides = array<i64: 1, 1>} : tensor<2x4xf32> -> tensor<2x2xf32>
module attributes {dsp.group = #dsp.group<ranks = 4>} {
  func.func @slice(%x: tensor<8x4xf32> {dsp.sharding = #dsp.shard<dim = 0>}) -> tensor<8x2xf32> {
    %0 = dsp.slice %x {starts = array<i64: 0, 1>, limits = array<i64: 8, 3>, strides = array<i64: 1, 1>, dsp.sharding = [#dsp.shard<dim = 0>]} : tensor<8x4xf32> -> tensor<8x2xf32>
    %1 = dsp.all_gather %0 dim 0 {dsp.sharding = [#dsp.shard<replicated>]} : tensor<8x2xf32>
    return %1 : tensor<8x2xf32>
  }
}

// -----

// A switch between two factors of one dim ([T*S] from T to S) runs on a view
// of the dim as [T, S]: each block is the same bytes in both forms.
// CHECK-LABEL: func.func @factor_switch(
// CHECK-SAME:      %[[X:.*]]: tensor<2x8x3xf32>
// CHECK-NEXT:    %[[V:.*]] = dsp.reshape %[[X]] {dsp.sharding = [#dsp.shard<dim = 1>]} : tensor<2x8x3xf32> -> tensor<2x1x8x3xf32>
// CHECK-NEXT:    %[[A:.*]] = dsp.all_to_all %[[V]] split 2 concat 1 {dsp.sharding = [#dsp.shard<dim = 2>]} : tensor<2x1x8x3xf32> -> tensor<2x4x2x3xf32>
// CHECK-NEXT:    %[[R:.*]] = dsp.reshape %[[A]] {dsp.sharding = [#dsp.shard<dim = 1, factors = [4, 8], factor = 1>]} : tensor<2x4x2x3xf32> -> tensor<2x8x3xf32>
module attributes {dsp.group = #dsp.group<ranks = 4>} {
  func.func @factor_switch(%x: tensor<2x32x3xf32> {dsp.sharding = #dsp.shard<dim = 1, factors = [4, 8], factor = 0>}) -> tensor<2x32x3xf32> {
    %0 = dsp.all_to_all %x split 1 concat 1 {dsp.sharding = [#dsp.shard<dim = 1, factors = [4, 8], factor = 1>]} : tensor<2x32x3xf32>
    %1 = dsp.all_gather %0 dim 1 {dsp.sharding = [#dsp.shard<replicated>]} : tensor<2x32x3xf32>
    return %1 : tensor<2x32x3xf32>
  }
}

// -----

// Without a group there is one rank: nothing changes.
// CHECK-LABEL: func.func @one_rank(
// CHECK-NEXT:    dsp.neg %{{.*}} : tensor<4x6xf32>
module {
  func.func @one_rank(%x: tensor<4x6xf32>) -> tensor<4x6xf32> {
    %0 = dsp.neg %x : tensor<4x6xf32>
    return %0 : tensor<4x6xf32>
  }
}

// -----

// A patch conv (stride = kernel) split on its kernel's width: each rank
// convolves its part of every window, so the step becomes the part's width.
// CHECK-LABEL: func.func @patch_conv_kernel_split(
// CHECK:         dsp.conv %{{.*}}, %{{.*}} {dilations = array<i64: 1, 1>, dsp.sharding = [#dsp.shard<partial>], pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<1x1x4x2xf32>, tensor<1x1x1x1xf32>) -> tensor<1x1x4x2xf32>
module attributes {dsp.group = #dsp.group<ranks = 2>} {
  func.func @patch_conv_kernel_split(%x: tensor<1x1x4x4xf32> {dsp.sharding = #dsp.shard<dim = 3, factors = [2, 2], factor = 1>}, %w: tensor<1x1x1x2xf32> {dsp.sharding = #dsp.shard<dim = 3>}) -> tensor<1x1x4x2xf32> {
    %0 = dsp.conv %x, %w {dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 2>, dsp.sharding = [#dsp.shard<partial>]} : (tensor<1x1x4x4xf32>, tensor<1x1x1x2xf32>) -> tensor<1x1x4x2xf32>
    %1 = dsp.all_reduce %0 sum {dsp.sharding = [#dsp.shard<replicated>]} : tensor<1x1x4x2xf32>
    return %1 : tensor<1x1x4x2xf32>
  }
}

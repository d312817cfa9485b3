// RUN: dsp-opt %s -split-input-file --dsp-fold-projection-transposes | FileCheck %s

// A temporal block on the rank's half of the patches, S sharded: [1, T, S, C]
// is transposed to [1, S, T, C] for the QKV projection and back after the
// output projection. Both projections run in the [T, S] order instead, the
// attention reads T as its sequence through its perms and writes its result
// in that order, and the sharded dim follows S.
// CHECK-LABEL: func.func @temporal_block(
// CHECK-SAME:      %[[X:[^:]*]]: tensor<1x4x8x32xf32>
// CHECK-NOT:     dsp.transpose
// CHECK:         %[[R:.*]] = dsp.reshape %[[X]] {dsp.sharding = [#dsp.shard<dim = 1>]} : tensor<1x4x8x32xf32> -> tensor<4x8x32xf32>
// CHECK-NEXT:    %[[QKV:.*]] = dsp.linear %[[R]], %{{.*}} bias %{{.*}} {dsp.sharding = [#dsp.shard<dim = 1>]} : (tensor<4x8x32xf32>, tensor<32x96xf32>, tensor<96xf32>) -> tensor<4x8x96xf32>
// CHECK-NEXT:    %[[P:.*]] = dsp.reshape %[[QKV]] {dsp.sharding = [#dsp.shard<dim = 1>]} : tensor<4x8x96xf32> -> tensor<4x8x3x4x8xf32>
// CHECK-NEXT:    %[[A:.*]] = dsp.attention %[[P]], %[[P]], %[[P]] query_perm [1, 2, 0, 3] key_perm [1, 2, 0, 3] value_perm [1, 2, 0, 3] output_perm [2, 0, 1, 3] query_select [2, 0] key_select [2, 1] value_select [2, 2] {dsp.sharding = [#dsp.shard<dim = 1>], scale = 2.500000e-01 : f64} : (tensor<4x8x3x4x8xf32>, tensor<4x8x3x4x8xf32>, tensor<4x8x3x4x8xf32>) -> tensor<4x8x4x8xf32>
// CHECK-NEXT:    %[[M:.*]] = dsp.reshape %[[A]] {dsp.sharding = [#dsp.shard<dim = 1>]} : tensor<4x8x4x8xf32> -> tensor<4x8x32xf32>
// CHECK-NEXT:    %[[O:.*]] = dsp.linear %[[M]], %{{.*}} bias %{{.*}} {dsp.sharding = [#dsp.shard<dim = 1>]} : (tensor<4x8x32xf32>, tensor<32x32xf32>, tensor<32xf32>) -> tensor<4x8x32xf32>
// CHECK-NEXT:    %[[Y:.*]] = dsp.reshape %[[O]] {dsp.sharding = [#dsp.shard<dim = 2>]} : tensor<4x8x32xf32> -> tensor<1x4x8x32xf32>
// CHECK-NEXT:    return %[[Y]]
module attributes {dsp.group = #dsp.group<ranks = 2, per_rank = true>} {
  func.func @temporal_block(%x: tensor<1x4x8x32xf32> {dsp.sharding = #dsp.shard<dim = 2>}, %wqkv: tensor<32x96xf32>, %bqkv: tensor<96xf32>, %wo: tensor<32x32xf32>, %bo: tensor<32xf32>) -> tensor<1x4x8x32xf32> {
    %0 = dsp.transpose %x perm [0, 2, 1, 3] {dsp.sharding = [#dsp.shard<dim = 1>]} : tensor<1x4x8x32xf32> -> tensor<1x8x4x32xf32>
    %1 = dsp.reshape %0 {dsp.sharding = [#dsp.shard<dim = 0>]} : tensor<1x8x4x32xf32> -> tensor<8x4x32xf32>
    %2 = dsp.linear %1, %wqkv bias %bqkv {dsp.sharding = [#dsp.shard<dim = 0>]} : (tensor<8x4x32xf32>, tensor<32x96xf32>, tensor<96xf32>) -> tensor<8x4x96xf32>
    %3 = dsp.reshape %2 {dsp.sharding = [#dsp.shard<dim = 0>]} : tensor<8x4x96xf32> -> tensor<8x4x3x4x8xf32>
    %4 = dsp.attention %3, %3, %3 query_perm [0, 2, 1, 3] key_perm [0, 2, 1, 3] value_perm [0, 2, 1, 3] output_perm [0, 2, 1, 3] query_select [2, 0] key_select [2, 1] value_select [2, 2] {dsp.sharding = [#dsp.shard<dim = 0>], scale = 0.25 : f64} : (tensor<8x4x3x4x8xf32>, tensor<8x4x3x4x8xf32>, tensor<8x4x3x4x8xf32>) -> tensor<8x4x4x8xf32>
    %5 = dsp.reshape %4 {dsp.sharding = [#dsp.shard<dim = 0>]} : tensor<8x4x4x8xf32> -> tensor<8x4x32xf32>
    %6 = dsp.linear %5, %wo bias %bo {dsp.sharding = [#dsp.shard<dim = 0>]} : (tensor<8x4x32xf32>, tensor<32x32xf32>, tensor<32xf32>) -> tensor<8x4x32xf32>
    %7 = dsp.reshape %6 {dsp.sharding = [#dsp.shard<dim = 1>]} : tensor<8x4x32xf32> -> tensor<1x8x4x32xf32>
    %8 = dsp.transpose %7 perm [0, 2, 1, 3] {dsp.sharding = [#dsp.shard<dim = 2>]} : tensor<1x8x4x32xf32> -> tensor<1x4x8x32xf32>
    return %8 : tensor<1x4x8x32xf32>
  }
}

// -----

// Separate query, key and value projections of [S, T, C] rows, read as
// [B, H, L, D] through a split of their rows: each operand's perm takes
// the transpose over.
// CHECK-LABEL: func.func @separate_projections(
// CHECK-SAME:      %[[X:[^:]*]]: tensor<4x8x32xf32>
// CHECK-NOT:     dsp.transpose
// CHECK:         %[[Q:.*]] = dsp.linear %[[X]], {{.*}} -> tensor<4x8x32xf32>
// CHECK-NEXT:    %[[QH:.*]] = dsp.reshape %[[Q]] : tensor<4x8x32xf32> -> tensor<4x8x4x8xf32>
// CHECK:         dsp.attention %[[QH]], %{{.*}}, %{{.*}} query_perm [1, 2, 0, 3] key_perm [0, 2, 1, 3] {scale = 2.500000e-01 : f64} : (tensor<4x8x4x8xf32>, tensor<8x4x4x8xf32>, tensor<8x4x4x8xf32>) -> tensor<8x4x4x8xf32>
module attributes {dsp.group = #dsp.group<ranks = 1, per_rank = true>} {
  func.func @separate_projections(%x: tensor<4x8x32xf32>, %k: tensor<8x4x4x8xf32>, %v: tensor<8x4x4x8xf32>, %w: tensor<32x32xf32>, %b: tensor<32xf32>) -> tensor<8x4x4x8xf32> {
    %0 = dsp.transpose %x perm [1, 0, 2] : tensor<4x8x32xf32> -> tensor<8x4x32xf32>
    %1 = dsp.linear %0, %w bias %b : (tensor<8x4x32xf32>, tensor<32x32xf32>, tensor<32xf32>) -> tensor<8x4x32xf32>
    %2 = dsp.reshape %1 : tensor<8x4x32xf32> -> tensor<8x4x4x8xf32>
    %3 = dsp.attention %2, %k, %v query_perm [0, 2, 1, 3] key_perm [0, 2, 1, 3] {scale = 0.25 : f64} : (tensor<8x4x4x8xf32>, tensor<8x4x4x8xf32>, tensor<8x4x4x8xf32>) -> tensor<8x4x4x8xf32>
    return %3 : tensor<8x4x4x8xf32>
  }
}

// -----

// The output projection adds a residual, which lies in the transposed
// order: the transpose stays.
// CHECK-LABEL: func.func @residual(
// CHECK:         dsp.attention {{.*}} output_perm [0, 2, 1, 3] {
// CHECK:         dsp.transpose
module attributes {dsp.group = #dsp.group<ranks = 1, per_rank = true>} {
  func.func @residual(%q: tensor<8x4x4x8xf32>, %r: tensor<8x4x32xf32>, %w: tensor<32x32xf32>, %b: tensor<32xf32>) -> tensor<4x8x32xf32> {
    %0 = dsp.attention %q, %q, %q query_perm [0, 2, 1, 3] key_perm [0, 2, 1, 3] value_perm [0, 2, 1, 3] output_perm [0, 2, 1, 3] {scale = 0.25 : f64} : (tensor<8x4x4x8xf32>, tensor<8x4x4x8xf32>, tensor<8x4x4x8xf32>) -> tensor<8x4x4x8xf32>
    %1 = dsp.reshape %0 : tensor<8x4x4x8xf32> -> tensor<8x4x32xf32>
    %2 = dsp.linear %1, %w bias %b residual %r : (tensor<8x4x32xf32>, tensor<32x32xf32>, tensor<32xf32>, tensor<8x4x32xf32>) -> tensor<8x4x32xf32>
    %3 = dsp.transpose %2 perm [1, 0, 2] : tensor<8x4x32xf32> -> tensor<4x8x32xf32>
    return %3 : tensor<4x8x32xf32>
  }
}

// -----

// A reshape that merges the sequence dims would need them in the other
// order: the transpose stays.
// CHECK-LABEL: func.func @merged_sequence(
// CHECK:         dsp.transpose
// CHECK:         dsp.attention {{.*}} query_perm [0, 2, 1, 3] {
module attributes {dsp.group = #dsp.group<ranks = 1, per_rank = true>} {
  func.func @merged_sequence(%x: tensor<4x8x32xf32>, %k: tensor<1x4x32x8xf32>, %w: tensor<32x32xf32>, %b: tensor<32xf32>) -> tensor<1x4x32x8xf32> {
    %0 = dsp.transpose %x perm [1, 0, 2] : tensor<4x8x32xf32> -> tensor<8x4x32xf32>
    %1 = dsp.reshape %0 : tensor<8x4x32xf32> -> tensor<32x32xf32>
    %2 = dsp.linear %1, %w bias %b : (tensor<32x32xf32>, tensor<32x32xf32>, tensor<32xf32>) -> tensor<32x32xf32>
    %3 = dsp.reshape %2 : tensor<32x32xf32> -> tensor<1x32x4x8xf32>
    %4 = dsp.attention %3, %k, %k query_perm [0, 2, 1, 3] {scale = 0.25 : f64} : (tensor<1x32x4x8xf32>, tensor<1x4x32x8xf32>, tensor<1x4x32x8xf32>) -> tensor<1x4x32x8xf32>
    return %4 : tensor<1x4x32x8xf32>
  }
}

// -----

// The projection's result is also a function result, which must keep its
// order: the transpose stays.
// CHECK-LABEL: func.func @other_use(
// CHECK:         dsp.transpose
module attributes {dsp.group = #dsp.group<ranks = 1, per_rank = true>} {
  func.func @other_use(%x: tensor<4x8x32xf32>, %k: tensor<8x4x4x8xf32>, %w: tensor<32x32xf32>, %b: tensor<32xf32>) -> (tensor<8x4x4x8xf32>, tensor<8x4x4x8xf32>) {
    %0 = dsp.transpose %x perm [1, 0, 2] : tensor<4x8x32xf32> -> tensor<8x4x32xf32>
    %1 = dsp.linear %0, %w bias %b : (tensor<8x4x32xf32>, tensor<32x32xf32>, tensor<32xf32>) -> tensor<8x4x32xf32>
    %2 = dsp.reshape %1 : tensor<8x4x32xf32> -> tensor<8x4x4x8xf32>
    %3 = dsp.attention %2, %k, %k query_perm [0, 2, 1, 3] {scale = 0.25 : f64} : (tensor<8x4x4x8xf32>, tensor<8x4x4x8xf32>, tensor<8x4x4x8xf32>) -> tensor<8x4x4x8xf32>
    return %3, %2 : tensor<8x4x4x8xf32>, tensor<8x4x4x8xf32>
  }
}

// -----

// A transpose that moves the rows' last dim is not a reordering of rows.
// CHECK-LABEL: func.func @moves_last_dim(
// CHECK:         dsp.transpose
module attributes {dsp.group = #dsp.group<ranks = 1, per_rank = true>} {
  func.func @moves_last_dim(%x: tensor<32x32xf32>, %k: tensor<1x4x32x8xf32>, %w: tensor<32x32xf32>, %b: tensor<32xf32>) -> tensor<1x4x32x8xf32> {
    %0 = dsp.transpose %x perm [1, 0] : tensor<32x32xf32> -> tensor<32x32xf32>
    %1 = dsp.linear %0, %w bias %b : (tensor<32x32xf32>, tensor<32x32xf32>, tensor<32xf32>) -> tensor<32x32xf32>
    %2 = dsp.reshape %1 : tensor<32x32xf32> -> tensor<1x32x4x8xf32>
    %3 = dsp.attention %2, %k, %k query_perm [0, 2, 1, 3] {scale = 0.25 : f64} : (tensor<1x32x4x8xf32>, tensor<1x4x32x8xf32>, tensor<1x4x32x8xf32>) -> tensor<1x4x32x8xf32>
    return %3 : tensor<1x4x32x8xf32>
  }
}

// -----

// Without a projection in between, the transpose is
// --dsp-fold-attention-transposes' to fold.
// CHECK-LABEL: func.func @no_projection(
// CHECK:         dsp.transpose
module attributes {dsp.group = #dsp.group<ranks = 1, per_rank = true>} {
  func.func @no_projection(%x: tensor<4x8x32xf32>, %k: tensor<8x4x4x8xf32>) -> tensor<8x4x4x8xf32> {
    %0 = dsp.transpose %x perm [1, 0, 2] : tensor<4x8x32xf32> -> tensor<8x4x32xf32>
    %1 = dsp.reshape %0 : tensor<8x4x32xf32> -> tensor<8x4x4x8xf32>
    %2 = dsp.attention %1, %k, %k query_perm [0, 2, 1, 3] {scale = 0.25 : f64} : (tensor<8x4x4x8xf32>, tensor<8x4x4x8xf32>, tensor<8x4x4x8xf32>) -> tensor<8x4x4x8xf32>
    return %2 : tensor<8x4x4x8xf32>
  }
}

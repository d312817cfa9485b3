// RUN: dsp-opt %s -split-input-file --dsp-fold-attention-transposes | FileCheck %s

// The head splits [B, L, H, D] -> [B, H, L, D] of query, key and value and
// the merge after the attention become its perms.
// CHECK-LABEL: func.func @head_splits(
// CHECK-SAME:      %[[Q:[^:]*]]: tensor<2x16x4x8xf32>{{[^%]*}}%[[K:[^:]*]]: tensor<2x16x4x8xf32>{{[^%]*}}%[[V:[^:]*]]: tensor<2x16x4x8xf32>
// CHECK-NEXT:    %[[A:.*]] = dsp.attention %[[Q]], %[[K]], %[[V]] query_perm [0, 2, 1, 3] key_perm [0, 2, 1, 3] value_perm [0, 2, 1, 3] output_perm [0, 2, 1, 3] {dsp.sharding = [#dsp.shard<dim = 0>], scale = 2.500000e-01 : f64} : (tensor<2x16x4x8xf32>, tensor<2x16x4x8xf32>, tensor<2x16x4x8xf32>) -> tensor<2x16x4x8xf32>
// CHECK-NEXT:    return %[[A]]
module attributes {dsp.group = #dsp.group<ranks = 2, per_rank = true>} {
  func.func @head_splits(%q: tensor<2x16x4x8xf32> {dsp.sharding = #dsp.shard<dim = 0>}, %k: tensor<2x16x4x8xf32> {dsp.sharding = #dsp.shard<dim = 0>}, %v: tensor<2x16x4x8xf32> {dsp.sharding = #dsp.shard<dim = 0>}) -> tensor<2x16x4x8xf32> {
    %0 = dsp.transpose %q perm [0, 2, 1, 3] {dsp.sharding = [#dsp.shard<dim = 0>]} : tensor<2x16x4x8xf32> -> tensor<2x4x16x8xf32>
    %1 = dsp.transpose %k perm [0, 2, 1, 3] {dsp.sharding = [#dsp.shard<dim = 0>]} : tensor<2x16x4x8xf32> -> tensor<2x4x16x8xf32>
    %2 = dsp.transpose %v perm [0, 2, 1, 3] {dsp.sharding = [#dsp.shard<dim = 0>]} : tensor<2x16x4x8xf32> -> tensor<2x4x16x8xf32>
    %3 = dsp.attention %0, %1, %2 {dsp.sharding = [#dsp.shard<dim = 0>], scale = 0.25 : f64} : (tensor<2x4x16x8xf32>, tensor<2x4x16x8xf32>, tensor<2x4x16x8xf32>) -> tensor<2x4x16x8xf32>
    %4 = dsp.transpose %3 perm [0, 2, 1, 3] {dsp.sharding = [#dsp.shard<dim = 0>]} : tensor<2x4x16x8xf32> -> tensor<2x16x4x8xf32>
    return %4 : tensor<2x16x4x8xf32>
  }
}

// -----

// A slice of a fused QKV projection, [L, 1, H, D] with the heads split by a
// 5-D transpose and the unit dim dropped by a reshape: the operand becomes
// a free 4-D reshape of the slice, read through the 4-D perm.
// CHECK-LABEL: func.func @unit_dims(
// CHECK-SAME:      %[[S:[^:]*]]: tensor<8x16x1x4x8xf32>
// CHECK-NEXT:    %[[R:.*]] = dsp.reshape %[[S]] {dsp.sharding = [#dsp.shard<dim = 0>]} : tensor<8x16x1x4x8xf32> -> tensor<8x16x4x8xf32>
// CHECK-NEXT:    %[[A:.*]] = dsp.attention %[[R]], %{{.*}}, %{{.*}} query_perm [0, 2, 1, 3] {
module attributes {dsp.group = #dsp.group<ranks = 2, per_rank = true>} {
  func.func @unit_dims(%s: tensor<8x16x1x4x8xf32> {dsp.sharding = #dsp.shard<dim = 0>}, %k: tensor<8x4x16x8xf32> {dsp.sharding = #dsp.shard<dim = 0>}, %v: tensor<8x4x16x8xf32> {dsp.sharding = #dsp.shard<dim = 0>}) -> tensor<8x4x16x8xf32> {
    %0 = dsp.transpose %s perm [2, 0, 3, 1, 4] {dsp.sharding = [#dsp.shard<dim = 1>]} : tensor<8x16x1x4x8xf32> -> tensor<1x8x4x16x8xf32>
    %1 = dsp.reshape %0 {dsp.sharding = [#dsp.shard<dim = 0>]} : tensor<1x8x4x16x8xf32> -> tensor<8x4x16x8xf32>
    %2 = dsp.attention %1, %k, %v {dsp.sharding = [#dsp.shard<dim = 0>], scale = 0.25 : f64} : (tensor<8x4x16x8xf32>, tensor<8x4x16x8xf32>, tensor<8x4x16x8xf32>) -> tensor<8x4x16x8xf32>
    return %2 : tensor<8x4x16x8xf32>
  }
}

// -----

// Query, key and value sliced out of one fused projection's [B, L, 3, H, D]
// result: after the transposes fold, each attention operand reads the
// projection's result in place at its index of dim 2, and the slices (three
// copies) go.
// CHECK-LABEL: func.func @qkv_selects(
// CHECK-SAME:      %[[P:[^:]*]]: tensor<8x16x3x4x8xf32>
// CHECK-NEXT:    %[[A:.*]] = dsp.attention %[[P]], %[[P]], %[[P]] query_perm [0, 2, 1, 3] key_perm [0, 2, 1, 3] value_perm [0, 2, 1, 3] query_select [2, 0] key_select [2, 1] value_select [2, 2] {dsp.sharding = [#dsp.shard<dim = 0>], scale = 2.500000e-01 : f64} : (tensor<8x16x3x4x8xf32>, tensor<8x16x3x4x8xf32>, tensor<8x16x3x4x8xf32>) -> tensor<8x4x16x8xf32>
// CHECK-NEXT:    return %[[A]]
module attributes {dsp.group = #dsp.group<ranks = 2, per_rank = true>} {
  func.func @qkv_selects(%p: tensor<8x16x3x4x8xf32> {dsp.sharding = #dsp.shard<dim = 0>}) -> tensor<8x4x16x8xf32> {
    %q0 = dsp.slice %p {dsp.sharding = [#dsp.shard<dim = 0>], starts = array<i64: 0, 0, 0, 0, 0>, limits = array<i64: 8, 16, 1, 4, 8>, strides = array<i64: 1, 1, 1, 1, 1>} : tensor<8x16x3x4x8xf32> -> tensor<8x16x1x4x8xf32>
    %q1 = dsp.transpose %q0 perm [2, 0, 3, 1, 4] {dsp.sharding = [#dsp.shard<dim = 1>]} : tensor<8x16x1x4x8xf32> -> tensor<1x8x4x16x8xf32>
    %q = dsp.reshape %q1 {dsp.sharding = [#dsp.shard<dim = 0>]} : tensor<1x8x4x16x8xf32> -> tensor<8x4x16x8xf32>
    %k0 = dsp.slice %p {dsp.sharding = [#dsp.shard<dim = 0>], starts = array<i64: 0, 0, 1, 0, 0>, limits = array<i64: 8, 16, 2, 4, 8>, strides = array<i64: 1, 1, 1, 1, 1>} : tensor<8x16x3x4x8xf32> -> tensor<8x16x1x4x8xf32>
    %k1 = dsp.transpose %k0 perm [2, 0, 3, 1, 4] {dsp.sharding = [#dsp.shard<dim = 1>]} : tensor<8x16x1x4x8xf32> -> tensor<1x8x4x16x8xf32>
    %k = dsp.reshape %k1 {dsp.sharding = [#dsp.shard<dim = 0>]} : tensor<1x8x4x16x8xf32> -> tensor<8x4x16x8xf32>
    %v0 = dsp.slice %p {dsp.sharding = [#dsp.shard<dim = 0>], starts = array<i64: 0, 0, 2, 0, 0>, limits = array<i64: 8, 16, 3, 4, 8>, strides = array<i64: 1, 1, 1, 1, 1>} : tensor<8x16x3x4x8xf32> -> tensor<8x16x1x4x8xf32>
    %v1 = dsp.transpose %v0 perm [2, 0, 3, 1, 4] {dsp.sharding = [#dsp.shard<dim = 1>]} : tensor<8x16x1x4x8xf32> -> tensor<1x8x4x16x8xf32>
    %v = dsp.reshape %v1 {dsp.sharding = [#dsp.shard<dim = 0>]} : tensor<1x8x4x16x8xf32> -> tensor<8x4x16x8xf32>
    %a = dsp.attention %q, %k, %v {dsp.sharding = [#dsp.shard<dim = 0>], scale = 0.25 : f64} : (tensor<8x4x16x8xf32>, tensor<8x4x16x8xf32>, tensor<8x4x16x8xf32>) -> tensor<8x4x16x8xf32>
    return %a : tensor<8x4x16x8xf32>
  }
}

// -----

// Slices that stay: one whose input is sharded along the selected dim, one
// with another use, and one of two indices.
// CHECK-LABEL: func.func @slices_kept(
// CHECK-COUNT-3: dsp.slice
// CHECK-NOT:     _select
// CHECK:         return
module attributes {dsp.group = #dsp.group<ranks = 2, per_rank = true>} {
  func.func @slices_kept(%p: tensor<8x16x2x4x8xf32> {dsp.sharding = #dsp.shard<dim = 2>}, %r: tensor<8x16x3x4x8xf32>, %t: tensor<4x16x3x4x8xf32>) -> (tensor<8x4x16x8xf32>, tensor<8x16x1x4x8xf32>) {
    %q0 = dsp.slice %p {dsp.sharding = [#dsp.shard<replicated>], starts = array<i64: 0, 0, 0, 0, 0>, limits = array<i64: 8, 16, 1, 4, 8>, strides = array<i64: 1, 1, 1, 1, 1>} : tensor<8x16x2x4x8xf32> -> tensor<8x16x1x4x8xf32>
    %q = dsp.reshape %q0 : tensor<8x16x1x4x8xf32> -> tensor<8x16x4x8xf32>
    %k0 = dsp.slice %r {starts = array<i64: 0, 0, 1, 0, 0>, limits = array<i64: 8, 16, 2, 4, 8>, strides = array<i64: 1, 1, 1, 1, 1>} : tensor<8x16x3x4x8xf32> -> tensor<8x16x1x4x8xf32>
    %k = dsp.reshape %k0 : tensor<8x16x1x4x8xf32> -> tensor<8x16x4x8xf32>
    %v0 = dsp.slice %t {starts = array<i64: 0, 0, 1, 0, 0>, limits = array<i64: 4, 16, 3, 4, 8>, strides = array<i64: 1, 1, 1, 1, 1>} : tensor<4x16x3x4x8xf32> -> tensor<4x16x2x4x8xf32>
    %v = dsp.reshape %v0 : tensor<4x16x2x4x8xf32> -> tensor<8x16x4x8xf32>
    %a = dsp.attention %q, %k, %v {scale = 0.25 : f64} : (tensor<8x16x4x8xf32>, tensor<8x16x4x8xf32>, tensor<8x16x4x8xf32>) -> tensor<8x16x4x8xf32>
    %b = dsp.transpose %a perm [0, 2, 1, 3] : tensor<8x16x4x8xf32> -> tensor<8x4x16x8xf32>
    return %b, %k0 : tensor<8x4x16x8xf32>, tensor<8x16x1x4x8xf32>
  }
}

// -----

// What stays: a transpose that moves the head dim (a key already
// transposed for q k^T), a transpose with another use, and a reshape that
// merges dims.
// CHECK-LABEL: func.func @kept(
// CHECK:         dsp.transpose %{{.*}} perm [0, 1, 3, 2]
// CHECK:         dsp.transpose %{{.*}} perm [0, 2, 1, 3]
// CHECK:         dsp.transpose %{{.*}} perm [1, 0, 2]
// CHECK:         dsp.reshape
// CHECK:         dsp.attention
// CHECK-NOT:     _perm
// CHECK:         return
module attributes {dsp.group = #dsp.group<ranks = 1, per_rank = true>} {
  func.func @kept(%q: tensor<2x4x8x16xf32>, %k: tensor<2x16x4x8xf32>, %v: tensor<4x2x128xf32>) -> (tensor<2x4x16x8xf32>, tensor<2x4x16x8xf32>) {
    %0 = dsp.transpose %q perm [0, 1, 3, 2] : tensor<2x4x8x16xf32> -> tensor<2x4x16x8xf32>
    %1 = dsp.transpose %k perm [0, 2, 1, 3] : tensor<2x16x4x8xf32> -> tensor<2x4x16x8xf32>
    %2 = dsp.transpose %v perm [1, 0, 2] : tensor<4x2x128xf32> -> tensor<2x4x128xf32>
    %3 = dsp.reshape %2 : tensor<2x4x128xf32> -> tensor<2x4x16x8xf32>
    %4 = dsp.attention %0, %1, %3 {scale = 0.25 : f64} : (tensor<2x4x16x8xf32>, tensor<2x4x16x8xf32>, tensor<2x4x16x8xf32>) -> tensor<2x4x16x8xf32>
    return %4, %1 : tensor<2x4x16x8xf32>, tensor<2x4x16x8xf32>
  }
}

// -----

// An attention that runs as a ring (its keys split on the sequence) passes
// whole contiguous key blocks around: its transposes stay.
// CHECK-LABEL: func.func @ring(
// CHECK-COUNT-3: dsp.transpose
// CHECK:         dsp.attention
// CHECK-NOT:     _perm
module attributes {dsp.group = #dsp.group<ranks = 2, per_rank = true>} {
  func.func @ring(%q: tensor<1x8x4x8xf32> {dsp.sharding = #dsp.shard<dim = 1>}, %k: tensor<1x8x4x8xf32> {dsp.sharding = #dsp.shard<dim = 1>}, %v: tensor<1x8x4x8xf32> {dsp.sharding = #dsp.shard<dim = 1>}) -> tensor<1x4x8x8xf32> {
    %0 = dsp.transpose %q perm [0, 2, 1, 3] {dsp.sharding = [#dsp.shard<dim = 2>]} : tensor<1x8x4x8xf32> -> tensor<1x4x8x8xf32>
    %1 = dsp.transpose %k perm [0, 2, 1, 3] {dsp.sharding = [#dsp.shard<dim = 2>]} : tensor<1x8x4x8xf32> -> tensor<1x4x8x8xf32>
    %2 = dsp.transpose %v perm [0, 2, 1, 3] {dsp.sharding = [#dsp.shard<dim = 2>]} : tensor<1x8x4x8xf32> -> tensor<1x4x8x8xf32>
    %3 = dsp.attention %0, %1, %2 {dsp.sharding = [#dsp.shard<dim = 2>], scale = 0.25 : f64} : (tensor<1x4x8x8xf32>, tensor<1x4x8x8xf32>, tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32>
    return %3 : tensor<1x4x8x8xf32>
  }
}

// -----

// TimeSformer's split of a fused QKV projection: [B, L, 3, H, D] transposed
// to [3, B, H, L, D] and gathered at constant indices (the last one counted
// from the end). The attention reads the projection's result at each index
// through its selects and perms; gathers and transpose go.
// CHECK-LABEL: func.func @qkv_gathers(
// CHECK-SAME:      %[[P:[^:]*]]: tensor<8x16x3x4x8xf32>
// CHECK-NEXT:    %[[A:.*]] = dsp.attention %[[P]], %[[P]], %[[P]] query_perm [0, 2, 1, 3] key_perm [0, 2, 1, 3] value_perm [0, 2, 1, 3] query_select [2, 0] key_select [2, 1] value_select [2, 2] {dsp.sharding = [#dsp.shard<dim = 0>], scale = 2.500000e-01 : f64} : (tensor<8x16x3x4x8xf32>, tensor<8x16x3x4x8xf32>, tensor<8x16x3x4x8xf32>) -> tensor<8x4x16x8xf32>
// CHECK-NEXT:    return %[[A]]
module attributes {dsp.group = #dsp.group<ranks = 2, per_rank = true>} {
  func.func @qkv_gathers(%p: tensor<8x16x3x4x8xf32> {dsp.sharding = #dsp.shard<dim = 0>}) -> tensor<8x4x16x8xf32> {
    %i0 = dsp.constant dense<0> : tensor<i64>
    %i1 = dsp.constant dense<1> : tensor<i64>
    %i2 = dsp.constant dense<-1> : tensor<i64>
    %t = dsp.transpose %p perm [2, 0, 3, 1, 4] {dsp.sharding = [#dsp.shard<dim = 1>]} : tensor<8x16x3x4x8xf32> -> tensor<3x8x4x16x8xf32>
    %q = dsp.gather %t, %i0 {axis = 0 : i64, dsp.sharding = [#dsp.shard<dim = 0>]} : tensor<3x8x4x16x8xf32>, tensor<i64> -> tensor<8x4x16x8xf32>
    %k = dsp.gather %t, %i1 {axis = 0 : i64, dsp.sharding = [#dsp.shard<dim = 0>]} : tensor<3x8x4x16x8xf32>, tensor<i64> -> tensor<8x4x16x8xf32>
    %v = dsp.gather %t, %i2 {axis = 0 : i64, dsp.sharding = [#dsp.shard<dim = 0>]} : tensor<3x8x4x16x8xf32>, tensor<i64> -> tensor<8x4x16x8xf32>
    %a = dsp.attention %q, %k, %v {dsp.sharding = [#dsp.shard<dim = 0>], scale = 0.25 : f64} : (tensor<8x4x16x8xf32>, tensor<8x4x16x8xf32>, tensor<8x4x16x8xf32>) -> tensor<8x4x16x8xf32>
    return %a : tensor<8x4x16x8xf32>
  }
}

// -----

// A gather at an index known only at run time stays.
// CHECK-LABEL: func.func @runtime_index(
// CHECK:         dsp.transpose
// CHECK:         dsp.gather
module attributes {dsp.group = #dsp.group<ranks = 1, per_rank = true>} {
  func.func @runtime_index(%p: tensor<8x16x3x4x8xf32>, %i: tensor<i64>) -> tensor<8x4x16x8xf32> {
    %t = dsp.transpose %p perm [2, 0, 3, 1, 4] : tensor<8x16x3x4x8xf32> -> tensor<3x8x4x16x8xf32>
    %q = dsp.gather %t, %i {axis = 0 : i64} : tensor<3x8x4x16x8xf32>, tensor<i64> -> tensor<8x4x16x8xf32>
    %a = dsp.attention %q, %q, %q {scale = 0.25 : f64} : (tensor<8x4x16x8xf32>, tensor<8x4x16x8xf32>, tensor<8x4x16x8xf32>) -> tensor<8x4x16x8xf32>
    return %a : tensor<8x4x16x8xf32>
  }
}

// -----

// The class token's and the patches' heads, split apart by
// --dsp-sink-concat and transposed one by one, joined along the sequence:
// the untransposed parts are joined instead, and the attention reads the
// result through the perm.
// CHECK-LABEL: func.func @concat_of_transposes(
// CHECK-SAME:      %[[C:[^:]*]]: tensor<1x1x4x16xf32>{{[^%]*}}%[[P:[^:]*]]: tensor<1x64x4x16xf32>
// CHECK-NEXT:    %[[J:.*]] = dsp.concat %[[C]], %[[P]] {axis = 1 : i64} : (tensor<1x1x4x16xf32>, tensor<1x64x4x16xf32>) -> tensor<1x65x4x16xf32>
// CHECK-NEXT:    %[[A:.*]] = dsp.attention %[[J]], %{{.*}}, %{{.*}} query_perm [0, 2, 1, 3] {
// CHECK-NEXT:    return %[[A]]
module attributes {dsp.group = #dsp.group<ranks = 1, per_rank = true>} {
  func.func @concat_of_transposes(%c: tensor<1x1x4x16xf32>, %p: tensor<1x64x4x16xf32>, %k: tensor<1x4x65x16xf32>) -> tensor<1x4x65x16xf32> {
    %0 = dsp.transpose %c perm [0, 2, 1, 3] : tensor<1x1x4x16xf32> -> tensor<1x4x1x16xf32>
    %1 = dsp.transpose %p perm [0, 2, 1, 3] : tensor<1x64x4x16xf32> -> tensor<1x4x64x16xf32>
    %2 = dsp.concat %0, %1 {axis = 2 : i64} : (tensor<1x4x1x16xf32>, tensor<1x4x64x16xf32>) -> tensor<1x4x65x16xf32>
    %3 = dsp.attention %2, %k, %k {scale = 0.25 : f64} : (tensor<1x4x65x16xf32>, tensor<1x4x65x16xf32>, tensor<1x4x65x16xf32>) -> tensor<1x4x65x16xf32>
    return %3 : tensor<1x4x65x16xf32>
  }
}

// -----

// TimeSformer's spatial attention: query, key and value each join the
// class token's and the patches' gathers of their transposed projections.
// One concat of the two projections serves all three operands.
// CHECK-LABEL: func.func @concat_of_gathers(
// CHECK-SAME:      %[[C:[^:]*]]: tensor<8x1x3x2x16xf32>{{[^%]*}}%[[P:[^:]*]]: tensor<8x16x3x2x16xf32>
// CHECK-NEXT:    %[[J:.*]] = dsp.concat %[[C]], %[[P]] {axis = 1 : i64} : (tensor<8x1x3x2x16xf32>, tensor<8x16x3x2x16xf32>) -> tensor<8x17x3x2x16xf32>
// CHECK-NEXT:    %[[A:.*]] = dsp.attention %[[J]], %[[J]], %[[J]] query_perm [0, 2, 1, 3] key_perm [0, 2, 1, 3] value_perm [0, 2, 1, 3] query_select [2, 0] key_select [2, 1] value_select [2, 2] {scale = 2.500000e-01 : f64} : (tensor<8x17x3x2x16xf32>, tensor<8x17x3x2x16xf32>, tensor<8x17x3x2x16xf32>) -> tensor<8x2x17x16xf32>
// CHECK-NEXT:    return %[[A]]
module attributes {dsp.group = #dsp.group<ranks = 1, per_rank = true>} {
  func.func @concat_of_gathers(%c: tensor<8x1x3x2x16xf32>, %p: tensor<8x16x3x2x16xf32>) -> tensor<8x2x17x16xf32> {
    %i0 = dsp.constant dense<0> : tensor<i64>
    %i1 = dsp.constant dense<1> : tensor<i64>
    %i2 = dsp.constant dense<2> : tensor<i64>
    %tc = dsp.transpose %c perm [2, 0, 3, 1, 4] : tensor<8x1x3x2x16xf32> -> tensor<3x8x2x1x16xf32>
    %tp = dsp.transpose %p perm [2, 0, 3, 1, 4] : tensor<8x16x3x2x16xf32> -> tensor<3x8x2x16x16xf32>
    %qc = dsp.gather %tc, %i0 {axis = 0 : i64} : tensor<3x8x2x1x16xf32>, tensor<i64> -> tensor<8x2x1x16xf32>
    %qp = dsp.gather %tp, %i0 {axis = 0 : i64} : tensor<3x8x2x16x16xf32>, tensor<i64> -> tensor<8x2x16x16xf32>
    %q = dsp.concat %qc, %qp {axis = 2 : i64} : (tensor<8x2x1x16xf32>, tensor<8x2x16x16xf32>) -> tensor<8x2x17x16xf32>
    %kc = dsp.gather %tc, %i1 {axis = 0 : i64} : tensor<3x8x2x1x16xf32>, tensor<i64> -> tensor<8x2x1x16xf32>
    %kp = dsp.gather %tp, %i1 {axis = 0 : i64} : tensor<3x8x2x16x16xf32>, tensor<i64> -> tensor<8x2x16x16xf32>
    %k = dsp.concat %kc, %kp {axis = 2 : i64} : (tensor<8x2x1x16xf32>, tensor<8x2x16x16xf32>) -> tensor<8x2x17x16xf32>
    %vc = dsp.gather %tc, %i2 {axis = 0 : i64} : tensor<3x8x2x1x16xf32>, tensor<i64> -> tensor<8x2x1x16xf32>
    %vp = dsp.gather %tp, %i2 {axis = 0 : i64} : tensor<3x8x2x16x16xf32>, tensor<i64> -> tensor<8x2x16x16xf32>
    %v = dsp.concat %vc, %vp {axis = 2 : i64} : (tensor<8x2x1x16xf32>, tensor<8x2x16x16xf32>) -> tensor<8x2x17x16xf32>
    %a = dsp.attention %q, %k, %v {scale = 0.25 : f64} : (tensor<8x2x17x16xf32>, tensor<8x2x17x16xf32>, tensor<8x2x17x16xf32>) -> tensor<8x2x17x16xf32>
    return %a : tensor<8x2x17x16xf32>
  }
}

// -----

// Parts transposed by different perms (the heads and batch of the second
// swapped) are not one view of their concat: all stays.
// CHECK-LABEL: func.func @concat_of_unlike_parts(
// CHECK-COUNT-2: dsp.transpose
// CHECK:         dsp.concat
module attributes {dsp.group = #dsp.group<ranks = 1, per_rank = true>} {
  func.func @concat_of_unlike_parts(%c: tensor<4x1x4x16xf32>, %p: tensor<4x64x4x16xf32>, %k: tensor<4x4x65x16xf32>) -> tensor<4x4x65x16xf32> {
    %0 = dsp.transpose %c perm [0, 2, 1, 3] : tensor<4x1x4x16xf32> -> tensor<4x4x1x16xf32>
    %1 = dsp.transpose %p perm [2, 0, 1, 3] : tensor<4x64x4x16xf32> -> tensor<4x4x64x16xf32>
    %2 = dsp.concat %0, %1 {axis = 2 : i64} : (tensor<4x4x1x16xf32>, tensor<4x4x64x16xf32>) -> tensor<4x4x65x16xf32>
    %3 = dsp.attention %2, %k, %k {scale = 0.25 : f64} : (tensor<4x4x65x16xf32>, tensor<4x4x65x16xf32>, tensor<4x4x65x16xf32>) -> tensor<4x4x65x16xf32>
    return %3 : tensor<4x4x65x16xf32>
  }
}

// -----

// The result read in two parts, the class token's row and the patches',
// each merged back to [B, L, H, D] by a transpose of its own: the attention
// writes [B, L, H, D] and the parts are cut from it.
// CHECK-LABEL: func.func @sliced_output(
// CHECK:         %[[A:.*]] = dsp.attention {{.*}} output_perm [0, 2, 1, 3] {dsp.sharding = [#dsp.shard<dim = 0>], scale = 2.500000e-01 : f64} : {{.*}} -> tensor<2x65x4x16xf32>
// CHECK-NEXT:    %[[C:.*]] = dsp.slice %[[A]] {dsp.sharding = [#dsp.shard<dim = 0>], limits = array<i64: 2, 1, 4, 16>, starts = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1, 1, 1>} : tensor<2x65x4x16xf32> -> tensor<2x1x4x16xf32>
// CHECK-NEXT:    %[[P:.*]] = dsp.slice %[[A]] {dsp.sharding = [#dsp.shard<dim = 0>], limits = array<i64: 2, 65, 4, 16>, starts = array<i64: 0, 1, 0, 0>, strides = array<i64: 1, 1, 1, 1>} : tensor<2x65x4x16xf32> -> tensor<2x64x4x16xf32>
// CHECK-NEXT:    return %[[C]], %[[P]]
module attributes {dsp.group = #dsp.group<ranks = 2, per_rank = true>} {
  func.func @sliced_output(%q: tensor<2x4x65x16xf32> {dsp.sharding = #dsp.shard<dim = 0>}) -> (tensor<2x1x4x16xf32>, tensor<2x64x4x16xf32>) {
    %0 = dsp.attention %q, %q, %q {dsp.sharding = [#dsp.shard<dim = 0>], scale = 0.25 : f64} : (tensor<2x4x65x16xf32>, tensor<2x4x65x16xf32>, tensor<2x4x65x16xf32>) -> tensor<2x4x65x16xf32>
    %1 = dsp.slice %0 {dsp.sharding = [#dsp.shard<dim = 0>], starts = array<i64: 0, 0, 0, 0>, limits = array<i64: 2, 4, 1, 16>, strides = array<i64: 1, 1, 1, 1>} : tensor<2x4x65x16xf32> -> tensor<2x4x1x16xf32>
    %2 = dsp.transpose %1 perm [0, 2, 1, 3] {dsp.sharding = [#dsp.shard<dim = 0>]} : tensor<2x4x1x16xf32> -> tensor<2x1x4x16xf32>
    %3 = dsp.slice %0 {dsp.sharding = [#dsp.shard<dim = 0>], starts = array<i64: 0, 0, 1, 0>, limits = array<i64: 2, 4, 65, 16>, strides = array<i64: 1, 1, 1, 1>} : tensor<2x4x65x16xf32> -> tensor<2x4x64x16xf32>
    %4 = dsp.transpose %3 perm [0, 2, 1, 3] {dsp.sharding = [#dsp.shard<dim = 0>]} : tensor<2x4x64x16xf32> -> tensor<2x64x4x16xf32>
    return %2, %4 : tensor<2x1x4x16xf32>, tensor<2x64x4x16xf32>
  }
}

// -----

// One part read without a transpose keeps the result as it is.
// CHECK-LABEL: func.func @part_read_as_is(
// CHECK:         dsp.transpose
module attributes {dsp.group = #dsp.group<ranks = 1, per_rank = true>} {
  func.func @part_read_as_is(%q: tensor<2x4x65x16xf32>) -> (tensor<2x1x4x16xf32>, tensor<2x4x64x16xf32>) {
    %0 = dsp.attention %q, %q, %q {scale = 0.25 : f64} : (tensor<2x4x65x16xf32>, tensor<2x4x65x16xf32>, tensor<2x4x65x16xf32>) -> tensor<2x4x65x16xf32>
    %1 = dsp.slice %0 {starts = array<i64: 0, 0, 0, 0>, limits = array<i64: 2, 4, 1, 16>, strides = array<i64: 1, 1, 1, 1>} : tensor<2x4x65x16xf32> -> tensor<2x4x1x16xf32>
    %2 = dsp.transpose %1 perm [0, 2, 1, 3] : tensor<2x4x1x16xf32> -> tensor<2x1x4x16xf32>
    %3 = dsp.slice %0 {starts = array<i64: 0, 0, 1, 0>, limits = array<i64: 2, 4, 65, 16>, strides = array<i64: 1, 1, 1, 1>} : tensor<2x4x65x16xf32> -> tensor<2x4x64x16xf32>
    return %2, %3 : tensor<2x1x4x16xf32>, tensor<2x4x64x16xf32>
  }
}

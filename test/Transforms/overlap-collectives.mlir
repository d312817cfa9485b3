// RUN: dsp-opt %s -split-input-file --dsp-overlap-collectives=chunks=2 | FileCheck %s
// RUN: dsp-opt %s -split-input-file --dsp-overlap-collectives=chunks=1 | FileCheck %s --check-prefix=OFF
// RUN: not dsp-opt %s -split-input-file --dsp-overlap-collectives=chunks=0 2>&1 | FileCheck %s --check-prefix=ZERO

// OFF-NOT: async
// OFF-NOT: dsp.wait
// ZERO: error: chunks is 0, expected 1 or more

// A linear feeds the switch through a reshape: two pieces along dim 0 (the
// batch), each switch async, its wait after the other piece's linear.
// CHECK-LABEL: func.func @gemm_feeds_switch(
// CHECK-SAME:      %[[X:.*]]: tensor<2x16x32xf32>, %[[W:.*]]: tensor<32x32xf32>, %[[B:.*]]: tensor<32xf32>)
// CHECK-NEXT:    %[[X0:.*]] = dsp.slice %[[X]] {limits = array<i64: 1, 16, 32>, starts = array<i64: 0, 0, 0>, strides = array<i64: 1, 1, 1>} : tensor<2x16x32xf32> -> tensor<1x16x32xf32>
// CHECK-NEXT:    %[[X1:.*]] = dsp.slice %[[X]] {limits = array<i64: 2, 16, 32>, starts = array<i64: 1, 0, 0>, strides = array<i64: 1, 1, 1>} : tensor<2x16x32xf32> -> tensor<1x16x32xf32>
// CHECK-NEXT:    %[[P0:.*]] = dsp.linear %[[X0]], %[[W]] bias %[[B]] {dsp.sharding = [#dsp.shard<dim = 1>]} : (tensor<1x16x32xf32>, tensor<32x32xf32>, tensor<32xf32>) -> tensor<1x16x32xf32>
// CHECK-NEXT:    %[[V0:.*]] = dsp.reshape %[[P0]] {dsp.sharding = [#dsp.shard<dim = 2>]} : tensor<1x16x32xf32> -> tensor<1x8x2x32xf32>
// CHECK-NEXT:    %[[S0:.*]] = dsp.all_to_all %[[V0]] split 1 concat 2 {async, dsp.sharding = [#dsp.shard<dim = 1>]} : tensor<1x8x2x32xf32> -> tensor<1x4x4x32xf32>
// CHECK-NEXT:    %[[P1:.*]] = dsp.linear %[[X1]], %[[W]] bias %[[B]] {dsp.sharding = [#dsp.shard<dim = 1>]} : (tensor<1x16x32xf32>, tensor<32x32xf32>, tensor<32xf32>) -> tensor<1x16x32xf32>
// CHECK-NEXT:    %[[V1:.*]] = dsp.reshape %[[P1]] {dsp.sharding = [#dsp.shard<dim = 2>]} : tensor<1x16x32xf32> -> tensor<1x8x2x32xf32>
// CHECK-NEXT:    %[[S1:.*]] = dsp.all_to_all %[[V1]] split 1 concat 2 {async, dsp.sharding = [#dsp.shard<dim = 1>]} : tensor<1x8x2x32xf32> -> tensor<1x4x4x32xf32>
// CHECK-NEXT:    %[[A0:.*]] = dsp.wait %[[S0]] {dsp.sharding = [#dsp.shard<dim = 1>]} : tensor<1x4x4x32xf32>
// CHECK-NEXT:    %[[A1:.*]] = dsp.wait %[[S1]] {dsp.sharding = [#dsp.shard<dim = 1>]} : tensor<1x4x4x32xf32>
// CHECK-NEXT:    %[[Y:.*]] = dsp.concat %[[A0]], %[[A1]] {axis = 0 : i64, dsp.sharding = [#dsp.shard<dim = 1>]} : (tensor<1x4x4x32xf32>, tensor<1x4x4x32xf32>) -> tensor<2x4x4x32xf32>
// CHECK-NEXT:    return %[[Y]]
module attributes {dsp.group = #dsp.group<ranks = 2, per_rank = true>} {
func.func @gemm_feeds_switch(%x: tensor<2x16x32xf32>, %w: tensor<32x32xf32>, %b: tensor<32xf32>) -> tensor<2x4x4x32xf32> {
  %0 = dsp.linear %x, %w bias %b {dsp.sharding = [#dsp.shard<dim = 1>]} : (tensor<2x16x32xf32>, tensor<32x32xf32>, tensor<32xf32>) -> tensor<2x16x32xf32>
  %1 = dsp.reshape %0 {dsp.sharding = [#dsp.shard<dim = 2>]} : tensor<2x16x32xf32> -> tensor<2x8x2x32xf32>
  %2 = dsp.all_to_all %1 split 1 concat 2 {dsp.sharding = [#dsp.shard<dim = 1>]} : tensor<2x8x2x32xf32> -> tensor<2x4x4x32xf32>
  return %2 : tensor<2x4x4x32xf32>
}
}

// -----

// The switch feeds a linear with a residual through a transpose and a
// reshape: the residual is sliced as the product is.
// CHECK-LABEL: func.func @switch_feeds_gemm(
// CHECK-SAME:      %[[X:[^:]*]]: tensor<2x8x2x32xf32> {dsp.sharding = #dsp.shard<dim = 2>}, %[[W:.*]]: tensor<32x16xf32>, %[[B:.*]]: tensor<16xf32>, %[[R:.*]]: tensor<2x16x16xf32>)
// CHECK-NEXT:    %[[X0:.*]] = dsp.slice %[[X]] {dsp.sharding = [#dsp.shard<dim = 2>], limits = array<i64: 1, 8, 2, 32>, starts = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1, 1, 1>} : tensor<2x8x2x32xf32> -> tensor<1x8x2x32xf32>
// CHECK-NEXT:    %[[R0:.*]] = dsp.slice %[[R]] {limits = array<i64: 1, 16, 16>, starts = array<i64: 0, 0, 0>, strides = array<i64: 1, 1, 1>} : tensor<2x16x16xf32> -> tensor<1x16x16xf32>
// CHECK-NEXT:    %[[X1:.*]] = dsp.slice %[[X]] {{.*}}starts = array<i64: 1, 0, 0, 0>
// CHECK-NEXT:    %[[R1:.*]] = dsp.slice %[[R]] {{.*}}starts = array<i64: 1, 0, 0>
// CHECK-NEXT:    %[[S0:.*]] = dsp.all_to_all %[[X0]] split 1 concat 2 {async, dsp.sharding = [#dsp.shard<dim = 1>]} : tensor<1x8x2x32xf32> -> tensor<1x4x4x32xf32>
// CHECK-NEXT:    %[[S1:.*]] = dsp.all_to_all %[[X1]] split 1 concat 2 {async, dsp.sharding = [#dsp.shard<dim = 1>]} : tensor<1x8x2x32xf32> -> tensor<1x4x4x32xf32>
// CHECK-NEXT:    %[[A0:.*]] = dsp.wait %[[S0]]
// CHECK-NEXT:    %[[T0:.*]] = dsp.transpose %[[A0]] perm [0, 2, 1, 3] {dsp.sharding = [#dsp.shard<dim = 2>]} : tensor<1x4x4x32xf32> -> tensor<1x4x4x32xf32>
// CHECK-NEXT:    %[[V0:.*]] = dsp.reshape %[[T0]] {dsp.sharding = [#dsp.shard<dim = 1>]} : tensor<1x4x4x32xf32> -> tensor<1x16x32xf32>
// CHECK-NEXT:    %[[P0:.*]] = dsp.linear %[[V0]], %[[W]] bias %[[B]] residual %[[R0]] {dsp.sharding = [#dsp.shard<dim = 1>]} : (tensor<1x16x32xf32>, tensor<32x16xf32>, tensor<16xf32>, tensor<1x16x16xf32>) -> tensor<1x16x16xf32>
// CHECK-NEXT:    %[[A1:.*]] = dsp.wait %[[S1]]
// CHECK-NEXT:    %[[T1:.*]] = dsp.transpose %[[A1]]
// CHECK-NEXT:    %[[V1:.*]] = dsp.reshape %[[T1]]
// CHECK-NEXT:    %[[P1:.*]] = dsp.linear %[[V1]], %[[W]] bias %[[B]] residual %[[R1]]
// CHECK-NEXT:    %[[Y:.*]] = dsp.concat %[[P0]], %[[P1]] {axis = 0 : i64, dsp.sharding = [#dsp.shard<dim = 1>]} : (tensor<1x16x16xf32>, tensor<1x16x16xf32>) -> tensor<2x16x16xf32>
// CHECK-NEXT:    return %[[Y]]
module attributes {dsp.group = #dsp.group<ranks = 2, per_rank = true>} {
func.func @switch_feeds_gemm(%x: tensor<2x8x2x32xf32> {dsp.sharding = #dsp.shard<dim = 2>}, %w: tensor<32x16xf32>, %b: tensor<16xf32>, %r: tensor<2x16x16xf32>) -> tensor<2x16x16xf32> {
  %0 = dsp.all_to_all %x split 1 concat 2 {dsp.sharding = [#dsp.shard<dim = 1>]} : tensor<2x8x2x32xf32> -> tensor<2x4x4x32xf32>
  %1 = dsp.transpose %0 perm [0, 2, 1, 3] {dsp.sharding = [#dsp.shard<dim = 2>]} : tensor<2x4x4x32xf32> -> tensor<2x4x4x32xf32>
  %2 = dsp.reshape %1 {dsp.sharding = [#dsp.shard<dim = 1>]} : tensor<2x4x4x32xf32> -> tensor<2x16x32xf32>
  %3 = dsp.linear %2, %w bias %b residual %r {dsp.sharding = [#dsp.shard<dim = 1>]} : (tensor<2x16x32xf32>, tensor<32x16xf32>, tensor<16xf32>, tensor<2x16x16xf32>) -> tensor<2x16x16xf32>
  return %3 : tensor<2x16x16xf32>
}
}

// -----

// A batch of one: every other dim is the switch's or the linear's
// columns, so nothing changes.
// CHECK-LABEL: func.func @no_row_dim_to_split(
// CHECK-NEXT:    dsp.linear {{.*}} -> tensor<1x16x32xf32>
// CHECK-NEXT:    dsp.reshape
// CHECK-NEXT:    dsp.all_to_all {{.*}} {dsp.sharding = [#dsp.shard<dim = 1>]} : tensor<1x8x2x32xf32> -> tensor<1x4x4x32xf32>
// CHECK-NEXT:    return
module attributes {dsp.group = #dsp.group<ranks = 2, per_rank = true>} {
func.func @no_row_dim_to_split(%x: tensor<1x16x32xf32>, %w: tensor<32x32xf32>, %b: tensor<32xf32>) -> tensor<1x4x4x32xf32> {
  %0 = dsp.linear %x, %w bias %b {dsp.sharding = [#dsp.shard<dim = 1>]} : (tensor<1x16x32xf32>, tensor<32x32xf32>, tensor<32xf32>) -> tensor<1x16x32xf32>
  %1 = dsp.reshape %0 {dsp.sharding = [#dsp.shard<dim = 2>]} : tensor<1x16x32xf32> -> tensor<1x8x2x32xf32>
  %2 = dsp.all_to_all %1 split 1 concat 2 {dsp.sharding = [#dsp.shard<dim = 1>]} : tensor<1x8x2x32xf32> -> tensor<1x4x4x32xf32>
  return %2 : tensor<1x4x4x32xf32>
}
}

// -----

// The linear's result is read twice: it is not the switch's alone.
// CHECK-LABEL: func.func @shared_product(
// CHECK-NEXT:    dsp.linear {{.*}} -> tensor<2x8x2x32xf32>
// CHECK-NEXT:    dsp.all_to_all {{.*}} {dsp.sharding = [#dsp.shard<dim = 1>]} : tensor<2x8x2x32xf32> -> tensor<2x4x4x32xf32>
// CHECK-NEXT:    return
module attributes {dsp.group = #dsp.group<ranks = 2, per_rank = true>} {
func.func @shared_product(%x: tensor<2x8x2x32xf32>, %w: tensor<32x32xf32>, %b: tensor<32xf32>) -> (tensor<2x4x4x32xf32>, tensor<2x8x2x32xf32>) {
  %0 = dsp.linear %x, %w bias %b {dsp.sharding = [#dsp.shard<dim = 2>]} : (tensor<2x8x2x32xf32>, tensor<32x32xf32>, tensor<32xf32>) -> tensor<2x8x2x32xf32>
  %1 = dsp.all_to_all %0 split 1 concat 2 {dsp.sharding = [#dsp.shard<dim = 1>]} : tensor<2x8x2x32xf32> -> tensor<2x4x4x32xf32>
  return %1, %0 : tensor<2x4x4x32xf32>, tensor<2x8x2x32xf32>
}
}

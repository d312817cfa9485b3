// RUN: dsp-opt %s -split-input-file --dsp-materialize-results | FileCheck %s

// An argument, a constant and a repeated result are returned through copies;
// a result computed by an op is returned as it is.
// CHECK-LABEL: func.func @results(
// CHECK-SAME:      %[[X:.*]]: tensor<2xf32>)
// CHECK:         %[[C:.*]] = dsp.constant
// CHECK:         %[[N:.*]] = dsp.neg %[[X]]
// CHECK-NEXT:    %[[X1:.*]] = dsp.reshape %[[X]] : tensor<2xf32> -> tensor<2xf32>
// CHECK-NEXT:    %[[C1:.*]] = dsp.reshape %[[C]] : tensor<2xf32> -> tensor<2xf32>
// CHECK-NEXT:    %[[N1:.*]] = dsp.reshape %[[N]] : tensor<2xf32> -> tensor<2xf32>
// CHECK-NEXT:    return %[[N]], %[[X1]], %[[C1]], %[[N1]]
func.func @results(%x: tensor<2xf32>) -> (tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) {
  %c = dsp.constant dense<1.0> : tensor<2xf32>
  %0 = dsp.neg %x : tensor<2xf32>
  return %0, %x, %c, %0 : tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>
}

// -----

// With a group, each copy has the sharding of what it copies (a constant:
// replicated).
// CHECK-LABEL: func.func @sharded(
// CHECK:         dsp.reshape %{{.*}} {dsp.sharding = [#dsp.shard<replicated>]}
// CHECK:         dsp.reshape %{{.*}} {dsp.sharding = [#dsp.shard<replicated>]}
module attributes {dsp.group = #dsp.group<ranks = 2>} {
  func.func @sharded(%x: tensor<2xf32> {dsp.sharding = #dsp.shard<replicated>}) -> (tensor<2xf32>, tensor<2xf32>) {
    %c = dsp.constant dense<1.0> : tensor<2xf32>
    return %x, %c : tensor<2xf32>, tensor<2xf32>
  }
}

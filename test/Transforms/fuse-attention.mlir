// RUN: dsp-opt %s --dsp-fuse-attention -canonicalize -split-input-file | FileCheck %s

// softmax(q . k^T / 4) . v
// CHECK-LABEL: func.func @div_scale(
// CHECK-SAME: %[[Q:[^:]+]]: tensor<2x4x8x16xf32>, %[[K:[^:]+]]: tensor<2x4x8x16xf32>, %[[V:[^:]+]]: tensor<2x4x8x16xf32>)
// CHECK-NEXT: %[[A:.+]] = dsp.attention %[[Q]], %[[K]], %[[V]] {scale = 2.500000e-01 : f64} : (tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>) -> tensor<2x4x8x16xf32>
// CHECK-NEXT: return %[[A]]
func.func @div_scale(%q: tensor<2x4x8x16xf32>, %k: tensor<2x4x8x16xf32>, %v: tensor<2x4x8x16xf32>) -> tensor<2x4x8x16xf32> {
  %kt = dsp.transpose %k perm [0, 1, 3, 2] : tensor<2x4x8x16xf32> -> tensor<2x4x16x8xf32>
  %s = dsp.matmul %q, %kt : tensor<2x4x8x16xf32>, tensor<2x4x16x8xf32> -> tensor<2x4x8x8xf32>
  %c = dsp.constant dense<4.0> : tensor<f32>
  %d = dsp.div %s, %c : tensor<2x4x8x8xf32>, tensor<f32> -> tensor<2x4x8x8xf32>
  %p = dsp.softmax %d {axis = 3 : i64} : tensor<2x4x8x8xf32>
  %o = dsp.matmul %p, %v : tensor<2x4x8x8xf32>, tensor<2x4x8x16xf32> -> tensor<2x4x8x16xf32>
  return %o : tensor<2x4x8x16xf32>
}

// -----

// softmax(0.125 * (q . k^T)) . v, the constant on the left; v has its own
// head dim and key length differs from the query length.
// CHECK-LABEL: func.func @mul_scale(
// CHECK-SAME: %[[Q:[^:]+]]: tensor<1x2x3x8xf32>, %[[K:[^:]+]]: tensor<1x2x5x8xf32>, %[[V:[^:]+]]: tensor<1x2x5x6xf32>)
// CHECK-NEXT: %[[A:.+]] = dsp.attention %[[Q]], %[[K]], %[[V]] {scale = 1.250000e-01 : f64} : (tensor<1x2x3x8xf32>, tensor<1x2x5x8xf32>, tensor<1x2x5x6xf32>) -> tensor<1x2x3x6xf32>
// CHECK-NEXT: return %[[A]]
func.func @mul_scale(%q: tensor<1x2x3x8xf32>, %k: tensor<1x2x5x8xf32>, %v: tensor<1x2x5x6xf32>) -> tensor<1x2x3x6xf32> {
  %kt = dsp.transpose %k perm [0, 1, 3, 2] : tensor<1x2x5x8xf32> -> tensor<1x2x8x5xf32>
  %s = dsp.matmul %q, %kt : tensor<1x2x3x8xf32>, tensor<1x2x8x5xf32> -> tensor<1x2x3x5xf32>
  %c = dsp.constant dense<0.125> : tensor<f32>
  %d = dsp.mul %c, %s : tensor<f32>, tensor<1x2x3x5xf32> -> tensor<1x2x3x5xf32>
  %p = dsp.softmax %d {axis = 3 : i64} : tensor<1x2x3x5xf32>
  %o = dsp.matmul %p, %v : tensor<1x2x3x5xf32>, tensor<1x2x5x6xf32> -> tensor<1x2x3x6xf32>
  return %o : tensor<1x2x3x6xf32>
}

// -----

// q and k^T each scaled by 1/sqrt(sqrt(16)) = 0.5 before the product: the
// scales multiply.
// CHECK-LABEL: func.func @prescaled(
// CHECK-SAME: %[[Q:[^:]+]]: tensor<1x4x8x16xf32>, %[[K:[^:]+]]: tensor<1x4x8x16xf32>, %[[V:[^:]+]]: tensor<1x4x8x16xf32>)
// CHECK-NEXT: %[[A:.+]] = dsp.attention %[[Q]], %[[K]], %[[V]] {scale = 2.500000e-01 : f64}
// CHECK-NEXT: return %[[A]]
func.func @prescaled(%q: tensor<1x4x8x16xf32>, %k: tensor<1x4x8x16xf32>, %v: tensor<1x4x8x16xf32>) -> tensor<1x4x8x16xf32> {
  %c = dsp.constant dense<0.5> : tensor<1xf32>
  %qs = dsp.mul %q, %c : tensor<1x4x8x16xf32>, tensor<1xf32> -> tensor<1x4x8x16xf32>
  %kt = dsp.transpose %k perm [0, 1, 3, 2] : tensor<1x4x8x16xf32> -> tensor<1x4x16x8xf32>
  %ks = dsp.mul %kt, %c : tensor<1x4x16x8xf32>, tensor<1xf32> -> tensor<1x4x16x8xf32>
  %s = dsp.matmul %qs, %ks : tensor<1x4x8x16xf32>, tensor<1x4x16x8xf32> -> tensor<1x4x8x8xf32>
  %p = dsp.softmax %s {axis = 3 : i64} : tensor<1x4x8x8xf32>
  %o = dsp.matmul %p, %v : tensor<1x4x8x8xf32>, tensor<1x4x8x16xf32> -> tensor<1x4x8x16xf32>
  return %o : tensor<1x4x8x16xf32>
}

// -----

// An additive mask after the scale, on either side of the add.
// CHECK-LABEL: func.func @add_mask(
// CHECK-SAME: %[[Q:[^:]+]]: tensor<2x4x8x16xf32>, %[[K:[^:]+]]: tensor<2x4x8x16xf32>, %[[V:[^:]+]]: tensor<2x4x8x16xf32>, %[[M:[^:]+]]: tensor<2x1x1x8xf32>)
// CHECK-NEXT: %[[A:.+]] = dsp.attention %[[Q]], %[[K]], %[[V]] mask %[[M]] {scale = 2.500000e-01 : f64} : (tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>, tensor<2x1x1x8xf32>) -> tensor<2x4x8x16xf32>
// CHECK-NEXT: return %[[A]]
func.func @add_mask(%q: tensor<2x4x8x16xf32>, %k: tensor<2x4x8x16xf32>, %v: tensor<2x4x8x16xf32>, %m: tensor<2x1x1x8xf32>) -> tensor<2x4x8x16xf32> {
  %kt = dsp.transpose %k perm [0, 1, 3, 2] : tensor<2x4x8x16xf32> -> tensor<2x4x16x8xf32>
  %s = dsp.matmul %q, %kt : tensor<2x4x8x16xf32>, tensor<2x4x16x8xf32> -> tensor<2x4x8x8xf32>
  %c = dsp.constant dense<4.0> : tensor<f32>
  %d = dsp.div %s, %c : tensor<2x4x8x8xf32>, tensor<f32> -> tensor<2x4x8x8xf32>
  %a = dsp.add %d, %m : tensor<2x4x8x8xf32>, tensor<2x1x1x8xf32> -> tensor<2x4x8x8xf32>
  %p = dsp.softmax %a {axis = 3 : i64} : tensor<2x4x8x8xf32>
  %o = dsp.matmul %p, %v : tensor<2x4x8x8xf32>, tensor<2x4x8x16xf32> -> tensor<2x4x8x16xf32>
  return %o : tensor<2x4x8x16xf32>
}

// CHECK-LABEL: func.func @add_mask_first(
// CHECK-SAME: %[[Q:[^:]+]]: tensor<2x4x8x16xf32>, %[[K:[^:]+]]: tensor<2x4x8x16xf32>, %[[V:[^:]+]]: tensor<2x4x8x16xf32>, %[[M:[^:]+]]: tensor<8x8xf32>)
// A rank-2 mask gains leading unit dims.
// CHECK-NEXT: %[[M4:.+]] = dsp.reshape %[[M]] : tensor<8x8xf32> -> tensor<1x1x8x8xf32>
// CHECK-NEXT: %[[A:.+]] = dsp.attention %[[Q]], %[[K]], %[[V]] mask %[[M4]] {scale = 1.000000e+00 : f64} : (tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>, tensor<1x1x8x8xf32>) -> tensor<2x4x8x16xf32>
// CHECK-NEXT: return %[[A]]
func.func @add_mask_first(%q: tensor<2x4x8x16xf32>, %k: tensor<2x4x8x16xf32>, %v: tensor<2x4x8x16xf32>, %m: tensor<8x8xf32>) -> tensor<2x4x8x16xf32> {
  %kt = dsp.transpose %k perm [0, 1, 3, 2] : tensor<2x4x8x16xf32> -> tensor<2x4x16x8xf32>
  %s = dsp.matmul %q, %kt : tensor<2x4x8x16xf32>, tensor<2x4x16x8xf32> -> tensor<2x4x8x8xf32>
  %a = dsp.add %m, %s : tensor<8x8xf32>, tensor<2x4x8x8xf32> -> tensor<2x4x8x8xf32>
  %p = dsp.softmax %a {axis = 3 : i64} : tensor<2x4x8x8xf32>
  %o = dsp.matmul %p, %v : tensor<2x4x8x8xf32>, tensor<2x4x8x16xf32> -> tensor<2x4x8x16xf32>
  return %o : tensor<2x4x8x16xf32>
}

// A scale after the mask scales the mask too.
// CHECK-LABEL: func.func @scale_after_mask(
// CHECK-SAME: %[[Q:[^:]+]]: tensor<1x1x4x8xf32>, %[[K:[^:]+]]: tensor<1x1x4x8xf32>, %[[V:[^:]+]]: tensor<1x1x4x8xf32>, %[[M:[^:]+]]: tensor<1x1x4x4xf32>)
// CHECK-DAG: %[[HALF:.+]] = dsp.constant dense<5.000000e-01> : tensor<f32>
// CHECK-DAG: %[[MS:.+]] = dsp.mul %[[M]], %[[HALF]] : tensor<1x1x4x4xf32>, tensor<f32> -> tensor<1x1x4x4xf32>
// CHECK: %[[A:.+]] = dsp.attention %[[Q]], %[[K]], %[[V]] mask %[[MS]] {scale = 1.250000e-01 : f64}
// CHECK-NEXT: return %[[A]]
func.func @scale_after_mask(%q: tensor<1x1x4x8xf32>, %k: tensor<1x1x4x8xf32>, %v: tensor<1x1x4x8xf32>, %m: tensor<1x1x4x4xf32>) -> tensor<1x1x4x8xf32> {
  %kt = dsp.transpose %k perm [0, 1, 3, 2] : tensor<1x1x4x8xf32> -> tensor<1x1x8x4xf32>
  %s = dsp.matmul %q, %kt : tensor<1x1x4x8xf32>, tensor<1x1x8x4xf32> -> tensor<1x1x4x4xf32>
  %c = dsp.constant dense<4.0> : tensor<f32>
  %d = dsp.div %s, %c : tensor<1x1x4x4xf32>, tensor<f32> -> tensor<1x1x4x4xf32>
  %a = dsp.add %d, %m : tensor<1x1x4x4xf32>, tensor<1x1x4x4xf32> -> tensor<1x1x4x4xf32>
  %h = dsp.constant dense<0.5> : tensor<f32>
  %e = dsp.mul %a, %h : tensor<1x1x4x4xf32>, tensor<f32> -> tensor<1x1x4x4xf32>
  %p = dsp.softmax %e {axis = 3 : i64} : tensor<1x1x4x4xf32>
  %o = dsp.matmul %p, %v : tensor<1x1x4x4xf32>, tensor<1x1x4x8xf32> -> tensor<1x1x4x8xf32>
  return %o : tensor<1x1x4x8xf32>
}

// -----

// where(c, scores, -inf-ish) becomes the additive mask where(c, 0, fill);
// with the scores in the false branch the mask is where(c, fill, 0).
// CHECK-LABEL: func.func @where_mask(
// CHECK-SAME: %[[Q:[^:]+]]: tensor<1x2x4x8xf32>, %[[K:[^:]+]]: tensor<1x2x4x8xf32>, %[[V:[^:]+]]: tensor<1x2x4x8xf32>, %[[C:[^:]+]]: tensor<1x1x4x4xi1>)
// CHECK-DAG: %[[ZERO:.+]] = dsp.constant dense<0.000000e+00> : tensor<f32>
// CHECK-DAG: %[[FILL:.+]] = dsp.constant dense<-1.000000e+09> : tensor<f32>
// CHECK: %[[M:.+]] = dsp.where %[[C]], %[[ZERO]], %[[FILL]] : tensor<1x1x4x4xi1>, tensor<f32>, tensor<f32> -> tensor<1x1x4x4xf32>
// CHECK: %[[A:.+]] = dsp.attention %[[Q]], %[[K]], %[[V]] mask %[[M]] {scale = 5.000000e-01 : f64} : (tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x1x4x4xf32>) -> tensor<1x2x4x8xf32>
// CHECK-NEXT: return %[[A]]
func.func @where_mask(%q: tensor<1x2x4x8xf32>, %k: tensor<1x2x4x8xf32>, %v: tensor<1x2x4x8xf32>, %cond: tensor<1x1x4x4xi1>) -> tensor<1x2x4x8xf32> {
  %kt = dsp.transpose %k perm [0, 1, 3, 2] : tensor<1x2x4x8xf32> -> tensor<1x2x8x4xf32>
  %s = dsp.matmul %q, %kt : tensor<1x2x4x8xf32>, tensor<1x2x8x4xf32> -> tensor<1x2x4x4xf32>
  %c = dsp.constant dense<0.5> : tensor<f32>
  %d = dsp.mul %s, %c : tensor<1x2x4x4xf32>, tensor<f32> -> tensor<1x2x4x4xf32>
  %fill = dsp.constant dense<-1.0e9> : tensor<f32>
  %w = dsp.where %cond, %d, %fill : tensor<1x1x4x4xi1>, tensor<1x2x4x4xf32>, tensor<f32> -> tensor<1x2x4x4xf32>
  %p = dsp.softmax %w {axis = 3 : i64} : tensor<1x2x4x4xf32>
  %o = dsp.matmul %p, %v : tensor<1x2x4x4xf32>, tensor<1x2x4x8xf32> -> tensor<1x2x4x8xf32>
  return %o : tensor<1x2x4x8xf32>
}

// CHECK-LABEL: func.func @where_mask_false_branch(
// CHECK-SAME: %[[Q:[^:]+]]: tensor<1x2x4x8xf32>, %[[K:[^:]+]]: tensor<1x2x4x8xf32>, %[[V:[^:]+]]: tensor<1x2x4x8xf32>, %[[C:[^:]+]]: tensor<4x4xi1>)
// CHECK-DAG: %[[ZERO:.+]] = dsp.constant dense<0.000000e+00> : tensor<f32>
// CHECK-DAG: %[[FILL:.+]] = dsp.constant dense<0xFF800000> : tensor<f32>
// CHECK: %[[M:.+]] = dsp.where %[[C]], %[[FILL]], %[[ZERO]] : tensor<4x4xi1>, tensor<f32>, tensor<f32> -> tensor<4x4xf32>
// CHECK: %[[M4:.+]] = dsp.reshape %[[M]] : tensor<4x4xf32> -> tensor<1x1x4x4xf32>
// CHECK: %[[A:.+]] = dsp.attention %[[Q]], %[[K]], %[[V]] mask %[[M4]] {scale = 1.000000e+00 : f64}
// CHECK-NEXT: return %[[A]]
func.func @where_mask_false_branch(%q: tensor<1x2x4x8xf32>, %k: tensor<1x2x4x8xf32>, %v: tensor<1x2x4x8xf32>, %cond: tensor<4x4xi1>) -> tensor<1x2x4x8xf32> {
  %kt = dsp.transpose %k perm [0, 1, 3, 2] : tensor<1x2x4x8xf32> -> tensor<1x2x8x4xf32>
  %s = dsp.matmul %q, %kt : tensor<1x2x4x8xf32>, tensor<1x2x8x4xf32> -> tensor<1x2x4x4xf32>
  %fill = dsp.constant dense<0xFF800000> : tensor<f32>
  %w = dsp.where %cond, %fill, %s : tensor<4x4xi1>, tensor<f32>, tensor<1x2x4x4xf32> -> tensor<1x2x4x4xf32>
  %p = dsp.softmax %w {axis = 3 : i64} : tensor<1x2x4x4xf32>
  %o = dsp.matmul %p, %v : tensor<1x2x4x4xf32>, tensor<1x2x4x8xf32> -> tensor<1x2x4x8xf32>
  return %o : tensor<1x2x4x8xf32>
}

// -----

// The NaN guard of exported SDPA: where(isnan(p), 0, p) after the softmax.
// CHECK-LABEL: func.func @nan_guard(
// CHECK-SAME: %[[Q:[^:]+]]: tensor<1x2x4x8xf32>, %[[K:[^:]+]]: tensor<1x2x4x8xf32>, %[[V:[^:]+]]: tensor<1x2x4x8xf32>)
// CHECK-NEXT: %[[A:.+]] = dsp.attention %[[Q]], %[[K]], %[[V]] {scale = 1.250000e-01 : f64}
// CHECK-NEXT: return %[[A]]
func.func @nan_guard(%q: tensor<1x2x4x8xf32>, %k: tensor<1x2x4x8xf32>, %v: tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32> {
  %kt = dsp.transpose %k perm [0, 1, 3, 2] : tensor<1x2x4x8xf32> -> tensor<1x2x8x4xf32>
  %s = dsp.matmul %q, %kt : tensor<1x2x4x8xf32>, tensor<1x2x8x4xf32> -> tensor<1x2x4x4xf32>
  %c = dsp.constant dense<0.125> : tensor<f32>
  %d = dsp.mul %s, %c : tensor<1x2x4x4xf32>, tensor<f32> -> tensor<1x2x4x4xf32>
  %p = dsp.softmax %d {axis = 3 : i64} : tensor<1x2x4x4xf32>
  %n = dsp.isnan %p : tensor<1x2x4x4xf32> -> tensor<1x2x4x4xi1>
  %z = dsp.constant dense<0.0> : tensor<f32>
  %g = dsp.where %n, %z, %p : tensor<1x2x4x4xi1>, tensor<f32>, tensor<1x2x4x4xf32> -> tensor<1x2x4x4xf32>
  %o = dsp.matmul %g, %v : tensor<1x2x4x4xf32>, tensor<1x2x4x8xf32> -> tensor<1x2x4x8xf32>
  return %o : tensor<1x2x4x8xf32>
}

// -----

// Rank-3 operands are one head: viewed as [batch, 1, seq, dim] and back.
// CHECK-LABEL: func.func @rank3(
// CHECK-SAME: %[[Q:[^:]+]]: tensor<3x5x8xf32>, %[[K:[^:]+]]: tensor<3x6x8xf32>, %[[V:[^:]+]]: tensor<3x6x2xf32>, %[[M:[^:]+]]: tensor<3x5x6xf32>)
// CHECK-DAG: %[[Q4:.+]] = dsp.reshape %[[Q]] : tensor<3x5x8xf32> -> tensor<3x1x5x8xf32>
// CHECK-DAG: %[[K4:.+]] = dsp.reshape %[[K]] : tensor<3x6x8xf32> -> tensor<3x1x6x8xf32>
// CHECK-DAG: %[[V4:.+]] = dsp.reshape %[[V]] : tensor<3x6x2xf32> -> tensor<3x1x6x2xf32>
// CHECK-DAG: %[[M4:.+]] = dsp.reshape %[[M]] : tensor<3x5x6xf32> -> tensor<3x1x5x6xf32>
// CHECK: %[[A:.+]] = dsp.attention %[[Q4]], %[[K4]], %[[V4]] mask %[[M4]] {scale = 2.500000e-01 : f64} : (tensor<3x1x5x8xf32>, tensor<3x1x6x8xf32>, tensor<3x1x6x2xf32>, tensor<3x1x5x6xf32>) -> tensor<3x1x5x2xf32>
// CHECK: %[[R:.+]] = dsp.reshape %[[A]] : tensor<3x1x5x2xf32> -> tensor<3x5x2xf32>
// CHECK-NEXT: return %[[R]]
func.func @rank3(%q: tensor<3x5x8xf32>, %k: tensor<3x6x8xf32>, %v: tensor<3x6x2xf32>, %m: tensor<3x5x6xf32>) -> tensor<3x5x2xf32> {
  %kt = dsp.transpose %k perm [0, 2, 1] : tensor<3x6x8xf32> -> tensor<3x8x6xf32>
  %s = dsp.matmul %q, %kt : tensor<3x5x8xf32>, tensor<3x8x6xf32> -> tensor<3x5x6xf32>
  %c = dsp.constant dense<0.25> : tensor<f32>
  %d = dsp.mul %s, %c : tensor<3x5x6xf32>, tensor<f32> -> tensor<3x5x6xf32>
  %a = dsp.add %d, %m : tensor<3x5x6xf32>, tensor<3x5x6xf32> -> tensor<3x5x6xf32>
  %p = dsp.softmax %a {axis = 2 : i64} : tensor<3x5x6xf32>
  %o = dsp.matmul %p, %v : tensor<3x5x6xf32>, tensor<3x6x2xf32> -> tensor<3x5x2xf32>
  return %o : tensor<3x5x2xf32>
}

// -----

// Near misses: none of these fuse.

// The softmax runs over the query axis.
// CHECK-LABEL: func.func @softmax_not_last_axis(
// CHECK-NOT: dsp.attention
// CHECK: dsp.softmax %{{.+}} {axis = 2 : i64}
// CHECK: return
func.func @softmax_not_last_axis(%q: tensor<1x2x4x8xf32>, %k: tensor<1x2x4x8xf32>, %v: tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32> {
  %kt = dsp.transpose %k perm [0, 1, 3, 2] : tensor<1x2x4x8xf32> -> tensor<1x2x8x4xf32>
  %s = dsp.matmul %q, %kt : tensor<1x2x4x8xf32>, tensor<1x2x8x4xf32> -> tensor<1x2x4x4xf32>
  %p = dsp.softmax %s {axis = 2 : i64} : tensor<1x2x4x4xf32>
  %o = dsp.matmul %p, %v : tensor<1x2x4x4xf32>, tensor<1x2x4x8xf32> -> tensor<1x2x4x8xf32>
  return %o : tensor<1x2x4x8xf32>
}

// The scaled scores are also returned.
// CHECK-LABEL: func.func @scores_second_user(
// CHECK-NOT: dsp.attention
// CHECK: %[[D:.+]] = dsp.mul
// CHECK: dsp.softmax %[[D]]
// CHECK: return %{{.+}}, %[[D]]
func.func @scores_second_user(%q: tensor<1x2x4x8xf32>, %k: tensor<1x2x4x8xf32>, %v: tensor<1x2x4x8xf32>) -> (tensor<1x2x4x8xf32>, tensor<1x2x4x4xf32>) {
  %kt = dsp.transpose %k perm [0, 1, 3, 2] : tensor<1x2x4x8xf32> -> tensor<1x2x8x4xf32>
  %s = dsp.matmul %q, %kt : tensor<1x2x4x8xf32>, tensor<1x2x8x4xf32> -> tensor<1x2x4x4xf32>
  %c = dsp.constant dense<0.125> : tensor<f32>
  %d = dsp.mul %s, %c : tensor<1x2x4x4xf32>, tensor<f32> -> tensor<1x2x4x4xf32>
  %p = dsp.softmax %d {axis = 3 : i64} : tensor<1x2x4x4xf32>
  %o = dsp.matmul %p, %v : tensor<1x2x4x4xf32>, tensor<1x2x4x8xf32> -> tensor<1x2x4x8xf32>
  return %o, %d : tensor<1x2x4x8xf32>, tensor<1x2x4x4xf32>
}

// The probabilities are also returned.
// CHECK-LABEL: func.func @probabilities_second_user(
// CHECK-NOT: dsp.attention
// CHECK: return
func.func @probabilities_second_user(%q: tensor<1x2x4x8xf32>, %k: tensor<1x2x4x8xf32>, %v: tensor<1x2x4x8xf32>) -> (tensor<1x2x4x8xf32>, tensor<1x2x4x4xf32>) {
  %kt = dsp.transpose %k perm [0, 1, 3, 2] : tensor<1x2x4x8xf32> -> tensor<1x2x8x4xf32>
  %s = dsp.matmul %q, %kt : tensor<1x2x4x8xf32>, tensor<1x2x8x4xf32> -> tensor<1x2x4x4xf32>
  %p = dsp.softmax %s {axis = 3 : i64} : tensor<1x2x4x4xf32>
  %o = dsp.matmul %p, %v : tensor<1x2x4x4xf32>, tensor<1x2x4x8xf32> -> tensor<1x2x4x8xf32>
  return %o, %p : tensor<1x2x4x8xf32>, tensor<1x2x4x4xf32>
}

// The mask has a batch of 3 where the scores have 1: adding it widens the
// scores, so the attention would have the wrong shape.
// CHECK-LABEL: func.func @mask_widens_scores(
// CHECK-NOT: dsp.attention
// CHECK: dsp.add %{{.+}}, %{{.+}} : tensor<1x2x4x4xf32>, tensor<3x1x4x4xf32> -> tensor<3x2x4x4xf32>
// CHECK: return
func.func @mask_widens_scores(%q: tensor<1x2x4x8xf32>, %kt: tensor<1x2x8x4xf32>, %v: tensor<1x2x4x8xf32>, %m: tensor<3x1x4x4xf32>) -> tensor<3x2x4x8xf32> {
  %s = dsp.matmul %q, %kt : tensor<1x2x4x8xf32>, tensor<1x2x8x4xf32> -> tensor<1x2x4x4xf32>
  %a = dsp.add %s, %m : tensor<1x2x4x4xf32>, tensor<3x1x4x4xf32> -> tensor<3x2x4x4xf32>
  %p = dsp.softmax %a {axis = 3 : i64} : tensor<3x2x4x4xf32>
  %o = dsp.matmul %p, %v : tensor<3x2x4x4xf32>, tensor<1x2x4x8xf32> -> tensor<3x2x4x8xf32>
  return %o : tensor<3x2x4x8xf32>
}

// A where mask whose condition widens the scores.
// CHECK-LABEL: func.func @where_mask_widens_scores(
// CHECK-NOT: dsp.attention
// CHECK: return
func.func @where_mask_widens_scores(%q: tensor<1x2x4x8xf32>, %kt: tensor<1x2x8x4xf32>, %v: tensor<1x2x4x8xf32>, %cond: tensor<3x1x4x4xi1>) -> tensor<3x2x4x8xf32> {
  %s = dsp.matmul %q, %kt : tensor<1x2x4x8xf32>, tensor<1x2x8x4xf32> -> tensor<1x2x4x4xf32>
  %fill = dsp.constant dense<-1.0e9> : tensor<f32>
  %w = dsp.where %cond, %s, %fill : tensor<3x1x4x4xi1>, tensor<1x2x4x4xf32>, tensor<f32> -> tensor<3x2x4x4xf32>
  %p = dsp.softmax %w {axis = 3 : i64} : tensor<3x2x4x4xf32>
  %o = dsp.matmul %p, %v : tensor<3x2x4x4xf32>, tensor<1x2x4x8xf32> -> tensor<3x2x4x8xf32>
  return %o : tensor<3x2x4x8xf32>
}

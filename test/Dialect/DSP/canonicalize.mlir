// RUN: dsp-opt %s -canonicalize -split-input-file | FileCheck %s

// The folders and canonicalization patterns of the dsp dialect.

// Constant evaluation of float arithmetic.
// CHECK-LABEL: func.func @add_sub_mul_div_f32()
// CHECK-NEXT:    %[[CONSTANT:.*]] = dsp.constant dense<[3.000000e+00, 3.000000e+00, 4.000000e+00]> : tensor<3xf32>
// CHECK-NEXT:    %[[CONSTANT1:.*]] = dsp.constant dense<[-1.000000e+00, 2.000000e+00, -1.200000e+01]> : tensor<3xf32>
// CHECK-NEXT:    %[[CONSTANT2:.*]] = dsp.constant dense<[2.000000e+00, 1.250000e+00, -3.200000e+01]> : tensor<3xf32>
// CHECK-NEXT:    %[[CONSTANT3:.*]] = dsp.constant dense<[5.000000e-01, 5.000000e+00, -5.000000e-01]> : tensor<3xf32>
// CHECK-NEXT:    return %[[CONSTANT]], %[[CONSTANT1]], %[[CONSTANT2]], %[[CONSTANT3]] : tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>
func.func @add_sub_mul_div_f32() -> (tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>) {
  %a = dsp.constant dense<[1.0, 2.5, -4.0]> : tensor<3xf32>
  %b = dsp.constant dense<[2.0, 0.5, 8.0]> : tensor<3xf32>
  %0 = dsp.add %a, %b : tensor<3xf32>, tensor<3xf32> -> tensor<3xf32>
  %1 = dsp.sub %a, %b : tensor<3xf32>, tensor<3xf32> -> tensor<3xf32>
  %2 = dsp.mul %a, %b : tensor<3xf32>, tensor<3xf32> -> tensor<3xf32>
  %3 = dsp.div %a, %b : tensor<3xf32>, tensor<3xf32> -> tensor<3xf32>
  return %0, %1, %2, %3 : tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>
}

// -----

// Operands broadcast as numpy does.
// CHECK-LABEL: func.func @broadcast_add_i64()
// CHECK-NEXT:    %[[CONSTANT:.*]] = dsp.constant dense<{{\[\[}}2, 3, 4], [11, 12, 13]]> : tensor<2x3xi64>
// CHECK-NEXT:    return %[[CONSTANT]] : tensor<2x3xi64>
func.func @broadcast_add_i64() -> tensor<2x3xi64> {
  %a = dsp.constant dense<[[1], [10]]> : tensor<2x1xi64>
  %b = dsp.constant dense<[1, 2, 3]> : tensor<3xi64>
  %0 = dsp.add %a, %b : tensor<2x1xi64>, tensor<3xi64> -> tensor<2x3xi64>
  return %0 : tensor<2x3xi64>
}

// -----

// Integer division truncates toward zero.
// CHECK-LABEL: func.func @div_integer_truncates()
// CHECK-NEXT:    %[[CONSTANT:.*]] = dsp.constant dense<[3, -3, -3, 3]> : tensor<4xi64>
// CHECK-NEXT:    return %[[CONSTANT]] : tensor<4xi64>
func.func @div_integer_truncates() -> tensor<4xi64> {
  %a = dsp.constant dense<[7, -7, 7, -7]> : tensor<4xi64>
  %b = dsp.constant dense<[2, 2, -2, -2]> : tensor<4xi64>
  %0 = dsp.div %a, %b : tensor<4xi64>, tensor<4xi64> -> tensor<4xi64>
  return %0 : tensor<4xi64>
}

// -----

// Integer division by zero is left to run time.
// CHECK-LABEL: func.func @div_integer_by_zero()
// CHECK-NEXT:    %[[CONSTANT:.*]] = dsp.constant dense<[7, 8]> : tensor<2xi32>
// CHECK-NEXT:    %[[CONSTANT1:.*]] = dsp.constant dense<[2, 0]> : tensor<2xi32>
// CHECK-NEXT:    %[[DIV:.*]] = dsp.div %[[CONSTANT]], %[[CONSTANT1]] : tensor<2xi32>, tensor<2xi32> -> tensor<2xi32>
// CHECK-NEXT:    return %[[DIV]] : tensor<2xi32>
func.func @div_integer_by_zero() -> tensor<2xi32> {
  %a = dsp.constant dense<[7, 8]> : tensor<2xi32>
  %b = dsp.constant dense<[2, 0]> : tensor<2xi32>
  %0 = dsp.div %a, %b : tensor<2xi32>, tensor<2xi32> -> tensor<2xi32>
  return %0 : tensor<2xi32>
}

// -----

// Float division by zero gives infinities.
// CHECK-LABEL: func.func @div_float_by_zero()
// CHECK-NEXT:    %[[CONSTANT:.*]] = dsp.constant dense<[0x7F800000, 0xFF800000]> : tensor<2xf32>
// CHECK-NEXT:    return %[[CONSTANT]] : tensor<2xf32>
func.func @div_float_by_zero() -> tensor<2xf32> {
  %a = dsp.constant dense<[1.0, -1.0]> : tensor<2xf32>
  %b = dsp.constant dense<0.0> : tensor<2xf32>
  %0 = dsp.div %a, %b : tensor<2xf32>, tensor<2xf32> -> tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

// CHECK-LABEL: func.func @pow_max_min()
// CHECK-NEXT:    %[[CONSTANT:.*]] = dsp.constant dense<[8.000000e+00, 9.000000e+00, 2.000000e+00]> : tensor<3xf32>
// CHECK-NEXT:    %[[CONSTANT1:.*]] = dsp.constant dense<[4, 5, -3]> : tensor<3xi64>
// CHECK-NEXT:    %[[CONSTANT2:.*]] = dsp.constant dense<[1, 2, -3]> : tensor<3xi64>
// CHECK-NEXT:    return %[[CONSTANT]], %[[CONSTANT1]], %[[CONSTANT2]] : tensor<3xf32>, tensor<3xi64>, tensor<3xi64>
func.func @pow_max_min() -> (tensor<3xf32>, tensor<3xi64>, tensor<3xi64>) {
  %a = dsp.constant dense<[2.0, 3.0, 4.0]> : tensor<3xf32>
  %b = dsp.constant dense<[3.0, 2.0, 0.5]> : tensor<3xf32>
  %0 = dsp.pow %a, %b : tensor<3xf32>, tensor<3xf32> -> tensor<3xf32>
  %c = dsp.constant dense<[1, 5, -3]> : tensor<3xi64>
  %d = dsp.constant dense<[4, 2, -3]> : tensor<3xi64>
  %1 = dsp.max %c, %d : tensor<3xi64>, tensor<3xi64> -> tensor<3xi64>
  %2 = dsp.min %c, %d : tensor<3xi64>, tensor<3xi64> -> tensor<3xi64>
  return %0, %1, %2 : tensor<3xf32>, tensor<3xi64>, tensor<3xi64>
}

// -----

// Comparisons give i1.
// CHECK-LABEL: func.func @compares()
// CHECK-NEXT:    %[[CONSTANT:.*]] = dsp.constant dense<[false, true, false]> : tensor<3xi1>
// CHECK-NEXT:    %[[CONSTANT1:.*]] = dsp.constant dense<[true, false, false]> : tensor<3xi1>
// CHECK-NEXT:    %[[CONSTANT2:.*]] = dsp.constant dense<[true, true, false]> : tensor<3xi1>
// CHECK-NEXT:    %[[CONSTANT3:.*]] = dsp.constant dense<[false, false, true]> : tensor<3xi1>
// CHECK-NEXT:    %[[CONSTANT4:.*]] = dsp.constant dense<[false, true, true]> : tensor<3xi1>
// CHECK-NEXT:    return %[[CONSTANT]], %[[CONSTANT1]], %[[CONSTANT2]], %[[CONSTANT3]], %[[CONSTANT4]] : tensor<3xi1>, tensor<3xi1>, tensor<3xi1>, tensor<3xi1>, tensor<3xi1>
func.func @compares() -> (tensor<3xi1>, tensor<3xi1>, tensor<3xi1>, tensor<3xi1>, tensor<3xi1>) {
  %a = dsp.constant dense<[1, 2, 3]> : tensor<3xi64>
  %b = dsp.constant dense<2> : tensor<i64>
  %0 = dsp.equal %a, %b : tensor<3xi64>, tensor<i64> -> tensor<3xi1>
  %1 = dsp.less %a, %b : tensor<3xi64>, tensor<i64> -> tensor<3xi1>
  %2 = dsp.less_equal %a, %b : tensor<3xi64>, tensor<i64> -> tensor<3xi1>
  %3 = dsp.greater %a, %b : tensor<3xi64>, tensor<i64> -> tensor<3xi1>
  %4 = dsp.greater_equal %a, %b : tensor<3xi64>, tensor<i64> -> tensor<3xi1>
  return %0, %1, %2, %3, %4 : tensor<3xi1>, tensor<3xi1>, tensor<3xi1>, tensor<3xi1>, tensor<3xi1>
}

// -----

// CHECK-LABEL: func.func @logical()
// CHECK-NEXT:    %[[CONSTANT:.*]] = dsp.constant dense<[true, false, false, false]> : tensor<4xi1>
// CHECK-NEXT:    %[[CONSTANT1:.*]] = dsp.constant dense<[true, true, true, false]> : tensor<4xi1>
// CHECK-NEXT:    %[[CONSTANT2:.*]] = dsp.constant dense<[false, true, true, false]> : tensor<4xi1>
// CHECK-NEXT:    return %[[CONSTANT]], %[[CONSTANT1]], %[[CONSTANT2]] : tensor<4xi1>, tensor<4xi1>, tensor<4xi1>
func.func @logical() -> (tensor<4xi1>, tensor<4xi1>, tensor<4xi1>) {
  %a = dsp.constant dense<[true, true, false, false]> : tensor<4xi1>
  %b = dsp.constant dense<[true, false, true, false]> : tensor<4xi1>
  %0 = dsp.and %a, %b : tensor<4xi1>, tensor<4xi1> -> tensor<4xi1>
  %1 = dsp.or %a, %b : tensor<4xi1>, tensor<4xi1> -> tensor<4xi1>
  %2 = dsp.xor %a, %b : tensor<4xi1>, tensor<4xi1> -> tensor<4xi1>
  return %0, %1, %2 : tensor<4xi1>, tensor<4xi1>, tensor<4xi1>
}

// -----

// A splat condition picks an operand of the result type.
// CHECK-LABEL: func.func @where_splat_condition(
// CHECK-SAME:      %[[T:[^:]*]]: tensor<4xf32>, %[[F:[^:]*]]: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>)
// CHECK-NEXT:    return %[[T]], %[[F]] : tensor<4xf32>, tensor<4xf32>
func.func @where_splat_condition(%t: tensor<4xf32>, %f: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
  %true = dsp.constant dense<true> : tensor<4xi1>
  %false = dsp.constant dense<false> : tensor<i1>
  %0 = dsp.where %true, %t, %f : tensor<4xi1>, tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>
  %1 = dsp.where %false, %t, %f : tensor<i1>, tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>
  return %0, %1 : tensor<4xf32>, tensor<4xf32>
}

// -----

// ... but not one that the where would broadcast.
// CHECK-LABEL: func.func @where_splat_condition_broadcast(
// CHECK-SAME:      %[[T:[^:]*]]: tensor<4xf32>, %[[F:[^:]*]]: tensor<2x4xf32>) -> tensor<2x4xf32>
// CHECK-NEXT:    %[[CONSTANT:.*]] = dsp.constant dense<true> : tensor<i1>
// CHECK-NEXT:    %[[WHERE:.*]] = dsp.where %[[CONSTANT]], %[[T]], %[[F]] : tensor<i1>, tensor<4xf32>, tensor<2x4xf32> -> tensor<2x4xf32>
// CHECK-NEXT:    return %[[WHERE]] : tensor<2x4xf32>
func.func @where_splat_condition_broadcast(%t: tensor<4xf32>, %f: tensor<2x4xf32>) -> tensor<2x4xf32> {
  %true = dsp.constant dense<true> : tensor<i1>
  %0 = dsp.where %true, %t, %f : tensor<i1>, tensor<4xf32>, tensor<2x4xf32> -> tensor<2x4xf32>
  return %0 : tensor<2x4xf32>
}

// -----

// All-constant operands are evaluated, with broadcasting.
// CHECK-LABEL: func.func @where_constants()
// CHECK-NEXT:    %[[CONSTANT:.*]] = dsp.constant dense<{{\[\[}}1, 2, 3], [-1, -1, -1]]> : tensor<2x3xi64>
// CHECK-NEXT:    return %[[CONSTANT]] : tensor<2x3xi64>
func.func @where_constants() -> tensor<2x3xi64> {
  %c = dsp.constant dense<[[true], [false]]> : tensor<2x1xi1>
  %t = dsp.constant dense<[1, 2, 3]> : tensor<3xi64>
  %f = dsp.constant dense<-1> : tensor<i64>
  %0 = dsp.where %c, %t, %f : tensor<2x1xi1>, tensor<3xi64>, tensor<i64> -> tensor<2x3xi64>
  return %0 : tensor<2x3xi64>
}

// -----

// Float to integer truncates toward zero; anything to i1 is x != 0.
// CHECK-LABEL: func.func @cast()
// CHECK-NEXT:    %[[CONSTANT:.*]] = dsp.constant dense<[2, -2, 0, 0]> : tensor<4xi64>
// CHECK-NEXT:    %[[CONSTANT1:.*]] = dsp.constant dense<[true, true, false, true]> : tensor<4xi1>
// CHECK-NEXT:    %[[CONSTANT2:.*]] = dsp.constant dense<[1.000000e+00, 0.000000e+00, -3.000000e+00]> : tensor<3xf32>
// CHECK-NEXT:    %[[CONSTANT3:.*]] = dsp.constant dense<[1.000000e+00, 5.000000e-01, -2.000000e+00]> : tensor<3xf16>
// CHECK-NEXT:    return %[[CONSTANT]], %[[CONSTANT1]], %[[CONSTANT2]], %[[CONSTANT3]] : tensor<4xi64>, tensor<4xi1>, tensor<3xf32>, tensor<3xf16>
func.func @cast() -> (tensor<4xi64>, tensor<4xi1>, tensor<3xf32>, tensor<3xf16>) {
  %a = dsp.constant dense<[2.7, -2.7, 0.0, 0.5]> : tensor<4xf32>
  %0 = dsp.cast %a : tensor<4xf32> -> tensor<4xi64>
  %1 = dsp.cast %a : tensor<4xf32> -> tensor<4xi1>
  %b = dsp.constant dense<[1, 0, -3]> : tensor<3xi32>
  %2 = dsp.cast %b : tensor<3xi32> -> tensor<3xf32>
  %c = dsp.constant dense<[1.0, 0.5, -2.0]> : tensor<3xf32>
  %3 = dsp.cast %c : tensor<3xf32> -> tensor<3xf16>
  return %0, %1, %2, %3 : tensor<4xi64>, tensor<4xi1>, tensor<3xf32>, tensor<3xf16>
}

// -----

// CHECK-LABEL: func.func @cast_same_type(
// CHECK-SAME:      %[[X:[^:]*]]: tensor<4xf32>) -> tensor<4xf32>
// CHECK-NEXT:    return %[[X]] : tensor<4xf32>
func.func @cast_same_type(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = dsp.cast %x : tensor<4xf32> -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// x + 0, x * 1, x - 0 and x / 1 are x when the constant does not broadcast x.
// CHECK-LABEL: func.func @identities(
// CHECK-SAME:      %[[X:[^:]*]]: tensor<2x4xf32>, %[[I:[^:]*]]: tensor<3xi64>) -> (tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x4xf32>, tensor<3xi64>, tensor<2x4xf32>)
// CHECK-NEXT:    return %[[X]], %[[X]], %[[X]], %[[X]], %[[I]], %[[X]] : tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x4xf32>, tensor<3xi64>, tensor<2x4xf32>
func.func @identities(%x: tensor<2x4xf32>, %i: tensor<3xi64>) -> (tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x4xf32>, tensor<3xi64>, tensor<2x4xf32>) {
  %zero = dsp.constant dense<0.0> : tensor<4xf32>
  %one = dsp.constant dense<1.0> : tensor<2x4xf32>
  %izero = dsp.constant dense<0> : tensor<i64>
  %0 = dsp.add %x, %zero : tensor<2x4xf32>, tensor<4xf32> -> tensor<2x4xf32>
  %1 = dsp.mul %x, %one : tensor<2x4xf32>, tensor<2x4xf32> -> tensor<2x4xf32>
  %2 = dsp.sub %x, %zero : tensor<2x4xf32>, tensor<4xf32> -> tensor<2x4xf32>
  %3 = dsp.div %x, %one : tensor<2x4xf32>, tensor<2x4xf32> -> tensor<2x4xf32>
  %4 = dsp.add %izero, %i : tensor<i64>, tensor<3xi64> -> tensor<3xi64>
  %5 = dsp.mul %one, %x : tensor<2x4xf32>, tensor<2x4xf32> -> tensor<2x4xf32>
  return %0, %1, %2, %3, %4, %5 : tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x4xf32>, tensor<3xi64>, tensor<2x4xf32>
}

// -----

// An identity constant that broadcasts x to a larger type does not fold.
// CHECK-LABEL: func.func @identity_broadcast_not_folded(
// CHECK-SAME:      %[[X:[^:]*]]: tensor<4xf32>) -> (tensor<2x4xf32>, tensor<2x4xf32>)
// CHECK-NEXT:    %[[CONSTANT:.*]] = dsp.constant dense<0.000000e+00> : tensor<2x4xf32>
// CHECK-NEXT:    %[[CONSTANT1:.*]] = dsp.constant dense<1.000000e+00> : tensor<2x1xf32>
// CHECK-NEXT:    %[[ADD:.*]] = dsp.add %[[X]], %[[CONSTANT]] : tensor<4xf32>, tensor<2x4xf32> -> tensor<2x4xf32>
// CHECK-NEXT:    %[[DIV:.*]] = dsp.div %[[X]], %[[CONSTANT1]] : tensor<4xf32>, tensor<2x1xf32> -> tensor<2x4xf32>
// CHECK-NEXT:    return %[[ADD]], %[[DIV]] : tensor<2x4xf32>, tensor<2x4xf32>
func.func @identity_broadcast_not_folded(%x: tensor<4xf32>) -> (tensor<2x4xf32>, tensor<2x4xf32>) {
  %zero = dsp.constant dense<0.0> : tensor<2x4xf32>
  %one = dsp.constant dense<1.0> : tensor<2x1xf32>
  %0 = dsp.add %x, %zero : tensor<4xf32>, tensor<2x4xf32> -> tensor<2x4xf32>
  %1 = dsp.div %x, %one : tensor<4xf32>, tensor<2x1xf32> -> tensor<2x4xf32>
  return %0, %1 : tensor<2x4xf32>, tensor<2x4xf32>
}

// -----

// 0 - x is not x.
// CHECK-LABEL: func.func @sub_zero_lhs_not_folded(
// CHECK-SAME:      %[[X:[^:]*]]: tensor<4xf32>) -> tensor<4xf32>
// CHECK-NEXT:    %[[CONSTANT:.*]] = dsp.constant dense<0.000000e+00> : tensor<4xf32>
// CHECK-NEXT:    %[[SUB:.*]] = dsp.sub %[[CONSTANT]], %[[X]] : tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>
// CHECK-NEXT:    return %[[SUB]] : tensor<4xf32>
func.func @sub_zero_lhs_not_folded(%x: tensor<4xf32>) -> tensor<4xf32> {
  %zero = dsp.constant dense<0.0> : tensor<4xf32>
  %0 = dsp.sub %zero, %x : tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// CHECK-LABEL: func.func @reshape_constant()
// CHECK-NEXT:    %[[CONSTANT:.*]] = dsp.constant dense<{{\[\[}}1, 2], [3, 4], [5, 6]]> : tensor<3x2xi64>
// CHECK-NEXT:    %[[CONSTANT1:.*]] = dsp.constant dense<2.000000e+00> : tensor<2x2xf32>
// CHECK-NEXT:    return %[[CONSTANT]], %[[CONSTANT1]] : tensor<3x2xi64>, tensor<2x2xf32>
func.func @reshape_constant() -> (tensor<3x2xi64>, tensor<2x2xf32>) {
  %a = dsp.constant dense<[[1, 2, 3], [4, 5, 6]]> : tensor<2x3xi64>
  %0 = dsp.reshape %a : tensor<2x3xi64> -> tensor<3x2xi64>
  %b = dsp.constant dense<2.0> : tensor<4xf32>
  %1 = dsp.reshape %b : tensor<4xf32> -> tensor<2x2xf32>
  return %0, %1 : tensor<3x2xi64>, tensor<2x2xf32>
}

// -----

// CHECK-LABEL: func.func @reshape_same_type(
// CHECK-SAME:      %[[X:[^:]*]]: tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:    return %[[X]] : tensor<2x3xf32>
func.func @reshape_same_type(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %0 = dsp.reshape %x : tensor<2x3xf32> -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

// reshape(reshape(x)) is one reshape of x.
// CHECK-LABEL: func.func @reshape_of_reshape(
// CHECK-SAME:      %[[X:[^:]*]]: tensor<2x3x4xf32>) -> tensor<4x6xf32>
// CHECK-NEXT:    %[[RESHAPE:.*]] = dsp.reshape %[[X]] : tensor<2x3x4xf32> -> tensor<4x6xf32>
// CHECK-NEXT:    return %[[RESHAPE]] : tensor<4x6xf32>
func.func @reshape_of_reshape(%x: tensor<2x3x4xf32>) -> tensor<4x6xf32> {
  %0 = dsp.reshape %x : tensor<2x3x4xf32> -> tensor<6x4xf32>
  %1 = dsp.reshape %0 : tensor<6x4xf32> -> tensor<4x6xf32>
  return %1 : tensor<4x6xf32>
}

// -----

// ... which folds away when it gives back the type of x.
// CHECK-LABEL: func.func @reshape_of_reshape_back(
// CHECK-SAME:      %[[X:[^:]*]]: tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
// CHECK-NEXT:    return %[[X]] : tensor<2x3x4xf32>
func.func @reshape_of_reshape_back(%x: tensor<2x3x4xf32>) -> tensor<2x3x4xf32> {
  %0 = dsp.reshape %x : tensor<2x3x4xf32> -> tensor<24xf32>
  %1 = dsp.reshape %0 : tensor<24xf32> -> tensor<2x3x4xf32>
  return %1 : tensor<2x3x4xf32>
}

// -----

// CHECK-LABEL: func.func @transpose_identity(
// CHECK-SAME:      %[[X:[^:]*]]: tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:    return %[[X]] : tensor<2x3xf32>
func.func @transpose_identity(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %0 = dsp.transpose %x perm [0, 1] : tensor<2x3xf32> -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

// CHECK-LABEL: func.func @transpose_constant()
// CHECK-NEXT:    %[[CONSTANT:.*]] = dsp.constant dense<{{\[\[}}1, 4], [2, 5], [3, 6]]> : tensor<3x2xi64>
// CHECK-NEXT:    return %[[CONSTANT]] : tensor<3x2xi64>
func.func @transpose_constant() -> tensor<3x2xi64> {
  %a = dsp.constant dense<[[1, 2, 3], [4, 5, 6]]> : tensor<2x3xi64>
  %0 = dsp.transpose %a perm [1, 0] : tensor<2x3xi64> -> tensor<3x2xi64>
  return %0 : tensor<3x2xi64>
}

// -----

// CHECK-LABEL: func.func @transpose_constant_3d()
// CHECK-NEXT:    %[[CONSTANT:.*]] = dsp.constant dense<{{\[\[\[}}0, 2], [4, 6]], {{\[\[}}1, 3], [5, 7]]]> : tensor<2x2x2xi32>
// CHECK-NEXT:    return %[[CONSTANT]] : tensor<2x2x2xi32>
func.func @transpose_constant_3d() -> tensor<2x2x2xi32> {
  %a = dsp.constant dense<[[[0, 1], [2, 3]], [[4, 5], [6, 7]]]> : tensor<2x2x2xi32>
  %0 = dsp.transpose %a perm [2, 0, 1] : tensor<2x2x2xi32> -> tensor<2x2x2xi32>
  return %0 : tensor<2x2x2xi32>
}

// -----

// transpose(transpose(x)) is one transpose with the composed permutation.
// CHECK-LABEL: func.func @transpose_of_transpose(
// CHECK-SAME:      %[[X:[^:]*]]: tensor<2x3x4xf32>) -> tensor<3x4x2xf32>
// CHECK-NEXT:    %[[TRANSPOSE:.*]] = dsp.transpose %[[X]] perm [1, 2, 0] : tensor<2x3x4xf32> -> tensor<3x4x2xf32>
// CHECK-NEXT:    return %[[TRANSPOSE]] : tensor<3x4x2xf32>
func.func @transpose_of_transpose(%x: tensor<2x3x4xf32>) -> tensor<3x4x2xf32> {
  %0 = dsp.transpose %x perm [2, 0, 1] : tensor<2x3x4xf32> -> tensor<4x2x3xf32>
  %1 = dsp.transpose %0 perm [2, 0, 1] : tensor<4x2x3xf32> -> tensor<3x4x2xf32>
  return %1 : tensor<3x4x2xf32>
}

// -----

// ... which folds away when the composition is the identity.
// CHECK-LABEL: func.func @transpose_of_transpose_identity(
// CHECK-SAME:      %[[X:[^:]*]]: tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
// CHECK-NEXT:    return %[[X]] : tensor<2x3x4xf32>
func.func @transpose_of_transpose_identity(%x: tensor<2x3x4xf32>) -> tensor<2x3x4xf32> {
  %0 = dsp.transpose %x perm [1, 2, 0] : tensor<2x3x4xf32> -> tensor<3x4x2xf32>
  %1 = dsp.transpose %0 perm [2, 0, 1] : tensor<3x4x2xf32> -> tensor<2x3x4xf32>
  return %1 : tensor<2x3x4xf32>
}

// -----

// CHECK-LABEL: func.func @concat_constants()
// CHECK-NEXT:    %[[CONSTANT:.*]] = dsp.constant dense<{{\[\[}}1, 3, 4], [2, 5, 6]]> : tensor<2x3xi64>
// CHECK-NEXT:    %[[CONSTANT1:.*]] = dsp.constant dense<[1, 2, 7, 7]> : tensor<4xi64>
// CHECK-NEXT:    return %[[CONSTANT]], %[[CONSTANT1]] : tensor<2x3xi64>, tensor<4xi64>
func.func @concat_constants() -> (tensor<2x3xi64>, tensor<4xi64>) {
  %a = dsp.constant dense<[[1], [2]]> : tensor<2x1xi64>
  %b = dsp.constant dense<[[3, 4], [5, 6]]> : tensor<2x2xi64>
  %0 = dsp.concat %a, %b {axis = 1 : i64} : (tensor<2x1xi64>, tensor<2x2xi64>) -> tensor<2x3xi64>
  %c = dsp.constant dense<[1, 2]> : tensor<2xi64>
  %d = dsp.constant dense<7> : tensor<2xi64>
  %1 = dsp.concat %c, %d {axis = 0 : i64} : (tensor<2xi64>, tensor<2xi64>) -> tensor<4xi64>
  return %0, %1 : tensor<2x3xi64>, tensor<4xi64>
}

// -----

// CHECK-LABEL: func.func @concat_single(
// CHECK-SAME:      %[[X:[^:]*]]: tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:    return %[[X]] : tensor<2x3xf32>
func.func @concat_single(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %0 = dsp.concat %x {axis = 1 : i64} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

// Slices of constants, with strides and negative strides; a full slice is x.
// CHECK-LABEL: func.func @slice(
// CHECK-SAME:      %[[X:[^:]*]]: tensor<4xf32>) -> (tensor<2x2xi64>, tensor<3xi64>, tensor<3xi64>, tensor<4xf32>)
// CHECK-NEXT:    %[[CONSTANT:.*]] = dsp.constant dense<{{\[\[}}5, 7], [9, 11]]> : tensor<2x2xi64>
// CHECK-NEXT:    %[[CONSTANT1:.*]] = dsp.constant dense<[4, 2, 0]> : tensor<3xi64>
// CHECK-NEXT:    %[[CONSTANT2:.*]] = dsp.constant dense<[3, 2, 1]> : tensor<3xi64>
// CHECK-NEXT:    return %[[CONSTANT]], %[[CONSTANT1]], %[[CONSTANT2]], %[[X]] : tensor<2x2xi64>, tensor<3xi64>, tensor<3xi64>, tensor<4xf32>
func.func @slice(%x: tensor<4xf32>) -> (tensor<2x2xi64>, tensor<3xi64>, tensor<3xi64>, tensor<4xf32>) {
  %a = dsp.constant dense<[[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]]> : tensor<3x4xi64>
  %0 = dsp.slice %a {limits = array<i64: 3, 4>, starts = array<i64: 1, 1>, strides = array<i64: 1, 2>} : tensor<3x4xi64> -> tensor<2x2xi64>
  %b = dsp.constant dense<[0, 1, 2, 3, 4]> : tensor<5xi64>
  %1 = dsp.slice %b {limits = array<i64: -1>, starts = array<i64: 4>, strides = array<i64: -2>} : tensor<5xi64> -> tensor<3xi64>
  %2 = dsp.slice %b {limits = array<i64: 0>, starts = array<i64: 3>, strides = array<i64: -1>} : tensor<5xi64> -> tensor<3xi64>
  %3 = dsp.slice %x {limits = array<i64: 4>, starts = array<i64: 0>, strides = array<i64: 1>} : tensor<4xf32> -> tensor<4xf32>
  return %0, %1, %2, %3 : tensor<2x2xi64>, tensor<3xi64>, tensor<3xi64>, tensor<4xf32>
}

// -----

// Gathers of constants; negative indices count from the end.
// CHECK-LABEL: func.func @gather()
// CHECK-NEXT:    %[[CONSTANT:.*]] = dsp.constant dense<{{\[\[}}3, 1], [6, 4]]> : tensor<2x2xi64>
// CHECK-NEXT:    %[[CONSTANT1:.*]] = dsp.constant dense<{{\[\[\[}}4, 5, 6], [1, 2, 3]], {{\[\[}}4, 5, 6], [1, 2, 3]]]> : tensor<2x2x3xi64>
// CHECK-NEXT:    return %[[CONSTANT]], %[[CONSTANT1]] : tensor<2x2xi64>, tensor<2x2x3xi64>
func.func @gather() -> (tensor<2x2xi64>, tensor<2x2x3xi64>) {
  %a = dsp.constant dense<[[1, 2, 3], [4, 5, 6]]> : tensor<2x3xi64>
  %i = dsp.constant dense<[-1, 0]> : tensor<2xi64>
  %0 = dsp.gather %a, %i {axis = 1 : i64} : tensor<2x3xi64>, tensor<2xi64> -> tensor<2x2xi64>
  %j = dsp.constant dense<[[1, 0], [1, -2]]> : tensor<2x2xi32>
  %1 = dsp.gather %a, %j {axis = 0 : i64} : tensor<2x3xi64>, tensor<2x2xi32> -> tensor<2x2x3xi64>
  return %0, %1 : tensor<2x2xi64>, tensor<2x2x3xi64>
}

// -----

// An index out of range is not folded.
// CHECK-LABEL: func.func @gather_out_of_range()
// CHECK-NEXT:    %[[CONSTANT:.*]] = dsp.constant dense<[1, 2, 3]> : tensor<3xi64>
// CHECK-NEXT:    %[[CONSTANT1:.*]] = dsp.constant dense<3> : tensor<1xi64>
// CHECK-NEXT:    %[[GATHER:.*]] = dsp.gather %[[CONSTANT]], %[[CONSTANT1]] {axis = 0 : i64} : tensor<3xi64>, tensor<1xi64> -> tensor<1xi64>
// CHECK-NEXT:    return %[[GATHER]] : tensor<1xi64>
func.func @gather_out_of_range() -> tensor<1xi64> {
  %a = dsp.constant dense<[1, 2, 3]> : tensor<3xi64>
  %i = dsp.constant dense<3> : tensor<1xi64>
  %0 = dsp.gather %a, %i {axis = 0 : i64} : tensor<3xi64>, tensor<1xi64> -> tensor<1xi64>
  return %0 : tensor<1xi64>
}

// -----

// CHECK-LABEL: func.func @expand()
// CHECK-NEXT:    %[[CONSTANT:.*]] = dsp.constant dense<{{\[\[\[}}1, 1, 1], [2, 2, 2]], {{\[\[}}1, 1, 1], [2, 2, 2]]]> : tensor<2x2x3xi64>
// CHECK-NEXT:    return %[[CONSTANT]] : tensor<2x2x3xi64>
func.func @expand() -> tensor<2x2x3xi64> {
  %a = dsp.constant dense<[[1], [2]]> : tensor<2x1xi64>
  %0 = dsp.expand %a : tensor<2x1xi64> -> tensor<2x2x3xi64>
  return %0 : tensor<2x2x3xi64>
}

// -----

// CHECK-LABEL: func.func @expand_same_type(
// CHECK-SAME:      %[[X:[^:]*]]: tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:    return %[[X]] : tensor<2x3xf32>
func.func @expand_same_type(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %0 = dsp.expand %x : tensor<2x3xf32> -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

// CHECK-LABEL: func.func @tile(
// CHECK-SAME:      %[[X:[^:]*]]: tensor<2x3xf32>) -> (tensor<4x4xi64>, tensor<2x3xf32>)
// CHECK-NEXT:    %[[CONSTANT:.*]] = dsp.constant dense<{{\[\[}}1, 2, 1, 2], [3, 4, 3, 4], [1, 2, 1, 2], [3, 4, 3, 4]]> : tensor<4x4xi64>
// CHECK-NEXT:    return %[[CONSTANT]], %[[X]] : tensor<4x4xi64>, tensor<2x3xf32>
func.func @tile(%x: tensor<2x3xf32>) -> (tensor<4x4xi64>, tensor<2x3xf32>) {
  %a = dsp.constant dense<[[1, 2], [3, 4]]> : tensor<2x2xi64>
  %0 = dsp.tile %a {repeats = array<i64: 2, 2>} : tensor<2x2xi64> -> tensor<4x4xi64>
  %1 = dsp.tile %x {repeats = array<i64: 1, 1>} : tensor<2x3xf32> -> tensor<2x3xf32>
  return %0, %1 : tensor<4x4xi64>, tensor<2x3xf32>
}

// -----

// Constants above 65536 elements are never evaluated.
// CHECK-LABEL: func.func @too_large_to_fold()
// CHECK-NEXT:    %[[CONSTANT:.*]] = dsp.constant dense<1.000000e+00> : tensor<65537xf32>
// CHECK-NEXT:    %[[ADD:.*]] = dsp.add %[[CONSTANT]], %[[CONSTANT]] : tensor<65537xf32>, tensor<65537xf32> -> tensor<65537xf32>
// CHECK-NEXT:    %[[RESHAPE:.*]] = dsp.reshape %[[CONSTANT]] : tensor<65537xf32> -> tensor<1x65537xf32>
// CHECK-NEXT:    return %[[ADD]], %[[RESHAPE]] : tensor<65537xf32>, tensor<1x65537xf32>
func.func @too_large_to_fold() -> (tensor<65537xf32>, tensor<1x65537xf32>) {
  %a = dsp.constant dense<1.0> : tensor<65537xf32>
  %0 = dsp.add %a, %a : tensor<65537xf32>, tensor<65537xf32> -> tensor<65537xf32>
  %1 = dsp.reshape %a : tensor<65537xf32> -> tensor<1x65537xf32>
  return %0, %1 : tensor<65537xf32>, tensor<1x65537xf32>
}

// -----

// 65536 elements still fold.
// CHECK-LABEL: func.func @largest_folded()
// CHECK-NEXT:    %[[CONSTANT:.*]] = dsp.constant dense<2.000000e+00> : tensor<65536xf32>
// CHECK-NEXT:    return %[[CONSTANT]] : tensor<65536xf32>
func.func @largest_folded() -> tensor<65536xf32> {
  %a = dsp.constant dense<1.0> : tensor<65536xf32>
  %0 = dsp.add %a, %a : tensor<65536xf32>, tensor<65536xf32> -> tensor<65536xf32>
  return %0 : tensor<65536xf32>
}

// -----

// Integers fold exactly as int64, beyond the 2^53 that a double holds.
// CHECK-LABEL: func.func @int64_exact()
// CHECK-NEXT:    %[[CONSTANT:.*]] = dsp.constant dense<[9223372036854775807, 9007199254740993]> : tensor<2xi64>
// CHECK-NEXT:    %[[CONSTANT1:.*]] = dsp.constant dense<false> : tensor<2xi1>
// CHECK-NEXT:    %[[CONSTANT2:.*]] = dsp.constant dense<[0, 9007199254740993]> : tensor<2xi64>
// CHECK-NEXT:    %[[CONSTANT3:.*]] = dsp.constant dense<[9223372036854775806, 9007199254740992]> : tensor<2xi64>
// CHECK-NEXT:    return %[[CONSTANT]], %[[CONSTANT1]], %[[CONSTANT2]], %[[CONSTANT3]] : tensor<2xi64>, tensor<2xi1>, tensor<2xi64>, tensor<2xi64>
func.func @int64_exact() -> (tensor<2xi64>, tensor<2xi1>, tensor<2xi64>, tensor<2xi64>) {
  %a = dsp.constant dense<[9223372036854775807, 9007199254740993]> : tensor<2xi64>
  %b = dsp.constant dense<[0, 9007199254740992]> : tensor<2xi64>
  %0 = dsp.max %a, %b : tensor<2xi64>, tensor<2xi64> -> tensor<2xi64>
  %1 = dsp.equal %a, %b : tensor<2xi64>, tensor<2xi64> -> tensor<2xi1>
  %c = dsp.constant dense<[false, true]> : tensor<2xi1>
  %2 = dsp.where %c, %a, %b : tensor<2xi1>, tensor<2xi64>, tensor<2xi64> -> tensor<2xi64>
  %one = dsp.constant dense<1> : tensor<i64>
  %3 = dsp.sub %a, %one : tensor<2xi64>, tensor<i64> -> tensor<2xi64>
  return %0, %1, %2, %3 : tensor<2xi64>, tensor<2xi1>, tensor<2xi64>, tensor<2xi64>
}

// -----

// Integer arithmetic wraps to the element width.
// CHECK-LABEL: func.func @integer_wraparound()
// CHECK-NEXT:    %[[CONSTANT:.*]] = dsp.constant dense<[-2147483648, 2147483647]> : tensor<2xi32>
// CHECK-NEXT:    %[[CONSTANT1:.*]] = dsp.constant dense<[-9223372036854775808, -9223372036854775807]> : tensor<2xi64>
// CHECK-NEXT:    %[[CONSTANT2:.*]] = dsp.constant dense<[2147483647, -2147483648]> : tensor<2xi32>
// CHECK-NEXT:    return %[[CONSTANT]], %[[CONSTANT1]], %[[CONSTANT2]] : tensor<2xi32>, tensor<2xi64>, tensor<2xi32>
func.func @integer_wraparound() -> (tensor<2xi32>, tensor<2xi64>, tensor<2xi32>) {
  %a = dsp.constant dense<[2147483647, -2147483648]> : tensor<2xi32>
  %b = dsp.constant dense<[1, -1]> : tensor<2xi32>
  %0 = dsp.add %a, %b : tensor<2xi32>, tensor<2xi32> -> tensor<2xi32>
  %c = dsp.constant dense<[-9223372036854775808, 9223372036854775807]> : tensor<2xi64>
  %d = dsp.constant dense<-1> : tensor<i64>
  %1 = dsp.div %c, %d : tensor<2xi64>, tensor<i64> -> tensor<2xi64>
  %2 = dsp.div %a, %b : tensor<2xi32>, tensor<2xi32> -> tensor<2xi32>
  return %0, %1, %2 : tensor<2xi32>, tensor<2xi64>, tensor<2xi32>
}

// -----

// Integer pow is exact; a negative integer exponent is not folded.
// CHECK-LABEL: func.func @pow_integer()
// CHECK-NEXT:    %[[CONSTANT:.*]] = dsp.constant dense<[2, -1]> : tensor<2xi64>
// CHECK-NEXT:    %[[CONSTANT1:.*]] = dsp.constant dense<[2, 1]> : tensor<2xi64>
// CHECK-NEXT:    %[[CONSTANT2:.*]] = dsp.constant dense<[1024, -27, 1, 4052555153018976267]> : tensor<4xi64>
// CHECK-NEXT:    %[[POW:.*]] = dsp.pow %[[CONSTANT1]], %[[CONSTANT]] : tensor<2xi64>, tensor<2xi64> -> tensor<2xi64>
// CHECK-NEXT:    return %[[CONSTANT2]], %[[POW]] : tensor<4xi64>, tensor<2xi64>
func.func @pow_integer() -> (tensor<4xi64>, tensor<2xi64>) {
  %a = dsp.constant dense<[2, -3, 5, 3]> : tensor<4xi64>
  %b = dsp.constant dense<[10, 3, 0, 39]> : tensor<4xi64>
  %0 = dsp.pow %a, %b : tensor<4xi64>, tensor<4xi64> -> tensor<4xi64>
  %c = dsp.constant dense<[2, 1]> : tensor<2xi64>
  %d = dsp.constant dense<[2, -1]> : tensor<2xi64>
  %1 = dsp.pow %c, %d : tensor<2xi64>, tensor<2xi64> -> tensor<2xi64>
  return %0, %1 : tensor<4xi64>, tensor<2xi64>
}

// -----

// Integers cast to floats round to nearest even (-16777217 becomes
// -16777216, printed 0xCB800000); cast to narrower integers they wrap.
// CHECK-LABEL: func.func @cast_integer()
// CHECK-NEXT:    %[[CONSTANT:.*]] = dsp.constant dense<[9.00719925E+15, 0xCB800000]> : tensor<2xf32>
// CHECK-NEXT:    %[[CONSTANT1:.*]] = dsp.constant dense<[1, -1]> : tensor<2xi32>
// CHECK-NEXT:    %[[CONSTANT2:.*]] = dsp.constant dense<[1, 0, 1]> : tensor<3xi64>
// CHECK-NEXT:    return %[[CONSTANT]], %[[CONSTANT1]], %[[CONSTANT2]] : tensor<2xf32>, tensor<2xi32>, tensor<3xi64>
func.func @cast_integer() -> (tensor<2xf32>, tensor<2xi32>, tensor<3xi64>) {
  %a = dsp.constant dense<[9007199254740993, -16777217]> : tensor<2xi64>
  %0 = dsp.cast %a : tensor<2xi64> -> tensor<2xf32>
  %b = dsp.constant dense<[4294967297, -1]> : tensor<2xi64>
  %1 = dsp.cast %b : tensor<2xi64> -> tensor<2xi32>
  %c = dsp.constant dense<[true, false, true]> : tensor<3xi1>
  %2 = dsp.cast %c : tensor<3xi1> -> tensor<3xi64>
  return %0, %1, %2 : tensor<2xf32>, tensor<2xi32>, tensor<3xi64>
}

// -----

// A slice along a concat's axis that covers exactly one input is that
// input, whichever input it is.
// CHECK-LABEL: func.func @slice_concat_whole_input(
// CHECK-SAME:      %[[A:.*]]: tensor<1x1x4xf32>, %[[B:.*]]: tensor<1x6x4xf32>, %[[C:.*]]: tensor<1x2x4xf32>)
// CHECK-NEXT:    return %[[A]], %[[B]], %[[C]] : tensor<1x1x4xf32>, tensor<1x6x4xf32>, tensor<1x2x4xf32>
func.func @slice_concat_whole_input(%a: tensor<1x1x4xf32>, %b: tensor<1x6x4xf32>, %c: tensor<1x2x4xf32>) -> (tensor<1x1x4xf32>, tensor<1x6x4xf32>, tensor<1x2x4xf32>) {
  %0 = dsp.concat %a, %b, %c {axis = 1 : i64} : (tensor<1x1x4xf32>, tensor<1x6x4xf32>, tensor<1x2x4xf32>) -> tensor<1x9x4xf32>
  %1 = dsp.slice %0 {starts = array<i64: 0, 0, 0>, limits = array<i64: 1, 1, 4>, strides = array<i64: 1, 1, 1>} : tensor<1x9x4xf32> -> tensor<1x1x4xf32>
  %2 = dsp.slice %0 {starts = array<i64: 0, 1, 0>, limits = array<i64: 1, 7, 4>, strides = array<i64: 1, 1, 1>} : tensor<1x9x4xf32> -> tensor<1x6x4xf32>
  %3 = dsp.slice %0 {starts = array<i64: 0, 7, 0>, limits = array<i64: 1, 9, 4>, strides = array<i64: 1, 1, 1>} : tensor<1x9x4xf32> -> tensor<1x2x4xf32>
  return %1, %2, %3 : tensor<1x1x4xf32>, tensor<1x6x4xf32>, tensor<1x2x4xf32>
}

// -----

// A slice inside one input slices that input, shifted; the slicing of the
// other dims, strided or not, is kept.
// CHECK-LABEL: func.func @slice_concat_inside_input(
// CHECK-SAME:      %[[A:.*]]: tensor<1x1x4xf32>, %[[B:.*]]: tensor<1x6x4xf32>)
// CHECK-NEXT:    %[[SLICE:.*]] = dsp.slice %[[B]] {limits = array<i64: 1, 5, 4>, starts = array<i64: 0, 2, 0>, strides = array<i64: 1, 1, 1>} : tensor<1x6x4xf32> -> tensor<1x3x4xf32>
// CHECK-NEXT:    %[[SLICE1:.*]] = dsp.slice %[[B]] {limits = array<i64: 1, 6, 0>, starts = array<i64: 0, 0, 3>, strides = array<i64: 1, 1, -2>} : tensor<1x6x4xf32> -> tensor<1x6x2xf32>
// CHECK-NEXT:    return %[[SLICE]], %[[SLICE1]] : tensor<1x3x4xf32>, tensor<1x6x2xf32>
func.func @slice_concat_inside_input(%a: tensor<1x1x4xf32>, %b: tensor<1x6x4xf32>) -> (tensor<1x3x4xf32>, tensor<1x6x2xf32>) {
  %0 = dsp.concat %a, %b {axis = 1 : i64} : (tensor<1x1x4xf32>, tensor<1x6x4xf32>) -> tensor<1x7x4xf32>
  %1 = dsp.slice %0 {starts = array<i64: 0, 3, 0>, limits = array<i64: 1, 6, 4>, strides = array<i64: 1, 1, 1>} : tensor<1x7x4xf32> -> tensor<1x3x4xf32>
  %2 = dsp.slice %0 {starts = array<i64: 0, 1, 3>, limits = array<i64: 1, 7, 0>, strides = array<i64: 1, 1, -2>} : tensor<1x7x4xf32> -> tensor<1x6x2xf32>
  return %1, %2 : tensor<1x3x4xf32>, tensor<1x6x2xf32>
}

// -----

// Slices across two inputs, strided along the concat axis, or along
// another axis stay.
// CHECK-LABEL: func.func @slice_concat_kept(
// CHECK-SAME:      %[[A:.*]]: tensor<1x1x4xf32>, %[[B:.*]]: tensor<1x6x4xf32>)
// CHECK-NEXT:    %[[CONCAT:.*]] = dsp.concat %[[A]], %[[B]] {axis = 1 : i64}
// CHECK-NEXT:    %[[SLICE:.*]] = dsp.slice %[[CONCAT]] {limits = array<i64: 1, 3, 4>, starts = array<i64: 0, 0, 0>, strides = array<i64: 1, 1, 1>}
// CHECK-NEXT:    %[[SLICE1:.*]] = dsp.slice %[[CONCAT]] {limits = array<i64: 1, 7, 4>, starts = array<i64: 0, 1, 0>, strides = array<i64: 1, 2, 1>}
// CHECK-NEXT:    %[[SLICE2:.*]] = dsp.slice %[[CONCAT]] {limits = array<i64: 1, 7, 2>, starts = array<i64: 0, 0, 0>, strides = array<i64: 1, 1, 1>}
// CHECK-NEXT:    return %[[SLICE]], %[[SLICE1]], %[[SLICE2]]
func.func @slice_concat_kept(%a: tensor<1x1x4xf32>, %b: tensor<1x6x4xf32>) -> (tensor<1x3x4xf32>, tensor<1x3x4xf32>, tensor<1x7x2xf32>) {
  %0 = dsp.concat %a, %b {axis = 1 : i64} : (tensor<1x1x4xf32>, tensor<1x6x4xf32>) -> tensor<1x7x4xf32>
  %1 = dsp.slice %0 {starts = array<i64: 0, 0, 0>, limits = array<i64: 1, 3, 4>, strides = array<i64: 1, 1, 1>} : tensor<1x7x4xf32> -> tensor<1x3x4xf32>
  %2 = dsp.slice %0 {starts = array<i64: 0, 1, 0>, limits = array<i64: 1, 7, 4>, strides = array<i64: 1, 2, 1>} : tensor<1x7x4xf32> -> tensor<1x3x4xf32>
  %3 = dsp.slice %0 {starts = array<i64: 0, 0, 0>, limits = array<i64: 1, 7, 2>, strides = array<i64: 1, 1, 1>} : tensor<1x7x4xf32> -> tensor<1x7x2xf32>
  return %1, %2, %3 : tensor<1x3x4xf32>, tensor<1x3x4xf32>, tensor<1x7x2xf32>
}

// -----

// A gather along a concat's axis whose constant indices fall in one input
// gathers from that input with the indices shifted; a negative index
// counts from the end of the concat.
// CHECK-LABEL: func.func @gather_concat(
// CHECK-SAME:      %[[A:.*]]: tensor<2x1x4xf32>, %[[B:.*]]: tensor<2x6x4xf32>)
// CHECK-DAG:     %[[ZERO:.*]] = dsp.constant dense<0> : tensor<i64>
// CHECK-DAG:     %[[SHIFTED:.*]] = dsp.constant dense<[4, 0, 5]> : tensor<3xi64>
// CHECK-DAG:     %[[GATHER:.*]] = dsp.gather %[[A]], %[[ZERO]] {axis = 1 : i64} : tensor<2x1x4xf32>, tensor<i64> -> tensor<2x4xf32>
// CHECK-DAG:     %[[GATHER1:.*]] = dsp.gather %[[B]], %[[SHIFTED]] {axis = 1 : i64} : tensor<2x6x4xf32>, tensor<3xi64> -> tensor<2x3x4xf32>
// CHECK:         return %[[GATHER]], %[[GATHER1]]
func.func @gather_concat(%a: tensor<2x1x4xf32>, %b: tensor<2x6x4xf32>) -> (tensor<2x4xf32>, tensor<2x3x4xf32>) {
  %0 = dsp.concat %a, %b {axis = 1 : i64} : (tensor<2x1x4xf32>, tensor<2x6x4xf32>) -> tensor<2x7x4xf32>
  %i = dsp.constant dense<0> : tensor<i64>
  %1 = dsp.gather %0, %i {axis = 1 : i64} : tensor<2x7x4xf32>, tensor<i64> -> tensor<2x4xf32>
  %j = dsp.constant dense<[5, 1, -1]> : tensor<3xi64>
  %2 = dsp.gather %0, %j {axis = 1 : i64} : tensor<2x7x4xf32>, tensor<3xi64> -> tensor<2x3x4xf32>
  return %1, %2 : tensor<2x4xf32>, tensor<2x3x4xf32>
}

// -----

// Gathers whose indices span two inputs, are not constant, or run along
// another axis stay.
// CHECK-LABEL: func.func @gather_concat_kept(
// CHECK-SAME:      %[[A:.*]]: tensor<2x1x4xf32>, %[[B:.*]]: tensor<2x6x4xf32>, %[[I:.*]]: tensor<i64>)
// CHECK-DAG:     %[[SPAN:.*]] = dsp.constant dense<[0, 1]> : tensor<2xi64>
// CHECK-DAG:     %[[ONE:.*]] = dsp.constant dense<1> : tensor<i64>
// CHECK-DAG:     %[[CONCAT:.*]] = dsp.concat %[[A]], %[[B]] {axis = 1 : i64}
// CHECK-DAG:     %[[GATHER:.*]] = dsp.gather %[[CONCAT]], %[[SPAN]] {axis = 1 : i64}
// CHECK-DAG:     %[[GATHER1:.*]] = dsp.gather %[[CONCAT]], %[[I]] {axis = 1 : i64}
// CHECK-DAG:     %[[GATHER2:.*]] = dsp.gather %[[CONCAT]], %[[ONE]] {axis = 2 : i64}
// CHECK:         return %[[GATHER]], %[[GATHER1]], %[[GATHER2]]
func.func @gather_concat_kept(%a: tensor<2x1x4xf32>, %b: tensor<2x6x4xf32>, %i: tensor<i64>) -> (tensor<2x2x4xf32>, tensor<2x4xf32>, tensor<2x7xf32>) {
  %0 = dsp.concat %a, %b {axis = 1 : i64} : (tensor<2x1x4xf32>, tensor<2x6x4xf32>) -> tensor<2x7x4xf32>
  %span = dsp.constant dense<[0, 1]> : tensor<2xi64>
  %1 = dsp.gather %0, %span {axis = 1 : i64} : tensor<2x7x4xf32>, tensor<2xi64> -> tensor<2x2x4xf32>
  %2 = dsp.gather %0, %i {axis = 1 : i64} : tensor<2x7x4xf32>, tensor<i64> -> tensor<2x4xf32>
  %one = dsp.constant dense<1> : tensor<i64>
  %3 = dsp.gather %0, %one {axis = 2 : i64} : tensor<2x7x4xf32>, tensor<i64> -> tensor<2x7xf32>
  return %1, %2, %3 : tensor<2x2x4xf32>, tensor<2x4xf32>, tensor<2x7xf32>
}

// -----

// Consecutive slices of one value concatenated along the sliced axis are
// one slice, or the value itself when they cover all of it.
// CHECK-LABEL: func.func @concat_consecutive_slices(
// CHECK-SAME:      %[[X:.*]]: tensor<2x9x4xf32>)
// CHECK-NEXT:    %[[SLICE:.*]] = dsp.slice %[[X]] {limits = array<i64: 2, 8, 3>, starts = array<i64: 0, 1, 0>, strides = array<i64: 1, 1, 1>} : tensor<2x9x4xf32> -> tensor<2x7x3xf32>
// CHECK-NEXT:    return %[[X]], %[[SLICE]] : tensor<2x9x4xf32>, tensor<2x7x3xf32>
func.func @concat_consecutive_slices(%x: tensor<2x9x4xf32>) -> (tensor<2x9x4xf32>, tensor<2x7x3xf32>) {
  %0 = dsp.slice %x {starts = array<i64: 0, 0, 0>, limits = array<i64: 2, 1, 4>, strides = array<i64: 1, 1, 1>} : tensor<2x9x4xf32> -> tensor<2x1x4xf32>
  %1 = dsp.slice %x {starts = array<i64: 0, 1, 0>, limits = array<i64: 2, 9, 4>, strides = array<i64: 1, 1, 1>} : tensor<2x9x4xf32> -> tensor<2x8x4xf32>
  %2 = dsp.concat %0, %1 {axis = 1 : i64} : (tensor<2x1x4xf32>, tensor<2x8x4xf32>) -> tensor<2x9x4xf32>
  %3 = dsp.slice %x {starts = array<i64: 0, 1, 0>, limits = array<i64: 2, 3, 3>, strides = array<i64: 1, 1, 1>} : tensor<2x9x4xf32> -> tensor<2x2x3xf32>
  %4 = dsp.slice %x {starts = array<i64: 0, 3, 0>, limits = array<i64: 2, 4, 3>, strides = array<i64: 1, 1, 1>} : tensor<2x9x4xf32> -> tensor<2x1x3xf32>
  %5 = dsp.slice %x {starts = array<i64: 0, 4, 0>, limits = array<i64: 2, 8, 3>, strides = array<i64: 1, 1, 1>} : tensor<2x9x4xf32> -> tensor<2x4x3xf32>
  %6 = dsp.concat %3, %4, %5 {axis = 1 : i64} : (tensor<2x2x3xf32>, tensor<2x1x3xf32>, tensor<2x4x3xf32>) -> tensor<2x7x3xf32>
  return %2, %6 : tensor<2x9x4xf32>, tensor<2x7x3xf32>
}

// -----

// A run of consecutive slices among other inputs merges; slices with a gap,
// of other values, sliced alike on other dims or not, or concatenated along
// another axis stay.
// CHECK-LABEL: func.func @concat_slices_kept(
// CHECK-SAME:      %[[X:.*]]: tensor<2x9x4xf32>, %[[Y:.*]]: tensor<2x9x4xf32>, %[[A:.*]]: tensor<2x1x4xf32>)
// CHECK-NEXT:    %[[S0:.*]] = dsp.slice %[[X]] {limits = array<i64: 2, 2, 4>, starts = array<i64: 0, 0, 0>, strides = array<i64: 1, 1, 1>}
// CHECK-NEXT:    %[[S1:.*]] = dsp.slice %[[X]] {limits = array<i64: 2, 4, 4>, starts = array<i64: 0, 3, 0>, strides = array<i64: 1, 1, 1>}
// CHECK-NEXT:    %[[C0:.*]] = dsp.concat %[[S0]], %[[S1]] {axis = 1 : i64}
// CHECK-NEXT:    %[[S2:.*]] = dsp.slice %[[Y]] {limits = array<i64: 2, 4, 4>, starts = array<i64: 0, 2, 0>, strides = array<i64: 1, 1, 1>}
// CHECK-NEXT:    %[[C1:.*]] = dsp.concat %[[S0]], %[[S2]] {axis = 1 : i64}
// CHECK-NEXT:    %[[S3:.*]] = dsp.slice %[[X]] {limits = array<i64: 2, 4, 3>, starts = array<i64: 0, 2, 1>, strides = array<i64: 1, 1, 1>}
// CHECK-NEXT:    %[[S4:.*]] = dsp.slice %[[X]] {limits = array<i64: 2, 2, 2>, starts = array<i64: 0, 0, 0>, strides = array<i64: 1, 1, 1>}
// CHECK-NEXT:    %[[C2:.*]] = dsp.concat %[[S4]], %[[S3]] {axis = 1 : i64}
// CHECK-NEXT:    %[[C3:.*]] = dsp.concat %[[S0]], %[[S0]] {axis = 0 : i64}
// CHECK-NEXT:    %[[S5:.*]] = dsp.slice %[[X]] {limits = array<i64: 2, 6, 4>, starts = array<i64: 0, 0, 0>, strides = array<i64: 1, 1, 1>}
// CHECK-NEXT:    %[[C4:.*]] = dsp.concat %[[A]], %[[S5]], %[[A]] {axis = 1 : i64}
// CHECK-NEXT:    return %[[C0]], %[[C1]], %[[C2]], %[[C3]], %[[C4]]
func.func @concat_slices_kept(%x: tensor<2x9x4xf32>, %y: tensor<2x9x4xf32>, %a: tensor<2x1x4xf32>) -> (tensor<2x3x4xf32>, tensor<2x4x4xf32>, tensor<2x4x2xf32>, tensor<4x2x4xf32>, tensor<2x8x4xf32>) {
  %0 = dsp.slice %x {starts = array<i64: 0, 0, 0>, limits = array<i64: 2, 2, 4>, strides = array<i64: 1, 1, 1>} : tensor<2x9x4xf32> -> tensor<2x2x4xf32>
  %1 = dsp.slice %x {starts = array<i64: 0, 3, 0>, limits = array<i64: 2, 4, 4>, strides = array<i64: 1, 1, 1>} : tensor<2x9x4xf32> -> tensor<2x1x4xf32>
  %gap = dsp.concat %0, %1 {axis = 1 : i64} : (tensor<2x2x4xf32>, tensor<2x1x4xf32>) -> tensor<2x3x4xf32>
  %2 = dsp.slice %y {starts = array<i64: 0, 2, 0>, limits = array<i64: 2, 4, 4>, strides = array<i64: 1, 1, 1>} : tensor<2x9x4xf32> -> tensor<2x2x4xf32>
  %other = dsp.concat %0, %2 {axis = 1 : i64} : (tensor<2x2x4xf32>, tensor<2x2x4xf32>) -> tensor<2x4x4xf32>
  %3 = dsp.slice %x {starts = array<i64: 0, 2, 1>, limits = array<i64: 2, 4, 3>, strides = array<i64: 1, 1, 1>} : tensor<2x9x4xf32> -> tensor<2x2x2xf32>
  %4 = dsp.slice %x {starts = array<i64: 0, 0, 0>, limits = array<i64: 2, 2, 2>, strides = array<i64: 1, 1, 1>} : tensor<2x9x4xf32> -> tensor<2x2x2xf32>
  %narrow = dsp.concat %4, %3 {axis = 1 : i64} : (tensor<2x2x2xf32>, tensor<2x2x2xf32>) -> tensor<2x4x2xf32>
  %axis = dsp.concat %0, %0 {axis = 0 : i64} : (tensor<2x2x4xf32>, tensor<2x2x4xf32>) -> tensor<4x2x4xf32>
  %5 = dsp.slice %x {starts = array<i64: 0, 2, 0>, limits = array<i64: 2, 6, 4>, strides = array<i64: 1, 1, 1>} : tensor<2x9x4xf32> -> tensor<2x4x4xf32>
  %run = dsp.concat %a, %0, %5, %a {axis = 1 : i64} : (tensor<2x1x4xf32>, tensor<2x2x4xf32>, tensor<2x4x4xf32>, tensor<2x1x4xf32>) -> tensor<2x8x4xf32>
  return %gap, %other, %narrow, %axis, %run : tensor<2x3x4xf32>, tensor<2x4x4xf32>, tensor<2x4x2xf32>, tensor<4x2x4xf32>, tensor<2x8x4xf32>
}

// -----

// Float unary ops on constants evaluate (in double, rounded once).
// CHECK-LABEL: func.func @unary_f32()
// CHECK-NEXT:    %{{.*}} = dsp.constant dense<[-4.000000e+00, 1.000000e+00]> : tensor<2xf32>
// CHECK-NEXT:    %{{.*}} = dsp.constant dense<[54.5981483, 0.36787945]> : tensor<2xf32>
// CHECK-NEXT:    %{{.*}} = dsp.constant dense<[1.38629436, -1.38629436]> : tensor<2xf32>
// CHECK-NEXT:    %{{.*}} = dsp.constant dense<[2.000000e+00, 5.000000e-01]> : tensor<2xf32>
// CHECK-NEXT:    %{{.*}} = dsp.constant dense<[2.500000e-01, 4.000000e+00]> : tensor<2xf32>
// CHECK-NEXT:    %{{.*}} = dsp.constant dense<[4.000000e+00, 1.000000e+00]> : tensor<2xf32>
// CHECK-NEXT:    %{{.*}} = dsp.constant dense<[1.000000e+00, -0.842700779]> : tensor<2xf32>
// CHECK-NEXT:    %{{.*}} = dsp.constant dense<[0.999329328, -0.761594176]> : tensor<2xf32>
// CHECK-NEXT:    %{{.*}} = dsp.constant dense<[0.982013761, 0.268941432]> : tensor<2xf32>
// CHECK-NEXT:    %{{.*}} = dsp.constant dense<[4.000000e+00, 0.000000e+00]> : tensor<2xf32>
// CHECK-NEXT:    %{{.*}} = dsp.constant dense<[-0.756802499, -0.841470957]> : tensor<2xf32>
// CHECK-NEXT:    %{{.*}} = dsp.constant dense<[-0.653643608, 0.540302277]> : tensor<2xf32>
// CHECK-NEXT:    %{{.*}} = dsp.constant dense<[3.92805505, -0.268941432]> : tensor<2xf32>
// CHECK-NEXT:    %{{.*}} = dsp.constant dense<[3.9998734, -0.158655256]> : tensor<2xf32>
// CHECK-NEXT:    %{{.*}} = dsp.constant dense<[3.99992967, -0.158808008]> : tensor<2xf32>
// CHECK-NEXT:    return
func.func @unary_f32() -> (tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) {
  %a = dsp.constant dense<[4.0, -1.0]> : tensor<2xf32>
  %p = dsp.constant dense<[4.0, 0.25]> : tensor<2xf32>
  %0 = dsp.neg %a : tensor<2xf32>
  %1 = dsp.exp %a : tensor<2xf32>
  %2 = dsp.log %p : tensor<2xf32>
  %3 = dsp.sqrt %p : tensor<2xf32>
  %4 = dsp.reciprocal %p : tensor<2xf32>
  %5 = dsp.abs %a : tensor<2xf32>
  %6 = dsp.erf %a : tensor<2xf32>
  %7 = dsp.tanh %a : tensor<2xf32>
  %8 = dsp.sigmoid %a : tensor<2xf32>
  %9 = dsp.relu %a : tensor<2xf32>
  %10 = dsp.sin %a : tensor<2xf32>
  %11 = dsp.cos %a : tensor<2xf32>
  %12 = dsp.silu %a : tensor<2xf32>
  %13 = dsp.gelu %a : tensor<2xf32>
  %14 = dsp.gelu %a {approximate = "tanh"} : tensor<2xf32>
  return %0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14 : tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>
}

// -----

// Mod of constants: fmod takes the sign of the dividend, the floored
// remainder that of the divisor.
// CHECK-LABEL: func.func @mod_constant()
// CHECK-NEXT:    %[[FLOORED:.*]] = dsp.constant dense<[1, 2, -2, -1, 0]> : tensor<5xi64>
// CHECK-NEXT:    %[[TRUNCATED:.*]] = dsp.constant dense<[1, -1, 1, -1, 0]> : tensor<5xi64>
// CHECK-NEXT:    %[[FLOAT:.*]] = dsp.constant dense<[1.500000e+00, -1.500000e+00]> : tensor<2xf32>
// CHECK-NEXT:    return %[[FLOORED]], %[[TRUNCATED]], %[[FLOAT]]
func.func @mod_constant() -> (tensor<5xi64>, tensor<5xi64>, tensor<2xf32>) {
  %a = dsp.constant dense<[7, -7, 7, -7, -9223372036854775808]> : tensor<5xi64>
  %b = dsp.constant dense<[3, 3, -3, -3, -1]> : tensor<5xi64>
  %0 = dsp.mod %a, %b : tensor<5xi64>, tensor<5xi64> -> tensor<5xi64>
  %1 = dsp.mod %a, %b {fmod = true} : tensor<5xi64>, tensor<5xi64> -> tensor<5xi64>
  %c = dsp.constant dense<[5.5, -5.5]> : tensor<2xf32>
  %d = dsp.constant dense<2.0> : tensor<f32>
  %2 = dsp.mod %c, %d {fmod = true} : tensor<2xf32>, tensor<f32> -> tensor<2xf32>
  return %0, %1, %2 : tensor<5xi64>, tensor<5xi64>, tensor<2xf32>
}

// -----

// An integer remainder by zero is left to run time.
// CHECK-LABEL: func.func @mod_by_zero()
// CHECK:         %[[MOD:.*]] = dsp.mod
// CHECK-NEXT:    return %[[MOD]]
func.func @mod_by_zero() -> tensor<2xi32> {
  %a = dsp.constant dense<[7, 8]> : tensor<2xi32>
  %b = dsp.constant dense<[2, 0]> : tensor<2xi32>
  %0 = dsp.mod %a, %b : tensor<2xi32>, tensor<2xi32> -> tensor<2xi32>
  return %0 : tensor<2xi32>
}

// -----

// Pad of constants, in each mode; a pad of nothing is its input.
// CHECK-LABEL: func.func @pad_constant(
// CHECK-SAME:      %[[X:[^:]*]]: tensor<2x3xf32>)
// CHECK-NEXT:    %[[CONSTANT:.*]] = dsp.constant dense<[9, 1, 2, 3, 9, 9]> : tensor<6xi64>
// CHECK-NEXT:    %[[REFLECT:.*]] = dsp.constant dense<[3, 2, 1, 2, 3, 2]> : tensor<6xi64>
// CHECK-NEXT:    %[[EDGE:.*]] = dsp.constant dense<{{\[\[}}1, 1, 2, 3, 3], [1, 1, 2, 3, 3]]> : tensor<2x5xi64>
// CHECK-NEXT:    %[[ZEROS:.*]] = dsp.constant dense<[0.000000e+00, 5.000000e-01, 0.000000e+00]> : tensor<3xf32>
// CHECK-NEXT:    return %[[CONSTANT]], %[[REFLECT]], %[[EDGE]], %[[ZEROS]], %[[X]]
func.func @pad_constant(%x: tensor<2x3xf32>) -> (tensor<6xi64>, tensor<6xi64>, tensor<2x5xi64>, tensor<3xf32>, tensor<2x3xf32>) {
  %a = dsp.constant dense<[1, 2, 3]> : tensor<3xi64>
  %v = dsp.constant dense<9> : tensor<i64>
  %0 = dsp.pad %a, %v {pads = array<i64: 1, 2>} : (tensor<3xi64>, tensor<i64>) -> tensor<6xi64>
  %1 = dsp.pad %a {mode = "reflect", pads = array<i64: 2, 1>} : (tensor<3xi64>) -> tensor<6xi64>
  %b = dsp.constant dense<[[1, 2, 3]]> : tensor<1x3xi64>
  %2 = dsp.pad %b {mode = "edge", pads = array<i64: 0, 1, 1, 1>} : (tensor<1x3xi64>) -> tensor<2x5xi64>
  %c = dsp.constant dense<0.5> : tensor<1xf32>
  %3 = dsp.pad %c {pads = array<i64: 1, 1>} : (tensor<1xf32>) -> tensor<3xf32>
  %4 = dsp.pad %x {mode = "edge", pads = array<i64: 0, 0, 0, 0>} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  return %0, %1, %2, %3, %4 : tensor<6xi64>, tensor<6xi64>, tensor<2x5xi64>, tensor<3xf32>, tensor<2x3xf32>
}

// -----

// ScatterElements of constants: the last duplicate wins, or they add up.
// CHECK-LABEL: func.func @scatter_elements_constant()
// CHECK-NEXT:    %[[NONE:.*]] = dsp.constant dense<{{\[\[}}0, 20, 0], [10, 0, 30]]> : tensor<2x3xi64>
// CHECK-NEXT:    %[[ADD:.*]] = dsp.constant dense<{{\[\[}}1, 21, 1], [11, 1, 31]]> : tensor<2x3xi64>
// CHECK-NEXT:    %[[LAST:.*]] = dsp.constant dense<[0, 2, 0]> : tensor<3xi64>
// CHECK-NEXT:    %[[SUM:.*]] = dsp.constant dense<[0, 3, 0]> : tensor<3xi64>
// CHECK-NEXT:    return %[[NONE]], %[[ADD]], %[[LAST]], %[[SUM]]
func.func @scatter_elements_constant() -> (tensor<2x3xi64>, tensor<2x3xi64>, tensor<3xi64>, tensor<3xi64>) {
  %zeros = dsp.constant dense<0> : tensor<2x3xi64>
  %ones = dsp.constant dense<1> : tensor<2x3xi64>
  %j = dsp.constant dense<[[1, 0, 1]]> : tensor<1x3xi64>
  %v = dsp.constant dense<[[10, 20, 30]]> : tensor<1x3xi64>
  %0 = dsp.scatter_elements %zeros, %j, %v {axis = 0 : i64} : (tensor<2x3xi64>, tensor<1x3xi64>, tensor<1x3xi64>) -> tensor<2x3xi64>
  %1 = dsp.scatter_elements %ones, %j, %v {axis = 0 : i64, reduction = "add"} : (tensor<2x3xi64>, tensor<1x3xi64>, tensor<1x3xi64>) -> tensor<2x3xi64>
  %z = dsp.constant dense<0> : tensor<3xi64>
  %k = dsp.constant dense<[1, 1]> : tensor<2xi64>
  %w = dsp.constant dense<[1, 2]> : tensor<2xi64>
  %2 = dsp.scatter_elements %z, %k, %w {axis = 0 : i64} : (tensor<3xi64>, tensor<2xi64>, tensor<2xi64>) -> tensor<3xi64>
  %3 = dsp.scatter_elements %z, %k, %w {axis = 0 : i64, reduction = "add"} : (tensor<3xi64>, tensor<2xi64>, tensor<2xi64>) -> tensor<3xi64>
  return %0, %1, %2, %3 : tensor<2x3xi64>, tensor<2x3xi64>, tensor<3xi64>, tensor<3xi64>
}

// -----

// slice(slice(x)) is one slice of x: starts, strides and limits compose,
// reversed walks too.
// CHECK-LABEL: func.func @slice_of_slice(
// CHECK-SAME:      %[[X:[^:]*]]: tensor<10x8xf32>)
// CHECK-NEXT:    %[[SLICE:.*]] = dsp.slice %[[X]] {limits = array<i64: 8, -1>, starts = array<i64: 3, 6>, strides = array<i64: 4, -3>} : tensor<10x8xf32> -> tensor<2x3xf32>
// CHECK-NEXT:    return %[[SLICE]]
func.func @slice_of_slice(%x: tensor<10x8xf32>) -> tensor<2x3xf32> {
  %0 = dsp.slice %x {limits = array<i64: 10, -1>, starts = array<i64: 1, 7>, strides = array<i64: 2, -1>} : tensor<10x8xf32> -> tensor<5x8xf32>
  %1 = dsp.slice %0 {limits = array<i64: 5, 8>, starts = array<i64: 1, 1>, strides = array<i64: 2, 3>} : tensor<5x8xf32> -> tensor<2x3xf32>
  return %1 : tensor<2x3xf32>
}

// -----

// A slice of one element per dim, and an empty slice, of a slice.
// CHECK-LABEL: func.func @slice_of_slice_edges(
// CHECK-SAME:      %[[X:[^:]*]]: tensor<10xf32>)
// CHECK-NEXT:    %[[ONE:.*]] = dsp.slice %[[X]] {limits = array<i64: 8>, starts = array<i64: 7>, strides = array<i64: 1>} : tensor<10xf32> -> tensor<1xf32>
// CHECK-NEXT:    %[[NONE:.*]] = dsp.slice %[[X]] {limits = array<i64: 0>, starts = array<i64: 0>, strides = array<i64: 1>} : tensor<10xf32> -> tensor<0xf32>
// CHECK-NEXT:    return %[[ONE]], %[[NONE]]
func.func @slice_of_slice_edges(%x: tensor<10xf32>) -> (tensor<1xf32>, tensor<0xf32>) {
  %0 = dsp.slice %x {limits = array<i64: -1>, starts = array<i64: 9>, strides = array<i64: -2>} : tensor<10xf32> -> tensor<5xf32>
  %1 = dsp.slice %0 {limits = array<i64: 2>, starts = array<i64: 1>, strides = array<i64: 1>} : tensor<5xf32> -> tensor<1xf32>
  %2 = dsp.slice %0 {limits = array<i64: 5>, starts = array<i64: 5>, strides = array<i64: 1>} : tensor<5xf32> -> tensor<0xf32>
  return %1, %2 : tensor<1xf32>, tensor<0xf32>
}

// -----

// reshape -> transpose -> reshape -> transpose that puts every element
// back is removed: [A, B, C] -> [A*B, C] -> [C, A*B] -> [C, A, B] ->
// [A, B, C].
// CHECK-LABEL: func.func @view_round_trip(
// CHECK-SAME:      %[[X:[^:]*]]: tensor<2x3x4xf32>)
// CHECK-NEXT:    return %[[X]] : tensor<2x3x4xf32>
func.func @view_round_trip(%x: tensor<2x3x4xf32>) -> tensor<2x3x4xf32> {
  %0 = dsp.reshape %x : tensor<2x3x4xf32> -> tensor<6x4xf32>
  %1 = dsp.transpose %0 perm [1, 0] : tensor<6x4xf32> -> tensor<4x6xf32>
  %2 = dsp.reshape %1 : tensor<4x6xf32> -> tensor<4x2x3xf32>
  %3 = dsp.transpose %2 perm [1, 2, 0] : tensor<4x2x3xf32> -> tensor<2x3x4xf32>
  return %3 : tensor<2x3x4xf32>
}

// -----

// Heads split off a dim and moved, then merged back by another route, in a
// chain that ends in a reshape.
// CHECK-LABEL: func.func @view_round_trip_heads(
// CHECK-SAME:      %[[X:[^:]*]]: tensor<2x12xf32>)
// CHECK-NEXT:    return %[[X]] : tensor<2x12xf32>
func.func @view_round_trip_heads(%x: tensor<2x12xf32>) -> tensor<2x12xf32> {
  %0 = dsp.reshape %x : tensor<2x12xf32> -> tensor<2x3x4xf32>
  %1 = dsp.transpose %0 perm [2, 0, 1] : tensor<2x3x4xf32> -> tensor<4x2x3xf32>
  %2 = dsp.reshape %1 : tensor<4x2x3xf32> -> tensor<4x6xf32>
  %3 = dsp.transpose %2 perm [1, 0] : tensor<4x6xf32> -> tensor<6x4xf32>
  %4 = dsp.reshape %3 : tensor<6x4xf32> -> tensor<2x12xf32>
  return %4 : tensor<2x12xf32>
}

// -----

// Two transposes that cancel through reshapes, in a chain that ends in
// another shape (a key transposed to [B*H, D, L] for a product, then split
// and transposed back): a reshape of the start.
// CHECK-LABEL: func.func @view_round_trip_reshaped(
// CHECK-SAME:      %[[X:[^:]*]]: tensor<1x8x2x16x4xf32>)
// CHECK-NEXT:    %[[R:.*]] = dsp.reshape %[[X]] : tensor<1x8x2x16x4xf32> -> tensor<8x2x16x4xf32>
// CHECK-NEXT:    return %[[R]] : tensor<8x2x16x4xf32>
func.func @view_round_trip_reshaped(%x: tensor<1x8x2x16x4xf32>) -> tensor<8x2x16x4xf32> {
  %0 = dsp.reshape %x : tensor<1x8x2x16x4xf32> -> tensor<16x16x4xf32>
  %1 = dsp.transpose %0 perm [0, 2, 1] : tensor<16x16x4xf32> -> tensor<16x4x16xf32>
  %2 = dsp.reshape %1 : tensor<16x4x16xf32> -> tensor<8x2x4x16xf32>
  %3 = dsp.transpose %2 perm [0, 1, 3, 2] : tensor<8x2x4x16xf32> -> tensor<8x2x16x4xf32>
  return %3 : tensor<8x2x16x4xf32>
}

// -----

// A lone transpose of a unit dim and a reshape keep their form, which the
// attention folds read through.
// CHECK-LABEL: func.func @unit_transpose_reshaped(
// CHECK:         dsp.transpose
// CHECK:         dsp.reshape
func.func @unit_transpose_reshaped(%x: tensor<1x4x1x16xf32>) -> tensor<1x64xf32> {
  %0 = dsp.transpose %x perm [0, 2, 1, 3] : tensor<1x4x1x16xf32> -> tensor<1x1x4x16xf32>
  %1 = dsp.reshape %0 : tensor<1x1x4x16xf32> -> tensor<1x64xf32>
  return %1 : tensor<1x64xf32>
}

// -----

// ... but a chain that ends in its start's type with the elements moved
// stays.
// CHECK-LABEL: func.func @view_round_trip_moved(
// CHECK:         dsp.transpose
// CHECK:         return
func.func @view_round_trip_moved(%x: tensor<4x4xf32>) -> tensor<4x4xf32> {
  %0 = dsp.reshape %x : tensor<4x4xf32> -> tensor<2x2x4xf32>
  %1 = dsp.transpose %0 perm [1, 0, 2] : tensor<2x2x4xf32> -> tensor<2x2x4xf32>
  %2 = dsp.reshape %1 : tensor<2x2x4xf32> -> tensor<4x4xf32>
  return %2 : tensor<4x4xf32>
}

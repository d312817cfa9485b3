// Four ranks as a 2x2 mesh: B over axis 0 and T (5, padded to 6) over
// axis 1 at the input; a softmax over T switches axis 1 to C, an exp
// switches axis 0 from B to T, and two sums leave partial values on one
// axis each. mesh_reference.py computes the outputs with numpy.
module attributes {dsp.group = #dsp.group<ranks = 4, mesh = [2, 2]>} {
  func.func @main(%x: tensor<4x5x6xf32> {dsp.name = "x", dsp.sharding = #dsp.shard<axes = [<dim = 0>, <dim = 1, pad = 1>]>})
      -> (tensor<4x5x1xf32> {dsp.name = "row_sums"}, tensor<4x5x6xf32> {dsp.name = "exp"}, tensor<4x1x6xf32> {dsp.name = "frame_sums"}) {
    %0 = dsp.softmax %x {axis = 1 : i64, dsp.operand_shardings = [#dsp.shard<axes = [<dim = 0>, <dim = 2>]>], dsp.sharding = [#dsp.shard<axes = [<dim = 0>, <dim = 2>]>]} : tensor<4x5x6xf32>
    %1 = dsp.reduce_sum %0 {axes = array<i64: 2>, keepdims = true, dsp.operand_shardings = [#dsp.shard<axes = [<dim = 0>, <dim = 2>]>], dsp.sharding = [#dsp.shard<axes = [<dim = 0>, <partial>]>]} : tensor<4x5x6xf32> -> tensor<4x5x1xf32>
    %2 = dsp.exp %0 {dsp.operand_shardings = [#dsp.shard<axes = [<dim = 1, pad = 1>, <dim = 2>]>], dsp.sharding = [#dsp.shard<axes = [<dim = 1, pad = 1>, <dim = 2>]>]} : tensor<4x5x6xf32>
    %3 = dsp.reduce_sum %2 {axes = array<i64: 1>, keepdims = true, dsp.operand_shardings = [#dsp.shard<axes = [<dim = 1, pad = 1>, <dim = 2>]>], dsp.sharding = [#dsp.shard<axes = [<partial>, <dim = 2>]>]} : tensor<4x5x6xf32> -> tensor<4x1x6xf32>
    return %1, %2, %3 : tensor<4x5x1xf32>, tensor<4x5x6xf32>, tensor<4x1x6xf32>
  }
}

//===- Passes.td - dsp passes ------------------------------*- tablegen -*-===//

#ifndef DSP_TRANSFORMS_PASSES_TD
#define DSP_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def TestShardingRules : Pass<"dsp-test-sharding-rules"> {
  let summary = "Reports the sharding rule of every dsp op as a remark";
  let description = [{
    Emits `remark: sharding rule: (...) -> (...) {...}` on each op that
    implements the ShardingRuleOpInterface, after checking the rule against
    the op's types. Used to test the rules.
  }];
}

def AssignGroup : Pass<"dsp-assign-group", "::mlir::ModuleOp"> {
  let summary = "Attaches the device group (#dsp.group) to the module";
  let description = [{
    Sets `dsp.group = #dsp.group<ranks = N>` on the module. A module that
    already has a group of another size is an error: its shardings were
    made for that size.
  }];
  let options = [
    Option<"ranks", "ranks", "int64_t", /*default=*/"1",
           "Number of ranks in the device group">
  ];
}

def FuseAttention : Pass<"dsp-fuse-attention"> {
  let summary = "Fuses exported attention subgraphs into dsp.attention";
  let description = [{
    Matches `softmax(q . k^T * scale + mask) . v` in the forms exporters
    produce: the scale applied by `mul` or `div` to the scores or to q and k
    separately (pre-scaled), an optional mask added by `add` or selected by
    `where`, an optional NaN guard (`where(isnan(p), 0, p)`) after the
    softmax, and k^T given by a transpose of k. Operands of rank 3 are
    viewed as a single head. Intermediate values with other users block
    the fusion, so nothing is computed twice.
  }];
  let dependentDialects = ["::mlir::dsp::DSPDialect"];
}

def FuseActivations : Pass<"dsp-fuse-activations"> {
  let summary = "Fuses GELU and SiLU decompositions into dsp.gelu and dsp.silu";
  let description = [{
    Finds scalar elementwise subgraphs (mul, add, sub, div, pow, erf, tanh,
    sigmoid, exp, neg with splat constants) that read one value x and whose
    intermediate results are used only inside the subgraph, and replaces
    them by `dsp.gelu` (erf or tanh form) or `dsp.silu` when the subgraph
    computes that function. The function is recognized by evaluating the
    subgraph at sample points, so every operand order and association an
    exporter may choose is covered.
  }];
  let dependentDialects = ["::mlir::dsp::DSPDialect"];
}

def SinkConcat : Pass<"dsp-sink-concat"> {
  let summary = "Runs ops that read a concat once per piece";
  let description = [{
    A token stream such as TimeSformer's `[B, 1 + S*T, C]`, a CLS token
    concatenated in front of the patch tokens, cannot be sharded on a
    factor of the patches alone. This pass splits such streams: an op with
    an operand made by `dsp.concat` along axis k is rewritten into one op
    per concat input when its sharding rule maps that operand's dim k onto
    a single parallel factor f that forms a whole dim of every operand and
    result it appears in. Each operand with f is sliced to the piece's
    range along its dim of f, operands without f (weights, a bias `[C]`, a
    broadcast `[1, 1, C]`) are passed unchanged, and the results are
    concatenated along their dim of f:

    ```mlir
    %x = dsp.concat %cls, %patches {axis = 1 : i64}
        : (tensor<1x1x64xf32>, tensor<1x128x64xf32>) -> tensor<1x129x64xf32>
    %y = dsp.gelu %x : tensor<1x129x64xf32>
    ```

    becomes

    ```mlir
    %0 = dsp.gelu %cls : tensor<1x1x64xf32>
    %1 = dsp.gelu %patches : tensor<1x128x64xf32>
    %y = dsp.concat %0, %1 {axis = 1 : i64}
        : (tensor<1x1x64xf32>, tensor<1x128x64xf32>) -> tensor<1x129x64xf32>
    ```

    Slices of a concat fold to its pieces and slices of small constants
    (a position embedding `[1, 1 + S*T, C]`) to constants, so several
    operands that are concats with the same split points are split
    together. The rewrite repeats until no op can be split, which moves
    each concat down to the first op that mixes the tokens. Elementwise
    ops, `gelu`, `matmul` (batch and row dims), `layer_norm` (dims before
    `axis`), `softmax` (dims other than `axis`), `attention` (query
    sequence), a `reshape` whose rule keeps the dim whole on both sides and
    a `slice` along a dim it keeps whole are split. An op is left whole
    where f is mixing or a reduction (attention keys along the concat
    axis), where f is part of a compound dim (a patch-embedding `conv`), or
    where another operand is a concat along f with different split points.

    Concats of consecutive slices of one value merge back into one slice,
    and a gather along the concat axis whose constant indices fall in one
    input reads that input.
  }];
  let dependentDialects = ["::mlir::dsp::DSPDialect"];
}

#endif // DSP_TRANSFORMS_PASSES_TD

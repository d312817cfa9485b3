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

#endif // DSP_TRANSFORMS_PASSES_TD

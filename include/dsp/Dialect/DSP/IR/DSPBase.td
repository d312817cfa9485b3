//===- DSPBase.td - The dsp dialect ------------------------*- tablegen -*-===//

#ifndef DSP_DIALECT_DSPBASE_TD
#define DSP_DIALECT_DSPBASE_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"

def DSP_Dialect : Dialect {
  let name = "dsp";
  let cppNamespace = "::mlir::dsp";
  let summary = "Sequence tensors with shard annotations for dynamic sequence parallelism";
  let description = [{
    The `dsp` dialect models a multi-dimensional transformer as ONNX-grained
    compute ops on statically shaped tensors, plus the collectives that move
    data between the ranks of a device group.

    Types stay global: a value's sharding lives in the `dsp.sharding`
    attribute of the op that defines it (one `#dsp.shard` per result), as
    Shardy's `sdy.sharding` does. Every op answers the
    `ShardingRuleOpInterface`, which maps each tensor dim onto factors of kind
    parallel, reduction or mixing.
  }];
  let useDefaultAttributePrinterParser = 1;
  let hasConstantMaterializer = 1;
  let hasOperationAttrVerify = 1;
  let hasRegionArgAttrVerify = 1;
  let hasRegionResultAttrVerify = 1;
  let extraClassDeclaration = [{
    /// Registers the attributes; defined next to their storage classes.
    void registerAttributes();

    /// Name of the discardable attribute that holds one `#dsp.shard` per
    /// result of an op.
    static constexpr ::llvm::StringLiteral kShardingAttrName = "dsp.sharding";
    /// Name of the module attribute that holds the `#dsp.group`.
    static constexpr ::llvm::StringLiteral kGroupAttrName = "dsp.group";
    /// Name of the module attribute that holds the `#dsp.target`.
    static constexpr ::llvm::StringLiteral kTargetAttrName = "dsp.target";
    /// Name of the module attribute that holds the pieces the lowering to a
    /// program splits each all_to_all into (--dsp-overlap-collectives); an
    /// integer of 2 or more, absent for none.
    static constexpr ::llvm::StringLiteral kOverlapChunksAttrName =
        "dsp.overlap_chunks";
    /// Name of the argument and result attribute that keeps the model's
    /// input and output names.
    static constexpr ::llvm::StringLiteral kNameAttrName = "dsp.name";
    /// Name of the result attribute that pins a function result's sharding
    /// to that of the argument whose `dsp.name` it holds (pipeline option
    /// keep-sharded): propagation gives both one sharding, which the result
    /// keeps as its `dsp.sharding` instead of being gathered, so that a
    /// caller can make the result the argument of the next run on every
    /// rank without moving it.
    static constexpr ::llvm::StringLiteral kKeptShardedAttrName =
        "dsp.kept_sharded";
    /// Name of the op attribute that holds, after sharding propagation, the
    /// sharding each operand must have (one `#dsp.shard` per operand); reshard
    /// insertion makes the producers match and removes it.
    static constexpr ::llvm::StringLiteral kOperandShardingsAttrName =
        "dsp.operand_shardings";
    /// Name of the op (single result) and argument attribute that holds,
    /// after sharding propagation, the one `#dsp.shard` a value read by
    /// several ops is converted to first; each reader that needs yet another
    /// sharding converts from there. Reshard insertion removes it.
    static constexpr ::llvm::StringLiteral kReadShardingAttrName =
        "dsp.read_sharding";
    /// Name of the module attribute that records the cost model a plan was
    /// made with (a dictionary of latency_s, bus_bandwidth, flops_per_second).
    static constexpr ::llvm::StringLiteral kCostModelAttrName =
        "dsp.cost_model";
    /// Name of the function attribute that sharding propagation leaves
    /// where the plan is not proven optimal (its solver's tables would
    /// exceed the limit): a dictionary of the modeled cost of the plan found
    /// and a lower bound on the optimum, both in seconds (modeled_s,
    /// lower_bound_s).
    static constexpr ::llvm::StringLiteral kApproximatePlanAttrName =
        "dsp.approximate_plan";
  }];
}

class DSP_Op<string mnemonic, list<Trait> traits = []>
    : Op<DSP_Dialect, mnemonic, traits>;

#endif // DSP_DIALECT_DSPBASE_TD

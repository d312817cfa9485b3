//===- DSPInterfaces.td - dsp op interfaces ----------------*- tablegen -*-===//

#ifndef DSP_DIALECT_DSPINTERFACES_TD
#define DSP_DIALECT_DSPINTERFACES_TD

include "mlir/IR/OpBase.td"

def DSP_ShardingRuleOpInterface : OpInterface<"ShardingRuleOpInterface"> {
  let cppNamespace = "::mlir::dsp";
  let description = [{
    Maps every dim of every operand and result onto factors. A factor is a
    size plus a kind:

    - parallel: the op is independent along it; sharding operands and results
      alike on it needs no communication;
    - reduction: the op sums along it; sharding it leaves a partial result;
    - mixing: elements interact along it; it cannot be sharded without
      communication.

    A dim maps onto a list of factors, major to minor, whose product is its
    size (compound factors model reshapes); a dim of size 1 that is
    broadcast maps onto no factor.

    The rule also declares which factors index the model rather than tokens
    (weight dims, attention heads, a matmul's contraction), the factors the
    classic strategies shard by name (heads, a projection's rows or
    columns), and whether the op only moves data. Sharding propagation
    reads only this rule.
  }];
  let methods = [
    InterfaceMethod<
      "Returns the sharding rule of this op.",
      "::mlir::dsp::ShardingRule", "getShardingRule", (ins), [{}], [{
        return ::mlir::dsp::ShardingRule::getReplicatedOnly($_op);
      }]>
  ];
}

#endif // DSP_DIALECT_DSPINTERFACES_TD

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

#endif // DSP_TRANSFORMS_PASSES_TD

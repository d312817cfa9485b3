//===- TestShardingRules.cpp - Print the sharding rule of each op ---------===//

#include "dsp/Dialect/DSP/IR/DSPOps.h"
#include "dsp/Transforms/Passes.h"

namespace mlir::dsp {
#define GEN_PASS_DEF_TESTSHARDINGRULES
#include "dsp/Transforms/Passes.h.inc"

namespace {
struct TestShardingRules : impl::TestShardingRulesBase<TestShardingRules> {
  void runOnOperation() override {
    getOperation()->walk([&](ShardingRuleOpInterface op) {
      ShardingRule rule = op.getShardingRule();
      if (failed(rule.verify(op)))
        return signalPassFailure();
      std::string text;
      llvm::raw_string_ostream os(text);
      rule.print(os);
      op->emitRemark() << "sharding rule: " << text;
    });
  }
};
} // namespace
} // namespace mlir::dsp

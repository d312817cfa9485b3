//===- OpRegistryTest.cpp - The op registry and the backends' kernels -----===//
//
// Every op of the registry is found by its name, and every built-in backend
// has a kernel for it: an op added to Ops.def without a kernel fails here
// rather than on the first program that uses it.
//
//===----------------------------------------------------------------------===//

#include "TestUtil.h"

#include "dsp/Format/OpRegistry.h"
#include "dsp/Runtime/Backend.h"
#include "dsp/Runtime/Communicator.h"

#include <set>

using namespace dsp::format;
using dsp::runtime::Backend;
using dsp::runtime::Communicator;

namespace {

/// Backend `name` for a group of one rank; `group` keeps its communicator.
std::unique_ptr<Backend>
createBackend(const char *name,
              std::vector<std::shared_ptr<Communicator>> &group) {
  std::unique_ptr<Backend> backend;
  EXPECT_TRUE(dsp::runtime::createLocalCommunicators(1, {}, group).ok());
  dsp::runtime::BackendOptions options;
  options.communicator = group[0].get();
  EXPECT_TRUE(dsp::runtime::createBackend(name, options, backend).ok());
  return backend;
}

TEST(OpRegistryTest, EveryOpIsFoundByItsName) {
  ASSERT_EQ(opSpecs().size(), kNumOps);
  std::set<std::string> names;
  for (size_t i = 0; i < kNumOps; ++i) {
    const OpSpec &spec = opSpecs()[i];
    EXPECT_EQ(static_cast<size_t>(spec.op), i) << spec.name;
    EXPECT_TRUE(names.insert(spec.name).second) << spec.name << " twice";
    EXPECT_EQ(findOp(spec.name), spec.op) << spec.name;
    EXPECT_LE(spec.minInputs, spec.maxInputs) << spec.name;
  }
  EXPECT_EQ(findOp("frobnicate"), std::nullopt);
  EXPECT_EQ(findOp(""), std::nullopt);
}

class BackendKernelTest : public testing::TestWithParam<const char *> {};

TEST_P(BackendKernelTest, EveryRegistryOpHasAKernel) {
  bool gpu = std::string(GetParam()) == "cuda";
  if (gpu && !dsp::test::hasCudaDevice())
    GTEST_SKIP() << "no CUDA device";
  std::vector<std::shared_ptr<Communicator>> group;
  std::unique_ptr<Backend> backend = createBackend(GetParam(), group);
  ASSERT_TRUE(backend);
  for (const OpSpec &spec : opSpecs()) {
    // `kernel` launches generated GPU code: GPU backends only; `wait` is
    // the session's.
    bool expected = spec.op == Op::Wait     ? false
                    : spec.op == Op::Kernel ? gpu
                                            : true;
    EXPECT_EQ(backend->hasKernel(spec.op), expected)
        << "the " << GetParam() << " backend and op '" << spec.name << "'";
  }
}

INSTANTIATE_TEST_SUITE_P(BuiltIn, BackendKernelTest,
                         testing::Values("cpu"
#ifdef DSP_HAVE_CUDA
                                         ,
                                         "cuda"
#endif
                                         ));

/// What the cpu backend says to a one-instruction program of `op`.
std::string cpuKernelError(const char *op) {
  std::vector<std::shared_ptr<Communicator>> group;
  std::unique_ptr<Backend> backend = createBackend("cpu", group);
  if (!backend)
    return "no cpu backend";
  dsp::test::ProgramBuilder builder;
  uint32_t x = builder.input("x", dsp::program::F32, {4});
  builder.output(builder.op(op, {x}, dsp::program::F32, {4}));
  std::unique_ptr<dsp::runtime::Kernel> kernel;
  dsp::runtime::Status status = backend->createKernel(
      builder.program, builder.program.instructions(0), kernel);
  EXPECT_EQ(kernel, nullptr);
  return status.message();
}

TEST(CpuBackendTest, AnOpWithoutAKernelIsAnErrorNamingTheBackend) {
  EXPECT_EQ(cpuKernelError("frobnicate"),
            "the cpu backend has no kernel for op 'frobnicate'");
}

TEST(CpuBackendTest, AKernelInstructionAsksForTheCudaBackend) {
  EXPECT_EQ(cpuKernelError("kernel"), "the program was compiled for target "
                                      "cuda; run it with --backend=cuda");
}

} // namespace

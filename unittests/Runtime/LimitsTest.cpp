//===- LimitsTest.cpp - Sizes and counts beyond the runtime's limits ------===//
//
// Numbers from a program, a flag or the API that would wrap an allocation,
// start too many threads or ranks, or overflow a deadline are errors, and
// running out of memory or threads is an error too, never an abort.
//
//===----------------------------------------------------------------------===//

#include "TestUtil.h"

#include "dsp/Runtime/Backend.h"
#include "dsp/Runtime/Communicator.h"

#include <fstream>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace dsp::test;
using dsp::program::F32;
using dsp::runtime::Session;
using dsp::runtime::Status;

namespace {

std::string writeReluModel(const std::string &name) {
  ProgramBuilder builder;
  uint32_t x = builder.input("x", F32, {4});
  builder.output(builder.op("relu", {x}, F32, {4}));
  std::string path = temporaryPath(name);
  EXPECT_EQ(builder.write(path), "");
  return path;
}

TEST(LimitsTest, AllocationSizesNeverWrap) {
  std::vector<std::shared_ptr<dsp::runtime::Communicator>> group;
  ASSERT_TRUE(dsp::runtime::createLocalCommunicators(1, {}, group).ok());
  dsp::runtime::BackendOptions options;
  options.communicator = group[0].get();
  std::unique_ptr<dsp::runtime::Backend> backend;
  ASSERT_TRUE(dsp::runtime::createBackend("cpu", options, backend).ok());
  // Rounded up to 64 bytes, these sizes wrapped to 0 and came back as a
  // tiny buffer.
  for (size_t bytes : {SIZE_MAX, SIZE_MAX - 62, size_t(1) << 57}) {
    void *buffer = nullptr;
    Status status = backend->allocate(bytes, &buffer);
    EXPECT_FALSE(status.ok()) << bytes;
    EXPECT_EQ(status.message(), "cannot allocate " + std::to_string(bytes) +
                                    " bytes of host memory");
    EXPECT_EQ(buffer, nullptr);
  }
  void *buffer = nullptr;
  ASSERT_TRUE(backend->allocate(100, &buffer).ok());
  backend->deallocate(buffer);
}

TEST(LimitsTest, SessionThreadsAreBounded) {
  std::string path = writeReluModel("limits_threads.dspx");
  dsp::runtime::SessionOptions options;
  options.threads = 100000;
  std::string error;
  EXPECT_FALSE(Session::open(path, options, error));
  EXPECT_EQ(error, path + ": threads is 100000, more than the limit of 1024");
  options.threads = dsp::runtime::kMaxThreads;
  EXPECT_TRUE(Session::open(path, options, error)) << error;
}

// AddressSanitizer and ThreadSanitizer reserve terabytes of address space
// for their shadow memory: under them an address-space limit starves the
// sanitizer itself, not the thread pool.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define DSP_SANITIZER_OWNS_ADDRESS_SPACE 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define DSP_SANITIZER_OWNS_ADDRESS_SPACE 1
#endif
#endif

TEST(LimitsTest, RefusedThreadsAreAnError) {
#ifdef DSP_SANITIZER_OWNS_ADDRESS_SPACE
  GTEST_SKIP() << "an address-space limit cannot be tested under "
                  "AddressSanitizer or ThreadSanitizer";
#endif
  std::string path = writeReluModel("limits_refused.dspx");
  // In a child whose address space has room for a few thread stacks (8 MiB
  // each), not for 1024.
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::alarm(60); // A hang fails the test too.
    size_t pages = 0;
    std::ifstream("/proc/self/statm") >> pages;
    rlim_t bytes = pages * ::sysconf(_SC_PAGESIZE) + (rlim_t(256) << 20);
    rlimit limit = {bytes, bytes};
    ::setrlimit(RLIMIT_AS, &limit);
    dsp::runtime::SessionOptions options;
    options.threads = 1024;
    std::string error;
    bool created = static_cast<bool>(Session::open(path, options, error));
    bool named = error.find(": cannot start thread ") != std::string::npos;
    ::_exit(created ? 2 : named ? 0 : 3);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status))
      << "the child died of signal " << WTERMSIG(status);
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

} // namespace

namespace {

using dsp::runtime::Communicator;
using dsp::runtime::CommunicatorOptions;
using dsp::runtime::FaultPlan;

std::string localGroupError(int size, const CommunicatorOptions &options) {
  std::vector<std::shared_ptr<Communicator>> group;
  Status status = dsp::runtime::createLocalCommunicators(size, options, group);
  EXPECT_EQ(group.size(), status.ok() ? size_t(size) : 0u);
  return status.message();
}

TEST(LimitsTest, LocalGroupsAreBounded) {
  EXPECT_EQ(localGroupError(1024, {}), "");
  EXPECT_EQ(localGroupError(5000, {}),
            "5000 ranks are more than the 1024 that run as threads of one "
            "process (--comm=local); run them as MPI processes: mpirun -np "
            "5000 dsp-run ... --comm=mpi");
  EXPECT_EQ(localGroupError(0, {}), "a group needs at least 1 rank, got 0");
}

TEST(LimitsTest, TimeoutsAreInRange) {
  CommunicatorOptions options;
  for (double seconds : {0.01, 1.0, 1e6}) {
    options.timeoutSeconds = seconds;
    EXPECT_EQ(localGroupError(2, options), "");
  }
  for (double seconds : {0.0, 1e-9, 1.1e6, 1e10, -1.0, double(NAN)}) {
    options.timeoutSeconds = seconds;
    EXPECT_NE(localGroupError(2, options).find("expected 0.01 to 1e+06 s"),
              std::string::npos)
        << seconds;
  }
}

TEST(LimitsTest, FaultRankIsInTheGroup) {
  CommunicatorOptions options;
  ASSERT_EQ(FaultPlan::parse("rank=99,kind=stall", options.fault), "");
  EXPECT_EQ(localGroupError(4, options),
            "the injected fault (DSP_FAULT) names rank 99, but the 4 ranks "
            "are 0 to 3");
  ASSERT_EQ(FaultPlan::parse("rank=3", options.fault), "");
  EXPECT_EQ(localGroupError(4, options), "");
  for (const char *text : {"rank=-1", "rank=4294967296", "rank=1x",
                           "after=99999999999999999999", "kind=hang"})
    EXPECT_NE(FaultPlan::parse(text, options.fault), "") << text;
}

} // namespace

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
  auto communicator = dsp::runtime::createLocalCommunicators(1, {})[0];
  dsp::runtime::BackendOptions options;
  options.communicator = communicator.get();
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

TEST(LimitsTest, RefusedThreadsAreAnError) {
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

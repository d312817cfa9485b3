//===- DspRunTest.cpp - dsp-run on hostile programs, files and flags ------===//
//
// Every failure is one line, "dsp-run: error: ...", and exit status 1: never
// a crash, a hang or an exit 0 with nothing written. A failed run leaves no
// output file behind, not even an older one.
//
//===----------------------------------------------------------------------===//

#include "TestUtil.h"

#include "dsp/Format/Npy.h"

#include <sys/stat.h>
#include <unistd.h>

using namespace dsp::test;
using dsp::program::F32;

namespace {

/// A file of the current test: ctest runs the tests in parallel.
std::string testPath(const std::string &name) {
  return temporaryPath(
      std::string(
          ::testing::UnitTest::GetInstance()->current_test_info()->name()) +
      "_" + name);
}

/// y = relu(x), x [2,3], and the .npy files around it.
struct ReluRun {
  std::string model = testPath("relu.dspx");
  std::string x = testPath("x.npy");
  std::string y = testPath("y.npy");
  std::string wrong = testPath("wrong.npy");
  std::string out = testPath("out.npy");
  std::string stats = testPath("stats.json");

  ReluRun() {
    ProgramBuilder builder;
    uint32_t input = builder.input("x", F32, {2, 3});
    builder.output(builder.op("relu", {input}, F32, {2, 3}));
    EXPECT_EQ(builder.write(model), "");
    std::vector<float> xs = {-1, 2, -3, 4, -5, 6}, ys = {0, 2, 0, 4, 0, 6};
    EXPECT_EQ(dsp::npy::write(x, F32, {2, 3}, xs.data(), 24), "");
    EXPECT_EQ(dsp::npy::write(y, F32, {2, 3}, ys.data(), 24), "");
    ys[5] = 7;
    EXPECT_EQ(dsp::npy::write(wrong, F32, {2, 3}, ys.data(), 24), "");
    ::unlink(out.c_str());
    ::unlink(stats.c_str());
  }
  /// The model with its input bound.
  std::string command() const {
    return std::string(DSP_RUN_PATH) + " " + model + " --input=@" + x;
  }
};

bool exists(const std::string &path) {
  struct stat info;
  return ::lstat(path.c_str(), &info) == 0;
}

/// Runs `command` with `environment` (under `timeout`, so that a hang fails
/// instead of blocking the tests) and expects exit status 1 with exactly
/// the one line "dsp-run: error: `message`".
void expectError(const std::string &command, const std::string &message,
                 const std::string &environment = "") {
  std::string output;
  int status = runCommand(environment + " timeout 60 " + command, output);
  EXPECT_EQ(status, 1) << command << "\n" << output;
  EXPECT_EQ(output, "dsp-run: error: " + message + "\n") << command;
}

TEST(DspRunTest, HostileProgramNumbers) {
  ReluRun run;
  ProgramBuilder builder;
  uint32_t input = builder.input("x", F32, {2, 3});
  builder.output(builder.op("relu", {input}, F32, {2, 3}));
  builder.program.set_format_version(1);
  std::string path = testPath("hostile.dspx");
  auto withInput = [&] {
    return std::string(DSP_RUN_PATH) + " " + path + " --input=@" + run.x;
  };

  // Rounded up to 64 bytes, this arena wrapped to an empty buffer.
  dsp::program::Program program = builder.program;
  program.set_arena_bytes(UINT64_MAX - 10);
  writeUnvalidated(path, program);
  expectError(withInput(), path + ": arena_bytes is 18446744073709551605, more "
                                  "than the limit of 2^56");

  for (uint32_t ranks : {UINT32_MAX, 1u << 31, 100000u}) {
    program = builder.program;
    program.set_ranks(ranks);
    writeUnvalidated(path, program);
    expectError(withInput(), path + ": program ranks is " +
                                 std::to_string(ranks) +
                                 ", expected 1 to 65536");
  }
  program = builder.program;
  program.set_ranks(5000);
  writeUnvalidated(path, program);
  expectError(withInput(),
              path + ": 5000 ranks are more than the 1024 that run as "
                     "threads of one process (--comm=local); run them as MPI "
                     "processes: mpirun -np 5000 dsp-run ... --comm=mpi");
}

TEST(DspRunTest, FlagsHaveRanges) {
  ReluRun run;
  std::string command = run.command();
  expectError(command + " --threads=100000",
              "--threads expects an integer from 1 to 1024, got '100000'");
  expectError(command + " --threads=0",
              "--threads expects an integer from 1 to 1024, got '0'");
  expectError(command + " '--threads= 5'",
              "--threads expects an integer from 1 to 1024, got ' 5'");
  expectError(command + " --repeat=1e3",
              "--repeat expects an integer from 1 to 1000000, got '1e3'");
  expectError(command + " --repeat=18446744073709551617",
              "--repeat expects an integer from 1 to 1000000, got "
              "'18446744073709551617'");
  for (const char *timeout : {"0", "1e-9", "1e10", "nan", "-1"})
    expectError(command + " --comm-timeout=" + timeout,
                std::string("--comm-timeout expects a number from 0.01 to "
                            "1e+06, got '") +
                    timeout + "'");
  expectError(command + " --atol=inf",
              "--atol expects a number >= 0, got 'inf'");
  expectError(command + " --rtol=-1", "--rtol expects a number >= 0, got '-1'");
  expectError(command + " --stats-json=", "--stats-json expects a file name");
  expectError(command + " --output=@",
              "--output expects @FILE or NAME=@FILE, got '@'");
  std::string output;
  EXPECT_EQ(runCommand(command +
                           " --threads=1024 --comm-timeout=1e6 "
                           "--repeat=2 --expected-output=@" +
                           run.y,
                       output),
            0)
      << output;
}

TEST(DspRunTest, ErrorsStayOnOneLine) {
  // A newline in a path (or a tensor name) is shown escaped.
  expectError(std::string(DSP_RUN_PATH) + " \"$(printf 'no\\nsuch.dspx')\"",
              "no\\x0asuch.dspx: cannot open: No such file or directory");
}

/// An ONNX model given where a program belongs gets told to compile it;
/// other files that are not programs only hear they are not.
TEST(DspRunTest, AnOnnxModelIsToBeCompiledFirst) {
  std::string model = testPath("model.onnx"), other = testPath("other.bin");
  std::vector<char> bytes(128, 0);
  bytes[0] = 0x08; // ONNX's ir_version field
  writeBytes(model, bytes);
  bytes[0] = 'X';
  writeBytes(other, bytes);
  expectError(std::string(DSP_RUN_PATH) + " " + model,
              model +
                  ": not a DSP program file (bad magic); it looks like an "
                  "ONNX model: compile it into a program first, e.g. dsp-opt "
                  "MODEL.onnx --dsp-pipeline=\"ranks=N\" --emit=program -o "
                  "MODEL.dspx");
  expectError(std::string(DSP_RUN_PATH) + " " + other,
              other + ": not a DSP program file (bad magic)");
}

TEST(DspRunTest, FaultOutsideTheRanks) {
  ReluRun run;
  expectError(run.command(),
              run.model + ": the injected fault (DSP_FAULT) names rank 99, "
                          "but the 1 ranks are 0 to 0",
              "DSP_FAULT=rank=99,kind=stall");
  expectError(run.command(),
              "DSP_FAULT: fault 'rank=4294967296': cannot read "
              "'rank=4294967296' (expected rank=K,after=C,kind=error|stall|"
              "exit)",
              "DSP_FAULT=rank=4294967296");
}

TEST(DspRunTest, LaunchedByMpiWithoutCommMpi) {
  ReluRun run;
  for (const char *variable :
       {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "MPI_LOCALNRANKS"})
    expectError(run.command(),
                "an MPI launcher started 4 processes, but with --comm=local "
                "each would run all the ranks; add --comm=mpi to make them "
                "the ranks",
                std::string(variable) + "=4");
  std::string output;
  EXPECT_EQ(runCommand("OMPI_COMM_WORLD_SIZE=1 " + run.command(), output), 0)
      << output;
}

TEST(DspRunTest, CommNcclNeedsCudaAndALauncher) {
  ReluRun run;
  expectError(run.command() + " --comm=tcp",
              "--comm expects local, mpi or nccl, got 'tcp'");
  expectError(run.command() + " --comm=nccl",
              "--comm=nccl moves device memory: it needs --backend=cuda, got "
              "'cpu'");
#ifdef DSP_HAVE_NCCL
  expectError(run.command() + " --backend=cuda --comm=nccl",
              "--comm=nccl takes its ranks from an MPI launcher: run it as "
              "mpirun -np N dsp-run ... --comm=nccl");
#else
  expectError(run.command() + " --backend=cuda --comm=nccl",
              "this runtime was built without NCCL (it needs the cuda "
              "backend, MPI and NCCL when it is built); use --comm=mpi");
#endif
}

TEST(DspRunTest, FifosAreErrorsNotWaits) {
  ReluRun run;
  std::string fifo = testPath("input.fifo");
  ::unlink(fifo.c_str());
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  std::string isFifo = fifo + ": is a FIFO, expected a regular file";
  expectError(std::string(DSP_RUN_PATH) + " " + fifo, isFifo);
  expectError(std::string(DSP_RUN_PATH) + " " + run.model + " --input=@" + fifo,
              isFifo);
  expectError(run.command() + " --expected-output=@" + fifo, isFifo);
  ::unlink(fifo.c_str());
}

TEST(DspRunTest, WriteErrorsAreErrors) {
  ReluRun run;
  expectError(run.command() + " --output=@/dev/full",
              "/dev/full: cannot write: No space left on device");
  expectError(run.command() + " --stats-json=/dev/full",
              "/dev/full: cannot write: No space left on device");
  // In a subshell: its stdout is the full device, its stderr the test's.
  expectError("sh -c '" + run.command() + " --expected-output=@" + run.y +
                  " > /dev/full'",
              "cannot write to the standard output");
  expectError(run.command() + " --output=@" + temporaryPath("no/such/dir.npy"),
              temporaryPath("no/such/dir.npy") + ": cannot create a file in " +
                  temporaryPath("no/such") + ": No such file or directory");

  std::string output;
  EXPECT_EQ(runCommand(run.command() + " --output=@/dev/null "
                                       "--stats-json=/dev/null",
                       output),
            0)
      << output;
  struct stat info;
  ASSERT_EQ(::stat("/dev/null", &info), 0);
  EXPECT_TRUE(S_ISCHR(info.st_mode));
}

TEST(DspRunTest, FailedRunsLeaveNoOutput) {
  ReluRun run;
  std::string both =
      " --output=@" + run.out + " --stats-json=" + run.stats + " ";
  // A mismatch is found before anything is written, and older files at the
  // output paths go: they would pass for this run's.
  std::ofstream(run.out) << "older";
  std::ofstream(run.stats) << "older";
  expectError(run.command() + both + "--expected-output=@" + run.wrong,
              "output 0 ('relu_out0') does not match " + run.wrong +
                  ": worst element [1,2] got 6, expected 7 (abs error 1, "
                  "atol 0.0001, rtol 0)");
  EXPECT_FALSE(exists(run.out));
  EXPECT_FALSE(exists(run.stats));

  // The same for a failure on the command line, before the program is read,
  // and for a failure while writing: what was already written goes too.
  std::ofstream(run.out) << "older";
  expectError(run.command() + both + "--threads=0",
              "--threads expects an integer from 1 to 1024, got '0'");
  EXPECT_FALSE(exists(run.out));
  expectError(run.command() + " --output=@" + run.out +
                  " --stats-json=/dev/full",
              "/dev/full: cannot write: No space left on device");
  EXPECT_FALSE(exists(run.out));

  // An output path that names an input is never removed.
  std::string copy = testPath("x_copy.npy");
  std::string contents = readText(run.x);
  std::ofstream(copy, std::ios::binary) << contents;
  expectError(std::string(DSP_RUN_PATH) + " " + run.model + " --input=@" +
                  copy + " --output=@" + copy + " --expected-output=@" +
                  run.wrong,
              "output 0 ('relu_out0') does not match " + run.wrong +
                  ": worst element [1,2] got 6, expected 7 (abs error 1, "
                  "atol 0.0001, rtol 0)");
  EXPECT_EQ(readText(copy), contents);

  std::string output;
  EXPECT_EQ(
      runCommand(run.command() + both + "--expected-output=@" + run.y, output),
      0)
      << output;
  dsp::npy::Array written;
  EXPECT_EQ(dsp::npy::read(run.out, written), "");
  EXPECT_NE(readText(run.stats).find("\"runs\": 1"), std::string::npos);
}

} // namespace

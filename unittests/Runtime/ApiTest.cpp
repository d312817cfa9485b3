//===- ApiTest.cpp - C++ and C session APIs and the dsp-run tool ----------===//

#include "TestUtil.h"

#include "dsp/Format/Npy.h"
#include "dsp/Runtime/dsp_runtime.h"

#include <fstream>
#include <iterator>
#include <sys/wait.h>

using namespace dsp::test;
using dsp::program::BOOL;
using dsp::program::F32;
using dsp::program::I64;
using dsp::runtime::Session;
using dsp::runtime::Status;

namespace {

/// y = x * scale + offset (offset has a broadcast shape); also returns x
/// unchanged as a second output, an identity path.
std::string writeAffineModel(const std::string &name) {
  ProgramBuilder builder;
  uint32_t x = builder.input("x", F32, {2, 3});
  uint32_t offset = builder.input("offset", F32, {3});
  uint32_t scale = builder.weight("scale", f32({1}, {2.0f}));
  uint32_t y = builder.op("mul", {x, scale}, F32, {2, 3});
  y = builder.op("add", {y, offset}, F32, {2, 3});
  builder.output(y);
  builder.output(x);
  builder.output(scale);
  std::string path = temporaryPath(name);
  EXPECT_EQ(builder.write(path), "");
  return path;
}

TEST(ApiTest, BindRunReadTwice) {
  std::string error;
  dsp::runtime::SessionOptions options;
  options.threads = 2;
  auto session = Session::open(writeAffineModel("affine.dspx"), options, error);
  ASSERT_TRUE(session) << error;
  ASSERT_EQ(session->numInputs(), 2u);
  ASSERT_EQ(session->numOutputs(), 3u);
  EXPECT_EQ(session->inputInfo(1).name, "offset");
  EXPECT_EQ(session->findInput("x"), 0);
  EXPECT_EQ(session->findInput("nope"), -1);

  std::vector<float> out(6), identity(6);
  EXPECT_FALSE(session->readOutput(0, out.data(), 24).ok());
  std::vector<float> x = {1, 2, 3, 4, 5, 6}, offset = {10, 20, 30};
  ASSERT_TRUE(session->bindInput(0, F32, {2, 3}, x.data(), 24).ok());
  Status unbound = session->run();
  EXPECT_FALSE(unbound.ok());
  EXPECT_NE(unbound.message().find("'offset') is not bound"),
            std::string::npos);
  ASSERT_TRUE(session->bindInput("offset", F32, {3}, offset.data(), 12).ok());
  ASSERT_TRUE(session->run().ok());
  ASSERT_TRUE(session->readOutput(0, out.data(), 24).ok());
  EXPECT_EQ(out, (std::vector<float>{12, 24, 36, 18, 30, 42}));
  ASSERT_TRUE(session->readOutput(1, identity.data(), 24).ok());
  EXPECT_EQ(identity, x);
  float scale = 0;
  ASSERT_TRUE(session->readOutput(2, &scale, 4).ok());
  EXPECT_EQ(scale, 2.0f);

  x = {0, 0, 0, 1, 1, 1};
  ASSERT_TRUE(session->bindInput("x", F32, {2, 3}, x.data(), 24).ok());
  ASSERT_TRUE(session->run().ok());
  ASSERT_TRUE(session->readOutput(0, out.data(), 24).ok());
  EXPECT_EQ(out, (std::vector<float>{10, 20, 30, 12, 22, 32}));

  const dsp::runtime::Statistics &stats = session->statistics();
  EXPECT_EQ(stats.runs, 2u);
  EXPECT_EQ(stats.ops.at("mul").count, 2u);
  EXPECT_EQ(stats.ops.at("add").count, 2u);
  EXPECT_GE(stats.peakMemoryBytes, stats.arenaBytes + 36);
}

TEST(ApiTest, RunsRestartFromTheBoundInputs) {
  expectRunsRestartFromTheBoundInputs("cpu");
}

TEST(ApiTest, BindErrorsAreClear) {
  std::string error;
  auto session =
      Session::open(writeAffineModel("affine_errors.dspx"), {}, error);
  ASSERT_TRUE(session) << error;
  std::vector<float> data(6);
  Status status = session->bindInput(0, F32, {3, 2}, data.data(), 24);
  EXPECT_NE(status.message().find("expects shape [2,3], got [3,2]"),
            std::string::npos)
      << status.message();
  status = session->bindInput(0, I64, {2, 3}, data.data(), 48);
  EXPECT_NE(status.message().find("expects dtype f32, got i64"),
            std::string::npos);
  status = session->bindInput("y", F32, {2, 3}, data.data(), 24);
  EXPECT_NE(status.message().find("no input named 'y' (inputs: 'x', 'offset')"),
            std::string::npos)
      << status.message();
  status = session->bindInput(5, F32, {2, 3}, data.data(), 24);
  EXPECT_FALSE(status.ok());

  dsp::runtime::SessionOptions unknown;
  unknown.backend = "tpu";
  EXPECT_FALSE(
      Session::open(writeAffineModel("affine_tpu.dspx"), unknown, error));
  EXPECT_NE(error.find("backend 'tpu' is not built in"), std::string::npos);
}

// f32 data binds to f16 and bf16 inputs, rounded to nearest even; the
// 16-bit bytes bind as they are.
TEST(ApiTest, F32BindsToFloat16Inputs) {
  for (dsp::program::DType dtype : {dsp::program::F16, dsp::program::BF16}) {
    SCOPED_TRACE(dsp::format::dtypeName(dtype));
    ProgramBuilder builder;
    builder.output(
        builder.op("neg", {builder.input("x", dtype, {3})}, dtype, {3}));
    std::string path = temporaryPath("neg16.dspx"), error;
    ASSERT_EQ(builder.write(path), "");
    auto session = Session::open(path, {}, error);
    ASSERT_TRUE(session) << error;
    std::vector<float> x = {1.0f, 1.00048828125f, -3.0e-5f};
    HostTensor rounded = float16(dtype, {3}, x);
    HostTensor negated = float16(dtype, {3}, {-1.0f, -1.00048828125f, 3.0e-5f});
    HostTensor out{dtype, {3}, std::vector<uint8_t>(6)};
    for (bool asF32 : {true, false}) {
      Status status =
          asF32 ? session->bindInput(0, F32, {3}, x.data(), 12)
                : session->bindInput(0, dtype, {3}, rounded.bytes.data(), 6);
      ASSERT_TRUE(status.ok()) << status.message();
      ASSERT_TRUE(session->run().ok());
      ASSERT_TRUE(session->readOutput(0, out.bytes.data(), 6).ok());
      EXPECT_EQ(out.bytes, negated.bytes);
    }
    Status status = session->bindInput(0, F32, {3}, x.data(), 6);
    EXPECT_NE(status.message().find("expects 12 bytes of data, got 6"),
              std::string::npos)
        << status.message();
    status = session->bindInput(0, I64, {3}, x.data(), 24);
    EXPECT_NE(status.message().find(std::string("expects dtype ") +
                                    dsp::format::dtypeName(dtype) +
                                    ", got i64"),
              std::string::npos)
        << status.message();
  }
}

TEST(ApiTest, SessionsShareOneProgram) {
  std::string error;
  auto file = dsp::format::ProgramFile::open(
      writeAffineModel("affine_shared.dspx"), error);
  ASSERT_TRUE(file) << error;
  auto first = Session::create(file, {}, error);
  auto second = Session::create(file, {}, error);
  ASSERT_TRUE(first && second);
  std::vector<float> x(6, 1), offset = {1, 2, 3}, out(6);
  for (Session *session : {first.get(), second.get()}) {
    ASSERT_TRUE(session->bindInput(0, F32, {2, 3}, x.data(), 24).ok());
    ASSERT_TRUE(session->bindInput(1, F32, {3}, offset.data(), 12).ok());
    ASSERT_TRUE(session->run().ok());
    ASSERT_TRUE(session->readOutput(0, out.data(), 24).ok());
    EXPECT_EQ(out, (std::vector<float>{3, 4, 5, 3, 4, 5}));
  }
}

TEST(ApiTest, CApi) {
  std::string path = writeAffineModel("affine_c.dspx");
  dsp_session *session = nullptr;
  dsp_session_options options = {"cpu", 2};
  ASSERT_EQ(dsp_session_open(path.c_str(), &options, &session), DSP_OK)
      << dsp_last_error();
  ASSERT_EQ(dsp_session_num_inputs(session), 2u);
  dsp_tensor_info info;
  ASSERT_EQ(dsp_session_input_info(session, 0, &info), DSP_OK);
  EXPECT_STREQ(info.name, "x");
  EXPECT_EQ(info.rank, 2u);
  EXPECT_EQ(info.shape[1], 3);
  size_t index = 0;
  ASSERT_EQ(dsp_session_find_input(session, "offset", &index), DSP_OK);
  EXPECT_EQ(index, 1u);
  EXPECT_EQ(dsp_session_find_input(session, "zzz", &index), DSP_ERROR);

  float x[6] = {1, 1, 1, 1, 1, 1}, offset[3] = {0, 1, 2}, out[6];
  int64_t xShape[2] = {2, 3}, offsetShape[1] = {3}, wrongShape[1] = {4};
  EXPECT_EQ(dsp_session_bind_input(session, 1, DSP_DTYPE_F32, wrongShape, 1,
                                   offset, 16),
            DSP_ERROR);
  EXPECT_NE(std::string(dsp_last_error()).find("expects shape [3]"),
            std::string::npos);
  ASSERT_EQ(dsp_session_bind_input(session, 0, DSP_DTYPE_F32, xShape, 2, x,
                                   sizeof(x)),
            DSP_OK);
  ASSERT_EQ(dsp_session_bind_input_by_name(session, "offset", DSP_DTYPE_F32,
                                           offsetShape, 1, offset,
                                           sizeof(offset)),
            DSP_OK);
  for (int run = 0; run < 2; ++run) {
    ASSERT_EQ(dsp_session_run(session), DSP_OK) << dsp_last_error();
    ASSERT_EQ(dsp_session_read_output(session, 0, out, sizeof(out)), DSP_OK);
    EXPECT_EQ(out[5], 4.0f);
  }
  dsp_statistics stats;
  ASSERT_EQ(dsp_session_statistics(session, &stats), DSP_OK);
  EXPECT_EQ(stats.runs, 2u);
  EXPECT_EQ(stats.num_ops, 2u);
  dsp_op_statistics op;
  ASSERT_EQ(dsp_session_op_statistics(session, 0, &op), DSP_OK);
  EXPECT_STREQ(op.op, "add");
  EXPECT_EQ(op.count, 2u);
  dsp_session_close(session);

  EXPECT_EQ(dsp_session_open("/nonexistent/model.dspx", nullptr, &session),
            DSP_ERROR);
  EXPECT_NE(std::string(dsp_last_error()).find("cannot open"),
            std::string::npos);
}

TEST(ApiTest, NpyRoundTripAndRejections) {
  std::string path = temporaryPath("array.npy");
  std::vector<int64_t> values = {1, -2, 3, 4, 5, 6};
  ASSERT_EQ(dsp::npy::write(path, I64, {3, 2}, values.data(), 48), "");
  dsp::npy::Array array;
  ASSERT_EQ(dsp::npy::read(path, array), "");
  EXPECT_EQ(array.dtype, I64);
  EXPECT_EQ(array.shape, (Shape{3, 2}));
  EXPECT_EQ(array.data.size(), 48u);
  ASSERT_EQ(dsp::npy::write(path, F32, {}, values.data(), 4), "");
  ASSERT_EQ(dsp::npy::read(path, array), "");
  EXPECT_TRUE(array.shape.empty());

  std::string fortran = temporaryPath("fortran.npy");
  {
    std::string header = "{'descr': '<f4', 'fortran_order': True, 'shape': "
                         "(2,), }";
    header.append((64 - (10 + header.size() + 1) % 64) % 64, ' ');
    header += '\n';
    std::ofstream file(fortran, std::ios::binary);
    file.write("\x93NUMPY\x01\x00", 8);
    char length[2] = {static_cast<char>(header.size()), 0};
    file.write(length, 2);
    file << header;
    file.write("\0\0\0\0\0\0\0\0", 8);
  }
  EXPECT_NE(dsp::npy::read(fortran, array).find("Fortran-order"),
            std::string::npos);
  std::string garbage = temporaryPath("garbage.npy");
  std::ofstream(garbage) << "not an array";
  EXPECT_NE(dsp::npy::read(garbage, array).find("bad magic"),
            std::string::npos);
}

/// Runs dsp-run with `arguments`; returns its exit status and stderr.
int runTool(const std::string &arguments, std::string &errors) {
  std::string errorPath = temporaryPath("dsp_run_stderr.txt");
  std::string command = std::string(DSP_RUN_PATH) + " " + arguments + " > " +
                        temporaryPath("dsp_run_stdout.txt") + " 2> " +
                        errorPath;
  int status = std::system(command.c_str());
  std::ifstream file(errorPath);
  errors.assign(std::istreambuf_iterator<char>(file), {});
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(ApiTest, DspRunCommandLine) {
  std::string model = writeAffineModel("cli.dspx");
  std::string x = temporaryPath("cli_x.npy"),
              offset = temporaryPath("cli_o.npy"),
              reference = temporaryPath("cli_ref.npy"),
              wrong = temporaryPath("cli_wrong.npy"),
              out = temporaryPath("cli_out.npy"),
              stats = temporaryPath("cli_stats.json");
  std::vector<float> xValues = {1, 2, 3, 4, 5, 6}, offsetValues = {1, 1, 1},
                     expected = {3, 5, 7, 9, 11, 13};
  ASSERT_EQ(dsp::npy::write(x, F32, {2, 3}, xValues.data(), 24), "");
  ASSERT_EQ(dsp::npy::write(offset, F32, {3}, offsetValues.data(), 12), "");
  ASSERT_EQ(dsp::npy::write(reference, F32, {2, 3}, expected.data(), 24), "");
  expected[4] = 11.5f;
  ASSERT_EQ(dsp::npy::write(wrong, F32, {2, 3}, expected.data(), 24), "");

  std::string errors;
  EXPECT_EQ(runTool(model + " --input=@" + x + " --input=offset=@" + offset +
                        " --output=@" + out + " --expected-output=@" +
                        reference + " --expected-output=x=@" + x +
                        " --repeat=3 --threads=2 --print-statistics "
                        "--stats-json=" +
                        stats,
                    errors),
            0)
      << errors;
  std::string printed = readText(temporaryPath("dsp_run_stdout.txt"));
  EXPECT_NE(printed.find("output 0 ('add_out1')"), std::string::npos)
      << printed;
  EXPECT_NE(printed.find("max abs error 0"), std::string::npos) << printed;
  EXPECT_NE(printed.find("runs: 3"), std::string::npos) << printed;
  EXPECT_NE(printed.find("run time: median "), std::string::npos) << printed;
  dsp::npy::Array written;
  ASSERT_EQ(dsp::npy::read(out, written), "");
  EXPECT_EQ(written.shape, (Shape{2, 3}));
  std::string json = readText(stats);
  for (const char *key : {"\"runs\": 3", "\"run_ms\": [", "\"ops\"",
                          "\"add\": {\"count\": 3", "\"peak_memory_bytes\"",
                          "\"collectives\": []", "\"bytes_per_rank\": 0"})
    EXPECT_NE(json.find(key), std::string::npos) << key << " in " << json;

  EXPECT_EQ(runTool(model + " --input=@" + x + " --input=@" + offset +
                        " --expected-output=@" + wrong,
                    errors),
            1);
  EXPECT_NE(errors.find("worst element [1,1] got 11, expected 11.5"),
            std::string::npos)
      << errors;

  EXPECT_EQ(
      runTool(model + " --input=@" + x + " --input=bogus=@" + offset, errors),
      1);
  EXPECT_NE(errors.find("no input named 'bogus'"), std::string::npos) << errors;
  EXPECT_EQ(std::count(errors.begin(), errors.end(), '\n'), 1);

  EXPECT_EQ(runTool(model + " --input=@" + x, errors), 1);
  EXPECT_NE(errors.find("'offset') is missing"), std::string::npos) << errors;

  EXPECT_EQ(runTool(model + " --input=@" + offset + " --input=@" + x, errors),
            1);
  EXPECT_NE(errors.find("expects shape [2,3], got [3]"), std::string::npos)
      << errors;

  EXPECT_EQ(runTool(model + " --backend=tpu", errors), 1);
  EXPECT_NE(errors.find("backend 'tpu' is not built in"), std::string::npos);

  EXPECT_EQ(runTool(x + " --input=@" + x, errors), 1);
  EXPECT_NE(errors.find("bad magic"), std::string::npos) << errors;

  EXPECT_EQ(runTool(model + " --input=@" + model, errors), 1);
  EXPECT_NE(errors.find("not a .npy file"), std::string::npos) << errors;

  EXPECT_EQ(runTool("--help", errors), 0);
}

} // namespace

//===- TestUtil.h - Building and running small programs in tests -*- C++
//-*-===//

#ifndef DSP_UNITTESTS_RUNTIME_TESTUTIL_H
#define DSP_UNITTESTS_RUNTIME_TESTUTIL_H

#include "dsp/Format/Float16.h"
#include "dsp/Format/ProgramFile.h"
#include "dsp/Runtime/Runtime.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

namespace dsp {
namespace test {

using program::DType;
using Shape = std::vector<int64_t>;

/// A split of the (outer, size, inner) place of dim `dim` over `ranks`,
/// with the pad that makes it divide.
inline dsp::format::Layout split(int64_t dim, int64_t outer, int64_t size,
                                 int64_t inner, int64_t ranks) {
  dsp::format::Layout layout;
  layout.kind = dsp::format::Layout::Split;
  layout.dim = dim;
  layout.outer = outer;
  layout.size = size;
  layout.inner = inner;
  layout.pad = (ranks - size % ranks) % ranks;
  return layout;
}

inline int64_t count(const Shape &shape) {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

/// A host tensor: dtype, shape and raw bytes.
struct HostTensor {
  DType dtype = program::F32;
  Shape shape;
  std::vector<uint8_t> bytes;

  template <typename T> const T *as() const {
    return reinterpret_cast<const T *>(bytes.data());
  }
  /// The values of an f32, f16 or bf16 tensor as f32; empty for others.
  std::vector<float> floats() const {
    std::vector<float> values(count(shape));
    if (dtype == program::F32 && bytes.size() == values.size() * 4)
      std::memcpy(values.data(), bytes.data(), bytes.size());
    else if (format::isFloat16(dtype) && bytes.size() == values.size() * 2)
      format::widenToFloat(dtype, bytes.data(), values.data(), values.size());
    else
      return {};
    return values;
  }
};

template <typename T>
HostTensor makeTensor(DType dtype, Shape shape, const std::vector<T> &values) {
  HostTensor tensor{dtype, std::move(shape), {}};
  tensor.bytes.resize(values.size() * sizeof(T));
  // An empty vector's data() may be null, which memcpy must not see.
  if (!values.empty())
    std::memcpy(tensor.bytes.data(), values.data(), tensor.bytes.size());
  return tensor;
}
inline HostTensor f32(Shape shape, const std::vector<float> &values) {
  return makeTensor(program::F32, std::move(shape), values);
}
inline HostTensor i64(Shape shape, const std::vector<int64_t> &values) {
  return makeTensor(program::I64, std::move(shape), values);
}
inline HostTensor boolean(Shape shape, const std::vector<uint8_t> &values) {
  return makeTensor(program::BOOL, std::move(shape), values);
}
/// `values` rounded to `dtype`, F16 or BF16.
inline HostTensor float16(DType dtype, Shape shape,
                          const std::vector<float> &values) {
  HostTensor tensor{dtype, std::move(shape),
                    std::vector<uint8_t>(values.size() * 2)};
  format::narrowFromFloat(dtype, values.data(), tensor.bytes.data(),
                          values.size());
  return tensor;
}

inline std::vector<float> randomFloats(size_t n, unsigned seed, float low = -1,
                                       float high = 1) {
  std::mt19937 generator(seed);
  std::uniform_real_distribution<float> distribution(low, high);
  std::vector<float> values(n);
  for (float &value : values)
    value = distribution(generator);
  return values;
}

inline program::Attribute ints(const std::string &name,
                               const std::vector<int64_t> &values) {
  program::Attribute attribute;
  attribute.set_name(name);
  for (int64_t value : values)
    attribute.mutable_ints()->add_values(value);
  return attribute;
}
inline program::Attribute floats(const std::string &name,
                                 const std::vector<double> &values) {
  program::Attribute attribute;
  attribute.set_name(name);
  for (double value : values)
    attribute.mutable_floats()->add_values(value);
  return attribute;
}
inline program::Attribute str(const std::string &name,
                              const std::string &value) {
  program::Attribute attribute;
  attribute.set_name(name);
  attribute.set_str(value);
  return attribute;
}

/// Builds programs whose arena gives every tensor its own bytes.
class ProgramBuilder {
public:
  ProgramBuilder() {
    program.set_ranks(1);
    program.set_producer("unittests");
  }

  uint32_t tensor(const std::string &name, DType dtype, const Shape &shape,
                  program::TensorKind kind) {
    program::Tensor *tensor = program.add_tensors();
    tensor->set_name(name);
    tensor->set_dtype(dtype);
    tensor->set_kind(kind);
    for (int64_t dim : shape)
      tensor->add_shape(dim);
    uint64_t bytes = count(shape) * format::elementSize(dtype);
    tensor->set_bytes(bytes);
    if (kind != program::WEIGHT) {
      tensor->set_offset(arena);
      arena += (bytes + 63) / 64 * 64;
      program.set_arena_bytes(arena);
    }
    return program.tensors_size() - 1;
  }

  uint32_t input(const std::string &name, DType dtype, const Shape &shape) {
    uint32_t index = tensor(name, dtype, shape, program::INPUT);
    program.add_inputs(index);
    return index;
  }

  /// A weight whose bytes the builder keeps; empty `bytes` with a non-empty
  /// shape writes zeros.
  uint32_t weight(const std::string &name, const HostTensor &value) {
    uint32_t index = tensor(name, value.dtype, value.shape, program::WEIGHT);
    storage.push_back(value.bytes);
    weights.push_back({index, nullptr, value.bytes.size()});
    return index;
  }

  uint32_t zeroWeight(const std::string &name, DType dtype,
                      const Shape &shape) {
    uint32_t index = tensor(name, dtype, shape, program::WEIGHT);
    storage.emplace_back();
    weights.push_back(
        {index, nullptr, count(shape) * format::elementSize(dtype)});
    return index;
  }

  /// A weight whose bytes the loader makes: the caller sets its external
  /// or generated source; the writer places it past the file's blob.
  uint32_t sourcedWeight(const std::string &name, DType dtype,
                         const Shape &shape) {
    return tensor(name, dtype, shape, program::WEIGHT);
  }

  uint32_t op(const std::string &name, const std::vector<uint32_t> &inputs,
              DType dtype, const Shape &shape,
              const std::vector<program::Attribute> &attributes = {}) {
    uint32_t result = tensor(name + "_out" + std::to_string(counter++), dtype,
                             shape, program::INTERMEDIATE);
    program::Instruction *instruction = program.add_instructions();
    instruction->set_op(name);
    instruction->set_location("node_" + std::to_string(counter));
    for (uint32_t input : inputs)
      instruction->add_inputs(input);
    instruction->add_outputs(result);
    for (const program::Attribute &attribute : attributes)
      *instruction->add_attributes() = attribute;
    return result;
  }

  void output(uint32_t index) {
    if (program.tensors(index).kind() == program::INTERMEDIATE)
      program.mutable_tensors(index)->set_kind(program::OUTPUT);
    program.add_outputs(index);
  }

  /// Writes the program; returns "" or the writer's error.
  std::string write(const std::string &path) {
    std::vector<format::WeightData> data = weights;
    for (size_t i = 0; i < data.size(); ++i)
      data[i].data = storage[i].empty() ? nullptr : storage[i].data();
    return format::writeProgramFile(path, program, data);
  }

  program::Program program;

private:
  std::vector<format::WeightData> weights;
  std::vector<std::vector<uint8_t>> storage;
  uint64_t arena = 0;
  int counter = 0;
};

/// A path of this process alone: ctest runs tests in parallel processes.
inline std::string temporaryPath(const std::string &name) {
  return ::testing::TempDir() + "dsp_" + std::to_string(::getpid()) + "_" +
         name;
}

inline void writeBytes(const std::string &path,
                       const std::vector<char> &bytes) {
  // Unlinking is much cheaper than truncating on some file systems.
  std::remove(path.c_str());
  std::ofstream file(path, std::ios::binary | std::ios::trunc);
  file.write(bytes.data(), bytes.size());
}

/// Writes `program` as a .dspx file without validating it (and without
/// weights), as a hostile producer would.
inline void writeUnvalidated(const std::string &path,
                             const program::Program &program) {
  std::string serialized = program.SerializeAsString();
  uint64_t weightsOffset =
      (format::kHeaderBytes + serialized.size() + 63) / 64 * 64;
  char header[format::kHeaderBytes] = {};
  std::memcpy(header, format::kMagic, sizeof(format::kMagic));
  auto store = [&](int offset, uint64_t value, int bytes) {
    for (int i = 0; i < bytes; ++i)
      header[offset + i] = static_cast<char>(value >> (8 * i));
  };
  store(8, format::kMajorVersion, 4);
  store(12, format::kMinorVersion, 4);
  store(16, format::kHeaderBytes, 8);
  store(24, serialized.size(), 8);
  store(32, weightsOffset, 8);
  std::ofstream file(path, std::ios::binary | std::ios::trunc);
  file.write(header, sizeof(header));
  file << serialized;
  file << std::string(weightsOffset - format::kHeaderBytes - serialized.size(),
                      '\0');
}

inline std::string readText(const std::string &path) {
  std::ifstream file(path);
  return std::string(std::istreambuf_iterator<char>(file), {});
}

/// Runs `command` with the shell; returns its exit status (-1 if a signal
/// ended it) and sets `output` to what it printed on stdout and stderr.
inline int runCommand(const std::string &command, std::string &output) {
  // Per process: ctest runs tests in parallel.
  std::string path = temporaryPath("command_output.txt");
  int status = std::system((command + " > " + path + " 2>&1").c_str());
  output = readText(path);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/// Runs the program file at `path` once on `inputs`; its outputs, empty if
/// it cannot be opened. Fails the test on any error.
inline std::vector<HostTensor>
runProgramFile(const std::string &path, const std::vector<HostTensor> &inputs,
               unsigned threads, const std::string &backend = "cpu") {
  runtime::SessionOptions options;
  options.threads = threads;
  options.backend = backend;
  std::string error;
  std::unique_ptr<runtime::Session> session =
      runtime::Session::open(path, options, error);
  EXPECT_TRUE(session) << error;
  if (!session)
    return {};
  for (size_t i = 0; i < inputs.size(); ++i) {
    runtime::Status status =
        session->bindInput(i, inputs[i].dtype, inputs[i].shape,
                           inputs[i].bytes.data(), inputs[i].bytes.size());
    EXPECT_TRUE(status.ok()) << status.message();
  }
  runtime::Status status = session->run();
  EXPECT_TRUE(status.ok()) << status.message();
  std::vector<HostTensor> outputs;
  for (size_t o = 0; o < session->numOutputs(); ++o) {
    const runtime::TensorInfo &info = session->outputInfo(o);
    HostTensor result{info.dtype, info.shape, std::vector<uint8_t>(info.bytes)};
    status = session->readOutput(o, result.bytes.data(), result.bytes.size());
    EXPECT_TRUE(status.ok()) << status.message();
    outputs.push_back(std::move(result));
  }
  return outputs;
}

/// Runs a one-instruction program: `inputs` become graph inputs, the op's
/// result the only output. Fails the test on any error.
inline HostTensor runOp(const std::string &op,
                        const std::vector<HostTensor> &inputs, DType dtype,
                        const Shape &shape,
                        const std::vector<program::Attribute> &attributes = {},
                        unsigned threads = 3,
                        const std::string &backend = "cpu") {
  ProgramBuilder builder;
  std::vector<uint32_t> operands;
  for (size_t i = 0; i < inputs.size(); ++i)
    operands.push_back(builder.input("in" + std::to_string(i), inputs[i].dtype,
                                     inputs[i].shape));
  builder.output(builder.op(op, operands, dtype, shape, attributes));
  // Per process: ctest runs tests in parallel.
  std::string path = temporaryPath(op + ".dspx");
  std::string error = builder.write(path);
  EXPECT_EQ(error, "");
  std::vector<HostTensor> outputs =
      runProgramFile(path, inputs, threads, backend);
  if (outputs.empty())
    return HostTensor{dtype, shape, {}};
  return outputs[0];
}

/// Whether the runtime has the cuda backend and this machine a GPU for it.
inline bool hasCudaDevice() {
  static const bool found = [] {
    runtime::SessionOptions options;
    options.backend = "cuda";
    ProgramBuilder builder;
    builder.output(builder.op("neg", {builder.input("x", program::F32, {1})},
                              program::F32, {1}));
    std::string path = temporaryPath("cuda_probe.dspx");
    std::string error = builder.write(path);
    return error.empty() && runtime::Session::open(path, options, error);
  }();
  return found;
}

/// Runs, twice on one binding, a program whose last result reuses the
/// input's arena bytes (the input is dead by then, as buffer plans allow):
/// every run must start from the bound input, not from what the last run
/// left in its place.
inline void expectRunsRestartFromTheBoundInputs(const std::string &backend) {
  ProgramBuilder builder;
  uint32_t x = builder.input("x", program::F32, {4, 16});
  uint32_t negated = builder.op("neg", {x}, program::F32, {4, 16});
  uint32_t result = builder.op("tanh", {negated}, program::F32, {4, 16});
  builder.program.mutable_tensors(result)->set_offset(
      builder.program.tensors(x).offset());
  builder.output(result);
  std::string path = temporaryPath(backend + "_rerun.dspx"), error;
  ASSERT_EQ(builder.write(path), "");
  runtime::SessionOptions options;
  options.backend = backend;
  auto session = runtime::Session::open(path, options, error);
  ASSERT_TRUE(session) << error;
  std::vector<float> input = randomFloats(64, 7), expected(64);
  for (size_t i = 0; i < input.size(); ++i)
    expected[i] = std::tanh(-input[i]);
  ASSERT_TRUE(
      session->bindInput(0, program::F32, {4, 16}, input.data(), 256).ok());
  for (int run = 0; run < 3; ++run) {
    SCOPED_TRACE("run " + std::to_string(run));
    runtime::Status status = session->run();
    ASSERT_TRUE(status.ok()) << status.message();
    std::vector<float> got(64);
    ASSERT_TRUE(session->readOutput(0, got.data(), 256).ok());
    for (size_t i = 0; i < got.size(); ++i)
      ASSERT_NEAR(got[i], expected[i], 1e-5f) << "at element " << i;
  }
}

/// Flat index into `in` of output element `flat` under numpy broadcasting.
inline int64_t broadcastIndex(int64_t flat, const Shape &out, const Shape &in) {
  int64_t index = 0, stride = 1;
  for (size_t d = 0; d < out.size(); ++d) {
    size_t od = out.size() - 1 - d;
    int64_t coordinate = flat % out[od];
    flat /= out[od];
    if (d < in.size()) {
      int64_t dim = in[in.size() - 1 - d];
      index += (dim == 1 ? 0 : coordinate) * stride;
      stride *= dim;
    }
  }
  return index;
}

/// softmax(q k^T * scale + mask) v in double precision, for
/// [batch, heads, lq, d] queries, [.., lk, d] keys and [.., lk, dv] values;
/// `mask` (may be null) broadcasts from `maskShape`; fully masked rows are
/// zeros.
inline std::vector<float>
referenceAttention(const std::vector<float> &q, const std::vector<float> &k,
                   const std::vector<float> &v, const std::vector<float> *mask,
                   const Shape &maskShape, int64_t batch, int64_t heads,
                   int64_t lq, int64_t lk, int64_t d, int64_t dv, float scale) {
  std::vector<float> out(batch * heads * lq * dv);
  Shape scores = {batch, heads, lq, lk};
  for (int64_t bh = 0; bh < batch * heads; ++bh)
    for (int64_t i = 0; i < lq; ++i) {
      std::vector<double> s(lk);
      double maximum = -INFINITY;
      for (int64_t j = 0; j < lk; ++j) {
        double dot = 0;
        for (int64_t c = 0; c < d; ++c)
          dot += q[(bh * lq + i) * d + c] * k[(bh * lk + j) * d + c];
        s[j] = dot * scale;
        if (mask)
          s[j] += (*mask)[broadcastIndex((bh * lq + i) * lk + j, scores,
                                         maskShape)];
        maximum = std::max(maximum, s[j]);
      }
      if (maximum == -INFINITY)
        continue; // fully masked: zeros
      double sum = 0;
      for (double &value : s)
        sum += value = std::exp(value - maximum);
      for (int64_t c = 0; c < dv; ++c) {
        double acc = 0;
        for (int64_t j = 0; j < lk; ++j)
          acc += s[j] * v[(bh * lk + j) * dv + c];
        out[(bh * lq + i) * dv + c] = static_cast<float>(acc / sum);
      }
    }
  return out;
}

inline void expectNear(const std::vector<float> &got,
                       const std::vector<float> &expected,
                       float tolerance = 1e-5f) {
  ASSERT_EQ(got.size(), expected.size());
  for (size_t i = 0; i < got.size(); ++i) {
    if (std::isnan(expected[i])) {
      EXPECT_TRUE(std::isnan(got[i])) << "at " << i;
      continue;
    }
    if (std::isinf(expected[i])) {
      EXPECT_EQ(got[i], expected[i]) << "at " << i;
      continue;
    }
    ASSERT_NEAR(got[i], expected[i],
                tolerance * std::max(1.0f, std::fabs(expected[i])))
        << "at element " << i;
  }
}

} // namespace test
} // namespace dsp

#endif // DSP_UNITTESTS_RUNTIME_TESTUTIL_H

//===- run_group.cpp - Running a multi-rank program from C++ --------------===//
//
// Runs a program compiled for any number of ranks through the C++ API,
// every rank a thread of this process, with made-up f32 inputs; prints each
// output's checksum and every rank's peak memory and bytes sent.
//
//   cmake -S examples/embed -B embed -DCMAKE_PREFIX_PATH=PREFIX
//   cmake --build embed && embed/run_group_cpp stdit_tiny_4.dspx
//
//===----------------------------------------------------------------------===//

#include "dsp/Runtime/RankGroup.h"

#include <cstdio>

using dsp::runtime::RankGroup;
using dsp::runtime::Status;

namespace {

/// The same values as run_group.c binds, so both print the same sums.
std::vector<float> madeUpInput(size_t index, size_t elements) {
  std::vector<float> values(elements);
  for (size_t i = 0; i < elements; ++i)
    values[i] = static_cast<float>((i * 7 + index * 3) % 17) / 17.0f - 0.5f;
  return values;
}

Status bindInputs(RankGroup &group) {
  for (size_t index = 0; index < group.numInputs(); ++index) {
    const dsp::runtime::TensorInfo &info = group.inputInfo(index);
    if (info.dtype != dsp::program::F32)
      return Status::error("input '" + info.name +
                           "' is not f32; this example binds f32 only");
    std::vector<float> values = madeUpInput(index, info.bytes / sizeof(float));
    if (Status status = group.bindInput(index, info.dtype, info.shape,
                                        values.data(), info.bytes);
        !status)
      return status;
  }
  return Status::success();
}

Status printOutputs(const RankGroup &group) {
  for (size_t index = 0; index < group.numOutputs(); ++index) {
    const dsp::runtime::TensorInfo &info = group.outputInfo(index);
    std::vector<float> values(info.bytes / sizeof(float));
    if (Status status = group.readOutput(index, values.data(), info.bytes);
        !status)
      return status;
    double sum = 0;
    for (float value : values)
      sum += value;
    std::printf("output %zu '%s': %zu values, sum %.9g\n", index,
                info.name.c_str(), values.size(), sum);
  }
  return Status::success();
}

Status run(const char *path) {
  std::string error;
  std::shared_ptr<const dsp::format::ProgramFile> file =
      dsp::format::ProgramFile::open(path, error);
  if (!file)
    return Status::error(error);
  dsp::runtime::RankGroupOptions options; // cpu, ranks as threads
  options.threads = 1;
  std::unique_ptr<RankGroup> group = RankGroup::create(file, options, error);
  if (!group)
    return Status::error(error);
  Status status = bindInputs(*group);
  if (status)
    status = group->run();
  if (status)
    status = printOutputs(*group);
  dsp::runtime::GroupStatistics statistics;
  if (status)
    status = group->gatherStatistics(statistics);
  if (!status)
    return status;
  std::printf("ranks: %d, runs: %llu, peak memory per rank:", group->ranks(),
              static_cast<unsigned long long>(statistics.statistics.runs));
  for (uint64_t bytes : statistics.peakMemoryBytes)
    std::printf(" %llu", static_cast<unsigned long long>(bytes));
  std::printf(
      " bytes, sent per rank: %llu bytes\n",
      static_cast<unsigned long long>(statistics.statistics.bytesPerRank));
  return Status::success();
}

} // namespace

int main(int argc, char **argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s PROGRAM.dspx\n", argv[0]);
    return 2;
  }
  Status status = run(argv[1]);
  if (!status)
    std::fprintf(stderr, "error: %s\n", status.message().c_str());
  return status ? 0 : 1;
}

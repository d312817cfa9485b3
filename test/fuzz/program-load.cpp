//===- program-load.cpp - Fuzzing the .dspx reader and validator ----------===//
//
// Input: a .dspx program file, opened by ProgramFile::open (header checks,
// protobuf parse, validateProgram) as dsp-run opens it. A program that loads
// must keep every weight inside the mapped blob; the target reads the first
// and last byte of each to check that.
//
// External weights are looked for next to the program: the scratch folder
// holds `weights.bin` (kWeightFileBytes of a fixed pattern, the file the
// seeds reference), a symlink `link.bin` that leads out of the folder and a
// folder `dir`.
//
// The custom mutator changes the Program message through ProtoMutator and
// writes a consistent header around it, so that most mutants reach the
// validator; one in eight gets libFuzzer's byte mutations instead, header
// included.
//
//===----------------------------------------------------------------------===//

#include "FuzzUtil.h"
#include "ProtoMutator.h"

#include "dsp/Format/OpRegistry.h"
#include "dsp/Format/ProgramFile.h"
#include "dsp/Format/WeightSources.h"

#include <algorithm>
#include <cstring>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

using namespace dsp::fuzz;
using dsp::format::kHeaderBytes;
using dsp::format::kWeightAlignment;

extern "C" size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t maxSize);

namespace {

constexpr size_t kWeightFileBytes = 4096;

/// The bytes of `weights.bin`; test/fuzz/make_seeds.py writes the same.
std::vector<uint8_t> weightFile() {
  std::vector<uint8_t> bytes(kWeightFileBytes);
  for (size_t i = 0; i < bytes.size(); ++i)
    bytes[i] = static_cast<uint8_t>(i * 31 + 7);
  return bytes;
}

void prepareWeightFiles() {
  static const bool prepared = [] {
    ScratchFolder &folder = ScratchFolder::get();
    std::vector<uint8_t> bytes = weightFile();
    folder.write("weights.bin", bytes.data(), bytes.size());
    ::symlink("/etc/hostname", folder.path("link.bin").c_str());
    ::mkdir(folder.path("dir").c_str(), 0700);
    return true;
  }();
  (void)prepared;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  prepareWeightFiles();
  std::string path = ScratchFolder::get().write("program.dspx", data, size);
  std::string error;
  std::shared_ptr<const dsp::format::ProgramFile> file =
      dsp::format::ProgramFile::open(path, error, kLoadedWeightBudget);
  if (!file)
    return 0;
  volatile uint8_t sink = 0;
  const dsp::program::Program &program = file->program();
  for (int i = 0; i < program.tensors_size(); ++i) {
    const dsp::program::Tensor &tensor = program.tensors(i);
    if (tensor.kind() != dsp::program::WEIGHT || tensor.bytes() == 0)
      continue;
    const uint8_t *bytes = static_cast<const uint8_t *>(
        file->weightData(static_cast<uint32_t>(i)));
    sink = sink + bytes[0] + bytes[tensor.bytes() - 1];
  }
  (void)sink;
  return 0;
}

namespace {

const MutatorHints &programHints() {
  static const MutatorHints hints = [] {
    MutatorHints h;
    // The registry's ops and attributes, and names it does not know.
    std::vector<std::string> &ops = h.strings["dsp.program.Instruction.op"];
    std::vector<std::string> &attributes =
        h.strings["dsp.program.Attribute.name"];
    for (const dsp::format::OpSpec &spec : dsp::format::opSpecs()) {
      ops.push_back(spec.name);
      for (const std::string &attribute : spec.attributes)
        if (std::find(attributes.begin(), attributes.end(), attribute) ==
            attributes.end())
          attributes.push_back(attribute);
    }
    ops.insert(ops.end(), {"split", "sum", "constant", "unknown"});
    attributes.insert(attributes.end(), {"output", "shape", "split"});
    h.strings["dsp.program.Attribute.str"] = {
        "none",       "tanh",    "sum", "max", "min",  "mean",
        "replicated", "partial", "f32", "i64", "bool", ""};
    h.strings["dsp.program.CodeObject.target"] = {"sm_90", "sm_100a", "sm_9",
                                                  "compute_90", ""};
    h.ints["dsp.program.Tensor.layout"] = {0, 1, 2, 3, -1};
    h.ints["dsp.program.Program.format_version"] = {0, 1, 2};
    h.ints["dsp.program.Program.ranks"] = {0, 1, 2, 3, 4, 65536, 65537};
    h.ints["dsp.program.Tensor.offset"] = {0, 64, 128, 4096};
    h.strings["dsp.program.ExternalWeight.path"] = {"weights.bin",
                                                    "link.bin",
                                                    "dir",
                                                    "missing.bin",
                                                    "../weights.bin",
                                                    "/etc/passwd",
                                                    "dir/../weights.bin",
                                                    ""};
    const std::vector<int64_t> offsets = {0, 8, 64, 4092};
    const std::vector<int64_t> sizes = {0, 2, 4, 8, 16, 48, 64, 256};
    h.ints["dsp.program.ExternalWeight.offset"] = offsets;
    h.ints["dsp.program.ExternalWeight.bytes"] = sizes;
    // The true checksums of those ranges of weights.bin, so that mutants
    // also pass the checksum and reach the conversion.
    std::vector<int64_t> &checksums =
        h.ints["dsp.program.ExternalWeight.checksum"];
    std::vector<uint8_t> file = weightFile();
    for (int64_t offset : offsets)
      for (int64_t bytes : sizes)
        if (static_cast<size_t>(offset + bytes) <= file.size())
          checksums.push_back(static_cast<int64_t>(
              dsp::format::weightChecksum(file.data() + offset, bytes)));
    h.ints["dsp.program.Program.loaded_weights_bytes"] = {0, 64, 128, 4160};
    h.names = {"dsp.program.Tensor.name"};
    h.weights = {{"dsp.program.Tensor.shape", 4},
                 {"dsp.program.Tensor.global_shape", 3},
                 {"dsp.program.Tensor.layout", 3},
                 {"dsp.program.Tensor.offset", 2},
                 {"dsp.program.Tensor.bytes", 2},
                 {"dsp.program.Tensor.dtype", 2},
                 {"dsp.program.Tensor.kind", 2},
                 {"dsp.program.Instruction.inputs", 3},
                 {"dsp.program.Instruction.outputs", 3},
                 {"dsp.program.Instruction.op", 2},
                 {"dsp.program.Ints.values", 4},
                 {"dsp.program.Floats.values", 2},
                 {"dsp.program.Attribute.name", 2},
                 {"dsp.program.ExternalWeight.path", 2},
                 {"dsp.program.ExternalWeight.offset", 2},
                 {"dsp.program.ExternalWeight.bytes", 2},
                 {"dsp.program.ExternalWeight.dtype", 2},
                 {"dsp.program.GeneratedWeight.center", 2},
                 {"dsp.program.GeneratedWeight.bound", 2}};
    return h;
  }();
  return hints;
}

uint64_t loadLE(const uint8_t *src) {
  uint64_t value = 0;
  for (int i = 0; i < 8; ++i)
    value |= static_cast<uint64_t>(src[i]) << (8 * i);
  return value;
}

void storeLE(uint8_t *dst, uint64_t value) {
  for (int i = 0; i < 8; ++i)
    dst[i] = static_cast<uint8_t>(value >> (8 * i));
}

} // namespace

extern "C" size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size,
                                          size_t maxSize, unsigned int seed) {
  ProtoMutator mutator(programHints(), seed);
  if (size < kHeaderBytes ||
      std::memcmp(data, dsp::format::kMagic, sizeof(dsp::format::kMagic)) !=
          0 ||
      mutator.below(8) == 0)
    return LLVMFuzzerMutate(data, size, maxSize);
  uint64_t programOffset = loadLE(data + 16), programSize = loadLE(data + 24);
  uint64_t weightsOffset = loadLE(data + 32), weightsSize = loadLE(data + 40);
  dsp::program::Program program;
  if (programOffset > size || programSize > size - programOffset ||
      programSize > (1u << 30) ||
      !program.ParseFromArray(data + programOffset,
                              static_cast<int>(programSize)))
    return LLVMFuzzerMutate(data, size, maxSize);
  if (weightsOffset > size || weightsSize > size - weightsOffset)
    weightsOffset = weightsSize = 0;

  mutator.mutate(program);
  std::string serialized;
  if (!program.SerializeToString(&serialized))
    return LLVMFuzzerMutate(data, size, maxSize);
  // The same header fields, the new program, the old weights.
  uint64_t newWeightsOffset =
      (kHeaderBytes + serialized.size() + kWeightAlignment - 1) /
      kWeightAlignment * kWeightAlignment;
  if (newWeightsOffset + weightsSize > maxSize)
    return LLVMFuzzerMutate(data, size, maxSize);
  std::vector<uint8_t> out(newWeightsOffset + weightsSize, 0);
  std::memcpy(out.data(), data, kHeaderBytes);
  storeLE(out.data() + 16, kHeaderBytes);
  storeLE(out.data() + 24, serialized.size());
  storeLE(out.data() + 32, newWeightsOffset);
  storeLE(out.data() + 40, weightsSize);
  std::memcpy(out.data() + kHeaderBytes, serialized.data(), serialized.size());
  if (weightsSize)
    std::memcpy(out.data() + newWeightsOffset, data + weightsOffset,
                weightsSize);
  std::memcpy(data, out.data(), out.size());
  return out.size();
}

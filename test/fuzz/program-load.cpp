//===- program-load.cpp - Fuzzing the .dspx reader and validator ----------===//
//
// Input: a .dspx program file, opened by ProgramFile::open (header checks,
// protobuf parse, validateProgram) as dsp-run opens it. A program that loads
// must keep every weight inside the mapped blob; the target reads the first
// and last byte of each to check that.
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

#include <algorithm>
#include <cstring>
#include <vector>

using namespace dsp::fuzz;
using dsp::format::kHeaderBytes;
using dsp::format::kWeightAlignment;

extern "C" size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t maxSize);

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string path = ScratchFolder::get().write("program.dspx", data, size);
  std::string error;
  std::shared_ptr<const dsp::format::ProgramFile> file =
      dsp::format::ProgramFile::open(path, error);
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
                 {"dsp.program.Attribute.name", 2}};
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

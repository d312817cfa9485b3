//===- ProgramFile.cpp - Reading and writing .dspx program files ----------===//

#include "dsp/Format/ProgramFile.h"
#include "dsp/Format/Checked.h"
#include "dsp/Format/FileIO.h"
#include "dsp/Format/WeightSources.h"

#include <google/protobuf/stubs/common.h>
#include <google/protobuf/text_format.h>
#if GOOGLE_PROTOBUF_VERSION < 4022000
#include <google/protobuf/stubs/logging.h>
#define DSP_HAVE_PROTOBUF_LOG_SILENCER 1
#endif

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <limits>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

using dsp::program::DType;
using dsp::program::Program;
using dsp::program::TensorKind;

namespace dsp {
namespace format {

namespace {

// The header is little-endian whatever the host is.
void storeLE(uint8_t *dst, uint64_t value, int bytes) {
  for (int i = 0; i < bytes; ++i)
    dst[i] = static_cast<uint8_t>(value >> (8 * i));
}

uint64_t loadLE(const uint8_t *src, int bytes) {
  uint64_t value = 0;
  for (int i = 0; i < bytes; ++i)
    value |= static_cast<uint64_t>(src[i]) << (8 * i);
  return value;
}

void encodeHeader(const FileHeader &header, uint8_t out[kHeaderBytes]) {
  std::memset(out, 0, kHeaderBytes);
  std::memcpy(out, kMagic, sizeof(kMagic));
  storeLE(out + 8, header.majorVersion, 4);
  storeLE(out + 12, header.minorVersion, 4);
  storeLE(out + 16, header.programOffset, 8);
  storeLE(out + 24, header.programSize, 8);
  storeLE(out + 32, header.weightsOffset, 8);
  storeLE(out + 40, header.weightsSize, 8);
}

constexpr uint64_t kReservedHeaderStart = 48;

std::string systemError(const std::string &what) {
  return what + ": " + std::strerror(errno);
}

} // namespace

size_t elementSize(DType dtype) {
  switch (dtype) {
  case dsp::program::F32:
  case dsp::program::I32:
    return 4;
  case dsp::program::F16:
  case dsp::program::BF16:
    return 2;
  case dsp::program::I64:
    return 8;
  case dsp::program::BOOL:
    return 1;
  default:
    return 0;
  }
}

const char *dtypeName(DType dtype) {
  switch (dtype) {
  case dsp::program::F32:
    return "f32";
  case dsp::program::F16:
    return "f16";
  case dsp::program::BF16:
    return "bf16";
  case dsp::program::I64:
    return "i64";
  case dsp::program::I32:
    return "i32";
  case dsp::program::BOOL:
    return "bool";
  default:
    return "unspecified";
  }
}

std::string shapeString(const std::vector<int64_t> &shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i)
      text += ",";
    text += std::to_string(shape[i]);
  }
  return text + "]";
}

std::string writeProgramFile(const std::string &path, Program &program,
                             const std::vector<WeightData> &weights) {
  const int numTensors = program.tensors_size();
  std::vector<bool> hasData(numTensors, false);
  uint64_t blobSize = 0;
  for (const WeightData &weight : weights) {
    if (weight.tensor >= static_cast<uint32_t>(numTensors))
      return path + ": weight data for tensor " +
             std::to_string(weight.tensor) + ", but the program has " +
             std::to_string(numTensors) + " tensors";
    dsp::program::Tensor &tensor = *program.mutable_tensors(weight.tensor);
    if (tensor.kind() != dsp::program::WEIGHT)
      return path + ": weight data given for tensor '" + tensor.name() +
             "', which is not a WEIGHT tensor";
    if (hasData[weight.tensor])
      return path + ": weight data given twice for tensor '" + tensor.name() +
             "'";
    hasData[weight.tensor] = true;
    std::optional<uint64_t> offset = checkedAlignUp(blobSize, kWeightAlignment);
    std::optional<uint64_t> end =
        offset ? checkedAdd<uint64_t>(*offset, weight.bytes) : std::nullopt;
    if (!end)
      return path + ": the weight blob overflows at tensor '" + tensor.name() +
             "'";
    tensor.set_offset(*offset);
    tensor.set_bytes(weight.bytes);
    blobSize = *end;
  }
  // External and generated weights are placed past the file's blob, in
  // the blob the loader builds.
  uint64_t loadedBytes = blobSize;
  for (int i = 0; i < numTensors; ++i) {
    dsp::program::Tensor &tensor = *program.mutable_tensors(i);
    if (tensor.kind() != dsp::program::WEIGHT || hasData[i])
      continue;
    if (tensor.source_case() == dsp::program::Tensor::SOURCE_NOT_SET)
      return path + ": weight tensor '" + tensor.name() + "' has no data";
    std::optional<uint64_t> offset =
        checkedAlignUp(loadedBytes, kWeightAlignment);
    std::optional<uint64_t> end =
        offset ? checkedAdd<uint64_t>(*offset, tensor.bytes()) : std::nullopt;
    if (!end)
      return path + ": the loaded weight blob overflows at tensor '" +
             tensor.name() + "'";
    tensor.set_offset(*offset);
    loadedBytes = *end;
  }
  program.set_loaded_weights_bytes(loadedBytes > blobSize ? loadedBytes : 0);
  program.set_format_version(kMajorVersion);
  std::string problem = validateProgram(program, blobSize);
  if (!problem.empty())
    return path + ": " + problem;

  std::string serialized;
  if (!program.SerializeToString(&serialized))
    return path + ": the program message is too large to serialize";

  FileHeader header;
  header.majorVersion = kMajorVersion;
  header.minorVersion = kMinorVersion;
  header.programOffset = kHeaderBytes;
  header.programSize = serialized.size();
  header.weightsOffset =
      *checkedAlignUp(kHeaderBytes + serialized.size(), kWeightAlignment);
  header.weightsSize = blobSize;
  uint8_t headerBytes[kHeaderBytes];
  encodeHeader(header, headerBytes);

  std::string error;
  std::unique_ptr<OutputFile> file = OutputFile::create(path, error);
  if (!file)
    return error;
  file->write(headerBytes, kHeaderBytes);
  file->write(serialized.data(), serialized.size());
  // Weights in blob order; padding and zero weights become holes.
  uint64_t position = kHeaderBytes + serialized.size();
  for (const WeightData &weight : weights) {
    uint64_t offset =
        header.weightsOffset + program.tensors(weight.tensor).offset();
    file->writeZeros(offset - position);
    if (weight.data)
      file->write(weight.data, weight.bytes);
    else
      file->writeZeros(weight.bytes);
    position = offset + weight.bytes;
  }
  file->writeZeros(header.weightsOffset + blobSize - position);
  return file->commit();
}

/// The machine's physical memory in bytes, or the largest buffer where the
/// system does not say.
static uint64_t physicalMemoryBytes() {
  long pages = ::sysconf(_SC_PHYS_PAGES), pageBytes = ::sysconf(_SC_PAGESIZE);
  if (pages <= 0 || pageBytes <= 0)
    return kMaxBufferBytes;
  return checkedMul(static_cast<uint64_t>(pages),
                    static_cast<uint64_t>(pageBytes))
      .value_or(kMaxBufferBytes);
}

std::shared_ptr<const ProgramFile>
ProgramFile::open(const std::string &path, std::string &error,
                  uint64_t maxLoadedWeightBytes, bool *overBudget) {
  if (overBudget)
    *overBudget = false;
  uint64_t fileSize = 0;
  int fd = openRegularFile(path, std::numeric_limits<uint64_t>::max(), fileSize,
                           error);
  if (fd < 0)
    return nullptr;
  if (fileSize < kHeaderBytes) {
    error = path + ": file is " + std::to_string(fileSize) +
            " bytes, too short for the 64-byte header";
    ::close(fd);
    return nullptr;
  }
  void *mapping = ::mmap(nullptr, fileSize, PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  if (mapping == MAP_FAILED) {
    error = systemError(path + ": cannot map");
    return nullptr;
  }
  std::shared_ptr<ProgramFile> file(new ProgramFile());
  file->path_ = path;
  file->mapping_ = mapping;
  file->mappingBytes_ = fileSize;
  auto reject = [&](const std::string &problem) {
    error = path + ": " + problem;
    return nullptr;
  };

  const uint8_t *bytes = static_cast<const uint8_t *>(mapping);
  if (std::memcmp(bytes, kMagic, sizeof(kMagic)) != 0) {
    // An ONNX model is a protobuf whose first field is ir_version (field 1,
    // varint: tag byte 0x08): the likely mix-up, so say what to do.
    bool looksLikeOnnx =
        bytes[0] == 0x08 ||
        (path.size() >= 5 && path.compare(path.size() - 5, 5, ".onnx") == 0);
    return reject(
        std::string("not a DSP program file (bad magic)") +
        (looksLikeOnnx
             ? "; it looks like an ONNX model: compile it into a program "
               "first, e.g. dsp-opt MODEL.onnx --dsp-pipeline=\"ranks=N\" "
               "--emit=program -o MODEL.dspx"
             : ""));
  }
  FileHeader &header = file->header_;
  header.majorVersion = static_cast<uint32_t>(loadLE(bytes + 8, 4));
  header.minorVersion = static_cast<uint32_t>(loadLE(bytes + 12, 4));
  header.programOffset = loadLE(bytes + 16, 8);
  header.programSize = loadLE(bytes + 24, 8);
  header.weightsOffset = loadLE(bytes + 32, 8);
  header.weightsSize = loadLE(bytes + 40, 8);
  std::string version = std::to_string(header.majorVersion) + "." +
                        std::to_string(header.minorVersion);
  if (header.majorVersion != kMajorVersion)
    return reject("format version " + version +
                  " is not supported (this runtime reads version " +
                  std::to_string(kMajorVersion) +
                  ".x); recompile the model with a matching dsp-opt");
  if (header.minorVersion <= kMinorVersion)
    for (uint64_t i = kReservedHeaderStart; i < kHeaderBytes; ++i)
      if (bytes[i] != 0)
        return reject("header byte " + std::to_string(i) +
                      " is reserved and must be zero in version " + version);
  if (header.programOffset < kHeaderBytes || header.programOffset > fileSize ||
      header.programSize > fileSize - header.programOffset)
    return reject("program section [" + std::to_string(header.programOffset) +
                  ", +" + std::to_string(header.programSize) +
                  ") lies outside the file (" + std::to_string(fileSize) +
                  " bytes); the file is truncated or corrupt");
  if (header.programSize > static_cast<uint64_t>(INT_MAX))
    return reject("program section is larger than 2 GiB");
  if (header.weightsOffset % kWeightAlignment != 0)
    return reject("weight blob offset " + std::to_string(header.weightsOffset) +
                  " is not 64-byte aligned");
  if (header.weightsOffset < header.programOffset + header.programSize ||
      header.weightsOffset > fileSize ||
      header.weightsSize > fileSize - header.weightsOffset)
    return reject("weight blob [" + std::to_string(header.weightsOffset) +
                  ", +" + std::to_string(header.weightsSize) +
                  ") overlaps the program or lies outside the file (" +
                  std::to_string(fileSize) +
                  " bytes); the file is truncated or corrupt");
#ifdef DSP_HAVE_PROTOBUF_LOG_SILENCER
  // A corrupt file is reported once, by the error below, not also by
  // protobuf's own logging (invalid UTF-8 in a string field, ...).
  google::protobuf::LogSilencer silencer;
#endif
  if (!file->program_.ParseFromArray(bytes + header.programOffset,
                                     static_cast<int>(header.programSize)))
    return reject("the program section is corrupt (protobuf parse failed)");
  if (file->program_.format_version() != header.majorVersion)
    return reject("program format_version " +
                  std::to_string(file->program_.format_version()) +
                  " does not match the header's major version " +
                  std::to_string(header.majorVersion));
  std::string problem = validateProgram(file->program_, header.weightsSize);
  if (!problem.empty())
    return reject(problem);
  file->weights_ = bytes + header.weightsOffset;
  file->weightsBytes_ = header.weightsSize;
  uint64_t loadedBytes = file->program_.loaded_weights_bytes();
  if (loadedBytes > header.weightsSize) {
    // Some weights come from files next to the program or a generator: the
    // loaded blob is the file's blob followed by them.
    uint64_t memory = physicalMemoryBytes();
    if (loadedBytes > maxLoadedWeightBytes || loadedBytes > memory) {
      if (overBudget)
        *overBudget = true;
      return reject(
          "its weights take " + std::to_string(loadedBytes) +
          " bytes once loaded, more than " +
          (loadedBytes > memory
               ? "this machine's memory of " + std::to_string(memory)
               : "the limit of " + std::to_string(maxLoadedWeightBytes)));
    }
    void *loaded = nullptr;
    if (::posix_memalign(&loaded, kWeightAlignment, loadedBytes) != 0)
      return reject("cannot allocate " + std::to_string(loadedBytes) +
                    " bytes for the weights");
    file->loadedWeights_.reset(static_cast<uint8_t *>(loaded));
    std::memcpy(loaded, file->weights_, header.weightsSize);
    problem = loadWeightSources(file->program_, parentFolder(path),
                                file->loadedWeights_.get());
    if (!problem.empty())
      return reject(problem);
    file->weights_ = file->loadedWeights_.get();
    file->weightsBytes_ = loadedBytes;
  }
  return file;
}

bool ProgramFile::hasGeneratedWeights() const {
  return std::any_of(program_.tensors().begin(), program_.tensors().end(),
                     [](const dsp::program::Tensor &tensor) {
                       return tensor.has_generated();
                     });
}

ProgramFile::~ProgramFile() {
  if (mapping_)
    ::munmap(mapping_, mappingBytes_);
}

std::string programText(const dsp::program::Program &program) {
  std::string text;
  google::protobuf::TextFormat::PrintToString(program, &text);
  return text;
}

} // namespace format
} // namespace dsp

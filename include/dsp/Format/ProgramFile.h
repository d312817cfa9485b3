//===- ProgramFile.h - Reading and writing .dspx program files --*- C++ -*-===//
//
// A .dspx file is a 64-byte header, a serialized dsp.program.Program message
// and a 64-byte aligned weight blob; docs/program-format.md has the layout,
// the validation rules and the compatibility policy.
//
// The Program message classes are generated from
// lib/Format/Program.proto into the build tree; include them as
// "dsp/Format/Program.pb.h" (target DSPProgramFormat adds the
// include directory).
//
// Nothing here throws: every failure is reported as an error message.
//
//===----------------------------------------------------------------------===//

#ifndef DSP_FORMAT_PROGRAMFILE_H
#define DSP_FORMAT_PROGRAMFILE_H

#include "dsp/Format/Checked.h"
#include "dsp/Format/Layout.h"
#include "dsp/Format/Program.pb.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

namespace dsp {
namespace format {

constexpr char kMagic[8] = {'D', 'S', 'P', 'X', 0, 0, 0, 0};
constexpr uint32_t kMajorVersion = 1;
constexpr uint32_t kMinorVersion = 9;
constexpr uint64_t kHeaderBytes = 64;
/// Alignment of the weight blob in the file and of every weight in the blob.
constexpr uint64_t kWeightAlignment = 64;

/// The fixed header at the start of every program file (little-endian).
struct FileHeader {
  uint32_t majorVersion = 0;
  uint32_t minorVersion = 0;
  uint64_t programOffset = 0;
  uint64_t programSize = 0;
  uint64_t weightsOffset = 0;
  uint64_t weightsSize = 0;
};

/// The bytes of one WEIGHT tensor handed to the writer. `data == nullptr`
/// means `bytes` zero bytes, written as a hole in the file.
struct WeightData {
  uint32_t tensor;
  const void *data;
  size_t bytes;
};

/// Assigns the blob offset and size of every tensor in `weights` (each must
/// be a WEIGHT tensor whose shape matches `bytes`), sets the format version,
/// validates the program and writes the file. Weights are streamed, never
/// copied. Returns "" on success, otherwise an error message.
std::string writeProgramFile(const std::string &path,
                             dsp::program::Program &program,
                             const std::vector<WeightData> &weights);

/// Checks everything the runtime relies on: tensor table, buffer plan
/// (ranges and liveness), graph signature and every instruction's operands,
/// attributes and shapes. `weightsSize` is the size of the weight blob.
/// Returns "" if the program is valid, otherwise the first problem found.
std::string validateProgram(const dsp::program::Program &program,
                            uint64_t weightsSize);

/// Whether `instruction` starts an asynchronous collective (`async` = 1),
/// which a later `wait` completes.
bool startsAsync(const dsp::program::Instruction &instruction);

/// The instructions over which a tensor is live: from the one that writes
/// it (-1: a graph input) to the last that reads it (the instruction count:
/// a graph output). `last < first`: never live (a weight, or a tensor no
/// instruction writes).
struct TensorLifetime {
  int64_t first = 0;
  int64_t last = -1;
};

/// The lifetime of every tensor of `program`, whose instructions' operands
/// must be in range. The input of an async collective lives until its
/// `wait`, so that nothing reuses its bytes while the transfer reads them.
std::vector<TensorLifetime>
tensorLifetimes(const dsp::program::Program &program);

/// `program` in protobuf text format, one field per line.
std::string programText(const dsp::program::Program &program);

/// Byte size of one element of `dtype`; 0 for DTYPE_UNSPECIFIED or unknown.
size_t elementSize(dsp::program::DType dtype);
/// Short lower-case name of `dtype` ("f32", "i64", ...).
const char *dtypeName(dsp::program::DType dtype);
/// "[2,3,4]".
std::string shapeString(const std::vector<int64_t> &shape);

/// The shape of a tensor as a vector.
std::vector<int64_t> tensorShape(const dsp::program::Tensor &tensor);
/// The elements of a validated shape (its extents and their product fit).
uint64_t shapeElements(const std::vector<int64_t> &shape);
/// The sizes of the program's mesh axes: `mesh`, or one axis of all ranks.
std::vector<int64_t> programMesh(const dsp::program::Program &program);
/// The `layout` ints of a graph input or output of `program` as a layout
/// over its mesh: none are replicated and six are a layout over all ranks
/// (a mesh of one axis). Returns "" or what is wrong with them.
std::string decodeTensorLayout(const dsp::program::Program &program,
                               const std::vector<int64_t> &values,
                               MeshLayout &layout);
/// Multidirectional (numpy) broadcast of `a` and `b` into `result`; false if
/// the shapes are incompatible.
bool broadcastShapes(const std::vector<int64_t> &a,
                     const std::vector<int64_t> &b,
                     std::vector<int64_t> &result);

/// Attribute lookups for instructions that passed validation.
const dsp::program::Attribute *
findAttribute(const dsp::program::Instruction &instruction,
              const std::string &name);
/// The values of an `ints` attribute; empty if absent.
std::vector<int64_t> intsAttribute(const dsp::program::Instruction &instruction,
                                   const std::string &name);
/// The single value of a `floats` attribute, or `defaultValue` if absent.
double floatAttribute(const dsp::program::Instruction &instruction,
                      const std::string &name, double defaultValue);
/// The value of a `str` attribute, or `defaultValue` if absent.
std::string stringAttribute(const dsp::program::Instruction &instruction,
                            const std::string &name,
                            const std::string &defaultValue);

/// A validated program file mapped into memory. The weights stay mapped for
/// the object's lifetime and are shared by everything holding it.
class ProgramFile {
public:
  /// Maps and validates `path`, and loads its external and generated
  /// weights, which may take at most `maxLoadedWeightBytes` (a caller's
  /// memory budget; the fuzzer's is small) and at most the machine's
  /// physical memory. On failure returns null and sets `error` to a message
  /// that starts with the file name; `overBudget` (if given) tells a valid
  /// program whose weights exceed either limit from a program that is wrong.
  static std::shared_ptr<const ProgramFile>
  open(const std::string &path, std::string &error,
       uint64_t maxLoadedWeightBytes = kMaxBufferBytes,
       bool *overBudget = nullptr);
  ~ProgramFile();
  ProgramFile(const ProgramFile &) = delete;
  ProgramFile &operator=(const ProgramFile &) = delete;

  const dsp::program::Program &program() const { return program_; }
  const FileHeader &header() const { return header_; }
  const std::string &path() const { return path_; }
  /// Start of the loaded weight blob; WEIGHT tensor offsets are relative to
  /// it. It is the file's own blob, mapped, unless some weights come from
  /// an external file or a generator: then a copy with those filled in.
  const uint8_t *weights() const { return weights_; }
  /// Size of the loaded weight blob.
  uint64_t weightsBytes() const { return weightsBytes_; }
  /// Whether some weights are seeded random values made at load (a model
  /// compiled without its weights): the outputs are not the model's.
  bool hasGeneratedWeights() const;
  /// Address of a WEIGHT tensor's bytes.
  const void *weightData(uint32_t tensor) const {
    return weights_ + program_.tensors(tensor).offset();
  }

private:
  ProgramFile() = default;

  std::string path_;
  FileHeader header_;
  dsp::program::Program program_;
  void *mapping_ = nullptr;
  size_t mappingBytes_ = 0;
  const uint8_t *weights_ = nullptr;
  uint64_t weightsBytes_ = 0;
  struct FreeDeleter {
    void operator()(uint8_t *p) const { std::free(p); }
  };
  std::unique_ptr<uint8_t, FreeDeleter> loadedWeights_;
};

} // namespace format
} // namespace dsp

#endif // DSP_FORMAT_PROGRAMFILE_H

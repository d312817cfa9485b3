//===- WeightSources.cpp - Weights not stored in the program --------------===//

#include "dsp/Format/WeightSources.h"

#include "dsp/Format/Checked.h"
#include "dsp/Format/FileIO.h"
#include "dsp/Format/Float16.h"
#include "dsp/Format/ProgramFile.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>
#include <map>
#include <sys/mman.h>
#include <unistd.h>
#include <vector>

namespace dsp {
namespace format {

using dsp::program::DType;
using dsp::program::Program;
using dsp::program::Tensor;

namespace {

constexpr uint64_t kMix1 = 0x9e3779b97f4a7c15ULL;
constexpr uint64_t kMix2 = 0xbf58476d1ce4e5b9ULL;
constexpr uint64_t kMix3 = 0x94d049bb133111ebULL;

uint64_t rotateLeft(uint64_t x, int bits) {
  return (x << bits) | (x >> (64 - bits));
}

uint64_t load64(const uint8_t *p) {
  uint64_t value = 0;
  for (int i = 7; i >= 0; --i)
    value = (value << 8) | p[i];
  return value;
}

/// A bijective 64-bit mix (splitmix64's finalizer).
uint64_t avalanche(uint64_t x) {
  x = (x ^ (x >> 30)) * kMix2;
  x = (x ^ (x >> 27)) * kMix3;
  return x ^ (x >> 31);
}

uint64_t absorb(uint64_t lane, uint64_t word) {
  return rotateLeft(lane + word * kMix2, 31) * kMix1;
}

/// Writes `valueAt(i)` for i < `elements` to `out` as `dtype` (F32, F16 or
/// BF16), each rounded once.
template <typename ValueAt>
void writeFloats(DType dtype, uint64_t elements, uint8_t *out,
                 ValueAt valueAt) {
  constexpr size_t kChunk = 4096;
  float chunk[kChunk];
  for (uint64_t start = 0; start < elements; start += kChunk) {
    size_t count =
        static_cast<size_t>(std::min<uint64_t>(kChunk, elements - start));
    for (size_t j = 0; j < count; ++j)
      chunk[j] = valueAt(start + j);
    uint8_t *to = out + start * elementSize(dtype);
    if (dtype == dsp::program::F32)
      std::memcpy(to, chunk, count * sizeof(float));
    else
      narrowFromFloat(dtype, chunk, to, count);
  }
}

/// Maps a file of weights read-only, once per resolved path.
class MappedFiles {
public:
  ~MappedFiles() {
    for (auto &entry : files_)
      if (entry.second.size)
        ::munmap(entry.second.data, entry.second.size);
  }
  /// The bytes of the regular file `path`, or null with `error` set.
  const uint8_t *map(const std::string &path, uint64_t &size,
                     std::string &error) {
    auto found = files_.find(path);
    if (found == files_.end()) {
      Mapping mapping;
      int fd = openRegularFile(path, std::numeric_limits<uint64_t>::max(),
                               mapping.size, error);
      if (fd < 0)
        return nullptr;
      if (mapping.size) {
        mapping.data =
            ::mmap(nullptr, mapping.size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (mapping.data == MAP_FAILED) {
          error = path + ": cannot map: " + std::strerror(errno);
          ::close(fd);
          return nullptr;
        }
      }
      ::close(fd);
      found = files_.emplace(path, mapping).first;
    }
    size = found->second.size;
    return static_cast<const uint8_t *>(found->second.data);
  }

private:
  struct Mapping {
    void *data = nullptr;
    uint64_t size = 0;
  };
  std::map<std::string, Mapping> files_;
};

/// `bytes` bytes at `offset` of the regular file `path`, or null with
/// `error` set.
const uint8_t *mapRange(MappedFiles &files, const std::string &path,
                        uint64_t offset, uint64_t bytes, std::string &error) {
  static const uint8_t kEmpty[1] = {0};
  uint64_t size = 0;
  const uint8_t *data = files.map(path, size, error);
  if (!data && !error.empty())
    return nullptr;
  if (offset > size || bytes > size - offset) {
    error = "it holds " + std::to_string(size) + " bytes, the weight needs " +
            std::to_string(bytes) + " from offset " + std::to_string(offset);
    return nullptr;
  }
  return data ? data + offset : kEmpty;
}

std::string loadExternal(const Tensor &tensor, const std::string &folder,
                         MappedFiles &files, uint8_t *out) {
  const dsp::program::ExternalWeight &external = tensor.external();
  std::string what =
      "weight '" + tensor.name() + "': external file '" + external.path() + "'";
  std::string resolved, reason;
  switch (resolveInsideFolder(folder, external.path(), resolved, reason)) {
  case Confinement::Inside:
    break;
  case Confinement::FolderUnresolved:
    return what + ": cannot resolve the program's folder '" + folder +
           "': " + reason;
  case Confinement::FileUnresolved:
    return what + " cannot be opened: " + reason +
           " (it is looked for relative to the program's folder '" + folder +
           "')";
  case Confinement::Outside:
    return what + " leads outside the program's folder (to '" + resolved + "')";
  }
  std::string error;
  const uint8_t *bytes =
      mapRange(files, resolved, external.offset(), external.bytes(), error);
  if (!bytes)
    return what + ": " + error +
           "; the file changed since the program was compiled";
  if (weightChecksum(bytes, external.bytes()) != external.checksum())
    return what + ": the " + std::to_string(external.bytes()) +
           " bytes at offset " + std::to_string(external.offset()) +
           " do not match the checksum recorded at compile time; the file "
           "changed since the program was compiled";
  if (external.dtype() == tensor.dtype()) {
    std::memcpy(out, bytes, external.bytes());
    return "";
  }
  // F32 in the file, F16 or BF16 in the program: rounded once, here.
  writeFloats(tensor.dtype(), external.bytes() / sizeof(float), out,
              [&](uint64_t i) {
                float value;
                std::memcpy(&value, bytes + i * sizeof(float), sizeof(float));
                return value;
              });
  return "";
}

} // namespace

uint64_t weightChecksum(const void *data, size_t bytes) {
  const uint8_t *p = static_cast<const uint8_t *>(data);
  uint64_t lanes[4] = {kMix1, kMix2, kMix3, kMix1 ^ kMix2};
  size_t left = bytes;
  for (; left >= 32; left -= 32, p += 32)
    for (int i = 0; i < 4; ++i)
      lanes[i] = absorb(lanes[i], load64(p + 8 * i));
  uint64_t hash = static_cast<uint64_t>(bytes) * kMix3;
  for (uint64_t lane : lanes)
    hash = absorb(hash, avalanche(lane));
  for (; left >= 8; left -= 8, p += 8)
    hash = absorb(hash, load64(p));
  uint64_t tail = 0;
  for (size_t i = 0; i < left; ++i)
    tail |= static_cast<uint64_t>(p[i]) << (8 * i);
  return avalanche(absorb(hash, tail ^ (static_cast<uint64_t>(left) << 56)));
}

void generateWeight(const dsp::program::GeneratedWeight &generated, DType dtype,
                    uint64_t elements, void *out) {
  // Element i's value depends on the seed and i alone (a counter-based
  // generator), so the values do not depend on how the loop is split.
  auto value = [&](uint64_t i) {
    uint64_t bits = avalanche(generated.seed() * kMix1 + i * kMix2 + kMix3);
    double unit = static_cast<double>(bits >> 11) * 0x1.0p-53;
    return static_cast<float>(generated.center() +
                              generated.bound() * (2 * unit - 1));
  };
  writeFloats(dtype, elements, static_cast<uint8_t *>(out), value);
}

void fillSplat(const void *element, size_t width, size_t bytes, void *out) {
  if (bytes == 0)
    return;
  // The element, then copies of what is filled so far: a few large copies
  // rather than one small one per element.
  auto *data = static_cast<uint8_t *>(out);
  std::memcpy(data, element, width);
  for (size_t filled = width; filled < bytes; filled *= 2)
    std::memcpy(data + filled, data, std::min(filled, bytes - filled));
}

std::string externalWeightChecksum(const std::string &path, uint64_t offset,
                                   uint64_t bytes, uint64_t &checksum) {
  MappedFiles files;
  std::string error;
  const uint8_t *data = mapRange(files, path, offset, bytes, error);
  if (!data)
    return "external data file '" + path + "': " + error;
  checksum = weightChecksum(data, bytes);
  return "";
}

bool canLoadWeightAs(DType from, DType to) {
  return from == to || (from == dsp::program::F32 && isFloat16(to));
}

std::string externalPathProblem(const std::string &path) {
  if (path.empty())
    return "is empty";
  if (path.find('\0') != std::string::npos)
    return "holds a NUL byte";
  if (path.front() == '/')
    return "is absolute";
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string::npos)
      end = path.size();
    if (path.compare(start, end - start, "..") == 0 && end - start == 2)
      return "has a '..' component";
    start = end + 1;
  }
  return "";
}

std::string loadWeightSources(const Program &program,
                              const std::string &programFolder, uint8_t *blob) {
  MappedFiles files;
  for (const Tensor &tensor : program.tensors()) {
    uint8_t *out = blob + tensor.offset();
    if (tensor.has_external()) {
      std::string problem = loadExternal(tensor, programFolder, files, out);
      if (!problem.empty())
        return problem;
    } else if (tensor.has_generated()) {
      generateWeight(tensor.generated(), tensor.dtype(),
                     tensor.bytes() / elementSize(tensor.dtype()), out);
    } else if (tensor.has_splat()) {
      fillSplat(tensor.splat().element().data(), elementSize(tensor.dtype()),
                tensor.bytes(), out);
    }
  }
  return "";
}

} // namespace format
} // namespace dsp

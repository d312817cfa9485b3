//===- WeightSources.h - Weights not stored in the program ------*- C++ -*-===//
//
// A WEIGHT tensor's bytes come from the program's own blob, from a file next
// to the program (a model's external weight file, referenced instead of
// copied), from a seeded generator (a model compiled without weights, for
// benchmarks), or from one element repeated (a splat constant). These are the
// rules for the last three, shared by the compiler that records them and the
// loader that resolves them.
//
//===----------------------------------------------------------------------===//

#ifndef DSP_FORMAT_WEIGHTSOURCES_H
#define DSP_FORMAT_WEIGHTSOURCES_H

#include "dsp/Format/Program.pb.h"

#include <cstddef>
#include <cstdint>
#include <string>

namespace dsp {
namespace format {

/// A 64-bit checksum of `bytes` bytes at `data`: what an external weight's
/// `checksum` records. It detects a changed or different file; it is not a
/// cryptographic hash.
uint64_t weightChecksum(const void *data, size_t bytes);

/// Writes `elements` values of `dtype` (F32, F16 or BF16) drawn by
/// `generated`'s seeded generator to `out`. The same seed gives the same
/// values on every machine.
void generateWeight(const dsp::program::GeneratedWeight &generated,
                    dsp::program::DType dtype, uint64_t elements, void *out);

/// Fills `bytes` bytes at `out` with copies of the `width` bytes at
/// `element` (`bytes` a multiple of `width`): a splat weight at load.
void fillSplat(const void *element, size_t width, size_t bytes, void *out);

/// The checksum of `bytes` bytes at `offset` of the regular file `path`.
/// Returns "" or an error.
std::string externalWeightChecksum(const std::string &path, uint64_t offset,
                                   uint64_t bytes, uint64_t &checksum);

/// Whether a file of element type `from` can be loaded into a tensor of
/// `to`: the same type, or F32 narrowed to F16 or BF16.
bool canLoadWeightAs(dsp::program::DType from, dsp::program::DType to);

/// Problems with an external weight's path as written: empty, absolute, a
/// `..` component, a NUL byte. "" if none; the file is not touched.
std::string externalPathProblem(const std::string &path);

/// Loads every external, generated and splat WEIGHT tensor of a validated
/// `program` into `blob` (the loaded weight blob) at its offset. External paths
/// are resolved against `programFolder` and must stay inside it, name regular
/// files, hold the bytes at their offsets and match their checksums. Returns
/// "" or an error naming the tensor and the file.
std::string loadWeightSources(const dsp::program::Program &program,
                              const std::string &programFolder, uint8_t *blob);

} // namespace format
} // namespace dsp

#endif // DSP_FORMAT_WEIGHTSOURCES_H

//===- Padding.h - The rule of the pad op -----------------------*- C++ -*-===//
//
// Which input element each element of a padded tensor reads, and which pads
// fit a shape: the compiler's verifier and folder, the validator and the
// kernels all follow these.
//
//===----------------------------------------------------------------------===//

#ifndef DSP_FORMAT_PADDING_H
#define DSP_FORMAT_PADDING_H

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dsp {
namespace format {

enum class PadMode {
  /// The pads hold the fill value.
  Constant,
  /// The pads mirror the input about its first and last element.
  Reflect,
  /// The pads repeat the first and last element.
  Edge,
};

/// The mode spelled `name` ("constant", "reflect", "edge"), or nullopt.
std::optional<PadMode> parsePadMode(std::string_view name);

// The CUDA pad kernel follows the same rule on the device.
#ifdef __CUDACC__
#define DSP_HOST_DEVICE __host__ __device__
#else
#define DSP_HOST_DEVICE
#endif

/// The index of a dim of `size` elements that index `i` of the padded dim,
/// with `begin` pad elements before the input, reads; -1 for the fill value.
DSP_HOST_DEVICE inline int64_t padSourceIndex(int64_t i, int64_t begin,
                                              int64_t size, PadMode mode) {
  int64_t j = i - begin;
  if (j >= 0 && j < size)
    return j;
  switch (mode) {
  case PadMode::Constant:
    return -1;
  case PadMode::Edge:
    return j < 0 ? 0 : size - 1;
  case PadMode::Reflect:
    return j < 0 ? -j : 2 * (size - 1) - j;
  }
  return -1;
}

/// Why `pads` (all begins, then all ends) cannot pad a tensor of `shape` in
/// `mode`, or "" if they can: one non-negative pad per end, a reflected pad
/// shorter than its dim, an edge pad of a non-empty dim, and a padded shape
/// of at most kMaxElements elements. Sets `padded` to the padded shape.
std::string padProblem(const std::vector<int64_t> &shape,
                       const std::vector<int64_t> &pads, PadMode mode,
                       std::vector<int64_t> &padded);

} // namespace format
} // namespace dsp

#endif // DSP_FORMAT_PADDING_H

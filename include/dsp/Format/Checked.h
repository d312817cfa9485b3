//===- Checked.h - Arithmetic on numbers from files and flags ---*- C++ -*-===//
//
// Every size, count and offset that comes from a model, a program file, a
// .npy header or a flag goes through these helpers before it is used: they
// report overflow instead of wrapping, so a hostile number becomes an error
// message rather than a short allocation or an out-of-bounds copy. The
// compiler and the runtime share them; nothing here depends on LLVM.
//
//===----------------------------------------------------------------------===//

#ifndef DSP_FORMAT_CHECKED_H
#define DSP_FORMAT_CHECKED_H

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <optional>
#include <string_view>

namespace dsp {
namespace format {

/// The most elements one tensor may have, so that a byte count (at most 8
/// bytes an element) and the offsets built from it stay far from 2^63.
constexpr int64_t kMaxElements = int64_t(1) << 48;

/// The most ranks a program may be compiled for or run on.
constexpr int64_t kMaxRanks = 65536;

/// CUDA's launch limits: grid and block extents per axis (x, y, z) and the
/// threads of one block.
constexpr int64_t kMaxGridDims[3] = {(int64_t(1) << 31) - 1, 65535, 65535};
constexpr int64_t kMaxBlockDims[3] = {1024, 1024, 64};
constexpr int64_t kMaxBlockThreads = 1024;

/// The largest arena or scratch buffer a program may ask for (2^56 bytes,
/// 64 PiB): beyond any machine, yet far enough from 2^64 that rounding it
/// up to an alignment or adding a few such sizes cannot wrap.
constexpr uint64_t kMaxBufferBytes = uint64_t(1) << 56;

/// The largest binary or PTX text of one code object (1 GiB); the whole
/// program message is bounded by protobuf's 2 GiB.
constexpr uint64_t kMaxCodeObjectBytes = uint64_t(1) << 30;

/// The longest path of an external weight file a program may name.
constexpr uint64_t kMaxExternalPathBytes = 4096;

/// The largest magnitude a generated weight may reach.
constexpr double kMaxGeneratedValue = 1e30;

/// a * b, or nullopt on overflow.
template <typename T> std::optional<T> checkedMul(T a, T b) {
  T result;
  if (__builtin_mul_overflow(a, b, &result))
    return std::nullopt;
  return result;
}

/// The product of `factors` as a size in bytes, or SIZE_MAX if it
/// overflows: a buffer that large is refused, where a wrapped product would
/// be a small one that its users overrun.
inline size_t saturatingSize(std::initializer_list<uint64_t> factors) {
  uint64_t product = 1;
  for (uint64_t factor : factors) {
    std::optional<uint64_t> next = checkedMul(product, factor);
    if (!next || *next > SIZE_MAX)
      return SIZE_MAX;
    product = *next;
  }
  return static_cast<size_t>(product);
}

/// a + b, or nullopt on overflow.
template <typename T> std::optional<T> checkedAdd(T a, T b) {
  T result;
  if (__builtin_add_overflow(a, b, &result))
    return std::nullopt;
  return result;
}

/// a - b, or nullopt on overflow.
template <typename T> std::optional<T> checkedSub(T a, T b) {
  T result;
  if (__builtin_sub_overflow(a, b, &result))
    return std::nullopt;
  return result;
}

/// `value` rounded up to a multiple of `alignment` (> 0), or nullopt on
/// overflow.
inline std::optional<uint64_t> checkedAlignUp(uint64_t value,
                                              uint64_t alignment) {
  std::optional<uint64_t> bumped = checkedAdd(value, alignment - 1);
  if (!bumped)
    return std::nullopt;
  return *bumped / alignment * alignment;
}

/// The element count of a shape: nullopt if a dim is negative or the
/// product exceeds `limit`. Works on any range of integers.
template <typename Range>
std::optional<int64_t> checkedElementCount(const Range &dims,
                                           int64_t limit = kMaxElements) {
  int64_t count = 1;
  bool empty = false;
  for (auto dim : dims) {
    int64_t d = static_cast<int64_t>(dim);
    if (d < 0)
      return std::nullopt;
    if (d == 0)
      empty = true;
    else if (count > limit / d)
      return std::nullopt;
    else
      count *= d;
  }
  return empty ? 0 : count;
}

/// A floating-point value as a signed `Integer` where the C++ conversion is
/// undefined: NaN becomes 0 and values beyond the range saturate (Rust's
/// `as`); others truncate toward zero.
template <typename Integer> Integer saturatingToInteger(double x) {
  // 2^(bits - 1), the first value past the top of the range: exact.
  const double limit =
      static_cast<double>(std::numeric_limits<Integer>::max()) + 1.0;
  if (x != x)
    return 0;
  if (x >= limit)
    return std::numeric_limits<Integer>::max();
  if (x < -limit)
    return std::numeric_limits<Integer>::min();
  return static_cast<Integer>(x);
}

inline int64_t saturatingToInt64(double x) {
  return saturatingToInteger<int64_t>(x);
}

/// Parses a plain decimal number (digits only: no sign, space or suffix) no
/// larger than `max`; nullopt otherwise.
inline std::optional<uint64_t>
parseDecimal(std::string_view text,
             uint64_t max = std::numeric_limits<uint64_t>::max()) {
  if (text.empty())
    return std::nullopt;
  uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9')
      return std::nullopt;
    std::optional<uint64_t> next = checkedMul<uint64_t>(value, 10);
    if (next)
      next = checkedAdd<uint64_t>(*next, static_cast<uint64_t>(c - '0'));
    if (!next || *next > max)
      return std::nullopt;
    value = *next;
  }
  return value;
}

} // namespace format
} // namespace dsp

#endif // DSP_FORMAT_CHECKED_H

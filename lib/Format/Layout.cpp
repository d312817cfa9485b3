//===- Layout.cpp - Split layouts and block copies ------------------------===//

#include "dsp/Format/Layout.h"

#include "dsp/Format/Checked.h"

#include <algorithm>
#include <cstring>

namespace dsp {
namespace format {

std::string Layout::decode(const std::vector<int64_t> &values, Layout &layout) {
  if (values.size() != 6)
    return "a layout has 6 ints [kind, dim, outer, size, inner, pad], got " +
           std::to_string(values.size());
  if (values[0] < Replicated || values[0] > Partial)
    return "layout kind " + std::to_string(values[0]) +
           " is not 0 (replicated), 1 (split) or 2 (partial)";
  layout = Layout();
  layout.kind = static_cast<Kind>(values[0]);
  if (layout.kind != Split)
    return "";
  layout.dim = values[1];
  layout.outer = values[2];
  layout.size = values[3];
  layout.inner = values[4];
  layout.pad = values[5];
  return "";
}

std::vector<int64_t> Layout::encode() const {
  return {kind, dim, outer, size, inner, pad};
}

std::string Layout::str() const {
  if (kind == Replicated)
    return "replicated";
  if (kind == Partial)
    return "partial";
  return "split(dim=" + std::to_string(dim) +
         ",outer=" + std::to_string(outer) + ",size=" + std::to_string(size) +
         ",inner=" + std::to_string(inner) + ",pad=" + std::to_string(pad) +
         ")";
}

std::string Layout::checkDim(size_t rank) const {
  if (dim < 0 || dim >= static_cast<int64_t>(rank))
    return str() + ": dim is out of range for rank " + std::to_string(rank);
  return "";
}

std::string Layout::check(const std::vector<int64_t> &globalShape,
                          int64_t ranks) const {
  if (kind != Split)
    return "";
  if (std::string problem = checkDim(globalShape.size()); !problem.empty())
    return problem;
  if (outer < 1 || size < 1 || inner < 1 || pad < 0)
    return str() + ": outer, size and inner must be >= 1 and pad >= 0";
  // A pad below the rank count keeps every block within the global extent,
  // so no local shape or collective chunk outgrows the checked global shape.
  if (pad >= ranks)
    return str() + ": pad must be less than the " + std::to_string(ranks) +
           " ranks";
  std::optional<int64_t> extent = checkedMul(outer, size);
  if (extent)
    extent = checkedMul(*extent, inner);
  if (extent != globalShape[dim])
    return str() + ": outer*size*inner must equal the global extent " +
           std::to_string(globalShape[dim]) + " of dim " + std::to_string(dim);
  if ((size + pad) % ranks != 0)
    return str() + ": size+pad must be a multiple of the " +
           std::to_string(ranks) + " ranks";
  return "";
}

std::vector<int64_t> Layout::localShape(const std::vector<int64_t> &globalShape,
                                        int64_t ranks) const {
  std::vector<int64_t> shape = globalShape;
  if (kind == Split)
    shape[dim] = outer * block(ranks) * inner;
  return shape;
}

std::string Layout::globalShape(const std::vector<int64_t> &localShape,
                                int64_t ranks, std::vector<int64_t> &global) {
  global = localShape;
  if (kind != Split)
    return "";
  if (std::string problem = checkDim(localShape.size()); !problem.empty())
    return problem;
  std::optional<int64_t> around = checkedMul(outer, inner);
  if (outer < 1 || inner < 1 || pad < 0 || ranks < 1 || !around)
    return str() + ": outer and inner must be >= 1 and pad >= 0";
  int64_t extent = localShape[dim];
  if (extent < 1 || extent % *around != 0)
    return str() + ": extent " + std::to_string(extent) + " of dim " +
           std::to_string(dim) + " is not outer*block*inner";
  std::optional<int64_t> padded = checkedMul(extent / *around, ranks);
  std::optional<int64_t> whole;
  if (padded && *padded > pad) {
    size = *padded - pad;
    whole = checkedMul(outer, size);
    if (whole)
      whole = checkedMul(*whole, inner);
  }
  if (!whole)
    return str() + ": the global extent of a block of " +
           std::to_string(extent) + " over " + std::to_string(ranks) +
           " ranks is out of range";
  global[dim] = *whole;
  return check(global, ranks);
}

BlockGeometry::BlockGeometry(const std::vector<int64_t> &fullShape,
                             size_t elementSize, const Layout &layout,
                             int64_t ranks, int64_t rank) {
  for (int64_t d = 0; d < layout.dim; ++d)
    rows *= fullShape[d];
  runBytes = layout.inner * static_cast<int64_t>(elementSize);
  for (size_t d = layout.dim + 1; d < fullShape.size(); ++d)
    runBytes *= fullShape[d];
  rows *= layout.outer;
  block = layout.block(ranks);
  first = rank * block;
  valid = std::clamp<int64_t>(layout.size - first, 0, block);
}

void extractBlock(const void *full, const std::vector<int64_t> &fullShape,
                  size_t elementSize, const Layout &layout, int64_t ranks,
                  int64_t rank, void *block) {
  BlockGeometry g(fullShape, elementSize, layout, ranks, rank);
  const uint8_t *source = static_cast<const uint8_t *>(full);
  uint8_t *target = static_cast<uint8_t *>(block);
  for (int64_t row = 0; row < g.rows; ++row) {
    const uint8_t *from = source + (row * layout.size + g.first) * g.runBytes;
    uint8_t *to = target + row * g.block * g.runBytes;
    if (g.valid)
      std::memcpy(to, from, g.valid * g.runBytes);
    std::memset(to + g.valid * g.runBytes, 0, (g.block - g.valid) * g.runBytes);
  }
}

void insertBlock(const void *block, const std::vector<int64_t> &fullShape,
                 size_t elementSize, const Layout &layout, int64_t ranks,
                 int64_t rank, void *full) {
  BlockGeometry g(fullShape, elementSize, layout, ranks, rank);
  if (!g.valid)
    return;
  const uint8_t *source = static_cast<const uint8_t *>(block);
  uint8_t *target = static_cast<uint8_t *>(full);
  for (int64_t row = 0; row < g.rows; ++row)
    std::memcpy(target + (row * layout.size + g.first) * g.runBytes,
                source + row * g.block * g.runBytes, g.valid * g.runBytes);
}

void zeroBlockPad(void *block, const std::vector<int64_t> &fullShape,
                  size_t elementSize, const Layout &layout, int64_t ranks,
                  int64_t rank) {
  BlockGeometry g(fullShape, elementSize, layout, ranks, rank);
  if (g.valid == g.block)
    return;
  uint8_t *target = static_cast<uint8_t *>(block);
  for (int64_t row = 0; row < g.rows; ++row)
    std::memset(target + (row * g.block + g.valid) * g.runBytes, 0,
                (g.block - g.valid) * g.runBytes);
}

int64_t contiguousBlockOffset(const std::vector<int64_t> &fullShape,
                              size_t elementSize, const Layout &layout,
                              int64_t ranks, int64_t rank) {
  BlockGeometry g(fullShape, elementSize, layout, ranks, rank);
  if (g.rows != 1 || g.valid != g.block)
    return -1;
  return g.first * g.runBytes;
}

} // namespace format
} // namespace dsp

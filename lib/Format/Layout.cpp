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

std::vector<int64_t> contiguousStrides(const std::vector<int64_t> &shape) {
  std::vector<int64_t> strides(shape.size());
  int64_t stride = 1;
  for (size_t d = shape.size(); d-- > 0;) {
    strides[d] = stride;
    stride *= shape[d];
  }
  return strides;
}

std::vector<int64_t> transposedStrides(const std::vector<int64_t> &shape,
                                       const std::vector<int64_t> &perm) {
  std::vector<int64_t> contiguous = contiguousStrides(shape);
  std::vector<int64_t> strides(perm.size());
  for (size_t d = 0; d < perm.size(); ++d)
    strides[d] = contiguous[perm[d]];
  return strides;
}

BlockCopy blockCopy(const std::vector<int64_t> &fullShape,
                    const std::vector<int64_t> &fullStrides,
                    const Layout &layout, int64_t ranks, int64_t rank) {
  BlockGeometry g(fullShape, 1, layout, ranks, rank);
  BlockCopy copy;
  if (g.valid == 0 ||
      std::find(fullShape.begin(), fullShape.end(), 0) != fullShape.end())
    return copy;
  // Dim d is [outer, size, inner] in the full tensor and [outer, block,
  // inner] in the block; the copy covers [outer, valid, inner] of it.
  std::vector<int64_t> localShape = layout.localShape(fullShape, ranks);
  std::vector<int64_t> blockStrides = contiguousStrides(localShape);
  int64_t d = layout.dim;
  std::vector<int64_t> shape, full, local;
  for (int64_t i = 0; i < static_cast<int64_t>(fullShape.size()); ++i) {
    if (i != d) {
      shape.push_back(fullShape[i]);
      full.push_back(fullStrides[i]);
      local.push_back(blockStrides[i]);
      continue;
    }
    int64_t unit = fullStrides[d], blockUnit = blockStrides[d];
    shape.insert(shape.end(), {layout.outer, g.valid, layout.inner});
    full.insert(full.end(),
                {unit * layout.inner * layout.size, unit * layout.inner, unit});
    local.insert(local.end(), {blockUnit * layout.inner * g.block,
                               blockUnit * layout.inner, blockUnit});
    copy.fullOffset = g.first * unit * layout.inner;
  }
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == 1)
      continue;
    bool merges = !copy.shape.empty() &&
                  copy.fullStrides.back() == full[i] * shape[i] &&
                  copy.blockStrides.back() == local[i] * shape[i];
    if (merges) {
      copy.shape.back() *= shape[i];
      copy.fullStrides.back() = full[i];
      copy.blockStrides.back() = local[i];
      continue;
    }
    copy.shape.push_back(shape[i]);
    copy.fullStrides.push_back(full[i]);
    copy.blockStrides.push_back(local[i]);
  }
  if (copy.shape.empty())
    copy = {{1}, {1}, {1}, copy.fullOffset};
  return copy;
}

namespace {

/// Copies the elements of `copy` between `full` and `block`, in the
/// direction `intoBlock` says: runs along the last dim, one memcpy each
/// where both sides are contiguous there.
void copyBlock(const BlockCopy &copy, size_t elementSize, bool intoBlock,
               const uint8_t *source, uint8_t *target) {
  if (copy.shape.empty())
    return;
  const std::vector<int64_t> &sourceStrides =
      intoBlock ? copy.fullStrides : copy.blockStrides;
  const std::vector<int64_t> &targetStrides =
      intoBlock ? copy.blockStrides : copy.fullStrides;
  int64_t bytes = static_cast<int64_t>(elementSize);
  source += (intoBlock ? copy.fullOffset : 0) * bytes;
  target += (intoBlock ? 0 : copy.fullOffset) * bytes;
  size_t last = copy.shape.size() - 1;
  int64_t run = copy.shape[last];
  int64_t sourceStep = sourceStrides[last] * bytes;
  int64_t targetStep = targetStrides[last] * bytes;
  bool contiguous = sourceStrides[last] == 1 && targetStrides[last] == 1;
  std::vector<int64_t> index(last, 0);
  while (true) {
    int64_t from = 0, to = 0;
    for (size_t i = 0; i < last; ++i) {
      from += index[i] * sourceStrides[i];
      to += index[i] * targetStrides[i];
    }
    const uint8_t *in = source + from * bytes;
    uint8_t *out = target + to * bytes;
    if (contiguous)
      std::memcpy(out, in, run * bytes);
    else
      for (int64_t e = 0; e < run; ++e)
        std::memcpy(out + e * targetStep, in + e * sourceStep, elementSize);
    size_t i = last;
    while (i > 0 && ++index[i - 1] == copy.shape[i - 1])
      index[--i] = 0;
    if (i == 0)
      return;
  }
}

} // namespace

void extractBlock(const void *full, const std::vector<int64_t> &fullShape,
                  const std::vector<int64_t> &fullStrides, size_t elementSize,
                  const Layout &layout, int64_t ranks, int64_t rank,
                  void *block) {
  copyBlock(blockCopy(fullShape, fullStrides, layout, ranks, rank), elementSize,
            true, static_cast<const uint8_t *>(full),
            static_cast<uint8_t *>(block));
  zeroBlockPad(block, fullShape, elementSize, layout, ranks, rank);
}

void insertBlock(const void *block, const std::vector<int64_t> &fullShape,
                 const std::vector<int64_t> &fullStrides, size_t elementSize,
                 const Layout &layout, int64_t ranks, int64_t rank,
                 void *full) {
  copyBlock(blockCopy(fullShape, fullStrides, layout, ranks, rank), elementSize,
            false, static_cast<const uint8_t *>(block),
            static_cast<uint8_t *>(full));
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

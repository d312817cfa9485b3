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

std::string MeshLayout::decode(const std::vector<int64_t> &mesh,
                               const std::vector<int64_t> &values,
                               MeshLayout &layout) {
  if (values.size() != 6 * mesh.size())
    return "a layout on a mesh of " + std::to_string(mesh.size()) +
           " axes has " + std::to_string(6 * mesh.size()) + " ints, got " +
           std::to_string(values.size());
  layout = MeshLayout();
  layout.mesh = mesh;
  for (size_t k = 0; k < mesh.size(); ++k) {
    Layout axis;
    std::string problem =
        Layout::decode(std::vector<int64_t>(values.begin() + 6 * k,
                                            values.begin() + 6 * (k + 1)),
                       axis);
    if (!problem.empty())
      return "mesh axis " + std::to_string(k) + ": " + problem;
    layout.axes.push_back(axis);
  }
  return "";
}

std::vector<int64_t> MeshLayout::encode() const {
  std::vector<int64_t> values;
  for (const Layout &axis : axes)
    for (int64_t v : axis.encode())
      values.push_back(v);
  return values;
}

std::string MeshLayout::str() const {
  if (axes.size() == 1)
    return axes[0].str();
  std::string text = "mesh[";
  for (size_t k = 0; k < mesh.size(); ++k)
    text += (k ? "," : "") + std::to_string(mesh[k]);
  text += "](";
  for (size_t k = 0; k < axes.size(); ++k)
    text += (k ? "," : "") + axes[k].str();
  return text + ")";
}

int64_t MeshLayout::ranks() const {
  int64_t product = 1;
  for (int64_t size : mesh)
    product *= size;
  return product;
}

/// The rank distance between neighbours on `axis` of a row-major `mesh`.
static int64_t meshStride(const std::vector<int64_t> &mesh, size_t axis) {
  int64_t stride = 1;
  for (size_t k = axis + 1; k < mesh.size(); ++k)
    stride *= mesh[k];
  return stride;
}

int64_t MeshLayout::coordinate(int64_t rank, size_t axis) const {
  return rank / meshStride(mesh, axis) % mesh[axis];
}

std::vector<int> MeshLayout::subGroup(int64_t rank, size_t axis) const {
  int64_t stride = meshStride(mesh, axis);
  int64_t first = rank - coordinate(rank, axis) * stride;
  std::vector<int> members;
  for (int64_t c = 0; c < mesh[axis]; ++c)
    members.push_back(static_cast<int>(first + c * stride));
  return members;
}

std::vector<Layout>
MeshLayout::stepwise(const std::vector<size_t> &order) const {
  std::vector<Layout> steps;
  std::vector<size_t> applied;
  for (size_t k : order) {
    const Layout &global = axes[k];
    Layout step = global;
    // An earlier split of the same dim shrinks this one's outer or inner
    // part from its size to its block.
    int64_t outerSizes = 1, outerBlocks = 1, innerSizes = 1, innerBlocks = 1;
    for (size_t j : applied) {
      const Layout &earlier = axes[j];
      if (global.kind != Layout::Split || earlier.kind != Layout::Split ||
          earlier.dim != global.dim)
        continue;
      bool outside = global.outer % (earlier.outer * earlier.size) == 0;
      (outside ? outerSizes : innerSizes) *= earlier.size;
      (outside ? outerBlocks : innerBlocks) *= earlier.block(mesh[j]);
    }
    step.outer = global.outer / outerSizes * outerBlocks;
    step.inner = global.inner / innerSizes * innerBlocks;
    steps.push_back(step);
    applied.push_back(k);
  }
  return steps;
}

/// 0, 1, ..., n-1.
static std::vector<size_t> inOrder(size_t n) {
  std::vector<size_t> order(n);
  for (size_t k = 0; k < n; ++k)
    order[k] = k;
  return order;
}

std::string MeshLayout::check(const std::vector<int64_t> &globalShape) const {
  if (mesh.size() != axes.size())
    return str() + ": one layout per mesh axis";
  for (size_t k = 0; k < axes.size(); ++k) {
    if (mesh[k] < 1)
      return str() + ": mesh sizes must be positive";
    if (std::string problem = axes[k].check(globalShape, mesh[k]);
        !problem.empty())
      return "mesh axis " + std::to_string(k) + ": " + problem;
  }
  for (size_t a = 0; a < axes.size(); ++a)
    for (size_t b = a + 1; b < axes.size(); ++b) {
      const Layout &x = axes[a], &y = axes[b];
      if (x.kind != Layout::Split || y.kind != Layout::Split || x.dim != y.dim)
        continue;
      if (y.outer % (x.outer * x.size) != 0 &&
          x.outer % (y.outer * y.size) != 0)
        return str() + ": mesh axes " + std::to_string(a) + " and " +
               std::to_string(b) + " split overlapping parts of dim " +
               std::to_string(x.dim);
    }
  return "";
}

std::vector<int64_t>
MeshLayout::localShape(const std::vector<int64_t> &globalShape) const {
  std::vector<Layout> steps = stepwise(inOrder(axes.size()));
  std::vector<int64_t> shape = globalShape;
  for (size_t k = 0; k < steps.size(); ++k)
    shape = steps[k].localShape(shape, mesh[k]);
  return shape;
}

std::string MeshLayout::globalShape(const std::vector<int64_t> &localShape,
                                    std::vector<int64_t> &global) {
  if (mesh.size() != axes.size())
    return str() + ": one layout per mesh axis";
  std::vector<Layout> steps = stepwise(inOrder(axes.size()));
  std::vector<int64_t> shape = localShape;
  for (size_t k = steps.size(); k-- > 0;) {
    std::vector<int64_t> before;
    if (std::string problem = steps[k].globalShape(shape, mesh[k], before);
        !problem.empty())
      return "mesh axis " + std::to_string(k) + ": " + problem;
    // A whole-dim split learns its size; no other split shares its dim.
    if (axes[k].outer == 1 && axes[k].inner == 1)
      axes[k].size = steps[k].size;
    shape = before;
  }
  global = shape;
  return check(global);
}

Layout MeshLayout::within(size_t axis, const std::vector<int64_t> &globalShape,
                          std::vector<int64_t> &shape) const {
  std::vector<size_t> order;
  for (size_t k = 0; k < axes.size(); ++k)
    if (k != axis)
      order.push_back(k);
  order.push_back(axis);
  std::vector<Layout> steps = stepwise(order);
  shape = globalShape;
  for (size_t i = 0; i + 1 < order.size(); ++i)
    shape = steps[i].localShape(shape, mesh[order[i]]);
  return steps.back();
}

/// Bytes of a tensor of `shape` (a checked one: no overflow).
static size_t tensorBytes(const std::vector<int64_t> &shape,
                          size_t elementSize) {
  size_t bytes = elementSize;
  for (int64_t d : shape)
    bytes *= static_cast<size_t>(d);
  return bytes;
}

void extractMeshBlock(const void *full, const std::vector<int64_t> &fullShape,
                      size_t elementSize, const MeshLayout &layout,
                      int64_t rank, void *block) {
  std::vector<Layout> steps = layout.stepwise(inOrder(layout.axes.size()));
  size_t splits = 0;
  for (const Layout &step : steps)
    splits += step.kind == Layout::Split;
  if (splits == 0) {
    std::memcpy(block, full, tensorBytes(fullShape, elementSize));
    return;
  }
  // Each split extracts from the previous one's block; the last writes
  // into `block`.
  std::vector<int64_t> shape = fullShape;
  const void *source = full;
  std::vector<uint8_t> current;
  for (size_t k = 0; k < steps.size(); ++k) {
    if (steps[k].kind != Layout::Split)
      continue;
    std::vector<int64_t> next = steps[k].localShape(shape, layout.mesh[k]);
    std::vector<uint8_t> extracted;
    void *target = block;
    if (--splits > 0) {
      extracted.resize(tensorBytes(next, elementSize));
      target = extracted.data();
    }
    extractBlock(source, shape, contiguousStrides(shape), elementSize, steps[k],
                 layout.mesh[k], layout.coordinate(rank, k), target);
    current = std::move(extracted);
    source = current.data();
    shape = next;
  }
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

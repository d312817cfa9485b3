//===- MeshLayoutTest.cpp - Compound layouts over a rank mesh -------------===//

#include "TestUtil.h"

#include "dsp/Format/Layout.h"

#include <numeric>

using namespace dsp::test;
using dsp::format::Layout;
using dsp::format::MeshLayout;

namespace {

Layout replicated() { return Layout(); }

MeshLayout onMesh(Shape mesh, std::vector<Layout> axes) {
  MeshLayout layout;
  layout.mesh = std::move(mesh);
  layout.axes = std::move(axes);
  return layout;
}

/// The global tensor numbered 1, 2, ... so that a block's values name the
/// elements it holds (0: pad).
std::vector<float> numbered(const Shape &shape) {
  std::vector<float> values(count(shape));
  std::iota(values.begin(), values.end(), 1.0f);
  return values;
}

std::vector<float> meshBlock(const std::vector<float> &full, const Shape &shape,
                             const MeshLayout &layout, int64_t rank) {
  std::vector<float> block(count(layout.localShape(shape)));
  dsp::format::extractMeshBlock(full.data(), shape, 4, layout, rank,
                                block.data());
  return block;
}

/// The global multi-index of linear index `index` in `shape`.
Shape indexOf(int64_t index, const Shape &shape) {
  Shape at(shape.size());
  for (size_t d = shape.size(); d-- > 0;) {
    at[d] = index % shape[d];
    index /= shape[d];
  }
  return at;
}

/// The rank coordinate that holds global element `at` on split `axis` of
/// `ranks` ranks, from the definition: position `size` of the dim viewed as
/// [outer, size, inner] lies in block position / ((size + pad) / ranks).
int64_t owner(const Shape &at, const Layout &axis, int64_t ranks) {
  int64_t position = at[axis.dim] / axis.inner % axis.size;
  return position / axis.block(ranks);
}

/// Checks every rank's block of `layout` on a numbered tensor of `shape`
/// against the definition: a rank holds exactly the elements whose every
/// split position lies in its coordinate's block, in global order, and
/// zeros (pads) elsewhere.
void expectBlocksFollowTheDefinition(const Shape &shape,
                                     const MeshLayout &layout) {
  ASSERT_EQ(layout.check(shape), "") << layout.str();
  std::vector<float> full = numbered(shape);
  Shape local = layout.localShape(shape);
  for (int64_t rank = 0; rank < layout.ranks(); ++rank) {
    std::vector<float> block = meshBlock(full, shape, layout, rank);
    ASSERT_EQ(static_cast<int64_t>(block.size()), count(local));
    std::vector<int64_t> held;
    for (float v : block)
      if (v != 0)
        held.push_back(static_cast<int64_t>(v) - 1);
    std::vector<int64_t> expected;
    for (int64_t i = 0; i < count(shape); ++i) {
      Shape at = indexOf(i, shape);
      bool mine = true;
      for (size_t k = 0; k < layout.axes.size(); ++k)
        if (layout.axes[k].kind == Layout::Split)
          mine &= owner(at, layout.axes[k], layout.mesh[k]) ==
                  layout.coordinate(rank, k);
      if (mine)
        expected.push_back(i);
    }
    EXPECT_EQ(held, expected) << layout.str() << " rank " << rank;
  }
}

TEST(MeshLayoutTest, CoordinatesAreRowMajor) {
  MeshLayout layout = onMesh({2, 3}, {replicated(), replicated()});
  EXPECT_EQ(layout.ranks(), 6);
  EXPECT_EQ(layout.coordinate(4, 0), 1);
  EXPECT_EQ(layout.coordinate(4, 1), 1);
  EXPECT_EQ(layout.subGroup(4, 0), (std::vector<int>{1, 4}));
  EXPECT_EQ(layout.subGroup(4, 1), (std::vector<int>{3, 4, 5}));
}

TEST(MeshLayoutTest, TwoDimsWithPadsOnEachSplit) {
  // [B=3, T=5, C=2] on a 2x4 mesh: B over 2 (pad 1), T over 4 (pad 3).
  Shape shape = {3, 5, 2};
  MeshLayout layout =
      onMesh({2, 4}, {split(0, 1, 3, 1, 2), split(1, 1, 5, 1, 4)});
  EXPECT_EQ(layout.localShape(shape), (Shape{2, 2, 2}));
  expectBlocksFollowTheDefinition(shape, layout);
}

TEST(MeshLayoutTest, TwoFactorsOfOneDimInEitherOrder) {
  // [B=2, T*S=6*5, C=3]: T over 4 (pad 2) and S over 2 (pad 1), with
  // either factor on the first mesh axis.
  Shape shape = {2, 30, 3};
  Layout t4 = split(1, 1, 6, 5, 4), s2 = split(1, 6, 5, 1, 2);
  Layout t2 = split(1, 1, 6, 5, 2), s4 = split(1, 6, 5, 1, 4);
  expectBlocksFollowTheDefinition(shape, onMesh({4, 2}, {t4, s2}));
  expectBlocksFollowTheDefinition(shape, onMesh({4, 2}, {s4, t2}));
  // T blocks of 2 times S blocks of 3.
  EXPECT_EQ(onMesh({4, 2}, {t4, s2}).localShape(shape), (Shape{2, 6, 3}));
}

TEST(MeshLayoutTest, ReplicatedAndPartialAxesKeepTheShape) {
  Shape shape = {4, 6};
  Layout partial;
  partial.kind = Layout::Partial;
  MeshLayout layout = onMesh({2, 3}, {partial, split(1, 1, 6, 1, 3)});
  EXPECT_EQ(layout.localShape(shape), (Shape{4, 2}));
  expectBlocksFollowTheDefinition(shape, layout);
}

TEST(MeshLayoutTest, WithinOneAxisIsASplitOfWhatTheOthersLeave) {
  // A collective on one axis sees the value the other axes leave: its
  // block over that axis is the rank's compound block.
  Shape shape = {2, 30, 3};
  MeshLayout layout =
      onMesh({4, 2}, {split(1, 1, 6, 5, 4), split(1, 6, 5, 1, 2)});
  std::vector<float> full = numbered(shape);
  for (size_t axis = 0; axis < 2; ++axis) {
    Shape seen;
    Layout inAxis = layout.within(axis, shape, seen);
    ASSERT_EQ(inAxis.check(seen, layout.mesh[axis]), "") << inAxis.str();
    MeshLayout others = layout;
    others.axes[axis] = replicated();
    EXPECT_EQ(others.localShape(shape), seen);
    for (int64_t rank = 0; rank < layout.ranks(); ++rank) {
      std::vector<float> value = meshBlock(full, shape, others, rank);
      std::vector<float> block(
          count(inAxis.localShape(seen, layout.mesh[axis])));
      dsp::format::extractBlock(
          value.data(), seen, dsp::format::contiguousStrides(seen), 4, inAxis,
          layout.mesh[axis], layout.coordinate(rank, axis), block.data());
      EXPECT_EQ(block, meshBlock(full, shape, layout, rank))
          << "axis " << axis << " rank " << rank;
    }
  }
  Shape seen;
  // S over 2 on the value T's blocks of 2 leave: [2, 2*5, 3].
  Layout s = layout.within(1, shape, seen);
  EXPECT_EQ(seen, (Shape{2, 10, 3}));
  EXPECT_EQ(s.str(), "split(dim=1,outer=2,size=5,inner=1,pad=1)");
  // T over 4 on the value S's blocks of 3 leave: [2, 6*3, 3].
  Layout t = layout.within(0, shape, seen);
  EXPECT_EQ(seen, (Shape{2, 18, 3}));
  EXPECT_EQ(t.str(), "split(dim=1,outer=1,size=6,inner=3,pad=2)");
}

TEST(MeshLayoutTest, GlobalShapeInvertsLocalShape) {
  Shape shape = {3, 30, 2};
  MeshLayout layout =
      onMesh({2, 4}, {split(0, 1, 3, 1, 2), split(1, 6, 5, 1, 4)});
  MeshLayout unknownSize = layout;
  unknownSize.axes[0].size = 0;
  Shape back;
  EXPECT_EQ(unknownSize.globalShape(layout.localShape(shape), back), "");
  EXPECT_EQ(back, shape);
  EXPECT_EQ(unknownSize.axes[0].size, 3);
  EXPECT_NE(unknownSize.globalShape({3, 7, 2}, back).find("mesh axis 1"),
            std::string::npos);
}

TEST(MeshLayoutTest, ChecksAndDecodes) {
  Shape shape = {2, 30};
  // T*S split on T and on the whole dim overlap.
  MeshLayout overlap =
      onMesh({2, 2}, {split(1, 1, 6, 5, 2), split(1, 1, 30, 1, 2)});
  EXPECT_NE(overlap.check(shape).find("overlapping parts of dim 1"),
            std::string::npos);
  MeshLayout badPad = onMesh({2, 4}, {split(0, 1, 2, 1, 2), replicated()});
  badPad.axes[0].pad = 1;
  EXPECT_NE(badPad.check(shape).find("mesh axis 0"), std::string::npos);

  MeshLayout layout =
      onMesh({2, 2}, {split(0, 1, 2, 1, 2), split(1, 6, 5, 1, 2)});
  MeshLayout decoded;
  EXPECT_EQ(MeshLayout::decode(layout.mesh, layout.encode(), decoded), "");
  EXPECT_EQ(decoded.str(), layout.str());
  EXPECT_EQ(decoded.str(), "mesh[2,2](split(dim=0,outer=1,size=2,inner=1,"
                           "pad=0),split(dim=1,outer=6,size=5,inner=1,pad=1))");
  EXPECT_NE(MeshLayout::decode({2, 2}, {1, 0, 1, 2, 1, 0}, decoded)
                .find("has 12 ints, got 6"),
            std::string::npos);
}

} // namespace

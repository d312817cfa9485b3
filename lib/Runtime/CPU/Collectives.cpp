//===- Collectives.cpp - Collectives over layouts -------------------------===//
//
// The collectives of multi-rank programs, written once over
// Communicator::exchange so every communicator runs the same algorithm and
// hands the transport the same bytes:
//
//   all_to_all      (N-1) chunks of the A-block with B's dim padded
//   all_gather      (N-1) copies of the padded local block
//   reduce_scatter  (N-1) B-blocks
//   all_reduce      2 (N-1) chunks of ceil(elements / N) elements: each
//                   rank reduces one chunk, then sends it to every other
//
// Pieces that are one contiguous run without pad (the split dim outermost)
// are sent from, or received into, the tensors themselves; the rest go
// through the kernel's workspace. Each reduced element is folded from the N
// ranks' values in a fixed order on one rank, so every rank ends with the
// same bits; f16 and bf16 values are folded in f32 and rounded once.
//
//===----------------------------------------------------------------------===//

#include "Kernels.h"

#include "dsp/Format/Float16.h"
#include "dsp/Format/Layout.h"
#include "dsp/Runtime/Communicator.h"

#include <algorithm>
#include <cstring>

using dsp::format::Layout;

namespace dsp {
namespace runtime {
namespace cpu {

namespace {

/// What every collective kernel knows about its instruction.
struct Geometry {
  Communicator &communicator;
  int rank, ranks;
  size_t elementSize;
  Shape global, inShape, outShape;
  Layout from, to;
  uint8_t *workspace(const KernelArgs &args, size_t offset) const {
    return static_cast<uint8_t *>(args.workspace) + offset;
  }
};

size_t bytesOf(const Shape &shape, size_t elementSize) {
  return static_cast<size_t>(elementCount(shape)) * elementSize;
}

/// Reduces `n` blocks of `count` elements, `stride` bytes apart, into
/// `out`: element-wise, starting with block `first` and folding in the
/// blocks after it, cyclically, as acc + next or max(next, acc) (the order
/// decides which NaN or which of +-0 wins). Elements are read as `Acc` (f32
/// for f16 and bf16) and written back once; integer sums wrap around.
template <typename T, typename Acc = T, Acc (*Load)(T) = nullptr,
          T (*Store)(Acc) = nullptr>
void reduceBlocks(void *out, const uint8_t *blocks, size_t stride, int n,
                  int first, size_t count, bool max) {
  auto load = [](T value) {
    if constexpr (Load != nullptr)
      return Load(value);
    else
      return value;
  };
  auto block = [&](int index) {
    return reinterpret_cast<const T *>(blocks + (index % n) * stride);
  };
  T *target = static_cast<T *>(out);
  // Tiles of accumulators, so that the loops over elements vectorize.
  constexpr size_t kTile = 1024;
  Acc acc[kTile];
  for (size_t begin = 0; begin < count; begin += kTile) {
    size_t length = std::min(kTile, count - begin);
    const T *source = block(first) + begin;
    for (size_t j = 0; j < length; ++j)
      acc[j] = load(source[j]);
    for (int k = 1; k < n; ++k) {
      source = block(first + k) + begin;
      if (max)
        for (size_t j = 0; j < length; ++j)
          acc[j] = std::max(load(source[j]), acc[j]);
      else
        for (size_t j = 0; j < length; ++j)
          acc[j] = wrapping(acc[j], load(source[j]), std::plus<>());
    }
    for (size_t j = 0; j < length; ++j)
      if constexpr (Store != nullptr)
        target[begin + j] = Store(acc[j]);
      else
        target[begin + j] = acc[j];
  }
}

using ReduceBlocks = void (*)(void *, const uint8_t *, size_t, int, int, size_t,
                              bool);

ReduceBlocks reduceBlocksFor(dsp::program::DType dtype) {
  switch (dtype) {
  case dsp::program::F32:
    return reduceBlocks<float>;
  case dsp::program::F16:
    return reduceBlocks<uint16_t, float, format::halfToFloat,
                        format::floatToHalf>;
  case dsp::program::BF16:
    return reduceBlocks<uint16_t, float, format::bfloat16ToFloat,
                        format::floatToBfloat16>;
  case dsp::program::I64:
    return reduceBlocks<int64_t>;
  case dsp::program::I32:
    return reduceBlocks<int32_t>;
  default:
    return nullptr;
  }
}

/// What `peer` gets of `in` (a tensor of `shape`): its block of the `to`
/// layout, sent in place when contiguous, else packed into `pack`.
SendBuffer sendBlock(const Geometry &g, const uint8_t *in, const Shape &shape,
                     int peer, uint8_t *pack, size_t bytes) {
  int64_t source =
      format::contiguousBlockOffset(shape, g.elementSize, g.to, g.ranks, peer);
  if (source >= 0)
    return {peer, in + source, bytes};
  format::extractBlock(in, shape, g.elementSize, g.to, g.ranks, peer, pack);
  return {peer, pack, bytes};
}

/// Chunk j of the A-block (B's dim padded) goes to rank j; the pieces from
/// all ranks are assembled along A's dim, whose pad is dropped.
std::unique_ptr<Kernel> createAllToAll(const Geometry &g) {
  // The chunk a rank sends equals the piece its peer receives: A's dim as
  // the A-block, B's dim as the B-block.
  size_t chunk =
      bytesOf(g.from.localShape(g.to.localShape(g.global, g.ranks), g.ranks),
              g.elementSize);
  size_t ranks = g.ranks;
  return makeKernel(
      [g, chunk, ranks](const KernelArgs &args) {
        Status status = g.communicator.beginCollective("all_to_all");
        if (!status)
          return status;
        const uint8_t *in = static_cast<const uint8_t *>(args.inputs[0]);
        uint8_t *out = static_cast<uint8_t *>(args.output);
        uint8_t *sendPack = g.workspace(args, 0);
        uint8_t *receivePack = g.workspace(args, ranks * chunk);
        std::vector<SendBuffer> sends;
        std::vector<ReceiveBuffer> receives;
        std::vector<bool> receivedInPlace(ranks, false);
        for (int peer = 0; peer < g.ranks; ++peer) {
          if (peer == g.rank)
            continue;
          sends.push_back(sendBlock(g, in, g.inShape, peer,
                                    sendPack + peer * chunk, chunk));
          int64_t target = format::contiguousBlockOffset(
              g.outShape, g.elementSize, g.from, g.ranks, peer);
          receivedInPlace[peer] = target >= 0;
          receives.push_back(
              {peer, target < 0 ? receivePack + peer * chunk : out + target,
               chunk});
        }
        status = g.communicator.exchange(sends, receives);
        if (!status)
          return status;
        uint8_t *own = receivePack + g.rank * chunk;
        format::extractBlock(in, g.inShape, g.elementSize, g.to, g.ranks,
                             g.rank, own);
        receivedInPlace[g.rank] = false;
        for (int peer = 0; peer < g.ranks; ++peer)
          if (!receivedInPlace[peer])
            format::insertBlock(receivePack + peer * chunk, g.outShape,
                                g.elementSize, g.from, g.ranks, peer, out);
        return Status::success();
      },
      workspaceBytes({2, ranks, chunk}));
}

/// Every rank sends its padded block to every other; each block lands at
/// its place in the global tensor, pad dropped.
std::unique_ptr<Kernel> createAllGather(const Geometry &g) {
  size_t block = bytesOf(g.inShape, g.elementSize);
  return makeKernel(
      [g, block](const KernelArgs &args) {
        Status status = g.communicator.beginCollective("all_gather");
        if (!status)
          return status;
        uint8_t *out = static_cast<uint8_t *>(args.output);
        std::vector<SendBuffer> sends;
        std::vector<ReceiveBuffer> receives;
        std::vector<int> unpack;
        for (int peer = 0; peer < g.ranks; ++peer) {
          if (peer == g.rank)
            continue;
          sends.push_back({peer, args.inputs[0], block});
          int64_t target = format::contiguousBlockOffset(
              g.global, g.elementSize, g.from, g.ranks, peer);
          if (target < 0)
            unpack.push_back(peer);
          receives.push_back(
              {peer,
               target < 0 ? g.workspace(args, peer * block) : out + target,
               block});
        }
        status = g.communicator.exchange(sends, receives);
        if (!status)
          return status;
        format::insertBlock(args.inputs[0], g.global, g.elementSize, g.from,
                            g.ranks, g.rank, out);
        for (int peer : unpack)
          format::insertBlock(g.workspace(args, peer * block), g.global,
                              g.elementSize, g.from, g.ranks, peer, out);
        return Status::success();
      },
      workspaceBytes({static_cast<size_t>(g.ranks), block}));
}

/// Rank j receives every rank's B-chunk j of its summand and adds them, in
/// rank order so the result does not depend on arrival order.
std::unique_ptr<Kernel> createReduceScatter(const Geometry &g,
                                            ReduceBlocks reduce) {
  size_t block = bytesOf(g.outShape, g.elementSize);
  size_t elements = block / g.elementSize;
  size_t ranks = g.ranks;
  return makeKernel(
      [g, block, elements, ranks, reduce](const KernelArgs &args) {
        Status status = g.communicator.beginCollective("reduce_scatter");
        if (!status)
          return status;
        const uint8_t *in = static_cast<const uint8_t *>(args.inputs[0]);
        uint8_t *sendPack = g.workspace(args, 0);
        uint8_t *receivePack = g.workspace(args, ranks * block);
        std::vector<SendBuffer> sends;
        std::vector<ReceiveBuffer> receives;
        for (int peer = 0; peer < g.ranks; ++peer) {
          if (peer == g.rank)
            continue;
          sends.push_back(
              sendBlock(g, in, g.global, peer, sendPack + peer * block, block));
          receives.push_back({peer, receivePack + peer * block, block});
        }
        status = g.communicator.exchange(sends, receives);
        if (!status)
          return status;
        format::extractBlock(in, g.global, g.elementSize, g.to, g.ranks, g.rank,
                             receivePack + g.rank * block);
        reduce(args.output, receivePack, block, g.ranks, 0, elements, false);
        return Status::success();
      },
      workspaceBytes({2, ranks, block}));
}

/// The tensor, padded to N chunks, is reduced chunk by chunk: rank r gets
/// every rank's chunk r and reduces it starting with its own value (the
/// order of a ring all-reduce), then sends the result to every other rank.
std::unique_ptr<Kernel> createAllReduce(const Geometry &g, ReduceBlocks reduce,
                                        bool max) {
  size_t elements = static_cast<size_t>(elementCount(g.global));
  size_t chunkElements = (elements + g.ranks - 1) / g.ranks;
  size_t chunk = chunkElements * g.elementSize;
  size_t bytes = elements * g.elementSize;
  return makeKernel(
      [g, reduce, max, chunk, chunkElements, bytes](const KernelArgs &args) {
        Status status = g.communicator.beginCollective("all_reduce");
        if (!status)
          return status;
        int n = g.ranks;
        uint8_t *buffer = g.workspace(args, 0);
        uint8_t *incoming = g.workspace(args, n * chunk);
        std::memcpy(buffer, args.inputs[0], bytes);
        std::memset(buffer + bytes, 0, n * chunk - bytes);
        uint8_t *own = buffer + g.rank * chunk;
        std::vector<SendBuffer> sends;
        std::vector<ReceiveBuffer> receives;
        for (int peer = 0; peer < n; ++peer) {
          if (peer == g.rank)
            continue;
          sends.push_back({peer, buffer + peer * chunk, chunk});
          receives.push_back({peer, incoming + peer * chunk, chunk});
        }
        if (!(status = g.communicator.exchange(sends, receives)))
          return status;
        std::memcpy(incoming + g.rank * chunk, own, chunk);
        reduce(own, incoming, chunk, n, g.rank, chunkElements, max);
        for (size_t i = 0; i < sends.size(); ++i) {
          int peer = sends[i].peer;
          sends[i].data = own;
          receives[i].data = buffer + peer * chunk;
        }
        if (!(status = g.communicator.exchange(sends, receives)))
          return status;
        std::memcpy(args.output, buffer, bytes);
        return Status::success();
      },
      workspaceBytes({2 * static_cast<size_t>(g.ranks), chunk}));
}

} // namespace

std::unique_ptr<Kernel> createCollectiveKernel(const KernelContext &context) {
  Communicator &communicator = context.communicator;
  const dsp::program::Instruction &instruction = context.instruction;
  Geometry g{communicator,
             communicator.rank(),
             communicator.size(),
             format::elementSize(context.input(0).dtype()),
             format::intsAttribute(instruction, "global_shape"),
             context.inputShape(0),
             context.outputShape(),
             {},
             {}};
  Op op = context.op;
  // Validated: the layouts decode and fit the global shape (zero_pad has
  // only `from`).
  Layout::decode(format::intsAttribute(instruction, "from"), g.from);
  if (op != Op::ZeroPad)
    Layout::decode(format::intsAttribute(instruction, "to"), g.to);
  ReduceBlocks reduce = reduceBlocksFor(context.input(0).dtype());
  if (op == Op::AllToAll)
    return createAllToAll(g);
  if (op == Op::AllGather)
    return createAllGather(g);
  if ((op == Op::ReduceScatter || op == Op::AllReduce) && !reduce)
    return nullptr;
  if (op == Op::ReduceScatter)
    return createReduceScatter(g, reduce);
  if (op == Op::AllReduce)
    return createAllReduce(
        g, reduce,
        format::stringAttribute(instruction, "reduction", "sum") == "max");
  if (op == Op::LocalSlice)
    return makeKernel([g](const KernelArgs &args) {
      format::extractBlock(args.inputs[0], g.global, g.elementSize, g.to,
                           g.ranks, g.rank, args.output);
      return Status::success();
    });
  size_t bytes = bytesOf(g.outShape, g.elementSize);
  return makeKernel([g, bytes](const KernelArgs &args) {
    std::memcpy(args.output, args.inputs[0], bytes);
    format::zeroBlockPad(args.output, g.global, g.elementSize, g.from, g.ranks,
                         g.rank);
    return Status::success();
  });
}

} // namespace cpu
} // namespace runtime
} // namespace dsp

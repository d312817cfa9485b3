//===- Collectives.cpp - Collectives over layouts -------------------------===//
//
// The collectives of multi-rank programs, written once over
// Communicator::exchange and a backend's CollectiveMemory, so every
// communicator and backend runs the same algorithm and hands the transport
// the same bytes:
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

#include "Collectives.h"

#include "KernelSupport.h"

#include "dsp/Format/CollectiveStaging.h"
#include "dsp/Format/Float16.h"
#include "dsp/Format/ProgramFile.h"
#include "dsp/Runtime/Communicator.h"

#include <algorithm>
#include <cstring>

using dsp::format::Layout;

namespace dsp {
namespace runtime {

namespace {

using Shape = std::vector<int64_t>;

/// A tensor's shape and the element strides it is read or written through:
/// row-major, or a transpose the collective folds (input_perm, output_perm).
struct View {
  Shape shape, strides;
  bool contiguous() const {
    return strides == format::contiguousStrides(shape);
  }
};

View contiguousView(Shape shape) {
  Shape strides = format::contiguousStrides(shape);
  return {std::move(shape), std::move(strides)};
}

/// How an all_to_all sees the `stored` tensor it reads (`inverse` false)
/// or writes (true) when it folds a transpose, attribute `permName`: the
/// input it reads is transpose(stored, perm); the output it writes is
/// stored as transpose(result, perm).
View foldedTranspose(const Shape &stored,
                     const dsp::program::Instruction &instruction,
                     const char *permName, bool inverse) {
  Shape perm = format::intsAttribute(instruction, permName);
  if (perm.empty())
    return contiguousView(stored);
  if (inverse) {
    Shape inversePerm(perm.size());
    for (size_t d = 0; d < perm.size(); ++d)
      inversePerm[perm[d]] = static_cast<int64_t>(d);
    perm = inversePerm;
  }
  Shape shape(perm.size());
  for (size_t d = 0; d < perm.size(); ++d)
    shape[d] = stored[perm[d]];
  return {shape, format::transposedStrides(stored, perm)};
}

/// What every collective kernel knows about its instruction. `rank` and
/// `ranks` are this rank's index in the collective's group and its size;
/// `members` the group's communicator ranks (a mesh axis's sub-group, or
/// every rank).
struct Geometry {
  Communicator &communicator;
  std::shared_ptr<CollectiveMemory> memory;
  int rank, ranks;
  std::vector<int> members;
  size_t elementSize;
  dsp::program::DType dtype;
  View global, in, out;
  Layout from, to;
  uint8_t *workspace(const KernelArgs &args, size_t offset) const {
    return static_cast<uint8_t *>(args.workspace) + offset;
  }
};

size_t bytesOf(const Shape &shape, size_t elementSize) {
  return static_cast<size_t>(elementCount(shape)) * elementSize;
}

/// The workspace of `op`'s kernel, by the rule the compiler reports too.
size_t stagingBytes(format::Op op, const Geometry &g) {
  return format::collectiveStagingBytes(op, g.global.shape, g.elementSize,
                                        g.from, g.to, g.ranks, g.rank);
}

/// Stops the enclosing kernel at the first failed memory operation.
#define DSP_TRY(expression)                                                    \
  do {                                                                         \
    Status tried = (expression);                                               \
    if (!tried)                                                                \
      return tried;                                                            \
  } while (false)

/// Byte offset of block `rank` of `layout` in a tensor seen through `view`
/// if it is one contiguous run there without pad, else -1.
int64_t blockInPlace(const Geometry &g, const View &view, const Layout &layout,
                     int rank) {
  if (!view.contiguous())
    return -1;
  return format::contiguousBlockOffset(view.shape, g.elementSize, layout,
                                       g.ranks, rank);
}

/// Communicator::exchange among the group's members: `peer` fields are
/// indices in the group.
Status exchange(const Geometry &g, std::vector<SendBuffer> sends,
                std::vector<ReceiveBuffer> receives) {
  for (SendBuffer &send : sends)
    send.peer = g.members[send.peer];
  for (ReceiveBuffer &receive : receives)
    receive.peer = g.members[receive.peer];
  return g.communicator.exchange(sends, receives);
}

/// What `peer` gets of `in` (seen through `view`): its block of the `to`
/// layout, sent in place when contiguous, else packed into `pack`.
Status sendBlock(const Geometry &g, const uint8_t *in, const View &view,
                 int peer, uint8_t *pack, size_t bytes, SendBuffer &send) {
  int64_t source = blockInPlace(g, view, g.to, peer);
  if (source >= 0) {
    send = {peer, in + source, bytes};
    return Status::success();
  }
  send = {peer, pack, bytes};
  return g.memory->extractBlock(in, view.shape, view.strides, g.elementSize,
                                g.to, g.ranks, peer, pack);
}

/// Chunk j of the A-block (B's dim padded) goes to rank j; the pieces from
/// all ranks are assembled along A's dim, whose pad is dropped.
std::unique_ptr<Kernel> createAllToAll(const Geometry &g) {
  // The chunk a rank sends equals the piece its peer receives: A's dim as
  // the A-block, B's dim as the B-block.
  size_t chunk = bytesOf(
      g.from.localShape(g.to.localShape(g.global.shape, g.ranks), g.ranks),
      g.elementSize);
  size_t ranks = g.ranks;
  return makeKernel(
      [g, chunk, ranks](const KernelArgs &args) {
        DSP_TRY(g.communicator.beginCollective("all_to_all"));
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
          sends.emplace_back();
          DSP_TRY(sendBlock(g, in, g.in, peer, sendPack + peer * chunk, chunk,
                            sends.back()));
          int64_t target = blockInPlace(g, g.out, g.from, peer);
          receivedInPlace[peer] = target >= 0;
          receives.push_back(
              {peer, target < 0 ? receivePack + peer * chunk : out + target,
               chunk});
        }
        DSP_TRY(exchange(g, sends, receives));
        uint8_t *own = receivePack + g.rank * chunk;
        DSP_TRY(g.memory->extractBlock(in, g.in.shape, g.in.strides,
                                       g.elementSize, g.to, g.ranks, g.rank,
                                       own));
        receivedInPlace[g.rank] = false;
        for (int peer = 0; peer < g.ranks; ++peer)
          if (!receivedInPlace[peer])
            DSP_TRY(g.memory->insertBlock(
                receivePack + peer * chunk, g.out.shape, g.out.strides,
                g.elementSize, g.from, g.ranks, peer, out));
        return Status::success();
      },
      stagingBytes(format::Op::AllToAll, g));
}

/// Every rank sends its padded block to every other; each block lands at
/// its place in the global tensor, pad dropped.
std::unique_ptr<Kernel> createAllGather(const Geometry &g) {
  size_t block = bytesOf(g.in.shape, g.elementSize);
  // Only the blocks that cannot land in place take a workspace slot.
  std::vector<int64_t> slots = format::allGatherStagingSlots(
      g.global.shape, g.elementSize, g.from, g.ranks, g.rank);
  return makeKernel(
      [g, block, slots](const KernelArgs &args) {
        DSP_TRY(g.communicator.beginCollective("all_gather"));
        uint8_t *out = static_cast<uint8_t *>(args.output);
        std::vector<SendBuffer> sends;
        std::vector<ReceiveBuffer> receives;
        std::vector<int> unpack;
        auto staged = [&](int peer) {
          return g.workspace(args, static_cast<size_t>(slots[peer]) * block);
        };
        for (int peer = 0; peer < g.ranks; ++peer) {
          if (peer == g.rank)
            continue;
          sends.push_back({peer, args.inputs[0], block});
          if (slots[peer] >= 0) {
            unpack.push_back(peer);
            receives.push_back({peer, staged(peer), block});
          } else {
            receives.push_back(
                {peer, out + blockInPlace(g, g.global, g.from, peer), block});
          }
        }
        DSP_TRY(exchange(g, sends, receives));
        DSP_TRY(g.memory->insertBlock(args.inputs[0], g.global.shape,
                                      g.global.strides, g.elementSize, g.from,
                                      g.ranks, g.rank, out));
        for (int peer : unpack)
          DSP_TRY(g.memory->insertBlock(staged(peer), g.global.shape,
                                        g.global.strides, g.elementSize, g.from,
                                        g.ranks, peer, out));
        return Status::success();
      },
      stagingBytes(format::Op::AllGather, g));
}

/// Rank j receives every rank's B-chunk j of its summand and adds them, in
/// rank order so the result does not depend on arrival order.
std::unique_ptr<Kernel> createReduceScatter(const Geometry &g) {
  size_t block = bytesOf(g.out.shape, g.elementSize);
  size_t elements = block / g.elementSize;
  size_t ranks = g.ranks;
  return makeKernel(
      [g, block, elements, ranks](const KernelArgs &args) {
        DSP_TRY(g.communicator.beginCollective("reduce_scatter"));
        const uint8_t *in = static_cast<const uint8_t *>(args.inputs[0]);
        uint8_t *sendPack = g.workspace(args, 0);
        uint8_t *receivePack = g.workspace(args, ranks * block);
        std::vector<SendBuffer> sends;
        std::vector<ReceiveBuffer> receives;
        for (int peer = 0; peer < g.ranks; ++peer) {
          if (peer == g.rank)
            continue;
          sends.emplace_back();
          DSP_TRY(sendBlock(g, in, g.global, peer, sendPack + peer * block,
                            block, sends.back()));
          receives.push_back({peer, receivePack + peer * block, block});
        }
        DSP_TRY(exchange(g, sends, receives));
        DSP_TRY(g.memory->extractBlock(in, g.global.shape, g.global.strides,
                                       g.elementSize, g.to, g.ranks, g.rank,
                                       receivePack + g.rank * block));
        return g.memory->reduceBlocks(g.dtype, args.output, receivePack, block,
                                      g.ranks, 0, elements, false);
      },
      stagingBytes(format::Op::ReduceScatter, g));
}

/// The tensor, padded to N chunks, is reduced chunk by chunk: rank r gets
/// every rank's chunk r and reduces it starting with its own value (the
/// order of a ring all-reduce), then sends the result to every other rank.
std::unique_ptr<Kernel> createAllReduce(const Geometry &g, bool max) {
  size_t elements = static_cast<size_t>(elementCount(g.global.shape));
  size_t chunkElements = (elements + g.ranks - 1) / g.ranks;
  size_t chunk = chunkElements * g.elementSize;
  size_t bytes = elements * g.elementSize;
  return makeKernel(
      [g, max, chunk, chunkElements, bytes](const KernelArgs &args) {
        DSP_TRY(g.communicator.beginCollective("all_reduce"));
        int n = g.ranks;
        uint8_t *buffer = g.workspace(args, 0);
        uint8_t *incoming = g.workspace(args, n * chunk);
        DSP_TRY(g.memory->copy(buffer, args.inputs[0], bytes));
        DSP_TRY(g.memory->zero(buffer + bytes, n * chunk - bytes));
        uint8_t *own = buffer + g.rank * chunk;
        std::vector<SendBuffer> sends;
        std::vector<ReceiveBuffer> receives;
        for (int peer = 0; peer < n; ++peer) {
          if (peer == g.rank)
            continue;
          sends.push_back({peer, buffer + peer * chunk, chunk});
          receives.push_back({peer, incoming + peer * chunk, chunk});
        }
        DSP_TRY(exchange(g, sends, receives));
        DSP_TRY(g.memory->copy(incoming + g.rank * chunk, own, chunk));
        DSP_TRY(g.memory->reduceBlocks(g.dtype, own, incoming, chunk, n, g.rank,
                                       chunkElements, max));
        for (size_t i = 0; i < sends.size(); ++i) {
          int peer = sends[i].peer;
          sends[i].data = own;
          receives[i].data = buffer + peer * chunk;
        }
        DSP_TRY(exchange(g, sends, receives));
        return g.memory->copy(args.output, buffer, bytes);
      },
      stagingBytes(format::Op::AllReduce, g));
}

/// Reduces `n` blocks of `count` elements, `stride` bytes apart, into
/// `out` as CollectiveMemory::reduceBlocks says. Elements are read as `Acc`
/// (f32 for f16 and bf16) and written back once.
template <typename T, typename Acc = T, Acc (*Load)(T) = nullptr,
          T (*Store)(Acc) = nullptr>
void reduceHostBlocks(void *out, const void *blocks, size_t stride, int n,
                      int first, size_t count, bool max) {
  auto load = [](T value) {
    if constexpr (Load != nullptr)
      return Load(value);
    else
      return value;
  };
  auto block = [&](int index) {
    return reinterpret_cast<const T *>(static_cast<const uint8_t *>(blocks) +
                                       (index % n) * stride);
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

using ReduceHostBlocks = void (*)(void *, const void *, size_t, int, int,
                                  size_t, bool);

ReduceHostBlocks reduceHostBlocksFor(dsp::program::DType dtype) {
  switch (dtype) {
  case dsp::program::F32:
    return reduceHostBlocks<float>;
  case dsp::program::F16:
    return reduceHostBlocks<uint16_t, float, format::halfToFloat,
                            format::floatToHalf>;
  case dsp::program::BF16:
    return reduceHostBlocks<uint16_t, float, format::bfloat16ToFloat,
                            format::floatToBfloat16>;
  case dsp::program::I64:
    return reduceHostBlocks<int64_t>;
  case dsp::program::I32:
    return reduceHostBlocks<int32_t>;
  default:
    return nullptr;
  }
}

class HostMemory : public CollectiveMemory {
public:
  Status extractBlock(const void *full, const Shape &fullShape,
                      const Shape &fullStrides, size_t elementSize,
                      const Layout &layout, int64_t ranks, int64_t rank,
                      void *block) override {
    format::extractBlock(full, fullShape, fullStrides, elementSize, layout,
                         ranks, rank, block);
    return Status::success();
  }
  Status insertBlock(const void *block, const Shape &fullShape,
                     const Shape &fullStrides, size_t elementSize,
                     const Layout &layout, int64_t ranks, int64_t rank,
                     void *full) override {
    format::insertBlock(block, fullShape, fullStrides, elementSize, layout,
                        ranks, rank, full);
    return Status::success();
  }
  Status zeroBlockPad(void *block, const Shape &fullShape, size_t elementSize,
                      const Layout &layout, int64_t ranks,
                      int64_t rank) override {
    format::zeroBlockPad(block, fullShape, elementSize, layout, ranks, rank);
    return Status::success();
  }
  // An empty tensor may have no address: memcpy must not see it.
  Status copy(void *target, const void *source, size_t bytes) override {
    if (bytes)
      std::memcpy(target, source, bytes);
    return Status::success();
  }
  Status zero(void *target, size_t bytes) override {
    if (bytes)
      std::memset(target, 0, bytes);
    return Status::success();
  }
  bool reduces(dsp::program::DType dtype) const override {
    return reduceHostBlocksFor(dtype) != nullptr;
  }
  Status reduceBlocks(dsp::program::DType dtype, void *out, const void *blocks,
                      size_t stride, int n, int first, size_t count,
                      bool max) override {
    reduceHostBlocksFor(dtype)(out, blocks, stride, n, first, count, max);
    return Status::success();
  }
};

} // namespace

InstructionGroup instructionGroup(const dsp::program::Program &program,
                                  const dsp::program::Instruction &instruction,
                                  const Communicator &communicator) {
  format::MeshLayout mesh;
  mesh.mesh = format::programMesh(program);
  std::vector<int64_t> axis = format::intsAttribute(instruction, "axis");
  size_t onAxis = axis.empty() ? 0 : axis[0];
  // Without an axis the group is every rank: a mesh of one axis.
  if (axis.empty())
    mesh.mesh = {communicator.size()};
  return {mesh.subGroup(communicator.rank(), onAxis),
          static_cast<int>(mesh.coordinate(communicator.rank(), onAxis))};
}

std::shared_ptr<CollectiveMemory> hostCollectiveMemory() {
  static const std::shared_ptr<CollectiveMemory> memory =
      std::make_shared<HostMemory>();
  return memory;
}

std::unique_ptr<Kernel>
createCollectiveKernel(const dsp::program::Program &program,
                       const dsp::program::Instruction &instruction,
                       format::Op op, Communicator &communicator,
                       std::shared_ptr<CollectiveMemory> memory) {
  const dsp::program::Tensor &input = program.tensors(instruction.inputs(0));
  InstructionGroup group = instructionGroup(program, instruction, communicator);
  int groupSize = static_cast<int>(group.members.size());
  Geometry g{communicator,
             std::move(memory),
             group.position,
             groupSize,
             std::move(group.members),
             format::elementSize(input.dtype()),
             input.dtype(),
             contiguousView(format::intsAttribute(instruction, "global_shape")),
             foldedTranspose(format::tensorShape(input), instruction,
                             "input_perm", false),
             foldedTranspose(
                 format::tensorShape(program.tensors(instruction.outputs(0))),
                 instruction, "output_perm", true),
             {},
             {}};
  using format::Op;
  // Validated: the layouts decode and fit the global shape (zero_pad has
  // only `from`).
  Layout::decode(format::intsAttribute(instruction, "from"), g.from);
  if (op != Op::ZeroPad)
    Layout::decode(format::intsAttribute(instruction, "to"), g.to);
  if (op == Op::AllToAll)
    return createAllToAll(g);
  if (op == Op::AllGather)
    return createAllGather(g);
  if ((op == Op::ReduceScatter || op == Op::AllReduce) &&
      !g.memory->reduces(g.dtype))
    return nullptr;
  if (op == Op::ReduceScatter)
    return createReduceScatter(g);
  if (op == Op::AllReduce)
    return createAllReduce(
        g, format::stringAttribute(instruction, "reduction", "sum") == "max");
  if (op == Op::LocalSlice)
    return makeKernel([g](const KernelArgs &args) {
      return g.memory->extractBlock(args.inputs[0], g.global.shape,
                                    g.global.strides, g.elementSize, g.to,
                                    g.ranks, g.rank, args.output);
    });
  size_t bytes = bytesOf(g.out.shape, g.elementSize);
  return makeKernel([g, bytes](const KernelArgs &args) {
    DSP_TRY(g.memory->copy(args.output, args.inputs[0], bytes));
    return g.memory->zeroBlockPad(args.output, g.global.shape, g.elementSize,
                                  g.from, g.ranks, g.rank);
  });
}

} // namespace runtime
} // namespace dsp

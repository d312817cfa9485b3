//===- BufferPlan.cpp - Arena offsets for a program's tensors -------------===//

#include "dsp/Target/BufferPlan.h"
#include "dsp/Format/Checked.h"

#include <algorithm>
#include <numeric>
#include <utility>

using namespace mlir::dsp;

std::optional<BufferPlan>
mlir::dsp::planBuffers(const std::vector<BufferLifetime> &lifetimes,
                       uint64_t alignment) {
  // Largest first: the small tensors fill the gaps the large ones leave,
  // where in program order a small early tensor can split the space a
  // large later one needs.
  std::vector<size_t> order(lifetimes.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return lifetimes[a].bytes > lifetimes[b].bytes;
  });
  BufferPlan plan;
  plan.offsets.assign(lifetimes.size(), 0);
  std::vector<uint64_t> ends(lifetimes.size(), 0);
  std::vector<std::pair<uint64_t, uint64_t>> busy;
  for (size_t placed = 0; placed < order.size(); ++placed) {
    const BufferLifetime &tensor = lifetimes[order[placed]];
    std::optional<uint64_t> size =
        ::dsp::format::checkedAlignUp(tensor.bytes, alignment);
    if (!size)
      return std::nullopt;
    busy.clear();
    for (size_t earlier = 0; earlier < placed; ++earlier) {
      size_t j = order[earlier];
      if (lifetimes[j].first <= tensor.last &&
          tensor.first <= lifetimes[j].last)
        busy.push_back({plan.offsets[j], ends[j]});
    }
    std::sort(busy.begin(), busy.end());
    uint64_t offset = 0;
    for (auto [start, stop] : busy) {
      if (offset + *size <= start)
        break;
      offset = std::max(offset, stop);
    }
    std::optional<uint64_t> end = ::dsp::format::checkedAdd(offset, *size);
    if (!end || *end > ::dsp::format::kMaxBufferBytes)
      return std::nullopt;
    plan.offsets[order[placed]] = offset;
    ends[order[placed]] = *end;
    plan.arenaBytes = std::max(plan.arenaBytes, *end);
  }
  return plan;
}

bool mlir::dsp::planProgramBuffers(::dsp::program::Program &program,
                                   uint64_t alignment) {
  std::vector<::dsp::format::TensorLifetime> live =
      ::dsp::format::tensorLifetimes(program);
  // A reshape's output holds its input's bytes in the same order, and
  // neither is ever written again: the two share one buffer, live while
  // either is, and the reshape copies nothing. `buffer` maps each tensor to
  // the first tensor of its buffer.
  std::vector<int> buffer(program.tensors_size());
  std::iota(buffer.begin(), buffer.end(), 0);
  for (const ::dsp::program::Instruction &instruction : program.instructions())
    if (instruction.op() == "reshape" &&
        program.tensors(instruction.inputs(0)).kind() != ::dsp::program::WEIGHT)
      buffer[instruction.outputs(0)] = buffer[instruction.inputs(0)];

  std::vector<int> lifetimeOf(program.tensors_size(), -1);
  std::vector<BufferLifetime> lifetimes;
  for (int i = 0; i < program.tensors_size(); ++i) {
    const ::dsp::program::Tensor &tensor = program.tensors(i);
    if (tensor.kind() == ::dsp::program::WEIGHT)
      continue;
    int &index = lifetimeOf[buffer[i]];
    if (index < 0) {
      index = lifetimes.size();
      lifetimes.push_back({tensor.bytes(), live[i].first, live[i].last});
      continue;
    }
    BufferLifetime &shared = lifetimes[index];
    shared.first = std::min(shared.first, live[i].first);
    shared.last = std::max(shared.last, live[i].last);
  }
  std::optional<BufferPlan> plan = planBuffers(lifetimes, alignment);
  if (!plan)
    return false;
  for (int i = 0; i < program.tensors_size(); ++i)
    if (program.tensors(i).kind() != ::dsp::program::WEIGHT)
      program.mutable_tensors(i)->set_offset(
          plan->offsets[lifetimeOf[buffer[i]]]);
  program.set_arena_bytes(plan->arenaBytes);
  return true;
}

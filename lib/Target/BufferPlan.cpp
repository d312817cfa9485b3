//===- BufferPlan.cpp - Arena offsets for a program's tensors -------------===//

#include "dsp/Target/BufferPlan.h"
#include "dsp/Format/Checked.h"

#include <algorithm>
#include <utility>

using namespace mlir::dsp;

std::optional<BufferPlan>
mlir::dsp::planBuffers(const std::vector<BufferLifetime> &lifetimes,
                       uint64_t alignment) {
  BufferPlan plan;
  std::vector<uint64_t> ends;
  std::vector<std::pair<uint64_t, uint64_t>> busy;
  for (size_t i = 0; i < lifetimes.size(); ++i) {
    const BufferLifetime &tensor = lifetimes[i];
    std::optional<uint64_t> size =
        ::dsp::format::checkedAlignUp(tensor.bytes, alignment);
    if (!size)
      return std::nullopt;
    busy.clear();
    for (size_t j = 0; j < i; ++j)
      if (lifetimes[j].first <= tensor.last &&
          tensor.first <= lifetimes[j].last)
        busy.push_back({plan.offsets[j], ends[j]});
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
    plan.offsets.push_back(offset);
    ends.push_back(*end);
    plan.arenaBytes = std::max(plan.arenaBytes, *end);
  }
  return plan;
}

bool mlir::dsp::planProgramBuffers(::dsp::program::Program &program,
                                   uint64_t alignment) {
  std::vector<::dsp::format::TensorLifetime> live =
      ::dsp::format::tensorLifetimes(program);
  std::vector<int> arenaTensors;
  std::vector<BufferLifetime> lifetimes;
  for (int i = 0; i < program.tensors_size(); ++i) {
    const ::dsp::program::Tensor &tensor = program.tensors(i);
    if (tensor.kind() == ::dsp::program::WEIGHT)
      continue;
    arenaTensors.push_back(i);
    lifetimes.push_back({tensor.bytes(), live[i].first, live[i].last});
  }
  std::optional<BufferPlan> plan = planBuffers(lifetimes, alignment);
  if (!plan)
    return false;
  for (size_t i = 0; i < arenaTensors.size(); ++i)
    program.mutable_tensors(arenaTensors[i])->set_offset(plan->offsets[i]);
  program.set_arena_bytes(plan->arenaBytes);
  return true;
}

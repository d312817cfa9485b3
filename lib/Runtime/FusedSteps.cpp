//===- FusedSteps.cpp - A fused body, one kernel per step -----------------===//

#include "FusedSteps.h"

#include "dsp/Format/Checked.h"

#include <algorithm>
#include <cstring>
#include <vector>

namespace dsp {
namespace runtime {

namespace {

/// Workspace offsets keep every value 256-byte aligned, as device kernels
/// want.
constexpr uint64_t kValueAlignment = 256;

class FusedStepsKernel : public Kernel {
public:
  explicit FusedStepsKernel(Backend &backend) : backend_(backend) {}

  ~FusedStepsKernel() override {
    for (void *constant : constants_)
      backend_.deallocate(constant);
  }

  Status create(const dsp::program::Program &program,
                const dsp::program::Instruction &instruction) {
    const dsp::program::FusedBody &body = instruction.body();
    const int inputs = instruction.inputs_size();
    const int constants = body.values_size() - inputs - body.steps_size();
    // The steps' program: the body's values, sized, over the same ranks.
    steps_.set_ranks(program.ranks());
    *steps_.mutable_tensors() = body.values();
    location_.assign(body.values_size(), {Place::Workspace, 0});
    uint64_t used = 0;
    for (int v = 0; v < body.values_size(); ++v) {
      dsp::program::Tensor &value = *steps_.mutable_tensors(v);
      const uint64_t bytes = format::shapeElements(format::tensorShape(value)) *
                             format::elementSize(value.dtype());
      value.set_bytes(bytes);
      if (v < inputs) {
        location_[v] = {Place::Input, static_cast<size_t>(v)};
      } else if (v < inputs + constants) {
        if (Status status = addConstant(value, bytes); !status)
          return status;
        location_[v] = {Place::Constant, constants_.size() - 1};
      } else {
        location_[v] = {Place::Workspace, static_cast<size_t>(used)};
        std::optional<uint64_t> next = format::checkedAdd(
            used, format::checkedAlignUp(bytes, kValueAlignment)
                      .value_or(UINT64_MAX));
        if (!next || *next > format::kMaxBufferBytes)
          return Status::error("the values of a fused body need more than "
                               "2^56 bytes");
        used = *next;
      }
    }
    for (int r = 0; r < body.results_size(); ++r)
      location_[body.results(r)] = {Place::Output, static_cast<size_t>(r)};
    valueBytes_ = static_cast<size_t>(used);
    *steps_.mutable_instructions() = body.steps();
    for (const dsp::program::Instruction &step : steps_.instructions()) {
      std::unique_ptr<Kernel> kernel;
      if (Status status = backend_.createKernel(steps_, step, kernel); !status)
        return Status::error("fused step '" + step.op() +
                             "': " + status.message());
      stepWorkspace_ = std::max(stepWorkspace_, kernel->workspaceBytes());
      kernels_.push_back(std::move(kernel));
    }
    return Status::success();
  }

  size_t workspaceBytes() const override {
    std::optional<uint64_t> total =
        format::checkedAdd<uint64_t>(valueBytes_, stepWorkspace_);
    return total && *total <= SIZE_MAX ? static_cast<size_t>(*total) : SIZE_MAX;
  }

  Status run(const KernelArgs &args) override {
    uint8_t *workspace = static_cast<uint8_t *>(args.workspace);
    auto address = [&](uint32_t value) -> void * {
      const Location &at = location_[value];
      switch (at.place) {
      case Place::Input:
        return const_cast<void *>(args.inputs[at.index]);
      case Place::Constant:
        return constants_[at.index];
      case Place::Output:
        return args.outputs[at.index];
      case Place::Workspace:
        break;
      }
      return workspace + at.index;
    };
    std::vector<const void *> inputs;
    for (int k = 0; k < steps_.instructions_size(); ++k) {
      const dsp::program::Instruction &step = steps_.instructions(k);
      inputs.clear();
      for (uint32_t value : step.inputs())
        inputs.push_back(address(value));
      void *output = address(step.outputs(0));
      if (Status status = kernels_[k]->run(
              {inputs.data(), output, &output, workspace + valueBytes_});
          !status)
        return status;
    }
    return Status::success();
  }

private:
  enum class Place { Input, Constant, Output, Workspace };
  struct Location {
    Place place;
    /// The input, constant or output index, or the workspace offset.
    size_t index;
  };

  /// A splat constant, expanded to its shape in the backend's memory.
  Status addConstant(const dsp::program::Tensor &value, uint64_t bytes) {
    const std::string &element = value.splat().element();
    std::vector<uint8_t> expanded(static_cast<size_t>(bytes));
    for (size_t at = 0; at < expanded.size(); at += element.size())
      std::memcpy(expanded.data() + at, element.data(), element.size());
    void *buffer = nullptr;
    if (Status status =
            backend_.allocate(std::max<size_t>(expanded.size(), 1), &buffer);
        !status)
      return status;
    constants_.push_back(buffer);
    return backend_.copyToDevice(buffer, expanded.data(), expanded.size());
  }

  Backend &backend_;
  /// The steps as a program of their own; their kernels may refer to it.
  dsp::program::Program steps_;
  std::vector<std::unique_ptr<Kernel>> kernels_;
  std::vector<Location> location_;
  std::vector<void *> constants_;
  size_t valueBytes_ = 0, stepWorkspace_ = 0;
};

} // namespace

Status createFusedStepsKernel(Backend &backend,
                              const dsp::program::Program &program,
                              const dsp::program::Instruction &instruction,
                              std::unique_ptr<Kernel> &kernel) {
  auto steps = std::make_unique<FusedStepsKernel>(backend);
  if (Status status = steps->create(program, instruction); !status)
    return status;
  kernel = std::move(steps);
  return Status::success();
}

} // namespace runtime
} // namespace dsp

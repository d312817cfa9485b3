//===- OpRegistry.cpp - The table of ops ----------------------------------===//

#include "dsp/Format/OpRegistry.h"

#include <unordered_map>
#include <utility>

namespace dsp {
namespace format {

const std::vector<OpSpec> &opSpecs() {
// The attribute list of an entry, "(a, b)", as an initializer "{a, b}".
#define DSP_OP_ATTRIBUTES(...)                                                 \
  { __VA_ARGS__ }
  static const std::vector<OpSpec> specs = {
#define DSP_OP(Name, Spelling, MinInputs, MaxInputs, Check, Attributes)        \
  {Op::Name, Spelling, MinInputs, MaxInputs, DSP_OP_ATTRIBUTES Attributes},
#include "dsp/Format/Ops.def"
  };
#undef DSP_OP_ATTRIBUTES
  return specs;
}

const OpSpec &opSpec(Op op) { return opSpecs()[static_cast<size_t>(op)]; }

std::optional<Op> findOp(std::string_view name) {
  static const std::unordered_map<std::string_view, Op> byName = [] {
    std::unordered_map<std::string_view, Op> table;
    for (const OpSpec &spec : opSpecs())
      table.emplace(spec.name, spec.op);
    return table;
  }();
  auto found = byName.find(name);
  if (found == byName.end())
    return std::nullopt;
  return found->second;
}

bool communicates(Op op) {
  switch (op) {
  case Op::AllToAll:
  case Op::AllGather:
  case Op::ReduceScatter:
  case Op::AllReduce:
  case Op::RingAttention:
    return true;
  default:
    return false;
  }
}

namespace {
constexpr std::pair<Activation, const char *> kActivations[] = {
    {Activation::None, "none"},
    {Activation::Gelu, "gelu"},
    {Activation::GeluTanh, "gelu_tanh"},
    {Activation::Silu, "silu"}};
} // namespace

const char *activationName(Activation activation) {
  return kActivations[static_cast<size_t>(activation)].second;
}

std::optional<Activation> findActivation(std::string_view name) {
  for (auto [activation, spelling] : kActivations)
    if (name == spelling)
      return activation;
  return std::nullopt;
}

std::string activationNames() {
  std::string names;
  for (auto [activation, spelling] : kActivations)
    names += std::string(names.empty() ? "'" : ", '") + spelling + "'";
  return names;
}

} // namespace format
} // namespace dsp

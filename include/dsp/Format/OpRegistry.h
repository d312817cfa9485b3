//===- OpRegistry.h - The ops of the program format -------------*- C++ -*-===//
//
// The one list of ops (Ops.def) as an enum and a table: what validation
// checks an instruction against, and what every backend provides a kernel
// for. A name is looked up once; code past validation switches on Op.
//
//===----------------------------------------------------------------------===//

#ifndef DSP_FORMAT_OPREGISTRY_H
#define DSP_FORMAT_OPREGISTRY_H

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dsp {
namespace format {

/// The MaxInputs of an op that accepts any number of operands.
constexpr int kUnboundedInputs = INT32_MAX;

enum class Op : uint8_t {
#define DSP_OP(Name, ...) Name,
#include "dsp/Format/Ops.def"
};

constexpr size_t kNumOps = 0
#define DSP_OP(...) +1
#include "dsp/Format/Ops.def"
    ;

struct OpSpec {
  Op op;
  /// The spelling in Instruction.op.
  const char *name;
  int minInputs;
  int maxInputs;
  /// The attributes the op accepts; validation rejects every other name.
  std::vector<std::string> attributes;
};

/// Every op, indexed by Op.
const std::vector<OpSpec> &opSpecs();
const OpSpec &opSpec(Op op);
inline const char *opName(Op op) { return opSpec(op).name; }
/// The op spelled `name`, or nullopt for an unknown name.
std::optional<Op> findOp(std::string_view name);
/// Whether `op` moves bytes between ranks (local_slice and zero_pad do not).
bool communicates(Op op);

/// The element-wise function a `matmul` applies to the product plus bias,
/// before it adds the residual: its `activation` attribute.
enum class Activation : uint8_t { None, Gelu, GeluTanh, Silu };
/// The spelling of `activation` in the attribute.
const char *activationName(Activation activation);
/// The activation spelled `name`, or nullopt for an unknown name.
std::optional<Activation> findActivation(std::string_view name);
/// Every spelling, quoted, for messages: "'none', 'gelu', ...".
std::string activationNames();

} // namespace format
} // namespace dsp

#endif // DSP_FORMAT_OPREGISTRY_H

//===- KernelFamily.h - Which kernel runs each op ------------*- C++ -*-===//
//
// Backends build kernels by family, a family per kernel factory: the ops
// of a family differ only in attributes or in the scalar function they
// apply. The workspace rules (HostWorkspace.h) are stated by family too.
//
//===----------------------------------------------------------------------===//

#ifndef DSP_FORMAT_KERNELFAMILY_H
#define DSP_FORMAT_KERNELFAMILY_H

#include "dsp/Format/OpRegistry.h"

namespace dsp {
namespace format {

/// The ops one kernel factory of a backend builds.
enum class KernelFamily {
  Unary,
  Binary,
  Where,
  Matmul,
  LayerNorm,
  Softmax,
  Attention,
  RingAttention,
  Conv,
  Reduce,
  Reshape,
  Transpose,
  Concat,
  Slice,
  Gather,
  Expand,
  Tile,
  Pad,
  ScatterElements,
  Collective,
  /// Element-wise ops and a row op in one pass (the `fused` op).
  Fused,
  /// Generated GPU code (the `kernel` op).
  Launch,
  /// The `wait` of an async collective: the session's, no kernel.
  Wait
};

inline KernelFamily kernelFamily(Op op) {
  switch (op) {
  case Op::Neg:
  case Op::Exp:
  case Op::Log:
  case Op::Sqrt:
  case Op::Reciprocal:
  case Op::Abs:
  case Op::Erf:
  case Op::Tanh:
  case Op::Sigmoid:
  case Op::Relu:
  case Op::Sin:
  case Op::Cos:
  case Op::Silu:
  case Op::Gelu:
  case Op::IsNan:
  case Op::Not:
  case Op::Cast:
    return KernelFamily::Unary;
  case Op::Add:
  case Op::Sub:
  case Op::Mul:
  case Op::Div:
  case Op::Pow:
  case Op::Max:
  case Op::Min:
  case Op::Mod:
  case Op::Equal:
  case Op::Less:
  case Op::LessEqual:
  case Op::Greater:
  case Op::GreaterEqual:
  case Op::And:
  case Op::Or:
  case Op::Xor:
    return KernelFamily::Binary;
  case Op::Where:
    return KernelFamily::Where;
  case Op::Matmul:
    return KernelFamily::Matmul;
  case Op::LayerNorm:
    return KernelFamily::LayerNorm;
  case Op::Softmax:
    return KernelFamily::Softmax;
  case Op::Attention:
    return KernelFamily::Attention;
  case Op::RingAttention:
    return KernelFamily::RingAttention;
  case Op::Conv:
    return KernelFamily::Conv;
  case Op::ReduceSum:
  case Op::ReduceMean:
  case Op::ReduceMax:
    return KernelFamily::Reduce;
  case Op::Reshape:
    return KernelFamily::Reshape;
  case Op::Transpose:
    return KernelFamily::Transpose;
  case Op::Concat:
    return KernelFamily::Concat;
  case Op::Slice:
    return KernelFamily::Slice;
  case Op::Gather:
    return KernelFamily::Gather;
  case Op::Expand:
    return KernelFamily::Expand;
  case Op::Tile:
    return KernelFamily::Tile;
  case Op::Pad:
    return KernelFamily::Pad;
  case Op::ScatterElements:
    return KernelFamily::ScatterElements;
  case Op::AllToAll:
  case Op::AllGather:
  case Op::ReduceScatter:
  case Op::AllReduce:
  case Op::LocalSlice:
  case Op::ZeroPad:
    return KernelFamily::Collective;
  case Op::Fused:
    return KernelFamily::Fused;
  case Op::Kernel:
    return KernelFamily::Launch;
  case Op::Wait:
    return KernelFamily::Wait;
  }
  return KernelFamily::Launch;
}

/// Whether the ops of `family` compute each element from the elements at
/// the same position of their (broadcast) operands.
inline bool isElementwise(KernelFamily family) {
  return family == KernelFamily::Unary || family == KernelFamily::Binary ||
         family == KernelFamily::Where;
}

/// The most values a `fused` body may hold (inputs, constants and step
/// outputs): a bound on the CPU kernel's tiles.
constexpr int kMaxFusedValues = 1024;

/// Whether the kernels of `family` compute on element values (they need
/// element types; data movement and collectives copy bytes), and whether
/// on floating-point ones only.
inline bool computesOnFloats(KernelFamily family) {
  switch (family) {
  case KernelFamily::Matmul:
  case KernelFamily::LayerNorm:
  case KernelFamily::Softmax:
  case KernelFamily::Attention:
  case KernelFamily::Conv:
  case KernelFamily::Reduce:
    return true;
  default:
    return false;
  }
}
inline bool computesOnValues(KernelFamily family) {
  return computesOnFloats(family) || family == KernelFamily::Unary ||
         family == KernelFamily::Binary;
}

} // namespace format
} // namespace dsp

#endif // DSP_FORMAT_KERNELFAMILY_H

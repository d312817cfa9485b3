//===- DSPTraits.h - dsp op traits ------------------------------*- C++ -*-===//

#ifndef DSP_DIALECT_DSP_IR_DSPTRAITS_H
#define DSP_DIALECT_DSP_IR_DSPTRAITS_H

#include "mlir/IR/OpDefinition.h"

namespace mlir::OpTrait::dsp {

/// Marks the ops whose every result element is a function of the operand
/// elements at the same index, under numpy broadcasting: the ops that
/// `--dsp-fuse-elementwise` groups into one pass over memory.
template <typename ConcreteType>
class Elementwise
    : public ::mlir::OpTrait::TraitBase<ConcreteType, Elementwise> {};

/// Marks the ops that move a value between ranks or between layouts without
/// computing on it (all-to-all, all-gather, all-reduce, reduce-scatter,
/// local slice): what the planner inserts and the runtime runs as
/// collectives.
template <typename ConcreteType>
class Collective : public ::mlir::OpTrait::TraitBase<ConcreteType, Collective> {
};

} // namespace mlir::OpTrait::dsp

namespace mlir::dsp {

/// Whether `op` is one of the collectives.
inline bool isCollective(Operation *op) {
  return op->hasTrait<OpTrait::dsp::Collective>();
}

} // namespace mlir::dsp

#endif // DSP_DIALECT_DSP_IR_DSPTRAITS_H

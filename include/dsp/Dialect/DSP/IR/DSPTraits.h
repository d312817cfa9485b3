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

} // namespace mlir::OpTrait::dsp

#endif // DSP_DIALECT_DSP_IR_DSPTRAITS_H

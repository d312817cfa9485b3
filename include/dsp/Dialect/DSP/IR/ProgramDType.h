//===- ProgramDType.h - Element types as programs name them -----*- C++ -*-===//
//
// The one mapping from the element types of dsp tensors to the dtypes of
// the program file and of .npy arrays: the serializer writes it, the
// importer checks a --freeze-input array against it.
//
//===----------------------------------------------------------------------===//

#ifndef DSP_DIALECT_DSP_IR_PROGRAMDTYPE_H
#define DSP_DIALECT_DSP_IR_PROGRAMDTYPE_H

#include "dsp/Format/Program.pb.h"
#include "mlir/IR/Types.h"

#include <optional>

namespace mlir::dsp {

/// The program file's dtype of `elementType`; none for a type a program
/// cannot hold.
std::optional<::dsp::program::DType> programDType(Type elementType);

} // namespace mlir::dsp

#endif // DSP_DIALECT_DSP_IR_PROGRAMDTYPE_H

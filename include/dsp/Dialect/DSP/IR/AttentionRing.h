//===- AttentionRing.h - Attention whose key blocks travel ------*- C++ -*-===//
//
// An attention whose keys are split on the key sequence runs as a ring
// (ring_attention): each rank keeps its query block and passes its key and
// value blocks around the ranks that hold the other key blocks. The plan
// report prices those steps and the serializer writes them; both read the
// ring here.
//
//===----------------------------------------------------------------------===//

#ifndef DSP_DIALECT_DSP_IR_ATTENTIONRING_H
#define DSP_DIALECT_DSP_IR_ATTENTIONRING_H

#include "mlir/IR/Operation.h"

#include <optional>

namespace mlir::dsp {

/// The ranks an attention passes its key and value blocks around.
struct AttentionRing {
  /// The mesh axis they differ on; none for every rank of the group.
  std::optional<int64_t> axis;
  /// How many they are: the ring takes ranks - 1 steps.
  int64_t ranks;
};

/// The ring of `op` if it is an attention whose keys are split on the key
/// sequence, over the whole group or over one mesh axis; none otherwise.
std::optional<AttentionRing> getAttentionRing(Operation *op);

} // namespace mlir::dsp

#endif // DSP_DIALECT_DSP_IR_ATTENTIONRING_H

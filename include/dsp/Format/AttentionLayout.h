//===- AttentionLayout.h - Where attention's operands lie -------*- C++ -*-===//
//
// An `attention` instruction may read its query, key and value through
// transposes, and write its result through one (`query_perm`, `key_perm`,
// `value_perm`, `output_perm`), each keeping the head dim innermost: the
// attended tensors are [B, H, L, D] views of the stored ones, whose rows of
// a head lie `rowStride` elements apart. The validator, the kernels and the
// workspace rules read the views from here.
//
//===----------------------------------------------------------------------===//

#ifndef DSP_FORMAT_ATTENTIONLAYOUT_H
#define DSP_FORMAT_ATTENTIONLAYOUT_H

#include "dsp/Format/Program.pb.h"

#include <cstdint>
#include <vector>

namespace dsp {
namespace format {

/// One attended [B, H, L, D] view of a stored tensor: its shape, and the
/// element strides of its batch, head and row (sequence) dims; the head dim
/// is contiguous.
struct AttentionView {
  std::vector<int64_t> shape;
  int64_t batchStride = 0, headStride = 0, rowStride = 0;

  /// Whether the view is the stored tensor itself.
  bool contiguous() const;
};

/// The names of the perms of query, key, value and the output.
extern const char *const kAttentionPermNames[4];

/// The view of the tensor of `shape` (4-D) that `perm` gives, as the
/// operand of an attention (the attended dim d is the stored dim perm[d]),
/// or, with `output`, as its result (the stored dim d is the attended dim
/// perm[d]); an empty perm is the identity.
AttentionView attentionView(const std::vector<int64_t> &shape,
                            const std::vector<int64_t> &perm, bool output);

/// The views of a validated `attention` instruction: query, key, value and
/// the output, in that order.
struct AttentionLayout {
  AttentionView views[4];
};
AttentionLayout attentionLayout(const dsp::program::Program &program,
                                const dsp::program::Instruction &instruction);

} // namespace format
} // namespace dsp

#endif // DSP_FORMAT_ATTENTIONLAYOUT_H

//===- AttentionLayout.h - Where attention's operands lie -------*- C++ -*-===//
//
// An `attention` instruction may read its query, key and value through
// transposes, and write its result through one (`query_perm`, `key_perm`,
// `value_perm`, `output_perm`), each keeping the head dim innermost; it may
// also read an operand at one index of a dim of a rank-5 tensor
// (`query_select`, `key_select`, `value_select`: the query, key and value
// slices of a fused projection's result). The attended tensors are
// [B, H, L, D] views of the stored ones, whose rows of a head lie
// `rowStride` elements apart. The validator, the kernels and the workspace
// rules read the views from here.
//
//===----------------------------------------------------------------------===//

#ifndef DSP_FORMAT_ATTENTIONLAYOUT_H
#define DSP_FORMAT_ATTENTIONLAYOUT_H

#include "dsp/Format/Program.pb.h"

#include <cstdint>
#include <vector>

namespace dsp {
namespace format {

/// One attended [B, H, L, D] view of a stored tensor: its shape, the
/// element strides of its batch, head and row (sequence) dims, and the
/// elements from the stored tensor's first to the view's; the head dim is
/// contiguous.
struct AttentionView {
  std::vector<int64_t> shape;
  int64_t batchStride = 0, headStride = 0, rowStride = 0;
  int64_t offset = 0;

  /// Whether the view is the stored tensor itself.
  bool contiguous() const;
};

/// The names of the perms of query, key, value and the output.
extern const char *const kAttentionPermNames[4];
/// The names of the selects of query, key and value.
extern const char *const kAttentionSelectNames[3];

/// The view of the tensor of `shape` that `select` and `perm` give: with
/// `select` [dim, index], the tensor (5-D) at that index of that dim, which
/// drops out; then, as the operand of an attention, the attended dim d is
/// dim perm[d] of those 4, or, with `output`, as its result, the stored dim
/// d is the attended dim perm[d]. An empty perm is the identity, an empty
/// select reads the whole (4-D) tensor.
AttentionView attentionView(const std::vector<int64_t> &shape,
                            const std::vector<int64_t> &perm, bool output,
                            const std::vector<int64_t> &select = {});

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

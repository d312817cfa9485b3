//===- AttentionLayout.cpp - Where attention's operands lie ---------------===//

#include "dsp/Format/AttentionLayout.h"
#include "dsp/Format/Layout.h"
#include "dsp/Format/ProgramFile.h"

namespace dsp {
namespace format {

const char *const kAttentionPermNames[4] = {"query_perm", "key_perm",
                                            "value_perm", "output_perm"};
const char *const kAttentionSelectNames[3] = {"query_select", "key_select",
                                              "value_select"};

bool AttentionView::contiguous() const {
  return offset == 0 && rowStride == shape[3] &&
         headStride == shape[2] * rowStride &&
         batchStride == shape[1] * headStride;
}

AttentionView attentionView(const std::vector<int64_t> &shape,
                            const std::vector<int64_t> &perm, bool output,
                            const std::vector<int64_t> &select) {
  std::vector<int64_t> dims = shape, stored = contiguousStrides(shape);
  int64_t offset = 0;
  if (!select.empty()) {
    offset = select[1] * stored[select[0]];
    dims.erase(dims.begin() + select[0]);
    stored.erase(stored.begin() + select[0]);
  }
  // The stored dim of each attended dim.
  int64_t storedDim[4] = {0, 1, 2, 3};
  for (size_t d = 0; d < perm.size(); ++d) {
    if (output)
      storedDim[perm[d]] = static_cast<int64_t>(d);
    else
      storedDim[d] = perm[d];
  }
  AttentionView view;
  for (int64_t dim : storedDim)
    view.shape.push_back(dims[dim]);
  view.batchStride = stored[storedDim[0]];
  view.headStride = stored[storedDim[1]];
  view.rowStride = stored[storedDim[2]];
  view.offset = offset;
  return view;
}

AttentionLayout attentionLayout(const dsp::program::Program &program,
                                const dsp::program::Instruction &instruction) {
  AttentionLayout layout;
  for (int i = 0; i < 4; ++i) {
    int tensor = i < 3 ? static_cast<int>(instruction.inputs(i))
                       : static_cast<int>(instruction.outputs(0));
    layout.views[i] = attentionView(
        tensorShape(program.tensors(tensor)),
        intsAttribute(instruction, kAttentionPermNames[i]), i == 3,
        i < 3 ? intsAttribute(instruction, kAttentionSelectNames[i])
              : std::vector<int64_t>());
  }
  return layout;
}

} // namespace format
} // namespace dsp

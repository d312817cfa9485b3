//===- Padding.cpp - The rule of the pad op -------------------------------===//

#include "dsp/Format/Padding.h"
#include "dsp/Format/Checked.h"

namespace dsp {
namespace format {

std::optional<PadMode> parsePadMode(std::string_view name) {
  if (name == "constant")
    return PadMode::Constant;
  if (name == "reflect")
    return PadMode::Reflect;
  if (name == "edge")
    return PadMode::Edge;
  return std::nullopt;
}

std::string padProblem(const std::vector<int64_t> &shape,
                       const std::vector<int64_t> &pads, PadMode mode,
                       std::vector<int64_t> &padded) {
  size_t rank = shape.size();
  if (pads.size() != 2 * rank)
    return "expected " + std::to_string(2 * rank) + " pads (a begin and an " +
           "end per dim), got " + std::to_string(pads.size());
  padded.clear();
  for (size_t d = 0; d < rank; ++d) {
    int64_t begin = pads[d], end = pads[rank + d];
    std::string where = "dim " + std::to_string(d) + " of size " +
                        std::to_string(shape[d]) + ": pads " +
                        std::to_string(begin) + " and " + std::to_string(end);
    if (begin < 0 || end < 0)
      return where + " must not be negative";
    if (mode == PadMode::Reflect && (begin > 0 || end > 0) &&
        (begin >= shape[d] || end >= shape[d]))
      return where + " reflect only within the dim (each below its size)";
    if (mode == PadMode::Edge && (begin > 0 || end > 0) && shape[d] == 0)
      return where + " repeat the edge of an empty dim";
    std::optional<int64_t> size = checkedAdd(shape[d], begin);
    if (size)
      size = checkedAdd(*size, end);
    if (!size)
      return where + " overflow";
    padded.push_back(*size);
  }
  if (!checkedElementCount(padded))
    return "the padded shape has more than 2^48 elements";
  return "";
}

} // namespace format
} // namespace dsp

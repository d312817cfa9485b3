//===- Validate.cpp - Validation of dsp.program.Program messages ----------===//
//
// The runtime trusts nothing it did not check here: after validateProgram
// accepts a program, every tensor index, byte range, attribute and shape the
// kernels use is known to be consistent.
//
//===----------------------------------------------------------------------===//

#include "dsp/Format/ProgramFile.h"

#include "dsp/Format/AttentionLayout.h"
#include "dsp/Format/Checked.h"
#include "dsp/Format/Float16.h"
#include "dsp/Format/KernelFamily.h"
#include "dsp/Format/Layout.h"
#include "dsp/Format/OpRegistry.h"
#include "dsp/Format/Padding.h"
#include "dsp/Format/WeightSources.h"

#include <algorithm>
#include <cctype>
#include <climits>
#include <cmath>
#include <map>
#include <numeric>
#include <optional>
#include <set>
#include <sstream>
#include <vector>

using dsp::program::Attribute;
using dsp::program::DType;
using dsp::program::Instruction;
using dsp::program::Program;
using dsp::program::Tensor;
using dsp::program::TensorKind;

namespace dsp {
namespace format {

using Shape = std::vector<int64_t>;

std::vector<int64_t> tensorShape(const Tensor &tensor) {
  return Shape(tensor.shape().begin(), tensor.shape().end());
}

uint64_t shapeElements(const std::vector<int64_t> &shape) {
  uint64_t count = 1;
  for (int64_t extent : shape)
    count *= static_cast<uint64_t>(extent);
  return count;
}

std::vector<int64_t> programMesh(const Program &program) {
  if (program.mesh_size() == 0)
    return {program.ranks()};
  return Shape(program.mesh().begin(), program.mesh().end());
}

std::string decodeTensorLayout(const Program &program, const Shape &values,
                               MeshLayout &layout) {
  layout = MeshLayout();
  if (values.empty() || values.size() == 6) {
    layout.mesh = {program.ranks()};
    layout.axes.resize(1);
    return values.empty() ? "" : Layout::decode(values, layout.axes[0]);
  }
  return MeshLayout::decode(programMesh(program), values, layout);
}

bool broadcastShapes(const Shape &a, const Shape &b, Shape &result) {
  size_t rank = std::max(a.size(), b.size());
  Shape out(rank);
  for (size_t i = 0; i < rank; ++i) {
    int64_t da = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    int64_t db = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    if (da != db && da != 1 && db != 1)
      return false;
    out[i] = da == 1 ? db : da;
  }
  result = std::move(out);
  return true;
}

const Attribute *findAttribute(const Instruction &instruction,
                               const std::string &name) {
  for (const Attribute &attribute : instruction.attributes())
    if (attribute.name() == name)
      return &attribute;
  return nullptr;
}

std::vector<int64_t> intsAttribute(const Instruction &instruction,
                                   const std::string &name) {
  const Attribute *attribute = findAttribute(instruction, name);
  if (!attribute || !attribute->has_ints())
    return {};
  return Shape(attribute->ints().values().begin(),
               attribute->ints().values().end());
}

bool startsAsync(const Instruction &instruction) {
  std::vector<int64_t> async = intsAttribute(instruction, "async");
  return async.size() == 1 && async[0] == 1;
}

std::vector<TensorLifetime> tensorLifetimes(const Program &program) {
  std::vector<TensorLifetime> lifetimes(program.tensors_size());
  for (uint32_t index : program.inputs())
    lifetimes[index] = {-1, -1};
  const int64_t end = program.instructions_size();
  // The instruction that started each pending async collective, by the
  // tensor it writes.
  std::map<uint32_t, int64_t> started;
  for (int64_t i = 0; i < end; ++i) {
    const Instruction &instruction = program.instructions(i);
    for (uint32_t input : instruction.inputs())
      lifetimes[input].last = i;
    for (uint32_t output : instruction.outputs())
      lifetimes[output] = {i, i};
    if (startsAsync(instruction))
      started[instruction.outputs(0)] = i;
    if (instruction.op() != opName(Op::Wait))
      continue;
    auto collective = started.find(instruction.inputs(0));
    if (collective == started.end())
      continue;
    for (uint32_t input : program.instructions(collective->second).inputs())
      lifetimes[input].last = i;
    started.erase(collective);
  }
  for (uint32_t index : program.outputs())
    if (lifetimes[index].last >= lifetimes[index].first)
      lifetimes[index].last = end;
  for (int t = 0; t < program.tensors_size(); ++t)
    if (program.tensors(t).kind() == dsp::program::WEIGHT)
      lifetimes[t] = TensorLifetime();
  return lifetimes;
}

double floatAttribute(const Instruction &instruction, const std::string &name,
                      double defaultValue) {
  const Attribute *attribute = findAttribute(instruction, name);
  if (!attribute || !attribute->has_floats() ||
      attribute->floats().values_size() != 1)
    return defaultValue;
  return attribute->floats().values(0);
}

std::string stringAttribute(const Instruction &instruction,
                            const std::string &name,
                            const std::string &defaultValue) {
  const Attribute *attribute = findAttribute(instruction, name);
  if (!attribute || attribute->value_case() != Attribute::kStr)
    return defaultValue;
  return attribute->str();
}

namespace {

/// "" if `shape` has no negative dim and at most kMaxElements elements.
std::string shapeProblem(const Shape &shape, const std::string &what) {
  if (checkedElementCount(shape))
    return "";
  for (int64_t dim : shape)
    if (dim < 0)
      return what + " " + shapeString(shape) + " has a negative dim";
  return what + " " + shapeString(shape) + " has more than 2^48 elements";
}

// Checks one instruction. Every check records the first problem and returns
// false, so op checkers read as a chain of conditions.
class InstructionChecker {
public:
  InstructionChecker(const Program &program, const Instruction &instruction,
                     Op op)
      : program(program), instruction(instruction), op_(op) {}

  std::string problem;

  bool fail(const std::string &message) {
    if (problem.empty())
      problem = message;
    return false;
  }

  int numInputs() const { return instruction.inputs_size(); }
  Op op() const { return op_; }
  size_t codeObjects() const { return program.code_objects_size(); }
  int64_t ranks() const { return program.ranks(); }
  const Program &programOf() const { return program; }
  const Tensor &input(int i) const {
    return program.tensors(instruction.inputs(i));
  }
  const Tensor &output() const { return outputAt(0); }
  const Tensor &outputAt(int i) const {
    return program.tensors(instruction.outputs(i));
  }
  const Instruction &instructionOf() const { return instruction; }
  Shape inputShape(int i) const { return tensorShape(input(i)); }
  Shape outputShape() const { return tensorShape(output()); }

  static std::string describe(int index) {
    return index < 0 ? std::string("output") : "input " + std::to_string(index);
  }
  const Tensor &operand(int index) const {
    return index < 0 ? output() : input(index);
  }

  /// `index` < 0 names the output.
  bool dtypeIn(int index, const std::vector<DType> &allowed) {
    DType dtype = operand(index).dtype();
    if (std::find(allowed.begin(), allowed.end(), dtype) != allowed.end())
      return true;
    std::string names;
    for (DType candidate : allowed)
      names += std::string(names.empty() ? "" : " or ") + dtypeName(candidate);
    return fail(describe(index) + " has dtype " + dtypeName(dtype) +
                ", expected " + names);
  }

  bool sameDtype(int index, int reference) {
    if (operand(index).dtype() == operand(reference).dtype())
      return true;
    return fail(describe(index) + " has dtype " +
                dtypeName(operand(index).dtype()) + ", expected " +
                dtypeName(operand(reference).dtype()) + " like " +
                describe(reference));
  }

  bool outputShapeIs(const Shape &expected) {
    if (outputShape() == expected)
      return true;
    return fail("output has shape " + shapeString(outputShape()) +
                ", expected " + shapeString(expected));
  }

  bool rankAtLeast(int index, size_t rank) {
    Shape shape = tensorShape(operand(index));
    if (shape.size() >= rank)
      return true;
    return fail(describe(index) + " has shape " + shapeString(shape) +
                ", expected rank >= " + std::to_string(rank));
  }

  bool rankIs(int index, size_t rank) {
    Shape shape = tensorShape(operand(index));
    if (shape.size() == rank)
      return true;
    return fail(describe(index) + " has shape " + shapeString(shape) +
                ", expected rank " + std::to_string(rank));
  }

  const Attribute *attribute(const std::string &name, bool required,
                             Attribute::ValueCase kind) {
    const Attribute *found = findAttribute(instruction, name);
    if (!found) {
      if (required)
        fail("missing attribute '" + name + "'");
      return nullptr;
    }
    if (found->value_case() != kind) {
      const char *kindName = kind == Attribute::kInts     ? "ints"
                             : kind == Attribute::kFloats ? "floats"
                                                          : "str";
      fail("attribute '" + name + "' must be " + kindName);
      return nullptr;
    }
    return found;
  }

  bool ints(const std::string &name, Shape &values) {
    const Attribute *found = attribute(name, true, Attribute::kInts);
    if (!found)
      return false;
    values.assign(found->ints().values().begin(), found->ints().values().end());
    return true;
  }

  bool intsOfLength(const std::string &name, size_t length, Shape &values) {
    if (!ints(name, values))
      return false;
    if (values.size() == length)
      return true;
    return fail("attribute '" + name + "' has " +
                std::to_string(values.size()) + " values, expected " +
                std::to_string(length));
  }

  bool singleInt(const std::string &name, int64_t &value) {
    Shape values;
    if (!intsOfLength(name, 1, values))
      return false;
    value = values[0];
    return true;
  }

  /// A single non-negative int below `limit` (an axis).
  bool axis(const std::string &name, size_t limit, int64_t &value) {
    if (!singleInt(name, value))
      return false;
    if (value >= 0 && static_cast<size_t>(value) < limit)
      return true;
    return fail("attribute '" + name + "' is " + std::to_string(value) +
                ", expected a value in [0, " + std::to_string(limit) + ")");
  }

  bool singleFloat(const std::string &name, bool required, double &value) {
    const Attribute *found = attribute(name, required, Attribute::kFloats);
    if (!found)
      return problem.empty();
    if (found->floats().values_size() != 1)
      return fail("attribute '" + name + "' has " +
                  std::to_string(found->floats().values_size()) +
                  " values, expected 1");
    value = found->floats().values(0);
    return true;
  }

  /// Every attribute is one the op knows, and none is given twice.
  bool attributesKnown(const std::vector<std::string> &known) {
    std::set<std::string> seen;
    for (const Attribute &attribute : instruction.attributes()) {
      if (!seen.insert(attribute.name()).second)
        return fail("attribute '" + attribute.name() + "' is given twice");
      if (std::find(known.begin(), known.end(), attribute.name()) ==
          known.end())
        return fail("unknown attribute '" + attribute.name() + "'");
    }
    return true;
  }

private:
  const Program &program;
  const Instruction &instruction;
  Op op_;
};

/// Checks an instruction's dtypes, attributes and shapes once its operand
/// counts and attribute names are known to fit its op.
using Checker = bool (*)(InstructionChecker &);

// The dtype families. Every operand of one op has the same dtype unless the
// op's rule says otherwise (a bool result, gather indices, cast).
const std::vector<DType> kFloatDtypes = {dsp::program::F32, dsp::program::F16,
                                         dsp::program::BF16};
const std::vector<DType> kIntegerDtypes = {dsp::program::I64,
                                           dsp::program::I32};
const std::vector<DType> kNumericDtypes = [] {
  std::vector<DType> numeric = kFloatDtypes;
  numeric.insert(numeric.end(), kIntegerDtypes.begin(), kIntegerDtypes.end());
  return numeric;
}();
const std::vector<DType> kCastDtypes = [] {
  std::vector<DType> all = kNumericDtypes;
  all.push_back(dsp::program::BOOL);
  return all;
}();

/// Input 0 of a dtype in `allowed`, every other input of its dtype, and the
/// output too unless `result` gives the output's dtype.
bool sameDtypes(InstructionChecker &c, const std::vector<DType> &allowed,
                std::optional<DType> result = std::nullopt) {
  if (!c.dtypeIn(0, allowed))
    return false;
  for (int i = 1; i < c.numInputs(); ++i)
    if (!c.sameDtype(i, 0))
      return false;
  return result ? c.dtypeIn(-1, {*result}) : c.sameDtype(-1, 0);
}

/// A float operand and a result of its dtype and shape: the math functions.
bool checkUnaryFloat(InstructionChecker &c) {
  return sameDtypes(c, kFloatDtypes) && c.outputShapeIs(c.inputShape(0));
}

bool checkIsNan(InstructionChecker &c) {
  return sameDtypes(c, kFloatDtypes, dsp::program::BOOL) &&
         c.outputShapeIs(c.inputShape(0));
}

bool checkNot(InstructionChecker &c) {
  return c.dtypeIn(0, {dsp::program::BOOL}) &&
         c.dtypeIn(-1, {dsp::program::BOOL}) &&
         c.outputShapeIs(c.inputShape(0));
}

bool checkBroadcast(InstructionChecker &c) {
  Shape shape = c.inputShape(0);
  for (int i = 1; i < c.numInputs(); ++i)
    if (!broadcastShapes(shape, c.inputShape(i), shape))
      return c.fail("input " + std::to_string(i) + " has shape " +
                    shapeString(c.inputShape(i)) +
                    ", which does not broadcast with " + shapeString(shape));
  return c.outputShapeIs(shape);
}

bool checkArithmetic(InstructionChecker &c) {
  return sameDtypes(c, kNumericDtypes) && checkBroadcast(c);
}

bool checkMod(InstructionChecker &c) {
  int64_t fmod = 0;
  if (!checkArithmetic(c) || !c.singleInt("fmod", fmod))
    return false;
  if (fmod == 0 || fmod == 1)
    return true;
  return c.fail("attribute 'fmod' is " + std::to_string(fmod) +
                ", expected 0 or 1");
}

bool checkComparison(InstructionChecker &c) {
  return sameDtypes(c, kNumericDtypes, dsp::program::BOOL) && checkBroadcast(c);
}

bool checkLogical(InstructionChecker &c) {
  return c.dtypeIn(0, {dsp::program::BOOL}) &&
         c.dtypeIn(1, {dsp::program::BOOL}) &&
         c.dtypeIn(-1, {dsp::program::BOOL}) && checkBroadcast(c);
}

bool checkWhere(InstructionChecker &c) {
  return c.dtypeIn(0, {dsp::program::BOOL}) && c.sameDtype(2, 1) &&
         c.sameDtype(-1, 1) && checkBroadcast(c);
}

bool checkGelu(InstructionChecker &c) {
  if (!checkUnaryFloat(c))
    return false;
  const Attribute *approximate =
      c.attribute("approximate", false, Attribute::kStr);
  if (!c.problem.empty())
    return false;
  if (approximate && approximate->str() != "none" &&
      approximate->str() != "tanh")
    return c.fail("attribute 'approximate' is '" + approximate->str() +
                  "', expected 'none' or 'tanh'");
  return true;
}

bool checkCast(InstructionChecker &c) {
  return c.dtypeIn(0, kCastDtypes) && c.dtypeIn(-1, kCastDtypes) &&
         c.outputShapeIs(c.inputShape(0));
}

bool checkMatmul(InstructionChecker &c) {
  if (!sameDtypes(c, kFloatDtypes) || !c.rankAtLeast(0, 2) ||
      !c.rankAtLeast(1, 2))
    return false;
  Shape a = c.inputShape(0), b = c.inputShape(1);
  int64_t k = a[a.size() - 1];
  if (b[b.size() - 2] != k)
    return c.fail("input 1 has shape " + shapeString(b) +
                  ", expected inner dim " + std::to_string(k) +
                  " to match input 0 " + shapeString(a));
  Shape batch;
  if (!broadcastShapes(Shape(a.begin(), a.end() - 2),
                       Shape(b.begin(), b.end() - 2), batch))
    return c.fail("batch dims of " + shapeString(a) + " and " + shapeString(b) +
                  " do not broadcast");
  batch.push_back(a[a.size() - 2]);
  batch.push_back(b[b.size() - 1]);
  if (!c.outputShapeIs(batch))
    return false;
  // The epilogue: act(product + input 2) + input 3, each part optional but
  // the bias, which the others follow.
  const Attribute *activation =
      c.attribute("activation", false, Attribute::kStr);
  if (!c.problem.empty())
    return false;
  if (activation) {
    std::optional<Activation> found = findActivation(activation->str());
    if (!found)
      return c.fail("attribute 'activation' is '" + activation->str() +
                    "', expected one of " + activationNames());
    if (*found != Activation::None && c.numInputs() < 3)
      return c.fail("attribute 'activation' needs input 2 (bias)");
  }
  Shape bias = {batch.back()};
  if (c.numInputs() > 2 && c.inputShape(2) != bias)
    return c.fail("input 2 (bias) has shape " + shapeString(c.inputShape(2)) +
                  ", expected " + shapeString(bias));
  if (c.numInputs() > 3 && c.inputShape(3) != batch)
    return c.fail("input 3 (residual) has shape " +
                  shapeString(c.inputShape(3)) + ", expected the output's " +
                  shapeString(batch));
  return true;
}

bool checkLayerNorm(InstructionChecker &c) {
  int64_t axis = 0;
  double epsilon = 0;
  if (!sameDtypes(c, kFloatDtypes) ||
      !c.axis("axis", c.inputShape(0).size(), axis) ||
      !c.singleFloat("epsilon", true, epsilon) ||
      !c.outputShapeIs(c.inputShape(0)))
    return false;
  Shape x = c.inputShape(0);
  Shape normalized(x.begin() + axis, x.end());
  for (int i = 1; i < c.numInputs(); ++i) {
    if (c.inputShape(i) != normalized)
      return c.fail("input " + std::to_string(i) + " has shape " +
                    shapeString(c.inputShape(i)) + ", expected " +
                    shapeString(normalized));
  }
  return true;
}

bool checkSoftmax(InstructionChecker &c) {
  int64_t axis = 0;
  return sameDtypes(c, kFloatDtypes) &&
         c.axis("axis", c.inputShape(0).size(), axis) &&
         c.outputShapeIs(c.inputShape(0));
}

/// The ranks an instruction runs among: all of them, or with an `axis` the
/// sub-groups of that mesh axis.
bool groupRanks(InstructionChecker &c, int64_t &ranks) {
  ranks = c.ranks();
  if (!c.attribute("axis", false, Attribute::kInts))
    return c.problem.empty();
  Shape mesh = programMesh(c.programOf());
  int64_t axis = 0;
  if (!c.axis("axis", mesh.size(), axis))
    return false;
  ranks = mesh[axis];
  return true;
}

bool checkAttention(InstructionChecker &c);

bool checkRingAttention(InstructionChecker &c) {
  int64_t keyCount = 0, ranks = 0;
  if (!checkAttention(c) || !c.singleInt("key_count", keyCount) ||
      !groupRanks(c, ranks))
    return false;
  int64_t blockKeys = c.inputShape(1)[2];
  if (keyCount >= 1 && keyCount <= blockKeys * ranks)
    return true;
  return c.fail("attribute 'key_count' is " + std::to_string(keyCount) +
                ", expected a value in [1, " +
                std::to_string(blockKeys * ranks) + "] (" +
                std::to_string(ranks) + " blocks of " +
                std::to_string(blockKeys) + " keys)");
}

int64_t elementCount(const Shape &shape) {
  int64_t count = 1;
  for (int64_t dim : shape)
    count *= dim;
  return count;
}

bool checkReshape(InstructionChecker &c) {
  if (!c.sameDtype(-1, 0))
    return false;
  if (elementCount(c.inputShape(0)) != elementCount(c.outputShape()))
    return c.fail("output shape " + shapeString(c.outputShape()) +
                  " has a different element count than input shape " +
                  shapeString(c.inputShape(0)));
  return true;
}

/// Reads ints attribute `name` as a permutation of `rank` dims into `perm`;
/// an absent attribute that is not `required` leaves `perm` empty.
bool permutationAttribute(InstructionChecker &c, const std::string &name,
                          size_t rank, bool required, Shape &perm) {
  perm.clear();
  if (!required && !c.attribute(name, false, Attribute::kInts))
    return c.problem.empty();
  if (!c.intsOfLength(name, rank, perm))
    return false;
  std::vector<bool> used(rank, false);
  for (int64_t dim : perm) {
    if (dim < 0 || dim >= static_cast<int64_t>(rank) || used[dim])
      return c.fail("attribute '" + name + "' " + shapeString(perm) +
                    " is not a permutation of " + std::to_string(rank) +
                    " dims");
    used[dim] = true;
  }
  return true;
}

/// `shape` transposed by `perm` (dim d of the result is dim perm[d]); the
/// shape itself for an empty perm.
Shape transposed(const Shape &shape, const Shape &perm) {
  if (perm.empty())
    return shape;
  Shape out(perm.size());
  for (size_t d = 0; d < perm.size(); ++d)
    out[d] = shape[perm[d]];
  return out;
}

bool checkAttention(InstructionChecker &c) {
  double scale = 0;
  if (!c.singleFloat("scale", true, scale) || !sameDtypes(c, kFloatDtypes))
    return false;
  // An operand may be read at one index of a dim of a rank-5 tensor.
  Shape operands[3];
  for (int i = 0; i < 3; ++i) {
    Shape select;
    if (c.attribute(kAttentionSelectNames[i], false, Attribute::kInts)) {
      if (!c.intsOfLength(kAttentionSelectNames[i], 2, select) ||
          !c.rankIs(i, 5))
        return false;
      operands[i] = c.inputShape(i);
      if (select[0] < 0 || select[0] >= 5 || select[1] < 0 ||
          select[1] >= operands[i][select[0]])
        return c.fail("attribute '" + std::string(kAttentionSelectNames[i]) +
                      "' " + shapeString(select) +
                      " is not [dim, index] of a dim of input " +
                      std::to_string(i) + " " + shapeString(operands[i]));
      operands[i].erase(operands[i].begin() + select[0]);
    } else if (!c.problem.empty() || !c.rankIs(i, 4)) {
      return false;
    } else {
      operands[i] = c.inputShape(i);
    }
  }
  // The operands and the result may lie transposed, the head dim last.
  Shape perms[4];
  for (int i = 0; i < 4; ++i) {
    if (!permutationAttribute(c, kAttentionPermNames[i], 4, false, perms[i]))
      return false;
    if (!perms[i].empty() && perms[i][3] != 3)
      return c.fail("attribute '" + std::string(kAttentionPermNames[i]) + "' " +
                    shapeString(perms[i]) +
                    " moves the head dim, which must stay last");
  }
  Shape q = transposed(operands[0], perms[0]),
        k = transposed(operands[1], perms[1]),
        v = transposed(operands[2], perms[2]);
  if (k[0] != q[0] || k[1] != q[1] || k[3] != q[3])
    return c.fail("input 1 (keys) is attended as " + shapeString(k) +
                  ", expected [" + std::to_string(q[0]) + "," +
                  std::to_string(q[1]) + ",Lk," + std::to_string(q[3]) + "]");
  if (v[0] != q[0] || v[1] != q[1] || v[2] != k[2])
    return c.fail("input 2 (values) is attended as " + shapeString(v) +
                  ", expected [" + std::to_string(q[0]) + "," +
                  std::to_string(q[1]) + "," + std::to_string(k[2]) + ",Dv]");
  if (c.numInputs() == 4) {
    Shape mask = c.inputShape(3);
    Shape scores = {q[0], q[1], q[2], k[2]};
    Shape broadcast;
    if (mask.size() > 4 || !broadcastShapes(mask, scores, broadcast) ||
        broadcast != scores)
      return c.fail("input 3 (mask) has shape " + shapeString(mask) +
                    ", which does not broadcast to the scores " +
                    shapeString(scores));
  }
  return c.outputShapeIs(transposed({q[0], q[1], q[2], v[3]}, perms[3]));
}

bool checkTranspose(InstructionChecker &c) {
  Shape in = c.inputShape(0), perm;
  if (!c.sameDtype(-1, 0) ||
      !permutationAttribute(c, "perm", in.size(), true, perm))
    return false;
  return c.outputShapeIs(transposed(in, perm));
}

bool checkConcat(InstructionChecker &c) {
  Shape first = c.inputShape(0);
  int64_t axis = 0;
  if (!c.sameDtype(-1, 0) || !c.axis("axis", first.size(), axis))
    return false;
  Shape out = first;
  for (int i = 1; i < c.numInputs(); ++i) {
    Shape shape = c.inputShape(i);
    if (!c.sameDtype(i, 0))
      return false;
    bool compatible = shape.size() == first.size();
    for (size_t d = 0; compatible && d < shape.size(); ++d)
      compatible = static_cast<int64_t>(d) == axis || shape[d] == first[d];
    if (!compatible)
      return c.fail("input " + std::to_string(i) + " has shape " +
                    shapeString(shape) + ", which does not concatenate with " +
                    shapeString(first) + " along axis " + std::to_string(axis));
    std::optional<int64_t> extent = checkedAdd(out[axis], shape[axis]);
    if (!extent)
      return c.fail("the inputs' extents along axis " + std::to_string(axis) +
                    " add up to more than 2^63");
    out[axis] = *extent;
  }
  return c.outputShapeIs(out);
}

bool checkSlice(InstructionChecker &c) {
  Shape in = c.inputShape(0), starts, limits, strides;
  if (!c.sameDtype(-1, 0) || !c.intsOfLength("starts", in.size(), starts) ||
      !c.intsOfLength("limits", in.size(), limits) ||
      !c.intsOfLength("strides", in.size(), strides))
    return false;
  Shape out(in.size());
  for (size_t d = 0; d < in.size(); ++d) {
    std::string dim = "dim " + std::to_string(d) + ": ";
    if (strides[d] == 0)
      return c.fail(dim + "stride is 0");
    std::optional<int64_t> span = checkedSub(limits[d], starts[d]);
    if (!span)
      return c.fail(dim + "start " + std::to_string(starts[d]) + " and limit " +
                    std::to_string(limits[d]) + " are too far apart");
    // ceil(span / stride) elements, or none: written so nothing overflows.
    if (strides[d] > 0)
      out[d] = *span <= 0 ? 0 : (*span - 1) / strides[d] + 1;
    else
      out[d] = *span >= 0 ? 0 : (*span + 1) / strides[d] + 1;
    if (out[d] == 0)
      continue;
    // Between start and limit: no overflow.
    int64_t last = starts[d] + (out[d] - 1) * strides[d];
    if (starts[d] < 0 || starts[d] >= in[d] || last < 0 || last >= in[d])
      return c.fail(dim + "elements " + std::to_string(starts[d]) + ".." +
                    std::to_string(last) + " lie outside [0, " +
                    std::to_string(in[d]) + ")");
  }
  return c.outputShapeIs(out);
}

bool checkGather(InstructionChecker &c) {
  Shape data = c.inputShape(0), indices = c.inputShape(1);
  int64_t axis = 0;
  if (!c.dtypeIn(1, kIntegerDtypes) || !c.sameDtype(-1, 0) ||
      !c.axis("axis", data.size(), axis))
    return false;
  Shape out(data.begin(), data.begin() + axis);
  out.insert(out.end(), indices.begin(), indices.end());
  out.insert(out.end(), data.begin() + axis + 1, data.end());
  return c.outputShapeIs(out);
}

bool checkReduce(InstructionChecker &c) {
  Shape in = c.inputShape(0), axes;
  int64_t keepdims = 0;
  // A mean needs a division, so integers only sum and take the maximum.
  if (!sameDtypes(c,
                  c.op() == Op::ReduceMean ? kFloatDtypes : kNumericDtypes) ||
      !c.ints("axes", axes) || !c.singleInt("keepdims", keepdims))
    return false;
  if (keepdims != 0 && keepdims != 1)
    return c.fail("attribute 'keepdims' is " + std::to_string(keepdims) +
                  ", expected 0 or 1");
  for (size_t i = 0; i < axes.size(); ++i)
    if (axes[i] < 0 || axes[i] >= static_cast<int64_t>(in.size()) ||
        (i > 0 && axes[i] <= axes[i - 1]))
      return c.fail("attribute 'axes' " + shapeString(axes) +
                    " must be sorted, distinct and in [0, " +
                    std::to_string(in.size()) + ")");
  Shape out;
  for (size_t d = 0; d < in.size(); ++d) {
    bool reduced = std::find(axes.begin(), axes.end(), d) != axes.end();
    if (!reduced)
      out.push_back(in[d]);
    else if (keepdims)
      out.push_back(1);
  }
  return c.outputShapeIs(out);
}

bool checkConv(InstructionChecker &c) {
  if (!sameDtypes(c, kFloatDtypes))
    return false;
  Shape x = c.inputShape(0), w = c.inputShape(1);
  if (x.size() < 3 || x.size() > 5)
    return c.fail("input 0 has shape " + shapeString(x) +
                  ", expected rank 3 to 5 (N, C and 1 to 3 spatial dims)");
  if (!c.rankIs(1, x.size()))
    return false;
  size_t spatial = x.size() - 2;
  Shape strides, dilations, pads;
  int64_t group = 0;
  if (!c.intsOfLength("strides", spatial, strides) ||
      !c.intsOfLength("dilations", spatial, dilations) ||
      !c.intsOfLength("pads", 2 * spatial, pads) ||
      !c.singleInt("group", group))
    return false;
  if (group < 1 || x[1] % group != 0 || w[0] % group != 0)
    return c.fail("group " + std::to_string(group) +
                  " must divide the input channels " + std::to_string(x[1]) +
                  " and the output channels " + std::to_string(w[0]));
  if (checkedMul(w[1], group) != x[1])
    return c.fail("input 1 (weights) has shape " + shapeString(w) +
                  ", expected " + std::to_string(x[1] / group) +
                  " input channels per group");
  if (c.numInputs() == 3 && c.inputShape(2) != Shape{w[0]})
    return c.fail("input 2 (bias) has shape " + shapeString(c.inputShape(2)) +
                  ", expected [" + std::to_string(w[0]) + "]");
  Shape out = {x[0], w[0]};
  for (size_t d = 0; d < spatial; ++d) {
    if (strides[d] < 1 || dilations[d] < 1 || pads[d] < 0 ||
        pads[d + spatial] < 0)
      return c.fail("spatial dim " + std::to_string(d) +
                    ": strides and dilations must be >= 1 and pads >= 0");
    // Padded input minus dilated kernel; every operand is non-negative.
    std::optional<int64_t> padded = checkedAdd(x[d + 2], pads[d]);
    if (padded)
      padded = checkedAdd(*padded, pads[d + spatial]);
    std::optional<int64_t> reach = checkedMul(dilations[d], w[d + 2] - 1);
    if (!padded || !reach)
      return c.fail("spatial dim " + std::to_string(d) +
                    ": the pads or dilations are too large");
    int64_t extent = *padded - *reach - 1;
    if (extent < 0)
      return c.fail("spatial dim " + std::to_string(d) + ": the kernel (" +
                    std::to_string(w[d + 2]) +
                    ") is larger than the padded input");
    out.push_back(extent / strides[d] + 1);
  }
  return c.outputShapeIs(out);
}

bool checkExpand(InstructionChecker &c) {
  Shape broadcast;
  if (!c.sameDtype(-1, 0))
    return false;
  if (!broadcastShapes(c.inputShape(0), c.outputShape(), broadcast) ||
      broadcast != c.outputShape())
    return c.fail("input 0 has shape " + shapeString(c.inputShape(0)) +
                  ", which does not broadcast to the output shape " +
                  shapeString(c.outputShape()));
  return true;
}

bool checkTile(InstructionChecker &c) {
  Shape in = c.inputShape(0), repeats;
  if (!c.sameDtype(-1, 0) || !c.intsOfLength("repeats", in.size(), repeats))
    return false;
  Shape out(in.size());
  for (size_t d = 0; d < in.size(); ++d) {
    std::optional<int64_t> extent = checkedMul(in[d], repeats[d]);
    if (repeats[d] < 0 || !extent)
      return c.fail("attribute 'repeats' " + shapeString(repeats) +
                    " has a negative or too large value");
    out[d] = *extent;
  }
  return c.outputShapeIs(out);
}

/// A global shape from an ints attribute or tensor field: no negative dim,
/// no element count beyond kMaxElements.
bool checkPad(InstructionChecker &c) {
  if (!c.sameDtype(-1, 0))
    return false;
  bool hasValue = c.numInputs() == 2;
  if (hasValue && (!c.sameDtype(1, 0) || !c.rankIs(1, 0)))
    return false;
  const Attribute *modeName = c.attribute("mode", true, Attribute::kStr);
  if (!modeName)
    return false;
  std::optional<PadMode> mode = parsePadMode(modeName->str());
  if (!mode)
    return c.fail("attribute 'mode' is '" + modeName->str() +
                  "', expected 'constant', 'reflect' or 'edge'");
  if (hasValue && *mode != PadMode::Constant)
    return c.fail("input 1 (the fill value) needs mode 'constant'");
  Shape pads, padded;
  if (!c.ints("pads", pads))
    return false;
  std::string problem = padProblem(c.inputShape(0), pads, *mode, padded);
  if (!problem.empty())
    return c.fail(problem);
  return c.outputShapeIs(padded);
}

bool checkScatterElements(InstructionChecker &c) {
  Shape data = c.inputShape(0), indices = c.inputShape(1);
  int64_t axis = 0;
  if (!c.dtypeIn(1, {dsp::program::I64}) || !c.sameDtype(2, 0) ||
      !c.sameDtype(-1, 0) || !c.outputShapeIs(data) ||
      !c.axis("axis", data.size(), axis))
    return false;
  if (c.inputShape(2) != indices)
    return c.fail("input 2 has shape " + shapeString(c.inputShape(2)) +
                  ", expected the indices' shape " + shapeString(indices));
  if (indices.size() != data.size())
    return c.fail("input 1 has shape " + shapeString(indices) +
                  ", expected the rank of input 0 " + shapeString(data));
  for (size_t d = 0; d < data.size(); ++d)
    if (static_cast<int64_t>(d) != axis && indices[d] > data[d])
      return c.fail("input 1 has shape " + shapeString(indices) +
                    ", larger than input 0 " + shapeString(data) + " in dim " +
                    std::to_string(d));
  const Attribute *reduction = c.attribute("reduction", true, Attribute::kStr);
  if (!reduction)
    return false;
  if (reduction->str() == "add")
    return c.dtypeIn(0, {dsp::program::F32, dsp::program::I64});
  if (reduction->str() != "none")
    return c.fail("attribute 'reduction' is '" + reduction->str() +
                  "', expected 'none' or 'add'");
  return true;
}

std::string checkGlobalShape(const Shape &shape) {
  return shapeProblem(shape, "global shape");
}

/// Decodes the layout in ints attribute `name` and checks it against the
/// global shape and the rank count of the collective's group.
bool layoutAttribute(InstructionChecker &c, const std::string &name,
                     const Shape &global, int64_t ranks, Layout &layout) {
  Shape values;
  if (!c.intsOfLength(name, 6, values))
    return false;
  std::string problem = Layout::decode(values, layout);
  if (problem.empty())
    problem = layout.check(global, ranks);
  if (!problem.empty())
    return c.fail("attribute '" + name + "': " + problem);
  return true;
}

const char *layoutKindName(Layout::Kind kind) {
  return kind == Layout::Split     ? "split"
         : kind == Layout::Partial ? "partial"
                                   : "replicated";
}

/// Collectives and their local companions: the operand is the block the
/// `from` layout gives each rank, the result the block of `to`.
bool checkCollective(InstructionChecker &c) {
  Op op = c.op();
  bool zeroPad = op == Op::ZeroPad;
  bool allReduce = op == Op::AllReduce;
  Shape global;
  if (!c.sameDtype(-1, 0) || !c.ints("global_shape", global))
    return false;
  std::string problem = checkGlobalShape(global);
  if (!problem.empty())
    return c.fail("attribute 'global_shape': " + problem);
  int64_t ranks = 0;
  if (!groupRanks(c, ranks))
    return false;
  Layout from, to;
  if (!layoutAttribute(c, "from", global, ranks, from) ||
      (!zeroPad && !layoutAttribute(c, "to", global, ranks, to)))
    return false;
  if (zeroPad)
    to = from;

  static const std::map<Op, std::pair<Layout::Kind, Layout::Kind>> kinds = {
      {Op::AllToAll, {Layout::Split, Layout::Split}},
      {Op::AllGather, {Layout::Split, Layout::Replicated}},
      {Op::ReduceScatter, {Layout::Partial, Layout::Split}},
      {Op::AllReduce, {Layout::Partial, Layout::Replicated}},
      {Op::LocalSlice, {Layout::Replicated, Layout::Split}},
      {Op::ZeroPad, {Layout::Split, Layout::Split}}};
  const auto &expected = kinds.at(op);
  if (from.kind != expected.first)
    return c.fail("attribute 'from' is " + from.str() + ", expected " +
                  layoutKindName(expected.first));
  if (to.kind != expected.second)
    return c.fail("attribute 'to' is " + to.str() + ", expected " +
                  layoutKindName(expected.second));
  const Attribute *async = c.attribute("async", false, Attribute::kInts);
  if (!c.problem.empty())
    return false;
  if (async && (async->ints().values_size() != 1 ||
                async->ints().values(0) < 0 || async->ints().values(0) > 1))
    return c.fail("attribute 'async' must be 0 or 1");
  if (op == Op::AllToAll && from.dim == to.dim)
    return c.fail("attributes 'from' and 'to' split the same dim " +
                  std::to_string(from.dim) + ", expected different dims");
  if ((op == Op::ReduceScatter || allReduce) && !c.dtypeIn(0, kNumericDtypes))
    return false;
  if (allReduce) {
    const Attribute *reduction =
        c.attribute("reduction", false, Attribute::kStr);
    if (!c.problem.empty())
      return false;
    if (reduction && reduction->str() != "sum" && reduction->str() != "max")
      return c.fail("attribute 'reduction' is '" + reduction->str() +
                    "', expected 'sum' or 'max'");
  }
  // An all_to_all may fold the transposes around it: it reads
  // transpose(input, input_perm) and writes its result transposed by
  // output_perm.
  Shape inputPerm, outputPerm;
  if (op == Op::AllToAll &&
      (!permutationAttribute(c, "input_perm", global.size(), false,
                             inputPerm) ||
       !permutationAttribute(c, "output_perm", global.size(), false,
                             outputPerm)))
    return false;
  Shape in = from.localShape(global, ranks);
  if (!inputPerm.empty() && c.inputShape(0).size() != inputPerm.size())
    return c.fail("input 0 has shape " + shapeString(c.inputShape(0)) +
                  ", but input_perm " + shapeString(inputPerm) + " permutes " +
                  std::to_string(inputPerm.size()) + " dims");
  if (transposed(c.inputShape(0), inputPerm) != in)
    return c.fail(
        "input 0 has shape " + shapeString(c.inputShape(0)) +
        (inputPerm.empty()
             ? ","
             : ", transposed by input_perm " + shapeString(inputPerm) + ",") +
        " expected " + shapeString(in) + " (the " + from.str() + " block of " +
        shapeString(global) + " on " + std::to_string(ranks) + " ranks)");
  return c.outputShapeIs(transposed(to.localShape(global, ranks), outputPerm));
}

/// The wait of an async collective: validateProgram checks which one.
bool checkWait(InstructionChecker &) { return true; }

/// A launch of a code object's function: the compiler's fused kernels.
/// Its operands are whatever the function takes; only the launch geometry
/// is checked here, the module when the backend loads it.
bool checkKernel(InstructionChecker &c) {
  int64_t codeObject = 0;
  Shape grid, block;
  if (!c.axis("code_object", c.codeObjects(), codeObject) ||
      !c.intsOfLength("grid", 3, grid) || !c.intsOfLength("block", 3, block))
    return false;
  const Attribute *function = c.attribute("function", true, Attribute::kStr);
  if (!function)
    return false;
  if (function->str().empty() ||
      function->str().find('\0') != std::string::npos)
    return c.fail("attribute 'function' must name the kernel's symbol");
  for (int d = 0; d < 3; ++d)
    if (grid[d] < 1 || grid[d] > kMaxGridDims[d])
      return c.fail("attribute 'grid' " + shapeString(grid) + ": dim " +
                    std::to_string(d) + " must be in [1, " +
                    std::to_string(kMaxGridDims[d]) + "]");
  int64_t threads = 1;
  for (int d = 0; d < 3; ++d) {
    if (block[d] < 1 || block[d] > kMaxBlockDims[d])
      return c.fail("attribute 'block' " + shapeString(block) + ": dim " +
                    std::to_string(d) + " must be in [1, " +
                    std::to_string(kMaxBlockDims[d]) + "]");
    threads *= block[d];
  }
  if (threads > kMaxBlockThreads)
    return c.fail("attribute 'block' " + shapeString(block) + " has " +
                  std::to_string(threads) + " threads, more than " +
                  std::to_string(kMaxBlockThreads));
  return true;
}

bool checkFused(InstructionChecker &c);
std::string checkWeightSource(const Tensor &tensor);

/// The rule of each op, indexed by Op.
constexpr Checker kCheckers[] = {
#define DSP_OP(Name, Spelling, MinInputs, MaxInputs, Check, Attributes)        \
  check##Check,
#include "dsp/Format/Ops.def"
};

/// Whether `op` may be a step of a fused body: an element-wise op, or a row
/// op (layer_norm, softmax), which must also reduce the last dim alone.
bool isFusedStepOp(Op op, bool &rowOp) {
  KernelFamily family = kernelFamily(op);
  rowOp = family == KernelFamily::LayerNorm || family == KernelFamily::Softmax;
  return rowOp || isElementwise(family);
}

/// The body of a `fused` instruction (Program.proto's FusedBody): its
/// values, steps and results, each step checked by its op's own rule on
/// the body's values.
bool checkFused(InstructionChecker &c) {
  const Instruction &instruction = c.instructionOf();
  if (!instruction.has_body())
    return c.fail("has no body");
  const dsp::program::FusedBody &body = instruction.body();
  const int inputs = c.numInputs();
  const int values = body.values_size(), steps = body.steps_size();
  if (steps < 1 || values > kMaxFusedValues)
    return c.fail("body has " + std::to_string(steps) + " steps and " +
                  std::to_string(values) + " values, expected at least 1 " +
                  "step and at most " + std::to_string(kMaxFusedValues) +
                  " values");
  const int constants = values - inputs - steps;
  if (constants < 0)
    return c.fail("body has " + std::to_string(values) +
                  " values, fewer than its " + std::to_string(inputs) +
                  " inputs and " + std::to_string(steps) + " steps");
  if (body.results_size() != instruction.outputs_size())
    return c.fail("body has " + std::to_string(body.results_size()) +
                  " results for " + std::to_string(instruction.outputs_size()) +
                  " outputs");
  // The iteration space is the shape of the outputs; every value
  // broadcasts to it.
  const Shape space = c.outputShape();
  Program scope;
  scope.set_ranks(1);
  for (int v = 0; v < values; ++v) {
    const Tensor &value = body.values(v);
    std::string what = "body value " + std::to_string(v);
    if (!dsp::program::DType_IsValid(value.dtype()) ||
        value.dtype() == dsp::program::DTYPE_UNSPECIFIED)
      return c.fail(what + ": dtype is not set");
    Shape shape = tensorShape(value);
    std::string problem = shapeProblem(shape, "shape");
    if (!problem.empty())
      return c.fail(what + ": " + problem);
    Shape broadcast;
    if (!broadcastShapes(shape, space, broadcast) || broadcast != space)
      return c.fail(what + " has shape " + shapeString(shape) +
                    ", which does not broadcast to the outputs' " +
                    shapeString(space));
    bool isInput = v < inputs, isConstant = !isInput && v < inputs + constants;
    dsp::program::TensorKind kind = isInput      ? dsp::program::INPUT
                                    : isConstant ? dsp::program::WEIGHT
                                                 : dsp::program::INTERMEDIATE;
    if (value.kind() != kind)
      return c.fail(what + " has kind " +
                    dsp::program::TensorKind_Name(value.kind()) +
                    ", expected " + dsp::program::TensorKind_Name(kind));
    if (isInput &&
        (value.dtype() != c.input(v).dtype() || shape != c.inputShape(v)))
      return c.fail(what + " is " + dtypeName(value.dtype()) + " " +
                    shapeString(shape) + ", but input " + std::to_string(v) +
                    " is " + dtypeName(c.input(v).dtype()) + " " +
                    shapeString(c.inputShape(v)));
    if (isConstant && !value.has_splat())
      return c.fail(what + " is a constant without a splat element");
    problem = isConstant ? checkWeightSource(value) : "";
    if (!isConstant && value.source_case() != Tensor::SOURCE_NOT_SET)
      problem = "only a constant has a source";
    if (!problem.empty())
      return c.fail(what + ": " + problem);
    *scope.add_tensors() = value;
  }
  bool hasRowOp = false;
  for (int k = 0; k < steps; ++k) {
    const Instruction &step = body.steps(k);
    std::string where =
        "body step " + std::to_string(k) + " (" + step.op() + "): ";
    std::optional<Op> op = findOp(step.op());
    bool rowOp = false;
    if (!op || !isFusedStepOp(*op, rowOp))
      return c.fail(where + "is not an element-wise op, layer_norm or "
                            "softmax");
    if (rowOp && hasRowOp)
      return c.fail(where + "is a second row op; a body has at most one");
    hasRowOp |= rowOp;
    const OpSpec &spec = opSpec(*op);
    const uint32_t written = static_cast<uint32_t>(inputs + constants + k);
    if (step.inputs_size() < spec.minInputs ||
        step.inputs_size() > spec.maxInputs || step.outputs_size() != 1 ||
        step.outputs(0) != written)
      return c.fail(where + "has " + std::to_string(step.inputs_size()) +
                    " inputs and " + std::to_string(step.outputs_size()) +
                    " outputs, expected one output, value " +
                    std::to_string(written));
    for (uint32_t read : step.inputs())
      if (read >= written)
        return c.fail(where + "reads value " + std::to_string(read) +
                      ", which no earlier step or input holds");
    if (step.has_body())
      return c.fail(where + "has a body of its own");
    InstructionChecker checker(scope, step, *op);
    if (!checker.attributesKnown(spec.attributes) ||
        !kCheckers[static_cast<size_t>(*op)](checker))
      return c.fail(where + checker.problem);
    if (rowOp) {
      Shape in = checker.inputShape(0);
      int64_t axis = intsAttribute(step, "axis")[0];
      if (static_cast<size_t>(axis) + 1 != in.size() || in != space)
        return c.fail(where + "reduces axis " + std::to_string(axis) + " of " +
                      shapeString(in) +
                      ", expected the last dim of the outputs' " +
                      shapeString(space));
    }
  }
  std::set<uint32_t> yielded;
  for (int r = 0; r < body.results_size(); ++r) {
    uint32_t result = body.results(r);
    std::string what = "body result " + std::to_string(r);
    if (result < static_cast<uint32_t>(inputs + constants) ||
        result >= static_cast<uint32_t>(values) ||
        !yielded.insert(result).second)
      return c.fail(what + " is value " + std::to_string(result) +
                    ", expected a step output not yielded before");
    const Tensor &value = body.values(result);
    const Tensor &output = c.outputAt(r);
    if (tensorShape(output) != space)
      return c.fail("output " + std::to_string(r) + " has shape " +
                    shapeString(tensorShape(output)) +
                    ", expected output 0's " + shapeString(space));
    if (value.dtype() != output.dtype() ||
        tensorShape(value) != tensorShape(output))
      return c.fail(what + " is " + dtypeName(value.dtype()) + " " +
                    shapeString(tensorShape(value)) + ", but output " +
                    std::to_string(r) + " is " + dtypeName(output.dtype()) +
                    " " + shapeString(tensorShape(output)));
  }
  return true;
}

std::string describeTensor(const Program &program, uint32_t index) {
  return "tensor " + std::to_string(index) + " ('" +
         program.tensors(index).name() + "')";
}

/// The optional layout of a graph input or output: `shape` must be the
/// block of `global_shape` one rank holds. Outputs are replicated, so the
/// caller can read any rank's copy, unless they keep an input's layout
/// (checked with the signature).
std::string checkTensorLayout(const Program &program, const Tensor &tensor) {
  if (tensor.layout_size() == 0 && tensor.global_shape_size() == 0)
    return "";
  if (tensor.kind() != dsp::program::INPUT &&
      tensor.kind() != dsp::program::OUTPUT)
    return "only INPUT and OUTPUT tensors have a layout";
  Shape global(tensor.global_shape().begin(), tensor.global_shape().end());
  MeshLayout meshLayout;
  std::string problem = decodeTensorLayout(
      program, Shape(tensor.layout().begin(), tensor.layout().end()),
      meshLayout);
  if (!problem.empty())
    return "layout: " + problem;
  // Six ints are a layout over all ranks, more a compound one.
  bool compound = meshLayout.axes.size() > 1;
  const Layout &layout = meshLayout.axes[0];
  if (global.size() != static_cast<size_t>(tensor.shape_size()))
    problem = "global_shape " + shapeString(global) +
              " does not have the rank of shape " +
              shapeString(tensorShape(tensor));
  if (problem.empty())
    problem = checkGlobalShape(global);
  if (problem.empty())
    problem = compound ? meshLayout.check(global)
                       : layout.check(global, program.ranks());
  if (!problem.empty())
    return "layout: " + problem;
  std::string text = meshLayout.str();
  if (tensor.kind() == dsp::program::OUTPUT &&
      tensor.keeps_layout_of().empty() &&
      (compound || layout.kind != Layout::Replicated))
    return "an OUTPUT tensor must be replicated, its layout is " + text +
           " (gather it in the program)";
  Shape local = compound ? meshLayout.localShape(global)
                         : layout.localShape(global, program.ranks());
  if (local != tensorShape(tensor))
    return "shape " + shapeString(tensorShape(tensor)) + " is not the " + text +
           " block " + shapeString(local) + " of " + shapeString(global) +
           " on " + std::to_string(program.ranks()) + " ranks";
  return "";
}

/// The rules of an external, generated or splat weight's source fields.
std::string checkWeightSource(const Tensor &tensor) {
  if (tensor.has_splat()) {
    const std::string &element = tensor.splat().element();
    if (element.size() != elementSize(tensor.dtype()))
      return "a splat weight's element has " + std::to_string(element.size()) +
             " bytes, expected " + std::to_string(elementSize(tensor.dtype())) +
             " for " + dtypeName(tensor.dtype());
    if (tensor.dtype() == dsp::program::BOOL && element[0] != 0 &&
        element[0] != 1)
      return "a splat weight's BOOL element is " +
             std::to_string(static_cast<uint8_t>(element[0])) +
             ", expected 0 or 1";
    return "";
  }
  if (tensor.has_generated()) {
    const dsp::program::GeneratedWeight &generated = tensor.generated();
    if (tensor.dtype() != dsp::program::F32 && !isFloat16(tensor.dtype()))
      return "a generated weight must be F32, F16 or BF16, it is " +
             std::string(dtypeName(tensor.dtype()));
    if (!std::isfinite(generated.center()) ||
        !std::isfinite(generated.bound()) || generated.bound() < 0 ||
        std::fabs(generated.center()) + generated.bound() > kMaxGeneratedValue)
      return "generated weight range center " +
             std::to_string(generated.center()) + " bound " +
             std::to_string(generated.bound()) +
             " is not finite, negative or beyond 1e30";
    return "";
  }
  const dsp::program::ExternalWeight &external = tensor.external();
  std::string problem = externalPathProblem(external.path());
  if (!problem.empty())
    return "external weight path '" + external.path() + "' " + problem;
  if (external.path().size() > kMaxExternalPathBytes)
    return "external weight path is " + std::to_string(external.path().size()) +
           " bytes long, more than the limit of " +
           std::to_string(kMaxExternalPathBytes);
  if (!dsp::program::DType_IsValid(external.dtype()) ||
      !canLoadWeightAs(external.dtype(), tensor.dtype()))
    return "an external weight of dtype " +
           std::string(dtypeName(external.dtype())) + " cannot be loaded as " +
           dtypeName(tensor.dtype()) +
           " (the same dtype, or F32 into F16 or BF16)";
  uint64_t expected =
      static_cast<uint64_t>(*checkedElementCount(tensor.shape())) *
      elementSize(external.dtype());
  if (external.bytes() != expected)
    return "external weight bytes is " + std::to_string(external.bytes()) +
           ", expected " + std::to_string(expected) + " for " +
           dtypeName(external.dtype()) + " " + shapeString(tensorShape(tensor));
  return "";
}

/// WEIGHT tensors: those in the file's blob lie inside it; external,
/// generated and splat ones lie past it, inside the loaded blob, without
/// overlapping.
std::string checkWeight(const Program &program, uint32_t index,
                        uint64_t weightsSize, uint64_t loadedBytes,
                        std::vector<std::pair<uint64_t, uint32_t>> &sourced) {
  const Tensor &tensor = program.tensors(index);
  std::string what = describeTensor(program, index);
  if (tensor.offset() % kWeightAlignment != 0)
    return what + ": weight offset " + std::to_string(tensor.offset()) +
           " is not 64-byte aligned";
  bool inFile = tensor.source_case() == Tensor::SOURCE_NOT_SET;
  uint64_t start = inFile ? 0 : weightsSize;
  uint64_t end = inFile ? weightsSize : loadedBytes;
  if (tensor.offset() < start || tensor.offset() > end ||
      tensor.bytes() > end - tensor.offset())
    return what + ": weight bytes [" + std::to_string(tensor.offset()) + ", +" +
           std::to_string(tensor.bytes()) + ") lie outside the " +
           (inFile ? "file's weight blob (" + std::to_string(weightsSize) +
                         " bytes)"
                   : "loaded blob's part past the file's blob [" +
                         std::to_string(weightsSize) + ", " +
                         std::to_string(loadedBytes) + ")");
  if (inFile)
    return "";
  std::string problem = checkWeightSource(tensor);
  if (!problem.empty())
    return what + ": " + problem;
  sourced.push_back({tensor.offset(), index});
  return "";
}

std::string checkTensors(const Program &program, uint64_t weightsSize) {
  uint64_t loadedBytes = program.loaded_weights_bytes()
                             ? program.loaded_weights_bytes()
                             : weightsSize;
  if (loadedBytes < weightsSize || loadedBytes > kMaxBufferBytes)
    return "loaded_weights_bytes is " + std::to_string(loadedBytes) +
           ", expected at least the file's weight blob (" +
           std::to_string(weightsSize) + ") and at most 2^56";
  std::vector<std::pair<uint64_t, uint32_t>> sourced;
  for (int i = 0; i < program.tensors_size(); ++i) {
    const Tensor &tensor = program.tensors(i);
    std::string what = describeTensor(program, i);
    if (!dsp::program::DType_IsValid(tensor.dtype()) ||
        tensor.dtype() == dsp::program::DTYPE_UNSPECIFIED)
      return what + ": dtype is not set";
    if (!dsp::program::TensorKind_IsValid(tensor.kind()) ||
        tensor.kind() == dsp::program::KIND_UNSPECIFIED)
      return what + ": kind is not set";
    std::string problem = shapeProblem(tensorShape(tensor), "shape");
    if (!problem.empty())
      return what + ": " + problem;
    uint64_t expected =
        static_cast<uint64_t>(*checkedElementCount(tensor.shape())) *
        elementSize(tensor.dtype());
    if (tensor.bytes() != expected)
      return what + ": bytes is " + std::to_string(tensor.bytes()) +
             ", expected " + std::to_string(expected) + " for " +
             dtypeName(tensor.dtype()) + " " + shapeString(tensorShape(tensor));
    problem = checkTensorLayout(program, tensor);
    if (!problem.empty())
      return what + ": " + problem;
    if (!tensor.keeps_layout_of().empty() &&
        tensor.kind() != dsp::program::OUTPUT)
      return what + ": only an OUTPUT tensor keeps an input's layout";
    if (tensor.kind() == dsp::program::WEIGHT) {
      problem = checkWeight(program, i, weightsSize, loadedBytes, sourced);
      if (!problem.empty())
        return problem;
      continue;
    }
    if (tensor.source_case() != Tensor::SOURCE_NOT_SET)
      return what + ": only a WEIGHT tensor may have an external, generated "
                    "or splat source";
    if (tensor.offset() % elementSize(tensor.dtype()) != 0)
      return what + ": arena offset " + std::to_string(tensor.offset()) +
             " is not aligned to its element size";
    if (tensor.offset() > program.arena_bytes() ||
        tensor.bytes() > program.arena_bytes() - tensor.offset())
      return what + ": arena bytes [" + std::to_string(tensor.offset()) +
             ", +" + std::to_string(tensor.bytes()) +
             ") lie outside the arena (" +
             std::to_string(program.arena_bytes()) + " bytes)";
  }
  // The loader writes external, generated and splat weights: two that overlap
  // would overwrite each other.
  std::sort(sourced.begin(), sourced.end());
  uint64_t end = weightsSize;
  const Tensor *last = nullptr;
  for (auto [offset, index] : sourced) {
    const Tensor &tensor = program.tensors(index);
    if (last && tensor.bytes() && last->offset() + last->bytes() > offset)
      return describeTensor(program, index) +
             ": its loaded bytes overlap those of '" + last->name() + "'";
    if (tensor.bytes())
      last = &tensor;
    end = std::max(end, offset + tensor.bytes());
  }
  // The loader allocates the loaded blob: no larger than its weights need.
  if (end != loadedBytes)
    return "loaded_weights_bytes is " + std::to_string(loadedBytes) +
           ", but the weights end at byte " + std::to_string(end);
  return "";
}

/// An output that keeps the layout of the input `keeps_layout_of` names
/// holds what that input holds on every rank.
std::string checkKeptLayout(const Program &program, const Tensor &output) {
  const std::string &name = output.keeps_layout_of();
  for (uint32_t index : program.inputs()) {
    const Tensor &input = program.tensors(index);
    if (input.name() != name)
      continue;
    if (input.dtype() != output.dtype() ||
        tensorShape(input) != tensorShape(output) ||
        !std::equal(input.layout().begin(), input.layout().end(),
                    output.layout().begin(), output.layout().end()) ||
        !std::equal(input.global_shape().begin(), input.global_shape().end(),
                    output.global_shape().begin(), output.global_shape().end()))
      return "keeps the layout of input '" + name +
             "', but its dtype, shape, layout or global shape differ from "
             "the input's";
    return "";
  }
  return "keeps the layout of input '" + name + "', which is not a graph input";
}

std::string checkSignature(const Program &program) {
  const uint32_t numTensors = program.tensors_size();
  std::set<uint32_t> listedInputs, listedOutputs;
  std::set<std::string> inputNames, outputNames;
  for (uint32_t index : program.inputs()) {
    if (index >= numTensors)
      return "graph input " + std::to_string(index) +
             " is not a tensor index (the program has " +
             std::to_string(numTensors) + " tensors)";
    if (program.tensors(index).kind() != dsp::program::INPUT)
      return "graph input " + describeTensor(program, index) +
             " is not of kind INPUT";
    if (!listedInputs.insert(index).second ||
        !inputNames.insert(program.tensors(index).name()).second)
      return "graph input " + describeTensor(program, index) +
             " is listed twice or shares its name with another input";
  }
  for (uint32_t index : program.outputs()) {
    if (index >= numTensors)
      return "graph output " + std::to_string(index) +
             " is not a tensor index (the program has " +
             std::to_string(numTensors) + " tensors)";
    if (!listedOutputs.insert(index).second ||
        !outputNames.insert(program.tensors(index).name()).second)
      return "graph output " + describeTensor(program, index) +
             " is listed twice or shares its name with another output";
    const Tensor &tensor = program.tensors(index);
    if (!tensor.keeps_layout_of().empty()) {
      std::string problem = checkKeptLayout(program, tensor);
      if (!problem.empty())
        return "graph output " + describeTensor(program, index) + ": " +
               problem;
    } else if (tensor.layout_size() > 0 &&
               tensor.layout(0) != Layout::Replicated) {
      return "graph output " + describeTensor(program, index) +
             " must be replicated (gather it in the program)";
    }
  }
  for (uint32_t i = 0; i < numTensors; ++i) {
    TensorKind kind = program.tensors(i).kind();
    if (kind == dsp::program::INPUT && !listedInputs.count(i))
      return describeTensor(program, i) +
             " is of kind INPUT but not a graph input";
    if (kind == dsp::program::OUTPUT && !listedOutputs.count(i))
      return describeTensor(program, i) +
             " is of kind OUTPUT but not a graph output";
  }
  return "";
}

/// "sm_" and a compute capability of 2 or 3 digits, with an optional
/// architecture-specific suffix ("sm_90a").
bool isGpuTarget(const std::string &target) {
  if (target.rfind("sm_", 0) != 0)
    return false;
  size_t digits = 0;
  while (3 + digits < target.size() &&
         std::isdigit(static_cast<unsigned char>(target[3 + digits])))
    ++digits;
  std::string suffix = target.substr(3 + digits);
  return digits >= 2 && digits <= 3 && target[3] != '0' &&
         (suffix.empty() || suffix == "a" || suffix == "f");
}

std::string checkCodeObjects(const Program &program) {
  for (int i = 0; i < program.code_objects_size(); ++i) {
    const dsp::program::CodeObject &code = program.code_objects(i);
    std::string what =
        "code object " + std::to_string(i) + " ('" + code.name() + "')";
    if (!isGpuTarget(code.target()))
      return what + ": target is '" + code.target() +
             "', expected sm_NN (e.g. sm_90)";
    if (code.binary().empty() && code.ptx().empty())
      return what + ": has neither a binary nor PTX";
    if (code.binary().size() > kMaxCodeObjectBytes ||
        code.ptx().size() > kMaxCodeObjectBytes)
      return what + ": its binary or PTX is larger than the limit of " +
             std::to_string(kMaxCodeObjectBytes) + " bytes";
    // The driver reads PTX up to its first NUL.
    if (code.ptx().find('\0') != std::string::npos)
      return what + ": its PTX contains a NUL byte";
  }
  return "";
}

struct LiveRange {
  uint32_t tensor;
  int64_t first; // -1: live from the start of the run.
  int64_t last;
};

/// `buffer[t]`: the first tensor whose bytes tensor t shares. A reshape's
/// output may share its input's (same offset, same size): it holds the same
/// bytes in the same order, and neither is written again.
std::vector<uint32_t> sharedBuffers(const Program &program) {
  std::vector<uint32_t> buffer(program.tensors_size());
  std::iota(buffer.begin(), buffer.end(), 0);
  for (const Instruction &instruction : program.instructions()) {
    if (instruction.op() != "reshape")
      continue;
    const Tensor &input = program.tensors(instruction.inputs(0));
    const Tensor &output = program.tensors(instruction.outputs(0));
    if (input.kind() != dsp::program::WEIGHT &&
        input.offset() == output.offset() && input.bytes() == output.bytes())
      buffer[instruction.outputs(0)] = buffer[instruction.inputs(0)];
  }
  return buffer;
}

std::string checkLiveness(const Program &program,
                          const std::vector<LiveRange> &ranges) {
  std::vector<uint32_t> buffer = sharedBuffers(program);
  std::vector<LiveRange> sorted;
  for (const LiveRange &range : ranges)
    if (program.tensors(range.tensor).bytes() > 0)
      sorted.push_back(range);
  std::sort(sorted.begin(), sorted.end(),
            [&](const LiveRange &a, const LiveRange &b) {
              return program.tensors(a.tensor).offset() <
                     program.tensors(b.tensor).offset();
            });
  auto describeRange = [&](const LiveRange &range) {
    const Tensor &tensor = program.tensors(range.tensor);
    return describeTensor(program, range.tensor) + " (arena [" +
           std::to_string(tensor.offset()) + ", " +
           std::to_string(tensor.offset() + tensor.bytes()) +
           "), live over instructions " + std::to_string(range.first) + ".." +
           std::to_string(range.last) + ")";
  };
  for (size_t i = 0; i < sorted.size(); ++i) {
    const Tensor &a = program.tensors(sorted[i].tensor);
    uint64_t end = a.offset() + a.bytes();
    for (size_t j = i + 1;
         j < sorted.size() && program.tensors(sorted[j].tensor).offset() < end;
         ++j)
      if (sorted[i].first <= sorted[j].last &&
          sorted[j].first <= sorted[i].last &&
          buffer[sorted[i].tensor] != buffer[sorted[j].tensor])
        return "buffer plan error: " + describeRange(sorted[i]) + " and " +
               describeRange(sorted[j]) +
               " overlap in the arena while both are live";
  }
  return "";
}

} // namespace

std::string validateProgram(const Program &program, uint64_t weightsSize) {
  if (program.format_version() != kMajorVersion)
    return "program format_version is " +
           std::to_string(program.format_version()) + ", expected " +
           std::to_string(kMajorVersion);
  if (program.ranks() < 1 || program.ranks() > kMaxRanks)
    return "program ranks is " + std::to_string(program.ranks()) +
           ", expected 1 to " + std::to_string(kMaxRanks);
  if (program.mesh_size() > 0) {
    int64_t product = 1;
    for (int64_t size : program.mesh())
      product =
          size >= 1 && size <= program.ranks() && product <= program.ranks()
              ? product * size
              : 0;
    if (program.mesh_size() < 2 || product != program.ranks())
      return "program mesh " + shapeString(programMesh(program)) +
             " is not two or more sizes that multiply to the " +
             std::to_string(program.ranks()) + " ranks";
  }
  if (program.arena_bytes() > kMaxBufferBytes)
    return "arena_bytes is " + std::to_string(program.arena_bytes()) +
           ", more than the limit of 2^56";
  std::string problem = checkTensors(program, weightsSize);
  if (problem.empty())
    problem = checkSignature(program);
  if (problem.empty())
    problem = checkCodeObjects(program);
  if (!problem.empty())
    return problem;

  const uint32_t numTensors = program.tensors_size();
  const int64_t numInstructions = program.instructions_size();
  constexpr int64_t kNotWritten = -2;
  std::vector<int64_t> writer(numTensors, kNotWritten);
  for (uint32_t index : program.inputs())
    writer[index] = -1;
  // The async collectives not yet waited for, by the tensor they write.
  std::map<uint32_t, int64_t> inFlight;

  for (int64_t i = 0; i < numInstructions; ++i) {
    const Instruction &instruction = program.instructions(i);
    std::string where = "instruction " + std::to_string(i) + " (" +
                        instruction.op() +
                        (instruction.location().empty()
                             ? std::string()
                             : " at '" + instruction.location() + "'") +
                        "): ";
    std::optional<Op> found = findOp(instruction.op());
    if (!found)
      return where + "unknown op '" + instruction.op() + "'";
    const OpSpec &op = opSpec(*found);
    if (instruction.inputs_size() < op.minInputs ||
        instruction.inputs_size() > op.maxInputs)
      return where + "has " + std::to_string(instruction.inputs_size()) +
             " inputs, expected " +
             (op.minInputs == op.maxInputs ? std::to_string(op.minInputs)
              : op.maxInputs == kUnboundedInputs
                  ? "at least " + std::to_string(op.minInputs)
                  : std::to_string(op.minInputs) + " to " +
                        std::to_string(op.maxInputs));
    int outputs = op.op == Op::Wait ? 0 : 1;
    bool severalOutputs = op.op == Op::Kernel || op.op == Op::Fused;
    if (severalOutputs ? instruction.outputs_size() < 1
                       : instruction.outputs_size() != outputs)
      return where + "has " + std::to_string(instruction.outputs_size()) +
             " outputs, expected " +
             (severalOutputs ? "at least 1" : std::to_string(outputs));
    if (op.op != Op::Fused && instruction.has_body())
      return where + "has a body, which only a fused instruction has";
    for (int j = 0; j < instruction.inputs_size(); ++j) {
      uint32_t index = instruction.inputs(j);
      if (index >= numTensors)
        return where + "input " + std::to_string(j) + " is tensor " +
               std::to_string(index) + ", but the program has " +
               std::to_string(numTensors) + " tensors";
      if (program.tensors(index).kind() != dsp::program::WEIGHT &&
          writer[index] == kNotWritten)
        return where + "input " + std::to_string(j) + " reads " +
               describeTensor(program, index) +
               " before any instruction writes it";
      auto started = inFlight.find(index);
      if (op.op == Op::Wait && started == inFlight.end())
        return where + "waits for " + describeTensor(program, index) +
               ", which no async collective in flight writes";
      if (op.op != Op::Wait && started != inFlight.end())
        return where + "input " + std::to_string(j) + " reads " +
               describeTensor(program, index) +
               " before the wait of async instruction " +
               std::to_string(started->second);
      if (op.op == Op::Wait)
        inFlight.erase(started);
    }
    for (int j = 0; j < instruction.outputs_size(); ++j) {
      uint32_t result = instruction.outputs(j);
      std::string output = instruction.outputs_size() == 1
                               ? "output"
                               : "output " + std::to_string(j);
      if (result >= numTensors)
        return where + output + " is tensor " + std::to_string(result) +
               ", but the program has " + std::to_string(numTensors) +
               " tensors";
      TensorKind kind = program.tensors(result).kind();
      if (kind != dsp::program::INTERMEDIATE && kind != dsp::program::OUTPUT)
        return where + "writes " + describeTensor(program, result) +
               ", which is an input or a weight";
      if (writer[result] != kNotWritten)
        return where + "writes " + describeTensor(program, result) +
               ", already written by instruction " +
               std::to_string(writer[result]);
      writer[result] = i;
    }
    InstructionChecker checker(program, instruction, op.op);
    if (!checker.attributesKnown(op.attributes) ||
        !kCheckers[static_cast<size_t>(op.op)](checker))
      return where + checker.problem;
    if (startsAsync(instruction))
      inFlight[instruction.outputs(0)] = i;
  }
  if (!inFlight.empty())
    return "instruction " + std::to_string(inFlight.begin()->second) +
           " starts an async collective that no wait completes";

  std::vector<TensorLifetime> lifetimes = tensorLifetimes(program);
  std::vector<LiveRange> ranges;
  for (uint32_t t = 0; t < numTensors; ++t) {
    if (lifetimes[t].last >= lifetimes[t].first)
      ranges.push_back({t, lifetimes[t].first, lifetimes[t].last});
    else if (program.tensors(t).kind() != dsp::program::WEIGHT &&
             std::find(program.outputs().begin(), program.outputs().end(), t) !=
                 program.outputs().end())
      return describeTensor(program, t) +
             " is a graph output but no instruction writes it";
  }
  return checkLiveness(program, ranges);
}

} // namespace format
} // namespace dsp

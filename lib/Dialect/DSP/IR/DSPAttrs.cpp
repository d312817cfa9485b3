//===- DSPAttrs.cpp - dsp attributes --------------------------------------===//

#include "dsp/Dialect/DSP/IR/DSPAttrs.h"
#include "dsp/Dialect/DSP/IR/DSPDialect.h"
#include "dsp/Format/Checked.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/ADT/TypeSwitch.h"

#include <set>

using namespace mlir;
using namespace mlir::dsp;

#include "dsp/Dialect/DSP/IR/DSPEnums.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "dsp/Dialect/DSP/IR/DSPAttrs.cpp.inc"

void DSPDialect::registerAttributes() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "dsp/Dialect/DSP/IR/DSPAttrs.cpp.inc"
      >();
}

LogicalResult GroupAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                int64_t ranks, ArrayRef<int64_t> mesh, bool) {
  if (ranks < 1 || ranks > ::dsp::format::kMaxRanks)
    return emitError() << "a device group has 1 to " << ::dsp::format::kMaxRanks
                       << " ranks, got " << ranks;
  if (mesh.empty())
    return success();
  if (mesh.size() < 2)
    return emitError() << "a mesh has at least two axes";
  int64_t product = 1;
  for (int64_t size : mesh) {
    if (size < 1 || size > ranks)
      return emitError() << "mesh sizes must be 1 to " << ranks << ", got "
                         << size;
    product *= size;
  }
  if (product != ranks)
    return emitError() << "the mesh sizes multiply to " << product
                       << ", not the " << ranks << " ranks";
  return success();
}

/// Parses `, key = value` pairs while a comma follows, each key at most
/// once; `parseValue` parses the value of `key` and rejects unknown keys.
static ParseResult parseKeyedValues(
    AsmParser &parser,
    function_ref<ParseResult(StringRef key, SMLoc keyLoc)> parseValue) {
  llvm::StringSet<> seen;
  while (succeeded(parser.parseOptionalComma())) {
    StringRef key;
    SMLoc keyLoc = parser.getCurrentLocation();
    if (parser.parseKeyword(&key) || parser.parseEqual())
      return failure();
    if (!seen.insert(key).second)
      return parser.emitError(keyLoc) << "'" << key << "' is given twice";
    if (parseValue(key, keyLoc))
      return failure();
  }
  return success();
}

/// Parses `[i, j, ...]` into `values`.
static ParseResult parseIntegerList(AsmParser &parser,
                                    SmallVectorImpl<int64_t> &values) {
  return parser.parseCommaSeparatedList(
      AsmParser::Delimiter::Square, [&]() -> ParseResult {
        return parser.parseInteger(values.emplace_back());
      });
}

Attribute GroupAttr::parse(AsmParser &parser, Type) {
  int64_t ranks = 0;
  bool perRank = false;
  SmallVector<int64_t> mesh;
  if (parser.parseLess() || parser.parseKeyword("ranks") ||
      parser.parseEqual() || parser.parseInteger(ranks))
    return {};
  auto parseValue = [&](StringRef key, SMLoc keyLoc) -> ParseResult {
    if (key == "mesh")
      return parseIntegerList(parser, mesh);
    if (key != "per_rank")
      return parser.emitError(keyLoc)
             << "expected 'mesh' or 'per_rank', got '" << key << "'";
    StringRef value;
    SMLoc valueLoc = parser.getCurrentLocation();
    if (parser.parseKeyword(&value))
      return failure();
    if (value != "true" && value != "false")
      return parser.emitError(valueLoc) << "expected true or false";
    perRank = value == "true";
    return success();
  };
  if (parseKeyedValues(parser, parseValue) || parser.parseGreater())
    return {};
  return getChecked([&] { return parser.emitError(parser.getNameLoc()); },
                    parser.getContext(), ranks, mesh, perRank);
}

void GroupAttr::print(AsmPrinter &printer) const {
  printer << "<ranks = " << getRanks();
  if (!getMesh().empty()) {
    printer << ", mesh = [";
    llvm::interleaveComma(getMesh(), printer);
    printer << "]";
  }
  if (getPerRank())
    printer << ", per_rank = true";
  printer << ">";
}

/// Whether `chip` names an NVIDIA SM architecture: "sm_", its compute
/// capability digits and an optional "a" (arch-specific features).
static bool isSmArchitecture(StringRef chip) {
  if (!chip.consume_front("sm_"))
    return false;
  chip.consume_back("a");
  return !chip.empty() && chip.size() <= 3 && llvm::all_of(chip, llvm::isDigit);
}

LogicalResult TargetAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                 TargetKind kind, StringAttr chip) {
  if (kind == TargetKind::Cpu)
    return chip ? emitError() << "target cpu takes no chip" : success();
  if (!chip || !isSmArchitecture(chip.getValue()))
    return emitError() << "target cuda needs a chip such as \"sm_90\", got "
                       << (chip ? chip.getValue() : StringRef("none"));
  return success();
}

LogicalResult
ExternalDataAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                         StringAttr path, uint64_t offset, uint64_t bytes,
                         Type elementType) {
  if (!path || !path.getValue().starts_with("/"))
    return emitError() << "external data needs the file's resolved (absolute) "
                          "path";
  if (!elementType.isIntOrFloat())
    return emitError() << "external data holds integers or floats, got "
                       << elementType;
  if (!::dsp::format::checkedAdd(offset, bytes))
    return emitError() << "external data range at offset " << offset << " of "
                       << bytes << " bytes overflows";
  return success();
}

LogicalResult ShardingAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                   ShardKind kind, int64_t dim,
                                   ArrayRef<int64_t> factors, int64_t factor,
                                   int64_t pad, ArrayRef<ShardingAttr> axes) {
  if ((kind == ShardKind::Mesh) != !axes.empty())
    return emitError() << "'axes' make a compound sharding, and only they";
  if (kind == ShardKind::Mesh) {
    if (dim != -1 || !factors.empty() || factor != 0 || pad != 0)
      return emitError() << "a compound sharding takes no dim, factors or pad "
                            "of its own";
    if (axes.size() < 2)
      return emitError() << "a compound sharding has one entry per mesh axis, "
                            "at least two";
    if (llvm::any_of(axes, [](ShardingAttr s) { return s.isCompound(); }))
      return emitError() << "a mesh axis holds a value replicated, partial or "
                            "split, not compound";
    if (llvm::all_of(axes, [](ShardingAttr s) { return s.isReplicated(); }) ||
        llvm::all_of(axes, [](ShardingAttr s) { return s.isPartial(); }))
      return emitError() << "a compound sharding of the same kind on every "
                            "axis is written #dsp.shard<"
                         << stringifyShardKind(axes.front().getKind()) << ">";
    return success();
  }
  if (kind != ShardKind::Split) {
    if (dim != -1 || !factors.empty() || factor != 0 || pad != 0)
      return emitError() << "a " << stringifyShardKind(kind)
                         << " sharding takes no dim, factors or pad";
    return success();
  }
  if (dim < 0)
    return emitError() << "split dim must be non-negative, got " << dim;
  if (pad < 0)
    return emitError() << "pad must be non-negative, got " << pad;
  if (factors.empty()) {
    if (factor != 0)
      return emitError() << "'factor' needs 'factors'";
    return success();
  }
  if (factors.size() < 2)
    return emitError() << "'factors' must list at least two factors";
  if (llvm::any_of(factors, [](int64_t f) { return f < 1; }))
    return emitError() << "every factor must be positive";
  if (factor < 0 || factor >= static_cast<int64_t>(factors.size()))
    return emitError() << "factor index " << factor << " is out of range for "
                       << factors.size() << " factors";
  return success();
}

ShardingAttr ShardingAttr::getSplit(MLIRContext *context, int64_t dim,
                                    int64_t outer, int64_t size, int64_t inner,
                                    int64_t pad) {
  if (outer == 1 && inner == 1)
    return get(context, ShardKind::Split, dim, {}, 0, pad, {});
  SmallVector<int64_t> factors;
  if (outer > 1)
    factors.push_back(outer);
  int64_t index = factors.size();
  factors.push_back(size);
  if (inner > 1)
    factors.push_back(inner);
  return get(context, ShardKind::Split, dim, factors, index, pad, {});
}

ShardingAttr ShardingAttr::getCompound(MLIRContext *context,
                                       ArrayRef<ShardingAttr> axes) {
  if (axes.size() == 1)
    return axes.front();
  if (llvm::all_of(axes, [](ShardingAttr s) { return s.isReplicated(); }))
    return getReplicated(context);
  if (llvm::all_of(axes, [](ShardingAttr s) { return s.isPartial(); }))
    return getPartial(context);
  return get(context, ShardKind::Mesh, -1, {}, 0, 0, axes);
}

bool ShardingAttr::holdsSameBlocks(ShardingAttr other) const {
  if (*this == other)
    return true;
  return isSplit() && other.isSplit() && getDim() == other.getDim() &&
         getPad() == 0 && other.getPad() == 0 && getOuter() == other.getOuter();
}

ShardingAttr ShardingAttr::getAxis(size_t axis) const {
  if (isCompound())
    return getAxes()[axis];
  return isSplit() ? ShardingAttr() : *this;
}

::dsp::format::MeshLayout
ShardingAttr::getMeshLayout(ArrayRef<int64_t> shape,
                            ArrayRef<int64_t> mesh) const {
  ::dsp::format::MeshLayout layout;
  layout.mesh.assign(mesh.begin(), mesh.end());
  for (size_t k = 0; k < mesh.size(); ++k)
    layout.axes.push_back(getAxis(k).getLayout(shape));
  return layout;
}

int64_t ShardingAttr::getOuter() const {
  int64_t product = 1;
  for (int64_t f : getFactors().take_front(getFactor()))
    product *= f;
  return product;
}

int64_t ShardingAttr::getInner() const {
  int64_t product = 1;
  if (!getFactors().empty())
    for (int64_t f : getFactors().drop_front(getFactor() + 1))
      product *= f;
  return product;
}

int64_t ShardingAttr::getSplitExtent(RankedTensorType type) const {
  if (!getFactors().empty())
    return getFactors()[getFactor()];
  return type.getDimSize(getDim());
}

::dsp::format::Layout ShardingAttr::getLayout(ArrayRef<int64_t> shape) const {
  ::dsp::format::Layout layout;
  if (isPartial())
    layout.kind = ::dsp::format::Layout::Partial;
  if (!isSplit())
    return layout;
  layout.kind = ::dsp::format::Layout::Split;
  layout.dim = getDim();
  layout.outer = getOuter();
  layout.size =
      getFactors().empty() ? shape[getDim()] : getFactors()[getFactor()];
  layout.inner = getInner();
  layout.pad = getPad();
  return layout;
}

/// The product of `mesh`: the ranks of the group.
static int64_t rankCount(ArrayRef<int64_t> mesh) {
  int64_t ranks = 1;
  for (int64_t size : mesh)
    ranks *= size;
  return ranks;
}

RankedTensorType ShardingAttr::getLocalType(RankedTensorType type,
                                            ArrayRef<int64_t> mesh) const {
  std::vector<int64_t> shape(type.getShape().begin(), type.getShape().end());
  std::vector<int64_t> local =
      isCompound() ? getMeshLayout(shape, mesh).localShape(shape)
                   : getLayout(shape).localShape(shape, rankCount(mesh));
  return RankedTensorType::get(local, type.getElementType());
}

/// Checks that the compound `sharding` has one entry per axis of `mesh`
/// and that its splits' dims are dims of `type`.
static LogicalResult
checkCompoundFits(ShardingAttr sharding, RankedTensorType type,
                  ArrayRef<int64_t> mesh,
                  function_ref<InFlightDiagnostic()> emitError) {
  if (sharding.getAxes().size() != mesh.size())
    return emitError() << "a sharding over " << sharding.getAxes().size()
                       << " mesh axes on a group of " << mesh.size()
                       << (mesh.size() == 1 ? " axis" : " axes");
  for (ShardingAttr axis : sharding.getAxes())
    if (axis.isSplit() && axis.getDim() >= type.getRank())
      return emitError() << "split dim " << axis.getDim()
                         << " is out of range for " << type;
  return success();
}

FailureOr<RankedTensorType> ShardingAttr::getGlobalType(
    RankedTensorType type, ArrayRef<int64_t> mesh,
    function_ref<InFlightDiagnostic()> emitError) const {
  if (isCompound()) {
    if (failed(checkCompoundFits(*this, type, mesh, emitError)))
      return failure();
    std::vector<int64_t> local(type.getShape().begin(), type.getShape().end());
    ::dsp::format::MeshLayout layout = getMeshLayout(local, mesh);
    std::vector<int64_t> global;
    std::string problem = layout.globalShape(local, global);
    if (!problem.empty())
      return emitError() << type << " is no block of " << layout.str() << ": "
                         << problem;
    return RankedTensorType::get(global, type.getElementType());
  }
  int64_t ranks = rankCount(mesh);
  if (isSplit() && getDim() >= type.getRank())
    return emitError() << "split dim " << getDim() << " is out of range for "
                       << type;
  std::vector<int64_t> local(type.getShape().begin(), type.getShape().end());
  ::dsp::format::Layout layout = getLayout(local);
  std::vector<int64_t> global;
  std::string problem = layout.globalShape(local, ranks, global);
  if (problem.empty() && !getFactors().empty() &&
      layout.size != getFactors()[getFactor()])
    problem = "the blocks of " + std::to_string(layout.size) +
              " positions are not those of factor " +
              std::to_string(getFactors()[getFactor()]);
  if (!problem.empty())
    return emitError() << type << " is no block of " << ranks
                       << " ranks: " << problem;
  return RankedTensorType::get(global, type.getElementType());
}

LogicalResult
ShardingAttr::verifyFor(RankedTensorType type, GroupAttr group,
                        function_ref<InFlightDiagnostic()> emitError) const {
  if (isCompound())
    return verifyCompoundFor(type, group, emitError);
  if (!isSplit())
    return success();
  if (getDim() >= type.getRank())
    return emitError() << "split dim " << getDim() << " is out of range for "
                       << type;
  std::optional<int64_t> product =
      ::dsp::format::checkedElementCount(getFactors());
  if (!product)
    return emitError() << "factors multiply to more than 2^48";
  if (group && group.getPerRank())
    return getGlobalType(type, group.getMeshShape(), emitError);
  if (!getFactors().empty() && product != type.getDimSize(getDim()))
    return emitError() << "factors multiply to " << *product << " but dim "
                       << getDim() << " of " << type << " has size "
                       << type.getDimSize(getDim());
  if (!group)
    return success();
  std::vector<int64_t> shape(type.getShape().begin(), type.getShape().end());
  std::string problem = getLayout(shape).check(shape, group.getRanks());
  if (!problem.empty())
    return emitError() << problem;
  return success();
}

LogicalResult ShardingAttr::verifyCompoundFor(
    RankedTensorType type, GroupAttr group,
    function_ref<InFlightDiagnostic()> emitError) const {
  // Each entry on its own, as on a group of one rank: dims and factors.
  for (ShardingAttr axis : getAxes())
    if (!(group && group.getPerRank()) &&
        failed(axis.verifyFor(type, nullptr, emitError)))
      return failure();
  if (!group)
    return success();
  if (group.getPerRank())
    return getGlobalType(type, group.getMeshShape(), emitError);
  SmallVector<int64_t> mesh = group.getMeshShape();
  if (failed(checkCompoundFits(*this, type, mesh, emitError)))
    return failure();
  std::vector<int64_t> shape(type.getShape().begin(), type.getShape().end());
  std::string problem = getMeshLayout(shape, mesh).check(shape);
  if (!problem.empty())
    return emitError() << problem;
  return success();
}

/// Parses `<...>`, the body of a #dsp.shard (also an entry of `axes`).
static ShardingAttr parseSharding(AsmParser &parser) {
  MLIRContext *context = parser.getContext();
  if (parser.parseLess())
    return {};
  if (succeeded(parser.parseOptionalKeyword("axes"))) {
    SmallVector<ShardingAttr> axes;
    if (parser.parseEqual() ||
        parser.parseCommaSeparatedList(AsmParser::Delimiter::Square,
                                       [&]() -> ParseResult {
                                         axes.push_back(parseSharding(parser));
                                         return success(
                                             static_cast<bool>(axes.back()));
                                       }) ||
        parser.parseGreater())
      return {};
    return ShardingAttr::getChecked(
        [&] { return parser.emitError(parser.getNameLoc()); }, context,
        ShardKind::Mesh, -1, ArrayRef<int64_t>(), 0, 0, axes);
  }
  if (succeeded(parser.parseOptionalKeyword("replicated"))) {
    if (parser.parseGreater())
      return {};
    return ShardingAttr::getReplicated(context);
  }
  if (succeeded(parser.parseOptionalKeyword("partial"))) {
    if (parser.parseGreater())
      return {};
    return ShardingAttr::getPartial(context);
  }
  int64_t dim = 0, factor = 0, pad = 0;
  SmallVector<int64_t> factors;
  if (parser.parseKeyword("dim") || parser.parseEqual() ||
      parser.parseInteger(dim))
    return {};
  auto parseValue = [&](StringRef key, SMLoc) -> ParseResult {
    if (key == "factors")
      return parseIntegerList(parser, factors);
    if (key == "factor")
      return parser.parseInteger(factor);
    if (key == "pad")
      return parser.parseInteger(pad);
    return parser.emitError(parser.getCurrentLocation())
           << "expected 'factors', 'factor' or 'pad', got '" << key << "'";
  };
  if (parseKeyedValues(parser, parseValue) || parser.parseGreater())
    return {};
  return ShardingAttr::getChecked(
      [&] { return parser.emitError(parser.getNameLoc()); }, context,
      ShardKind::Split, dim, factors, factor, pad, ArrayRef<ShardingAttr>());
}

Attribute ShardingAttr::parse(AsmParser &parser, Type) {
  return parseSharding(parser);
}

void ShardingAttr::print(AsmPrinter &printer) const {
  printer << "<";
  if (isCompound()) {
    printer << "axes = [";
    llvm::interleaveComma(getAxes(), printer,
                          [&](ShardingAttr axis) { axis.print(printer); });
    printer << "]>";
    return;
  }
  if (!isSplit()) {
    printer << stringifyShardKind(getKind()) << ">";
    return;
  }
  printer << "dim = " << getDim();
  if (!getFactors().empty()) {
    printer << ", factors = [";
    llvm::interleaveComma(getFactors(), printer);
    printer << "], factor = " << getFactor();
  }
  if (getPad() != 0)
    printer << ", pad = " << getPad();
  printer << ">";
}

std::optional<FactorSwitchView>
mlir::dsp::viewFactorSwitch(RankedTensorType type, ShardingAttr from,
                            ShardingAttr to, int64_t ranks) {
  int64_t dim = from.getDim(), extent = type.getDimSize(dim);
  std::set<int64_t> cuts = {1, extent};
  for (ShardingAttr s : {from, to}) {
    cuts.insert(s.getOuter());
    cuts.insert(s.getOuter() * s.getSplitExtent(type));
  }
  SmallVector<int64_t> chain(cuts.begin(), cuts.end()), parts;
  for (size_t i = 1; i < chain.size(); ++i) {
    if (chain[i] % chain[i - 1] != 0)
      return std::nullopt;
    parts.push_back(chain[i] / chain[i - 1]);
  }
  FactorSwitchView view;
  view.shape.append(type.getShape().begin(), type.getShape().begin() + dim);
  llvm::append_range(view.shape, parts);
  llvm::append_range(view.shape, type.getShape().drop_front(dim + 1));
  // The same blocks as the factor's only when it divides evenly, and only
  // then may it span several parts.
  auto viewed = [&](ShardingAttr s) -> ShardingAttr {
    int64_t first = llvm::find(chain, s.getOuter()) - chain.begin();
    int64_t last = llvm::find(chain, s.getOuter() * s.getSplitExtent(type)) -
                   chain.begin();
    if (last - first > 1 && (parts[first] % ranks != 0 || s.getPad() != 0))
      return nullptr;
    return ShardingAttr::getSplit(s.getContext(), dim + first, 1, parts[first],
                                  1, last - first > 1 ? 0 : s.getPad());
  };
  view.from = viewed(from);
  view.to = viewed(to);
  if (!view.from || !view.to)
    return std::nullopt;
  return view;
}

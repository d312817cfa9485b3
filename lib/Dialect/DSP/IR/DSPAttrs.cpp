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
                                int64_t ranks, bool) {
  if (ranks < 1 || ranks > ::dsp::format::kMaxRanks)
    return emitError() << "a device group has 1 to " << ::dsp::format::kMaxRanks
                       << " ranks, got " << ranks;
  return success();
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
                                   int64_t pad) {
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
    return get(context, ShardKind::Split, dim, {}, 0, pad);
  SmallVector<int64_t> factors;
  if (outer > 1)
    factors.push_back(outer);
  int64_t index = factors.size();
  factors.push_back(size);
  if (inner > 1)
    factors.push_back(inner);
  return get(context, ShardKind::Split, dim, factors, index, pad);
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

RankedTensorType ShardingAttr::getLocalType(RankedTensorType type,
                                            int64_t ranks) const {
  std::vector<int64_t> shape(type.getShape().begin(), type.getShape().end());
  return RankedTensorType::get(getLayout(shape).localShape(shape, ranks),
                               type.getElementType());
}

FailureOr<RankedTensorType> ShardingAttr::getGlobalType(
    RankedTensorType type, int64_t ranks,
    function_ref<InFlightDiagnostic()> emitError) const {
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
    return getGlobalType(type, group.getRanks(), emitError);
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

Attribute ShardingAttr::parse(AsmParser &parser, Type) {
  MLIRContext *context = parser.getContext();
  if (parser.parseLess())
    return {};
  if (succeeded(parser.parseOptionalKeyword("replicated"))) {
    if (parser.parseGreater())
      return {};
    return getReplicated(context);
  }
  if (succeeded(parser.parseOptionalKeyword("partial"))) {
    if (parser.parseGreater())
      return {};
    return getPartial(context);
  }
  int64_t dim = 0, factor = 0, pad = 0;
  SmallVector<int64_t> factors;
  if (parser.parseKeyword("dim") || parser.parseEqual() ||
      parser.parseInteger(dim))
    return {};
  llvm::StringSet<> seen;
  while (succeeded(parser.parseOptionalComma())) {
    StringRef key;
    SMLoc keyLoc = parser.getCurrentLocation();
    if (parser.parseKeyword(&key) || parser.parseEqual())
      return {};
    if (!seen.insert(key).second) {
      parser.emitError(keyLoc) << "'" << key << "' is given twice";
      return {};
    }
    if (key == "factors") {
      if (parser.parseCommaSeparatedList(
              AsmParser::Delimiter::Square, [&]() -> ParseResult {
                return parser.parseInteger(factors.emplace_back());
              }))
        return {};
    } else if (key == "factor") {
      if (parser.parseInteger(factor))
        return {};
    } else if (key == "pad") {
      if (parser.parseInteger(pad))
        return {};
    } else {
      parser.emitError(parser.getCurrentLocation())
          << "expected 'factors', 'factor' or 'pad', got '" << key << "'";
      return {};
    }
  }
  if (parser.parseGreater())
    return {};
  return getChecked([&] { return parser.emitError(parser.getNameLoc()); },
                    context, ShardKind::Split, dim, factors, factor, pad);
}

void ShardingAttr::print(AsmPrinter &printer) const {
  printer << "<";
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

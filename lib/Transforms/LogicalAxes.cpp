//===- LogicalAxes.cpp - What the dims of a planned function hold ---------===//

#include "dsp/Transforms/LogicalAxes.h"
#include "dsp/Dialect/DSP/IR/DSPOps.h"
#include "dsp/Transforms/FactorClasses.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/StringExtras.h"

using namespace mlir;
using namespace mlir::dsp;

LogicalAxes::LogicalAxes(func::FuncOp function) {
  if (GroupAttr group = getGroup(function)) {
    ranks = group.getRanks();
    mesh = group.getMeshShape();
  }
  if (function.isExternal())
    return;
  // The classes of the query sequences and heads of every attention.
  llvm::SetVector<unsigned> heads;
  SmallVector<std::pair<unsigned, int64_t>> sequences;
  // The batch of each attention with its query sequence.
  SmallVector<std::pair<unsigned, unsigned>> batches;
  // The key sequences of every attention.
  SmallVector<unsigned> keySequences;
  // A dim with most of another's elements, where a concat adds to it or a
  // slice takes from it (a class token): (whole, part).
  SmallVector<std::pair<unsigned, unsigned>> bulkParts;
  auto addBulkPart = [&](Value whole, Value part, int64_t dim) {
    int64_t wholeSize = cast<RankedTensorType>(whole.getType()).getDimSize(dim);
    int64_t partSize = cast<RankedTensorType>(part.getType()).getDimSize(dim);
    if (partSize < wholeSize && 2 * partSize > wholeSize)
      bulkParts.push_back(
          {idOf(whole, dim, 1, wholeSize), idOf(part, dim, 1, partSize)});
  };
  SmallVector<unsigned> model;
  SmallVector<Operation *> collectives;
  for (Operation &op : function.getBody().front()) {
    // A collective changes where a value is, not the value: its rule keeps
    // every dim to itself, and its result's dims hold its operand's.
    if (isCollective(&op)) {
      collectives.push_back(&op);
      continue;
    }
    if (auto concat = dyn_cast<ConcatOp>(op))
      for (Value input : concat.getInputs())
        addBulkPart(concat.getResult(), input, concat.getAxis());
    if (auto slice = dyn_cast<SliceOp>(op))
      for (int64_t d = 0, e = slice.getResult().getType().getRank(); d < e; ++d)
        addBulkPart(slice.getInput(), slice.getResult(), d);
    auto ruleOp = dyn_cast<ShardingRuleOpInterface>(op);
    if (!ruleOp || op.getNumResults() != 1)
      continue;
    ShardingRule rule = ruleOp.getShardingRule();
    if (rule.getOperands().size() != op.getNumOperands() ||
        rule.getResults().size() != 1)
      continue;
    RuleTensors tensors = tensorsOf(&op, rule);
    for (size_t f = 0; f < rule.getFactors().size(); ++f) {
      std::optional<unsigned> first;
      for (auto [value, dims] : tensors) {
        std::optional<FactorPlace> place = placeOf(rule, *dims, f);
        if (!place)
          continue;
        unsigned id = idOf(value, place->dim, place->outer, place->size);
        if (first)
          classes.unionSets(*first, id);
        else
          first = id;
        if (is_contained(rule.getModelFactors(), static_cast<int64_t>(f)))
          model.push_back(id);
      }
    }
    if (auto attention = dyn_cast<AttentionOp>(op)) {
      ArrayRef<int64_t> query = attention.getQuery().getType().getShape();
      heads.insert(idOf(attention.getQuery(), 1, 1, query[1]));
      sequences.push_back(
          {idOf(attention.getQuery(), 2, 1, query[2]), query[2]});
      batches.push_back(
          {idOf(attention.getQuery(), 0, 1, query[0]), sequences.back().first});
      ArrayRef<int64_t> key = attention.getKey().getType().getShape();
      keySequences.push_back(idOf(attention.getKey(), 2, 1, key[2]));
    }
  }
  // Last first, so that the places a collective copies onto its operand
  // reach the collective that produced it.
  for (Operation *op : llvm::reverse(collectives)) {
    Value from = op->getOperand(0), to = op->getResult(0);
    for (int64_t d = 0, e = cast<RankedTensorType>(to.getType()).getRank();
         d < e; ++d)
      for (auto [value, other] : {std::pair{from, to}, std::pair{to, from}})
        for (Place place : SmallVector<Place>(places.lookup({value, d})))
          classes.unionSets(place.id, idOf(other, d, place.outer, place.size));
  }
  // A query sequence that another one splits ([B, T*S, C] in cross
  // attention) is no sequence of its own.
  auto splits = [&](unsigned part, unsigned whole) {
    return llvm::any_of(places, [&](auto &entry) {
      return llvm::any_of(entry.second, [&](const Place &w) {
        return classes.isEquivalent(w.id, whole) &&
               llvm::any_of(entry.second, [&](const Place &p) {
                 return classes.isEquivalent(p.id, part) && p.size < w.size &&
                        p.outer >= w.outer &&
                        p.outer * p.size <= w.outer * w.size;
               });
      });
    });
  };
  // The classes of the sequences, with their lengths.
  llvm::MapVector<unsigned, int64_t> lengths;
  for (auto [id, length] : sequences)
    lengths.insert({classes.getLeaderValue(id), length});
  auto lengthOf = [&](unsigned id) { return lengths.lookup(id); };
  SmallVector<unsigned> sequenceClasses(llvm::make_first_range(lengths));
  SmallVector<unsigned> bases;
  for (unsigned id : sequenceClasses)
    if (llvm::none_of(sequenceClasses, [&](unsigned other) {
          return other != id && splits(other, id);
        }))
      bases.push_back(id);
  // Where a slice or a concat (a class token) parts the sequences of one
  // block from the next, those of one length are the same axis.
  if (bases.size() > 2) {
    SmallVector<unsigned> merged;
    for (unsigned id : bases) {
      auto same = llvm::find_if(merged, [&](unsigned other) {
        return lengthOf(other) == lengthOf(id);
      });
      if (same == merged.end())
        merged.push_back(id);
      else
        classes.unionSets(*same, id);
    }
    bases = std::move(merged);
  }
  for (unsigned id : heads)
    name(id, "H");
  // Frames come before the tokens of a frame: in the inputs first, else in
  // the first value that holds both.
  std::optional<bool> order;
  if (bases.size() == 2) {
    auto position =
        [&](Value value,
            unsigned id) -> std::optional<std::pair<int64_t, int64_t>> {
      auto type = dyn_cast<RankedTensorType>(value.getType());
      if (!type)
        return std::nullopt;
      for (int64_t d = 0; d < type.getRank(); ++d)
        for (const Place &place : places.lookup({value, d}))
          if (classes.isEquivalent(place.id, id))
            return std::make_pair(d, place.outer);
      return std::nullopt;
    };
    auto framesFirst = [&](Value value) -> std::optional<bool> {
      auto first = position(value, bases[0]);
      auto second = position(value, bases[1]);
      if (!first || !second)
        return std::nullopt;
      return *first < *second;
    };
    for (Value argument : function.getArguments())
      if (!order)
        order = framesFirst(argument);
    function.walk([&](Operation *op) {
      for (Value result : op->getResults())
        if (!order)
          order = framesFirst(result);
    });
    // Two sequences of one length that no value holds together are one
    // sequence that a slice or a concat parts (ViViT's class token).
    if (!order && lengthOf(bases[0]) == lengthOf(bases[1])) {
      classes.unionSets(bases[0], bases[1]);
      bases.pop_back();
    }
  }
  if (bases.size() == 1) {
    name(bases[0], "S");
  } else if (bases.size() == 2) {
    bool firstIsFrames = order.value_or(true);
    name(bases[firstIsFrames ? 0 : 1], "T");
    name(bases[firstIsFrames ? 1 : 0], "S");
    // With a batch of one, attention over frames batches the tokens of a
    // frame and the other way round, also where a class token parts them
    // from the sequence of the other attention.
    bool unitBatch = llvm::all_of(function.getArguments(), [](Value value) {
      auto type = dyn_cast<RankedTensorType>(value.getType());
      return !type || type.getRank() < 3 || type.getDimSize(0) == 1;
    });
    for (auto [batch, sequence] : batches) {
      std::string axis = classNameOf(sequence);
      if (unitBatch && (axis == "T" || axis == "S"))
        name(batch, axis == "T" ? "S" : "T");
    }
  }
  for (Value argument : function.getArguments()) {
    auto type = dyn_cast<RankedTensorType>(argument.getType());
    if (type && type.getRank() >= 3)
      name(idOf(argument, 0, 1, type.getDimSize(0)), "B");
  }
  // Keys that are no query sequence: the tokens a cross attention reads
  // (text).
  for (unsigned id : keySequences)
    name(id, "L");
  for (unsigned id : model)
    name(id, "C");
  for (auto [whole, part] : bulkParts)
    if (std::string axis = classNameOf(whole); !axis.empty())
      name(part, axis);
  for (auto &[key, id] : ids)
    members[classes.getLeaderValue(id)].push_back(key);
  // A class no axis names may hold named ones in some value ("T×S").
  for (auto &[key, dimPlaces] : places)
    for (const Place &place : dimPlaces) {
      unsigned leader = classes.getLeaderValue(place.id);
      if (names.count(leader) || compounds.count(leader))
        continue;
      Pieces pieces = tiled(key.first, key.second, place.outer, place.size);
      if (!pieces.empty())
        compounds[leader] = pieces;
    }
  nameParts();
}

/// "S₁": `axis` with the subscript `index` (1 to 9), or "" past 9.
static std::string partName(StringRef axis, unsigned index) {
  if (index < 1 || index > 9)
    return "";
  // U+2081 SUBSCRIPT ONE and on, in UTF-8.
  return axis.str() + "\xE2\x82" + char(0x80 + index);
}

void LogicalAxes::nameParts() {
  // A class no axis names whose places are major-first parts of a dim that
  // holds one named axis (S reshaped into the rows and columns of a frame)
  // is named after that axis and its position: S₁, S₂.
  DenseMap<unsigned, std::string> parts;
  for (auto &[leader, keys] : members) {
    if (names.count(leader) || compounds.count(leader))
      continue;
    for (auto [value, dim, outer, size] : keys) {
      const SmallVector<Place> &dimPlaces = places.lookup({value, dim});
      const Place *whole = llvm::find_if(dimPlaces, [&](const Place &w) {
        return w.size > size && outer % w.outer == 0 &&
               outer * size <= w.outer * w.size && !classNameOf(w.id).empty();
      });
      if (whole == dimPlaces.end())
        continue;
      // The parts before this one, each starting where the last ended.
      unsigned index = 1;
      for (int64_t at = whole->outer; at < outer; ++index) {
        const Place *next = llvm::find_if(dimPlaces, [&](const Place &p) {
          return p.outer == at && p.size > 1 && p.size < whole->size;
        });
        if (next == dimPlaces.end()) {
          index = 0;
          break;
        }
        at *= next->size;
      }
      if (std::string part = partName(classNameOf(whole->id), index);
          !part.empty()) {
        parts.try_emplace(leader, part);
        break;
      }
    }
  }
  for (auto &[leader, part] : parts)
    names.try_emplace(leader, part);
}

unsigned LogicalAxes::idOf(Value value, int64_t dim, int64_t outer,
                           int64_t size) {
  auto [it, inserted] =
      ids.try_emplace(Key{value, dim, outer, size}, ids.size());
  if (inserted) {
    classes.insert(it->second);
    places[{value, dim}].push_back({outer, size, it->second});
  }
  return it->second;
}

void LogicalAxes::name(unsigned id, StringRef axis) {
  names.try_emplace(classes.getLeaderValue(id), axis.str());
}

std::string LogicalAxes::classNameOf(unsigned id) const {
  return names.lookup(classes.getLeaderValue(id));
}

/// "T×S".
static std::string joined(const LogicalAxes::Pieces &pieces) {
  return llvm::join(llvm::make_first_range(pieces), "×");
}

LogicalAxes::Pieces LogicalAxes::tiled(Value value, int64_t dim, int64_t outer,
                                       int64_t size) const {
  auto it = places.find({value, dim});
  if (it == places.end())
    return {};
  // Named pieces, major first, each starting where the last one ended.
  Pieces pieces;
  for (int64_t at = outer; at < outer * size;) {
    const Place *next = nullptr;
    for (const Place &place : it->second)
      if (place.outer == at && place.size > 1 && place.size < size &&
          (outer * size) % (at * place.size) == 0 &&
          !classNameOf(place.id).empty() && (!next || place.size > next->size))
        next = &place;
    if (!next)
      return {};
    pieces.push_back({classNameOf(next->id), next->size});
    at *= next->size;
  }
  return pieces;
}

LogicalAxes::Pieces LogicalAxes::piecesOf(Value value, int64_t dim,
                                          int64_t outer, int64_t size) const {
  auto it = ids.find(Key{value, dim, outer, size});
  if (it != ids.end()) {
    unsigned leader = classes.getLeaderValue(it->second);
    if (auto name = names.find(leader); name != names.end())
      return {{name->second, size}};
    if (auto found = compounds.find(leader); found != compounds.end())
      return found->second;
  }
  if (Pieces pieces = tiled(value, dim, outer, size); !pieces.empty())
    return pieces;
  // A part of a larger piece: the same part of that piece where another
  // value of its class names it.
  for (const Place &whole : places.lookup({value, dim})) {
    if (whole.size <= size || outer % whole.outer != 0 ||
        outer * size > whole.outer * whole.size)
      continue;
    int64_t within = outer / whole.outer;
    for (auto [other, otherDim, otherOuter, otherSize] :
         members.lookup(classes.getLeaderValue(whole.id))) {
      auto part = ids.find(Key{other, otherDim, otherOuter * within, size});
      if (part == ids.end())
        continue;
      if (std::string name = classNameOf(part->second); !name.empty())
        return {{name, size}};
    }
  }
  return {};
}

SmallVector<std::string> LogicalAxes::dimNames(Value value) const {
  SmallVector<std::string> result;
  auto type = cast<RankedTensorType>(value.getType());
  for (auto [d, size] : llvm::enumerate(type.getShape())) {
    // A dim of size 1 is never split: only the batch is worth naming there.
    std::string name = joined(piecesOf(value, d, 1, size));
    if (size == 1 && name != "B")
      name = "1";
    result.push_back(!name.empty() ? name : "?");
  }
  return result;
}

std::string LogicalAxes::splitName(Value value, ShardingAttr sharding) const {
  if (!sharding || sharding.isReplicated())
    return "replicated";
  if (sharding.isPartial())
    return "partial sums";
  if (sharding.isCompound()) {
    SmallVector<std::string> parts;
    for (auto [axis, split] : llvm::enumerate(sharding.getAxes()))
      if (!split.isReplicated())
        parts.push_back(splitName(value, split, mesh[axis]));
    return llvm::join(parts, "×");
  }
  return splitName(value, sharding, ranks);
}

std::string LogicalAxes::splitName(Value value, ShardingAttr sharding,
                                   int64_t parts) const {
  if (sharding.isPartial())
    return "partial sums";
  auto type = cast<RankedTensorType>(value.getType());
  int64_t dim = sharding.getDim();
  int64_t size =
      type.getDimSize(dim) / sharding.getOuter() / sharding.getInner();
  Pieces pieces = piecesOf(value, dim, sharding.getOuter(), size);
  if (pieces.empty())
    return "dim " + std::to_string(dim);
  // Blocks of [T*S] that each hold whole frames split T alone.
  if (pieces.front().second % parts == 0)
    return pieces.front().first;
  return joined(pieces);
}

std::string LogicalAxes::shapeText(Value value) const {
  SmallVector<std::string> dims = dimNames(value);
  std::string shape =
      "[" +
      llvm::join(
          llvm::map_range(cast<RankedTensorType>(value.getType()).getShape(),
                          [](int64_t d) { return std::to_string(d); }),
          ",") +
      "]";
  if (llvm::all_of(dims, [](const std::string &name) {
        return name == "?" || name == "1";
      }))
    return shape;
  return "[" + llvm::join(dims, ",") + "] = " + shape;
}

std::string LogicalAxes::describe(Value value, ShardingAttr sharding) const {
  if (!sharding || sharding.isReplicated())
    return "replicated " + shapeText(value);
  std::string text = splitName(value, sharding) + " of " + shapeText(value);
  if (sharding.isSplit() && sharding.getPad() > 0)
    text += ", padded by " + std::to_string(sharding.getPad());
  return text;
}

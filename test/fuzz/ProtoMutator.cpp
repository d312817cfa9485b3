//===- ProtoMutator.cpp - Structure-aware mutation of protobufs -----------===//

#include "ProtoMutator.h"

#include <google/protobuf/descriptor.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <iterator>
#include <limits>
#include <memory>

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::FileDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

extern "C" size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t maxSize);

namespace dsp {
namespace fuzz {

namespace {

/// Deeper messages are left alone; real models are far shallower.
constexpr int kMaxDepth = 32;

/// Integers that break size arithmetic, index checks and narrowing.
const int64_t kBoundaryInts[] = {
    0,
    1,
    -1,
    2,
    3,
    4,
    -2,
    7,
    8,
    16,
    64,
    255,
    256,
    1024,
    65535,
    65536,
    std::numeric_limits<int32_t>::max(),
    int64_t(1) << 31,
    std::numeric_limits<int32_t>::min(),
    int64_t(1) << 32,
    int64_t(1) << 40,
    int64_t(1) << 48,
    int64_t(1) << 62,
    std::numeric_limits<int64_t>::max(),
    std::numeric_limits<int64_t>::min(),
    std::numeric_limits<int64_t>::min() + 1,
};

} // namespace

void ProtoMutator::collect(Message &message, int depth,
                           std::vector<Site> &sites) {
  if (depth > kMaxDepth)
    return;
  const Descriptor *descriptor = message.GetDescriptor();
  const Reflection *reflection = message.GetReflection();
  for (int i = 0; i < descriptor->field_count(); ++i) {
    const FieldDescriptor *field = descriptor->field(i);
    bool present = field->is_repeated()
                       ? reflection->FieldSize(message, field) > 0
                       : reflection->HasField(message, field);
    // Fields that are there are changed more often than absent ones are
    // added; hinted fields more often still.
    int weight = present ? 3 : 1;
    auto hinted = hints_.weights.find(field->full_name());
    if (hinted != hints_.weights.end())
      weight *= hinted->second;
    for (int w = 0; w < weight; ++w)
      sites.push_back({&message, field});
    if (field->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE || !present)
      continue;
    if (field->is_repeated()) {
      for (int j = 0, n = reflection->FieldSize(message, field); j < n; ++j)
        collect(*reflection->MutableRepeatedMessage(&message, field, j),
                depth + 1, sites);
    } else {
      collect(*reflection->MutableMessage(&message, field), depth + 1, sites);
    }
  }
}

void ProtoMutator::collectNames(const Message &message, int depth) {
  if (depth > kMaxDepth)
    return;
  const Reflection *reflection = message.GetReflection();
  std::vector<const FieldDescriptor *> fields;
  reflection->ListFields(message, &fields);
  for (const FieldDescriptor *field : fields) {
    if (field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
      if (field->is_repeated()) {
        for (int j = 0, n = reflection->FieldSize(message, field); j < n; ++j)
          collectNames(reflection->GetRepeatedMessage(message, field, j),
                       depth + 1);
      } else {
        collectNames(reflection->GetMessage(message, field), depth + 1);
      }
      continue;
    }
    if (field->cpp_type() != FieldDescriptor::CPPTYPE_STRING ||
        !hints_.names.count(field->full_name()))
      continue;
    if (field->is_repeated()) {
      for (int j = 0, n = reflection->FieldSize(message, field); j < n; ++j)
        names_.push_back(reflection->GetRepeatedString(message, field, j));
    } else {
      names_.push_back(reflection->GetString(message, field));
    }
  }
}

void ProtoMutator::mutate(Message &message) {
  names_.clear();
  collectNames(message, 0);
  std::sort(names_.begin(), names_.end());
  names_.erase(std::unique(names_.begin(), names_.end()), names_.end());

  std::vector<Site> sites;
  collect(message, 0, sites);
  if (sites.empty())
    return;
  const Site &site = sites[below(sites.size())];
  if (site.field->is_repeated())
    mutateRepeated(site);
  else
    mutateSingular(site);
}

void ProtoMutator::mutateRepeated(const Site &site) {
  Message &message = *site.message;
  const FieldDescriptor *field = site.field;
  const Reflection *reflection = message.GetReflection();
  int size = reflection->FieldSize(message, field);
  bool isMessage = field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE;

  // Moves the element at `from` to `to` by adjacent swaps, keeping the
  // order of the others.
  auto move = [&](int from, int to) {
    for (; from < to; ++from)
      reflection->SwapElements(&message, field, from, from + 1);
    for (; from > to; --from)
      reflection->SwapElements(&message, field, from, from - 1);
  };
  // Appends an element: a copy of `source` (an index), or a new one.
  auto append = [&](int source) {
    switch (field->cpp_type()) {
#define DSP_APPEND(CPPTYPE, Type)                                              \
  case FieldDescriptor::CPPTYPE_##CPPTYPE:                                     \
    reflection->Add##Type(                                                     \
        &message, field,                                                       \
        source >= 0                                                            \
            ? reflection->GetRepeated##Type(message, field, source)            \
            : decltype(reflection->GetRepeated##Type(message, field, 0))());   \
    break;
      DSP_APPEND(INT32, Int32)
      DSP_APPEND(INT64, Int64)
      DSP_APPEND(UINT32, UInt32)
      DSP_APPEND(UINT64, UInt64)
      DSP_APPEND(DOUBLE, Double)
      DSP_APPEND(FLOAT, Float)
      DSP_APPEND(BOOL, Bool)
      DSP_APPEND(STRING, String)
#undef DSP_APPEND
    case FieldDescriptor::CPPTYPE_ENUM:
      reflection->AddEnumValue(
          &message, field,
          source >= 0 ? reflection->GetRepeatedEnumValue(message, field, source)
                      : field->default_value_enum()->number());
      break;
    case FieldDescriptor::CPPTYPE_MESSAGE: {
      Message *added = reflection->AddMessage(&message, field);
      if (source >= 0)
        added->CopyFrom(reflection->GetRepeatedMessage(message, field, source));
      break;
    }
    }
  };

  // Messages: add, remove, swap, duplicate (twice as often each) or clear;
  // their elements are sites of their own. Scalars: the same, each as
  // often, but mostly an element changes.
  enum { Add, Remove, Swap, Duplicate, Clear, Change };
  static const int kMessageOps[] = {Add,  Add,       Remove,    Remove, Swap,
                                    Swap, Duplicate, Duplicate, Clear};
  static const int kScalarOps[] = {Add,    Remove, Swap,   Duplicate,
                                   Change, Change, Change, Change,
                                   Change, Change, Change, Clear};
  int op = size == 0   ? Add
           : isMessage ? kMessageOps[below(std::size(kMessageOps))]
                       : kScalarOps[below(std::size(kScalarOps))];
  switch (op) {
  case Add: { // Add an element, new or a copy, anywhere.
    int source = size > 0 && below(2) ? static_cast<int>(below(size)) : -1;
    append(source);
    int last = reflection->FieldSize(message, field) - 1;
    if (source < 0 && !isMessage)
      mutateElement(site, last);
    move(last, static_cast<int>(below(last + 1)));
    break;
  }
  case Remove: {
    move(static_cast<int>(below(size)), size - 1);
    reflection->RemoveLast(&message, field);
    break;
  }
  case Swap:
    reflection->SwapElements(&message, field, static_cast<int>(below(size)),
                             static_cast<int>(below(size)));
    break;
  case Duplicate: { // Next to itself.
    int index = static_cast<int>(below(size));
    append(index);
    move(size, index + 1);
    break;
  }
  case Clear: // Or keep only one element.
    if (below(2)) {
      reflection->ClearField(&message, field);
    } else {
      move(static_cast<int>(below(size)), 0);
      while (reflection->FieldSize(message, field) > 1)
        reflection->RemoveLast(&message, field);
    }
    break;
  default:
    mutateElement(site, static_cast<int>(below(size)));
    break;
  }
}

void ProtoMutator::mutateElement(const Site &site, int index) {
  Message &message = *site.message;
  const FieldDescriptor *field = site.field;
  const Reflection *reflection = message.GetReflection();
  const std::string &name = field->full_name();
  switch (field->cpp_type()) {
  case FieldDescriptor::CPPTYPE_INT32:
    reflection->SetRepeatedInt32(
        &message, field, index,
        static_cast<int32_t>(mutateInteger(
            reflection->GetRepeatedInt32(message, field, index), name)));
    break;
  case FieldDescriptor::CPPTYPE_INT64:
    reflection->SetRepeatedInt64(
        &message, field, index,
        mutateInteger(reflection->GetRepeatedInt64(message, field, index),
                      name));
    break;
  case FieldDescriptor::CPPTYPE_UINT32:
    reflection->SetRepeatedUInt32(
        &message, field, index,
        static_cast<uint32_t>(mutateUnsigned(
            reflection->GetRepeatedUInt32(message, field, index), name)));
    break;
  case FieldDescriptor::CPPTYPE_UINT64:
    reflection->SetRepeatedUInt64(
        &message, field, index,
        mutateUnsigned(reflection->GetRepeatedUInt64(message, field, index),
                       name));
    break;
  case FieldDescriptor::CPPTYPE_DOUBLE:
    reflection->SetRepeatedDouble(
        &message, field, index,
        mutateReal(reflection->GetRepeatedDouble(message, field, index)));
    break;
  case FieldDescriptor::CPPTYPE_FLOAT:
    reflection->SetRepeatedFloat(
        &message, field, index,
        mutateReal(reflection->GetRepeatedFloat(message, field, index)));
    break;
  case FieldDescriptor::CPPTYPE_BOOL:
    reflection->SetRepeatedBool(
        &message, field, index,
        !reflection->GetRepeatedBool(message, field, index));
    break;
  case FieldDescriptor::CPPTYPE_ENUM:
    reflection->SetRepeatedEnumValue(
        &message, field, index,
        mutateEnum(field,
                   reflection->GetRepeatedEnumValue(message, field, index)));
    break;
  case FieldDescriptor::CPPTYPE_STRING: {
    std::string value = reflection->GetRepeatedString(message, field, index);
    reflection->SetRepeatedString(&message, field, index,
                                  field->type() == FieldDescriptor::TYPE_BYTES
                                      ? mutateBytes(value)
                                      : mutateString(value, field));
    break;
  }
  case FieldDescriptor::CPPTYPE_MESSAGE:
    break;
  }
}

void ProtoMutator::mutateSingular(const Site &site) {
  Message &message = *site.message;
  const FieldDescriptor *field = site.field;
  const Reflection *reflection = message.GetReflection();
  const std::string &name = field->full_name();
  // Now and then a field that is there goes away.
  if (reflection->HasField(message, field) && below(8) == 0) {
    reflection->ClearField(&message, field);
    return;
  }
  switch (field->cpp_type()) {
  case FieldDescriptor::CPPTYPE_INT32:
    reflection->SetInt32(&message, field,
                         static_cast<int32_t>(mutateInteger(
                             reflection->GetInt32(message, field), name)));
    break;
  case FieldDescriptor::CPPTYPE_INT64:
    reflection->SetInt64(
        &message, field,
        mutateInteger(reflection->GetInt64(message, field), name));
    break;
  case FieldDescriptor::CPPTYPE_UINT32:
    reflection->SetUInt32(&message, field,
                          static_cast<uint32_t>(mutateUnsigned(
                              reflection->GetUInt32(message, field), name)));
    break;
  case FieldDescriptor::CPPTYPE_UINT64:
    reflection->SetUInt64(
        &message, field,
        mutateUnsigned(reflection->GetUInt64(message, field), name));
    break;
  case FieldDescriptor::CPPTYPE_DOUBLE:
    reflection->SetDouble(&message, field,
                          mutateReal(reflection->GetDouble(message, field)));
    break;
  case FieldDescriptor::CPPTYPE_FLOAT:
    reflection->SetFloat(&message, field,
                         mutateReal(reflection->GetFloat(message, field)));
    break;
  case FieldDescriptor::CPPTYPE_BOOL:
    reflection->SetBool(&message, field, !reflection->GetBool(message, field));
    break;
  case FieldDescriptor::CPPTYPE_ENUM:
    reflection->SetEnumValue(
        &message, field,
        mutateEnum(field, reflection->GetEnumValue(message, field)));
    break;
  case FieldDescriptor::CPPTYPE_STRING: {
    std::string value = reflection->GetString(message, field);
    reflection->SetString(&message, field,
                          field->type() == FieldDescriptor::TYPE_BYTES
                              ? mutateBytes(value)
                              : mutateString(value, field));
    break;
  }
  case FieldDescriptor::CPPTYPE_MESSAGE:
    // An absent message appears empty; a present one is changed through
    // its own fields, or emptied.
    if (reflection->HasField(message, field))
      reflection->MutableMessage(&message, field)->Clear();
    else
      reflection->MutableMessage(&message, field);
    break;
  }
}

int64_t ProtoMutator::mutateInteger(int64_t value, const std::string &field) {
  auto hinted = hints_.ints.find(field);
  if (hinted != hints_.ints.end() && !hinted->second.empty() && below(2))
    return hinted->second[below(hinted->second.size())];
  // Unsigned arithmetic: wrapping is what is wanted here.
  uint64_t bits = static_cast<uint64_t>(value);
  switch (below(8)) {
  case 0:
  case 1:
  case 2:
    return kBoundaryInts[below(std::size(kBoundaryInts))];
  case 3:
  case 4: { // A small step either way.
    uint64_t delta = 1 + below(4);
    return static_cast<int64_t>(below(2) ? bits + delta : bits - delta);
  }
  case 5: // Double, halve or negate.
    switch (below(3)) {
    case 0:
      return static_cast<int64_t>(bits << 1);
    case 1:
      return value / 2;
    default:
      return static_cast<int64_t>(0 - bits);
    }
  case 6: // Flip one bit.
    return static_cast<int64_t>(bits ^ (uint64_t(1) << below(64)));
  default:
    return static_cast<int64_t>(below(72)) - 8;
  }
}

uint64_t ProtoMutator::mutateUnsigned(uint64_t value,
                                      const std::string &field) {
  return static_cast<uint64_t>(
      mutateInteger(static_cast<int64_t>(value), field));
}

template <typename Real> Real ProtoMutator::mutateReal(Real value) {
  using Limits = std::numeric_limits<Real>;
  static const Real kSpecial[] = {
      Real(0),
      -Real(0),
      Real(1),
      Real(-1),
      Real(0.5),
      Real(2),
      Real(1e-6),
      Real(1e30),
      Real(-1e30),
      Limits::quiet_NaN(),
      Limits::infinity(),
      -Limits::infinity(),
      Limits::denorm_min(),
      Limits::max(),
      Limits::lowest(),
      Limits::epsilon(),
      Real(2147483648.0),
      Real(9.3e18),
  };
  switch (below(4)) {
  case 0:
  case 1:
    return kSpecial[below(std::size(kSpecial))];
  case 2:
    return below(2) ? value * 2 : -value;
  default:
    return value + (static_cast<Real>(below(9)) - 4) * Real(0.25);
  }
}

int ProtoMutator::mutateEnum(const FieldDescriptor *field, int value) {
  const auto *type = field->enum_type();
  // Open (proto3) enums keep numbers they do not know; closed ones would
  // move them to the unknown fields, so they only get known values.
  bool open = field->file()->syntax() == FileDescriptor::SYNTAX_PROTO3;
  if (open && below(8) == 0)
    return below(2) ? type->value(type->value_count() - 1)->number() + 1
                    : static_cast<int>(mutateInteger(value, ""));
  return type->value(static_cast<int>(below(type->value_count())))->number();
}

std::string ProtoMutator::mutateString(const std::string &value,
                                       const FieldDescriptor *field) {
  const std::string &fieldName = field->full_name();
  if (hints_.names.count(fieldName) && !names_.empty() && below(4) != 0)
    return names_[below(names_.size())];
  auto hinted = hints_.strings.find(fieldName);
  if (hinted != hints_.strings.end() && !hinted->second.empty() &&
      below(4) != 0)
    return hinted->second[below(hinted->second.size())];
  // Printable ASCII and a few separators only: proto3 string fields must
  // stay valid UTF-8 to parse.
  static const char kChars[] = "abcxyz_019./:-, ()[]'\"{}";
  std::string result = value;
  switch (below(7)) {
  case 0:
    return "";
  case 1:
    if (!names_.empty())
      return names_[below(names_.size())];
    return "x";
  case 2:
    result.push_back(kChars[below(sizeof(kChars) - 1)]);
    return result;
  case 3:
    if (!result.empty())
      result.erase(below(result.size()), 1);
    return result;
  case 4:
    if (!result.empty())
      result[below(result.size())] = kChars[below(sizeof(kChars) - 1)];
    return result;
  case 5:
    return result + result;
  default: {
    std::string fresh;
    for (size_t i = 0, n = 1 + below(8); i < n; ++i)
      fresh.push_back(kChars[below(sizeof(kChars) - 1)]);
    return fresh;
  }
  }
}

std::string ProtoMutator::mutateBytes(const std::string &value) {
  std::string result = value;
  switch (below(6)) {
  case 0: { // A special 4-byte word (NaN, infinity, all ones, INT_MIN).
    static const uint32_t kWords[] = {0x7fc00000u, 0x7f800000u, 0xff800000u,
                                      0xffffffffu, 0x80000000u, 0x00000001u,
                                      0x7fffffffu, 0x00000000u};
    if (result.size() < 4)
      result.resize(4);
    size_t at = below(result.size() / 4) * 4;
    uint32_t word = kWords[below(std::size(kWords))];
    std::memcpy(&result[at], &word, 4);
    return result;
  }
  case 1: // Cut.
    result.resize(result.empty() ? 0 : below(result.size()));
    return result;
  case 2: // Grow by a few bytes or a few elements.
    result.resize(result.size() +
                      (below(2) ? 1 + below(8) : 4 * (1 + below(16))),
                  static_cast<char>(below(256)));
    return result;
  case 3:
    return "";
  default: {
    // libFuzzer's byte mutations, with room to grow a little.
    size_t size = result.size();
    result.resize(size + 64);
    size = LLVMFuzzerMutate(reinterpret_cast<uint8_t *>(&result[0]), size,
                            result.size());
    result.resize(size);
    return result;
  }
  }
}

void ProtoMutator::crossOver(Message &message, const Message &other) {
  // Sites of both trees; `other` is walked through a copy, since the walk
  // hands out mutable messages.
  std::unique_ptr<Message> donor(other.New());
  donor->CopyFrom(other);
  std::vector<Site> mine, theirs;
  collect(message, 0, mine);
  collect(*donor, 0, theirs);
  std::vector<const Site *> candidates;
  for (const Site &site : theirs) {
    const Reflection *reflection = site.message->GetReflection();
    if (site.field->is_repeated()
            ? reflection->FieldSize(*site.message, site.field) > 0
            : reflection->HasField(*site.message, site.field))
      candidates.push_back(&site);
  }
  if (candidates.empty()) {
    mutate(message);
    return;
  }
  const Site &from = *candidates[below(candidates.size())];
  std::vector<const Site *> targets;
  for (const Site &site : mine)
    if (site.field == from.field)
      targets.push_back(&site);
  if (targets.empty()) {
    mutate(message);
    return;
  }
  const Site &to = *targets[below(targets.size())];
  const Reflection *reflection = to.message->GetReflection();
  const FieldDescriptor *field = from.field;
  if (!field->is_repeated()) {
    // Replace the whole field: only messages and strings are worth it.
    if (field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE)
      reflection->MutableMessage(to.message, field)
          ->CopyFrom(reflection->GetMessage(*from.message, field));
    else if (field->cpp_type() == FieldDescriptor::CPPTYPE_STRING)
      reflection->SetString(to.message, field,
                            reflection->GetString(*from.message, field));
    else
      mutate(message);
    return;
  }
  int index =
      static_cast<int>(below(reflection->FieldSize(*from.message, field)));
  switch (field->cpp_type()) {
  case FieldDescriptor::CPPTYPE_MESSAGE:
    reflection->AddMessage(to.message, field)
        ->CopyFrom(reflection->GetRepeatedMessage(*from.message, field, index));
    break;
  case FieldDescriptor::CPPTYPE_STRING:
    reflection->AddString(
        to.message, field,
        reflection->GetRepeatedString(*from.message, field, index));
    break;
  case FieldDescriptor::CPPTYPE_INT64:
    reflection->AddInt64(
        to.message, field,
        reflection->GetRepeatedInt64(*from.message, field, index));
    break;
  default:
    mutate(message);
    return;
  }
  // Move the new element to a random place.
  int last = reflection->FieldSize(*to.message, field) - 1;
  for (int at = static_cast<int>(below(last + 1)), i = last; i > at; --i)
    reflection->SwapElements(to.message, field, i, i - 1);
}

namespace {

bool parse(google::protobuf::Message &message, const uint8_t *data,
           size_t size) {
  return size <= static_cast<size_t>(std::numeric_limits<int>::max()) &&
         message.ParseFromArray(data, static_cast<int>(size));
}

} // namespace

size_t mutateSerialized(Message &scratch, const MutatorHints &hints,
                        uint8_t *data, size_t size, size_t maxSize,
                        unsigned seed, size_t prefix) {
  if (size < prefix || maxSize <= prefix)
    return LLVMFuzzerMutate(data, size, maxSize);
  ProtoMutator mutator(hints, seed);
  if (prefix > 0 && mutator.below(16) == 0) {
    data[mutator.below(prefix)] = static_cast<uint8_t>(mutator.below(256));
    return size;
  }
  // A few tries: a mutation can make the message too large.
  for (int attempt = 0; attempt < 3; ++attempt) {
    if (!parse(scratch, data + prefix, size - prefix))
      return LLVMFuzzerMutate(data, size, maxSize);
    mutator.mutate(scratch);
    std::string bytes;
    if (!scratch.SerializeToString(&bytes))
      continue;
    if (bytes.size() <= maxSize - prefix) {
      std::memcpy(data + prefix, bytes.data(), bytes.size());
      return prefix + bytes.size();
    }
  }
  return LLVMFuzzerMutate(data, size, maxSize);
}

size_t crossOverSerialized(Message &scratch, const MutatorHints &hints,
                           const uint8_t *data1, size_t size1,
                           const uint8_t *data2, size_t size2, uint8_t *out,
                           size_t maxOutSize, unsigned seed, size_t prefix) {
  if (size1 < prefix || size2 < prefix || maxOutSize <= prefix)
    return 0;
  std::unique_ptr<Message> other(scratch.New());
  if (!parse(scratch, data1 + prefix, size1 - prefix) ||
      !parse(*other, data2 + prefix, size2 - prefix))
    return 0;
  ProtoMutator mutator(hints, seed);
  mutator.crossOver(scratch, *other);
  std::string bytes;
  if (!scratch.SerializeToString(&bytes) || bytes.size() > maxOutSize - prefix)
    return 0;
  std::memcpy(out, data1, prefix);
  std::memcpy(out + prefix, bytes.data(), bytes.size());
  return prefix + bytes.size();
}

} // namespace fuzz
} // namespace dsp

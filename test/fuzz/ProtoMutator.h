//===- ProtoMutator.h - Structure-aware mutation of protobufs ---*- C++ -*-===//
//
// A small mutator over any protobuf message, through reflection: it picks one
// field anywhere in the message tree and changes it the way a hostile or
// broken file would (boundary integers, NaN and infinities, names swapped
// among the ones a format knows, repeated fields grown, shrunk, duplicated
// and reordered). Hints name, per field, the values worth drawing from.
//
//===----------------------------------------------------------------------===//

#ifndef DSP_TEST_FUZZ_PROTOMUTATOR_H
#define DSP_TEST_FUZZ_PROTOMUTATOR_H

#include <google/protobuf/message.h>

#include <cstdint>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

namespace dsp {
namespace fuzz {

/// What a format knows about its fields, by full field name
/// ("onnx.NodeProto.op_type").
struct MutatorHints {
  /// Strings a string field is often set to.
  std::map<std::string, std::vector<std::string>> strings;
  /// Integers an integer field is often set to.
  std::map<std::string, std::vector<int64_t>> ints;
  /// Fields that name things in the message (tensor names, node inputs):
  /// their values are drawn from every value such fields hold, so that a
  /// mutation rewires what refers to what.
  std::set<std::string> names;
  /// Fields picked more often than the rest, with their weight (default 1).
  std::map<std::string, int> weights;
};

class ProtoMutator {
public:
  ProtoMutator(const MutatorHints &hints, unsigned seed)
      : hints_(hints), rng_(seed) {}

  /// Applies one mutation somewhere in `message`.
  void mutate(google::protobuf::Message &message);
  /// Copies an element of a repeated field of `other` (the same type as
  /// `message`) into the same field somewhere in `message`, or replaces a
  /// sub-message by one of `other`'s.
  void crossOver(google::protobuf::Message &message,
                 const google::protobuf::Message &other);

  /// A number in [0, n); n > 0.
  size_t below(size_t n) {
    return std::uniform_int_distribution<size_t>(0, n - 1)(rng_);
  }

private:
  /// One place a mutation can happen: a field of a message in the tree.
  struct Site {
    google::protobuf::Message *message;
    const google::protobuf::FieldDescriptor *field;
  };
  void collect(google::protobuf::Message &message, int depth,
               std::vector<Site> &sites);
  void collectNames(const google::protobuf::Message &message, int depth);

  void mutateRepeated(const Site &site);
  void mutateSingular(const Site &site);
  void mutateElement(const Site &site, int index);

  int64_t mutateInteger(int64_t value, const std::string &field);
  uint64_t mutateUnsigned(uint64_t value, const std::string &field);
  /// A float or double: special values, a sign flip or doubling, or a
  /// small step.
  template <typename Real> Real mutateReal(Real value);
  std::string mutateString(const std::string &value,
                           const google::protobuf::FieldDescriptor *field);
  std::string mutateBytes(const std::string &value);
  int mutateEnum(const google::protobuf::FieldDescriptor *field, int value);

  const MutatorHints &hints_;
  std::mt19937 rng_;
  /// The values of the name fields of the message being mutated.
  std::vector<std::string> names_;
};

/// libFuzzer's custom mutator for inputs that hold `prefix` bytes of the
/// target's own (options, say) followed by a serialized message of
/// `scratch`'s type: parses the message, mutates it, serializes it back.
/// The prefix changes now and then; inputs that do not parse get
/// libFuzzer's byte mutations (LLVMFuzzerMutate). Returns the new size.
size_t mutateSerialized(google::protobuf::Message &scratch,
                        const MutatorHints &hints, uint8_t *data, size_t size,
                        size_t maxSize, unsigned seed, size_t prefix = 0);

/// libFuzzer's custom cross-over for the same inputs: a part of the second
/// message grafted onto the first, or 0 if either does not parse.
size_t crossOverSerialized(google::protobuf::Message &scratch,
                           const MutatorHints &hints, const uint8_t *data1,
                           size_t size1, const uint8_t *data2, size_t size2,
                           uint8_t *out, size_t maxOutSize, unsigned seed,
                           size_t prefix = 0);

} // namespace fuzz
} // namespace dsp

#endif // DSP_TEST_FUZZ_PROTOMUTATOR_H

//===- OnnxMutator.h - Mutating ONNX models for the fuzz targets -*- C++ -*-===//
//
// The ONNX side of ProtoMutator: which op types, attribute names, data types
// and opset versions a mutation draws from, and the libFuzzer entry points
// for inputs that hold a binary ModelProto (after `prefix` bytes of options).
//
//===----------------------------------------------------------------------===//

#ifndef DSP_TEST_FUZZ_ONNXMUTATOR_H
#define DSP_TEST_FUZZ_ONNXMUTATOR_H

#include <cstddef>
#include <cstdint>

namespace dsp {
namespace fuzz {

size_t mutateOnnxModel(uint8_t *data, size_t size, size_t maxSize,
                       unsigned seed, size_t prefix);

size_t crossOverOnnxModels(const uint8_t *data1, size_t size1,
                           const uint8_t *data2, size_t size2, uint8_t *out,
                           size_t maxOutSize, unsigned seed, size_t prefix);

} // namespace fuzz
} // namespace dsp

#endif // DSP_TEST_FUZZ_ONNXMUTATOR_H

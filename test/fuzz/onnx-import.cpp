//===- onnx-import.cpp - Fuzzing the binary ONNX importer -----------------===//
//
// Input: a binary ONNX model. It is imported twice, with and without its
// weights, through importOnnxFile as dsp-opt does. A clean error is fine; a
// crash, a sanitizer report, a leak or a returned module that does not
// verify is a finding.
//
//===----------------------------------------------------------------------===//

#include "FuzzImport.h"
#include "FuzzUtil.h"
#include "OnnxMutator.h"

using namespace dsp::fuzz;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string path = ScratchFolder::get().write("model.onnx", data, size);
  for (bool loadWeights : {true, false}) {
    FuzzContext fuzz;
    (void)importAndVerify(fuzz, path, loadWeights);
  }
  return 0;
}

extern "C" size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size,
                                          size_t maxSize, unsigned int seed) {
  return mutateOnnxModel(data, size, maxSize, seed, /*prefix=*/0);
}

extern "C" size_t LLVMFuzzerCustomCrossOver(const uint8_t *data1, size_t size1,
                                            const uint8_t *data2, size_t size2,
                                            uint8_t *out, size_t maxOutSize,
                                            unsigned int seed) {
  return crossOverOnnxModels(data1, size1, data2, size2, out, maxOutSize, seed,
                             /*prefix=*/0);
}

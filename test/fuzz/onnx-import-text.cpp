//===- onnx-import-text.cpp - Fuzzing the textual ONNX importer -----------===//
//
// Input: a model in ONNX's textual syntax (.onnxtxt, read by
// onnx::OnnxParser), imported with and without its weights. Byte mutations
// with the dictionary onnx-import-text.dict.
//
//===----------------------------------------------------------------------===//

#include "FuzzImport.h"
#include "FuzzUtil.h"

using namespace dsp::fuzz;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string path = ScratchFolder::get().write("model.onnxtxt", data, size);
  for (bool loadWeights : {true, false}) {
    FuzzContext fuzz;
    (void)importAndVerify(fuzz, path, loadWeights);
  }
  return 0;
}

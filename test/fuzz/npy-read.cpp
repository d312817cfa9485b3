//===- npy-read.cpp - Fuzzing the .npy reader -----------------------------===//
//
// Input: a .npy file, read by dsp::npy::read as dsp-run reads its inputs. An
// array that reads must hold exactly the bytes its shape and dtype say.
//
//===----------------------------------------------------------------------===//

#include "FuzzUtil.h"

#include "dsp/Format/Checked.h"
#include "dsp/Format/Npy.h"
#include "dsp/Format/ProgramFile.h"

using namespace dsp::fuzz;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string path = ScratchFolder::get().write("array.npy", data, size);
  dsp::npy::Array array;
  std::string error = dsp::npy::read(path, array);
  if (!error.empty())
    return 0;
  std::optional<int64_t> count = dsp::format::checkedElementCount(array.shape);
  size_t elementSize = dsp::format::elementSize(array.dtype);
  if (!count || elementSize == 0 ||
      array.data.size() != static_cast<uint64_t>(*count) * elementSize) {
    std::fprintf(stderr,
                 "fuzz: npy::read accepted an array whose %zu data bytes do "
                 "not match its shape %s and dtype %s\n",
                 array.data.size(),
                 dsp::format::shapeString(array.shape).c_str(),
                 dsp::format::dtypeName(array.dtype));
    std::abort();
  }
  return 0;
}

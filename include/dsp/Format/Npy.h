//===- Npy.h - Reading and writing NumPy .npy files -------------*- C++ -*-===//
//
// Format versions 1.0 to 3.0, little-endian '<f4', '<f2', '<i8', '<i4' and
// '|b1' arrays in C order; anything else is rejected with a message saying
// what was found. The reader takes regular files only (a FIFO or a device is an
// error, never a wait) and checks every number of the header against the
// file; a header that gives a key twice, or a key other than descr,
// fortran_order and shape, is rejected. The writer goes through
// format::OutputFile: the file appears only once fully written.
//
//===----------------------------------------------------------------------===//

#ifndef DSP_FORMAT_NPY_H
#define DSP_FORMAT_NPY_H

#include "dsp/Format/Program.pb.h"

#include <cstdint>
#include <string>
#include <vector>

namespace dsp {
namespace npy {

struct Array {
  dsp::program::DType dtype = dsp::program::DTYPE_UNSPECIFIED;
  std::vector<int64_t> shape;
  std::vector<uint8_t> data;
};

/// Reads `path` into `array`; returns "" or an error message naming the file.
std::string read(const std::string &path, Array &array);

/// Writes `bytes` of `data` (exactly the bytes of `shape`) as an array of
/// `dtype` and `shape`; returns "" or an error message naming the file.
std::string write(const std::string &path, dsp::program::DType dtype,
                  const std::vector<int64_t> &shape, const void *data,
                  size_t bytes);

} // namespace npy
} // namespace dsp

#endif // DSP_FORMAT_NPY_H

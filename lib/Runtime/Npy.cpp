//===- Npy.cpp - Reading and writing NumPy .npy files ---------------------===//

#include "dsp/Runtime/Npy.h"

#include "dsp/Format/ProgramFile.h"

#include <cstring>
#include <fstream>
#include <sstream>

using dsp::program::DType;

namespace dsp {
namespace npy {

namespace {

const char kNpyMagic[] = "\x93NUMPY";

/// The value of `key` in the header dictionary, as raw text up to the next
/// top-level ',' or '}'.
bool dictionaryValue(const std::string &header, const std::string &key,
                     std::string &value) {
  size_t position = header.find("'" + key + "'");
  if (position == std::string::npos)
    return false;
  position = header.find(':', position);
  if (position == std::string::npos)
    return false;
  size_t end = ++position;
  int depth = 0;
  for (; end < header.size(); ++end) {
    char c = header[end];
    if (c == '(')
      ++depth;
    else if (c == ')')
      --depth;
    else if ((c == ',' || c == '}') && depth == 0)
      break;
  }
  value = header.substr(position, end - position);
  size_t first = value.find_first_not_of(" \t");
  size_t last = value.find_last_not_of(" \t");
  value =
      first == std::string::npos ? "" : value.substr(first, last - first + 1);
  return true;
}

bool parseShape(const std::string &text, std::vector<int64_t> &shape) {
  if (text.size() < 2 || text.front() != '(' || text.back() != ')')
    return false;
  std::string inside = text.substr(1, text.size() - 2);
  shape.clear();
  std::stringstream stream(inside);
  std::string item;
  while (std::getline(stream, item, ',')) {
    size_t first = item.find_first_not_of(" \t");
    if (first == std::string::npos)
      continue;
    item = item.substr(first, item.find_last_not_of(" \t") - first + 1);
    if (item.empty() || item.size() > 15 ||
        item.find_first_not_of("0123456789") != std::string::npos)
      return false;
    shape.push_back(std::stoll(item));
  }
  return true;
}

} // namespace

std::string read(const std::string &path, Array &array) {
  std::ifstream file(path, std::ios::binary);
  if (!file)
    return path + ": cannot open";
  char prefix[10];
  if (!file.read(prefix, sizeof(prefix)) ||
      std::memcmp(prefix, kNpyMagic, 6) != 0)
    return path + ": not a .npy file (bad magic)";
  uint8_t major = static_cast<uint8_t>(prefix[6]);
  uint64_t headerLength;
  if (major == 1) {
    headerLength = static_cast<uint8_t>(prefix[8]) |
                   static_cast<uint64_t>(static_cast<uint8_t>(prefix[9])) << 8;
  } else if (major == 2 || major == 3) {
    char more[2];
    if (!file.read(more, 2))
      return path + ": truncated header";
    headerLength = 0;
    const char bytes[4] = {prefix[8], prefix[9], more[0], more[1]};
    for (int i = 0; i < 4; ++i)
      headerLength |= static_cast<uint64_t>(static_cast<uint8_t>(bytes[i]))
                      << (8 * i);
  } else {
    return path + ": unsupported .npy version " + std::to_string(major);
  }
  if (headerLength > (1 << 20))
    return path + ": header length " + std::to_string(headerLength) +
           " is implausible; the file is corrupt";
  std::string header(headerLength, '\0');
  if (!file.read(&header[0], headerLength))
    return path + ": truncated header";

  std::string descr, order, shapeText;
  if (!dictionaryValue(header, "descr", descr) ||
      !dictionaryValue(header, "fortran_order", order) ||
      !dictionaryValue(header, "shape", shapeText))
    return path + ": header lacks descr, fortran_order or shape";
  if (order != "False")
    return path + ": Fortran-order arrays are not supported; save the array "
                  "in C order (numpy.ascontiguousarray)";
  if (descr == "'<f4'")
    array.dtype = dsp::program::F32;
  else if (descr == "'<i8'")
    array.dtype = dsp::program::I64;
  else if (descr == "'|b1'")
    array.dtype = dsp::program::BOOL;
  else
    return path + ": dtype " + descr +
           " is not supported (expected '<f4', '<i8' or '|b1')";
  if (!parseShape(shapeText, array.shape))
    return path + ": cannot parse shape " + shapeText;
  uint64_t count = 1;
  for (int64_t dim : array.shape) {
    if (dim > 0 && count > (uint64_t(1) << 50) / dim)
      return path + ": shape " + shapeText + " is too large";
    count *= dim;
  }
  uint64_t bytes = count * format::elementSize(array.dtype);
  std::streampos dataStart = file.tellg();
  file.seekg(0, std::ios::end);
  uint64_t available = static_cast<uint64_t>(file.tellg() - dataStart);
  if (available != bytes)
    return path + ": expected " + std::to_string(bytes) +
           " bytes of data for shape " + shapeText + ", found " +
           std::to_string(available);
  file.seekg(dataStart);
  array.data.resize(bytes);
  if (bytes && !file.read(reinterpret_cast<char *>(array.data.data()), bytes))
    return path + ": cannot read the data";
  if (array.dtype == dsp::program::BOOL)
    for (size_t i = 0; i < array.data.size(); ++i)
      if (array.data[i] > 1)
        return path + ": bool element " + std::to_string(i) + " is " +
               std::to_string(array.data[i]) + ", expected 0 or 1";
  return "";
}

std::string write(const std::string &path, DType dtype,
                  const std::vector<int64_t> &shape, const void *data,
                  size_t bytes) {
  const char *descr = dtype == dsp::program::F32    ? "<f4"
                      : dtype == dsp::program::I64  ? "<i8"
                      : dtype == dsp::program::BOOL ? "|b1"
                                                    : nullptr;
  if (!descr)
    return path + ": cannot write dtype " + format::dtypeName(dtype) +
           " to .npy";
  std::string shapeText = "(";
  for (int64_t dim : shape)
    shapeText += std::to_string(dim) + ",";
  if (shape.size() > 1)
    shapeText.pop_back();
  shapeText += ")";
  std::string header = std::string("{'descr': '") + descr +
                       "', 'fortran_order': False, 'shape': " + shapeText +
                       ", }";
  // Pad with spaces so the data starts 64-byte aligned, newline-terminated.
  size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  if (header.size() > 65535)
    return path + ": array rank is too large for a version 1.0 header";
  std::ofstream file(path, std::ios::binary);
  if (!file)
    return path + ": cannot create";
  char prefix[10] = {'\x93',
                     'N',
                     'U',
                     'M',
                     'P',
                     'Y',
                     1,
                     0,
                     static_cast<char>(header.size() & 0xff),
                     static_cast<char>(header.size() >> 8)};
  file.write(prefix, sizeof(prefix));
  file.write(header.data(), header.size());
  file.write(static_cast<const char *>(data), bytes);
  if (!file)
    return path + ": cannot write";
  return "";
}

} // namespace npy
} // namespace dsp

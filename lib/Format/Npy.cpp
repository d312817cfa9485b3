//===- Npy.cpp - Reading and writing NumPy .npy files ---------------------===//
//
// Every number in a .npy file is hostile until checked: the header length
// against its bound and the file, each dim and the element count against
// kMaxElements, the data size against what the file holds. The header is
// parsed as the Python literal it is, not searched for keys.
//
//===----------------------------------------------------------------------===//

#include "dsp/Format/Npy.h"

#include "dsp/Format/Checked.h"
#include "dsp/Format/FileIO.h"
#include "dsp/Format/ProgramFile.h"

#include <algorithm>
#include <cstring>
#include <iterator>
#include <limits>
#include <map>
#include <new>
#include <unistd.h>

using dsp::program::DType;

namespace dsp {
namespace npy {

namespace {

const char kNpyMagic[] = "\x93NUMPY";
constexpr size_t kMagicBytes = 6;
/// numpy writes headers of a few hundred bytes; anything near this bound is
/// corrupt, and the bound keeps a hostile length from sizing a buffer.
constexpr uint64_t kMaxHeaderBytes = uint64_t(1) << 20;

/// One value of the header dictionary.
struct HeaderValue {
  enum Kind { String, Boolean, Tuple } kind = String;
  std::string text; // String: the contents, Boolean/Tuple: the source text.
  bool flag = false;
  std::vector<int64_t> dims;
};

/// The header dictionary, a Python literal such as
/// {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
/// restricted to what .npy files hold: string keys, and strings, booleans
/// or tuples of non-negative ints as values.
class HeaderParser {
public:
  explicit HeaderParser(const std::string &text) : text_(text) {}

  /// Fills `entries`; returns "" or what is wrong. A key given twice is an
  /// error: numpy would silently take the last, and a file that can be read
  /// two ways is read neither.
  std::string parse(std::map<std::string, HeaderValue> &entries) {
    if (!consume('{'))
      return "the header is not a dictionary";
    while (!consume('}')) {
      std::string key;
      HeaderValue value;
      if (!parseString(key) || !consume(':'))
        return "cannot parse the header at byte " + std::to_string(position_);
      std::string problem = parseValue(value);
      if (!problem.empty())
        return "'" + key + "': " + problem;
      if (!entries.emplace(key, std::move(value)).second)
        return "key '" + key + "' appears twice in the header";
      if (!consume(',') && !peek('}'))
        return "cannot parse the header at byte " + std::to_string(position_);
    }
    skipSpace();
    if (position_ != text_.size())
      return "unexpected text after the header dictionary";
    return "";
  }

private:
  void skipSpace() {
    while (position_ < text_.size() &&
           (text_[position_] == ' ' || text_[position_] == '\t' ||
            text_[position_] == '\n' || text_[position_] == '\r'))
      ++position_;
  }

  bool peek(char c) {
    skipSpace();
    return position_ < text_.size() && text_[position_] == c;
  }

  bool consume(char c) {
    if (!peek(c))
      return false;
    ++position_;
    return true;
  }

  bool consumeWord(const char *word) {
    skipSpace();
    size_t length = std::strlen(word);
    if (text_.compare(position_, length, word) != 0)
      return false;
    position_ += length;
    return true;
  }

  /// A quoted string without escapes (numpy writes none).
  bool parseString(std::string &value) {
    skipSpace();
    if (position_ >= text_.size() ||
        (text_[position_] != '\'' && text_[position_] != '"'))
      return false;
    char quote = text_[position_];
    size_t end = text_.find(quote, position_ + 1);
    if (end == std::string::npos)
      return false;
    value = text_.substr(position_ + 1, end - position_ - 1);
    if (value.find('\\') != std::string::npos)
      return false;
    position_ = end + 1;
    return true;
  }

  std::string parseValue(HeaderValue &value) {
    skipSpace();
    size_t start = position_;
    if (parseString(value.text)) {
      value.kind = HeaderValue::String;
      return "";
    }
    if (consumeWord("True") || consumeWord("False")) {
      value.kind = HeaderValue::Boolean;
      value.text = text_.substr(start, position_ - start);
      value.flag = value.text == "True";
      return "";
    }
    if (!consume('('))
      return "expected a string, True, False or a tuple at byte " +
             std::to_string(start);
    value.kind = HeaderValue::Tuple;
    bool comma = false;
    while (!consume(')')) {
      skipSpace();
      size_t begin = position_;
      while (position_ < text_.size() && text_[position_] >= '0' &&
             text_[position_] <= '9')
        ++position_;
      std::optional<uint64_t> dim = format::parseDecimal(
          std::string_view(text_).substr(begin, position_ - begin),
          format::kMaxElements);
      if (!dim)
        return "expected a dim (an integer from 0 to 2^48) at byte " +
               std::to_string(begin);
      value.dims.push_back(static_cast<int64_t>(*dim));
      comma = consume(',');
      if (!comma && !peek(')'))
        return "cannot parse the tuple at byte " + std::to_string(position_);
    }
    value.text = text_.substr(start, position_ - start);
    // (2) is the number 2 in Python, not a tuple.
    if (value.dims.size() == 1 && !comma)
      return value.text + " is not a tuple (write (" +
             std::to_string(value.dims[0]) + ",))";
    return "";
  }

  const std::string &text_;
  size_t position_ = 0;
};

/// The .npy spelling of each dtype numpy has (bf16 has none).
struct Descr {
  const char *text;
  DType dtype;
};
constexpr Descr kDescrs[] = {{"<f4", dsp::program::F32},
                             {"<f2", dsp::program::F16},
                             {"<i8", dsp::program::I64},
                             {"<i4", dsp::program::I32},
                             {"|b1", dsp::program::BOOL}};

std::string unsupportedDescr(const std::string &descr) {
  std::string expected;
  for (size_t i = 0; i < std::size(kDescrs); ++i)
    expected += std::string(i == 0                        ? "'"
                            : i + 1 == std::size(kDescrs) ? " or '"
                                                          : ", '") +
                kDescrs[i].text + "'";
  return "dtype " + descr + " is not supported (expected " + expected + ")";
}

/// Checks the parsed header and sets the dtype and shape of `array`.
std::string interpretHeader(const std::map<std::string, HeaderValue> &entries,
                            Array &array) {
  for (const auto &[key, value] : entries)
    if (key != "descr" && key != "fortran_order" && key != "shape")
      return "unexpected key '" + key +
             "' in the header (expected descr, fortran_order and shape)";
  for (const char *key : {"descr", "fortran_order", "shape"})
    if (!entries.count(key))
      return std::string("the header lacks '") + key + "'";
  const HeaderValue &descr = entries.at("descr");
  const HeaderValue &order = entries.at("fortran_order");
  const HeaderValue &shape = entries.at("shape");
  if (descr.kind != HeaderValue::String)
    return unsupportedDescr(descr.text);
  if (order.kind != HeaderValue::Boolean)
    return "fortran_order is " + order.text + ", expected True or False";
  if (shape.kind != HeaderValue::Tuple)
    return "shape '" + shape.text + "' is not a tuple";
  if (order.flag)
    return "Fortran-order arrays are not supported; save the array in C "
           "order (numpy.ascontiguousarray)";
  const Descr *known =
      std::find_if(std::begin(kDescrs), std::end(kDescrs),
                   [&](const Descr &d) { return descr.text == d.text; });
  if (known == std::end(kDescrs))
    return unsupportedDescr("'" + descr.text + "'");
  array.dtype = known->dtype;
  if (!format::checkedElementCount(shape.dims))
    return "shape " + shape.text + " has more than 2^48 elements";
  array.shape = shape.dims;
  return "";
}

struct ClosingDescriptor {
  int fd;
  ~ClosingDescriptor() { ::close(fd); }
};

std::string readArray(const std::string &path, Array &array) {
  std::string error;
  uint64_t fileSize = 0;
  int fd = format::openRegularFile(path, std::numeric_limits<uint64_t>::max(),
                                   fileSize, error);
  if (fd < 0)
    return error;
  ClosingDescriptor closing{fd};
  // Magic, version, and a 2-byte (1.0) or 4-byte (2.0, 3.0) header length.
  unsigned char prefix[12];
  if (fileSize < 10)
    return path + ": not a .npy file (" + std::to_string(fileSize) +
           " bytes, too short for the header)";
  if (!(error = format::readExactly(fd, path, prefix, 10)).empty())
    return error;
  if (std::memcmp(prefix, kNpyMagic, kMagicBytes) != 0)
    return path + ": not a .npy file (bad magic)";
  uint8_t major = prefix[6];
  if (major < 1 || major > 3)
    return path + ": unsupported .npy version " + std::to_string(major) + "." +
           std::to_string(prefix[7]);
  uint64_t prefixBytes = major == 1 ? 10 : 12;
  if (fileSize < prefixBytes)
    return path + ": truncated header";
  if (major > 1 &&
      !(error = format::readExactly(fd, path, prefix + 10, 2)).empty())
    return error;
  uint64_t headerLength = 0;
  for (uint64_t i = prefixBytes; i-- > 8;)
    headerLength = headerLength << 8 | prefix[i];
  if (headerLength > kMaxHeaderBytes)
    return path + ": header length " + std::to_string(headerLength) +
           " is implausible (more than " + std::to_string(kMaxHeaderBytes) +
           "); the file is corrupt";
  if (headerLength > fileSize - prefixBytes)
    return path + ": the header claims " + std::to_string(headerLength) +
           " bytes, but the file has only " +
           std::to_string(fileSize - prefixBytes) + " after the prefix";
  std::string header(headerLength, '\0');
  if (!(error = format::readExactly(fd, path, &header[0], header.size()))
           .empty())
    return error;

  std::map<std::string, HeaderValue> entries;
  std::string problem = HeaderParser(header).parse(entries);
  if (problem.empty())
    problem = interpretHeader(entries, array);
  if (!problem.empty())
    return path + ": " + problem;

  // At most 2^48 elements of at most 8 bytes: no overflow.
  uint64_t bytes =
      static_cast<uint64_t>(*format::checkedElementCount(array.shape)) *
      format::elementSize(array.dtype);
  uint64_t available = fileSize - prefixBytes - headerLength;
  if (available != bytes)
    return path + ": expected " + std::to_string(bytes) +
           " bytes of data for shape " + format::shapeString(array.shape) +
           ", found " + std::to_string(available);
  try {
    array.data.resize(static_cast<size_t>(bytes));
  } catch (const std::bad_alloc &) {
    return path + ": cannot allocate " + std::to_string(bytes) +
           " bytes for the data";
  }
  if (!(error = format::readExactly(fd, path, array.data.data(), bytes))
           .empty())
    return error;
  if (array.dtype == dsp::program::BOOL)
    for (size_t i = 0; i < array.data.size(); ++i)
      if (array.data[i] > 1)
        return path + ": bool element " + std::to_string(i) + " is " +
               std::to_string(array.data[i]) + ", expected 0 or 1";
  return "";
}

} // namespace

std::string read(const std::string &path, Array &array) {
  array = Array();
  std::string error = readArray(path, array);
  if (!error.empty())
    array = Array();
  return error;
}

std::string write(const std::string &path, DType dtype,
                  const std::vector<int64_t> &shape, const void *data,
                  size_t bytes) {
  const Descr *known =
      std::find_if(std::begin(kDescrs), std::end(kDescrs),
                   [&](const Descr &d) { return d.dtype == dtype; });
  if (known == std::end(kDescrs))
    return path + ": cannot write dtype " + format::dtypeName(dtype) +
           " to .npy";
  const char *descr = known->text;
  std::optional<int64_t> count = format::checkedElementCount(shape);
  if (!count ||
      static_cast<uint64_t>(*count) * format::elementSize(dtype) != bytes)
    return path + ": " + std::to_string(bytes) + " bytes do not hold a " +
           format::dtypeName(dtype) + " array of shape " +
           format::shapeString(shape);
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
  std::string error;
  std::unique_ptr<format::OutputFile> file =
      format::OutputFile::create(path, error);
  if (!file)
    return error;
  file->write(prefix, sizeof(prefix));
  file->write(header);
  file->write(data, bytes);
  return file->commit();
}

} // namespace npy
} // namespace dsp

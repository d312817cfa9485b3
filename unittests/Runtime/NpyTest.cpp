//===- NpyTest.cpp - The .npy reader on hostile files ---------------------===//

#include "TestUtil.h"

#include "dsp/Format/Npy.h"

#include <chrono>
#include <fcntl.h>
#include <fstream>
#include <future>
#include <sys/stat.h>
#include <unistd.h>

using namespace dsp::test;
using dsp::program::F32;
using dsp::program::I64;

namespace {

/// A .npy file of format `major`.0 with `header` (padded as numpy does) and
/// `data` after it.
std::string writeNpy(const std::string &name, const std::string &dictionary,
                     const std::string &data, int major = 1) {
  std::string path = temporaryPath(name);
  size_t prefix = major == 1 ? 10 : 12;
  std::string header = dictionary;
  header.append((64 - (prefix + header.size() + 1) % 64) % 64, ' ');
  header += '\n';
  std::string bytes = std::string("\x93NUMPY", 6) + char(major) + '\0';
  for (size_t i = 0; i < prefix - 8; ++i)
    bytes += static_cast<char>(header.size() >> (8 * i));
  std::ofstream(path, std::ios::binary) << bytes << header << data;
  return path;
}

std::string readError(const std::string &path) {
  dsp::npy::Array array;
  return dsp::npy::read(path, array);
}

::testing::AssertionResult mentions(const std::string &text,
                                    const std::string &part) {
  if (text.find(part) != std::string::npos)
    return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << "'" << text << "' does not mention '" << part << "'";
}

TEST(NpyTest, ReadsVersionsOneToThree) {
  std::string data(8, '\0');
  data[0] = 7;
  for (int major : {1, 2, 3}) {
    std::string path =
        writeNpy("v" + std::to_string(major) + ".npy",
                 "{'descr': '<i8', 'fortran_order': False, 'shape': (1,), }",
                 data, major);
    dsp::npy::Array array;
    ASSERT_EQ(dsp::npy::read(path, array), "");
    EXPECT_EQ(array.dtype, I64);
    EXPECT_EQ(array.shape, (Shape{1}));
    EXPECT_EQ(array.data[0], 7);
  }
  // Key order and quotes are free, as in any Python dict.
  std::string path =
      writeNpy("reordered.npy",
               "{\"shape\": (), \"fortran_order\": False, 'descr': "
               "'<f4'}",
               std::string(4, '\0'));
  dsp::npy::Array array;
  ASSERT_EQ(dsp::npy::read(path, array), "");
  EXPECT_EQ(array.dtype, F32);
  EXPECT_TRUE(array.shape.empty());
}

TEST(NpyTest, HeaderNumbersAreChecked) {
  std::string huge =
      writeNpy("huge.npy",
               "{'descr': '<f4', 'fortran_order': False, 'shape': (1048576, "
               "1048576, 1048576), }",
               "");
  EXPECT_TRUE(mentions(readError(huge), "more than 2^48 elements"));
  std::string longDim =
      writeNpy("long_dim.npy",
               "{'descr': '<f4', 'fortran_order': False, 'shape': "
               "(99999999999999999999999,), }",
               "");
  EXPECT_TRUE(mentions(readError(longDim), "expected a dim"));
  std::string negative = writeNpy(
      "negative.npy",
      "{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }", "");
  EXPECT_TRUE(mentions(readError(negative), "expected a dim"));
  std::string short_ = writeNpy(
      "short.npy",
      "{'descr': '<f4', 'fortran_order': False, 'shape': (1000000,), }",
      std::string(16, '\0'));
  EXPECT_TRUE(mentions(readError(short_), "expected 4000000 bytes of data"));

  // A header length beyond the file, in a version 2.0 prefix.
  std::string claims = temporaryPath("claims.npy");
  std::ofstream(claims, std::ios::binary)
      << std::string("\x93NUMPY\x02\x00\x00\x00\x08\x00", 12) << "{}";
  EXPECT_TRUE(mentions(readError(claims), "the header claims 524288 bytes"));
  std::ofstream(claims, std::ios::binary)
      << std::string("\x93NUMPY\x02\x00\xff\xff\xff\xff", 12) << "{}";
  EXPECT_TRUE(mentions(readError(claims), "is implausible"));
  std::ofstream(claims, std::ios::binary) << std::string("\x93NUMPY\x01", 7);
  EXPECT_TRUE(mentions(readError(claims), "too short"));
}

TEST(NpyTest, HeaderIsParsedNotSearched) {
  std::string twice = writeNpy("twice.npy",
                               "{'descr': '<i8', 'descr': '<f4', "
                               "'fortran_order': False, 'shape': (2,), }",
                               std::string(8, '\0'));
  EXPECT_TRUE(mentions(readError(twice), "key 'descr' appears twice"));
  std::string extra = writeNpy("extra.npy",
                               "{'descr': '<f4', 'fortran_order': False, "
                               "'shape': (2,), 'note': 'shape'}",
                               std::string(8, '\0'));
  EXPECT_TRUE(mentions(readError(extra), "unexpected key 'note'"));
  std::string notTuple = writeNpy(
      "not_tuple.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (2)}",
      std::string(8, '\0'));
  EXPECT_TRUE(mentions(readError(notTuple), "(2) is not a tuple"));
  std::string trailing =
      writeNpy("trailing.npy",
               "{'descr': '<f4', 'fortran_order': False, 'shape': (2,)} junk",
               std::string(8, '\0'));
  EXPECT_TRUE(mentions(readError(trailing), "unexpected text"));
  std::string missing = writeNpy(
      "missing.npy", "{'descr': '<f4', 'shape': (2,)}", std::string(8, '\0'));
  EXPECT_TRUE(mentions(readError(missing), "lacks 'fortran_order'"));
  std::string structured =
      writeNpy("structured.npy",
               "{'descr': [('a', '<f4')], 'fortran_order': False, "
               "'shape': (2,)}",
               std::string(8, '\0'));
  EXPECT_TRUE(mentions(readError(structured), "'descr': expected a string"));
}

TEST(NpyTest, Float16AndInt32RoundTrip) {
  std::vector<uint16_t> halves = {0x3c00, 0xfbff, 0x7c00, 0x0001};
  std::vector<int32_t> integers = {-1, 0, 2147483647, -2147483647 - 1};
  struct Case {
    dsp::program::DType dtype;
    const char *descr;
    const void *data;
    size_t bytes;
  };
  for (const Case &c :
       {Case{dsp::program::F16, "'<f2'", halves.data(), 8},
        Case{dsp::program::I32, "'<i4'", integers.data(), 16}}) {
    std::string path = temporaryPath("roundtrip.npy");
    ASSERT_EQ(dsp::npy::write(path, c.dtype, {2, 2}, c.data, c.bytes), "");
    EXPECT_TRUE(mentions(readText(path), c.descr));
    dsp::npy::Array array;
    ASSERT_EQ(dsp::npy::read(path, array), "");
    EXPECT_EQ(array.dtype, c.dtype);
    EXPECT_EQ(array.shape, (Shape{2, 2}));
    EXPECT_EQ(0, std::memcmp(array.data.data(), c.data, c.bytes));
  }
  // numpy has no bf16: neither side pretends it does.
  EXPECT_TRUE(
      mentions(dsp::npy::write(temporaryPath("bf16.npy"), dsp::program::BF16,
                               {1}, halves.data(), 2),
               "cannot write dtype bf16 to .npy"));
  std::string doubles =
      writeNpy("doubles.npy",
               "{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }",
               std::string(8, '\0'));
  EXPECT_EQ(readError(doubles),
            doubles + ": dtype '<f8' is not supported (expected '<f4', '<f2', "
                      "'<i8', '<i4' or '|b1')");
}

TEST(NpyTest, FifoIsAnErrorNotAWait) {
  std::string fifo = temporaryPath("input.fifo");
  ::unlink(fifo.c_str());
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  std::future<std::string> result =
      std::async(std::launch::async, [&] { return readError(fifo); });
  if (result.wait_for(std::chrono::seconds(10)) != std::future_status::ready) {
    // Let the blocked open return so the test can end.
    int writer = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK);
    ::close(writer);
    result.wait();
    FAIL() << "reading a FIFO blocked";
  }
  EXPECT_TRUE(mentions(result.get(), "is a FIFO, expected a regular file"));
  ::unlink(fifo.c_str());
  EXPECT_TRUE(mentions(readError("/dev/zero"), "a character device"));
}

TEST(NpyTest, WriteChecksTheBytesAndEveryWrite) {
  std::vector<float> values(6);
  std::string path = temporaryPath("written.npy");
  EXPECT_TRUE(mentions(dsp::npy::write(path, F32, {2, 3}, values.data(), 20),
                       "20 bytes do not hold a f32 array of shape [2,3]"));
  EXPECT_TRUE(
      mentions(dsp::npy::write("/dev/full", F32, {2, 3}, values.data(), 24),
               "/dev/full: cannot"));
  EXPECT_EQ(dsp::npy::write("/dev/null", F32, {2, 3}, values.data(), 24), "");
  struct stat info;
  ASSERT_EQ(::stat("/dev/null", &info), 0);
  EXPECT_TRUE(S_ISCHR(info.st_mode));
}

} // namespace

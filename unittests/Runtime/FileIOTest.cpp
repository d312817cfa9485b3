//===- FileIOTest.cpp - Checked arithmetic and safe file I/O --------------===//

#include "TestUtil.h"

#include "dsp/Format/Checked.h"
#include "dsp/Format/FileIO.h"

#include <dirent.h>
#include <fstream>
#include <sys/stat.h>
#include <unistd.h>

using namespace dsp::format;

namespace {

bool exists(const std::string &path) {
  struct stat info;
  return ::lstat(path.c_str(), &info) == 0;
}

/// Files in the test directory whose name starts with `prefix`.
int countFiles(const std::string &prefix) {
  int found = 0;
  DIR *directory = ::opendir(::testing::TempDir().c_str());
  while (dirent *entry = directory ? ::readdir(directory) : nullptr)
    found += std::string(entry->d_name).rfind(prefix, 0) == 0;
  if (directory)
    ::closedir(directory);
  return found;
}

TEST(FileIOTest, CheckedArithmetic) {
  EXPECT_EQ(checkedAlignUp(UINT64_MAX - 62, 64), std::nullopt);
  EXPECT_EQ(checkedAlignUp(65, 64), 128u);
  EXPECT_EQ(checkedMul<uint64_t>(uint64_t(1) << 32, uint64_t(1) << 32),
            std::nullopt);
  EXPECT_EQ(checkedElementCount(std::vector<int64_t>{1 << 20, 1 << 20, 1 << 9}),
            std::nullopt);
  EXPECT_EQ(checkedElementCount(std::vector<int64_t>{3, 0, -1}), std::nullopt);
  EXPECT_EQ(parseDecimal("1024", 1024), 1024u);
  EXPECT_EQ(parseDecimal("1025", 1024), std::nullopt);
  EXPECT_EQ(parseDecimal(" 5"), std::nullopt);
  EXPECT_EQ(parseDecimal("18446744073709551616"), std::nullopt);
}

TEST(FileIOTest, InputsAreRegularFilesOnly) {
  std::string fifo = dsp::test::temporaryPath("fileio.fifo");
  ::unlink(fifo.c_str());
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  std::string contents;
  EXPECT_EQ(readRegularFile(fifo, 100, contents),
            fifo + ": is a FIFO, expected a regular file");
  ::unlink(fifo.c_str());
  EXPECT_EQ(readRegularFile("/dev/zero", 100, contents),
            "/dev/zero: is a character device, expected a regular file");

  std::string text = dsp::test::temporaryPath("fileio.txt");
  std::ofstream(text) << "0123456789";
  EXPECT_EQ(readRegularFile(text, 100, contents), "");
  EXPECT_EQ(contents, "0123456789");
  EXPECT_EQ(readRegularFile(text, 9, contents),
            text + ": is 10 bytes, more than the limit of 9");
}

TEST(FileIOTest, OutputsAppearOnlyWhenComplete) {
  std::string path = dsp::test::temporaryPath("fileio_out.txt");
  ::unlink(path.c_str());
  {
    std::string error;
    std::unique_ptr<OutputFile> file = OutputFile::create(path, error);
    ASSERT_TRUE(file) << error;
    EXPECT_TRUE(file->write("partial"));
    EXPECT_FALSE(exists(path));
  }
  // Dropped without commit: neither the file nor its temporary remains.
  EXPECT_FALSE(exists(path));
  EXPECT_EQ(countFiles(".dsp_fileio_out.txt.partial"), 0);
  EXPECT_EQ(writeOutputFile(path, "complete"), "");
  std::string contents;
  EXPECT_EQ(readRegularFile(path, 100, contents), "");
  EXPECT_EQ(contents, "complete");

  EXPECT_EQ(writeOutputFile("/dev/full", "lost"),
            "/dev/full: cannot write: No space left on device");
  EXPECT_EQ(writeOutputFile("/dev/null", "discarded"), "");

  removeStaleOutput(path);
  EXPECT_FALSE(exists(path));
  removeStaleOutput("/dev/null");
  struct stat info;
  ASSERT_EQ(::stat("/dev/null", &info), 0);
  EXPECT_TRUE(S_ISCHR(info.st_mode));
}

} // namespace

//===- FuzzUtil.h - Shared helpers of the fuzz targets ----------*- C++ -*-===//
//
// The targets drive the file-based entry points (importOnnxFile,
// ProgramFile::open, npy::read), so that the code a user's file meets is the
// code that is fuzzed. Each input is written to a file in a folder private
// to the process: $TMPDIR if set, else /dev/shm, else /tmp.
//
//===----------------------------------------------------------------------===//

#ifndef DSP_TEST_FUZZ_FUZZUTIL_H
#define DSP_TEST_FUZZ_FUZZUTIL_H

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <dirent.h>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

namespace dsp {
namespace fuzz {

/// The budget for a program's loaded weights: generated weights of a mutated
/// shape could ask for any size, and a budget far below libFuzzer's memory
/// limit keeps them an error rather than an out-of-memory abort.
constexpr uint64_t kLoadedWeightBudget = uint64_t(64) << 20;

/// A folder of this process's own, removed (with the files written through
/// it) when the process exits normally.
class ScratchFolder {
public:
  static ScratchFolder &get() {
    static ScratchFolder folder;
    return folder;
  }

  /// Writes `size` bytes to `name` in the folder and returns its path;
  /// aborts if the file cannot be written, as nothing could be tested.
  std::string write(const std::string &name, const uint8_t *data, size_t size) {
    std::string path = path_ + "/" + name;
    std::FILE *file = std::fopen(path.c_str(), "wb");
    if (!file || (size && std::fwrite(data, 1, size, file) != size) ||
        std::fclose(file) != 0) {
      std::fprintf(stderr, "fuzz: cannot write %s\n", path.c_str());
      std::abort();
    }
    return path;
  }

  /// The path a file called `name` has in the folder.
  std::string path(const std::string &name) const { return path_ + "/" + name; }

  /// Removes `name` from the folder if it is there.
  void remove(const std::string &name) { ::unlink(path(name).c_str()); }

  ~ScratchFolder() {
    // Only this process writes here, and only plain files.
    if (DIR *dir = ::opendir(path_.c_str())) {
      while (struct dirent *entry = ::readdir(dir))
        ::unlink(path(entry->d_name).c_str());
      ::closedir(dir);
    }
    ::rmdir(path_.c_str());
  }

private:
  ScratchFolder() {
    std::string base;
    if (const char *tmp = std::getenv("TMPDIR"); tmp && *tmp)
      base = tmp;
    else if (::access("/dev/shm", W_OK) == 0)
      base = "/dev/shm";
    else
      base = "/tmp";
    std::string templ = base + "/dsp-fuzz-XXXXXX";
    if (!::mkdtemp(templ.data())) {
      std::fprintf(stderr, "fuzz: cannot create a folder under %s\n",
                   base.c_str());
      std::abort();
    }
    path_ = templ;
  }

  std::string path_;
};

} // namespace fuzz
} // namespace dsp

#endif // DSP_TEST_FUZZ_FUZZUTIL_H

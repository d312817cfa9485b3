//===- ReplayMain.cpp - Runs a fuzz target over files, without libFuzzer --===//
//
// Linked with a target's LLVMFuzzerTestOneInput in builds that have no
// libFuzzer (gcc, coverage builds): runs the target once on every file named
// on the command line or found (non-recursively) in a named folder, in name
// order. A crash kills the process, so the caller sees it; finding no input
// at all is an error too, so that a replay of an empty or missing corpus
// cannot pass by asserting nothing.
//
//   <target>-replay [-mutate-only=N] PATH...
//
// -mutate-only=N applies the target's custom mutator N times to every input
// and checks what it returns, without running the target: a smoke test of
// the mutator in builds without libFuzzer.
//
//===----------------------------------------------------------------------===//

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fstream>
#include <iterator>
#include <string>
#include <sys/stat.h>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
extern "C" __attribute__((weak)) int LLVMFuzzerInitialize(int *argc,
                                                          char ***argv);
extern "C" __attribute__((weak)) size_t
LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t maxSize,
                        unsigned int seed);

/// libFuzzer's byte mutator, which custom mutators fall back on. Without
/// libFuzzer, a few byte flips stand in for it.
extern "C" size_t LLVMFuzzerMutate(uint8_t *data, size_t size,
                                   size_t maxSize) {
  static uint32_t state = 12345;
  auto next = [] { return state = state * 1103515245u + 12345u; };
  if (size == 0 && maxSize > 0) {
    data[0] = static_cast<uint8_t>(next() >> 16);
    return 1;
  }
  for (int i = 0, flips = 1 + (next() >> 16) % 4; i < flips && size > 0; ++i)
    data[(next() >> 8) % size] ^= static_cast<uint8_t>(1u << ((next() >> 16) % 8));
  return std::min(size, maxSize);
}

namespace {

bool isDirectory(const std::string &path) {
  struct stat info;
  return ::stat(path.c_str(), &info) == 0 && S_ISDIR(info.st_mode);
}

bool isRegularFile(const std::string &path) {
  struct stat info;
  return ::stat(path.c_str(), &info) == 0 && S_ISREG(info.st_mode);
}

/// The regular files directly in `folder`, sorted; false if it cannot be
/// read.
bool listFolder(const std::string &folder, std::vector<std::string> &files) {
  DIR *dir = ::opendir(folder.c_str());
  if (!dir)
    return false;
  std::vector<std::string> found;
  while (struct dirent *entry = ::readdir(dir)) {
    std::string name = entry->d_name;
    if (name == "." || name == "..")
      continue;
    std::string path = folder + "/" + name;
    if (isRegularFile(path))
      found.push_back(path);
  }
  ::closedir(dir);
  std::sort(found.begin(), found.end());
  files.insert(files.end(), found.begin(), found.end());
  return true;
}

bool readFile(const std::string &path, std::vector<uint8_t> &bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return false;
  bytes.assign(std::istreambuf_iterator<char>(in),
               std::istreambuf_iterator<char>());
  return !in.bad();
}

int mutateOnly(const std::vector<std::string> &files, long rounds) {
  if (!LLVMFuzzerCustomMutator) {
    std::fprintf(stderr, "replay: this target has no custom mutator\n");
    return 1;
  }
  for (const std::string &path : files) {
    std::vector<uint8_t> input;
    if (!readFile(path, input)) {
      std::fprintf(stderr, "replay: cannot read %s\n", path.c_str());
      return 1;
    }
    size_t maxSize = input.size() + 4096;
    std::vector<uint8_t> buffer = input;
    buffer.resize(maxSize);
    size_t size = input.size();
    for (long i = 0; i < rounds; ++i) {
      size = LLVMFuzzerCustomMutator(buffer.data(), size, maxSize,
                                     static_cast<unsigned>(i));
      if (size > maxSize) {
        std::fprintf(stderr,
                     "replay: the mutator returned %zu bytes, more than the "
                     "%zu allowed, on %s\n",
                     size, maxSize, path.c_str());
        return 1;
      }
      if (i % 8 == 7) { // Start again from the seed now and then.
        std::copy(input.begin(), input.end(), buffer.begin());
        size = input.size();
      }
    }
    std::printf("Mutated: %s (%ld rounds)\n", path.c_str(), rounds);
  }
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  if (LLVMFuzzerInitialize)
    LLVMFuzzerInitialize(&argc, &argv);
  long rounds = 0;
  std::vector<std::string> files;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.rfind("-mutate-only=", 0) == 0) {
      rounds = std::strtol(arg.c_str() + std::strlen("-mutate-only="),
                           nullptr, 10);
      continue;
    }
    if (!arg.empty() && arg[0] == '-') {
      // libFuzzer flags are accepted and ignored, so that the same command
      // lines work with both kinds of binary.
      continue;
    }
    if (isDirectory(arg)) {
      if (!listFolder(arg, files)) {
        std::fprintf(stderr, "replay: cannot read folder %s\n", arg.c_str());
        return 1;
      }
    } else if (isRegularFile(arg)) {
      files.push_back(arg);
    } else {
      std::fprintf(stderr, "replay: no such file or folder: %s\n",
                   arg.c_str());
      return 1;
    }
  }
  if (files.empty()) {
    std::fprintf(stderr, "replay: no inputs found (an empty corpus tests "
                         "nothing)\n");
    return 1;
  }
  if (rounds > 0)
    return mutateOnly(files, rounds);
  for (const std::string &path : files) {
    std::vector<uint8_t> bytes;
    if (!readFile(path, bytes)) {
      std::fprintf(stderr, "replay: cannot read %s\n", path.c_str());
      return 1;
    }
    std::printf("Running: %s (%zu bytes)\n", path.c_str(), bytes.size());
    std::fflush(stdout);
    // A copy of exactly the input's size, so that reads past the end are
    // caught where a sanitizer is present.
    uint8_t *copy =
        static_cast<uint8_t *>(std::malloc(bytes.empty() ? 1 : bytes.size()));
    if (!bytes.empty())
      std::memcpy(copy, bytes.data(), bytes.size());
    LLVMFuzzerTestOneInput(copy, bytes.size());
    std::free(copy);
  }
  std::printf("Executed %zu inputs\n", files.size());
  return 0;
}

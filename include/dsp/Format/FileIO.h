//===- FileIO.h - Reading inputs and writing outputs safely -----*- C++ -*-===//
//
// The one place where the tools touch files named by a user or a model:
//  - inputs are opened without blocking and accepted only when they are
//    regular files of a bounded size, so a FIFO, a device or a symlink to
//    /dev/zero is an error and never a hang;
//  - outputs go to a temporary file in the destination's folder that is
//    renamed over the destination only when every write and the close
//    succeeded, so a failed run never leaves a partial or stale file; a
//    destination that exists and is not a regular file (/dev/null, /dev/full,
//    a FIFO) is written in place and never replaced, every write checked.
// Nothing here throws; failures are messages that start with the path.
//
//===----------------------------------------------------------------------===//

#ifndef DSP_FORMAT_FILEIO_H
#define DSP_FORMAT_FILEIO_H

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace dsp {
namespace format {

/// Opens `path` for reading if it is a regular file (symlinks followed) of at
/// most `maxBytes`. Returns the descriptor and sets `size`, or -1 and sets
/// `error`.
int openRegularFile(const std::string &path, uint64_t maxBytes, uint64_t &size,
                    std::string &error);

/// Reads exactly `bytes` bytes into `buffer` from `fd`, a file opened for
/// `path` (by openRegularFile) whose size says they are there. Returns "" or
/// an error message.
std::string readExactly(int fd, const std::string &path, void *buffer,
                        size_t bytes);

/// Reads all of a regular file of at most `maxBytes` into `contents`.
/// Returns "" or an error message.
std::string readRegularFile(const std::string &path, uint64_t maxBytes,
                            std::string &contents);

/// Removes `path` if it is a regular file (or a symlink): a failed run must
/// not leave an older output that looks like this run's.
void removeStaleOutput(const std::string &path);

/// An output file that appears at its path only when `commit` succeeds.
class OutputFile {
public:
  /// Starts writing `path`. Returns null and sets `error` if it cannot.
  static std::unique_ptr<OutputFile> create(const std::string &path,
                                            std::string &error);
  /// Discards what was written unless `commit` succeeded.
  ~OutputFile();
  OutputFile(const OutputFile &) = delete;
  OutputFile &operator=(const OutputFile &) = delete;

  /// Appends bytes; false (and an error kept for `commit`) on failure.
  bool write(const void *data, size_t bytes);
  bool write(const std::string &text) {
    return write(text.data(), text.size());
  }
  /// Appends `bytes` zero bytes: a hole in a regular file, written zeros in
  /// a device or FIFO.
  bool writeZeros(uint64_t bytes);
  /// Finishes the file: closes it (checked) and moves it into place.
  /// Returns "" or the first error of any write or of the close.
  std::string commit();

private:
  OutputFile() = default;
  bool failWith(const std::string &what);

  std::string path_;
  std::string temporary_; // Empty when writing in place.
  int fd_ = -1;
  uint64_t written_ = 0;
  std::string error_;
  bool committed_ = false;
};

/// The folder part of `path`: "." when it has none.
std::string parentFolder(const std::string &path);

/// The absolute path of `path` with every symlink and `..` resolved; false
/// with `reason` set if it cannot be resolved (it does not exist, ...).
bool realPath(const std::string &path, std::string &resolved,
              std::string &reason);

/// Where a path named by a file (a model's external data, a program's
/// weight file) leads once every symlink and `..` is resolved.
enum class Confinement {
  Inside,           ///< inside the folder; `resolved` is the real path
  Outside,          ///< outside it; `resolved` is where it leads
  FolderUnresolved, ///< the folder itself cannot be resolved; see `reason`
  FileUnresolved,   ///< the path cannot be resolved (missing...); `reason`
};

/// Resolves `relative` against `folder`; reads nothing. Only a path whose
/// real path lies strictly inside the folder's real path is Inside.
Confinement resolveInsideFolder(const std::string &folder,
                                const std::string &relative,
                                std::string &resolved, std::string &reason);

/// Writes `contents` to `path` through an OutputFile. Returns "" or an error.
std::string writeOutputFile(const std::string &path,
                            const std::string &contents);

} // namespace format
} // namespace dsp

#endif // DSP_FORMAT_FILEIO_H

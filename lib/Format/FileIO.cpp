//===- FileIO.cpp - Reading inputs and writing outputs safely -------------===//

#include "dsp/Format/FileIO.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace dsp {
namespace format {

namespace {

std::string systemError(const std::string &what) {
  return what + ": " + std::strerror(errno);
}

std::string describeFileType(mode_t mode) {
  if (S_ISDIR(mode))
    return "a directory";
  if (S_ISFIFO(mode))
    return "a FIFO";
  if (S_ISCHR(mode))
    return "a character device";
  if (S_ISBLK(mode))
    return "a block device";
  if (S_ISSOCK(mode))
    return "a socket";
  return "not a regular file";
}

std::string baseName(const std::string &path) {
  size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

} // namespace

std::string parentFolder(const std::string &path) {
  size_t slash = path.find_last_of('/');
  if (slash == std::string::npos)
    return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

bool realPath(const std::string &path, std::string &resolved,
              std::string &reason) {
  char *real = ::realpath(path.c_str(), nullptr);
  if (!real) {
    reason = std::strerror(errno);
    return false;
  }
  resolved = real;
  std::free(real);
  return true;
}

Confinement resolveInsideFolder(const std::string &folder,
                                const std::string &relative,
                                std::string &resolved, std::string &reason) {
  std::string base = folder.empty() ? "." : folder, realFolder;
  if (!realPath(base, realFolder, reason))
    return Confinement::FolderUnresolved;
  if (!realPath(base + "/" + relative, resolved, reason))
    return Confinement::FileUnresolved;
  std::string prefix = realFolder == "/" ? "/" : realFolder + "/";
  return resolved.size() > prefix.size() &&
                 resolved.compare(0, prefix.size(), prefix) == 0
             ? Confinement::Inside
             : Confinement::Outside;
}

int openRegularFile(const std::string &path, uint64_t maxBytes, uint64_t &size,
                    std::string &error) {
  // O_NONBLOCK: opening a FIFO without a writer must not wait for one.
  int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    error = systemError(path + ": cannot open");
    return -1;
  }
  struct stat info;
  if (::fstat(fd, &info) != 0) {
    error = systemError(path + ": cannot stat");
    ::close(fd);
    return -1;
  }
  if (!S_ISREG(info.st_mode)) {
    error = path + ": is " + describeFileType(info.st_mode) +
            ", expected a regular file";
    ::close(fd);
    return -1;
  }
  size = static_cast<uint64_t>(info.st_size);
  if (size > maxBytes) {
    error = path + ": is " + std::to_string(size) +
            " bytes, more than the limit of " + std::to_string(maxBytes);
    ::close(fd);
    return -1;
  }
  // Regular files ignore O_NONBLOCK; clear it all the same.
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  return fd;
}

std::string readExactly(int fd, const std::string &path, void *buffer,
                        size_t bytes) {
  char *cursor = static_cast<char *>(buffer);
  constexpr size_t kChunk = size_t(1) << 30;
  while (bytes > 0) {
    ssize_t got = ::read(fd, cursor, std::min(bytes, kChunk));
    if (got < 0 && errno == EINTR)
      continue;
    if (got < 0)
      return systemError(path + ": cannot read");
    if (got == 0)
      return path + ": the file shrank while it was read";
    cursor += got;
    bytes -= static_cast<size_t>(got);
  }
  return "";
}

std::string readRegularFile(const std::string &path, uint64_t maxBytes,
                            std::string &contents) {
  std::string error;
  uint64_t size = 0;
  int fd = openRegularFile(path, maxBytes, size, error);
  if (fd < 0)
    return error;
  contents.assign(static_cast<size_t>(size), '\0');
  error = readExactly(fd, path, &contents[0], contents.size());
  ::close(fd);
  if (!error.empty())
    contents.clear();
  return error;
}

void removeStaleOutput(const std::string &path) {
  struct stat info;
  if (::lstat(path.c_str(), &info) == 0 &&
      (S_ISREG(info.st_mode) || S_ISLNK(info.st_mode)))
    ::unlink(path.c_str());
}

std::unique_ptr<OutputFile> OutputFile::create(const std::string &path,
                                               std::string &error) {
  if (path.empty()) {
    error = "an output path is empty";
    return nullptr;
  }
  std::unique_ptr<OutputFile> file(new OutputFile());
  file->path_ = path;
  struct stat info;
  if (::stat(path.c_str(), &info) == 0 && S_ISDIR(info.st_mode)) {
    error = path + ": is a directory";
    return nullptr;
  }
  if (::stat(path.c_str(), &info) == 0 && !S_ISREG(info.st_mode)) {
    // A device or FIFO is the user's sink: write into it, never replace it.
    // O_NONBLOCK makes a FIFO without a reader an error, not a hang.
    file->fd_ = ::open(path.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    if (file->fd_ < 0) {
      error = errno == ENXIO ? path + ": a FIFO with no reader"
                             : systemError(path + ": cannot open for writing");
      return nullptr;
    }
    ::fcntl(file->fd_, F_SETFL, ::fcntl(file->fd_, F_GETFL) & ~O_NONBLOCK);
    return file;
  }
  std::string pattern =
      parentFolder(path) + "/." + baseName(path) + ".partial.XXXXXX";
  std::vector<char> name(pattern.begin(), pattern.end());
  name.push_back('\0');
  file->fd_ = ::mkostemp(name.data(), O_CLOEXEC);
  if (file->fd_ < 0) {
    error =
        systemError(path + ": cannot create a file in " + parentFolder(path));
    return nullptr;
  }
  file->temporary_ = name.data();
  // mkostemp creates the file 0600; give it the mode a plain create would.
  mode_t mask = ::umask(0);
  ::umask(mask);
  ::fchmod(file->fd_, 0666 & ~mask);
  return file;
}

OutputFile::~OutputFile() {
  if (fd_ >= 0)
    ::close(fd_);
  if (!committed_ && !temporary_.empty())
    ::unlink(temporary_.c_str());
}

bool OutputFile::failWith(const std::string &what) {
  if (error_.empty())
    error_ = systemError(path_ + ": " + what);
  return false;
}

bool OutputFile::write(const void *data, size_t bytes) {
  if (!error_.empty())
    return false;
  const char *cursor = static_cast<const char *>(data);
  constexpr size_t kChunk = size_t(1) << 30;
  while (bytes > 0) {
    ssize_t done = ::write(fd_, cursor, std::min(bytes, kChunk));
    if (done < 0 && errno == EINTR)
      continue;
    if (done <= 0)
      return failWith("cannot write");
    cursor += done;
    bytes -= static_cast<size_t>(done);
    written_ += static_cast<uint64_t>(done);
  }
  return true;
}

bool OutputFile::writeZeros(uint64_t bytes) {
  if (!error_.empty())
    return false;
  if (!temporary_.empty()) {
    // A regular file: a hole, sized by the final ftruncate.
    off_t target = static_cast<off_t>(written_ + bytes);
    if (target < 0 || ::lseek(fd_, target, SEEK_SET) != target)
      return failWith("cannot seek");
    written_ += bytes;
    return true;
  }
  static const char kZeros[65536] = {};
  while (bytes > 0) {
    size_t chunk =
        static_cast<size_t>(std::min<uint64_t>(bytes, sizeof(kZeros)));
    if (!write(kZeros, chunk))
      return false;
    bytes -= chunk;
  }
  return true;
}

std::string OutputFile::commit() {
  if (error_.empty() && !temporary_.empty() &&
      ::ftruncate(fd_, static_cast<off_t>(written_)) != 0)
    failWith("cannot size the file");
  int closed = ::close(fd_);
  fd_ = -1;
  if (closed != 0)
    failWith("cannot finish writing");
  if (!error_.empty())
    return error_;
  if (!temporary_.empty() && ::rename(temporary_.c_str(), path_.c_str()) != 0) {
    failWith("cannot move " + temporary_ + " into place");
    return error_;
  }
  committed_ = true;
  return "";
}

std::string writeOutputFile(const std::string &path,
                            const std::string &contents) {
  std::string error;
  std::unique_ptr<OutputFile> file = OutputFile::create(path, error);
  if (!file)
    return error;
  file->write(contents);
  return file->commit();
}

} // namespace format
} // namespace dsp

//===- Status.h - Success or an error message -------------------*- C++ -*-===//

#ifndef DSP_RUNTIME_STATUS_H
#define DSP_RUNTIME_STATUS_H

#include <string>
#include <utility>

namespace dsp {
namespace runtime {

/// The result of a runtime operation: success, or an error message meant
/// for the user. The runtime never throws.
class [[nodiscard]] Status {
public:
  static Status success() { return Status(); }
  static Status error(std::string message) {
    Status status;
    status.failed_ = true;
    status.message_ = std::move(message);
    return status;
  }

  bool ok() const { return !failed_; }
  explicit operator bool() const { return ok(); }
  const std::string &message() const { return message_; }

private:
  bool failed_ = false;
  std::string message_;
};

} // namespace runtime
} // namespace dsp

#endif // DSP_RUNTIME_STATUS_H

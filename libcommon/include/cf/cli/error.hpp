#pragma once
// Exit codes shared by every tool, and the one error type that setup and
// configuration code throws; each tool's main catches it once (see run_tool).
#include <stdexcept>
#include <string>

namespace cf {

enum class ExitCode : int {
  ok = 0,
  failure = 1,
  usage = 2,
  verification_failed = 3,
};

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message, ExitCode code = ExitCode::failure)
      : std::runtime_error(message), code_(code) {}
  ExitCode code() const noexcept { return code_; }

 private:
  ExitCode code_;
};

struct UsageError : Error {
  explicit UsageError(const std::string& message) : Error(message, ExitCode::usage) {}
};

struct VerificationError : Error {
  explicit VerificationError(const std::string& message)
      : Error(message, ExitCode::verification_failed) {}
};

}  // namespace cf

#pragma once
// The one way tools talk to humans on stderr: `tool: error: ...`,
// `tool: warning: ...`, `tool: note: ...`; coloured only on a terminal.
#include <iosfwd>
#include <string>
#include <string_view>

namespace cf::cli {

enum class Severity { error, warning, note };

class Diagnostics {
 public:
  Diagnostics(std::string tool, std::ostream& out, bool colour);
  // For a tool writing to the process's stderr: colour follows isatty/NO_COLOR.
  static Diagnostics for_stderr(std::string tool);

  void error(std::string_view message) const { print(Severity::error, message); }
  void warning(std::string_view message) const { print(Severity::warning, message); }
  void note(std::string_view message) const { print(Severity::note, message); }
  void print(Severity severity, std::string_view message) const;
  const std::string& tool() const noexcept { return tool_; }

 private:
  std::string tool_;
  std::ostream* out_;
  bool colour_;
};

std::string format_diagnostic(std::string_view tool, Severity severity,
                              std::string_view message, bool colour);

}  // namespace cf::cli

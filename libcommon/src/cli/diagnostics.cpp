#include "cf/cli/diagnostics.hpp"

#include <iostream>

#include "cf/cli/terminal.hpp"

namespace cf::cli {
namespace {

std::string_view label(Severity severity) {
  switch (severity) {
    case Severity::error: return "error";
    case Severity::warning: return "warning";
    case Severity::note: return "note";
  }
  return "error";
}

std::string_view colour_of(Severity severity) {
  switch (severity) {
    case Severity::error: return "\033[1;31m";
    case Severity::warning: return "\033[1;33m";
    case Severity::note: return "\033[1;36m";
  }
  return "";
}

}  // namespace

std::string format_diagnostic(std::string_view tool, Severity severity, std::string_view message,
                              bool colour) {
  std::string line;
  line.append(tool).append(": ");
  if (colour) line.append(colour_of(severity));
  line.append(label(severity));
  if (colour) line.append("\033[0m");
  line.append(": ").append(message);
  return line;
}

Diagnostics::Diagnostics(std::string tool, std::ostream& out, bool colour)
    : tool_(std::move(tool)), out_(&out), colour_(colour) {}

Diagnostics Diagnostics::for_stderr(std::string tool) {
  return Diagnostics(std::move(tool), std::cerr, terminal_policy(2).colour());
}

void Diagnostics::print(Severity severity, std::string_view message) const {
  *out_ << format_diagnostic(tool_, severity, message, colour_) << '\n' << std::flush;
}

}  // namespace cf::cli

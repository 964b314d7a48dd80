#pragma once
// Whether a stream is a terminal, and whether it may get colour and progress
// bars (never when piped, NO_COLOR set or TERM=dumb).
#include <string_view>

namespace cf::cli {

bool is_tty(int fd) noexcept;

struct TerminalPolicy {
  bool is_tty = false;
  bool no_colour_env = false;  // NO_COLOR is set (https://no-color.org)
  bool dumb_term = false;      // TERM=dumb or unset
  bool colour() const noexcept { return is_tty && !no_colour_env && !dumb_term; }
  bool animations() const noexcept { return is_tty && !dumb_term; }
};

// Reads the environment and isatty(fd) once.
TerminalPolicy terminal_policy(int fd);

}  // namespace cf::cli

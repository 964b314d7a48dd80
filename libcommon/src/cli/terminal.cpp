#include "cf/cli/terminal.hpp"

#include <unistd.h>

#include <cstdlib>
#include <string_view>

namespace cf::cli {

bool is_tty(int fd) noexcept { return ::isatty(fd) == 1; }

TerminalPolicy terminal_policy(int fd) {
  TerminalPolicy policy;
  policy.is_tty = is_tty(fd);
  const char* no_colour = std::getenv("NO_COLOR");
  policy.no_colour_env = no_colour != nullptr && *no_colour != '\0';
  const char* term = std::getenv("TERM");
  policy.dumb_term = term == nullptr || std::string_view(term) == "dumb";
  return policy;
}

}  // namespace cf::cli

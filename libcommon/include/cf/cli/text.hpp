#pragma once
// ASCII case helpers: file names, load names and protocol words are ASCII, and
// phones' TFTP servers compare them case-insensitively (reference 3.2).
#include <string>
#include <string_view>

namespace cf {

std::string to_lower(std::string_view text);
std::string to_upper(std::string_view text);
bool iequals(std::string_view a, std::string_view b) noexcept;
bool istarts_with(std::string_view text, std::string_view prefix) noexcept;

// Text from the wire (file names, hostnames, vendor classes) made safe for a log
// line or a terminal: printable ASCII stays, a backslash and every other byte
// (newline, ESC, C1 controls, non-ASCII) become \xHH, so a peer can neither forge
// a line nor drive the terminal. At most `limit` input bytes are shown; a longer
// text ends in "...(N bytes)".
std::string printable(std::string_view text, std::size_t limit = 256);

}  // namespace cf

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

}  // namespace cf

#include "cf/cli/text.hpp"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

namespace cf {
namespace {

char lower_char(char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); }
char upper_char(char c) { return static_cast<char>(std::toupper(static_cast<unsigned char>(c))); }

}  // namespace

std::string to_lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), lower_char);
  return out;
}

std::string to_upper(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), upper_char);
  return out;
}

bool iequals(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return lower_char(x) == lower_char(y); });
}

bool istarts_with(std::string_view text, std::string_view prefix) noexcept {
  return text.size() >= prefix.size() && iequals(text.substr(0, prefix.size()), prefix);
}

std::string printable(std::string_view text, std::size_t limit) {
  std::string out;
  const auto shown = std::min(text.size(), limit);
  out.reserve(shown);
  for (std::size_t i = 0; i < shown; ++i) {
    const auto u = static_cast<unsigned char>(text[i]);
    if (u < 0x20 || u >= 0x7F || u == '\\')
      out += fmt::format("\\x{:02x}", u);
    else
      out.push_back(static_cast<char>(u));
  }
  if (shown < text.size()) out += fmt::format("...({} bytes)", text.size());
  return out;
}

}  // namespace cf

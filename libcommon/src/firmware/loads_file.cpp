#include "cf/firmware/loads_file.hpp"

#include <algorithm>
#include <unordered_set>

#include "cf/firmware/signed_file.hpp"

namespace cf::firmware {
namespace {

bool is_token_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.' || c == '-';
}

}  // namespace

bool is_component_name(std::string_view token) {
  if (token.empty() || token.size() > 255) return false;
  if (!std::all_of(token.begin(), token.end(), is_token_char)) return false;
  static constexpr std::string_view kSuffixes[] = {".sbn", ".SBN", ".loads", ".bin",
                                                   ".sb2", ".zz.sgn", ".sgn"};
  for (const auto suffix : kSuffixes)
    if (token.size() > suffix.size() && token.ends_with(suffix)) return true;
  return false;
}

bool is_recovery_loads_name(std::string_view name) {
  if (!name.starts_with("term") || !name.ends_with(".default.loads")) return false;
  const auto middle = name.substr(4, name.size() - 4 - std::string_view(".default.loads").size());
  return !middle.empty() && std::all_of(middle.begin(), middle.end(),
                                        [](char c) { return c >= '0' && c <= '9'; });
}

Result<std::vector<std::string>> parse_loads_file(std::span<const std::byte> file) {
  const auto header = signature_header_length(file);
  const auto payload = file.subspan(header ? *header : 0);
  const std::string_view text(reinterpret_cast<const char*>(payload.data()), payload.size());
  std::vector<std::string> names;
  std::unordered_set<std::string_view> seen;  // views into `file`: O(1) duplicate checks
  std::size_t i = 0;
  while (i < text.size()) {
    if (!is_token_char(text[i])) {
      ++i;
      continue;
    }
    std::size_t j = i;
    while (j < text.size() && is_token_char(text[j])) ++j;
    const auto token = text.substr(i, j - i);
    if (is_component_name(token) && seen.insert(token).second) names.emplace_back(token);
    i = j;
  }
  if (names.empty())
    return Result<std::vector<std::string>>::failure(
        header ? "the .loads payload names no component file"
               : "no signature header and no component file name in the .loads file");
  return names;
}

}  // namespace cf::firmware

// Archive member names and folder entry names arrive from downloaded files: any
// bytes. Whatever member_base_name accepts must be a name that can land in a
// root as it is: one component, no control character, accepted by name_problem.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "cf/firmware/archive.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto problem = cf::firmware::name_problem(text);
  if (problem && problem->empty()) __builtin_trap();
  const auto base = cf::firmware::member_base_name(text);
  if (!base.ok()) return 0;
  const std::string_view name = *base;
  if (name.empty() || name == "." || name == ".." || name.find_first_of("/\\") != std::string_view::npos)
    __builtin_trap();
  for (const char c : name)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) __builtin_trap();
  if (cf::firmware::name_problem(name)) __builtin_trap();
  if (text.find(name) == std::string_view::npos) __builtin_trap();  // a part of the member, never invented
  return 0;
}

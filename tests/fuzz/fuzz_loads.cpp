// libFuzzer harness: the .loads parser (cf/firmware/loads_file.hpp) on arbitrary bytes.
#include <cstddef>
#include <cstdint>
#include <span>

#include "cf/firmware/loads_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data), size);
  const auto names = cf::firmware::parse_loads_file(bytes);
  if (names)
    for (const auto& name : names.value())
      if (!cf::firmware::is_component_name(name)) __builtin_trap();  // only valid names come out
  return 0;
}

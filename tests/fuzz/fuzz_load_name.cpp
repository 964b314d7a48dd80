// Load names arrive from archives, TFTP requests and configs: any bytes.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "cf/firmware/load_name.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const auto catalog = cf::firmware::ModelCatalog::load_default();
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto load = cf::firmware::parse_load_name(text, catalog);
  if (load.ok() && load->name.empty()) __builtin_trap();
  (void)cf::firmware::parse_version(text);
  return 0;
}

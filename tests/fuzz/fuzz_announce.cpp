// CDP and LLDP frames arrive from anything on the phone segment: any bytes.
// Parse with the real catalog (model and load lookups run too), then feed
// what parses to a small table, which must stay within its capacity.
#include <cstddef>
#include <cstdint>
#include <span>

#include "cf/dhcp/announce.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const auto catalog = cf::firmware::ModelCatalog::load_default();
  static cf::dhcp::AnnounceTable table(16, 30);
  static std::int64_t now = 0;
  const auto frame = std::span(reinterpret_cast<const std::byte*>(data), size);
  const auto parsed = cf::dhcp::parse_announcement(frame, &catalog);
  if (!parsed) {
    if (parsed.error().empty()) __builtin_trap();  // every refusal says why
    return 0;
  }
  if (parsed->load.size() > cf::dhcp::announce_text_limit + 3 ||
      parsed->platform.size() > cf::dhcp::announce_text_limit)
    __builtin_trap();
  (void)table.observe(*parsed, ++now);
  if (table.size() > 16) __builtin_trap();
  return 0;
}

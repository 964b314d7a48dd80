// DHCP packets arrive from anyone on the segment: any bytes. Parse, and when
// the parse succeeds, serialise and parse again (the round trip must hold),
// then feed the packet to the policy.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>

#include "cf/dhcp/message.hpp"
#include "cf/dhcp/policy.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto bytes = std::span(reinterpret_cast<const std::byte*>(data), size);
  const auto message = cf::dhcp::parse_message(bytes);
  if (!message) return 0;
  const auto wire = cf::dhcp::serialize(*message);
  const auto again = cf::dhcp::parse_message(wire);
  if (!again) __builtin_trap();
  // The same options come back (serialize moves 53 to the front, so compare
  // them sorted by code); sname/file that held options come back empty.
  auto sorted = [](const cf::dhcp::Options& options) {
    auto entries = options.entries();
    std::sort(entries.begin(), entries.end());
    return entries;
  };
  if (sorted(again->options) != sorted(message->options) || again->xid != message->xid)
    __builtin_trap();

  static const cf::dhcp::Config config = [] {
    cf::dhcp::Config c;
    c.server_id = *cf::net::Ipv4::parse("10.0.0.1");
    c.pools.push_back(*cf::dhcp::parse_pool("10.0.0.100-10.0.0.110/24", std::nullopt));
    c.pools.push_back(*cf::dhcp::parse_pool("10.9.0.10-10.9.0.20/24", std::nullopt));
    c.lease_time = 60;
    return c;
  }();
  // Time moves one second per input, so offers and quarantines expire and the
  // state stays bounded (leases are bounded by the 22 pool addresses).
  static cf::dhcp::State state;
  static cf::dhcp::UnixTime now = 1'700'000'000;
  cf::dhcp::expire(state, ++now);
  cf::dhcp::Incoming in;
  in.message = *message;
  in.interface_address = config.server_id;
  const auto outcome = cf::dhcp::handle(state, config, in, now);
  if (outcome.reply) (void)cf::dhcp::serialize(*outcome.reply);
  return 0;
}

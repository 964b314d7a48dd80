#pragma once
// The DHCP server's I/O around the pure policy: one UDP socket on port 67
// bound to the interface (SO_BINDTODEVICE, IP_PKTINFO), a packet socket for
// replies to clients without an address, the lease store with grouped
// fsyncs (a batch of received requests is answered only after one fdatasync
// made all its leases durable), and the --events log.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>

#include "cf/cli/diagnostics.hpp"
#include "cf/dhcp/announce.hpp"
#include "cf/dhcp/config.hpp"
#include "cf/dhcp/link.hpp"
#include "cf/dhcp/policy.hpp"

namespace cf::dhcp {

struct ServerOptions {
  std::uint16_t server_port = 67;
  std::uint16_t client_port = 68;
  std::filesystem::path leases;   // the lease file; FILE.journal beside it
  std::filesystem::path events;   // JSON Lines; empty for none
  std::size_t batch = 64;         // requests answered per fdatasync at most
  bool quiet = false;             // no per-event line on stderr
  bool announce = true;           // listen for CDP / LLDP-MED phone announcements
  std::size_t announce_capacity = 4096;  // phones remembered (per protocol) at most
  std::int64_t announce_max_age = 3600;  // seconds a silent phone is remembered
};

// One JSON object a line, appended and flushed per line (DESIGN contract):
// ts, event, client, mac, ip, vendor-class, model, hostname, and reason for
// nak/ignore. `model` comes from the catalog via option 60.
std::string event_json(const Event& event, const net::SocketAddress& client,
                       const std::string& model, std::int64_t unix_millis);

// The phone-announce event: ts, event, mac, model, load, load-valid, ip,
// protocol (cdp|lldp), iface, platform. Unknown values are "".
std::string announce_json(const Announcement& announcement, const std::string& iface,
                          std::int64_t unix_millis);

// Runs until SIGINT or SIGTERM; returns the exit code. Throws cf::Error on setup.
int serve(const Config& config, const ServerOptions& options, const InterfaceInfo& interface,
          const cli::Diagnostics& diagnostics);

}  // namespace cf::dhcp

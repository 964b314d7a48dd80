#pragma once
// DHCP-specific link-layer I/O: the interface a server is bound to, replies
// sent straight to a client's MAC before it has an address (RFC 2131 4.1:
// "unicast to the client's hardware address and yiaddr"; the kernel could not
// ARP for it), and the probe for another DHCP server on the segment.
#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "cf/dhcp/message.hpp"
#include "cf/net/fd.hpp"
#include "cf/net/ipv4.hpp"
#include "cf/net/udp.hpp"

namespace cf::dhcp {

struct InterfaceInfo {
  std::string name;
  int index = 0;
  net::Ipv4 address;  // the first IPv4 address on it
  std::optional<net::Ipv4Network> network;
};

// Throws cf::Error if there is no such interface or it has no IPv4 address.
InterfaceInfo interface_info(const std::string& name);

// An IPv4 header (no options, TTL 64, DF clear) and UDP header with both
// checksums, then `payload`: what a packet socket sends for the kernel.
Bytes build_ipv4_udp(const net::SocketAddress& from, const net::SocketAddress& to,
                     std::span<const std::byte> payload);

// Sends IPv4 frames to a given MAC on one interface (AF_PACKET, SOCK_DGRAM:
// the kernel adds the Ethernet header with our source MAC). Needs CAP_NET_RAW.
class LinkSender {
 public:
  // Throws cf::Error when the socket cannot be made (no CAP_NET_RAW).
  explicit LinkSender(int interface_index);
  // False (with errno text in `error`) when the frame could not be sent.
  bool send(const MacAddress& to, std::span<const std::byte> ip_packet, std::string& error) const;

 private:
  net::UniqueFd fd_;
  int interface_index_;
};

// Another server that answered the probe.
struct ProbeAnswer {
  net::Ipv4 server_id;         // option 54
  net::SocketAddress from;     // where the OFFER came from
  net::Ipv4 offered;           // yiaddr
  std::string vendor;          // option 60 of the OFFER (dnsmasq etc. seldom set it)
};

// Broadcasts a DISCOVER from a random locally administered MAC out of
// `interface`, with `vendor_class` as option 60 (a phone's, so a server that
// serves only phones answers too), and collects OFFERs for `wait`; the
// DISCOVER is repeated every second, as a client would. Throws cf::Error if
// the client port cannot be bound.
std::vector<ProbeAnswer> probe_for_servers(const InterfaceInfo& interface,
                                           std::chrono::milliseconds wait,
                                           std::uint16_t client_port, std::uint16_t server_port,
                                           const std::string& vendor_class);

}  // namespace cf::dhcp

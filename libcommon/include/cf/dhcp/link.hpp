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

// Receives the CDP and LLDP frames phones announce themselves with, on one
// interface: one AF_PACKET socket bound to 802.2 LLC frames (CDP is 802.3 +
// SNAP, which the kernel hands to ETH_P_802_2) and one to ethertype 0x88cc,
// each joined to its protocol's multicast MAC so the interface passes the
// frames up without promiscuous mode. Needs CAP_NET_RAW.
class AnnounceReceiver {
 public:
  // Throws cf::Error when a socket cannot be made or bound.
  explicit AnnounceReceiver(int interface_index);
  int cdp_fd() const noexcept { return cdp_.get(); }
  int lldp_fd() const noexcept { return lldp_.get(); }
  // One whole frame (Ethernet header first) from `fd` into `buffer`: its
  // size; 0 for a frame to skip (sent by this host, or longer than the
  // buffer); nullopt when none is waiting.
  static std::optional<std::size_t> receive(int fd, std::span<std::byte> buffer);

 private:
  net::UniqueFd cdp_;
  net::UniqueFd lldp_;
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

#pragma once
// UDP over IPv4 for the TFTP and DHCP servers: a socket address value type,
// opening a bound non-blocking socket, the socket options the servers need,
// and send/receive that report EAGAIN as "would block" rather than an error.
// Setup (open, options) throws cf::Error; send and receive never throw,
// because a daemon must survive one peer's ICMP error or a full buffer.
#include <netinet/in.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "cf/net/fd.hpp"
#include "cf/net/ipv4.hpp"

namespace cf::net {

// An IPv4 address and UDP port: a TFTP client, a DHCP peer, a listen address.
struct SocketAddress {
  Ipv4 address;
  std::uint16_t port = 0;

  // "ADDR" or "ADDR:PORT", ADDR a strict dotted quad, PORT 0..65535 in
  // decimal without leading zeros; `default_port` when no port is given.
  static std::optional<SocketAddress> parse(std::string_view text,
                                            std::uint16_t default_port) noexcept;
  static SocketAddress from_sockaddr(const sockaddr_in& native) noexcept;
  sockaddr_in to_sockaddr() const noexcept;
  std::string to_string() const;  // "1.2.3.4:69"

  friend auto operator<=>(const SocketAddress&, const SocketAddress&) noexcept = default;
};

std::ostream& operator<<(std::ostream& out, const SocketAddress& address);

// Options applied before bind(), since SO_REUSEADDR and SO_BINDTODEVICE only
// matter if set before the socket is bound.
struct UdpOptions {
  bool reuse_address = false;
  bool broadcast = false;       // SO_BROADCAST: DHCP replies to 255.255.255.255
  bool packet_info = false;     // IP_PKTINFO: see receive_with_info
  // SO_BINDTODEVICE interface name; empty for none. The {} lets designated
  // initializers leave it out under -Wmissing-field-initializers (GCC 12).
  std::string device{};
  int send_buffer = 0;          // SO_SNDBUF bytes; 0 keeps the kernel default
  int receive_buffer = 0;       // SO_RCVBUF bytes; 0 keeps the kernel default
};

// A non-blocking, close-on-exec UDP socket bound to `local` (port 0 picks an
// ephemeral port). Throws cf::Error naming the address and errno text.
UniqueFd open_udp(const SocketAddress& local, const UdpOptions& options = {});

// Each throws cf::Error naming the option and errno text.
void set_reuse_address(int fd, bool on);
void set_broadcast(int fd, bool on);
void set_packet_info(int fd, bool on);
void bind_to_device(int fd, std::string_view interface_name);
void set_send_buffer(int fd, int bytes);
// Beyond net.core.rmem_max only with CAP_NET_ADMIN (SO_RCVBUFFORCE).
void set_receive_buffer(int fd, int bytes);
// The receive buffer the kernel granted, in the units set_receive_buffer takes
// (Linux reports twice the value, the rest being its bookkeeping).
int receive_buffer(int fd);

SocketAddress local_address(int fd);  // getsockname; throws cf::Error
// connect(2): the socket then takes datagrams from `peer` only and sends to it
// without naming it; throws cf::Error.
void connect_to(int fd, const SocketAddress& peer);
std::uint16_t bound_port(int fd);

enum class IoStatus { ok, would_block, failed };

struct SendResult {
  IoStatus status = IoStatus::ok;
  std::size_t size = 0;  // bytes sent when ok
  int error = 0;         // errno when failed
  std::string error_text() const;
};

struct Received {
  IoStatus status = IoStatus::ok;
  std::size_t size = 0;    // bytes stored in the buffer when ok
  bool truncated = false;  // the datagram was longer than the buffer (MSG_TRUNC)
  int error = 0;           // errno when failed
  SocketAddress peer;
  // Only from receive_with_info on a socket with IP_PKTINFO (ip(7)): the
  // address the datagram was sent to (a DHCP server bound to 0.0.0.0 must tell
  // broadcast from unicast, RFC 2131 4.1), this host's address on the arrival
  // interface (a candidate server identifier, RFC 2131 4.3.1), and that
  // interface's index.
  std::optional<Ipv4> destination;
  std::optional<Ipv4> local;
  int interface_index = 0;
  std::string error_text() const;
};

SendResult send_to(int fd, const SocketAddress& to, std::span<const std::byte> data) noexcept;
Received receive_from(int fd, std::span<std::byte> buffer) noexcept;
Received receive_with_info(int fd, std::span<std::byte> buffer) noexcept;

}  // namespace cf::net

template <>
struct std::hash<cf::net::SocketAddress> {
  std::size_t operator()(const cf::net::SocketAddress& a) const noexcept {
    return std::hash<std::uint64_t>{}(std::uint64_t{a.address.to_uint()} << 16 | a.port);
  }
};

#pragma once
// The socket of a new transfer: a new transfer ID (RFC 1350 section 4), on
// the address the request came to (or --listen's), from --port-range when set,
// connected to the client. Connected, the kernel keeps the route and the IP
// ID counter per socket instead of looking both up for every block, and
// datagrams from any other source never reach the transfer (they get ICMP
// port unreachable, as with tftpd-hpa, instead of an ERROR 5 from us).
#include <cstdint>
#include <optional>
#include <string>

#include "cf/net/udp.hpp"

namespace cf::tftp {

class TransferSockets {
 public:
  // `port_low` 0: ephemeral ports.
  TransferSockets(net::SocketAddress listen, std::string device, std::uint16_t port_low,
                  std::uint16_t port_high)
      : listen_(listen), device_(std::move(device)), port_low_(port_low), port_high_(port_high) {}

  // Empty when no port could be bound (range taken, or out of descriptors).
  // Throws cf::Error, with the kernel's reason, when the socket cannot be
  // connected to `client` (no route to it, a broadcast address).
  net::UniqueFd open(std::optional<net::Ipv4> local, const net::SocketAddress& client);

 private:
  net::UniqueFd bind_one(std::optional<net::Ipv4> local);

  net::SocketAddress listen_;
  std::string device_;
  std::uint16_t port_low_, port_high_;
  std::uint32_t next_offset_ = 0;  // ranges are taken round-robin
};

// Whether the process is out of file descriptors (EMFILE/ENFILE), as opposed
// to, say, every port of --port-range being taken; `any_fd` is duplicated.
bool out_of_descriptors(int any_fd);

}  // namespace cf::tftp

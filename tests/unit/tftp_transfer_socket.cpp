// TransferSockets: a new transfer's own port, connected to its client; a port
// range taken round-robin; a client the kernel will not connect to is an error
// with its reason, not a missing port.
#include <netinet/in.h>
#include <sys/socket.h>

#include <optional>
#include <set>
#include <string>

#include <doctest/doctest.h>

#include "cf/cli/error.hpp"
#include "cf/net/udp.hpp"
#include "cf/tftp/transfer_socket.hpp"

using namespace cf;

namespace {

const net::SocketAddress kListen{net::Ipv4::loopback(), 0};

net::SocketAddress peer_of(int fd) {
  sockaddr_in peer{};
  socklen_t length = sizeof peer;
  REQUIRE(::getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &length) == 0);
  return net::SocketAddress::from_sockaddr(peer);
}

std::uint16_t free_port() {
  const auto probe = net::open_udp({net::Ipv4::loopback(), 0});
  return net::bound_port(probe.get());
}

}  // namespace

TEST_CASE("a transfer socket is bound to the request's address and connected to the client") {
  const auto client = net::open_udp({net::Ipv4::loopback(), 0});
  const net::SocketAddress client_address = net::local_address(client.get());
  tftp::TransferSockets sockets(kListen, "", 0, 0);
  const auto fd = sockets.open(net::Ipv4::loopback(), client_address);
  REQUIRE(fd);
  CHECK(net::local_address(fd.get()).address == net::Ipv4::loopback());
  CHECK(net::local_address(fd.get()).port != 0);
  CHECK(peer_of(fd.get()) == client_address);
}

TEST_CASE("a port range is taken round-robin and, once full, gives no socket") {
  const std::uint16_t low = free_port();
  // Two neighbouring ports may not both be free; skip rather than fail then.
  if (low == 65535) return;
  const auto high = static_cast<std::uint16_t>(low + 1);
  std::optional<net::UniqueFd> blocker;
  try {
    blocker.emplace(net::open_udp({net::Ipv4::loopback(), high}));
  } catch (const Error&) {
    MESSAGE("port ", high, " is taken: nothing to test");
    return;
  }
  blocker.reset();
  const auto client = net::open_udp({net::Ipv4::loopback(), 0});
  const auto client_address = net::local_address(client.get());
  tftp::TransferSockets sockets(kListen, "", low, high);
  const auto first = sockets.open(std::nullopt, client_address);
  const auto second = sockets.open(std::nullopt, client_address);
  REQUIRE(first);
  REQUIRE(second);
  CHECK(std::set{net::bound_port(first.get()), net::bound_port(second.get())} ==
        std::set{low, high});
  CHECK_FALSE(sockets.open(std::nullopt, client_address));
}

TEST_CASE("a client the kernel will not connect to is an error naming the reason") {
  tftp::TransferSockets sockets(kListen, "", 0, 0);
  // A broadcast address without SO_BROADCAST: connect(2) fails with EACCES.
  const net::SocketAddress broadcast{net::Ipv4::from_uint(0xFFFFFFFFu), 1069};
  CHECK_THROWS_WITH_AS(sockets.open(net::Ipv4::loopback(), broadcast),
                       doctest::Contains("cannot connect a socket to 255.255.255.255:1069"), Error);
}

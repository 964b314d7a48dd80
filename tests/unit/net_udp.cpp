// Loopback sockets only: 127.0.0.1 with ephemeral ports.
#include <fcntl.h>
#include <net/if.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <string>

#include <doctest/doctest.h>

#include "cf/cli/error.hpp"
#include "cf/net/fd.hpp"
#include "cf/net/udp.hpp"

using namespace cf::net;

namespace {

bool is_open(int fd) { return ::fcntl(fd, F_GETFD) != -1; }

int int_option(int fd, int level, int name) {
  int value = 0;
  socklen_t length = sizeof value;
  REQUIRE(::getsockopt(fd, level, name, &value, &length) == 0);
  return value;
}

std::span<const std::byte> as_bytes(std::string_view text) {
  return std::as_bytes(std::span(text.data(), text.size()));
}

std::string as_string(std::span<const std::byte> bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

const SocketAddress loopback_any_port{Ipv4::loopback(), 0};

}  // namespace

TEST_CASE("UniqueFd closes on destruction and not after release") {
  int raw = -1;
  {
    UniqueFd fd(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    REQUIRE(fd);
    raw = fd.get();
    CHECK(is_open(raw));
  }
  CHECK_FALSE(is_open(raw));
  CHECK(errno == EBADF);

  UniqueFd kept(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  const int released = kept.release();
  CHECK_FALSE(kept);
  CHECK(kept.get() == -1);
  CHECK(is_open(released));
  ::close(released);
}

TEST_CASE("UniqueFd moves ownership and reset closes the old descriptor") {
  UniqueFd a(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  const int first = a.get();
  UniqueFd b(std::move(a));
  CHECK_FALSE(a);  // NOLINT(bugprone-use-after-move): moved-from is empty by contract
  CHECK(b.get() == first);
  UniqueFd c;
  c = std::move(b);
  CHECK(c.get() == first);
  c.reset(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  CHECK_FALSE(is_open(first));
  const int second = c.get();
  c.reset();
  CHECK_FALSE(c);
  CHECK_FALSE(is_open(second));
}

TEST_CASE("two loopback sockets exchange a datagram") {
  const auto server = open_udp(loopback_any_port);
  const auto client = open_udp(loopback_any_port);
  const auto server_address = local_address(server.get());
  CHECK(server_address.address == Ipv4::loopback());
  CHECK(bound_port(server.get()) != 0);
  CHECK((::fcntl(server.get(), F_GETFL) & O_NONBLOCK) != 0);
  CHECK((::fcntl(server.get(), F_GETFD) & FD_CLOEXEC) != 0);

  std::array<std::byte, 64> buffer{};
  CHECK(receive_from(server.get(), buffer).status == IoStatus::would_block);

  const auto sent = send_to(client.get(), server_address, as_bytes("RRQ"));
  CHECK(sent.status == IoStatus::ok);
  CHECK(sent.size == 3);
  const auto received = receive_from(server.get(), buffer);
  REQUIRE(received.status == IoStatus::ok);
  CHECK(as_string(std::span(buffer).first(received.size)) == "RRQ");
  CHECK_FALSE(received.truncated);
  CHECK(received.peer == local_address(client.get()));
  CHECK_FALSE(received.destination);
}

TEST_CASE("a datagram longer than the buffer is reported truncated") {
  const auto server = open_udp(loopback_any_port);
  const auto client = open_udp(loopback_any_port);
  send_to(client.get(), local_address(server.get()), as_bytes("0123456789"));
  std::array<std::byte, 4> small{};
  const auto received = receive_from(server.get(), small);
  REQUIRE(received.status == IoStatus::ok);
  CHECK(received.size == 4);
  CHECK(received.truncated);
}

TEST_CASE("IP_PKTINFO reports the destination address and interface") {
  const auto server = open_udp({Ipv4::any(), 0}, UdpOptions{.packet_info = true});
  const auto client = open_udp(loopback_any_port);
  const SocketAddress to{Ipv4::loopback(), bound_port(server.get())};
  REQUIRE(send_to(client.get(), to, as_bytes("DISCOVER")).status == IoStatus::ok);
  std::array<std::byte, 64> buffer{};
  const auto received = receive_with_info(server.get(), buffer);
  REQUIRE(received.status == IoStatus::ok);
  CHECK(received.size == 8);
  REQUIRE(received.destination);
  CHECK(*received.destination == Ipv4::loopback());
  CHECK(received.local == Ipv4::loopback());
  CHECK(received.interface_index == static_cast<int>(::if_nametoindex("lo")));
}

TEST_CASE("socket options are applied") {
  const auto fd = open_udp(loopback_any_port, UdpOptions{.reuse_address = true,
                                                         .broadcast = true,
                                                         .send_buffer = 65536,
                                                         .receive_buffer = 65536});
  CHECK(int_option(fd.get(), SOL_SOCKET, SO_REUSEADDR) == 1);
  CHECK(int_option(fd.get(), SOL_SOCKET, SO_BROADCAST) == 1);
  CHECK(int_option(fd.get(), SOL_SOCKET, SO_SNDBUF) >= 65536);  // Linux doubles it
  CHECK(int_option(fd.get(), SOL_SOCKET, SO_RCVBUF) >= 65536);
  set_broadcast(fd.get(), false);
  CHECK(int_option(fd.get(), SOL_SOCKET, SO_BROADCAST) == 0);
  set_packet_info(fd.get(), true);
  CHECK(int_option(fd.get(), IPPROTO_IP, IP_PKTINFO) == 1);
}

TEST_CASE("a receive buffer beyond net.core.rmem_max needs CAP_NET_ADMIN") {
  std::ifstream limit_file("/proc/sys/net/core/rmem_max");
  long rmem_max = 0;
  limit_file >> rmem_max;
  REQUIRE(rmem_max > 0);
  const int asked = static_cast<int>(std::min<long>(rmem_max, 1 << 28) + (1 << 20));
  const auto fd = open_udp(loopback_any_port, UdpOptions{.receive_buffer = asked});
  // Root here holds CAP_NET_ADMIN (ctest runs as root in CI): SO_RCVBUFFORCE.
  if (::geteuid() == 0)
    CHECK(receive_buffer(fd.get()) == asked);
  else
    CHECK(receive_buffer(fd.get()) == rmem_max);
}

TEST_CASE("setup failures throw cf::Error naming the address") {
  const auto taken = open_udp(loopback_any_port);
  const auto address = local_address(taken.get());
  CHECK_THROWS_WITH_AS(open_udp(address),
                       doctest::Contains(("cannot bind UDP socket to " + address.to_string())
                                             .c_str()),
                       cf::Error);
  // 192.0.2.0/24 is TEST-NET-1 (RFC 5737): never assigned to this host.
  CHECK_THROWS_WITH_AS(open_udp({Ipv4::from_octets(192, 0, 2, 1), 0}),
                       doctest::Contains("192.0.2.1:0"), cf::Error);
  CHECK_THROWS_AS(bind_to_device(taken.get(), "no-such-if0"), cf::Error);
  CHECK_THROWS_AS(bind_to_device(taken.get(), ""), cf::Error);
  CHECK_THROWS_AS(local_address(-1), cf::Error);
}

TEST_CASE("send and receive on a bad descriptor fail without throwing") {
  std::array<std::byte, 4> buffer{};
  const auto received = receive_from(-1, buffer);
  CHECK(received.status == IoStatus::failed);
  CHECK(received.error == EBADF);
  CHECK_FALSE(received.error_text().empty());
  const auto sent = send_to(-1, {Ipv4::loopback(), 9}, buffer);
  CHECK(sent.status == IoStatus::failed);
  CHECK(sent.error == EBADF);
}

#include "cf/net/udp.hpp"

#include <arpa/inet.h>
#include <net/if.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <cerrno>
#include <cstring>
#include <ostream>
#include <system_error>

#include <fmt/format.h>

#include "cf/cli/error.hpp"

namespace cf::net {
namespace {

std::string errno_text(int error) { return std::system_category().message(error); }

// What an admin can do about the usual bind failures.
std::string_view bind_hint(int error, const SocketAddress& local) {
  if (error == EACCES && local.port != 0 && local.port < 1024)
    return " (ports below 1024 need root or CAP_NET_BIND_SERVICE)";
  if (error == EADDRINUSE)
    return " (another server is listening there; stop it or pick another port)";
  if (error == EADDRNOTAVAIL) return " (no interface on this host has that address)";
  return "";
}

void set_option(int fd, int level, int name, int value, std::string_view what) {
  if (::setsockopt(fd, level, name, &value, sizeof value) != 0)
    throw Error(fmt::format("cannot set {} on socket: {}", what, errno_text(errno)));
}

void apply_options(int fd, const UdpOptions& options) {
  if (options.reuse_address) set_reuse_address(fd, true);
  if (options.broadcast) set_broadcast(fd, true);
  if (options.packet_info) set_packet_info(fd, true);
  if (!options.device.empty()) bind_to_device(fd, options.device);
  if (options.send_buffer > 0) set_send_buffer(fd, options.send_buffer);
  if (options.receive_buffer > 0) set_receive_buffer(fd, options.receive_buffer);
}

std::optional<std::uint16_t> parse_port(std::string_view text) noexcept {
  if (text.empty() || text.size() > 5 || (text.size() > 1 && text.front() == '0'))
    return std::nullopt;
  unsigned value = 0;
  for (const char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  if (value > 65535) return std::nullopt;
  return static_cast<std::uint16_t>(value);
}

IoStatus status_of(int error) noexcept {
  return error == EAGAIN || error == EWOULDBLOCK ? IoStatus::would_block : IoStatus::failed;
}

Received failed_receive(int error) noexcept {
  Received received;
  received.status = status_of(error);
  received.error = received.status == IoStatus::failed ? error : 0;
  return received;
}

void read_packet_info(msghdr& message, Received& received) noexcept {
  for (auto* cmsg = CMSG_FIRSTHDR(&message); cmsg != nullptr;
       cmsg = CMSG_NXTHDR(&message, cmsg)) {
    if (cmsg->cmsg_level != IPPROTO_IP || cmsg->cmsg_type != IP_PKTINFO) continue;
    in_pktinfo info;
    std::memcpy(&info, CMSG_DATA(cmsg), sizeof info);
    received.destination = Ipv4::from_uint(ntohl(info.ipi_addr.s_addr));
    received.local = Ipv4::from_uint(ntohl(info.ipi_spec_dst.s_addr));
    received.interface_index = info.ipi_ifindex;
  }
}

Received receive_message(int fd, std::span<std::byte> buffer, bool with_info) noexcept {
  sockaddr_in peer{};
  iovec iov{buffer.data(), buffer.size()};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(in_pktinfo))];
  msghdr message{};
  message.msg_name = &peer;
  message.msg_namelen = sizeof peer;
  message.msg_iov = &iov;
  message.msg_iovlen = 1;
  if (with_info) {
    message.msg_control = control;
    message.msg_controllen = sizeof control;
  }
  ssize_t n;
  do n = ::recvmsg(fd, &message, 0);
  while (n < 0 && errno == EINTR);
  if (n < 0) return failed_receive(errno);
  Received received;
  received.size = static_cast<std::size_t>(n);
  received.truncated = (message.msg_flags & MSG_TRUNC) != 0;
  received.peer = SocketAddress::from_sockaddr(peer);
  if (with_info) read_packet_info(message, received);
  return received;
}

}  // namespace

std::optional<SocketAddress> SocketAddress::parse(std::string_view text,
                                                  std::uint16_t default_port) noexcept {
  const auto colon = text.find(':');
  const auto address = Ipv4::parse(text.substr(0, colon));
  if (!address) return std::nullopt;
  if (colon == std::string_view::npos) return SocketAddress{*address, default_port};
  const auto port = parse_port(text.substr(colon + 1));
  if (!port) return std::nullopt;
  return SocketAddress{*address, *port};
}

SocketAddress SocketAddress::from_sockaddr(const sockaddr_in& native) noexcept {
  return {Ipv4::from_uint(ntohl(native.sin_addr.s_addr)), ntohs(native.sin_port)};
}

sockaddr_in SocketAddress::to_sockaddr() const noexcept {
  sockaddr_in native{};
  native.sin_family = AF_INET;
  native.sin_port = htons(port);
  native.sin_addr.s_addr = htonl(address.to_uint());
  return native;
}

std::string SocketAddress::to_string() const {
  return fmt::format("{}:{}", address.to_string(), port);
}

std::ostream& operator<<(std::ostream& out, const SocketAddress& address) {
  return out << address.to_string();
}

UniqueFd open_udp(const SocketAddress& local, const UdpOptions& options) {
  UniqueFd fd(::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) throw Error(fmt::format("cannot create a UDP socket: {}", errno_text(errno)));
  apply_options(fd.get(), options);
  const sockaddr_in native = local.to_sockaddr();
  if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&native), sizeof native) != 0) {
    const int error = errno;
    throw Error(fmt::format("cannot bind UDP socket to {}: {}{}", local.to_string(),
                            errno_text(error), bind_hint(error, local)));
  }
  return fd;
}

void set_reuse_address(int fd, bool on) {
  set_option(fd, SOL_SOCKET, SO_REUSEADDR, on, "SO_REUSEADDR");
}

void set_broadcast(int fd, bool on) {
  set_option(fd, SOL_SOCKET, SO_BROADCAST, on, "SO_BROADCAST");
}

void set_packet_info(int fd, bool on) {
  set_option(fd, IPPROTO_IP, IP_PKTINFO, on, "IP_PKTINFO");
}

// Linux doubles the value for its bookkeeping and caps it at net.core.wmem_max
// (rmem_max for receive) unless the process has CAP_NET_ADMIN (socket(7)).
void set_send_buffer(int fd, int bytes) {
  set_option(fd, SOL_SOCKET, SO_SNDBUF, bytes, "SO_SNDBUF");
}

// SO_RCVBUFFORCE first: a process holding CAP_NET_ADMIN gets the size it asks
// for; any other gets SO_RCVBUF, capped at net.core.rmem_max.
void set_receive_buffer(int fd, int bytes) {
  if (::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof bytes) == 0) return;
  set_option(fd, SOL_SOCKET, SO_RCVBUF, bytes, "SO_RCVBUF");
}

int receive_buffer(int fd) {
  int bytes = 0;
  socklen_t length = sizeof bytes;
  if (::getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, &length) != 0)
    throw Error(fmt::format("cannot read SO_RCVBUF of a socket: {}", errno_text(errno)));
  return bytes / 2;
}

void connect_to(int fd, const SocketAddress& peer) {
  const sockaddr_in native = peer.to_sockaddr();
  int rc;
  do rc = ::connect(fd, reinterpret_cast<const sockaddr*>(&native), sizeof native);
  while (rc != 0 && errno == EINTR);
  if (rc != 0) throw Error(fmt::format("cannot connect a socket to {}: {}", peer.to_string(), errno_text(errno)));
}

void bind_to_device(int fd, std::string_view interface_name) {
  if (interface_name.empty() || interface_name.size() >= IFNAMSIZ)
    throw Error(fmt::format("invalid interface name '{}'", interface_name));
  const std::string name(interface_name);
  if (::setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, name.c_str(),
                   static_cast<socklen_t>(name.size() + 1)) != 0) {
    const int error = errno;
    throw Error(fmt::format("cannot bind socket to interface {}: {}{}", name, errno_text(error),
                            error == EPERM ? " (needs root or CAP_NET_RAW)" : ""));
  }
}

SocketAddress local_address(int fd) {
  sockaddr_in native{};
  socklen_t length = sizeof native;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&native), &length) != 0)
    throw Error(fmt::format("cannot read the socket's local address: {}", errno_text(errno)));
  if (native.sin_family != AF_INET) throw Error("socket is not an IPv4 socket");
  return SocketAddress::from_sockaddr(native);
}

std::uint16_t bound_port(int fd) { return local_address(fd).port; }

std::string SendResult::error_text() const { return errno_text(error); }
std::string Received::error_text() const { return errno_text(error); }

SendResult send_to(int fd, const SocketAddress& to, std::span<const std::byte> data) noexcept {
  const sockaddr_in native = to.to_sockaddr();
  ssize_t n;
  do n = ::sendto(fd, data.data(), data.size(), MSG_NOSIGNAL,
                  reinterpret_cast<const sockaddr*>(&native), sizeof native);
  while (n < 0 && errno == EINTR);
  if (n >= 0) return {IoStatus::ok, static_cast<std::size_t>(n), 0};
  const int error = errno;
  const IoStatus status = status_of(error);
  return {status, 0, status == IoStatus::failed ? error : 0};
}

Received receive_from(int fd, std::span<std::byte> buffer) noexcept {
  return receive_message(fd, buffer, false);
}

Received receive_with_info(int fd, std::span<std::byte> buffer) noexcept {
  return receive_message(fd, buffer, true);
}

}  // namespace cf::net

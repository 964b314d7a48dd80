#include "cf/tftp/transfer_socket.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "cf/cli/error.hpp"

namespace cf::tftp {

net::UniqueFd TransferSockets::open(std::optional<net::Ipv4> local, const net::SocketAddress& client) {
  auto fd = bind_one(local);
  if (fd) net::connect_to(fd.get(), client);
  return fd;
}

net::UniqueFd TransferSockets::bind_one(std::optional<net::Ipv4> local) {
  net::UdpOptions options;
  options.device = device_;
  const auto address =
      listen_.address.is_unspecified() ? local.value_or(net::Ipv4::any()) : listen_.address;
  if (port_low_ == 0) {
    try {
      return net::open_udp({address, 0}, options);
    } catch (const Error&) {
      return {};
    }
  }
  const std::uint32_t span = std::uint32_t{port_high_} - port_low_ + 1;
  for (std::uint32_t i = 0; i < span; ++i) {
    const auto port = static_cast<std::uint16_t>(port_low_ + (next_offset_ + i) % span);
    try {
      auto fd = net::open_udp({address, port}, options);
      next_offset_ = (next_offset_ + i + 1) % span;
      return fd;
    } catch (const Error&) {
      // in use: try the next port of the range
    }
  }
  return {};
}

bool out_of_descriptors(int any_fd) {
  const int probe = ::fcntl(any_fd, F_DUPFD_CLOEXEC, 0);
  if (probe >= 0) {
    ::close(probe);
    return false;
  }
  return errno == EMFILE || errno == ENFILE;
}

}  // namespace cf::tftp

// The epoll transfer backend: the event loop watches each transfer socket.
#include <sys/socket.h>

#include <cerrno>
#include <unordered_map>
#include <vector>

#include "cf/cli/error.hpp"
#include "cf/tftp/transfer_io.hpp"

namespace cf::tftp {

std::string_view to_string(IoBackend backend) noexcept {
  return backend == IoBackend::uring ? "io_uring" : "epoll";
}

namespace {

class EpollIo final : public TransferIo {
 public:
  EpollIo(net::EventLoop& loop, OnDatagram on_datagram)
      : loop_(loop), on_datagram_(std::move(on_datagram)), buffer_(65536 + 4) {}

  IoBackend kind() const noexcept override { return IoBackend::epoll; }

  void add(std::uint64_t transfer, int fd) override {
    loop_.watch(fd, EPOLLIN, [this, transfer, fd](std::uint32_t) { readable(transfer, fd); });
  }

  void remove(std::uint64_t, int fd) noexcept override { loop_.unwatch(fd); }

  void send(int fd, std::span<const std::byte> head, std::span<const std::byte> body) noexcept override {
    iovec parts[2] = {{const_cast<std::byte*>(head.data()), head.size()},
                      {const_cast<std::byte*>(body.data()), body.size()}};
    msghdr message{};
    message.msg_iov = parts;
    message.msg_iovlen = body.empty() ? 1 : 2;
    while (::sendmsg(fd, &message, MSG_DONTWAIT) < 0 && errno == EINTR) {
    }
  }

  void flush() noexcept override {}

 private:
  // One datagram per readiness: the socket is level-triggered, so anything
  // left is reported by the next epoll_wait together with the other
  // transfers, which saves an EAGAIN recvfrom per ACK in lock-step.
  void readable(std::uint64_t transfer, int fd) {
    const auto got = net::receive_from(fd, buffer_);
    if (got.status != net::IoStatus::ok || got.truncated) return;
    on_datagram_(transfer, got.peer, std::span(buffer_).first(got.size));
  }

  net::EventLoop& loop_;
  OnDatagram on_datagram_;
  std::vector<std::byte> buffer_;
};

}  // namespace

std::unique_ptr<TransferIo> make_epoll_io(net::EventLoop& loop, TransferIo::OnDatagram on_datagram) {
  return std::make_unique<EpollIo>(loop, std::move(on_datagram));
}

std::unique_ptr<TransferIo> make_transfer_io(IoChoice choice, net::EventLoop& loop,
                                             TransferIo::OnDatagram on_datagram,
                                             std::size_t max_datagram, std::string& description) {
  if (choice == IoChoice::epoll) {
    description = "epoll";
    return make_epoll_io(loop, std::move(on_datagram));
  }
  std::string why_not;
  if (auto io = make_uring_io(loop, on_datagram, max_datagram, why_not)) {
    description = "io_uring";
    return io;
  }
  if (choice == IoChoice::uring) throw Error("--io uring: io_uring is unavailable: " + why_not);
  description = "epoll (io_uring unavailable: " + why_not + ")";
  return make_epoll_io(loop, std::move(on_datagram));
}

}  // namespace cf::tftp

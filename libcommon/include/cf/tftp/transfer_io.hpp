#pragma once
// How the server reads and writes its transfer sockets, apart from what the
// datagrams mean (server.cpp and the state machines decide that):
// - epoll: each socket watched by the event loop, one recvfrom per datagram
//   and one sendmsg per packet;
// - io_uring: one multishot receive per socket into a shared ring of
//   buffers, sends queued and submitted together, so one io_uring_enter
//   carries the packets of every transfer that became ready (Linux 6.0+).
// Datagrams are handed to one callback with the transfer's id. Transfer
// sockets are connected to their client, so a send names no address. Sends
// queued by a backend go out at flush() at the latest; a transfer is removed
// before its socket is closed.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "cf/net/event_loop.hpp"
#include "cf/net/udp.hpp"

namespace cf::tftp {

enum class IoBackend { epoll, uring };
enum class IoChoice { automatic, epoll, uring };

std::string_view to_string(IoBackend backend) noexcept;

class TransferIo {
 public:
  using OnDatagram = std::function<void(std::uint64_t transfer, const net::SocketAddress& from,
                                        std::span<const std::byte> datagram)>;
  virtual ~TransferIo() = default;
  virtual IoBackend kind() const noexcept = 0;
  virtual void add(std::uint64_t transfer, int fd) = 0;
  virtual void remove(std::uint64_t transfer, int fd) noexcept = 0;
  // One datagram: `head` then `body` (a TFTP header and a block of the file).
  // Never throws; a packet that cannot be sent is left to the retransmission
  // timers, as a lost one would be.
  virtual void send(int fd, std::span<const std::byte> head,
                    std::span<const std::byte> body = {}) noexcept = 0;
  virtual void flush() noexcept = 0;
};

std::unique_ptr<TransferIo> make_epoll_io(net::EventLoop& loop, TransferIo::OnDatagram on_datagram);

// Null, with the reason in `why_not`, when io_uring cannot be used here (old
// kernel, seccomp, sysctl kernel.io_uring_disabled).
// `max_datagram`: the largest datagram a transfer socket must take whole.
std::unique_ptr<TransferIo> make_uring_io(net::EventLoop& loop, TransferIo::OnDatagram on_datagram,
                                          std::size_t max_datagram, std::string& why_not);

// The backend `choice` names; `automatic` tries io_uring, then epoll. Throws
// cf::Error when `uring` is asked for and cannot be had. `description` gets
// what was chosen and, for a fallback, why ("epoll (io_uring: ...)").
std::unique_ptr<TransferIo> make_transfer_io(IoChoice choice, net::EventLoop& loop,
                                             TransferIo::OnDatagram on_datagram,
                                             std::size_t max_datagram, std::string& description);

}  // namespace cf::tftp

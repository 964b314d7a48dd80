// The io_uring transfer backend (liburing): a multishot recvmsg per transfer
// socket, fed from one ring of provided buffers, and send requests queued
// in the submission queue until flush(); the ring's fd is watched by the event
// loop, which wakes it when completions are waiting.
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/utsname.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <unordered_map>
#include <vector>

#include "cf/tftp/transfer_io.hpp"

#include <liburing.h>

namespace cf::tftp {


namespace {

constexpr std::uint64_t kSendTag = 1;  // user_data: id << 1 | tag
constexpr unsigned kQueueDepth = 2048;
constexpr int kBufferGroup = 0;

// Multishot recvmsg (IORING_RECV_MULTISHOT) arrived in Linux 6.0.
bool kernel_at_least_6_0(std::string& why_not) {
  utsname name{};
  if (::uname(&name) != 0) return true;
  int major = 0, minor = 0;
  if (std::sscanf(name.release, "%d.%d", &major, &minor) == 2 && major < 6) {
    why_not = std::string("kernel ") + name.release + " is older than 6.0 (multishot receive)";
    return false;
  }
  return true;
}

class UringIo final : public TransferIo {
 public:
  UringIo(net::EventLoop& loop, OnDatagram on_datagram) : loop_(loop), on_datagram_(std::move(on_datagram)) {}

  ~UringIo() override {
    if (!ready_) return;
    loop_.unwatch(ring_.ring_fd);
    if (buffers_ring_) io_uring_unregister_buf_ring(&ring_, kBufferGroup);
    io_uring_queue_exit(&ring_);
    if (buffers_ring_) ::munmap(buffers_ring_, ring_bytes_);
  }

  bool start(std::size_t max_datagram, std::string& why_not) {
    // Cooperative task running: a datagram arriving for a waiting receive
    // must not interrupt the busy server with an IPI; its completion is
    // made on the server's next entry into the kernel, which comes soon as
    // every pass of the loop submits (Linux 5.19).
    io_uring_params params{};
    params.flags = IORING_SETUP_COOP_TASKRUN;
    int rc = io_uring_queue_init_params(kQueueDepth, &ring_, &params);
    if (rc == -EINVAL) {
      params = {};
      rc = io_uring_queue_init_params(kQueueDepth, &ring_, &params);
    }
    if (rc < 0) {
      why_not = std::string("io_uring_setup: ") + std::strerror(-rc);
      return false;
    }
    ready_ = true;
    // Room for the recvmsg header, the peer address and a whole datagram.
    buffer_size_ = (sizeof(io_uring_recvmsg_out) + sizeof(sockaddr_in) + max_datagram + 63) / 64 * 64;
    buffer_count_ = buffer_size_ > 4096 ? 256 : 1024;
    ring_bytes_ = buffer_count_ * sizeof(io_uring_buf);
    void* mapped = ::mmap(nullptr, ring_bytes_, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
    if (mapped == MAP_FAILED) {
      why_not = std::string("mmap: ") + std::strerror(errno);
      return false;
    }
    buffers_ring_ = static_cast<io_uring_buf_ring*>(mapped);
    io_uring_buf_ring_init(buffers_ring_);
    io_uring_buf_reg reg{};
    reg.ring_addr = reinterpret_cast<std::uint64_t>(buffers_ring_);
    reg.ring_entries = static_cast<unsigned>(buffer_count_);
    reg.bgid = kBufferGroup;
    if (const int rc = io_uring_register_buf_ring(&ring_, &reg, 0); rc < 0) {
      ::munmap(buffers_ring_, ring_bytes_);
      buffers_ring_ = nullptr;
      why_not = std::string("provided buffer ring: ") + std::strerror(-rc);
      return false;
    }
    buffers_.resize(buffer_size_ * buffer_count_);
    for (std::size_t i = 0; i < buffer_count_; ++i) give_back(static_cast<unsigned short>(i));
    receive_template_.msg_namelen = sizeof(sockaddr_in);
    loop_.watch(ring_.ring_fd, EPOLLIN, [this](std::uint32_t) { complete(); });
    return true;
  }

  IoBackend kind() const noexcept override { return IoBackend::uring; }

  void add(std::uint64_t transfer, int fd) override {
    armed_[transfer] = fd;
    arm(transfer, fd);
  }

  void remove(std::uint64_t transfer, int) noexcept override {
    if (armed_.erase(transfer) == 0) return;
    if (auto* sqe = next_sqe()) {
      io_uring_prep_cancel64(sqe, transfer << 1, 0);
      io_uring_sqe_set_data64(sqe, kCancelData);
    }
    // Queued sends name the fd, not the socket: submit them before the caller
    // closes it, or a socket opened next could take its number.
    flush();
  }

  void send(int fd, std::span<const std::byte> head, std::span<const std::byte> body) noexcept override {
    auto* sqe = next_sqe();
    if (!sqe) return;
    std::size_t index = 0;
    if (free_slots_.empty()) {
      index = slots_.size();
      slots_.push_back(std::make_unique<SendSlot>());
    } else {
      index = free_slots_.back();
      free_slots_.pop_back();
    }
    auto& slot = *slots_[index];
    // Copied: the request outlives this call, and the file bytes may not.
    slot.bytes.resize(head.size() + body.size());
    std::memcpy(slot.bytes.data(), head.data(), head.size());
    if (!body.empty()) std::memcpy(slot.bytes.data() + head.size(), body.data(), body.size());
    // A plain send on the connected socket: no message header to copy in.
    io_uring_prep_send(sqe, fd, slot.bytes.data(), slot.bytes.size(), MSG_DONTWAIT);
    io_uring_sqe_set_data64(sqe, index << 1 | kSendTag);
  }

  void flush() noexcept override {
    if (io_uring_sq_ready(&ring_) == 0) return;
    while (io_uring_submit(&ring_) == -EINTR) {
    }
  }

 private:
  static constexpr std::uint64_t kCancelData = ~std::uint64_t{0};

  struct SendSlot {
    std::vector<std::byte> bytes;
  };

  io_uring_sqe* next_sqe() noexcept {
    auto* sqe = io_uring_get_sqe(&ring_);
    if (sqe) return sqe;
    flush();  // the submission queue is full: send what is queued
    return io_uring_get_sqe(&ring_);
  }

  void arm(std::uint64_t transfer, int fd) {
    auto* sqe = next_sqe();
    if (!sqe) return;
    io_uring_prep_recvmsg_multishot(sqe, fd, &receive_template_, 0);
    sqe->flags |= IOSQE_BUFFER_SELECT;
    sqe->buf_group = kBufferGroup;
    io_uring_sqe_set_data64(sqe, transfer << 1);
  }

  void give_back(unsigned short id) {
    io_uring_buf_ring_add(buffers_ring_, buffers_.data() + std::size_t{id} * buffer_size_,
                          static_cast<unsigned>(buffer_size_), id,
                          io_uring_buf_ring_mask(static_cast<unsigned>(buffer_count_)), 0);
    io_uring_buf_ring_advance(buffers_ring_, 1);
  }

  // Completions, in the order the kernel posted them; a callback may add,
  // remove or send, and its sends go out together at the end. Only those
  // posted before the call: a send that fills the submission queue submits,
  // which posts more, and under a full load of windowed transfers the loop
  // would never return to the listening socket (new requests dropped once
  // its buffer is full) or to the timers. The ring fd stays readable for
  // the rest. Completions the ring had no room for wait in the kernel's
  // overflow list (and keep the ring fd readable): taken in first, or a
  // pass would count none and never take them.
  void complete() {
    if (IO_URING_READ_ONCE(*ring_.sq.kflags) & IORING_SQ_CQ_OVERFLOW) (void)io_uring_get_events(&ring_);
    io_uring_cqe* cqe = nullptr;
    for (auto budget = io_uring_cq_ready(&ring_); budget > 0 && io_uring_peek_cqe(&ring_, &cqe) == 0; --budget) {
      const auto data = cqe->user_data;
      const int result = cqe->res;
      const auto flags = cqe->flags;
      io_uring_cqe_seen(&ring_, cqe);
      if (data == kCancelData) continue;
      if (data & kSendTag) {
        free_slots_.push_back(static_cast<std::size_t>(data >> 1));
        continue;
      }
      received(data >> 1, result, flags);
    }
    flush();
  }

  void received(std::uint64_t transfer, int result, std::uint32_t flags) {
    if (flags & IORING_CQE_F_BUFFER) {
      const auto id = static_cast<unsigned short>(flags >> IORING_CQE_BUFFER_SHIFT);
      auto* buffer = buffers_.data() + std::size_t{id} * buffer_size_;
      if (result > 0 && armed_.contains(transfer)) deliver(transfer, buffer, result);
      give_back(id);
    }
    // The multishot request ended (no buffer free for a moment, or an error
    // such as an ICMP-reported refusal): the datagrams wait in the socket
    // until it is armed again.
    if (!(flags & IORING_CQE_F_MORE)) {
      if (auto it = armed_.find(transfer); it != armed_.end()) arm(transfer, it->second);
    }
  }

  void deliver(std::uint64_t transfer, std::byte* buffer, int length) {
    auto* out = io_uring_recvmsg_validate(buffer, length, &receive_template_);
    if (!out || (out->flags & MSG_TRUNC) || out->namelen < sizeof(sockaddr_in)) return;
    sockaddr_in peer{};
    std::memcpy(&peer, io_uring_recvmsg_name(out), sizeof peer);
    if (peer.sin_family != AF_INET) return;
    const auto* payload = static_cast<const std::byte*>(io_uring_recvmsg_payload(out, &receive_template_));
    const auto size = io_uring_recvmsg_payload_length(out, length, &receive_template_);
    on_datagram_(transfer, net::SocketAddress::from_sockaddr(peer), std::span(payload, size));
  }

  net::EventLoop& loop_;
  OnDatagram on_datagram_;
  io_uring ring_{};
  bool ready_ = false;
  io_uring_buf_ring* buffers_ring_ = nullptr;
  std::size_t ring_bytes_ = 0;
  std::size_t buffer_size_ = 0, buffer_count_ = 0;
  std::vector<std::byte> buffers_;
  msghdr receive_template_{};
  std::unordered_map<std::uint64_t, int> armed_;
  std::vector<std::unique_ptr<SendSlot>> slots_;
  std::vector<std::size_t> free_slots_;
};

}  // namespace

std::unique_ptr<TransferIo> make_uring_io(net::EventLoop& loop, TransferIo::OnDatagram on_datagram,
                                          std::size_t max_datagram, std::string& why_not) {
  if (!kernel_at_least_6_0(why_not)) return nullptr;
  auto io = std::make_unique<UringIo>(loop, std::move(on_datagram));
  if (!io->start(max_datagram, why_not)) return nullptr;
  return io;
}

}  // namespace cf::tftp

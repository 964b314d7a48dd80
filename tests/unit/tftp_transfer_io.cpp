// Both transfer I/O backends (epoll and io_uring) against the same checks, on
// loopback sockets; the io_uring cases pass with a message where the kernel
// or a sandbox refuses io_uring (the epoll path still runs).
#include <sys/ioctl.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "cf/net/event_loop.hpp"
#include "cf/net/udp.hpp"
#include "cf/tftp/transfer_io.hpp"

using namespace cf;
using namespace std::chrono_literals;

namespace {

constexpr std::size_t kMaxDatagram = 1432;

struct Delivered {
  std::uint64_t transfer;
  std::vector<std::byte> bytes;
};

std::unique_ptr<tftp::TransferIo> make_io(tftp::IoBackend backend, net::EventLoop& loop,
                                          tftp::TransferIo::OnDatagram on_datagram) {
  if (backend == tftp::IoBackend::epoll) return tftp::make_epoll_io(loop, std::move(on_datagram));
  std::string why_not;
  auto io = tftp::make_uring_io(loop, std::move(on_datagram), kMaxDatagram, why_not);
  if (!io) MESSAGE("io_uring not available here, case skipped: " << why_not);
  return io;
}

// Two sockets connected to each other.
struct Pair {
  net::UniqueFd a = net::open_udp({net::Ipv4::loopback(), 0});
  net::UniqueFd b = net::open_udp({net::Ipv4::loopback(), 0});
  Pair() {
    net::connect_to(a.get(), {net::Ipv4::loopback(), net::bound_port(b.get())});
    net::connect_to(b.get(), {net::Ipv4::loopback(), net::bound_port(a.get())});
  }
};

std::span<const std::byte> bytes_of(const std::string& text) {
  return std::as_bytes(std::span(text.data(), text.size()));
}

// Runs the loop until `done` or a bound on passes (the datagrams are on
// loopback: they are there at once, the bound only ends a broken case).
template <typename Done>
void run_until(net::EventLoop& loop, Done done) {
  for (int pass = 0; pass < 200 && !done(); ++pass) loop.run_once(10ms);
}

}  // namespace

TEST_CASE("a transfer socket's datagram reaches the callback with its id; a send reaches the client") {
  for (const auto backend : {tftp::IoBackend::epoll, tftp::IoBackend::uring}) {
    CAPTURE(tftp::to_string(backend));
    net::SteadyClock clock;
    net::EventLoop loop(clock);
    std::vector<Delivered> got;
    auto io = make_io(backend, loop, [&](std::uint64_t transfer, const net::SocketAddress&,
                                         std::span<const std::byte> datagram) {
      got.push_back({transfer, {datagram.begin(), datagram.end()}});
    });
    if (!io) continue;
    CHECK(io->kind() == backend);
    Pair pair;  // a: the server's transfer socket, b: the client
    io->add(42, pair.a.get());
    io->flush();  // io_uring: the receive request is queued until then
    REQUIRE(net::send_to(pair.b.get(), {net::Ipv4::loopback(), net::bound_port(pair.a.get())},
                         bytes_of("ACK1")).status == net::IoStatus::ok);
    run_until(loop, [&] { return !got.empty(); });
    REQUIRE(got.size() == 1);
    CHECK(got[0].transfer == 42);
    CHECK(std::string(reinterpret_cast<const char*>(got[0].bytes.data()), got[0].bytes.size()) == "ACK1");

    const std::string head = "HEAD", body(1428, 'x');
    io->send(pair.a.get(), bytes_of(head), bytes_of(body));
    io->flush();
    std::vector<std::byte> buffer(65536);
    net::Received answer;
    answer.status = net::IoStatus::would_block;
    for (int i = 0; i < 200 && answer.status != net::IoStatus::ok; ++i) {
      loop.run_once(10ms);
      answer = net::receive_from(pair.b.get(), buffer);
    }
    REQUIRE(answer.status == net::IoStatus::ok);
    CHECK(answer.size == head.size() + body.size());
    CHECK(std::string(reinterpret_cast<const char*>(buffer.data()), 4) == "HEAD");
    io->remove(42, pair.a.get());
  }
}

// A pass of the loop handles what was ready when it began, not what its own
// sends make ready meanwhile: under a full load of windowed transfers the
// io_uring backend otherwise never returned to the listening socket (new
// requests dropped once its buffer was full) or to the timers. One datagram
// makes transfer 1 send transfer 0 more packets than the submission queue
// holds (the backend submits in the middle of the pass) and more completions
// than the completion queue holds (the kernel keeps the rest in its overflow
// list); every one of them must still come through in later passes.
TEST_CASE("one pass of the loop handles what was ready before it, and later passes the rest") {
  for (const auto backend : {tftp::IoBackend::epoll, tftp::IoBackend::uring}) {
    CAPTURE(tftp::to_string(backend));
    net::SteadyClock clock;
    net::EventLoop loop(clock);
    Pair pair;
    net::set_receive_buffer(pair.a.get(), 1 << 20);
    const std::array<int, 2> fds{pair.a.get(), pair.b.get()};
    std::array<std::size_t, 2> calls{};
    tftp::TransferIo* io_ptr = nullptr;
    const std::string packet = "DATA";
    constexpr int kBurst = 9000;
    auto io = make_io(backend, loop, [&](std::uint64_t transfer, const net::SocketAddress&,
                                         std::span<const std::byte>) {
      if (++calls[transfer] == 1 && transfer == 1)
        for (int i = 0; i < kBurst; ++i) io_ptr->send(fds[1], bytes_of(packet));
    });
    if (!io) continue;
    io_ptr = io.get();
    io->add(0, fds[0]);
    io->add(1, fds[1]);
    io->send(fds[0], bytes_of(packet));  // to transfer 1, which answers with the burst
    io->flush();
    run_until(loop, [&] { return calls[1] > 0; });
    REQUIRE(calls[1] == 1);
    CHECK(calls[0] == 0);  // the burst's datagrams came after the pass began
    std::size_t quiet_passes = 0;
    for (int pass = 0; pass < 20000 && quiet_passes < 20; ++pass)
      quiet_passes = loop.run_once(1ms) == 0 && calls[0] > 0 ? quiet_passes + 1 : 0;
    // A datagram dropped by a full socket buffer is the kernel's choice; one
    // never handed on while it waits in the ring or its overflow is ours.
    const int queued = [&] {
      int bytes = 0;
      (void)::ioctl(fds[0], FIONREAD, &bytes);
      return bytes;
    }();
    CHECK(queued == 0);
    CHECK(calls[0] > 0);
    const auto before = calls[0];
    io->send(fds[1], bytes_of(packet));
    io->flush();
    run_until(loop, [&] { return calls[0] > before; });
    CHECK(calls[0] == before + 1);
    io->remove(0, fds[0]);
    io->remove(1, fds[1]);
  }
}

#include <sys/epoll.h>

#include <array>
#include <chrono>
#include <csignal>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "cf/cli/error.hpp"
#include "cf/net/event_loop.hpp"
#include "cf/net/udp.hpp"

using namespace cf::net;
using namespace std::chrono_literals;

namespace {

std::span<const std::byte> as_bytes(std::string_view text) {
  return std::as_bytes(std::span(text.data(), text.size()));
}

const SocketAddress loopback_any_port{Ipv4::loopback(), 0};

}  // namespace

TEST_CASE("timers fire in deadline order, FIFO among equal deadlines") {
  ManualClock clock;
  EventLoop loop(clock);
  const auto t0 = clock.now();
  std::string order;
  loop.add_timer(t0 + 30ms, [&] { order += 'c'; });
  loop.add_timer(t0 + 10ms, [&] { order += 'a'; });
  loop.add_timer(t0 + 20ms, [&] { order += 'b'; });
  loop.add_timer(t0 + 20ms, [&] { order += 'B'; });
  CHECK(loop.next_deadline() == t0 + 10ms);
  CHECK(loop.fire_due_timers() == 0);
  clock.advance(20ms);
  CHECK(loop.fire_due_timers() == 3);
  CHECK(order == "abB");
  clock.advance(9ms);
  CHECK(loop.fire_due_timers() == 0);
  clock.advance(1ms);
  CHECK(loop.fire_due_timers() == 1);
  CHECK(order == "abBc");
  CHECK_FALSE(loop.next_deadline());
}

TEST_CASE("cancelled timers do not fire, even when cancelled by a due timer") {
  ManualClock clock;
  EventLoop loop(clock);
  std::string fired;
  const auto cancelled = loop.add_timer_after(5ms, [&] { fired += 'x'; });
  CHECK(loop.cancel_timer(cancelled));
  CHECK_FALSE(loop.cancel_timer(cancelled));
  TimerId victim{};
  loop.add_timer_after(10ms, [&] { fired += 'a'; CHECK(loop.cancel_timer(victim)); });
  victim = loop.add_timer_after(10ms, [&] { fired += 'v'; });
  const auto done = loop.add_timer_after(10ms, [&] { fired += 'd'; });
  CHECK(loop.pending_timers() == 3);
  clock.advance(10ms);
  CHECK(loop.fire_due_timers() == 2);
  CHECK(fired == "ad");
  CHECK_FALSE(loop.cancel_timer(done));
  CHECK(loop.pending_timers() == 0);
}

TEST_CASE("a timer added during dispatch fires on the next pass, not this one") {
  ManualClock clock;
  EventLoop loop(clock);
  int rearmed = 0;
  std::function<void()> rearm = [&] {
    ++rearmed;
    loop.add_timer(clock.now(), rearm);  // already due: must not spin
  };
  loop.add_timer(clock.now(), rearm);
  bool later = false;
  loop.add_timer(clock.now() + 1s, [&] { later = true; });
  CHECK(loop.fire_due_timers() == 1);
  CHECK(rearmed == 1);
  CHECK(loop.fire_due_timers() == 1);
  CHECK(rearmed == 2);
  CHECK(loop.run_once(0ms) == 1);  // the pending due timer makes the wait zero
  CHECK(rearmed == 3);
  CHECK_FALSE(later);
}

TEST_CASE("run_once dispatches a readable socket") {
  SteadyClock clock;
  EventLoop loop(clock);
  const auto server = open_udp(loopback_any_port);
  const auto client = open_udp(loopback_any_port);
  std::vector<std::uint32_t> seen;
  std::array<std::byte, 16> buffer{};
  std::size_t size = 0;
  loop.watch(server.get(), EPOLLIN, [&](std::uint32_t events) {
    seen.push_back(events);
    size = receive_from(server.get(), buffer).size;
  });
  CHECK(loop.watching(server.get()));
  CHECK(loop.run_once(0ms) == 0);
  send_to(client.get(), local_address(server.get()), as_bytes("ACK"));
  CHECK(loop.run_once(5s) == 1);
  REQUIRE(seen.size() == 1);
  CHECK((seen[0] & EPOLLIN) != 0);
  CHECK(size == 3);
  loop.unwatch(server.get());
  CHECK_FALSE(loop.watching(server.get()));
  send_to(client.get(), local_address(server.get()), as_bytes("ACK"));
  CHECK(loop.run_once(20ms) == 0);
}

TEST_CASE("callbacks may unwatch themselves and fds not yet dispatched") {
  SteadyClock clock;
  EventLoop loop(clock);
  const auto a = open_udp(loopback_any_port);
  const auto b = open_udp(loopback_any_port);
  const auto sender = open_udp(loopback_any_port);
  int calls = 0;
  const auto unwatch_both = [&](std::uint32_t) {
    ++calls;
    loop.unwatch(a.get());
    loop.unwatch(b.get());
  };
  loop.watch(a.get(), EPOLLIN, unwatch_both);
  loop.watch(b.get(), EPOLLIN, unwatch_both);
  send_to(sender.get(), local_address(a.get()), as_bytes("1"));
  send_to(sender.get(), local_address(b.get()), as_bytes("2"));
  // Wait until both are readable so they arrive in one epoll batch.
  loop.add_timer_after(50ms, [] {});
  while (loop.pending_timers() > 0 && calls == 0) loop.run_once();
  CHECK(calls == 1);
  CHECK_FALSE(loop.watching(a.get()));
  CHECK_FALSE(loop.watching(b.get()));
}

TEST_CASE("an event for a watch replaced during dispatch is not delivered to either callback") {
  SteadyClock clock;
  EventLoop loop(clock);
  const auto a = open_udp(loopback_any_port);
  const auto b = open_udp(loopback_any_port);
  const auto sender = open_udp(loopback_any_port);
  int old_calls = 0;
  int new_calls = 0;
  std::array<std::byte, 4> buffer{};
  const auto replacement = [&](int fd) {
    return [&, fd](std::uint32_t) {
      ++new_calls;
      receive_from(fd, buffer);
    };
  };
  const auto replace_other = [&](int fd, int other) {
    return [&, fd, other](std::uint32_t) {
      ++old_calls;
      receive_from(fd, buffer);
      loop.watch(other, EPOLLIN, replacement(other));
    };
  };
  loop.watch(a.get(), EPOLLIN, replace_other(a.get(), b.get()));
  loop.watch(b.get(), EPOLLIN, replace_other(b.get(), a.get()));
  send_to(sender.get(), local_address(a.get()), as_bytes("1"));
  send_to(sender.get(), local_address(b.get()), as_bytes("2"));
  CHECK(loop.run_once(5s) == 1);  // loopback delivers at once: both in one batch
  CHECK(old_calls == 1);
  CHECK(new_calls == 0);
  CHECK(loop.run_once(5s) == 1);  // level-triggered: the replacement sees it now
  CHECK(old_calls == 1);
  CHECK(new_calls == 1);
}

TEST_CASE("run_once sleeps only until the earliest timer, and run stops on stop()") {
  SteadyClock clock;
  EventLoop loop(clock);
  const auto start = clock.now();
  int ticks = 0;
  std::function<void()> tick = [&] {
    if (++ticks == 3) {
      loop.stop();
      return;
    }
    loop.add_timer_after(10ms, tick);
  };
  loop.add_timer_after(10ms, tick);
  loop.run();
  CHECK(ticks == 3);
  CHECK(clock.now() - start >= 30ms);
  CHECK(clock.now() - start < 5s);
}

TEST_CASE("signals arrive through the signalfd") {
  SteadyClock clock;
  EventLoop loop(clock);
  std::vector<int> received;
  loop.watch_signals({SIGUSR1, SIGUSR2}, [&](int signal) {
    received.push_back(signal);
    loop.stop();
  });
  REQUIRE(::raise(SIGUSR1) == 0);  // blocked now, so it waits in the signalfd
  loop.add_timer_after(5s, [&] { loop.stop(); });
  loop.run();
  REQUIRE(received.size() == 1);
  CHECK(received[0] == SIGUSR1);
  CHECK_THROWS_AS(loop.watch_signals({9999}, [](int) {}), cf::Error);
}

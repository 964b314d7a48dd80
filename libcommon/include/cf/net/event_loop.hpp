#pragma once
// The one place that touches fds and time: an epoll loop with timers and
// signals. Time comes from an injected Clock, so protocol state machines can be
// driven in tests by a ManualClock without sleeping.
#include <sys/epoll.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <optional>
#include <unordered_map>
#include <utility>

#include "cf/net/fd.hpp"

namespace cf::net {

struct Clock {
  using time_point = std::chrono::steady_clock::time_point;
  using duration = std::chrono::steady_clock::duration;
  virtual ~Clock() = default;
  virtual time_point now() const = 0;
};

// The real monotonic clock, immune to wall-clock jumps (NTP, the admin's date).
class SteadyClock final : public Clock {
 public:
  time_point now() const override { return std::chrono::steady_clock::now(); }
};

// A clock that moves only when told to, for tests.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(time_point start = time_point{}) : now_(start) {}
  time_point now() const override { return now_; }
  void set(time_point when) { now_ = when; }
  void advance(duration by) { now_ += by; }

 private:
  time_point now_;
};

enum class TimerId : std::uint64_t {};

class EventLoop {
 public:
  using FdCallback = std::function<void(std::uint32_t events)>;  // events: EPOLLIN, ...
  using TimerCallback = std::function<void()>;
  using SignalCallback = std::function<void(int signal)>;

  explicit EventLoop(const Clock& clock);  // throws cf::Error if epoll_create1 fails
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // Level-triggered unless `events` has EPOLLET. Watching a watched fd
  // replaces its events and callback. The fd stays the caller's; unwatch it
  // before closing it.
  void watch(int fd, std::uint32_t events, FdCallback callback);
  void unwatch(int fd) noexcept;
  bool watching(int fd) const noexcept { return watches_.contains(fd); }

  TimerId add_timer(Clock::time_point when, TimerCallback callback);
  TimerId add_timer_after(Clock::duration delay, TimerCallback callback) {
    return add_timer(clock_->now() + delay, std::move(callback));
  }
  bool cancel_timer(TimerId id) noexcept;  // false if it already fired or was cancelled
  std::optional<Clock::time_point> next_deadline() const noexcept;
  std::size_t pending_timers() const noexcept { return timers_.size(); }

  // Blocks `signals` in the calling thread (pthread_sigmask) and delivers them
  // through a signalfd. Call before starting threads, or they get the signals
  // instead. Signals stay blocked after the loop is destroyed: unblocking would
  // let a pending SIGTERM kill the process with its default action mid-shutdown.
  void watch_signals(std::initializer_list<int> signals, SignalCallback callback);

  // Waits at most `max_wait` (none: until an fd or the earliest timer), then
  // runs the callbacks of ready fds and of due timers. Returns how many ran.
  std::size_t run_once(std::optional<Clock::duration> max_wait = std::nullopt);
  void run();   // run_once until stop()
  void stop() noexcept { stop_requested_ = true; }

  // Fires the timers due at clock.now() in deadline order, FIFO among equal
  // deadlines. A timer added by a callback fires on a later pass even if it is
  // already due, so a callback that re-arms itself at `now` cannot spin here.
  std::size_t fire_due_timers();

  const Clock& clock() const noexcept { return *clock_; }

 private:
  struct Watch {
    std::uint32_t serial;
    std::shared_ptr<FdCallback> callback;  // shared: a callback may unwatch itself
  };
  using TimerKey = std::pair<Clock::time_point, std::uint64_t>;

  int wait_timeout_ms(std::optional<Clock::duration> max_wait) const;
  bool dispatch_fd(std::uint64_t data, std::uint32_t events);
  void read_signals();

  const Clock* clock_;
  UniqueFd epoll_;
  std::unordered_map<int, Watch> watches_;
  std::uint32_t next_serial_ = 0;
  std::map<TimerKey, TimerCallback> timers_;
  std::unordered_map<std::uint64_t, Clock::time_point> timer_deadlines_;
  std::uint64_t next_timer_ = 1;
  UniqueFd signal_fd_;
  std::unordered_map<int, std::shared_ptr<SignalCallback>> signal_callbacks_;
  bool stop_requested_ = false;
};

}  // namespace cf::net

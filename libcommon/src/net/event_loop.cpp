#include "cf/net/event_loop.hpp"

#include <pthread.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <climits>
#include <csignal>
#include <span>
#include <system_error>
#include <vector>

#include <fmt/format.h>

#include "cf/cli/error.hpp"

namespace cf::net {
namespace {

std::string errno_text(int error) { return std::system_category().message(error); }

// The fd in the low half, the watch's serial in the high half: an event for an
// fd that was unwatched and watched again within one batch is then recognised
// as stale.
std::uint64_t event_data(int fd, std::uint32_t serial) noexcept {
  return std::uint64_t{serial} << 32 | static_cast<std::uint32_t>(fd);
}

}  // namespace

EventLoop::EventLoop(const Clock& clock)
    : clock_(&clock), epoll_(::epoll_create1(EPOLL_CLOEXEC)) {
  if (!epoll_) throw Error(fmt::format("cannot create an epoll instance: {}", errno_text(errno)));
}

void EventLoop::watch(int fd, std::uint32_t events, FdCallback callback) {
  const std::uint32_t serial = ++next_serial_;
  epoll_event event{};
  event.events = events;
  event.data.u64 = event_data(fd, serial);
  // ENOENT: the fd was closed (so epoll dropped it) and reused without unwatch.
  const bool known = watches_.contains(fd);
  if ((!known || ::epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, fd, &event) != 0) &&
      ::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &event) != 0)
    throw Error(fmt::format("cannot watch fd {}: {}", fd, errno_text(errno)));
  watches_[fd] = Watch{serial, std::make_shared<FdCallback>(std::move(callback))};
}

void EventLoop::unwatch(int fd) noexcept {
  if (watches_.erase(fd) == 0) return;
  ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd, nullptr);  // fails harmlessly if fd was closed
}

TimerId EventLoop::add_timer(Clock::time_point when, TimerCallback callback) {
  const std::uint64_t id = next_timer_++;
  timers_.emplace(TimerKey{when, id}, std::move(callback));
  timer_deadlines_.emplace(id, when);
  return TimerId{id};
}

bool EventLoop::cancel_timer(TimerId id) noexcept {
  const auto found = timer_deadlines_.find(static_cast<std::uint64_t>(id));
  if (found == timer_deadlines_.end()) return false;
  timers_.erase(TimerKey{found->second, found->first});
  timer_deadlines_.erase(found);
  return true;
}

std::optional<Clock::time_point> EventLoop::next_deadline() const noexcept {
  if (timers_.empty()) return std::nullopt;
  return timers_.begin()->first.first;
}

void EventLoop::watch_signals(std::initializer_list<int> signals, SignalCallback callback) {
  sigset_t mask;
  sigemptyset(&mask);
  for (const auto& [signal, ignored] : signal_callbacks_) sigaddset(&mask, signal);
  for (const int signal : signals)
    if (sigaddset(&mask, signal) != 0) throw Error(fmt::format("invalid signal number {}", signal));
  if (const int error = ::pthread_sigmask(SIG_BLOCK, &mask, nullptr); error != 0)
    throw Error(fmt::format("cannot block signals: {}", errno_text(error)));
  const int fd = ::signalfd(signal_fd_ ? signal_fd_.get() : -1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
  if (fd < 0) throw Error(fmt::format("cannot create a signalfd: {}", errno_text(errno)));
  if (!signal_fd_) {
    signal_fd_.reset(fd);
    watch(fd, EPOLLIN, [this](std::uint32_t) { read_signals(); });
  }
  const auto shared = std::make_shared<SignalCallback>(std::move(callback));
  for (const int signal : signals) signal_callbacks_[signal] = shared;
}

void EventLoop::read_signals() {
  signalfd_siginfo info;
  while (::read(signal_fd_.get(), &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {
    const int signal = static_cast<int>(info.ssi_signo);
    const auto found = signal_callbacks_.find(signal);
    if (found == signal_callbacks_.end()) continue;
    const auto callback = found->second;
    (*callback)(signal);
  }
}

int EventLoop::wait_timeout_ms(std::optional<Clock::duration> max_wait) const {
  auto wait = max_wait;
  if (const auto deadline = next_deadline()) {
    const auto until = *deadline - clock_->now();
    wait = wait ? std::min(*wait, until) : until;
  }
  if (!wait) return -1;
  // Round up: waking a little early would only spin until the deadline.
  const auto ms = std::chrono::ceil<std::chrono::milliseconds>(*wait).count();
  return static_cast<int>(std::clamp<std::int64_t>(ms, 0, INT_MAX));
}

bool EventLoop::dispatch_fd(std::uint64_t data, std::uint32_t events) {
  const auto found = watches_.find(static_cast<int>(data & 0xFFFFFFFFu));
  if (found == watches_.end() || found->second.serial != data >> 32) return false;
  const auto callback = found->second.callback;
  (*callback)(events);
  return true;
}

std::size_t EventLoop::run_once(std::optional<Clock::duration> max_wait) {
  std::array<epoll_event, 64> events;
  int ready = ::epoll_wait(epoll_.get(), events.data(), static_cast<int>(events.size()),
                           wait_timeout_ms(max_wait));
  if (ready < 0) {
    if (errno != EINTR) throw Error(fmt::format("epoll_wait failed: {}", errno_text(errno)));
    ready = 0;
  }
  std::size_t ran = 0;
  for (const auto& event : std::span(events).first(static_cast<std::size_t>(ready)))
    if (dispatch_fd(event.data.u64, event.events)) ++ran;
  return ran + fire_due_timers();
}

void EventLoop::run() {
  while (!stop_requested_) run_once();
  stop_requested_ = false;
}

std::size_t EventLoop::fire_due_timers() {
  const auto now = clock_->now();
  std::vector<TimerKey> due;
  for (const auto& [key, callback] : timers_) {
    if (key.first > now) break;
    due.push_back(key);
  }
  std::size_t fired = 0;
  for (const auto& key : due) {
    const auto found = timers_.find(key);
    if (found == timers_.end()) continue;  // cancelled by an earlier callback
    const auto callback = std::move(found->second);
    timers_.erase(found);
    timer_deadlines_.erase(key.second);
    callback();
    ++fired;
  }
  return fired;
}

}  // namespace cf::net

// cisco-tftpd: a TFTP server for Cisco phone fleets (see cisco-tftpd(8)).
// Parses the command line, builds a cf::tftp::Server on one event loop, wires
// signals, the --events file and the stderr log or the live view.
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cmath>
#include <csignal>
#include <cstdio>
#include <deque>
#include <iostream>
#include <memory>
#include <optional>
#include <charconv>

#include <fmt/format.h>

#include "cf/cli/progress.hpp"
#include "cf/cli/text.hpp"
#include "cf/cli/terminal.hpp"
#include "cf/cli/tool.hpp"
#include "cf/firmware/catalog.hpp"
#include "cf/net/event_loop.hpp"
#include "cf/tftp/event_log.hpp"
#include "cf/tftp/server.hpp"

namespace {

struct Options {
  std::vector<std::string> roots;
  std::string listen = "0.0.0.0:69";
  std::string iface;
  std::string port_range;
  std::uint32_t max_blksize = 1468;
  std::uint32_t max_window = 64;
  std::uint32_t max_window_bytes = 64 * 1024;
  double timeout = 1.0;
  unsigned retries = 6;
  std::size_t max_transfers = 1000;
  std::size_t max_per_client = 16;
  bool case_sensitive = false;
  bool no_tsize = false;
  std::string upload_dir;
  std::uint64_t upload_max = 256ull << 20;
  std::string user;
  std::string events;
  unsigned loop_count = 5;
  double loop_window = 600;
  double grace = 10;
  std::string view = "auto";
  bool verbose = false;
  std::string io = "auto";
  std::uint64_t cache_bytes = 64ull << 20;
};

std::chrono::steady_clock::duration seconds(double value) {
  return std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      std::chrono::duration<double>(value));
}

void drop_privileges(const std::string& user) {
  errno = 0;
  const passwd* entry = ::getpwnam(user.c_str());
  if (!entry) throw cf::UsageError(fmt::format("--user {}: no such user", user));
  if (::getuid() == entry->pw_uid && ::geteuid() == entry->pw_uid) return;
  if (::initgroups(entry->pw_name, entry->pw_gid) != 0 || ::setgid(entry->pw_gid) != 0 ||
      ::setuid(entry->pw_uid) != 0)
    throw cf::Error(fmt::format("--user {}: cannot switch user: {}", user, std::strerror(errno)));
  if (::setuid(0) == 0) throw cf::Error("--user: still able to regain root; refusing to run");
}

// Raises the soft file descriptor limit to the hard one, then lowers
// --max-transfers to what the limit holds, saying so: a transfer refused for
// want of descriptors would look like a network fault (issue 13 item 7).
std::size_t fit_transfers_to_fd_limit(std::size_t wanted, std::size_t roots) {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return wanted;
  if (limit.rlim_cur < limit.rlim_max) {
    rlimit raised = limit;
    raised.rlim_cur = limit.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) limit = raised;
  }
  const auto fit = cf::tftp::transfers_for_fd_limit(limit.rlim_cur, roots);
  if (fit == 0)
    throw cf::Error(fmt::format("the file descriptor limit ({}) leaves no room for a transfer; "
                                "raise it (ulimit -n, LimitNOFILE=)",
                                limit.rlim_cur));
  if (wanted <= fit) return wanted;
  std::fprintf(stderr,
               "cisco-tftpd: --max-transfers lowered from %zu to %zu: the file descriptor limit "
               "is %llu and each transfer holds 2; raise it (ulimit -n, LimitNOFILE=) to serve "
               "more\n",
               wanted, fit, static_cast<unsigned long long>(limit.rlim_cur));
  return fit;
}

// Writes to stderr without ever blocking the event loop on a terminal that
// stopped reading (flow control, a dead SSH session): on a TTY, text that does
// not fit now is dropped. Elsewhere (journal, file) a plain write.
void write_stderr(std::string_view text, bool tty) {
  while (!text.empty()) {
    if (tty) {
      pollfd ready{STDERR_FILENO, POLLOUT, 0};
      if (::poll(&ready, 1, 0) != 1 || !(ready.revents & POLLOUT)) return;
    }
    const auto n = ::write(STDERR_FILENO, text.data(), tty ? std::min<std::size_t>(text.size(), 256)
                                                           : text.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    text.remove_prefix(static_cast<std::size_t>(n));
  }
}

std::string human_bytes(std::uint64_t bytes) {
  if (bytes >= (1u << 20)) return fmt::format("{:.1f} MB", static_cast<double>(bytes) / (1 << 20));
  if (bytes >= 1024) return fmt::format("{:.1f} kB", static_cast<double>(bytes) / 1024);
  return fmt::format("{} B", bytes);
}

// The TTY view: one row per active transfer, then per phone what it fetched,
// then the latest log lines. Redrawn twice a second.
class LiveView {
 public:
  void add_line(std::string line) {
    lines_.push_back(std::move(line));
    while (lines_.size() > 8) lines_.pop_front();
  }
  void draw(const cf::tftp::Server& server, cf::tftp::TimePoint now, bool tty) {
    std::string out = "\x1b[H\x1b[2J";
    const auto active = server.active();
    out += fmt::format("cisco-tftpd  {} active transfers\n", active.size());
    for (const auto& t : active) {
      const double secs = std::chrono::duration<double>(now - t.started).count();
      const double rate = secs > 0 ? static_cast<double>(t.bytes) / secs : 0;
      const auto label = fmt::format("{:<21} {:<12} {:<28.28}", t.client.to_string(),
                                     t.mac.empty() ? "-" : t.mac, cf::printable(t.file, 28));
      out += cf::cli::ProgressBar::render(label, t.bytes, t.upload ? 0 : t.size, 20);
      out += fmt::format("  {}/s\n", human_bytes(static_cast<std::uint64_t>(rate)));
    }
    out += "\nphones:\n";
    int shown = 0;
    for (const auto& [ip, phone] : server.phones().phones()) {
      if (phone.mac.empty() || ++shown > 20) continue;
      std::string files;
      for (const auto& [file, done] : phone.completed)
        files += (files.empty() ? "" : ", ") + cf::printable(file, 40);
      out += fmt::format("  SEP{} {:<15} {}{}\n", phone.mac, ip.to_string(),
                         phone.model.empty() ? "" : phone.model + " ", files.substr(0, 100));
    }
    out += "\n";
    for (const auto& line : lines_) out += line + "\n";
    write_stderr(out, tty);
  }

 private:
  std::deque<std::string> lines_;
};

int run(const Options& o) {
  cf::tftp::ServerConfig config;
  auto listen = cf::net::SocketAddress::parse(o.listen, 69);
  if (!listen)
    throw cf::UsageError(fmt::format("--listen {}: expected ADDR or ADDR:PORT (IPv4)", o.listen));
  config.listen = *listen;
  config.device = o.iface;
  if (!o.port_range.empty()) {
    const auto colon = o.port_range.find(':');
    unsigned lo = 0, hi = 0;
    const auto number = [](std::string_view text, unsigned& out) {
      const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
      return ec == std::errc() && end == text.data() + text.size() && !text.empty();
    };
    if (colon == std::string::npos || !number(std::string_view(o.port_range).substr(0, colon), lo) ||
        !number(std::string_view(o.port_range).substr(colon + 1), hi))
      throw cf::UsageError("--port-range: expected LO:HI, e.g. 50000:50999");
    if (lo == 0 || hi > 65535 || lo > hi)
      throw cf::UsageError("--port-range: need 1 <= LO <= HI <= 65535");
    config.port_low = static_cast<std::uint16_t>(lo);
    config.port_high = static_cast<std::uint16_t>(hi);
  }
  config.files.roots = o.roots;
  config.files.case_sensitive = o.case_sensitive;
  if (o.max_blksize < 8 || o.max_blksize > 65464)
    throw cf::UsageError("--max-blksize must be 8..65464");
  if (o.max_window < 1 || o.max_window > 32768)
    throw cf::UsageError("--max-window must be 1..32768");
  if (!(o.timeout >= 0.01 && o.timeout <= 255)) throw cf::UsageError("--timeout must be 0.01..255");
  config.limits.max_blksize = o.max_blksize;
  config.limits.max_window = o.max_window;
  config.limits.max_window_bytes = o.max_window_bytes;
  config.limits.allow_tsize = !o.no_tsize;
  config.timeout = seconds(o.timeout);
  config.retries = o.retries;
  config.max_transfers = fit_transfers_to_fd_limit(o.max_transfers, o.roots.size());
  config.max_per_client = o.max_per_client;
  config.upload_dir = o.upload_dir;
  config.upload_max = o.upload_max;
  config.phones.loop_count = o.loop_count;
  config.phones.loop_window = seconds(o.loop_window);
  config.io = o.io == "epoll"   ? cf::tftp::IoChoice::epoll
              : o.io == "uring" ? cf::tftp::IoChoice::uring
                                : cf::tftp::IoChoice::automatic;
  config.cache_bytes = static_cast<std::size_t>(o.cache_bytes);

  std::optional<cf::firmware::ModelCatalog> catalog;
  try {
    catalog = cf::firmware::ModelCatalog::load_default();
  } catch (const std::exception&) {
    // Without the catalog, phone events carry no model.
  }

  const auto diagnostics = cf::cli::Diagnostics::for_stderr("cisco-tftpd");
  const bool live = o.view == "live" || (o.view == "auto" && cf::cli::terminal_policy(2).animations());
  auto event_log = o.events.empty() ? std::make_unique<cf::tftp::EventLog>()
                                    : std::make_unique<cf::tftp::EventLog>(o.events);
  auto& events = *event_log;

  cf::net::SteadyClock clock;
  cf::net::EventLoop loop(clock);
  LiveView view;
  bool terminal_gone = false;
  const bool stderr_tty = ::isatty(STDERR_FILENO);
  auto log = [&](bool quiet, const std::string& line) {
    if (terminal_gone || (quiet && !o.verbose)) return;
    if (live)
      view.add_line(line);
    else
      write_stderr("cisco-tftpd: " + line + "\n", stderr_tty);
  };
  auto sink = [&](const nlohmann::json& event) {
    if (!events.write(event)) diagnostics.warning("cannot write to the event log " + events.path());
  };
  cf::tftp::Server server(config, loop, sink, log, catalog ? &*catalog : nullptr);
  if (!o.user.empty()) drop_privileges(o.user);

  const auto bound = server.listen_address();
  events.write({{"ts", cf::tftp::utc_timestamp_now()},
                {"event", "server-start"},
                {"listen", bound.to_string()},
                {"roots", o.roots},
                {"io", std::string(cf::tftp::to_string(server.io_backend()))},
                {"cache_bytes", o.cache_bytes}});
  log(false, fmt::format("listening on {} serving {} (io {}, cache {})", bound.to_string(),
                         fmt::join(o.roots, ", "), server.io_description(), human_bytes(o.cache_bytes)));
  if (const int granted = server.listen_receive_buffer(); granted < cf::tftp::Server::kListenReceiveBuffer)
    diagnostics.note(fmt::format(
        "the listening socket holds {} of requests (net.core.rmem_max); phones booting at once "
        "overflow it and wait for their retry: sysctl -w net.core.rmem_max={} lets it take {}",
        human_bytes(static_cast<std::uint64_t>(granted)), cf::tftp::Server::kListenReceiveBuffer,
        human_bytes(cf::tftp::Server::kListenReceiveBuffer)));

  // SIGHUP: started on a terminal, it means the terminal went away (an SSH
  // session dropped): stop as for SIGTERM and write nothing more to it.
  // Otherwise (systemd, nohup, a pipe) it is the reload signal and reopens the
  // event log. SIGUSR1 reopens the event log in both cases.
  const bool on_terminal = ::isatty(STDIN_FILENO) || ::isatty(STDERR_FILENO);
  bool stopping = false;
  loop.watch_signals({SIGTERM, SIGINT, SIGHUP, SIGUSR1}, [&](int signal) {
    if (signal == SIGUSR1 || (signal == SIGHUP && !on_terminal)) {
      if (!events.reopen()) diagnostics.warning("cannot reopen the event log " + events.path());
      log(false, fmt::format("{}: event log reopened", signal == SIGHUP ? "SIGHUP" : "SIGUSR1"));
      return;
    }
    if (signal == SIGHUP) terminal_gone = true;
    if (stopping) {  // a second signal: stop now
      loop.stop();
      return;
    }
    stopping = true;
    log(false, fmt::format("stopping: {} transfers get up to {} s to finish", server.active_count(), o.grace));
    // Whatever blocks the loop (a stalled terminal), the process ends: the
    // default action of SIGALRM, shortly after the grace period.
    ::alarm(static_cast<unsigned>(std::ceil(o.grace)) + 2);
    server.shut_down(seconds(o.grace), [&] { loop.stop(); });
  });
  std::function<void()> redraw;
  if (live) {
    redraw = [&] {
      if (terminal_gone) return;
      view.draw(server, clock.now(), stderr_tty);
      loop.add_timer_after(std::chrono::milliseconds(500), redraw);
    };
    redraw();
  }
  loop.run();
  events.write({{"ts", cf::tftp::utc_timestamp_now()}, {"event", "server-stop"}});
  if (live) std::fputs("\n", stderr);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  auto app = cf::cli::make_app(
      "cisco-tftpd",
      "TFTP server for Cisco IP phone fleets (RFC 1350, 2347, 2348, 2349, 7440). Serves files "
      "from one or more --root directories, never anything outside them; each transfer gets its "
      "own port. Writes JSON Lines events (--events) with phone tracking: phone-config, "
      "load-complete, loop-suspected.");
  app->add_option("--root,-r", o.roots,
                  "Directory to serve; repeat to search several in order. A request's leading / "
                  "or \\ is relative to the root, \\ is a separator")
      ->required();
  app->add_option("--listen,-l", o.listen, "IPv4 ADDR[:PORT] to listen on (default 0.0.0.0:69)");
  app->add_option("--iface,-i", o.iface, "Serve only this interface (SO_BINDTODEVICE; needs root)");
  app->add_option("--port-range", o.port_range,
                  "LO:HI: local ports for transfers (one per transfer), for firewalls");
  app->add_option("--max-blksize", o.max_blksize,
                  "Largest blksize granted (default 1468: no IP fragments on Ethernet)");
  app->add_option("--max-window", o.max_window, "Largest windowsize granted (default 64)");
  app->add_option("--max-window-bytes", o.max_window_bytes,
                  "Largest windowsize x blksize granted (default 65536): bigger bursts overflow "
                  "receivers' socket buffers");
  app->add_option("--timeout,-t", o.timeout,
                  "Seconds before the first retransmission (default 1; fractions allowed); it "
                  "doubles per retry up to 8x. A client's timeout option overrides it");
  app->add_option("--retries", o.retries, "Retransmissions before a transfer is given up (default 6)");
  app->add_option("--max-transfers", o.max_transfers, "Concurrent transfers in total (default 1000)");
  app->add_option("--max-per-client", o.max_per_client,
                  "Concurrent transfers per client IP (default 16)");
  app->add_flag("--case-sensitive", o.case_sensitive,
                "Do not fall back to a case-insensitive match of file names");
  app->add_flag("--no-tsize", o.no_tsize, "Do not acknowledge the tsize option");
  app->add_option("--upload-dir", o.upload_dir,
                  "Accept write requests into this directory (never overwriting); without it every "
                  "WRQ gets access violation");
  app->add_option("--upload-max", o.upload_max, "Largest upload in bytes (default 268435456)");
  app->add_option("--user,-u", o.user, "Switch to this user after binding the sockets");
  app->add_option("--events,-e", o.events,
                  "Append JSON Lines events to FILE (reopened on SIGUSR1, and on SIGHUP when not "
                  "started on a terminal)");
  app->add_option("--loop-count", o.loop_count,
                  "loop-suspected after this many fetches of one file by one client (default 5)");
  app->add_option("--loop-window", o.loop_window,
                  "... within this many seconds (default 600)");
  app->add_option("--grace", o.grace,
                  "Seconds in-flight transfers get to finish after SIGTERM/SIGINT, or SIGHUP on a "
                  "terminal (default 10)")
      ->check(CLI::Range(0.0, 3600.0));
  app->add_option("--view", o.view, "auto (live view on a terminal), live or log")
      ->check(CLI::IsMember({"auto", "live", "log"}));
  app->add_option("--io", o.io,
                  "Transfer socket I/O: auto (io_uring where the kernel allows it, else epoll), "
                  "uring or epoll")
      ->check(CLI::IsMember({"auto", "uring", "epoll"}));
  app->add_option("--cache-bytes", o.cache_bytes,
                  "Memory for whole files kept for reuse by later transfers (default 67108864; 0: "
                  "read every block from disk)");
  app->add_flag("--verbose,-v", o.verbose,
                "Also log the quiet events (phones probing for CTL/ITL/SEP files that do not exist)");
  return cf::cli::run_tool(*app, argc, argv, [&] { return run(o); });
}

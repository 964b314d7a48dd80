#include "cf/dhcp/server.hpp"

#include <unistd.h>

#include <csignal>
#include <fstream>
#include <memory>
#include <optional>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cf/cli/error.hpp"
#include "cf/cli/text.hpp"
#include "cf/firmware/catalog.hpp"
#include "cf/net/event_loop.hpp"

namespace cf::dhcp {
namespace {

UnixTime wall_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}
std::int64_t wall_millis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string iso_time(std::int64_t millis) {
  const std::time_t seconds = static_cast<std::time_t>(millis / 1000);
  std::tm utc{};
  ::gmtime_r(&seconds, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &utc);
  return fmt::format("{}.{:03}Z", text, millis % 1000);
}

struct Pending {
  Outcome outcome;
  net::SocketAddress client;
};

class Server {
 public:
  Server(const Config& config, const ServerOptions& options, const InterfaceInfo& interface,
         const cli::Diagnostics& diagnostics)
      : config_(config),
        options_(options),
        interface_(interface),
        diagnostics_(diagnostics),
        store_(options.leases),
        loop_(clock_) {}

  int run();

 private:
  void load_leases();
  void open_sockets();
  void on_readable();
  void send_reply(const Pending& pending);
  void record(const Event& event, const net::SocketAddress& client);
  void open_announce();
  void on_announce_readable(int fd);
  void record_announce(const Announcement& announcement);
  void flush_events();
  void reopen_events();
  std::string model_of(const std::string& vendor_class) const;

  const Config& config_;
  const ServerOptions& options_;
  const InterfaceInfo& interface_;
  const cli::Diagnostics& diagnostics_;
  LeaseStore store_;
  State state_;
  net::SteadyClock clock_;
  net::EventLoop loop_;
  net::UniqueFd socket_;
  std::unique_ptr<LinkSender> link_;
  std::optional<firmware::ModelCatalog> catalog_;
  std::ofstream events_;
  // Event lines of the batch being handled, written together by
  // flush_events(): one write per batch instead of one per line, so a flood
  // costs the loop less, and the file only ever gains whole lines.
  std::string events_pending_;
  std::size_t malformed_ = 0;
  bool may_compact_ = true;  // false while unreadable lease lines could not be kept elsewhere
  std::unique_ptr<AnnounceReceiver> announce_;
  AnnounceTable phones_{options_.announce_capacity, options_.announce_max_age};
  std::size_t bad_frames_ = 0;
  std::size_t not_phones_ = 0;
};

void Server::load_leases() {
  const auto report = store_.load(state_.leases);
  for (const auto& problem : report.problems) diagnostics_.warning(printable(problem, 512));
  if (!report.skipped.empty()) {
    try {
      store_.keep_skipped(report);
      diagnostics_.warning(fmt::format("{} unreadable lease line(s) kept in {}", report.skipped.size(),
                                       store_.bad_file().string()));
    } catch (const Error& e) {
      may_compact_ = false;
      diagnostics_.warning(fmt::format("{}; the lease files are not compacted, so those lines stay",
                                       e.what()));
    }
  }
  // Compaction rewrites the files the skipped lines live in: only once they are safe.
  if (may_compact_) store_.compact(state_.leases);
  std::size_t active = 0;
  const auto now = wall_seconds();
  for (const auto& [mac, lease] : state_.leases.all()) active += lease.active(now) ? 1 : 0;
  diagnostics_.note(fmt::format("{} leases loaded from {} ({} active)", state_.leases.size(),
                                options_.leases.string(), active));
}

void Server::open_sockets() {
  socket_ = net::open_udp({net::Ipv4::any(), options_.server_port},
                          {.reuse_address = true,
                           .broadcast = true,
                           .packet_info = true,
                           .device = interface_.name,
                           .receive_buffer = 1 << 20});
  try {
    link_ = std::make_unique<LinkSender>(interface_.index);
  } catch (const Error& e) {
    diagnostics_.warning(fmt::format(
        "{}; replies to clients without an address will be broadcast instead", e.what()));
  }
}

void Server::open_announce() {
  if (!options_.announce) return;
  try {
    announce_ = std::make_unique<AnnounceReceiver>(interface_.index);
  } catch (const Error& e) {
    diagnostics_.warning(fmt::format("{}; no phone-announce events (CDP/LLDP)", e.what()));
    return;
  }
  for (int fd : {announce_->cdp_fd(), announce_->lldp_fd()})
    loop_.watch(fd, EPOLLIN, [this, fd](std::uint32_t) { on_announce_readable(fd); });
}

void Server::on_announce_readable(int fd) {
  std::array<std::byte, 2048> buffer{};
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                       clock_.now().time_since_epoch()).count();
  // A bounded batch per wake-up, so a flood of frames cannot starve DHCP.
  for (int i = 0; i < 64; ++i) {
    const auto got = AnnounceReceiver::receive(fd, buffer);
    if (!got) break;
    if (*got == 0) continue;
    const auto frame = std::span(buffer).first(*got);
    if (!claims_announcement(frame)) continue;  // STP, DTP, VTP...: not ours to judge
    const auto parsed = parse_announcement(frame, catalog_ ? &*catalog_ : nullptr);
    if (!parsed) {
      if (++bad_frames_ <= 20 || bad_frames_ % 1000 == 0)
        diagnostics_.warning(fmt::format("CDP/LLDP frame ignored: {} ({} so far)",
                                         printable(parsed.error()), bad_frames_));
      continue;
    }
    // 802.1AB 9.2.7.2: TTL 0 is a sender's goodbye; it announces nothing.
    if (parsed->protocol == AnnounceProtocol::lldp && parsed->ttl == 0) continue;
    if (!parsed->is_phone()) {
      if (++not_phones_ <= 5)
        diagnostics_.note(fmt::format("{} from {} ({}) is not a phone; ignored",
                                      to_upper(to_string(parsed->protocol)), parsed->source.to_string(),
                                      printable(parsed->device_id, 64)));
      continue;
    }
    switch (phones_.observe(*parsed, now)) {
      case AnnounceTable::Verdict::first_sight:
      case AnnounceTable::Verdict::changed:
        record_announce(*phones_.find(parsed->mac, parsed->protocol));
        break;
      case AnnounceTable::Verdict::refused_full:
        if (phones_.refused() == 1 || phones_.refused() % 1000 == 0)
          diagnostics_.warning(fmt::format(
              "phone table full ({} entries): {} announcement(s) of new phones ignored until "
              "some phone is silent for {} s",
              phones_.size(), phones_.refused(), options_.announce_max_age));
        break;
      case AnnounceTable::Verdict::unchanged: break;
    }
  }
  flush_events();
}

void Server::flush_events() {
  if (events_pending_.empty()) return;
  events_ << events_pending_;
  events_.flush();
  events_pending_.clear();
}

void Server::reopen_events() {
  if (options_.events.empty()) return;
  flush_events();
  events_.close();
  events_.clear();
  events_.open(options_.events, std::ios::app);
  if (events_)
    diagnostics_.note(fmt::format("event file {} reopened", options_.events.string()));
  else
    diagnostics_.warning(fmt::format(
        "cannot reopen --events {}: no events are written until the next reopen",
        options_.events.string()));
}

void Server::record_announce(const Announcement& announcement) {
  if (events_.is_open()) {
    events_pending_ += announce_json(announcement, interface_.name, wall_millis());
    events_pending_ += '\n';
  }
  if (options_.quiet) return;
  std::string line = fmt::format("phone-announce {}", announcement.mac.to_string());
  line += " model " + (announcement.model.empty() ? std::string("?") : printable(announcement.model, 64));
  line += " load " + (announcement.load.empty() ? std::string("?") : printable(announcement.load, 64));
  if (!announcement.load.empty() && !announcement.load_valid) line += " (not a load name)";
  line += " ip " + (announcement.ip ? announcement.ip->to_string() : std::string("?"));
  line += fmt::format(" ({} on {})", to_string(announcement.protocol), interface_.name);
  diagnostics_.note(line);
}

std::string Server::model_of(const std::string& vendor_class) const {
  if (!catalog_ || vendor_class.empty()) return {};
  const auto* model = catalog_->find_by_vendor_class(vendor_class);
  return model != nullptr ? model->model : std::string();
}

void Server::record(const Event& event, const net::SocketAddress& client) {
  const auto model = model_of(event.vendor_class);
  if (events_.is_open()) {
    events_pending_ += event_json(event, client, model, wall_millis());
    events_pending_ += '\n';
  }
  if (options_.quiet) return;
  // Hostname (option 12) and reasons (which quote option 60) are the client's
  // bytes: escaped, so a newline or ESC can neither forge a line nor drive the
  // terminal (issue 13 item 12). The JSON events escape them their own way.
  std::string line = fmt::format("{} {}", event.name, event.mac.to_string());
  if (!event.address.is_unspecified()) line += " " + event.address.to_string();
  if (!model.empty()) line += " model " + printable(model, 64);
  if (!event.hostname.empty()) line += " host " + printable(event.hostname, 64);
  if (!event.reason.empty()) line += " (" + printable(event.reason, 300) + ")";
  diagnostics_.note(line);
}

void Server::send_reply(const Pending& pending) {
  const auto& out = pending.outcome;
  const auto bytes = serialize(*out.reply);
  auto destination = out.destination;
  if (destination.kind == Destination::Kind::link_unicast) {
    std::string error;
    if (link_) {
      const auto packet =
          build_ipv4_udp({config_.server_id, options_.server_port}, destination.to, bytes);
      if (link_->send(destination.mac, packet, error)) return;
      diagnostics_.warning(fmt::format("packet socket send to {}: {}; broadcasting instead",
                                       destination.mac.to_string(), error));
    }
    destination.to = {net::Ipv4::limited_broadcast(), options_.client_port};
  }
  const auto sent = net::send_to(socket_.get(), destination.to, bytes);
  if (sent.status != net::IoStatus::ok)
    diagnostics_.warning(fmt::format("send to {}: {}", destination.to.to_string(), sent.error_text()));
}

void Server::on_readable() {
  std::vector<Pending> batch;
  std::array<std::byte, 4096> buffer{};
  const auto now = wall_seconds();
  expire(state_, now);
  while (batch.size() < options_.batch) {
    const auto got = net::receive_with_info(socket_.get(), buffer);
    if (got.status != net::IoStatus::ok) break;
    auto message = parse_message(std::span(buffer).first(got.size));
    if (!message) {
      if (++malformed_ <= 20 || malformed_ % 1000 == 0)
        diagnostics_.warning(fmt::format("malformed packet from {} ignored: {} ({} so far)",
                                         got.peer.to_string(), printable(message.error()), malformed_));
      continue;
    }
    Incoming in;
    in.message = std::move(message).value();
    in.from = got.peer;
    in.to_broadcast = got.destination && (got.destination->is_limited_broadcast() ||
                                           (interface_.network && *got.destination ==
                                                                      interface_.network->broadcast()));
    in.interface_address = interface_.address;
    in.client_port = options_.client_port;
    in.server_port = options_.server_port;
    auto outcome = handle(state_, config_, in, now);
    for (const auto& lease : outcome.persist) store_.append(lease);
    batch.push_back({std::move(outcome), got.peer});
  }
  if (batch.empty()) return;
  bool durable = true;
  try {
    store_.sync();  // one fdatasync for the whole batch, before any ACK leaves
  } catch (const Error& e) {
    durable = false;
    diagnostics_.error(fmt::format("{}; the replies of this batch are not sent", e.what()));
  }
  for (const auto& pending : batch) {
    for (const auto& event : pending.outcome.events) record(event, pending.client);
    if (!pending.outcome.reply) continue;
    if (!durable && !pending.outcome.persist.empty()) continue;
    send_reply(pending);
  }
  flush_events();
  if (may_compact_ && store_.journal_lines() > std::max<std::size_t>(4096, 4 * state_.leases.size())) {
    try {
      store_.compact(state_.leases);
    } catch (const Error& e) {
      diagnostics_.warning(fmt::format("lease compaction failed, journal kept: {}", e.what()));
    }
  }
}

int Server::run() {
  try {
    catalog_ = firmware::ModelCatalog::load_default();
  } catch (const Error& e) {
    diagnostics_.warning(fmt::format("no model catalog, events carry no model: {}", e.what()));
  }
  if (!options_.events.empty()) {
    events_.open(options_.events, std::ios::app);
    if (!events_) throw Error(fmt::format("cannot open --events {}", options_.events.string()));
  }
  load_leases();
  open_sockets();
  loop_.watch(socket_.get(), EPOLLIN, [this](std::uint32_t) { on_readable(); });
  open_announce();
  // As for cisco-tftpd: SIGHUP on a terminal means the terminal went away, so
  // stop; otherwise (systemd, nohup) it is the reload signal, and it and
  // SIGUSR1 reopen the event file that logrotate has moved.
  const bool on_terminal = ::isatty(STDIN_FILENO) || ::isatty(STDERR_FILENO);
  loop_.watch_signals({SIGINT, SIGTERM, SIGHUP, SIGUSR1}, [this, on_terminal](int signal) {
    if (signal == SIGUSR1 || (signal == SIGHUP && !on_terminal))
      reopen_events();
    else
      loop_.stop();
  });
  diagnostics_.note(fmt::format("serving on {} ({}) port {}, server id {}", interface_.name,
                                interface_.address.to_string(), options_.server_port,
                                config_.server_id.to_string()));
  loop_.run();
  try {
    store_.sync();
    if (may_compact_) store_.compact(state_.leases);
  } catch (const Error& e) {
    diagnostics_.warning(fmt::format("final compaction failed, journal kept: {}", e.what()));
  }
  diagnostics_.note("stopped");
  return 0;
}

}  // namespace

std::string event_json(const Event& event, const net::SocketAddress& client,
                       const std::string& model, std::int64_t unix_millis) {
  nlohmann::ordered_json j;
  j["ts"] = iso_time(unix_millis);
  j["event"] = event.name;
  j["client"] = client.to_string();
  j["mac"] = event.mac.to_string();
  if (!event.address.is_unspecified()) j["ip"] = event.address.to_string();
  j["vendor-class"] = event.vendor_class;
  if (!model.empty()) j["model"] = model;
  if (!event.hostname.empty()) j["hostname"] = event.hostname;
  if (!event.reason.empty()) j["reason"] = event.reason;
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string announce_json(const Announcement& a, const std::string& iface, std::int64_t unix_millis) {
  nlohmann::ordered_json j;
  j["ts"] = iso_time(unix_millis);
  j["event"] = "phone-announce";
  j["mac"] = a.mac.to_string();
  j["model"] = a.model;
  j["load"] = a.load;
  j["load-valid"] = a.load_valid;
  j["ip"] = a.ip ? a.ip->to_string() : std::string();
  j["protocol"] = std::string(to_string(a.protocol));
  j["iface"] = iface;
  j["platform"] = a.platform;
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

int serve(const Config& config, const ServerOptions& options, const InterfaceInfo& interface,
          const cli::Diagnostics& diagnostics) {
  Server server(config, options, interface, diagnostics);
  return server.run();
}

}  // namespace cf::dhcp

#include "cf/tftp/server.hpp"
#include "cf/cli/text.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "cf/cli/error.hpp"
#include "cf/firmware/loads_file.hpp"
#include "cf/tftp/event_log.hpp"
#include "cf/tftp/file_blocks.hpp"
#include "cf/tftp/server_events.hpp"
#include "server_transfer.hpp"

namespace cf::tftp {

using nlohmann::json;

namespace {
bool ends_with(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

long long ms_since(TimePoint start, TimePoint now) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(now - start).count();
}

}  // namespace

std::size_t transfers_for_fd_limit(std::uint64_t fd_limit, std::size_t roots) {
  constexpr std::uint64_t kFdsPerTransfer = 2;
  const std::uint64_t reserved = 32 + roots;
  return fd_limit > reserved ? static_cast<std::size_t>((fd_limit - reserved) / kFdsPerTransfer)
                             : 0;
}

Server::Server(ServerConfig config, net::EventLoop& loop, EventSink events, LogSink log,
               const firmware::ModelCatalog* catalog)
    : config_(std::move(config)),
      loop_(loop),
      events_(std::move(events)),
      log_(std::move(log)),
      resolver_(config_.files),
      tracker_(config_.phones, catalog),
      cache_(config_.cache_bytes),
      sockets_(config_.listen, config_.device, config_.port_low, config_.port_high),
      receive_buffer_(65536 + 4) {
  io_ = make_transfer_io(
      config_.io, loop_,
      [this](std::uint64_t id, const net::SocketAddress& from, std::span<const std::byte> datagram) {
        on_transfer_datagram(id, from, datagram);
      },
      4 + std::max<std::size_t>(config_.limits.max_blksize, 512), io_description_);
  if (!config_.upload_dir.empty()) {
    const int fd = ::open(config_.upload_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
      throw Error("cannot open upload directory " + config_.upload_dir + ": " +
                  std::strerror(errno));
    upload_dir_fd_.reset(fd);
  }
  net::UdpOptions options;
  options.reuse_address = true;
  options.packet_info = true;
  options.device = config_.device;
  options.receive_buffer = kListenReceiveBuffer;
  listen_fd_ = net::open_udp(config_.listen, options);
  loop_.watch(listen_fd_.get(), EPOLLIN, [this](std::uint32_t) {
    on_request_readable();
    io_->flush();
  });
}

Server::~Server() {
  for (auto& [id, t] : transfers_) {
    if (t->timer) loop_.cancel_timer(*t->timer);
    io_->remove(id, t->socket.get());
  }
  if (grace_timer_) loop_.cancel_timer(*grace_timer_);
  if (listen_fd_) loop_.unwatch(listen_fd_.get());
}

net::SocketAddress Server::listen_address() const {
  return listen_fd_ ? net::local_address(listen_fd_.get()) : config_.listen;
}

int Server::listen_receive_buffer() const { return net::receive_buffer(listen_fd_.get()); }

void Server::emit(ServerEvent event) {
  json ordered = {{"ts", utc_timestamp_now()}};
  ordered.update(event.event);
  if (events_) events_(ordered);
  if (log_) log_(event.quiet, event.line);
}

void Server::emit_phone_events(const net::SocketAddress& client,
                               const std::vector<PhoneEvent>& events) {
  for (auto& event : phone_events(client, events)) emit(std::move(event));
}

// ------------------------------------------------------------------ requests

void Server::on_request_readable() {
  for (int i = 0; i < 64 && listen_fd_; ++i) {
    const auto got = net::receive_with_info(listen_fd_.get(), receive_buffer_);
    if (got.status != net::IoStatus::ok) return;
    if (got.truncated) continue;
    handle_request(got, std::span(receive_buffer_).first(got.size));
  }
}

void Server::handle_request(const net::Received& from, std::span<const std::byte> datagram) {
  if (from.peer.port == 0) return;
  const auto parsed = parse_packet(datagram);
  if (!parsed.ok()) {
    refuse(from.peer, nullptr, parsed.failure().code, parsed.failure().reason, "malformed", false);
    return;
  }
  const auto* request = std::get_if<Request>(&parsed.packet());
  if (!request) {
    // RFC 1350 section 4: only RRQ/WRQ open a transfer; anything else on
    // port 69 belongs to no transfer.
    if (!std::holds_alternative<ErrorPacket>(parsed.packet()))
      refuse(from.peer, nullptr, ErrorCode::unknown_transfer_id, "no transfer on this port",
             "malformed", true);
    return;
  }
  std::optional<net::Ipv4> local;
  if (from.destination && !from.destination->is_limited_broadcast() &&
      !from.destination->is_multicast())
    local = from.destination;
  else if (from.local)
    local = from.local;
  if (request->filename.size() > kMaxRequestName) {
    refuse(from.peer, request, ErrorCode::access_violation, "file name too long",
           "access-violation", false);
    return;
  }
  emit_phone_events(from.peer, tracker_.on_request(from.peer.address, request->filename,
                                                   loop_.clock().now()));
  // A repeated request from the same client port (its first answer was lost,
  // or the network duplicated the RRQ) is not a new transfer: the running
  // one retransmits by itself. A second TID would only earn an ERROR 5.
  for (const auto& [id, t] : transfers_)
    if (t->client == from.peer && t->file == request->filename) return;
  if (shutting_down_) {
    refuse(from.peer, request, ErrorCode::not_defined, "server shutting down", "busy", false);
    return;
  }
  if (transfers_.size() >= config_.max_transfers && !reclaim_unanswered()) {
    refuse(from.peer, request, ErrorCode::not_defined, "too many transfers, try again", "busy",
           false);
    return;
  }
  // find, not []: a refused client must leave no entry behind.
  if (const auto count = per_client_.find(from.peer.address);
      count != per_client_.end() && count->second >= config_.max_per_client) {
    refuse(from.peer, request, ErrorCode::not_defined, "too many transfers from this client",
           "busy", false);
    return;
  }
  if (request->opcode == Opcode::rrq)
    start_read(from.peer, local, *request);
  else
    start_write(from.peer, local, *request);
}

// When --max-transfers is full, the oldest transfer the client never answered
// gives its slot to the new request (issue 13 item 3): requests from spoofed
// or vanished sources cannot lock real phones out.
bool Server::reclaim_unanswered() {
  if (unanswered_.empty()) return false;
  const auto id = *unanswered_.begin();
  const auto it = transfers_.find(id);
  if (it == transfers_.end()) {
    unanswered_.erase(unanswered_.begin());
    return false;
  }
  encode_error(send_buffer_, ErrorCode::not_defined, "no answer; transfer dropped for a new one");
  io_->send(it->second->socket.get(), send_buffer_);
  finish(id, "reclaimed", "never answered while the server was full");
  return transfers_.size() < config_.max_transfers;
}

void Server::refuse(const net::SocketAddress& client, const Request* request, ErrorCode code,
                    const std::string& message, const std::string& result, bool quiet) {
  encode_error(send_buffer_, code, message);
  // Sent from the listening socket: no transfer (and no new TID) exists yet.
  (void)net::send_to(listen_fd_ ? listen_fd_.get() : -1, client, send_buffer_);
  emit(refusal_event(client, request, message, result, quiet, tracker_.mac_of(client.address)));
}

Server::Transfer* Server::install(std::unique_ptr<Transfer> t) {
  auto* raw = t.get();
  const auto id = t->id;
  ++per_client_[t->client.address];
  unanswered_.insert(id);
  transfers_.emplace(id, std::move(t));
  io_->add(id, raw->socket.get());
  return raw;
}

// What a read and a write share: their own socket (a new TID, RFC 1350 section 4),
// or "busy" to the client when no port is free ("unreachable" when the kernel
// will not connect a socket to it).
std::unique_ptr<Server::Transfer> Server::new_transfer(const net::SocketAddress& client,
                                                       std::optional<net::Ipv4> local,
                                                       const Request& request, Negotiated negotiated) {
  net::UniqueFd socket;
  try {
    socket = sockets_.open(local, client);
  } catch (const Error& e) {
    refuse(client, &request, ErrorCode::not_defined, e.what(), "unreachable", false);
    return nullptr;
  }
  if (!socket) {
    if (out_of_descriptors(listen_fd_.get()))
      refuse(client, &request, ErrorCode::not_defined, "server out of file descriptors", "busy",
             false);
    else
      refuse(client, &request, ErrorCode::not_defined, "no free transfer port", "busy", false);
    return nullptr;
  }
  auto t = std::make_unique<Transfer>();
  t->id = next_id_++;
  t->client = client;
  t->socket = std::move(socket);
  t->file = request.filename;
  t->mode = request.mode;
  t->negotiated = std::move(negotiated);
  t->started = loop_.clock().now();
  return t;
}

void Server::start_read(const net::SocketAddress& client, std::optional<net::Ipv4> local,
                        const Request& request) {
  auto found = resolver_.open(request.filename);
  if (!found.file && found.error == ResolveError::out_of_descriptors) {
    refuse(client, &request, ErrorCode::not_defined, "server out of file descriptors", "busy",
           false);
    return;
  }
  if (!found.file) {
    const bool missing = found.error == ResolveError::not_found;
    refuse(client, &request, missing ? ErrorCode::file_not_found : ErrorCode::access_violation,
           missing ? "file not found" : "access violation",
           missing ? "not-found" : "access-violation", missing && is_quiet_probe(request.filename));
    return;
  }
  auto negotiation = negotiate(request, config_.limits, found.file->size);
  if (!negotiation.ok()) {
    refuse(client, &request, ErrorCode::option_refused, negotiation.failure.reason,
           "option-refused", false);
    return;
  }
  auto t = new_transfer(client, local, request, std::move(*negotiation.accepted));
  if (!t) return;
  t->path = found.file->path;
  std::shared_ptr<const std::vector<std::byte>> cached;
  if (t->mode == Mode::octet) {
    const auto wall_now = std::chrono::duration_cast<std::chrono::nanoseconds>(
        std::chrono::system_clock::now().time_since_epoch());
    cached = cache_.get(*found.file, wall_now.count());
  }
  const auto size = found.file->size;
  t->source = BlockSource(std::move(*found.file), t->mode, std::move(cached), t->negotiated.blksize);
  auto settings = transfer_settings<ReadSettings>(t->negotiated);
  // netascii: the converted length is found when the last block is converted.
  settings.stream_size = t->mode == Mode::netascii ? kUnknownStreamSize : size;
  settings.windowsize = t->negotiated.windowsize;
  t->read = make_read_transfer(settings);
  auto* installed = install(std::move(t));
  apply(*installed, start(installed->read, loop_.clock().now()));
}

// ----------------------------------------------------------------- transfers

bool Server::send_block(Transfer& t, std::uint64_t block) {
  const auto body = t.source.block(t.read, block);
  if (!body) return false;
  const auto wire = wire_block(block, t.read.settings.rollover);
  const std::byte head[4] = {std::byte{0}, std::byte{3}, static_cast<std::byte>(wire >> 8),
                             static_cast<std::byte>(wire & 0xFF)};
  // would_block or an ICMP error: the retransmission timer covers it.
  io_->send(t.socket.get(), head, *body);
  return true;
}

void Server::arm(Transfer& t, std::optional<TimePoint> when) {
  if (!when) return;
  // A timer already due earlier is kept: when it fires, on_timeout answers
  // "not yet" with the new deadline. That saves a cancel+add per ACK.
  if (t.timer && t.timer_at <= *when) return;
  if (t.timer) loop_.cancel_timer(*t.timer);
  const auto id = t.id;
  t.timer_at = *when;
  t.timer = loop_.add_timer(*when, [this, id] {
    on_transfer_timer(id);
    io_->flush();
  });
}

void Server::apply(Transfer& t, const ReadStep& step) {
  if (step.send_oack) {
    encode_oack(send_buffer_, t.negotiated.oack);
    io_->send(t.socket.get(), send_buffer_);
  }
  for (auto n = step.first; n <= step.last && step.last >= step.first; ++n) {
    if (!send_block(t, n)) {
      // The client must not wait for blocks that no longer exist, nor take
      // a short file for a whole one.
      encode_error(send_buffer_, ErrorCode::not_defined, "file changed while being sent");
      io_->send(t.socket.get(), send_buffer_);
      finish(t.id, "read-error", "the file became shorter while being sent");
      return;
    }
  }
  if (t.read.status == TransferStatus::complete) {
    finish(t.id, "ok", "");
  } else if (t.read.status == TransferStatus::gave_up) {
    finish(t.id, "timeout", "no acknowledgement after retries");
  } else {
    arm(t, step.wake_at);
  }
}

void Server::on_transfer_datagram(std::uint64_t id, const net::SocketAddress& from,
                                  std::span<const std::byte> datagram) {
  auto it = transfers_.find(id);
  if (it == transfers_.end()) return;
  Transfer& t = *it->second;
  // The socket is connected to the client, so the kernel delivers nothing
  // else (RFC 1350 section 4: a wrong TID must not disturb the transfer).
  if (from != t.client) return;
  const auto parsed = parse_packet(datagram);
  if (!parsed.ok()) return;
  unanswered_.erase(id);
  const auto now = loop_.clock().now();
  if (const auto* ack = std::get_if<Ack>(&parsed.packet()); ack && !t.upload) {
    apply(t, on_ack(t.read, ack->block, now));
  } else if (const auto* data = std::get_if<Data>(&parsed.packet()); data && t.upload) {
    apply(t, on_data(t.write, data->block, data->payload.size(), now), data->payload);
  } else if (const auto* error = std::get_if<ErrorPacket>(&parsed.packet())) {
    finish(id, "client-error", error->message);
  }
}

void Server::on_transfer_timer(std::uint64_t id) {
  auto it = transfers_.find(id);
  if (it == transfers_.end()) return;
  Transfer& t = *it->second;
  t.timer.reset();
  const auto now = loop_.clock().now();
  if (t.upload)
    apply(t, on_timeout(t.write, now), {});
  else
    apply(t, on_timeout(t.read, now));
}

void Server::finish(std::uint64_t id, const std::string& result, const std::string& detail) {
  auto it = transfers_.find(id);
  if (it == transfers_.end()) return;
  auto t = std::move(it->second);
  transfers_.erase(it);
  unanswered_.erase(id);
  if (t->timer) loop_.cancel_timer(*t->timer);
  io_->remove(id, t->socket.get());
  if (auto count = per_client_.find(t->client.address); count != per_client_.end()) {
    if (--count->second == 0) per_client_.erase(count);
  }
  const auto& source = t->source.file();
  TransferSummary summary;
  summary.client = t->client;
  summary.mac = tracker_.mac_of(t->client.address);
  summary.file = t->file;
  summary.path = t->path;
  summary.upload = t->upload;
  summary.mode = t->mode;
  summary.bytes = t->upload ? t->write.bytes : t->read.bytes_acked();
  summary.ms = ms_since(t->started, loop_.clock().now());
  summary.blksize = t->negotiated.blksize;
  summary.windowsize = t->negotiated.windowsize;
  summary.result = result;
  summary.detail = detail;
  if (!t->upload) {
    summary.served = source.identity();
    summary.resent = t->read.resent_blocks;
  }
  emit(transfer_event(summary));
  if (result == "ok" && !t->upload) {
    std::optional<std::vector<std::string>> components;
    if (ends_with(to_lower(t->path), ".loads") && source.size <= config_.max_loads_bytes) {
      std::vector<std::byte> content(source.size);
      if (read_fully(source.fd.get(), content.data(), content.size(), 0)) {
        if (auto names = firmware::parse_loads_file(content)) components = names.value();
      }
    }
    emit_phone_events(t->client, tracker_.on_complete(t->client.address, t->file, source.identity(),
                                                      components ? &*components : nullptr));
  }
  check_shutdown();
}

// ------------------------------------------------------------------ shutdown

void Server::shut_down(Duration grace, std::function<void()> done) {
  if (shutting_down_) return;
  shutting_down_ = true;
  shutdown_done_ = std::move(done);
  if (listen_fd_) {
    loop_.unwatch(listen_fd_.get());
    listen_fd_.reset();
  }
  grace_timer_ = loop_.add_timer_after(grace, [this] {
    grace_timer_.reset();
    std::vector<std::uint64_t> ids;
    for (const auto& [id, t] : transfers_) ids.push_back(id);
    for (auto id : ids) {
      auto it = transfers_.find(id);
      if (it == transfers_.end()) continue;
      encode_error(send_buffer_, ErrorCode::not_defined, "server shutting down");
      io_->send(it->second->socket.get(), send_buffer_);
      finish(id, "aborted", "server shutting down");
    }
    io_->flush();
    check_shutdown();
  });
  check_shutdown();
}

void Server::check_shutdown() {
  if (!shutting_down_ || !transfers_.empty() || !shutdown_done_) return;
  if (grace_timer_) {
    loop_.cancel_timer(*grace_timer_);
    grace_timer_.reset();
  }
  auto done = std::move(shutdown_done_);
  shutdown_done_ = nullptr;
  done();
}

std::vector<TransferView> Server::active() const {
  std::vector<TransferView> views;
  for (const auto& [id, t] : transfers_) {
    TransferView v;
    v.id = id;
    v.client = t->client;
    v.mac = tracker_.mac_of(t->client.address);
    v.file = t->file;
    v.upload = t->upload;
    v.size = t->upload ? 0 : t->source.file().size;
    v.bytes = t->upload ? t->write.bytes : t->read.bytes_acked();
    v.blksize = t->negotiated.blksize;
    v.windowsize = t->negotiated.windowsize;
    v.started = t->started;
    views.push_back(std::move(v));
  }
  std::sort(views.begin(), views.end(),
            [](const TransferView& a, const TransferView& b) { return a.id < b.id; });
  return views;
}

}  // namespace cf::tftp

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

namespace cf::tftp {

using nlohmann::json;

struct Server::Transfer {
  std::uint64_t id = 0;
  net::SocketAddress client;
  net::UniqueFd socket;
  std::optional<net::TimerId> timer;
  TimePoint timer_at{};
  bool upload = false;
  std::string file;  // as requested
  std::string path;  // as found (reads) or the final name (uploads)
  Mode mode = Mode::octet;
  Negotiated negotiated;
  TimePoint started{};
  // Reads: the file opened once at the RRQ; a rename over it does not matter.
  OpenedFile source;
  // The same version's bytes when the file cache holds it: blocks are sent
  // from here, with no read per block.
  std::shared_ptr<const std::vector<std::byte>> cached;
  ReadTransfer read;
  std::vector<std::byte> packet;  // header + one block, reused for every DATA
  // netascii (window 1): the block held in `packet` and where the source resumes.
  std::vector<std::byte> staging;
  std::uint64_t ascii_block = 0;
  std::size_t ascii_length = 0;
  std::uint64_t ascii_source = 0;
  int ascii_pending = -1;
  // Uploads: written to a temporary name, linked to the final name at the end.
  WriteTransfer write;
  net::UniqueFd temp_fd;
  std::string temp_name;
  bool dallying = false;
};

namespace {
bool ends_with(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

constexpr std::string_view kUploadTempPrefix = ".cisco-tftpd.";

// Longer request names are refused before any lookup or tracking: no file a
// phone fetches comes near it, and it bounds what one request costs.
constexpr std::size_t kMaxRequestName = 512;

// Text from the wire kept in an event: JSON escapes it, this bounds it, so one
// request writes at most a few hundred bytes to the log.
std::string clip(std::string_view text, std::size_t limit = 200) {
  return std::string(text.substr(0, limit));
}

// size, mtime_ns, inode: which version of a file was served (man page, EVENTS).
void add_identity(json& event, const FileIdentity& identity) {
  event["size"] = identity.size;
  event["mtime_ns"] = identity.mtime_ns;
  event["inode"] = identity.inode;
}

long long ms_since(TimePoint start, TimePoint now) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(now - start).count();
}

// Whether the process is out of file descriptors (EMFILE/ENFILE), as opposed
// to, say, every port of --port-range being taken.
bool out_of_descriptors(int any_fd) {
  const int probe = ::fcntl(any_fd, F_DUPFD_CLOEXEC, 0);
  if (probe >= 0) {
    ::close(probe);
    return false;
  }
  return errno == EMFILE || errno == ENFILE;
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
    if (!t->temp_name.empty()) ::unlinkat(upload_dir_fd_.get(), t->temp_name.c_str(), 0);
  }
  if (grace_timer_) loop_.cancel_timer(*grace_timer_);
  if (listen_fd_) loop_.unwatch(listen_fd_.get());
}

net::SocketAddress Server::listen_address() const {
  return listen_fd_ ? net::local_address(listen_fd_.get()) : config_.listen;
}

void Server::emit(json event, bool quiet, const std::string& line) {
  json ordered = {{"ts", utc_timestamp_now()}};
  ordered.update(event);
  if (events_) events_(ordered);
  if (log_) log_(quiet, line);
}

void Server::emit_phone_events(const net::SocketAddress& client,
                               const std::vector<PhoneEvent>& events) {
  for (const auto& e : events) {
    json event = {{"event", e.event}, {"client", client.to_string()}, {"file", e.file}};
    if (!e.mac.empty()) event["mac"] = e.mac;
    if (!e.model.empty()) event["model"] = e.model;
    if (!e.load.empty()) event["load"] = e.load;
    if (e.count) event["count"] = e.count;
    if (e.identity) add_identity(event, *e.identity);
    if (!e.files.empty()) {
      json files = json::array();
      std::int64_t newest = 0;
      for (const auto& [name, identity] : e.files) {
        json entry = {{"file", name}};
        add_identity(entry, identity);
        files.push_back(std::move(entry));
        newest = std::max(newest, identity.mtime_ns);
      }
      event["files"] = std::move(files);
      event["mtime_ns_max"] = newest;
    }
    std::string line = fmt::format("{} {}{}: {}", client.to_string(), e.event,
                                   e.mac.empty() ? "" : " SEP" + e.mac, printable(e.file));
    if (e.count) line += fmt::format(" ({} fetches)", e.count);
    emit(std::move(event), false, line);
  }
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
  io_->send(it->second->socket.get(), it->second->client, send_buffer_);
  finish(id, "reclaimed", "never answered while the server was full");
  return transfers_.size() < config_.max_transfers;
}

void Server::refuse(const net::SocketAddress& client, const Request* request, ErrorCode code,
                    const std::string& message, const std::string& result, bool quiet) {
  encode_error(send_buffer_, code, message);
  // Sent from the listening socket: no transfer (and no new TID) exists yet.
  (void)net::send_to(listen_fd_ ? listen_fd_.get() : -1, client, send_buffer_);
  json event = {{"event", "transfer"}, {"client", client.to_string()}, {"result", result},
                {"error", clip(message)}, {"bytes", 0}, {"ms", 0}};
  std::string what = "request";
  if (request) {
    event["file"] = clip(request->filename, kMaxRequestName);
    if (request->filename.size() > kMaxRequestName) event["file_bytes"] = request->filename.size();
    event["direction"] = request->opcode == Opcode::rrq ? "read" : "write";
    what = fmt::format("{} {}", request->opcode == Opcode::rrq ? "read" : "write",
                       printable(request->filename));
  }
  const auto mac = tracker_.mac_of(client.address);
  if (!mac.empty()) event["mac"] = mac;
  emit(std::move(event), quiet,
       fmt::format("{} {}: {} ({})", client.to_string(), what, result, printable(message)));
}

net::UniqueFd Server::open_transfer_socket(std::optional<net::Ipv4> local) {
  net::UdpOptions options;
  options.device = config_.device;
  const auto address = config_.listen.address.is_unspecified() ? local.value_or(net::Ipv4::any())
                                                                : config_.listen.address;
  if (config_.port_low == 0) {
    try {
      return net::open_udp({address, 0}, options);
    } catch (const Error&) {
      return {};
    }
  }
  const std::uint32_t span = std::uint32_t{config_.port_high} - config_.port_low + 1;
  for (std::uint32_t i = 0; i < span; ++i) {
    const auto port = static_cast<std::uint16_t>(config_.port_low + (next_port_offset_ + i) % span);
    try {
      auto fd = net::open_udp({address, port}, options);
      next_port_offset_ = (next_port_offset_ + i + 1) % span;
      return fd;
    } catch (const Error&) {
      // in use: try the next port of the range
    }
  }
  return {};
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
// or "busy" to the client when no port is free.
std::unique_ptr<Server::Transfer> Server::new_transfer(const net::SocketAddress& client,
                                                       std::optional<net::Ipv4> local,
                                                       const Request& request, Negotiated negotiated) {
  auto socket = open_transfer_socket(local);
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

// RFC 2349: the client's timeout option, else --timeout.
Duration Server::retransmit_timeout(const Negotiated& negotiated) const {
  return negotiated.timeout_seconds ? Duration(std::chrono::seconds(*negotiated.timeout_seconds))
                                    : config_.timeout;
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
  t->source = std::move(*found.file);
  t->path = t->source.path;
  if (t->mode == Mode::octet) {
    const auto wall_now = std::chrono::duration_cast<std::chrono::nanoseconds>(
        std::chrono::system_clock::now().time_since_epoch());
    t->cached = cache_.get(t->source, wall_now.count());
  }
  ReadSettings settings;
  // netascii: the converted length is found when the last block is converted.
  settings.stream_size = t->mode == Mode::netascii ? kUnknownStreamSize : t->source.size;
  settings.blksize = t->negotiated.blksize;
  settings.windowsize = t->negotiated.windowsize;
  settings.rollover = t->negotiated.rollover;
  settings.send_oack = !t->negotiated.oack.empty();
  settings.timeout = retransmit_timeout(t->negotiated);
  settings.max_retries = config_.retries;
  settings.first_ack_retries = config_.first_ack_retries;
  t->read = make_read_transfer(settings);
  t->packet.resize(4 + settings.blksize);
  if (t->mode == Mode::netascii) t->staging.resize(settings.blksize);
  auto* installed = install(std::move(t));
  apply(*installed, start(installed->read, loop_.clock().now()));
}

void Server::start_write(const net::SocketAddress& client, std::optional<net::Ipv4> local,
                         const Request& request) {
  if (!upload_dir_fd_) {
    refuse(client, &request, ErrorCode::access_violation, "uploads are not enabled",
           "access-violation", false);
    return;
  }
  auto parts = split_request_name(request.filename);
  if (!parts || parts->size() != 1) {
    refuse(client, &request, ErrorCode::access_violation,
           "uploads go to the upload directory itself", "access-violation", false);
    return;
  }
  const auto& name = parts->front();
  if (name.starts_with(kUploadTempPrefix)) {
    refuse(client, &request, ErrorCode::access_violation,
           "names starting with " + std::string(kUploadTempPrefix) + " are reserved",
           "access-violation", false);
    return;
  }
  struct stat st {};
  if (::fstatat(upload_dir_fd_.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
    refuse(client, &request, ErrorCode::file_exists, "file already exists", "exists", false);
    return;
  }
  Request lockstep = request;  // the receiving side is lock-step: no windowsize
  std::erase_if(lockstep.options, [](const Option& o) { return to_lower(o.first) == "windowsize"; });
  auto negotiation = negotiate(lockstep, config_.limits, std::nullopt);
  if (!negotiation.ok()) {
    refuse(client, &request, ErrorCode::option_refused, negotiation.failure.reason,
           "option-refused", false);
    return;
  }
  if (negotiation.accepted->tsize && *negotiation.accepted->tsize > config_.upload_max) {
    refuse(client, &request, ErrorCode::disk_full, "file larger than the upload limit",
           "too-large", false);
    return;
  }
  auto t = new_transfer(client, local, request, std::move(*negotiation.accepted));
  if (!t) return;
  // An unnamed file (O_TMPFILE) linked to its name at the end: no name an
  // uploader could take first. Where the file system lacks O_TMPFILE, a name
  // with the reserved prefix, which WRQs may not use (issue 13 item 6).
  int fd = ::openat(upload_dir_fd_.get(), ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0644);
  if (fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL)) {
    t->temp_name = fmt::format("{}{}.{}.part", kUploadTempPrefix, ::getpid(), t->id);
    fd = ::openat(upload_dir_fd_.get(), t->temp_name.c_str(),
                  O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
  }
  if (fd < 0) {
    t->temp_name.clear();
    const bool exhausted = errno == EMFILE || errno == ENFILE;
    refuse(client, &request, exhausted ? ErrorCode::not_defined : ErrorCode::access_violation,
           exhausted ? std::string("server out of file descriptors")
                     : std::string("cannot create upload file: ") + std::strerror(errno),
           exhausted ? "busy" : "access-violation", false);
    return;
  }
  t->temp_fd.reset(fd);
  t->upload = true;
  t->path = name;
  WriteSettings settings;
  settings.blksize = t->negotiated.blksize;
  settings.rollover = t->negotiated.rollover;
  settings.send_oack = !t->negotiated.oack.empty();
  settings.timeout = retransmit_timeout(t->negotiated);
  settings.max_retries = config_.retries;
  settings.first_ack_retries = config_.first_ack_retries;
  settings.max_size = config_.upload_max;
  t->write = make_write_transfer(settings);
  auto* installed = install(std::move(t));
  apply(*installed, start(installed->write, loop_.clock().now()), {});
}

// ----------------------------------------------------------------- transfers

bool Server::send_block(Transfer& t, std::uint64_t block) {
  const auto wire = wire_block(block, t.read.settings.rollover);
  std::size_t length = 0;
  std::span<const std::byte> body;
  if (t.mode == Mode::netascii) {
    if (block != t.ascii_block) {  // window 1: the next block, or a resend of the held one
      const auto converted =
          convert_netascii(t.source.fd.get(), t.source.size, t.ascii_source, t.ascii_pending,
                           t.staging, t.packet.data() + 4, t.read.settings.blksize);
      if (!converted) return false;
      t.ascii_length = *converted;
      t.ascii_block = block;
      if (t.ascii_length < t.read.settings.blksize)
        t.read.end_stream(block, static_cast<std::uint32_t>(t.ascii_length));
    }
    length = t.ascii_length;
    body = std::span(t.packet).subspan(4, length);
  } else if (t.cached) {
    length = t.read.block_length(block);
    body = std::span(*t.cached).subspan(static_cast<std::size_t>(t.read.block_offset(block)), length);
  } else {
    length = t.read.block_length(block);
    if (!read_fully(t.source.fd.get(), t.packet.data() + 4, length, t.read.block_offset(block)))
      return false;
    body = std::span(t.packet).subspan(4, length);
  }
  t.packet[0] = std::byte{0};
  t.packet[1] = std::byte{3};
  t.packet[2] = static_cast<std::byte>(wire >> 8);
  t.packet[3] = static_cast<std::byte>(wire & 0xFF);
  // would_block or an ICMP error: the retransmission timer covers it.
  io_->send(t.socket.get(), t.client, std::span(t.packet).first(4), body);
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
    io_->send(t.socket.get(), t.client, send_buffer_);
  }
  for (auto n = step.first; n <= step.last && step.last >= step.first; ++n) {
    if (!send_block(t, n)) {
      // The client must not wait for blocks that no longer exist, nor take
      // a short file for a whole one.
      encode_error(send_buffer_, ErrorCode::not_defined, "file changed while being sent");
      io_->send(t.socket.get(), t.client, send_buffer_);
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

void Server::apply(Transfer& t, const WriteStep& step, std::span<const std::byte> payload) {
  if (step.write) {
    std::size_t done = 0;
    while (done < payload.size()) {
      const auto n = ::pwrite(t.temp_fd.get(), payload.data() + done, payload.size() - done,
                              static_cast<off_t>(step.write_offset + done));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        encode_error(send_buffer_, ErrorCode::disk_full, "write failed");
        io_->send(t.socket.get(), t.client, send_buffer_);
        finish(t.id, "write-error", std::strerror(errno));
        return;
      }
      done += static_cast<std::size_t>(n);
    }
  }
  if (t.write.too_large) {
    encode_error(send_buffer_, ErrorCode::disk_full, "file larger than the upload limit");
    io_->send(t.socket.get(), t.client, send_buffer_);
    finish(t.id, "too-large", "upload limit reached");
    return;
  }
  if (t.write.status == TransferStatus::complete && !t.dallying) {
    std::string reason;
    if (!commit_upload(t, reason)) {
      encode_error(send_buffer_, ErrorCode::file_exists, reason);
      io_->send(t.socket.get(), t.client, send_buffer_);
      finish(t.id, "exists", reason);
      return;
    }
  }
  if (step.send_oack) {
    encode_oack(send_buffer_, t.negotiated.oack);
    io_->send(t.socket.get(), t.client, send_buffer_);
  }
  if (step.send_ack) {
    encode_ack(send_buffer_, *step.send_ack);
    io_->send(t.socket.get(), t.client, send_buffer_);
  }
  if (t.write.status == TransferStatus::complete && !t.dallying) {
    // Stay a while to ACK the last block again if our ACK is lost (RFC 1350 section 6).
    t.dallying = true;
    const auto id = t.id;
    if (t.timer) loop_.cancel_timer(*t.timer);
    t.timer_at = loop_.clock().now() + t.write.settings.timeout * 2;
    t.timer = loop_.add_timer(t.timer_at, [this, id] {
      finish(id, "ok", "");
      io_->flush();
    });
    return;
  }
  if (t.write.status == TransferStatus::gave_up) {
    finish(t.id, "timeout", "no data after retries");
    return;
  }
  if (!t.dallying) arm(t, step.wake_at);
}

bool Server::commit_upload(Transfer& t, std::string& reason) {
  if (::fsync(t.temp_fd.get()) != 0) {
    reason = std::string("fsync: ") + std::strerror(errno);
    return false;
  }
  // link() never replaces an existing name, unlike rename(): never overwrite.
  int linked = 0;
  if (t.temp_name.empty()) {
    // An O_TMPFILE file gets its name through /proc (AT_EMPTY_PATH would
    // need CAP_DAC_READ_SEARCH, which --user drops).
    const auto self = fmt::format("/proc/self/fd/{}", t.temp_fd.get());
    linked = ::linkat(AT_FDCWD, self.c_str(), upload_dir_fd_.get(), t.path.c_str(),
                      AT_SYMLINK_FOLLOW);
  } else {
    linked = ::linkat(upload_dir_fd_.get(), t.temp_name.c_str(), upload_dir_fd_.get(),
                      t.path.c_str(), 0);
  }
  if (linked != 0) {
    reason = errno == EEXIST ? "file already exists" : std::strerror(errno);
    return false;
  }
  t.temp_fd.reset();
  if (!t.temp_name.empty()) ::unlinkat(upload_dir_fd_.get(), t.temp_name.c_str(), 0);
  t.temp_name.clear();
  return true;
}

void Server::on_transfer_datagram(std::uint64_t id, const net::SocketAddress& from,
                                  std::span<const std::byte> datagram) {
  auto it = transfers_.find(id);
  if (it == transfers_.end()) return;
  Transfer& t = *it->second;
  if (from != t.client) {
    // RFC 1350 section 4: a packet from a wrong TID gets ERROR 5; the
    // transfer goes on undisturbed.
    encode_error(send_buffer_, ErrorCode::unknown_transfer_id, "unknown transfer ID");
    io_->send(t.socket.get(), from, send_buffer_);
    return;
  }
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
  if (!t->temp_name.empty()) ::unlinkat(upload_dir_fd_.get(), t->temp_name.c_str(), 0);
  const auto now = loop_.clock().now();
  const auto bytes = t->upload ? t->write.bytes : t->read.bytes_acked();
  json event = {{"event", "transfer"},
                {"client", t->client.to_string()},
                {"file", t->file},
                {"path", t->path},
                {"direction", t->upload ? "write" : "read"},
                {"mode", std::string(to_string(t->mode))},
                {"bytes", bytes},
                {"ms", ms_since(t->started, now)},
                {"blksize", t->negotiated.blksize},
                {"windowsize", t->negotiated.windowsize},
                {"result", result}};
  if (!t->upload) {
    add_identity(event, t->source.identity());
    event["resent"] = t->read.resent_blocks;
  }
  if (!detail.empty()) event["error"] = clip(detail);
  const auto mac = tracker_.mac_of(t->client.address);
  if (!mac.empty()) event["mac"] = mac;
  const auto ms = ms_since(t->started, now);
  emit(std::move(event), false,
       fmt::format("{} {} {}: {} {} bytes in {} ms (blksize {}, window {}){}",
                   t->client.to_string(), t->upload ? "write" : "read", printable(t->file), result,
                   bytes, ms, t->negotiated.blksize, t->negotiated.windowsize,
                   detail.empty() ? "" : " - " + printable(detail)));
  if (result == "ok" && !t->upload) {
    std::optional<std::vector<std::string>> components;
    if (ends_with(to_lower(t->path), ".loads") && t->source.size <= config_.max_loads_bytes) {
      std::vector<std::byte> content(t->source.size);
      if (read_fully(t->source.fd.get(), content.data(), content.size(), 0)) {
        if (auto names = firmware::parse_loads_file(content)) components = names.value();
      }
    }
    emit_phone_events(t->client, tracker_.on_complete(t->client.address, t->file, t->source.identity(),
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
      io_->send(it->second->socket.get(), it->second->client, send_buffer_);
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
    v.size = t->upload ? 0 : t->source.size;
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

// The receiving side of the server (WRQ): which uploads are taken, and what
// each step of the write state machine does to the file and the socket.
#include <cerrno>
#include <cstring>

#include "cf/cli/text.hpp"
#include "cf/tftp/server.hpp"
#include "server_transfer.hpp"

namespace cf::tftp {

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
  if (const auto refusal = check_upload_name(upload_dir_fd_.get(), name)) {
    if (*refusal == UploadRefusal::reserved_name)
      refuse(client, &request, ErrorCode::access_violation,
             "names starting with " + std::string(kUploadTempPrefix) + " are reserved",
             "access-violation", false);
    else
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
  t->received = UploadFile::create(upload_dir_fd_.get(), t->id);
  if (!t->received) {
    const bool exhausted = errno == EMFILE || errno == ENFILE;
    refuse(client, &request, exhausted ? ErrorCode::not_defined : ErrorCode::access_violation,
           exhausted ? std::string("server out of file descriptors")
                     : std::string("cannot create upload file: ") + std::strerror(errno),
           exhausted ? "busy" : "access-violation", false);
    return;
  }
  t->upload = true;
  t->path = name;
  auto settings = transfer_settings<WriteSettings>(t->negotiated);
  settings.max_size = config_.upload_max;
  t->write = make_write_transfer(settings);
  auto* installed = install(std::move(t));
  apply(*installed, start(installed->write, loop_.clock().now()), {});
}

void Server::apply(Transfer& t, const WriteStep& step, std::span<const std::byte> payload) {
  if (step.write && !t.received.write(step.write_offset, payload)) {
    const auto reason = std::strerror(errno);
    encode_error(send_buffer_, ErrorCode::disk_full, "write failed");
    io_->send(t.socket.get(), send_buffer_);
    finish(t.id, "write-error", reason);
    return;
  }
  if (t.write.too_large) {
    encode_error(send_buffer_, ErrorCode::disk_full, "file larger than the upload limit");
    io_->send(t.socket.get(), send_buffer_);
    finish(t.id, "too-large", "upload limit reached");
    return;
  }
  if (t.write.status == TransferStatus::complete && !t.dallying) {
    std::string reason;
    if (!t.received.commit(t.path, reason)) {
      encode_error(send_buffer_, ErrorCode::file_exists, reason);
      io_->send(t.socket.get(), send_buffer_);
      finish(t.id, "exists", reason);
      return;
    }
  }
  if (step.send_oack) {
    encode_oack(send_buffer_, t.negotiated.oack);
    io_->send(t.socket.get(), send_buffer_);
  }
  if (step.send_ack) {
    encode_ack(send_buffer_, *step.send_ack);
    io_->send(t.socket.get(), send_buffer_);
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

}  // namespace cf::tftp

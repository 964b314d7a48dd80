#pragma once
// What the server keeps per transfer (private to server*.cpp).
#include <optional>
#include <string>

#include "cf/tftp/file_blocks.hpp"
#include "cf/tftp/server.hpp"
#include "cf/tftp/upload.hpp"

namespace cf::tftp {

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
  // Reads: the file opened once at the RRQ (a rename over it does not
  // matter) and where its blocks come from.
  BlockSource source;
  ReadTransfer read;
  // Uploads: an unnamed or temporary file, given its name at the end.
  WriteTransfer write;
  UploadFile received;
  bool dallying = false;
};

template <typename Settings>
Settings Server::transfer_settings(const Negotiated& negotiated) const {
  Settings settings;
  settings.blksize = negotiated.blksize;
  settings.rollover = negotiated.rollover;
  settings.send_oack = !negotiated.oack.empty();
  // RFC 2349: the client's timeout option, else --timeout.
  settings.timeout = negotiated.timeout_seconds
                         ? Duration(std::chrono::seconds(*negotiated.timeout_seconds))
                         : config_.timeout;
  settings.max_retries = config_.retries;
  settings.first_ack_retries = config_.first_ack_retries;
  return settings;
}

}  // namespace cf::tftp

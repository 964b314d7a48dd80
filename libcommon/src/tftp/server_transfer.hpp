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

}  // namespace cf::tftp

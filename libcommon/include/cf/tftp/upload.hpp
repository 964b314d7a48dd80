#pragma once
// Receiving a file (WRQ) into the upload directory: which names may be
// written, and the file itself, kept out of sight until it is complete.
// - Written to an unnamed file (O_TMPFILE), or where the file system lacks
//   it, to a name with a reserved prefix that no WRQ may use (issue 13 item 6).
// - Given its name at the end with link(), which never replaces an existing
//   name, unlike rename(): an upload never overwrites a file.
// - An upload not committed leaves nothing behind.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "cf/net/udp.hpp"

namespace cf::tftp {

inline constexpr std::string_view kUploadTempPrefix = ".cisco-tftpd.";

// Why a WRQ for `name` (one path component) into `dir_fd` is refused, or
// nullopt when it may go ahead.
enum class UploadRefusal { reserved_name, exists };
std::optional<UploadRefusal> check_upload_name(int dir_fd, const std::string& name);

class UploadFile {
 public:
  UploadFile() = default;
  ~UploadFile();
  UploadFile(UploadFile&& other) noexcept;
  UploadFile& operator=(UploadFile&& other) noexcept;
  UploadFile(const UploadFile&) = delete;
  UploadFile& operator=(const UploadFile&) = delete;

  // A new file in `dir_fd`; `tag` makes the fallback temporary name unique
  // within the process. Empty (false) on failure, with errno set.
  static UploadFile create(int dir_fd, std::uint64_t tag);

  explicit operator bool() const noexcept { return static_cast<bool>(fd_); }
  // `bytes` at `offset`; false with errno set when the disk refuses.
  bool write(std::uint64_t offset, std::span<const std::byte> bytes);
  // fsync, then link to `name` in the directory. False with `reason` when
  // that fails (the name was taken meanwhile: "file already exists").
  bool commit(const std::string& name, std::string& reason);
  // The temporary name, empty when the file has none (O_TMPFILE, committed).
  const std::string& temp_name() const noexcept { return temp_name_; }

 private:
  void discard() noexcept;

  int dir_fd_ = -1;
  net::UniqueFd fd_;
  std::string temp_name_;
};

}  // namespace cf::tftp

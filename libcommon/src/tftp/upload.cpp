#include "cf/tftp/upload.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include <fmt/format.h>

namespace cf::tftp {

std::optional<UploadRefusal> check_upload_name(int dir_fd, const std::string& name) {
  if (name.starts_with(kUploadTempPrefix)) return UploadRefusal::reserved_name;
  struct stat st {};
  if (::fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) return UploadRefusal::exists;
  return std::nullopt;
}

UploadFile::~UploadFile() { discard(); }

UploadFile::UploadFile(UploadFile&& other) noexcept
    : dir_fd_(other.dir_fd_), fd_(std::move(other.fd_)), temp_name_(std::move(other.temp_name_)) {
  other.temp_name_.clear();
}

UploadFile& UploadFile::operator=(UploadFile&& other) noexcept {
  if (this != &other) {
    discard();
    dir_fd_ = other.dir_fd_;
    fd_ = std::move(other.fd_);
    temp_name_ = std::move(other.temp_name_);
    other.temp_name_.clear();
  }
  return *this;
}

void UploadFile::discard() noexcept {
  if (!temp_name_.empty()) ::unlinkat(dir_fd_, temp_name_.c_str(), 0);
  temp_name_.clear();
  fd_.reset();
}

UploadFile UploadFile::create(int dir_fd, std::uint64_t tag) {
  UploadFile file;
  file.dir_fd_ = dir_fd;
  int fd = ::openat(dir_fd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0644);
  if (fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL)) {
    auto name = fmt::format("{}{}.{}.part", kUploadTempPrefix, ::getpid(), tag);
    fd = ::openat(dir_fd, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd >= 0) file.temp_name_ = std::move(name);
  }
  if (fd >= 0) file.fd_.reset(fd);
  return file;
}

bool UploadFile::write(std::uint64_t offset, std::span<const std::byte> bytes) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    const auto n = ::pwrite(fd_.get(), bytes.data() + done, bytes.size() - done,
                            static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      if (n == 0) errno = ENOSPC;
      return false;
    }
    done += static_cast<std::size_t>(n);
  }
  return true;
}

bool UploadFile::commit(const std::string& name, std::string& reason) {
  if (::fsync(fd_.get()) != 0) {
    reason = std::string("fsync: ") + std::strerror(errno);
    return false;
  }
  int linked = 0;
  if (temp_name_.empty()) {
    // An O_TMPFILE file gets its name through /proc (AT_EMPTY_PATH would
    // need CAP_DAC_READ_SEARCH, which --user drops).
    const auto self = fmt::format("/proc/self/fd/{}", fd_.get());
    linked = ::linkat(AT_FDCWD, self.c_str(), dir_fd_, name.c_str(), AT_SYMLINK_FOLLOW);
  } else {
    linked = ::linkat(dir_fd_, temp_name_.c_str(), dir_fd_, name.c_str(), 0);
  }
  if (linked != 0) {
    reason = errno == EEXIST ? "file already exists" : std::strerror(errno);
    return false;
  }
  discard();
  return true;
}

}  // namespace cf::tftp

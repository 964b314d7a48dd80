#include "cf/tftp/name_index.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <ctime>

#include "cf/cli/text.hpp"

namespace cf::tftp {
namespace {
std::int64_t nanoseconds(const timespec& t) {
  return static_cast<std::int64_t>(t.tv_sec) * 1'000'000'000 + t.tv_nsec;
}

// File systems stamp directories with a coarse clock (a jiffy or a second):
// a change in the same tick as the scan would leave mtime unchanged, so a
// scan that close to the last change is redone on the next lookup.
constexpr std::int64_t kTimestampSlackNs = 2'000'000'000;
}  // namespace

bool FoldedNames::refresh(int dir_fd, const struct stat& dir, std::int64_t now_ns) {
  // Creating, removing or renaming an entry sets the directory's mtime
  // (POSIX); ctime also moves on chmod and is no better a signal.
  const auto mtime = nanoseconds(dir.st_mtim);
  if (!racy_ && dir.st_dev == device_ && dir.st_ino == inode_ && mtime == mtime_ns_)
    return false;
  const int fd = ::openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return false;
  DIR* listing = ::fdopendir(fd);
  if (!listing) {
    ::close(fd);
    return false;
  }
  names_.clear();
  while (const dirent* entry = ::readdir(listing)) {
    const std::string_view name(entry->d_name);
    if (name == "." || name == "..") continue;
    names_[to_lower(name)].emplace_back(name);
  }
  ::closedir(listing);
  device_ = dir.st_dev;
  inode_ = dir.st_ino;
  mtime_ns_ = mtime;
  racy_ = now_ns - mtime < kTimestampSlackNs;
  return true;
}

std::optional<std::string> FoldedNames::find(std::string_view name) const {
  const auto it = names_.find(to_lower(name));
  if (it == names_.end()) return std::nullopt;
  for (const auto& actual : it->second)
    if (actual == name) return actual;
  return it->second.front();
}

const FoldedNames* FoldedNameCache::names_of(int dir_fd) {
  struct stat dir {};
  if (::fstat(dir_fd, &dir) != 0 || !S_ISDIR(dir.st_mode)) return nullptr;
  const auto key = std::make_pair(dir.st_dev, dir.st_ino);
  auto it = directories_.find(key);
  if (it == directories_.end()) {
    if (directories_.size() >= max_) directories_.clear();
    it = directories_.emplace(key, FoldedNames{}).first;
  }
  timespec now{};
  ::clock_gettime(CLOCK_REALTIME, &now);
  if (it->second.refresh(dir_fd, dir, nanoseconds(now))) ++scans_;
  return &it->second;
}

}  // namespace cf::tftp

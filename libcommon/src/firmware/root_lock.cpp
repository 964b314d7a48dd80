#include "cf/firmware/root_lock.hpp"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <system_error>
#include <thread>

#include <fmt/format.h>

#include "cf/cli/error.hpp"

namespace cf::firmware {
namespace fs = std::filesystem;
namespace {

constexpr std::string_view kStagingLockName = ".lock";

std::string errno_text(int error) { return std::generic_category().message(error); }

int flock_retrying(int fd, int operation) {
  int r;
  do r = ::flock(fd, operation);
  while (r != 0 && errno == EINTR);
  return r;
}

// What the last exclusive holder wrote into the lock file, for the message.
std::string describe_holder(int fd) {
  char text[32] = {};
  const auto n = ::pread(fd, text, sizeof text - 1, 0);
  std::string pid(text, n > 0 ? static_cast<std::size_t>(n) : 0);
  while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' ')) pid.pop_back();
  if (pid.empty() || pid.find_first_not_of("0123456789") != std::string::npos) return "another process";
  return "another process (the last fwunpack to take it was pid " + pid + ")";
}

}  // namespace

bool is_fwunpack_private_name(std::string_view name) {
  return name == kRootLockName || name.starts_with(kStagingPrefix) || name == kKeptTermDir;
}

std::optional<RootLock> RootLock::acquire(const fs::path& root, Mode mode, std::chrono::milliseconds timeout,
                                          const std::function<void(const std::string&)>& on_wait) {
  const auto path = root / std::string(kRootLockName);
  const bool exclusive = mode == Mode::exclusive;
  net::UniqueFd fd(::open(path.c_str(), (exclusive ? O_RDWR | O_CREAT : O_RDONLY) | O_NOFOLLOW | O_CLOEXEC, 0644));
  if (!fd) {
    const int error = errno;
    if (!exclusive && (error == ENOENT || error == EACCES)) return std::nullopt;
    throw Error(fmt::format("cannot open the lock file {}: {}", path.string(), errno_text(error)));
  }
  const int operation = (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  bool told = false;
  while (flock_retrying(fd.get(), operation) != 0) {
    const int error = errno;
    if (error != EWOULDBLOCK)
      throw Error(fmt::format("cannot lock {}: {}", path.string(), errno_text(error)));
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline)
      throw Error(fmt::format("{} is locked by {}; gave up after {} s (--lock-timeout)", root.string(),
                              describe_holder(fd.get()),
                              std::chrono::duration_cast<std::chrono::seconds>(timeout).count()));
    if (!told && on_wait) on_wait(describe_holder(fd.get()));
    told = true;
    std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(std::chrono::milliseconds(50),
                                                                               deadline - now));
  }
  if (exclusive) {
    // For the message a waiting run prints; the flock, not this text, is the lock.
    const auto pid = fmt::format("{}\n", ::getpid());
    if (::ftruncate(fd.get(), 0) != 0 || ::pwrite(fd.get(), pid.data(), pid.size(), 0) < 0) {
      // The lock is held all the same; only the holder's pid is not shown to waiters.
    }
  }
  return RootLock(std::move(fd));
}

StagingDir::StagingDir(const fs::path& parent) {
  std::string pattern = (parent / (std::string(kStagingPrefix) + "XXXXXX")).string();
  if (::mkdtemp(pattern.data()) == nullptr)
    throw Error(fmt::format("cannot make a staging directory in {}: {}", parent.string(), errno_text(errno)));
  path_ = pattern;
  const auto lock_path = path_ / std::string(kStagingLockName);
  lock_.reset(::open(lock_path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!lock_ || flock_retrying(lock_.get(), LOCK_EX | LOCK_NB) != 0) {
    const int error = errno;
    std::error_code ec;
    fs::remove_all(path_, ec);
    throw Error(fmt::format("cannot lock the staging directory {}: {}", path_.string(), errno_text(error)));
  }
}

StagingDir::~StagingDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

std::vector<std::string> remove_stale_staging(const fs::path& root, const RootLock&) {
  std::vector<fs::path> candidates;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(root, ec)) {
    const auto name = entry.path().filename().string();
    if (!name.starts_with(kStagingPrefix)) continue;
    std::error_code status_ec;
    if (fs::is_directory(fs::symlink_status(entry.path(), status_ec))) candidates.push_back(entry.path());
  }
  std::vector<std::string> removed;
  for (const auto& dir : candidates) {
    const auto lock_path = dir / std::string(kStagingLockName);
    net::UniqueFd lock(::open(lock_path.c_str(), O_RDWR | O_NOFOLLOW | O_CLOEXEC));
    // No lock file: the run died between making the folder and locking it; both
    // happen under the root lock we hold, so no live run is in that gap.
    if (!lock && errno != ENOENT) continue;
    if (lock && flock_retrying(lock.get(), LOCK_EX | LOCK_NB) != 0) continue;  // a live run's
    std::error_code remove_ec;
    fs::remove_all(dir, remove_ec);
    if (!remove_ec) removed.push_back(dir.filename().string());
  }
  std::sort(removed.begin(), removed.end());
  return removed;
}

}  // namespace cf::firmware

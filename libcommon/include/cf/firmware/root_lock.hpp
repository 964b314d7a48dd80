#pragma once
// Who may change a TFTP root, and which staging folders in it are alive.
// Every fwunpack run that installs takes ROOT/.fwunpack.lock (flock) around the
// steps that read or change the root, so two runs never both decide that a file
// is theirs to write. Each staging folder ROOT/.fwunpack-XXXXXX holds a lock file
// of its own, flocked for as long as its run lives: a folder whose lock can be
// taken was left by a run that died (kill -9, power loss) and may be removed.
// Staging folders are only made and only cleaned while the root lock is held,
// so a cleaner never meets a folder that a live run has not locked yet.
#include <chrono>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "cf/net/fd.hpp"

namespace cf::firmware {

inline constexpr std::string_view kRootLockName = ".fwunpack.lock";
inline constexpr std::string_view kStagingPrefix = ".fwunpack-";
// ROOT/.term/<LOAD>/termNN.default.loads: every term file variant fwunpack
// installed, kept for `fwunpack --set-term` (install.hpp).
inline constexpr std::string_view kKeptTermDir = ".term";

// True for the names fwunpack keeps for itself in a root (its lock file, its
// staging folders, its kept term files): never read as inputs, never to be served.
bool is_fwunpack_private_name(std::string_view name);

class RootLock {
 public:
  enum class Mode { exclusive, shared };
  // Takes the lock, waiting at most `timeout` (zero: do not wait). `on_wait` is
  // called once, with a description of the holder, if the lock is busy.
  // Exclusive creates the lock file; shared uses it only if it exists (a
  // read-only root, or one fwunpack never installed into, needs no lock):
  // nullopt then. Throws cf::Error (exit 1) when the time runs out.
  static std::optional<RootLock> acquire(const std::filesystem::path& root, Mode mode,
                                         std::chrono::milliseconds timeout,
                                         const std::function<void(const std::string& holder)>& on_wait = {});
  RootLock(RootLock&&) noexcept = default;
  RootLock& operator=(RootLock&&) noexcept = default;
  ~RootLock() = default;  // closing the descriptor releases the flock

 private:
  explicit RootLock(net::UniqueFd fd) : fd_(std::move(fd)) {}
  net::UniqueFd fd_;
};

// A folder PARENT/.fwunpack-XXXXXX with its lock held, removed with everything
// in it when it goes. In a root, make it only while holding the RootLock.
class StagingDir {
 public:
  explicit StagingDir(const std::filesystem::path& parent);
  ~StagingDir();
  StagingDir(const StagingDir&) = delete;
  StagingDir& operator=(const StagingDir&) = delete;
  const std::filesystem::path& path() const noexcept { return path_; }

 private:
  std::filesystem::path path_;
  net::UniqueFd lock_;
};

// Removes the staging folders in `root` that no live run holds; returns their
// names. Call only while holding the exclusive RootLock of `root`.
std::vector<std::string> remove_stale_staging(const std::filesystem::path& root, const RootLock& held);

}  // namespace cf::firmware

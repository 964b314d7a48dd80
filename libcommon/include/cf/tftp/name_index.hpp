#pragma once
// The case-folded names of one directory, for case-insensitive lookup without
// reading the directory on every miss (issue 13 item 4). Rebuilt only when
// the directory changes: its mtime (or identity) differs from the scan,
// or the scan was too close to the last change to trust the timestamp.
#include <sys/stat.h>
#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace cf::tftp {

class FoldedNames {
 public:
  // Refreshes from `dir_fd` if the directory changed since the last scan;
  // returns whether it scanned. `dir` is the fstat of dir_fd, `now` the
  // wall-clock time (timestamps are compared with it).
  bool refresh(int dir_fd, const struct stat& dir, std::int64_t now_ns);
  // The entry `name` denotes ignoring ASCII case: the exact name if present,
  // else the first folded match in directory order.
  std::optional<std::string> find(std::string_view name) const;
  std::size_t size() const noexcept { return names_.size(); }

 private:
  std::unordered_map<std::string, std::vector<std::string>> names_;  // folded -> actual
  dev_t device_ = 0;
  ino_t inode_ = 0;
  std::int64_t mtime_ns_ = -1;
  bool racy_ = true;
};

// One FoldedNames per directory (by device and inode), bounded in count.
class FoldedNameCache {
 public:
  explicit FoldedNameCache(std::size_t max_directories = 256) : max_(max_directories) {}
  // The folded names of the directory open at `dir_fd`, refreshed if needed;
  // nullptr if it cannot be read.
  const FoldedNames* names_of(int dir_fd);
  std::uint64_t scans() const noexcept { return scans_; }

 private:
  std::map<std::pair<dev_t, ino_t>, FoldedNames> directories_;
  std::size_t max_;
  std::uint64_t scans_ = 0;
};

}  // namespace cf::tftp

#pragma once
// Hot files in memory: phones of a fleet fetch the same few loads, so each
// version of a file is read once into a shared buffer instead of with a pread
// per block. A version is (device, inode, size, mtime): a file replaced on
// disk, or rewritten in place, is a new entry, so a transfer never mixes old
// and new bytes. Memory is bounded: the entries held never add up to more
// than `max_bytes`; only entries no transfer uses are evicted (least recently
// used first), and a file that does not fit is served from disk instead.
#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <list>
#include <map>
#include <memory>
#include <span>
#include <tuple>
#include <vector>

#include "cf/tftp/resolver.hpp"

namespace cf::tftp {

// Files modified this recently are not cached: one still being written would
// be caught half-way, and the per-block reads then notice a truncation (the
// transfer ends with an ERROR instead of sending a snapshot nobody asked for).
inline constexpr std::int64_t kCacheSettleNs = 2'000'000'000;

class FileCache {
 public:
  struct Stats {
    std::uint64_t hits = 0, misses = 0, refused = 0, evictions = 0;
  };

  explicit FileCache(std::size_t max_bytes) : max_bytes_(max_bytes) {}

  // The bytes of `file` (read through its fd) when it fits and has settled
  // (mtime at least kCacheSettleNs before `now_ns`, wall clock), else null and
  // the caller reads from disk.
  std::shared_ptr<const std::vector<std::byte>> get(const OpenedFile& file, std::int64_t now_ns);

  std::size_t bytes() const noexcept { return bytes_; }
  std::size_t max_bytes() const noexcept { return max_bytes_; }
  std::size_t entries() const noexcept { return entries_.size(); }
  const Stats& stats() const noexcept { return stats_; }

 private:
  using Key = std::tuple<dev_t, ino_t, std::uint64_t, std::int64_t>;
  struct Entry {
    std::shared_ptr<const std::vector<std::byte>> bytes;
    std::list<Key>::iterator recent;
  };
  bool make_room(std::size_t wanted);

  std::size_t max_bytes_;
  std::size_t bytes_ = 0;
  std::map<Key, Entry> entries_;
  std::list<Key> recent_;  // front: most recently used
  Stats stats_;
};

}  // namespace cf::tftp

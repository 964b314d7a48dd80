#include "cf/tftp/file_cache.hpp"
#include "cf/tftp/file_blocks.hpp"

#include <sys/stat.h>
#include <unistd.h>


namespace cf::tftp {

namespace {

std::int64_t mtime_ns(const struct stat& st) {
  return static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
}

}  // namespace

bool FileCache::make_room(std::size_t wanted) {
  // Oldest first; an entry a transfer still holds stays (its memory is live
  // either way, and dropping it would only let a second copy in).
  for (auto it = recent_.end(); bytes_ + wanted > max_bytes_ && it != recent_.begin();) {
    --it;
    auto entry = entries_.find(*it);
    if (entry->second.bytes.use_count() > 1) continue;
    bytes_ -= entry->second.bytes->size();
    entries_.erase(entry);
    it = recent_.erase(it);
    ++stats_.evictions;
  }
  return bytes_ + wanted <= max_bytes_;
}

std::shared_ptr<const std::vector<std::byte>> FileCache::get(const OpenedFile& file,
                                                             std::int64_t now_ns) {
  const Key key{file.device, file.inode, file.size, file.mtime_ns};
  if (auto it = entries_.find(key); it != entries_.end()) {
    recent_.splice(recent_.begin(), recent_, it->second.recent);
    ++stats_.hits;
    return it->second.bytes;
  }
  if (file.size == 0 || file.size > max_bytes_ || now_ns - file.mtime_ns < kCacheSettleNs ||
      !make_room(static_cast<std::size_t>(file.size))) {
    ++stats_.refused;
    return nullptr;
  }
  auto bytes = std::make_shared<std::vector<std::byte>>(static_cast<std::size_t>(file.size));
  struct stat after {};
  // The version read must be the version named by the key: unchanged size
  // and mtime after the read, else it was written meanwhile.
  if (!read_fully(file.fd.get(), bytes->data(), bytes->size(), 0) || ::fstat(file.fd.get(), &after) != 0 ||
      static_cast<std::uint64_t>(after.st_size) != file.size || mtime_ns(after) != file.mtime_ns) {
    ++stats_.refused;
    return nullptr;
  }
  ++stats_.misses;
  recent_.push_front(key);
  bytes_ += bytes->size();
  entries_.emplace(key, Entry{bytes, recent_.begin()});
  return bytes;
}

}  // namespace cf::tftp

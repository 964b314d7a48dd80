// The shared file cache on temporary files: one read per version, a replaced
// or rewritten file is a new entry, the byte bound holds, entries in use are
// never evicted, files still being written are not cached.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "cf/tftp/file_cache.hpp"
#include "cf/tftp/resolver.hpp"

namespace fs = std::filesystem;
using namespace cf::tftp;

namespace {

constexpr std::int64_t kLater = 4'000'000'000'000'000'000;  // year 2096: every file has settled

struct TempRoot {
  fs::path base;
  TempRoot() {
    std::random_device rd;
    base = fs::temp_directory_path() / ("cf-tftp-cache-" + std::to_string(rd()));
    fs::create_directories(base);
  }
  ~TempRoot() {
    std::error_code ignored;
    fs::remove_all(base, ignored);
  }
  void write(const std::string& name, const std::string& text) const {
    std::ofstream(base / name, std::ios::binary) << text;
  }
  OpenedFile open(const std::string& name) const {
    Resolver resolver(ResolverOptions{{base.string()}, true, true});
    auto found = resolver.open(name);
    REQUIRE(found.file);
    return std::move(*found.file);
  }
};

std::string text_of(const std::shared_ptr<const std::vector<std::byte>>& bytes) {
  return std::string(reinterpret_cast<const char*>(bytes->data()), bytes->size());
}

}  // namespace

TEST_CASE("one read per version; later transfers share it") {
  TempRoot root;
  root.write("load.sbn", "0123456789");
  FileCache cache(100);
  const auto first = cache.get(root.open("load.sbn"), kLater);
  REQUIRE(first);
  CHECK(text_of(first) == "0123456789");
  const auto second = cache.get(root.open("load.sbn"), kLater);
  CHECK(second == first);
  CHECK(cache.stats().misses == 1);
  CHECK(cache.stats().hits == 1);
  CHECK(cache.bytes() == 10);
}

TEST_CASE("a file replaced on disk is a new entry; the old one stays whole for its transfer") {
  TempRoot root;
  root.write("load.sbn", "old bytes!");
  FileCache cache(100);
  const auto old_bytes = cache.get(root.open("load.sbn"), kLater);
  REQUIRE(old_bytes);
  root.write("new.tmp", "new bytes!");  // same size
  fs::rename(root.base / "new.tmp", root.base / "load.sbn");
  const auto new_bytes = cache.get(root.open("load.sbn"), kLater);
  REQUIRE(new_bytes);
  CHECK(text_of(new_bytes) == "new bytes!");
  CHECK(text_of(old_bytes) == "old bytes!");
}

TEST_CASE("a file rewritten in place with a new mtime is a new entry") {
  TempRoot root;
  root.write("f", "aaaa");
  const auto path = (root.base / "f").string();
  timespec times[2] = {{0, UTIME_OMIT}, {1000, 0}};
  REQUIRE(::utimensat(AT_FDCWD, path.c_str(), times, 0) == 0);
  FileCache cache(100);
  CHECK(text_of(cache.get(root.open("f"), kLater)) == "aaaa");
  root.write("f", "bbbb");  // same inode, same size
  times[1] = {2000, 0};
  REQUIRE(::utimensat(AT_FDCWD, path.c_str(), times, 0) == 0);
  CHECK(text_of(cache.get(root.open("f"), kLater)) == "bbbb");
}

TEST_CASE("the byte bound holds: unused entries are evicted, used ones are kept") {
  TempRoot root;
  root.write("a", std::string(40, 'a'));
  root.write("b", std::string(40, 'b'));
  root.write("c", std::string(40, 'c'));
  root.write("huge", std::string(200, 'h'));
  FileCache cache(100);
  auto a = cache.get(root.open("a"), kLater);
  auto b = cache.get(root.open("b"), kLater);
  REQUIRE(a);
  REQUIRE(b);
  // a and b are in use: c does not fit, and is served from disk.
  CHECK_FALSE(cache.get(root.open("c"), kLater));
  CHECK(cache.bytes() == 80);
  a.reset();  // the transfer of a ended: its entry may go
  auto c = cache.get(root.open("c"), kLater);
  REQUIRE(c);
  CHECK(cache.bytes() == 80);
  CHECK(cache.stats().evictions == 1);
  CHECK(cache.bytes() <= cache.max_bytes());
  CHECK_FALSE(cache.get(root.open("huge"), kLater));  // larger than the whole cache
  CHECK(FileCache(0).get(root.open("a"), kLater) == nullptr);
}

TEST_CASE("a file modified in the last seconds is not cached") {
  TempRoot root;
  root.write("fresh", "still being written");
  const auto file = root.open("fresh");
  FileCache cache(100);
  CHECK_FALSE(cache.get(file, file.mtime_ns + kCacheSettleNs / 2));
  CHECK(cache.get(file, file.mtime_ns + kCacheSettleNs));
}

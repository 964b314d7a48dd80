// The file resolver on temporary directories: traversal, symlink escapes,
// case-insensitive matches, non-regular files, several roots; with openat2
// and with the O_NOFOLLOW walk used where openat2 is missing.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "cf/tftp/resolver.hpp"

namespace fs = std::filesystem;
using namespace cf::tftp;

namespace {

struct TempTree {
  fs::path base;
  TempTree() {
    std::random_device rd;
    base = fs::temp_directory_path() / ("cf-tftp-resolver-" + std::to_string(rd()));
    fs::create_directories(base / "root/sub");
    fs::create_directories(base / "root2");
    fs::create_directories(base / "outside");
    write("root/SEP001122334455.cnf.xml", "config");
    write("root/jar41sip.9-4-2ES26.sbn", "jar");
    write("root/sub/Ring1.raw", "ring");
    write("root2/only-in-two.txt", "two");
    write("root2/jar41sip.9-4-2ES26.sbn", "shadowed");
    write("outside/secret", "secret");
    fs::create_symlink(base / "outside/secret", base / "root/abs-link");
    fs::create_symlink("../outside/secret", base / "root/rel-link");
    fs::create_symlink("../outside", base / "root/dir-link");
    fs::create_symlink("sub/Ring1.raw", base / "root/inside-link");
    ::mkfifo((base / "root/fifo").c_str(), 0644);
  }
  ~TempTree() {
    std::error_code ignored;
    fs::remove_all(base, ignored);
  }
  void write(const std::string& rel, const std::string& text) {
    std::ofstream(base / rel) << text;
  }
  Resolver resolver(bool openat2, bool case_sensitive = false) {
    ResolverOptions o;
    o.roots = {(base / "root").string(), (base / "root2").string()};
    o.use_openat2 = openat2;
    o.case_sensitive = case_sensitive;
    return Resolver(o);
  }
};

std::string content(const OpenedFile& file) {
  std::string text(file.size, '\0');
  CHECK(::pread(file.fd.get(), text.data(), text.size(), 0) == static_cast<ssize_t>(file.size));
  return text;
}

}  // namespace

TEST_CASE("request names: separators, leading slashes, dot-dot, control characters") {
  CHECK(split_request_name("/sub/Ring1.raw").value() == std::vector<std::string>{"sub", "Ring1.raw"});
  CHECK(split_request_name("\\sub\\Ring1.raw").value() == std::vector<std::string>{"sub", "Ring1.raw"});
  CHECK(split_request_name("./a//b/").value() == std::vector<std::string>{"a", "b"});
  CHECK_FALSE(split_request_name("../etc/passwd"));
  CHECK_FALSE(split_request_name("sub/../../x"));
  CHECK_FALSE(split_request_name("sub\\..\\x"));
  CHECK_FALSE(split_request_name("a\nb"));
  CHECK_FALSE(split_request_name("//"));
  // fwunpack's lock and staging folders, upload temporaries: never served.
  CHECK_FALSE(split_request_name(".fwunpack.lock"));
  CHECK_FALSE(split_request_name(".fwunpack-Ab12Cd/f000000"));
  CHECK_FALSE(split_request_name("sub/.hidden"));
  // fwunpack's kept term file variants: only --set-term puts one where phones read.
  CHECK_FALSE(split_request_name(".term/SCCP41.8-5-2S/term61.default.loads"));
  CHECK_FALSE(split_request_name("/.term/SIP41.9-4-2SR3-1S/term41.default.loads"));
  CHECK(split_request_name("SEP001122334455.cnf.xml").value().size() == 1);
}

TEST_CASE("resolver, with openat2 and with the O_NOFOLLOW walk") {
  TempTree tree;
  for (const bool openat2 : {true, false}) {
    CAPTURE(openat2);
    auto resolver = tree.resolver(openat2);

    auto exact = resolver.open("/SEP001122334455.cnf.xml");
    REQUIRE(exact.file);
    CHECK(content(*exact.file) == "config");

    auto windows = resolver.open("\\sub\\Ring1.raw");
    REQUIRE(windows.file);
    CHECK(content(*windows.file) == "ring");

    // case-insensitive per component
    auto folded = resolver.open("SUB/ring1.RAW");
    REQUIRE(folded.file);
    CHECK(folded.file->path == "sub/Ring1.raw");
    auto jar = resolver.open("Jar41sip.9-4-2ES26.sbn");
    REQUIRE(jar.file);
    CHECK(content(*jar.file) == "jar");  // the first root wins

    auto second = resolver.open("only-in-two.txt");
    REQUIRE(second.file);
    CHECK(second.file->root_index == 1);

    auto missing = resolver.open("nothing.here");
    CHECK_FALSE(missing.file);
    CHECK(missing.error == ResolveError::not_found);

    for (const std::string bad : {"../outside/secret", "abs-link", "rel-link", "dir-link/secret",
                            "sub/../../outside/secret", "fifo", "sub", "/"}) {
      CAPTURE(bad);
      auto refused = resolver.open(bad);
      CHECK_FALSE(refused.file);
      CHECK(refused.error == ResolveError::access_violation);
    }
    // A symlink that stays inside the root works with openat2; the fallback
    // walk refuses every symlink.
    auto inside = resolver.open("inside-link");
    if (openat2) {
      REQUIRE(inside.file);
      CHECK(content(*inside.file) == "ring");
    } else {
      CHECK(inside.error == ResolveError::access_violation);
    }
  }
}

TEST_CASE("--case-sensitive turns folding off") {
  TempTree tree;
  auto resolver = tree.resolver(true, true);
  CHECK(resolver.open("sub/Ring1.raw").file);
  auto miss = resolver.open("SUB/ring1.raw");
  CHECK_FALSE(miss.file);
  CHECK(miss.error == ResolveError::not_found);
}

TEST_CASE("an open file keeps its content when replaced by rename") {
  TempTree tree;
  auto resolver = tree.resolver(true);
  auto old = resolver.open("SEP001122334455.cnf.xml");
  REQUIRE(old.file);
  tree.write("new.tmp", "new content");
  fs::rename(tree.base / "new.tmp", tree.base / "root/SEP001122334455.cnf.xml");
  CHECK(content(*old.file) == "config");
  auto fresh = resolver.open("SEP001122334455.cnf.xml");
  REQUIRE(fresh.file);
  CHECK(content(*fresh.file) == "new content");
}

TEST_CASE("case-insensitive misses use the cached folded names, re-read only when the directory changes") {
  TempTree tree;
  auto past = [&](const std::string& rel) {
    // an old timestamp: a directory changed long ago can be trusted not to
    // have changed within its timestamp's resolution
    const timespec times[2] = {{1'000'000'000, 0}, {1'000'000'000, 0}};
    REQUIRE(::utimensat(AT_FDCWD, (tree.base / rel).c_str(), times, 0) == 0);
  };
  past("root");
  past("root2");
  auto resolver = tree.resolver(true);
  auto found = resolver.open("JAR41SIP.9-4-2es26.SBN");
  REQUIRE(found.file);
  CHECK(found.file->path == "jar41sip.9-4-2ES26.sbn");
  CHECK_FALSE(resolver.open("missing").file);  // both roots indexed now
  const auto scans = resolver.directory_scans();
  CHECK(scans == 2);
  for (int i = 0; i < 1000; ++i)
    CHECK_FALSE(resolver.open("missing-" + std::to_string(i)).file);
  CHECK(resolver.directory_scans() == scans);  // 1000 misses, no directory read
  // a new file: the directory's mtime moves and the index is read again
  tree.write("root/NewFile.TXT", "new");
  auto fresh = resolver.open("newfile.txt");
  REQUIRE(fresh.file);
  CHECK(fresh.file->path == "NewFile.TXT");
  CHECK(resolver.directory_scans() > scans);
  // a removed file is no longer offered
  fs::remove(tree.base / "root/NewFile.TXT");
  CHECK_FALSE(resolver.open("newfile.txt").file);
  // exact names win over folded ones
  tree.write("root/Dup.txt", "upper");
  tree.write("root/dup.txt", "lower");
  auto dup = resolver.open("DUP.TXT");
  REQUIRE(dup.file);
  CHECK((dup.file->path == "Dup.txt" || dup.file->path == "dup.txt"));
  CHECK(content(*resolver.open("dup.txt").file) == "lower");
  // a subdirectory is folded too
  past("root/sub");
  auto ring = resolver.open("SUB/ring1.RAW");
  REQUIRE(ring.file);
  CHECK(ring.file->path == "sub/Ring1.raw");
}

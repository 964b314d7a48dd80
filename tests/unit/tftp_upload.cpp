// Uploads (WRQ) into a temporary directory: names that may be written, a
// file invisible until committed, never overwriting, nothing left behind.
// And the server's events as pure values (server_events.hpp).
#include <doctest/doctest.h>

#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "cf/tftp/server_events.hpp"
#include "cf/tftp/upload.hpp"

namespace fs = std::filesystem;
using namespace cf::tftp;

namespace {

struct TempDir {
  fs::path base;
  int fd = -1;
  TempDir() {
    std::random_device rd;
    base = fs::temp_directory_path() / ("cf-tftp-upload-" + std::to_string(rd()));
    fs::create_directories(base);
    fd = ::open(base.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  }
  ~TempDir() {
    ::close(fd);
    std::error_code ignored;
    fs::remove_all(base, ignored);
  }
  std::size_t entries() const {
    return static_cast<std::size_t>(std::distance(fs::directory_iterator(base), fs::directory_iterator()));
  }
  std::string read(const std::string& name) const {
    std::ifstream in(base / name, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }
};

std::span<const std::byte> bytes_of(const std::string& text) {
  return std::as_bytes(std::span(text.data(), text.size()));
}

}  // namespace

TEST_CASE("upload names: the reserved prefix and existing names are refused") {
  TempDir dir;
  REQUIRE(dir.fd >= 0);
  std::ofstream(dir.base / "taken.txt") << "x";
  CHECK(check_upload_name(dir.fd, "new.txt") == std::nullopt);
  CHECK(check_upload_name(dir.fd, "taken.txt") == UploadRefusal::exists);
  CHECK(check_upload_name(dir.fd, ".cisco-tftpd.1.2.part") == UploadRefusal::reserved_name);
  fs::create_symlink(dir.base / "nowhere", dir.base / "dangling");
  CHECK(check_upload_name(dir.fd, "dangling") == UploadRefusal::exists);
}

TEST_CASE("an upload is invisible until committed, then holds what was written") {
  TempDir dir;
  auto file = UploadFile::create(dir.fd, 1);
  REQUIRE(file);
  // Blocks arrive in order; the second one is written first here to show
  // that offsets, not call order, place the bytes.
  CHECK(file.write(5, bytes_of("world")));
  CHECK(file.write(0, bytes_of("hello")));
  CHECK_FALSE(fs::exists(dir.base / "greeting.txt"));
  std::string reason;
  REQUIRE(file.commit("greeting.txt", reason));
  CHECK(dir.read("greeting.txt") == "helloworld");
  CHECK(dir.entries() == 1);  // no temporary name left beside it
}

TEST_CASE("a commit never replaces a name taken meanwhile") {
  TempDir dir;
  auto file = UploadFile::create(dir.fd, 2);
  REQUIRE(file);
  CHECK(file.write(0, bytes_of("upload")));
  std::ofstream(dir.base / "race.txt") << "first";
  std::string reason;
  CHECK_FALSE(file.commit("race.txt", reason));
  CHECK(reason == "file already exists");
  CHECK(dir.read("race.txt") == "first");
}

TEST_CASE("an upload dropped before its commit leaves nothing") {
  TempDir dir;
  {
    auto file = UploadFile::create(dir.fd, 3);
    REQUIRE(file);
    CHECK(file.write(0, bytes_of("partial")));
    UploadFile moved = std::move(file);
    CHECK_FALSE(file);
    CHECK(moved);
  }
  CHECK(dir.entries() == 0);
}

TEST_CASE("an upload into a directory that is gone fails with errno") {
  auto file = UploadFile::create(-1, 4);
  CHECK_FALSE(file);
  CHECK(errno != 0);
}

TEST_CASE("transfer event: fields, identity for reads, the line") {
  TransferSummary s;
  s.client = {cf::net::Ipv4::from_octets(10, 0, 0, 7), 49152};
  s.mac = "001122334455";
  s.file = "term70.default.loads";
  s.path = "term70.default.loads";
  s.bytes = 500;
  s.ms = 12;
  s.blksize = 1428;
  s.result = "ok";
  s.served = FileIdentity{500, 42, 7};
  s.resent = 1;
  const auto e = transfer_event(s);
  CHECK(e.event["event"] == "transfer");
  CHECK(e.event["direction"] == "read");
  CHECK(e.event["size"] == 500);
  CHECK(e.event["mtime_ns"] == 42);
  CHECK(e.event["inode"] == 7);
  CHECK(e.event["resent"] == 1);
  CHECK(e.event["mac"] == "001122334455");
  CHECK_FALSE(e.event.contains("error"));
  CHECK(e.line == "10.0.0.7:49152 read term70.default.loads: ok 500 bytes in 12 ms (blksize 1428, window 1)");

  s.upload = true;
  s.served.reset();
  s.result = "timeout";
  s.detail = std::string(300, 'x');
  const auto w = transfer_event(s);
  CHECK(w.event["direction"] == "write");
  CHECK_FALSE(w.event.contains("inode"));
  CHECK(w.event["error"].get<std::string>().size() == 200);  // clipped
}

TEST_CASE("refusal event: a long or hostile name is clipped in JSON and escaped in the line") {
  Request request;
  request.opcode = Opcode::rrq;
  request.filename = std::string(600, 'a') + "\n";
  const cf::net::SocketAddress client{cf::net::Ipv4::from_octets(10, 0, 0, 8), 1000};
  const auto e = refusal_event(client, &request, "file name too long", "access-violation", false, "");
  CHECK(e.event["file"].get<std::string>().size() == kMaxRequestName);
  CHECK(e.event["file_bytes"] == 601);
  CHECK(e.event["direction"] == "read");
  CHECK_FALSE(e.event.contains("mac"));
  CHECK(e.line.find('\n') == std::string::npos);
  const auto bare = refusal_event(client, nullptr, "bad", "malformed", true, "");
  CHECK(bare.quiet);
  CHECK_FALSE(bare.event.contains("file"));
  CHECK(bare.line == "10.0.0.8:1000 request: malformed (bad)");
}

// Parsers of untrusted firmware bytes: signature header, CNU archive, .loads.
#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "cf/firmware/cnu.hpp"
#include "cf/firmware/loads_file.hpp"
#include "cf/firmware/signed_file.hpp"

using namespace cf::firmware;

namespace {

using Bytes = std::vector<std::byte>;

void put8(Bytes& b, unsigned v) { b.push_back(static_cast<std::byte>(v & 0xff)); }
void put16(Bytes& b, unsigned v) { put8(b, v >> 8); put8(b, v); }
void put32(Bytes& b, std::uint32_t v) { put16(b, v >> 16); put16(b, v & 0xffff); }
void put_text(Bytes& b, std::string_view s) { for (char c : s) put8(b, static_cast<unsigned char>(c)); }
void set32(Bytes& b, std::size_t at, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) b[at + i] = static_cast<std::byte>((v >> (24 - 8 * i)) & 0xff);
}

// The fixture layout (tests/fixtures/README.md): tag 1, tag 2 = H, then a filler
// record (tag 11) that makes the header end exactly at H.
Bytes signature_header(unsigned total) {
  Bytes b;
  put8(b, 1); put16(b, 2); put16(b, 1);
  put8(b, 2); put16(b, 2); put16(b, total);
  put8(b, 11); put16(b, total - 13);
  while (b.size() < total) put8(b, 0xA5);
  return b;
}

struct CnuFile { std::uint32_t type; std::string name; std::uint32_t size; };

// A CNU archive (offsets from the magic) with the given records and content.
Bytes cnu_archive(const std::vector<CnuFile>& files) {
  Bytes b;
  put_text(b, kCnuMagic);
  b.resize(0x30);
  put32(b, static_cast<std::uint32_t>(files.size()));
  put32(b, 0);  // content offset, set below
  put_text(b, kCnuMagic);
  b.resize(kCnuHeaderSize);
  std::uint32_t name_at = static_cast<std::uint32_t>(kCnuHeaderSize + 20 * files.size());
  std::string names;
  for (const auto& f : files) {
    put32(b, f.type); put32(b, f.type == 7 ? 2 : 0); put32(b, f.size); put32(b, 1234567890);
    put32(b, f.name.empty() ? 0 : name_at + static_cast<std::uint32_t>(names.size()));
    if (!f.name.empty()) names += f.name + '\0';
  }
  put_text(b, names);
  set32(b, 0x34, static_cast<std::uint32_t>(b.size()));
  for (const auto& f : files) b.insert(b.end(), f.size, std::byte{0x42});
  return b;
}

Bytes cat(Bytes a, const Bytes& b) { a.insert(a.end(), b.begin(), b.end()); return a; }

}  // namespace

TEST_CASE("signature header: H from tags 1 and 2") {
  const auto header = signature_header(300);
  auto file = cat(header, Bytes(10, std::byte{1}));
  auto h = signature_header_length(file);
  REQUIRE(h.ok());
  CHECK(*h == 300);
}

TEST_CASE("signature header: every truncation is refused without reading past the span") {
  const auto file = signature_header(200);
  for (std::size_t n = 0; n < 10; ++n)
    CHECK_FALSE(signature_header_length(std::span(file).first(n)).ok());
  // H = 200 but only 199 bytes: the header claims more than the file has.
  const auto short_file = signature_header_length(std::span(file).first(199));
  REQUIRE_FALSE(short_file.ok());
  CHECK(short_file.error().find("claims 200") != std::string::npos);
}

TEST_CASE("signature header: wrong tags, and H shorter than its own records") {
  auto file = signature_header(100);
  file[0] = std::byte{3};
  CHECK_FALSE(signature_header_length(file).ok());
  file = signature_header(100);
  file[8] = std::byte{0}; file[9] = std::byte{4};
  CHECK_FALSE(signature_header_length(file).ok());
}

TEST_CASE("find_payload falls back to scanning for the magic") {
  Bytes file(37, std::byte{0x77});
  put_text(file, "CNU_File_Archive_3.0");
  auto at = find_payload(file, as_bytes(kCnuMagic));
  REQUIRE(at.ok());
  CHECK(*at == 37);
  CHECK_FALSE(find_payload(Bytes(64, std::byte{0}), as_bytes(kCnuMagic)).ok());
  Bytes gz(5, std::byte{0});
  put8(gz, 0x1f); put8(gz, 0x8b); put8(gz, 0x08);
  REQUIRE(find_gzip_payload(gz).ok());
  CHECK(*find_gzip_payload(gz) == 5);
  CHECK_FALSE(find_gzip_payload(std::span(gz).first(7)).ok());
}

TEST_CASE("CNU archive: a good one parses field by field") {
  const auto archive = cnu_archive({{6, "", 40}, {7, "boot/zImage", 100}, {7, "etc/inittab", 7}});
  const auto cnu = parse_cnu_archive(archive);
  INFO(cnu.error());
  REQUIRE(cnu.ok());
  CHECK(cnu->count == 3);
  CHECK(cnu->content_offset == kCnuHeaderSize + 60 + 12 + 12);
  CHECK(cnu->end == archive.size());
  CHECK_FALSE(cnu->entries[0].name.has_value());
  CHECK(*cnu->entries[1].name == "boot/zImage");
  CHECK(cnu->entries[2].size == 7);
  CHECK(cnu->entries[1].flags == 2);
}

TEST_CASE("CNU archive: every truncation fails, none crashes") {
  const auto archive = cnu_archive({{7, "usr/bin/app", 300}, {7, "etc/init.tab", 20}});
  for (std::size_t n = 0; n < archive.size(); ++n) {
    const auto cnu = parse_cnu_archive(std::span(archive).first(n));
    CHECK_FALSE(cnu.ok());
  }
  const auto one_short = parse_cnu_archive(std::span(archive).first(archive.size() - 1));
  CHECK(one_short.error().find("1 bytes missing") != std::string::npos);
}

TEST_CASE("CNU archive: hostile header fields") {
  const auto good = cnu_archive({{7, "a", 4}});
  SUBCASE("file count past the table") {
    auto b = good; set32(b, 0x30, 0xFFFFFFFF);
    CHECK(parse_cnu_archive(b).error().find("more than") != std::string::npos);
    set32(b, 0x30, 1000);
    CHECK(parse_cnu_archive(b).error().find("past the end") != std::string::npos);
  }
  SUBCASE("zero files") { auto b = good; set32(b, 0x30, 0); CHECK_FALSE(parse_cnu_archive(b).ok()); }
  SUBCASE("content offset past the file") {
    auto b = good; set32(b, 0x34, 0xFFFFFFF0);
    CHECK_FALSE(parse_cnu_archive(b).ok());
  }
  SUBCASE("content offset inside the table") {
    auto b = good; set32(b, 0x34, 0x250);
    CHECK_FALSE(parse_cnu_archive(b).ok());
  }
  SUBCASE("sizes that overflow 32 bits when summed") {
    auto b = cnu_archive({{7, "a", 4}, {7, "b", 4}});
    set32(b, kCnuHeaderSize + 8, 0xFFFFFFFF);
    set32(b, kCnuHeaderSize + 28, 0xFFFFFFFF);
    CHECK_FALSE(parse_cnu_archive(b).ok());
  }
  SUBCASE("name offset outside the name block") {
    auto b = good; set32(b, kCnuHeaderSize + 16, 0x10);
    CHECK_FALSE(parse_cnu_archive(b).ok());
    set32(b, kCnuHeaderSize + 16, static_cast<std::uint32_t>(b.size() + 5));
    CHECK_FALSE(parse_cnu_archive(b).ok());
  }
  SUBCASE("name without its NUL") {
    auto b = good;
    b[kCnuHeaderSize + 20 + 1] = std::byte{'x'};  // the NUL after "a"
    CHECK(parse_cnu_archive(b).error().find("NUL") != std::string::npos);
  }
  SUBCASE("second magic missing") {
    auto b = good; b[0x38] = std::byte{'X'};
    CHECK_FALSE(parse_cnu_archive(b).ok());
  }
}

TEST_CASE("check_sbn: header + CNU, header + opaque 7940 image, and broken ones") {
  const auto sbn = cat(signature_header(404), cnu_archive({{7, "dsp/tones.bin", 64}}));
  auto check = check_sbn(sbn);
  REQUIRE(check.ok());
  CHECK(check->kind == SbnKind::cnu);
  CHECK(check->header_length == 404);
  CHECK_FALSE(check_sbn(std::span(sbn).first(sbn.size() - 32)).ok());

  const auto loader = cat(signature_header(404), Bytes(100, std::byte{9}));
  check = check_sbn(loader);
  REQUIRE(check.ok());
  CHECK(check->kind == SbnKind::opaque);
  CHECK_FALSE(check_sbn(signature_header(404)).ok());  // nothing after the header

  // No TLV header: found by scanning for the magic.
  const auto unsigned_sbn = cat(Bytes(50, std::byte{0xEE}), cnu_archive({{7, "x", 3}}));
  check = check_sbn(unsigned_sbn);
  REQUIRE(check.ok());
  CHECK(check->header_length == 50);
}

TEST_CASE(".loads: component names after the header, exact case, in order") {
  Bytes file = signature_header(250);
  put_text(file, "apps41.8-3-3TH1-2.sbn\ncnu41.8-3-3TH1-2.sbn\nJar41sip.8-3-3TH1-2.sbn\n");
  const auto names = parse_loads_file(file);
  REQUIRE(names.ok());
  CHECK(*names == std::vector<std::string>{"apps41.8-3-3TH1-2.sbn", "cnu41.8-3-3TH1-2.sbn",
                                           "Jar41sip.8-3-3TH1-2.sbn"});
}

TEST_CASE(".loads: header bytes are never read as names; a file naming nothing fails") {
  Bytes header = signature_header(250);
  // A header whose filler spells a component name must not leak into the list.
  const std::string_view fake = "\nevil.sbn\n";
  for (std::size_t i = 0; i < fake.size(); ++i) header[20 + i] = static_cast<std::byte>(fake[i]);
  auto file = header;
  put_text(file, "P003-8-12-00.bin\r\nP0S3-8-12-00.sb2 P003-8-12-00.sbn readme.txt\n");
  const auto names = parse_loads_file(file);
  REQUIRE(names.ok());
  CHECK(*names == std::vector<std::string>{"P003-8-12-00.bin", "P0S3-8-12-00.sb2", "P003-8-12-00.sbn"});
  CHECK_FALSE(parse_loads_file(header).ok());
  CHECK_FALSE(parse_loads_file(Bytes{}).ok());
  for (std::size_t n = 0; n < file.size(); ++n) (void)parse_loads_file(std::span(file).first(n));
}

TEST_CASE("component names and recovery names") {
  CHECK(is_component_name("cvm41sip.9-4-2ES26.sbn"));
  CHECK(is_component_name("S00105000400.SBN"));
  CHECK(is_component_name("foo.zz.sgn"));
  CHECK_FALSE(is_component_name(".sbn"));
  CHECK_FALSE(is_component_name("a b.sbn"));
  CHECK_FALSE(is_component_name("readme.txt"));
  CHECK(is_recovery_loads_name("term41.default.loads"));
  CHECK_FALSE(is_recovery_loads_name("termXX.default.loads"));
  CHECK_FALSE(is_recovery_loads_name("SIP41.9-4-2SR3-1S.loads"));
}

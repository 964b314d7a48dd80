// Entry-name sanitising and container sniffing for fwunpack's archive reader.
#include <doctest/doctest.h>

#include <string>

#include "cf/firmware/archive.hpp"
#include "cf/firmware/signed_file.hpp"

using namespace cf::firmware;

TEST_CASE("member_base_name keeps the base name in exact case and drops prefixes") {
  CHECK(*member_base_name("usr/local/cm/tftp/Jar41sip.8-3-1.sbn") == "Jar41sip.8-3-1.sbn");
  CHECK(*member_base_name("SIP41.9-4-2SR3-1S.loads") == "SIP41.9-4-2SR3-1S.loads");
  CHECK(*member_base_name("7941_7961\\SIP\\x.sbn") == "x.sbn");
  CHECK(*member_base_name("./a.bin") == "a.bin");
}

TEST_CASE("member_base_name refuses what could escape the root") {
  const auto reason = [](std::string_view member) {
    auto r = member_base_name(member);
    REQUIRE_FALSE(r.ok());
    return r.error();
  };
  CHECK(reason("/etc/cron.d/ciscoflash-evil") == "absolute path");
  CHECK(reason("\\windows\\x") == "absolute path");
  CHECK(reason("C:/x.sbn") == "absolute path");
  CHECK(reason("../../../../tmp/ciscoflash-evil.sbn") == "'..' in the path");
  CHECK(reason("usr/local/cm/tftp/../../../../../tmp/x.sbn") == "'..' in the path");
  CHECK(reason("a/..") == "'..' in the path");
  CHECK(reason("..\\x") == "'..' in the path");
  CHECK(reason("dir/") == "no file name after the last '/'");
  CHECK(reason("") == "empty name");
  CHECK(reason("a\tb.sbn") == "control character in the name");
  CHECK(reason(std::string_view("a\nb", 3)) == "control character in the name");
}

TEST_CASE("sniff_container finds archives from their content") {
  const auto sniff = [](std::string text) { return sniff_container(as_bytes(text)); };
  CHECK(sniff("PK\x03\x04rest") == ContainerKind::archive);
  CHECK(sniff("\x1f\x8b\x08\x00") == ContainerKind::archive);
  std::string tar(512, '\0');
  tar.replace(257, 5, "ustar");
  CHECK(sniff(tar) == ContainerKind::archive);
  CHECK(sniff("CNU_File_Archive_3.0") == ContainerKind::none);
  CHECK(sniff("") == ContainerKind::none);
  // A signature header of H = 13 followed by a gzip stream: a .cop.sgn.
  std::string sgn("\x01\x00\x02\x00\x01\x02\x00\x02\x00\x0d\x0b\x00\x00\x1f\x8b\x08", 16);
  CHECK(sniff(sgn) == ContainerKind::signed_gzip);
  sgn[13] = 'x';
  CHECK(sniff(sgn) == ContainerKind::none);
}

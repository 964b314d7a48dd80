#include <sstream>

#include <doctest/doctest.h>

#include "cf/cli/error.hpp"
#include "cf/config/phone.hpp"

using namespace cf::config;

TEST_CASE("a MAC in any common spelling is 12 upper-case hex digits") {
  for (const char* spelling : {"001a2b3c4d5e", "00:1a:2b:3c:4d:5e", "00-1A-2B-3C-4D-5E",
                               "001A.2B3C.4D5E", "SEP001A2B3C4D5E"}) {
    CAPTURE(spelling);
    const auto mac = parse_mac(spelling);
    REQUIRE(mac);
    CHECK(*mac == "001A2B3C4D5E");
  }
  for (const char* bad : {"", "001a2b3c4d5", "001a2b3c4d5e0", "00:1a:2b:3c:4d5e", "001g2b3c4d5e",
                          "00:1a-2b:3c:4d:5e", "001a.2b3c4d5e"}) {
    CAPTURE(bad);
    const auto mac = parse_mac(bad);
    CHECK_FALSE(mac);
    CHECK(mac.error().find("not a MAC address") != std::string::npos);
  }
}

TEST_CASE("addresses that are no phone's own are refused: all-zero, broadcast, multicast") {
  CHECK(parse_mac("000000000000").error().find("all-zero") != std::string::npos);
  CHECK(parse_mac("SEP000000000000").error().find("all-zero") != std::string::npos);
  CHECK(parse_mac("ff:ff:ff:ff:ff:ff").error().find("broadcast") != std::string::npos);
  for (const char* group : {"01:00:0c:cc:cc:cc", "01005E000001", "333300000001", "0F1A2B3C4D5E"}) {
    CAPTURE(group);
    CHECK(parse_mac(group).error().find("multicast") != std::string::npos);
  }
  // The group bit is the low bit of the first octet only; a locally administered
  // unicast address (bit 1) is a possible phone.
  CHECK(parse_mac("02:00:00:00:00:01"));
  CHECK(parse_mac("0E1A2B3C4D5E"));
}

TEST_CASE("secrets the phone cannot take are refused with the limit named") {
  CHECK(check_secret("", kMaxSecretLengthCnu).empty());
  CHECK(check_secret(std::string(kMaxSecretLengthCnu, 'a'), kMaxSecretLengthCnu).empty());
  const auto long_one = check_secret(std::string(kMaxSecretLengthCnu + 1, 'a'), kMaxSecretLengthCnu);
  CHECK(long_one.find("at most 12") != std::string::npos);
  CHECK(check_secret(std::string(32, 'a'), kMaxSecretLength79x0).empty());
  CHECK(check_secret(std::string(33, 'a'), kMaxSecretLength79x0).find("at most 32") != std::string::npos);
  CHECK(check_secret("a b", 12).find("printable ASCII") != std::string::npos);
  CHECK(check_secret("a\"b", 12).find("'\"'") != std::string::npos);
  CHECK(check_secret("a\\b", 12).find("'\\'") != std::string::npos);
  CHECK_FALSE(check_secret("a;b", 12).empty());
  CHECK_FALSE(check_secret("a#b", 12).empty());
  CHECK(check_secret("a&<b>:", 12).empty());  // XML and db_text escape these; the line formats take them
  CHECK_FALSE(check_extension("10 01").empty());
  CHECK_FALSE(check_extension("").empty());
  CHECK(check_extension("1001").empty());
  CHECK_FALSE(check_display_name("Bob \"B\"").empty());
  CHECK_FALSE(check_display_name("Bob\\B").empty());
  CHECK(check_display_name("Bob & Co").empty());
  CHECK(check_quoted_text("Central Europe Standard/Daylight Time").empty());
  CHECK(check_quoted_text("CET\"").find("'\"'") != std::string::npos);
  CHECK(check_quoted_text("CET\\").find("'\\'") != std::string::npos);
  CHECK_FALSE(check_quoted_text("CET\n").empty());
}

TEST_CASE("extensions that are section names of the PBX files are refused") {
  for (const char* name : {"general", "GENERAL", "global", "system", "ciscoflash-udp",
                           "CiscoFlash-TCP", "SEP001A2B3C4D5E", "sep001a2b3c4d5e"}) {
    CAPTURE(name);
    CHECK(check_extension(name).find("section") != std::string::npos);
  }
  for (const char* fine : {"generalx", "SEP001A2B3C4D5", "SEPARATE", "ciscoflash", "1001"}) {
    CAPTURE(fine);
    CHECK(check_extension(fine).empty());
  }
}

TEST_CASE("the phones file: comments, line keys per MAC, bad lines with their numbers") {
  const auto catalog = cf::firmware::ModelCatalog::load_default();
  std::istringstream in(
      "# mac\tmodel\text\tsecret\tname\n"
      "\n"
      "00:1a:2b:3c:4d:5e\t7960\t1001\tpw1\tFront Desk\n"
      "001A2B3C4D5E\tCP-7960G\t1002\tpw2\n"
      "001a2b3c4d60\t7961\t1003\t-\n");
  const auto phones = read_phones(in, "phones.tsv", catalog);
  REQUIRE(phones.size() == 2);
  CHECK(phones[0].mac == "001A2B3C4D5E");
  CHECK(phones[0].model == "7960");
  REQUIRE(phones[0].lines.size() == 2);
  CHECK(phones[0].lines[1].display_name == "1002");
  CHECK(phones[1].lines[0].secret.empty());

  const auto error_of = [&](const std::string& text) -> std::string {
    std::istringstream bad(text);
    try {
      read_phones(bad, "p.tsv", catalog);
    } catch (const cf::Error& e) {
      CHECK(e.code() == cf::ExitCode::usage);
      return e.what();
    }
    return "accepted";
  };
  CHECK(error_of("# c\n001a2b3c4d5\t7960\t1\tpw\n").starts_with("p.tsv:2: '001a2b3c4d5' is not a MAC"));
  CHECK(error_of("001a2b3c4d5e\t7999\t1\tpw\n") == "p.tsv:1: model '7999' is not in the model catalog");
  CHECK(error_of("001a2b3c4d5e\t7961\t1\tthirteen-char\n").find("p.tsv:1: the secret is 13 characters; the phone takes at most 12") == 0);
  // 7940/7960 SIP files take the 32 characters real ones use, and no more.
  CHECK(error_of("001a2b3c4d5e\t7960\t1\t1ecc835fe9c5f80c018a69d1257df5e3\n") == "accepted");
  CHECK(error_of("001a2b3c4d5e\t7960\t1\t1ecc835fe9c5f80c018a69d1257df5e3x\n").find("p.tsv:1: the secret is 33 characters; the phone takes at most 32") == 0);
  CHECK(error_of("ffffffffffff\t7960\t1\tpw\n").starts_with("p.tsv:1: 'ffffffffffff' is the broadcast MAC"));
  CHECK(error_of("001a2b3c4d5e\t7960\tgeneral\tpw\n").starts_with("p.tsv:1: extension 'general' is a section name"));
  CHECK(error_of("001a2b3c4d5e\t7960\t1\n").starts_with("p.tsv:1: expected 4 or 5"));
  CHECK(error_of("001a2b3c4d5e\t7960\t1\tp\n001a2b3c4d5f\t7960\t1\tp\n").starts_with("p.tsv:2: extension 1 is already used"));
  CHECK(error_of("001a2b3c4d5e\t7940\t1\tp\n001a2b3c4d5e\t7940\t2\tp\n001a2b3c4d5e\t7940\t3\tp\n")
            .starts_with("p.tsv:3: phone 001A2B3C4D5E already has 2 line(s); a 7940 has 2"));
  CHECK(error_of("001a2b3c4d5e\t7940\t1\tp\n001a2b3c4d5e\t7960\t2\tp\n").starts_with("p.tsv:2: phone 001A2B3C4D5E was given as a 7940"));
}

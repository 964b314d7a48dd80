// Packet codec and option negotiation (RFC 1350, 2347, 2348, 2349, 7440).
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "cf/tftp/options.hpp"
#include "cf/tftp/packet.hpp"

using namespace cf::tftp;

namespace {

std::vector<std::byte> bytes(std::string_view text) {
  std::vector<std::byte> out;
  for (char c : text) out.push_back(static_cast<std::byte>(c));
  return out;
}

// "\x00\x01" "file\0octet\0" ... built from pieces so embedded NULs survive.
std::vector<std::byte> rrq(std::initializer_list<std::string_view> strings, bool final_nul = true) {
  std::vector<std::byte> out{std::byte{0}, std::byte{1}};
  std::size_t i = 0;
  for (auto s : strings) {
    for (char c : s) out.push_back(static_cast<std::byte>(c));
    if (++i < strings.size() || final_nul) out.push_back(std::byte{0});
  }
  return out;
}

Request parse_request(const std::vector<std::byte>& datagram) {
  auto parsed = parse_packet(datagram);
  REQUIRE(parsed.ok());
  REQUIRE(std::holds_alternative<Request>(parsed.packet()));
  return std::get<Request>(parsed.packet());
}

NegotiationResult negotiate_rrq(std::initializer_list<std::string_view> strings,
                                NegotiationLimits limits = {}) {
  return negotiate(parse_request(rrq(strings)), limits, 1000);
}

}  // namespace

TEST_CASE("RRQ with options parses; mode is case-insensitive") {
  auto r = parse_request(rrq({"SEP001122334455.cnf.xml", "OCTET", "blksize", "1428", "tsize", "0"}));
  CHECK(r.opcode == Opcode::rrq);
  CHECK(r.filename == "SEP001122334455.cnf.xml");
  CHECK(r.mode == Mode::octet);
  REQUIRE(r.options.size() == 2);
  CHECK(r.options[0] == Option{"blksize", "1428"});
  CHECK(r.options_error.empty());
  CHECK(parse_request(rrq({"a", "NetAscii"})).mode == Mode::netascii);
}

TEST_CASE("malformed requests are refused with illegal operation") {
  SUBCASE("missing NUL after the file name") {
    auto p = parse_packet(rrq({"file"}, false));
    REQUIRE_FALSE(p.ok());
    CHECK(p.failure().code == ErrorCode::illegal_operation);
  }
  SUBCASE("missing NUL after the mode") {
    auto p = parse_packet(rrq({"file", "octet"}, false));
    REQUIRE_FALSE(p.ok());
    CHECK(p.failure().code == ErrorCode::illegal_operation);
  }
  SUBCASE("unknown and mail modes") {
    CHECK_FALSE(parse_packet(rrq({"file", "binary"})).ok());
    CHECK_FALSE(parse_packet(rrq({"file", "mail"})).ok());
  }
  SUBCASE("empty name, short datagrams, unknown opcode") {
    CHECK_FALSE(parse_packet(rrq({"", "octet"})).ok());
    CHECK_FALSE(parse_packet(bytes("")).ok());
    CHECK_FALSE(parse_packet(bytes("\x00")).ok());
    CHECK_FALSE(parse_packet(std::vector<std::byte>{std::byte{0}, std::byte{4}, std::byte{1}}).ok());
    auto p = parse_packet(std::vector<std::byte>{std::byte{0}, std::byte{9}});
    REQUIRE_FALSE(p.ok());
    CHECK(p.failure().code == ErrorCode::illegal_operation);
  }
}

TEST_CASE("a broken option list is kept as options_error and refused with ERROR 8") {
  auto r = parse_request(rrq({"file", "octet", "blksize"}));
  CHECK_FALSE(r.options_error.empty());
  auto n = negotiate(r, {}, 10);
  CHECK_FALSE(n.ok());
  auto r2 = parse_request(rrq({"file", "octet", "blksize", "1024"}, false));
  CHECK_FALSE(r2.options_error.empty());
  CHECK_FALSE(negotiate(r2, {}, 10).ok());
}

TEST_CASE("old request forms: a trailing NUL after the mode, zero padding, no options") {
  // "file\0octet\0\0": the trailing empty option some old phone images send.
  auto trailing = rrq({"OS79XX.TXT", "octet", ""});
  REQUIRE(trailing.size() == 2 + 11 + 6 + 1);
  auto r = parse_request(trailing);
  CHECK(r.filename == "OS79XX.TXT");
  CHECK(r.options.empty());
  CHECK(r.options_error.empty());
  auto n = negotiate(r, {}, 10);
  REQUIRE(n.ok());
  CHECK(n.accepted->oack.empty());  // plain RFC 1350: DATA 1 first, no OACK
  // several padding NULs, after options too
  auto padded = rrq({"f", "netascii", "blksize", "1024", "", "", ""});
  auto p = parse_request(padded);
  CHECK(p.options_error.empty());
  REQUIRE(p.options.size() == 1);
  CHECK(negotiate(p, {}, 10).accepted->blksize == 1024);
  // plain RFC 1350
  auto plain = parse_request(rrq({"SEP001122AABBCC.cnf.xml", "octet"}));
  CHECK(plain.options.empty());
  CHECK(plain.options_error.empty());
  CHECK(negotiate(plain, {}, 10).accepted->oack.empty());
  // a NUL followed by more bytes is still a broken option list
  auto broken = parse_request(rrq({"f", "octet", "", "x"}, false));
  CHECK_FALSE(broken.options_error.empty());
}

TEST_CASE("ACK, DATA and ERROR parse; encoders round-trip") {
  std::vector<std::byte> out;
  encode_ack(out, 65535);
  auto p = parse_packet(out);
  REQUIRE(p.ok());
  CHECK(std::get<Ack>(p.packet()).block == 65535);
  const auto payload = bytes("hello");
  encode_data(out, 7, payload);
  p = parse_packet(out);
  REQUIRE(p.ok());
  CHECK(std::get<Data>(p.packet()).block == 7);
  CHECK(std::get<Data>(p.packet()).payload.size() == 5);
  encode_error(out, ErrorCode::file_not_found, "nope");
  p = parse_packet(out);
  REQUIRE(p.ok());
  CHECK(std::get<ErrorPacket>(p.packet()).code == ErrorCode::file_not_found);
  CHECK(std::get<ErrorPacket>(p.packet()).message == "nope");
  encode_oack(out, {{"blksize", "1428"}, {"tsize", "99"}});
  p = parse_packet(out);
  REQUIRE(p.ok());
  CHECK(std::get<OptionAck>(p.packet()).options.size() == 2);
  encode_request(out, Opcode::wrq, "x", "octet", {{"tsize", "5"}});
  CHECK(parse_request(out).opcode == Opcode::wrq);
}

TEST_CASE("blksize edge cases: 0, 7, 8, 65464, 65465, non-numeric") {
  NegotiationLimits wide;
  wide.max_blksize = 65464;
  CHECK_FALSE(negotiate_rrq({"f", "octet", "blksize", "0"}).ok());
  CHECK_FALSE(negotiate_rrq({"f", "octet", "blksize", "7"}).ok());
  CHECK_FALSE(negotiate_rrq({"f", "octet", "blksize", "65465"}).ok());
  CHECK_FALSE(negotiate_rrq({"f", "octet", "blksize", "12a"}).ok());
  CHECK_FALSE(negotiate_rrq({"f", "octet", "blksize", ""}).ok());
  CHECK_FALSE(negotiate_rrq({"f", "octet", "blksize", "-512"}).ok());
  auto eight = negotiate_rrq({"f", "octet", "blksize", "8"});
  REQUIRE(eight.ok());
  CHECK(eight.accepted->blksize == 8);
  auto top = negotiate_rrq({"f", "octet", "blksize", "65464"}, wide);
  REQUIRE(top.ok());
  CHECK(top.accepted->blksize == 65464);
  // Clamped to --max-blksize (default 1468), and the OACK says so.
  auto clamped = negotiate_rrq({"f", "octet", "blksize", "65464"});
  REQUIRE(clamped.ok());
  CHECK(clamped.accepted->blksize == 1468);
  CHECK(clamped.accepted->oack == std::vector<Option>{{"blksize", "1468"}});
}

TEST_CASE("windowsize, timeout, tsize, rollover, unknown and repeated options") {
  auto w = negotiate_rrq({"f", "octet", "windowsize", "1000"});
  REQUIRE(w.ok());
  CHECK(w.accepted->windowsize == 64);
  // at most --max-window-bytes (64 KiB) in flight: 8 blocks of 8192
  NegotiationLimits big;
  big.max_blksize = 8192;
  auto bytes_capped = negotiate_rrq({"f", "octet", "windowsize", "32", "blksize", "8192"}, big);
  REQUIRE(bytes_capped.ok());
  CHECK(bytes_capped.accepted->windowsize == 8);
  CHECK(bytes_capped.accepted->oack[0] == Option{"windowsize", "8"});
  CHECK_FALSE(negotiate_rrq({"f", "octet", "windowsize", "0"}).ok());
  CHECK_FALSE(negotiate_rrq({"f", "octet", "windowsize", "65536"}).ok());
  // timeout out of range is left out of the OACK, not an error
  auto t = negotiate_rrq({"f", "octet", "timeout", "0", "tsize", "0"});
  REQUIRE(t.ok());
  CHECK_FALSE(t.accepted->timeout_seconds);
  CHECK(t.accepted->oack == std::vector<Option>{{"tsize", "1000"}});
  auto t5 = negotiate_rrq({"f", "octet", "TimeOut", "5"});
  REQUIRE(t5.ok());
  CHECK(t5.accepted->timeout_seconds == 5u);
  CHECK(t5.accepted->oack == std::vector<Option>{{"TimeOut", "5"}});
  CHECK_FALSE(negotiate_rrq({"f", "octet", "tsize", "x"}).ok());
  auto roll = negotiate_rrq({"f", "octet", "rollover", "1"});
  REQUIRE(roll.ok());
  CHECK(roll.accepted->rollover == 1);
  // unknown options are ignored, even repeated; known ones repeated are refused
  auto unknown = negotiate_rrq({"f", "octet", "foo", "1", "foo", "2", "multicast", ""});
  REQUIRE(unknown.ok());
  CHECK(unknown.accepted->oack.empty());
  CHECK_FALSE(negotiate_rrq({"f", "octet", "blksize", "512", "BLKSIZE", "1024"}).ok());
}

TEST_CASE("netascii: no tsize, no window") {
  auto n = negotiate_rrq({"f", "netascii", "tsize", "0", "windowsize", "8", "blksize", "1024"});
  REQUIRE(n.ok());
  CHECK(n.accepted->windowsize == 1);
  CHECK_FALSE(n.accepted->tsize);
  CHECK(n.accepted->oack == std::vector<Option>{{"blksize", "1024"}});
}

TEST_CASE("WRQ tsize echoes the client's size") {
  std::vector<std::byte> out;
  encode_request(out, Opcode::wrq, "up.bin", "octet", {{"tsize", "4242"}});
  auto n = negotiate(parse_request(out), {}, std::nullopt);
  REQUIRE(n.ok());
  CHECK(n.accepted->tsize == 4242u);
}

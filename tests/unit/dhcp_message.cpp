// The DHCP codec: round trips, option 150 bytes, RFC 3396 long options,
// overload (52), and malformed packets refused with a reason.
#include <doctest/doctest.h>

#include <string>

#include "cf/dhcp/message.hpp"

using namespace cf::dhcp;
using cf::net::Ipv4;

namespace {

Bytes bytes_of(std::initializer_list<int> values) {
  Bytes b;
  for (int v : values) b.push_back(std::byte(v));
  return b;
}

Message sample_request() {
  Message m;
  m.xid = 0x12345678;
  m.secs = 3;
  m.flags = Message::broadcast_flag;
  m.ciaddr = *Ipv4::parse("10.0.0.9");
  m.giaddr = *Ipv4::parse("10.9.0.1");
  m.set_mac(*MacAddress::parse("00:1b:54:aa:bb:cc"));
  m.file = "boot.bin";
  m.sname = "tftp";
  m.options.set_u8(option::message_type, 3);
  m.options.set_text(option::vendor_class, "Cisco Systems, Inc. IP Phone CP-7960G");
  m.options.set(option::parameter_list, bytes_of({1, 3, 6, 150, 66}));
  return m;
}

// A minimal valid packet: header, cookie, then `options` as given.
Bytes raw_packet(const Bytes& options) {
  Bytes b(236, std::byte{0});
  b[0] = std::byte{1};
  b[1] = std::byte{1};
  b[2] = std::byte{6};
  for (int v : {0x63, 0x82, 0x53, 0x63}) b.push_back(std::byte(v));
  b.insert(b.end(), options.begin(), options.end());
  return b;
}

}  // namespace

TEST_CASE("a request survives serialize and parse unchanged") {
  const auto m = sample_request();
  const auto wire = serialize(m);
  CHECK(wire.size() == 300);  // padded to the BOOTP minimum
  CHECK(serialized_size(m) == wire.size());
  const auto back = parse_message(wire);
  REQUIRE(back.ok());
  CHECK(*back == m);
  CHECK(back->type() == MessageType::request);
  CHECK(back->wants_broadcast());
  CHECK(back->mac()->to_string() == "00:1b:54:aa:bb:cc");
  CHECK(back->options.text(option::vendor_class) == "Cisco Systems, Inc. IP Phone CP-7960G");
}

TEST_CASE("every message type has its name and round-trips") {
  for (int t = 1; t <= 8; ++t) {
    Message m;
    m.options.set_u8(option::message_type, static_cast<std::uint8_t>(t));
    const auto back = parse_message(serialize(m));
    REQUIRE(back.ok());
    REQUIRE(back->type().has_value());
    CHECK(static_cast<int>(*back->type()) == t);
  }
  CHECK(to_string(MessageType::discover) == "discover");
  CHECK(to_string(MessageType::inform) == "inform");
  Message bad;
  bad.options.set_u8(option::message_type, 9);
  CHECK_FALSE(bad.type().has_value());
}

TEST_CASE("option 150 carries addresses in network byte order") {
  Options o;
  const std::vector<Ipv4> servers{*Ipv4::parse("192.168.1.1"), *Ipv4::parse("10.0.0.2")};
  o.set_ipv4_list(option::tftp_servers, servers);
  CHECK(*o.find(150) == bytes_of({0xC0, 0xA8, 0x01, 0x01, 0x0A, 0x00, 0x00, 0x02}));
  Message m;
  m.options = o;
  const auto wire = serialize(m);
  // 240: cookie end; then 150, length 8, the bytes
  CHECK(std::to_integer<int>(wire[240]) == 150);
  CHECK(std::to_integer<int>(wire[241]) == 8);
  CHECK(std::to_integer<int>(wire[242]) == 0xC0);
  CHECK(std::to_integer<int>(wire[245]) == 0x01);
  CHECK(parse_message(wire)->options.ipv4_list(150) == servers);
}

TEST_CASE("options over 255 bytes are split and joined (RFC 3396)") {
  Message m;
  Bytes big(600);
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = std::byte(i % 251);
  m.options.set(43, big);
  m.options.set_u8(option::message_type, 1);
  const auto wire = serialize(m);
  // 53 first (3 bytes), then three pieces of option 43: 255, 255, 90
  CHECK(std::to_integer<int>(wire[243]) == 43);
  CHECK(std::to_integer<int>(wire[244]) == 255);
  CHECK(std::to_integer<int>(wire[243 + 257]) == 43);
  CHECK(std::to_integer<int>(wire[243 + 514 + 1]) == 90);
  const auto back = parse_message(wire);
  REQUIRE(back.ok());
  CHECK(*back->options.find(43) == big);
  CHECK(serialized_size(m) == wire.size());
}

TEST_CASE("repeated codes in a packet are concatenated") {
  const auto wire = raw_packet(bytes_of({150, 4, 192, 168, 1, 1, 150, 4, 192, 168, 1, 2, 255}));
  const auto m = parse_message(wire);
  REQUIRE(m.ok());
  CHECK(m->options.ipv4_list(150)->size() == 2);
}

TEST_CASE("overloaded file and sname fields are read once each") {
  auto wire = raw_packet(bytes_of({53, 1, 1, 52, 1, 3, 255}));
  // file field at 108: option 60 "ab", and an option 52 that must be ignored
  for (auto [at, v] : std::initializer_list<std::pair<int, int>>{
           {108, 60}, {109, 2}, {110, 'a'}, {111, 'b'}, {112, 52}, {113, 1}, {114, 3}, {115, 255}})
    wire[at] = std::byte(v);
  // sname field at 44: option 12 "x"
  for (auto [at, v] : std::initializer_list<std::pair<int, int>>{{44, 12}, {45, 1}, {46, 'x'}, {47, 255}})
    wire[at] = std::byte(v);
  const auto m = parse_message(wire);
  REQUIRE(m.ok());
  CHECK(m->options.text(60) == "ab");
  CHECK(m->options.text(12) == "x");
  CHECK_FALSE(m->options.contains(52));
  CHECK(m->file.empty());
  CHECK(m->sname.empty());
}

TEST_CASE("malformed packets are refused with a reason") {
  SUBCASE("truncated") {
    const auto r = parse_message(Bytes(239, std::byte{0}));
    CHECK_FALSE(r.ok());
    CHECK(r.error().find("truncated") != std::string::npos);
  }
  SUBCASE("no magic cookie") {
    auto wire = raw_packet(bytes_of({255}));
    wire[236] = std::byte{0};
    CHECK(parse_message(wire).error().find("magic cookie") != std::string::npos);
  }
  SUBCASE("option length past the end") {
    const auto r = parse_message(raw_packet(bytes_of({53, 1, 1, 60, 20, 'a', 'b'})));
    CHECK(r.error().find("past the end") != std::string::npos);
  }
  SUBCASE("option without a length byte") {
    CHECK(parse_message(raw_packet(bytes_of({53, 1, 1, 60}))).error().find("no length") !=
          std::string::npos);
  }
  SUBCASE("no END") {
    CHECK(parse_message(raw_packet(bytes_of({53, 1, 1}))).error().find("END") != std::string::npos);
  }
  SUBCASE("bad overload value") {
    CHECK_FALSE(parse_message(raw_packet(bytes_of({52, 1, 7, 255}))).ok());
  }
  SUBCASE("hlen over 16") {
    auto wire = raw_packet(bytes_of({255}));
    wire[2] = std::byte{17};
    CHECK_FALSE(parse_message(wire).ok());
  }
  SUBCASE("overload whose fields run past their end") {
    auto wire = raw_packet(bytes_of({52, 1, 1, 255}));
    wire[108 + 126] = std::byte{60};
    wire[108 + 127] = std::byte{9};
    CHECK(parse_message(wire).error().find("file field") != std::string::npos);
  }
}

TEST_CASE("MAC addresses parse in the usual spellings") {
  CHECK(MacAddress::parse("00:1B:54:aa:bb:cc")->to_string() == "00:1b:54:aa:bb:cc");
  CHECK(MacAddress::parse("001b54aabbcc")->to_string() == "00:1b:54:aa:bb:cc");
  CHECK(MacAddress::parse("00-1b-54-aa-bb-cc").has_value());
  CHECK_FALSE(MacAddress::parse("00:1b:54:aa:bb").has_value());
  CHECK_FALSE(MacAddress::parse("00:1b:54:aa:bb:cc:dd").has_value());
  CHECK_FALSE(MacAddress::parse("0:1b:54:aa:bb:cc0").has_value());
  CHECK_FALSE(MacAddress::parse("zz:1b:54:aa:bb:cc").has_value());
}

TEST_CASE("text options drop the trailing NUL phones send") {
  Options o;
  o.set(60, bytes_of({'C', 'P', 0}));
  CHECK(o.text(60) == "CP");
}

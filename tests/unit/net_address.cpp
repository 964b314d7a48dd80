#include <array>
#include <cstddef>
#include <unordered_set>

#include <doctest/doctest.h>

#include "cf/net/ipv4.hpp"
#include "cf/net/udp.hpp"

using namespace cf::net;

namespace {
std::array<std::byte, 4> bytes(int a, int b, int c, int d) {
  return {std::byte(a), std::byte(b), std::byte(c), std::byte(d)};
}
}  // namespace

TEST_CASE("dotted quads parse and print") {
  CHECK(Ipv4::parse("192.168.1.1") == Ipv4::from_octets(192, 168, 1, 1));
  CHECK(Ipv4::parse("0.0.0.0") == Ipv4::any());
  CHECK(Ipv4::parse("255.255.255.255") == Ipv4::limited_broadcast());
  CHECK(Ipv4::parse("10.0.200.7")->to_string() == "10.0.200.7");
  CHECK(Ipv4::from_uint(0x7F000001).to_string() == "127.0.0.1");
  CHECK(Ipv4::from_octets(192, 168, 1, 1).to_uint() == 0xC0A80101u);
}

TEST_CASE("malformed dotted quads are refused") {
  for (const char* bad : {"", "1.2.3", "1.2.3.4.5", "010.1.1.1", "1.2.3.04", "256.1.1.1",
                          "1.2.3.256", " 1.2.3.4", "1.2.3.4 ", "1..3.4", ".1.2.3", "1.2.3.",
                          "1.2.3.-4", "+1.2.3.4", "1.2.3.4/24", "0x01.2.3.4", "a.b.c.d",
                          "1.2.3.4:69", "99999999999.1.1.1", "1 .2.3.4", "1.2.3.4\n"}) {
    CAPTURE(bad);
    CHECK_FALSE(Ipv4::parse(bad));
  }
}

TEST_CASE("network byte order puts the first octet first") {
  const auto address = *Ipv4::parse("192.168.1.1");
  CHECK(address.to_network_bytes() == bytes(0xC0, 0xA8, 0x01, 0x01));
  const auto wire = bytes(0xC0, 0xA8, 0x01, 0x01);
  CHECK(Ipv4::from_network_bytes(wire) == address);
  CHECK(Ipv4::parse_network_bytes(wire) == address);
  CHECK_FALSE(Ipv4::parse_network_bytes(std::span(wire).first(3)));
  const std::array<std::byte, 5> longer{};
  CHECK_FALSE(Ipv4::parse_network_bytes(longer));
}

TEST_CASE("addresses compare, hash and step without wrapping") {
  const auto a = *Ipv4::parse("192.168.1.255");
  CHECK(a < *Ipv4::parse("192.168.2.0"));
  CHECK(a.next() == Ipv4::parse("192.168.2.0"));
  CHECK(a.offset(-255) == Ipv4::parse("192.168.1.0"));
  CHECK_FALSE(Ipv4::limited_broadcast().next());
  CHECK_FALSE(Ipv4::any().offset(-1));
  CHECK(Ipv4::any().offset(0xFFFFFFFF) == Ipv4::limited_broadcast());
  std::unordered_set<Ipv4> set{a, a, Ipv4::any()};
  CHECK(set.size() == 2);
  CHECK(Ipv4::loopback().is_loopback());
  CHECK(Ipv4::from_octets(224, 0, 0, 1).is_multicast());
  CHECK(Ipv4::any().is_unspecified());
}

TEST_CASE("networks parse, contain, and give netmask and broadcast") {
  const auto net = Ipv4Network::parse("192.168.1.0/24");
  REQUIRE(net);
  CHECK(net->network() == Ipv4::from_octets(192, 168, 1, 0));
  CHECK(net->prefix_length() == 24);
  CHECK(net->netmask() == Ipv4::from_octets(255, 255, 255, 0));
  CHECK(net->broadcast() == Ipv4::from_octets(192, 168, 1, 255));
  CHECK(net->contains(*Ipv4::parse("192.168.1.100")));
  CHECK_FALSE(net->contains(*Ipv4::parse("192.168.2.1")));
  CHECK(net->to_string() == "192.168.1.0/24");

  const auto all = Ipv4Network::parse("0.0.0.0/0");
  REQUIRE(all);
  CHECK(all->netmask() == Ipv4::any());
  CHECK(all->contains(Ipv4::limited_broadcast()));
  const auto host = Ipv4Network::parse("10.1.2.3/32");
  REQUIRE(host);
  CHECK(host->broadcast() == host->network());

  for (const char* bad : {"192.168.1.5/24", "192.168.1.0", "192.168.1.0/33", "192.168.1.0/",
                          "192.168.1.0/024", "192.168.1.0/-1", "/24", "192.168.1.0/24 "}) {
    CAPTURE(bad);
    CHECK_FALSE(Ipv4Network::parse(bad));
  }
  CHECK(Ipv4Network::containing(*Ipv4::parse("192.168.1.5"), 24) == net);
  CHECK_FALSE(Ipv4Network::containing(Ipv4::any(), 33));
  CHECK(Ipv4Network::from_netmask(*Ipv4::parse("192.168.1.5"), *Ipv4::parse("255.255.255.0")) ==
        net);
  CHECK(Ipv4Network::from_netmask(Ipv4::any(), Ipv4::any())->prefix_length() == 0);
  CHECK(Ipv4Network::from_netmask(Ipv4::any(), Ipv4::limited_broadcast())->prefix_length() == 32);
  CHECK_FALSE(Ipv4Network::from_netmask(Ipv4::any(), *Ipv4::parse("255.0.255.0")));
}

TEST_CASE("the Windows little-endian hex spelling of option 150") {
  const auto address = *Ipv4::parse("192.168.1.1");
  CHECK(to_windows_hex(address) == "0x0101A8C0");
  for (const char* spelling : {"0x0101A8C0", "0x0101a8c0", "0X0101A8C0"}) {
    CAPTURE(spelling);
    const auto hex = parse_windows_hex(spelling);
    REQUIRE(hex);
    CHECK(hex->address == address);
    CHECK(hex->explanation ==
          "0x0101A8C0 is the little-endian hex spelling of 192.168.1.1 "
          "(bytes C0 A8 01 01 on the wire)");
  }
  CHECK(parse_windows_hex("0x0A00000A")->address == Ipv4::from_octets(10, 0, 0, 10));
  CHECK(to_windows_hex(Ipv4::from_octets(10, 1, 2, 3)) == "0x0302010A");
  for (const char* bad : {"0101A8C0", "0x101A8C0", "0x00101A8C0", "0x0101A8CG", "0x", "",
                          "x0101A8C0", "0x0101A8C0 ", "0x-101A8C0", "0y0101A8C0"}) {
    CAPTURE(bad);
    CHECK_FALSE(parse_windows_hex(bad));
  }
}

TEST_CASE("either spelling is accepted and the spelling reported") {
  const auto dotted = parse_address_any("192.168.1.1");
  REQUIRE(dotted);
  CHECK(dotted->spelling == AddressSpelling::dotted_quad);
  CHECK(dotted->explanation.empty());
  const auto hex = parse_address_any("0x0101A8C0");
  REQUIRE(hex);
  CHECK(hex->spelling == AddressSpelling::windows_hex);
  CHECK(hex->address == dotted->address);
  CHECK(hex->explanation.find("192.168.1.1") != std::string::npos);
  CHECK_FALSE(parse_address_any("3232235777"));
  CHECK_FALSE(parse_address_any("tftp.example"));
}

TEST_CASE("socket addresses parse ADDR[:PORT] and print ADDR:PORT") {
  CHECK(SocketAddress::parse("1.2.3.4:69", 0) == SocketAddress{Ipv4::from_octets(1, 2, 3, 4), 69});
  CHECK(SocketAddress::parse("1.2.3.4", 6969) ==
        SocketAddress{Ipv4::from_octets(1, 2, 3, 4), 6969});
  CHECK(SocketAddress::parse("0.0.0.0:0", 69)->port == 0);
  CHECK(SocketAddress::parse("1.2.3.4:65535", 0)->port == 65535);
  CHECK(SocketAddress{Ipv4::from_octets(1, 2, 3, 4), 69}.to_string() == "1.2.3.4:69");
  for (const char* bad : {"1.2.3.4:", "1.2.3.4:65536", "1.2.3.4:069", "1.2.3.4:x", ":69",
                          "1.2.3.4:69:1", "1.2.3.4: 69", "host:69"}) {
    CAPTURE(bad);
    CHECK_FALSE(SocketAddress::parse(bad, 69));
  }
  const SocketAddress a{Ipv4::loopback(), 69};
  CHECK(SocketAddress::from_sockaddr(a.to_sockaddr()) == a);
  std::unordered_set<SocketAddress> set{a, a, SocketAddress{Ipv4::loopback(), 70}};
  CHECK(set.size() == 2);
}

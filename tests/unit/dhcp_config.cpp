// Configuration spellings: pools, reservations (flag and file), --option
// types, the Windows hex address spelling, and validate(); and export.
#include <doctest/doctest.h>

#include <sstream>

#include "cf/cli/error.hpp"
#include "cf/dhcp/config.hpp"
#include "cf/dhcp/export.hpp"

using namespace cf::dhcp;
using cf::net::Ipv4;

namespace {
const auto link = cf::net::Ipv4Network::parse("192.168.1.0/24");
Bytes bytes_of(std::initializer_list<int> values) {
  Bytes b;
  for (int v : values) b.push_back(std::byte(v));
  return b;
}
}  // namespace

TEST_CASE("pools take the link's network or an explicit prefix") {
  const auto local = parse_pool("192.168.1.100-192.168.1.250", link);
  REQUIRE(local.ok());
  CHECK(local->network == *link);
  CHECK(local->size() == 151);
  const auto relayed = parse_pool("10.9.0.10-10.9.0.20/24", link);
  REQUIRE(relayed.ok());
  CHECK(relayed->network.to_string() == "10.9.0.0/24");
  CHECK(parse_pool("10.9.0.10-10.9.0.20", link).error().find("prefix length") != std::string::npos);
  CHECK_FALSE(parse_pool("192.168.1.250-192.168.1.100", link).ok());
  CHECK_FALSE(parse_pool("192.168.1.0-192.168.1.10", link).ok());   // network address
  CHECK_FALSE(parse_pool("192.168.1.10-192.168.2.10", link).ok());  // leaves the subnet
  CHECK_FALSE(parse_pool("192.168.1.10", link).ok());
}

TEST_CASE("reservations from flags and from a file") {
  const auto r = parse_reservation("00:1B:54:AA:BB:CC=192.168.1.20,SEP001B54AABBCC");
  REQUIRE(r.ok());
  CHECK(r->address == *Ipv4::parse("192.168.1.20"));
  CHECK(r->hostname == "SEP001B54AABBCC");
  CHECK(parse_reservation("00:1b:54:aa:bb:cc=192.168.1.21")->hostname.empty());
  CHECK_FALSE(parse_reservation("00:1b:54:aa:bb=192.168.1.21").ok());
  CHECK_FALSE(parse_reservation("00:1b:54:aa:bb:cc=192.168.1").ok());

  std::istringstream file("# phones\n00:1b:54:00:00:01 192.168.1.30 lobby\n\n00:1b:54:00:00:02=192.168.1.31\n");
  const auto list = read_reservations(file, "res.txt");
  REQUIRE(list.size() == 2);
  CHECK(list[0].hostname == "lobby");
  std::istringstream bad("00:1b:54:00:00:01 192.168.1.30\nnonsense\n");
  try {
    read_reservations(bad, "res.txt");
    FAIL("no error");
  } catch (const cf::Error& e) {
    CHECK(std::string(e.what()).find("res.txt:2:") != std::string::npos);
    CHECK(e.code() == cf::ExitCode::usage);  // exit 2, as the man page promises
  }
}

TEST_CASE("--option CODE:TYPE=VALUE for every type") {
  CHECK(parse_option_spec("150:ips=192.168.1.1,10.0.0.2")->value ==
        bytes_of({0xC0, 0xA8, 1, 1, 10, 0, 0, 2}));
  CHECK(parse_option_spec("150:ip=192.168.1.1")->value == bytes_of({0xC0, 0xA8, 1, 1}));
  CHECK(parse_option_spec("66:str=tftp.example")->value.size() == 12);
  CHECK(parse_option_spec("23:u8=64")->value == bytes_of({64}));
  CHECK(parse_option_spec("26:u16=1500")->value == bytes_of({0x05, 0xDC}));
  CHECK(parse_option_spec("2:u32=0x10")->value == bytes_of({0, 0, 0, 0x10}));
  CHECK(parse_option_spec("43:hex=01:04:c0:a8:01:01")->value == bytes_of({1, 4, 0xC0, 0xA8, 1, 1}));
  CHECK_FALSE(parse_option_spec("23:u8=256").ok());
  CHECK_FALSE(parse_option_spec("150:ip=192.168.1.1,10.0.0.2").ok());
  CHECK_FALSE(parse_option_spec("150:ips=192.168.1.300").ok());
  CHECK_FALSE(parse_option_spec("300:u8=1").ok());
  CHECK_FALSE(parse_option_spec("53:u8=1").ok());
  CHECK_FALSE(parse_option_spec("43:hex=abc").ok());
  CHECK_FALSE(parse_option_spec("43:float=1").ok());
  CHECK_FALSE(parse_option_spec("43").ok());
}

TEST_CASE("the Windows hex spelling is accepted and explained") {
  const auto spec = parse_option_spec("150:ips=0x0101A8C0");
  REQUIRE(spec.ok());
  CHECK(spec->value == bytes_of({0xC0, 0xA8, 0x01, 0x01}));
  REQUIRE(spec->notes.size() == 1);
  CHECK(spec->notes[0].find("192.168.1.1") != std::string::npos);
  std::vector<std::string> notes;
  const auto list = parse_address_list("10.0.0.1, 0x0101A8C0", notes);
  REQUIRE(list.ok());
  CHECK(list->at(1) == *Ipv4::parse("192.168.1.1"));
  CHECK(notes.size() == 1);
}

TEST_CASE("validate refuses setups that cannot work") {
  Config c;
  c.server_id = *Ipv4::parse("192.168.1.1");
  CHECK_THROWS_AS(validate(c), cf::UsageError);  // no pool
  c.pools.push_back(*parse_pool("192.168.1.100-192.168.1.150", link));
  validate(c);
  c.pools.push_back(*parse_pool("192.168.1.150-192.168.1.160", link));
  CHECK_THROWS_AS(validate(c), cf::UsageError);  // overlap
  c.pools.pop_back();
  c.reservations.push_back(*parse_reservation("00:1b:54:00:00:01=10.0.0.5"));
  CHECK_THROWS_AS(validate(c), cf::UsageError);  // outside every network
  c.reservations.back() = *parse_reservation("00:1b:54:00:00:01=192.168.1.1");
  CHECK_THROWS_AS(validate(c), cf::UsageError);  // the server itself
  c.reservations.back() = *parse_reservation("00:1b:54:00:00:01=192.168.1.20");
  c.reservations.push_back(*parse_reservation("00:1b:54:00:00:02=192.168.1.20"));
  CHECK_THROWS_AS(validate(c), cf::UsageError);  // one address, two MACs
  c.reservations.pop_back();
  validate(c);
  c.reservations.back() = *parse_reservation("00:1b:54:00:00:01=192.168.1.0");
  CHECK_THROWS_WITH_AS(validate(c), doctest::Contains("network address of 192.168.1.0/24"), cf::UsageError);
  c.reservations.back() = *parse_reservation("00:1b:54:00:00:01=192.168.1.255");
  CHECK_THROWS_WITH_AS(validate(c), doctest::Contains("broadcast address"), cf::UsageError);
  c.routers.push_back(*Ipv4::parse("192.168.1.254"));
  c.reservations.back() = *parse_reservation("00:1b:54:00:00:01=192.168.1.254");
  CHECK_THROWS_WITH_AS(validate(c), doctest::Contains("router"), cf::UsageError);
  c.reservations.back() = *parse_reservation("00:1b:54:00:00:01=192.168.1.20");
  validate(c);
  c.lease_time = 30;
  CHECK_THROWS_AS(validate(c), cf::UsageError);
}

TEST_CASE("--config files: unknown keys and garbage lines refused with FILE:LINE") {
  const std::vector<std::string> known{"iface", "pool", "tftp", "only-vendor", "probe-time", "quiet"};
  auto check = [&](const std::string& text) {
    std::istringstream in(text);
    check_config_file(in, "dhcpd.conf", known);
  };
  check("# the phones\n[default]\niface = eth1\npool = [\"192.168.1.100-192.168.1.150\",\n"
        "  \"192.168.1.160-192.168.1.170\"]\n; other comment\nprobe_time = 0\n"
        "only-vendor = \"Cisco Systems, Inc. IP Phone\"\n\n");
  CHECK_THROWS_WITH_AS(check("iface = eth1\ntftp-server = 1.2.3.4\n"),
                       "dhcpd.conf:2: unknown key 'tftp-server'", cf::UsageError);
  CHECK_THROWS_WITH_AS(check("iface = eth1\n\nrm -rf /\n"),
                       "dhcpd.conf:3: want KEY = VALUE, got 'rm -rf /'", cf::UsageError);
  CHECK_THROWS_WITH_AS(check("[server]\niface = eth1\n"), doctest::Contains("dhcpd.conf:1:"), cf::UsageError);
  CHECK_THROWS_WITH_AS(check("pool = [\"a\",\n"), doctest::Contains("never closed"), cf::UsageError);
  CHECK_THROWS_WITH_AS(check("iface = eth1\n\x1b[2Jx\n"), doctest::Contains("\\x1b"), cf::UsageError);
}

TEST_CASE("export writes option 150 as an address array in every format") {
  Config c;
  c.server_id = *Ipv4::parse("192.168.1.1");
  c.pools.push_back(*parse_pool("192.168.1.100-192.168.1.150", link));
  c.routers.push_back(*Ipv4::parse("192.168.1.1"));
  const std::vector<Ipv4> tftp{*Ipv4::parse("192.168.1.1"), *Ipv4::parse("192.168.1.2")};
  c.options.set_ipv4_list(option::tftp_servers, tftp);
  c.options.set_text(option::tftp_server_name, "192.168.1.1");
  c.only_vendor = "Cisco Systems, Inc. IP Phone";
  c.reservations.push_back(*parse_reservation("00:1b:54:00:00:01=192.168.1.20,lobby"));
  const auto dnsmasq = export_config(c, ExportFormat::dnsmasq, "eth1");
  CHECK(dnsmasq.find("dhcp-option=150,192.168.1.1,192.168.1.2\n") != std::string::npos);
  CHECK(dnsmasq.find("dhcp-vendorclass=set:phone,\"Cisco Systems, Inc. IP Phone\"") != std::string::npos);
  CHECK(dnsmasq.find("dhcp-host=00:1b:54:00:00:01,192.168.1.20,lobby") != std::string::npos);
  const auto kea = export_config(c, ExportFormat::kea, "eth1");
  CHECK(kea.find("\"data\": \"192.168.1.1, 192.168.1.2\"") != std::string::npos);
  CHECK(kea.find("\"array\": true") != std::string::npos);
  CHECK(kea.find("substring(option[60].hex,0,28) == 'Cisco Systems, Inc. IP Phone'") != std::string::npos);
  const auto isc = export_config(c, ExportFormat::isc, "");
  CHECK(isc.find("option tftp-servers code 150 = array of ip-address;") != std::string::npos);
  CHECK(isc.find("option tftp-servers 192.168.1.1, 192.168.1.2;") != std::string::npos);
  CHECK(isc.find("range 192.168.1.100 192.168.1.150;") != std::string::npos);
  CHECK(parse_export_format("kea") == ExportFormat::kea);
  CHECK_FALSE(parse_export_format("udhcpd").has_value());
}

// CDP and LLDP-MED announcements: frames built here byte by byte from the
// protocol layouts (CDP: 802.3 + SNAP 00000c/2000; LLDP: IEEE 802.1AB TLVs,
// LLDP-MED inventory ANSI/TIA-1057), good ones, broken ones, and the table
// that turns a phone's periodic frames into one event per change.
#include <doctest/doctest.h>

#include <string>
#include <string_view>

#include "cf/dhcp/announce.hpp"

using namespace cf::dhcp;

namespace {

const cf::firmware::ModelCatalog& catalog() {
  static const auto c = cf::firmware::ModelCatalog::load_default();
  return c;
}

void put(Bytes& b, std::initializer_list<int> values) {
  for (int v : values) b.push_back(std::byte(v));
}
void put16(Bytes& b, std::size_t v) { put(b, {int(v >> 8 & 0xFF), int(v & 0xFF)}); }
void put_text(Bytes& b, std::string_view s) {
  for (char c : s) b.push_back(std::byte(static_cast<unsigned char>(c)));
}

struct CdpTlv {
  int type;
  Bytes value;
};
CdpTlv cdp_text(int type, std::string_view text) {
  Bytes v;
  put_text(v, text);
  return {type, v};
}
CdpTlv cdp_address(std::initializer_list<int> ip) {
  Bytes v;
  put(v, {0, 0, 0, 1, 1, 1, 0xCC, 0, 4});
  put(v, ip);
  return {2, v};
}

// RFC 1071 sum with the odd byte as the low byte of a sign-extended word:
// what Cisco devices send (the variant the parser must accept besides RFC 1071).
std::uint16_t cisco_checksum(const Bytes& pdu) {
  std::uint32_t sum = 0;
  for (std::size_t i = 0; i + 1 < pdu.size(); i += 2)
    sum += std::to_integer<std::uint32_t>(pdu[i]) << 8 | std::to_integer<std::uint32_t>(pdu[i + 1]);
  if (pdu.size() % 2 != 0) {
    const auto last = std::to_integer<std::uint32_t>(pdu.back());
    sum += (last & 0x80) != 0 ? (0xFF00 | last) : last;
  }
  while (sum >> 16) sum = (sum & 0xFFFF) + (sum >> 16);
  return static_cast<std::uint16_t>(~sum);
}

const char* phone_src = "00:1e:4a:12:34:56";

Bytes cdp_frame(const std::vector<CdpTlv>& tlvs, std::string_view source = phone_src,
                bool checksum = true, int version = 2) {
  Bytes pdu;
  put(pdu, {version, 180, 0, 0});
  for (const auto& t : tlvs) {
    put16(pdu, t.type);
    put16(pdu, t.value.size() + 4);
    pdu.insert(pdu.end(), t.value.begin(), t.value.end());
  }
  if (checksum) {
    const auto sum = cisco_checksum(pdu);
    pdu[2] = std::byte(sum >> 8);
    pdu[3] = std::byte(sum & 0xFF);
  }
  Bytes f;
  put(f, {0x01, 0x00, 0x0c, 0xcc, 0xcc, 0xcc});
  const auto src = *MacAddress::parse(source);
  for (auto o : src.octets) f.push_back(std::byte(o));
  put16(f, pdu.size() + 8);
  put(f, {0xAA, 0xAA, 0x03, 0x00, 0x00, 0x0C, 0x20, 0x00});
  f.insert(f.end(), pdu.begin(), pdu.end());
  while (f.size() < 60) f.push_back(std::byte{0});  // Ethernet minimum: padding past the 802.3 length
  return f;
}

std::vector<CdpTlv> phone_tlvs(std::string_view load = "P00308000900",
                               std::string_view platform = "Cisco IP Phone 7960") {
  return {cdp_text(1, "SEP001E4A123456"), cdp_address({10, 1, 2, 3}), cdp_text(3, "Port 1"),
          cdp_text(5, load), cdp_text(6, platform)};
}

void lldp_tlv(Bytes& b, int type, const Bytes& value) {
  put16(b, static_cast<std::size_t>(type) << 9 | value.size());
  b.insert(b.end(), value.begin(), value.end());
}
Bytes text_bytes(std::string_view s) {
  Bytes b;
  put_text(b, s);
  return b;
}
Bytes med(int subtype, std::string_view text) {
  Bytes b;
  put(b, {0x00, 0x12, 0xBB, subtype});
  put_text(b, text);
  return b;
}

Bytes lldp_frame(std::string_view software = "SCCP45.9-4-2SR3-1S", std::string_view model = "CP-7965G",
                 bool with_name = true) {
  Bytes f;
  put(f, {0x01, 0x80, 0xc2, 0x00, 0x00, 0x0e, 0x00, 0x1e, 0x4a, 0xab, 0xcd, 0xef, 0x88, 0xcc});
  Bytes chassis;  // network address subtype, IPv4, as Cisco phones send
  put(chassis, {5, 1, 10, 1, 2, 9});
  lldp_tlv(f, 1, chassis);
  Bytes port;
  put(port, {7});
  put_text(port, "001E4AABCDEF:P1");
  lldp_tlv(f, 2, port);
  Bytes ttl;
  put(ttl, {0, 180});
  lldp_tlv(f, 3, ttl);
  if (with_name) lldp_tlv(f, 5, text_bytes("SEP001E4AABCDEF"));
  Bytes mgmt;
  put(mgmt, {5, 1, 10, 1, 2, 9, 2, 0, 0, 0, 0, 0});
  lldp_tlv(f, 8, mgmt);
  lldp_tlv(f, 127, med(5, "2"));        // hardware revision
  lldp_tlv(f, 127, med(6, "tnp65.8-3-1-21a.bin"));  // firmware revision: the boot load, not the one running
  lldp_tlv(f, 127, med(7, software));  // software revision
  lldp_tlv(f, 127, med(8, "FCH1234ABCD"));
  lldp_tlv(f, 127, med(9, "Cisco Systems, Inc."));
  lldp_tlv(f, 127, med(10, model));
  lldp_tlv(f, 0, {});
  return f;
}

}  // namespace

TEST_CASE("a 7960's CDP frame gives its MAC, model, load and IP") {
  const auto a = parse_announcement(cdp_frame(phone_tlvs()), &catalog());
  REQUIRE_MESSAGE(a.ok(), a.error());
  CHECK(a->protocol == AnnounceProtocol::cdp);
  CHECK(a->mac.to_string() == "00:1e:4a:12:34:56");
  CHECK(a->mac_from_device_id);
  CHECK(a->device_id == "SEP001E4A123456");
  CHECK(a->model == "7960");
  CHECK(a->model_in_catalog);
  CHECK(a->load == "P00308000900");
  CHECK(a->load_valid);
  REQUIRE(a->ip);
  CHECK(a->ip->to_string() == "10.1.2.3");
  CHECK(a->port == "Port 1");
  CHECK(a->ttl == 180);
  CHECK(a->is_phone());
}

TEST_CASE("CDP platform spellings map to catalog models, else keep the digits") {
  bool known = false;
  CHECK(announced_model("Cisco IP Phone CP-7965G", &catalog(), known) == "7965");
  CHECK(known);
  CHECK(announced_model("Cisco IP Phone 7941", &catalog(), known) == "7941");
  CHECK(announced_model("Cisco IP Phone CP-7941G-GE", &catalog(), known) == "7941G-GE");
  CHECK(announced_model("Cisco IP Phone 7937", &catalog(), known) == "7937");
  CHECK_FALSE(known);
  CHECK(announced_model("Linux", &catalog(), known).empty());
  CHECK(announced_model("Cisco IP Phone 7960", nullptr, known) == "7960");
  CHECK_FALSE(known);
}

TEST_CASE("a load that is no load name is kept as sent and marked invalid") {
  const auto a = parse_announcement(cdp_frame(phone_tlvs("Linux 6.1.0 #1 SMP")), &catalog());
  REQUIRE(a.ok());
  CHECK(a->load == "Linux 6.1.0 #1 SMP");
  CHECK_FALSE(a->load_valid);
  const auto sip = parse_announcement(cdp_frame(phone_tlvs("SIP45.9-4-2SR3-1S", "Cisco IP Phone CP-7965G")),
                                      &catalog());
  REQUIRE(sip.ok());
  CHECK(sip->load_valid);
  CHECK(sip->model == "7965");
}

TEST_CASE("CDP checksum: RFC 1071, Cisco's odd-byte rule, absent; a wrong one is refused") {
  // Odd PDU length with a last byte >= 0x80: only the sign-extended rule holds.
  auto tlvs = phone_tlvs();
  tlvs.push_back(cdp_text(0x0a, "\x01\xC8"));  // native VLAN 456: the PDU ends odd, on a byte >= 0x80
  const auto frame = cdp_frame(tlvs);
  const auto a = parse_announcement(frame);
  REQUIRE_MESSAGE(a.ok(), a.error());
  CHECK(a->checksum == CdpChecksum::cisco_signed);

  const auto even = parse_announcement(cdp_frame(phone_tlvs("P00308000900x")));
  REQUIRE(even.ok());
  CHECK(even->checksum == CdpChecksum::rfc1071);  // even length: every rule is RFC 1071

  const auto absent = parse_announcement(cdp_frame(phone_tlvs(), phone_src, false));
  REQUIRE(absent.ok());
  CHECK(absent->checksum == CdpChecksum::absent);

  auto bad = frame;
  bad[30] ^= std::byte{0x01};  // a byte of the Device-ID
  const auto refused = parse_announcement(bad);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().find("checksum") != std::string::npos);
}

TEST_CASE("without a SEP device id the phone is the frame's source MAC") {
  auto tlvs = phone_tlvs();
  tlvs[0] = cdp_text(1, "switch1.example");
  const auto a = parse_announcement(cdp_frame(tlvs, "00:aa:bb:cc:dd:ee"), &catalog());
  REQUIRE(a.ok());
  CHECK_FALSE(a->mac_from_device_id);
  CHECK(a->mac.to_string() == "00:aa:bb:cc:dd:ee");
  CHECK(a->is_phone());  // the platform still names a catalog model
  tlvs[4] = cdp_text(6, "cisco WS-C2960-24PC-L");
  const auto sw = parse_announcement(cdp_frame(tlvs, "00:aa:bb:cc:dd:ee"), &catalog());
  REQUIRE(sw.ok());
  CHECK_FALSE(sw->is_phone());
}

TEST_CASE("broken CDP frames are refused with a reason, never read past the end") {
  const auto good = cdp_frame(phone_tlvs());
  // Every truncation of the meaningful part is refused or parsed, never a crash;
  // cut inside the PDU, the 802.3 length no longer fits.
  for (std::size_t n = 0; n < good.size(); ++n) {
    CHECK_FALSE(parse_announcement(std::span(good).first(n)).ok());
  }
  SUBCASE("TLV length under 4") {
    auto f = cdp_frame({{1, {}}}, phone_src, false);
    f[22 + 4 + 2] = std::byte{0};
    f[22 + 4 + 3] = std::byte{2};
    const auto a = parse_announcement(f);
    REQUIRE_FALSE(a.ok());
  }
  SUBCASE("TLV length past the PDU") {
    Bytes big(40, std::byte{'A'});
    auto f = cdp_frame({{1, big}}, phone_src, false);
    f[22 + 4 + 3] = std::byte{0xF0};
    const auto a = parse_announcement(f);
    REQUIRE_FALSE(a.ok());
    CHECK(a.error().find("runs past") != std::string::npos);
  }
  SUBCASE("address count larger than the TLV") {
    Bytes v;
    put(v, {0x7F, 0xFF, 0xFF, 0xFF, 1, 1, 0xCC, 0, 4, 10, 0, 0, 1});
    const auto a = parse_announcement(cdp_frame({cdp_text(1, "SEP001E4A123456"), {2, v}}));
    REQUIRE_FALSE(a.ok());
  }
  SUBCASE("wrong SNAP, version, destination") {
    CHECK(claims_announcement(good));
    auto f = good;
    f[21] = std::byte{0x04};  // PID 0x2004: DTP on the same address, no announcement
    CHECK_FALSE(parse_announcement(f).ok());
    CHECK_FALSE(claims_announcement(f));
    CHECK_FALSE(parse_announcement(cdp_frame(phone_tlvs(), phone_src, true, 3)).ok());
    CHECK(claims_announcement(cdp_frame(phone_tlvs(), phone_src, true, 3)));  // claims CDP, is broken
    f = good;
    f[5] = std::byte{0xcd};
    CHECK_FALSE(parse_announcement(f).ok());
    CHECK_FALSE(claims_announcement(f));
  }
  SUBCASE("no Device-ID") {
    CHECK_FALSE(parse_announcement(cdp_frame({cdp_text(5, "P00308000900")})).ok());
  }
}

TEST_CASE("oversized text is cut and never a valid load") {
  const std::string huge(1200, 'P');
  const auto a = parse_announcement(cdp_frame(phone_tlvs(huge)), &catalog());
  REQUIRE(a.ok());
  CHECK(a->load.size() == announce_text_limit + 3);
  CHECK_FALSE(a->load_valid);
}

TEST_CASE("an LLDP-MED frame gives the software revision as the load and the model name") {
  const auto a = parse_announcement(lldp_frame(), &catalog());
  REQUIRE_MESSAGE(a.ok(), a.error());
  CHECK(a->protocol == AnnounceProtocol::lldp);
  CHECK(a->mac.to_string() == "00:1e:4a:ab:cd:ef");
  CHECK(a->mac_from_device_id);
  CHECK(a->model == "7965");
  CHECK(a->load == "SCCP45.9-4-2SR3-1S");
  CHECK(a->load_valid);
  REQUIRE(a->ip);
  CHECK(a->ip->to_string() == "10.1.2.9");
  CHECK(a->port == "001E4AABCDEF:P1");
  CHECK(a->ttl == 180);
}

TEST_CASE("LLDP without a SEP system name: the chassis MAC, else the source MAC") {
  const auto a = parse_announcement(lldp_frame("SCCP45.9-4-2SR3-1S", "CP-7965G", false), &catalog());
  REQUIRE(a.ok());
  CHECK_FALSE(a->mac_from_device_id);
  CHECK(a->mac.to_string() == "00:1e:4a:ab:cd:ef");  // source: the chassis id is an address
  Bytes f;
  put(f, {0x01, 0x80, 0xc2, 0x00, 0x00, 0x0e, 0x02, 0, 0, 0, 0, 1, 0x88, 0xcc});
  lldp_tlv(f, 1, Bytes{std::byte{4}, std::byte{0x00}, std::byte{0x11}, std::byte{0x22},
                       std::byte{0x33}, std::byte{0x44}, std::byte{0x55}});
  lldp_tlv(f, 2, Bytes{std::byte{5}, std::byte{'e'}, std::byte{'0'}});
  lldp_tlv(f, 3, Bytes{std::byte{0}, std::byte{120}});
  const auto c = parse_announcement(f);
  REQUIRE_MESSAGE(c.ok(), c.error());
  CHECK(c->mac.to_string() == "00:11:22:33:44:55");
  CHECK(c->load.empty());
  CHECK_FALSE(c->ip);
}

TEST_CASE("broken LLDP frames are refused") {
  const auto good = lldp_frame();
  for (std::size_t n = 0; n < good.size() - 2; ++n) {
    const auto a = parse_announcement(std::span(good).first(n));
    (void)a;  // any verdict, but within bounds (ASan checks)
  }
  CHECK_FALSE(parse_announcement(std::span(good).first(good.size() - 5)).ok());
  SUBCASE("mandatory TLVs out of order") {
    Bytes f;
    put(f, {0x01, 0x80, 0xc2, 0x00, 0x00, 0x0e, 0x02, 0, 0, 0, 0, 1, 0x88, 0xcc});
    lldp_tlv(f, 5, text_bytes("SEP001122334455"));
    CHECK_FALSE(parse_announcement(f).ok());
  }
  SUBCASE("not to an LLDP group address") {
    auto f = good;
    f[5] = std::byte{0x0f};
    CHECK_FALSE(parse_announcement(f).ok());
  }
  SUBCASE("TTL of the wrong size, organisational TLV too short") {
    Bytes f;
    put(f, {0x01, 0x80, 0xc2, 0x00, 0x00, 0x0e, 0x02, 0, 0, 0, 0, 1, 0x88, 0xcc});
    lldp_tlv(f, 1, Bytes{std::byte{7}, std::byte{'x'}});
    lldp_tlv(f, 2, Bytes{std::byte{7}, std::byte{'y'}});
    auto bad_ttl = f;
    lldp_tlv(bad_ttl, 3, Bytes{std::byte{1}});
    CHECK_FALSE(parse_announcement(bad_ttl).ok());
    lldp_tlv(f, 3, Bytes{std::byte{0}, std::byte{1}});
    lldp_tlv(f, 127, Bytes{std::byte{0}, std::byte{0x12}});
    CHECK_FALSE(parse_announcement(f).ok());
  }
  SUBCASE("other ethertypes") {
    CHECK(claims_announcement(good));
    auto f = good;
    f[12] = std::byte{0x08};
    f[13] = std::byte{0x00};
    CHECK_FALSE(parse_announcement(f).ok());
    CHECK_FALSE(claims_announcement(f));
  }
}

TEST_CASE("the table reports first sight and changes of model, load or IP, not repeats") {
  AnnounceTable table(8, 600);
  auto a = *parse_announcement(cdp_frame(phone_tlvs()), &catalog());
  CHECK(table.observe(a, 0) == AnnounceTable::Verdict::first_sight);
  CHECK(table.observe(a, 60) == AnnounceTable::Verdict::unchanged);
  CHECK(table.observe(a, 120) == AnnounceTable::Verdict::unchanged);
  auto no_ip = a;
  no_ip.ip.reset();
  CHECK(table.observe(no_ip, 130) == AnnounceTable::Verdict::unchanged);  // a missing field is no news
  REQUIRE(table.find(a.mac, AnnounceProtocol::cdp)->ip);
  auto upgraded = *parse_announcement(cdp_frame(phone_tlvs("P0S3-08-12-00")), &catalog());
  CHECK(table.observe(upgraded, 180) == AnnounceTable::Verdict::changed);
  CHECK(table.find(a.mac, AnnounceProtocol::cdp)->load == "P0S3-08-12-00");
  auto moved = upgraded;
  moved.ip = cf::net::Ipv4::parse("10.1.2.4");
  CHECK(table.observe(moved, 200) == AnnounceTable::Verdict::changed);
  // The same phone over LLDP is its own entry: CDP and LLDP spellings never flap.
  auto over_lldp = moved;
  over_lldp.protocol = AnnounceProtocol::lldp;
  CHECK(table.observe(over_lldp, 210) == AnnounceTable::Verdict::first_sight);
  CHECK(table.size() == 2);
}

TEST_CASE("the table is bounded: full refuses newcomers until entries age out") {
  AnnounceTable table(3, 100);
  auto a = *parse_announcement(cdp_frame(phone_tlvs()), &catalog());
  for (int i = 0; i < 3; ++i) {
    a.mac.octets[5] = static_cast<std::uint8_t>(i);
    CHECK(table.observe(a, i) == AnnounceTable::Verdict::first_sight);
  }
  a.mac.octets[5] = 9;
  CHECK(table.observe(a, 50) == AnnounceTable::Verdict::refused_full);
  CHECK(table.refused() == 1);
  a.mac.octets[5] = 1;
  CHECK(table.observe(a, 60) == AnnounceTable::Verdict::unchanged);  // known phones still tracked
  a.mac.octets[5] = 9;
  CHECK(table.observe(a, 101) == AnnounceTable::Verdict::first_sight);  // 0 aged out at 100
  CHECK(table.size() == 3);
  CHECK(table.observe(a, 180) == AnnounceTable::Verdict::unchanged);  // 1 and 2 aged out by now
  CHECK(table.size() == 1);
}

#include "cf/dhcp/announce.hpp"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

#include "cf/firmware/load_name.hpp"

namespace cf::dhcp {
namespace {

using Span = std::span<const std::byte>;

std::uint16_t be16(Span s, std::size_t at) {
  return static_cast<std::uint16_t>(std::to_integer<unsigned>(s[at]) << 8 |
                                    std::to_integer<unsigned>(s[at + 1]));
}
std::uint32_t be32(Span s, std::size_t at) {
  return std::uint32_t{be16(s, at)} << 16 | be16(s, at + 2);
}
std::uint8_t byte_at(Span s, std::size_t at) { return std::to_integer<std::uint8_t>(s[at]); }

MacAddress mac_at(Span s, std::size_t at) {
  MacAddress mac;
  for (std::size_t i = 0; i < 6; ++i) mac.octets[i] = byte_at(s, at + i);
  return mac;
}

// Wire text, cut to announce_text_limit; trailing NULs and spaces (some
// senders pad) are dropped. Content is kept as bytes: escaping is the job of
// whoever prints it.
std::string text_of(Span value) {
  std::string text;
  const auto n = std::min(value.size(), announce_text_limit);
  text.reserve(n);
  for (std::size_t i = 0; i < n; ++i) text.push_back(static_cast<char>(byte_at(value, i)));
  while (!text.empty() && (text.back() == '\0' || text.back() == ' ')) text.pop_back();
  return text;
}

bool cut(Span value) { return value.size() > announce_text_limit; }

// "SEP001122AABBCC" (any case) -> that MAC.
std::optional<MacAddress> sep_mac(std::string_view device_id) {
  if (device_id.size() != 15) return std::nullopt;
  const auto prefix = device_id.substr(0, 3);
  if (prefix != "SEP" && prefix != "sep") return std::nullopt;
  const auto hex = device_id.substr(3);
  if (!std::all_of(hex.begin(), hex.end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); }))
    return std::nullopt;
  return MacAddress::parse(hex);
}

bool is_multicast(const MacAddress& mac) { return (mac.octets[0] & 0x01) != 0; }

// ------------------------------------------------------------------ CDP

// One's complement sum of the PDU with its checksum field in place; the
// checksum holds when the folded sum is 0xFFFF. `odd` says how a last odd
// byte enters the sum (see CdpChecksum).
bool cdp_sum_holds(Span pdu, CdpChecksum odd) {
  std::uint32_t sum = 0;
  const std::size_t even = pdu.size() & ~std::size_t{1};
  for (std::size_t i = 0; i < even; i += 2) sum += be16(pdu, i);
  if (pdu.size() % 2 != 0) {
    const std::uint32_t last = byte_at(pdu, pdu.size() - 1);
    switch (odd) {
      case CdpChecksum::rfc1071: sum += last << 8; break;
      case CdpChecksum::cisco_odd_byte: sum += last; break;
      case CdpChecksum::cisco_signed: sum += (last & 0x80) != 0 ? 0xFF00 | last : last; break;
      default: return false;
    }
  }
  while (sum >> 16) sum = (sum & 0xFFFF) + (sum >> 16);
  return sum == 0xFFFF;
}

std::optional<CdpChecksum> check_cdp_sum(Span pdu) {
  if (be16(pdu, 2) == 0) return CdpChecksum::absent;
  for (auto variant : {CdpChecksum::rfc1071, CdpChecksum::cisco_signed, CdpChecksum::cisco_odd_byte}) {
    if (cdp_sum_holds(pdu, variant)) return variant;
    if (pdu.size() % 2 == 0) break;  // the variants differ only in an odd last byte
  }
  return std::nullopt;
}

namespace cdp_tlv {
constexpr std::uint16_t device_id = 0x0001;
constexpr std::uint16_t addresses = 0x0002;
constexpr std::uint16_t port_id = 0x0003;
constexpr std::uint16_t software_version = 0x0005;
constexpr std::uint16_t platform = 0x0006;
}  // namespace cdp_tlv

// The first IPv4 address of an Addresses TLV: a 4-byte count, then per
// address protocol type (1 = NLPID), protocol length, protocol (0xCC = IP),
// a 2-byte address length and the address.
Result<std::optional<net::Ipv4>> cdp_first_ipv4(Span value) {
  using R = Result<std::optional<net::Ipv4>>;
  if (value.size() < 4) return R::failure("CDP Addresses TLV shorter than its count");
  const auto count = be32(value, 0);
  std::size_t at = 4;
  std::optional<net::Ipv4> found;
  for (std::uint32_t i = 0; i < count; ++i) {
    if (value.size() - at < 2) return R::failure("CDP address entry truncated");
    const auto type = byte_at(value, at);
    const std::size_t proto_len = byte_at(value, at + 1);
    at += 2;
    if (value.size() - at < proto_len + 2) return R::failure("CDP address protocol truncated");
    const auto proto = value.subspan(at, proto_len);
    at += proto_len;
    const std::size_t addr_len = be16(value, at);
    at += 2;
    if (value.size() - at < addr_len) return R::failure("CDP address truncated");
    if (!found && type == 1 && proto_len == 1 && byte_at(proto, 0) == 0xCC && addr_len == 4)
      found = net::Ipv4::parse_network_bytes(value.subspan(at, 4));
    at += addr_len;
  }
  return found;
}

Result<Announcement> parse_cdp(Span frame, std::size_t llc_length) {
  // 802.3: dst, src, length; LLC AA AA 03; SNAP OUI 00 00 0C, PID 0x2000.
  if (llc_length < 8 + 4) return Result<Announcement>::failure("802.3 length too short for CDP");
  if (frame.size() - 14 < llc_length)
    return Result<Announcement>::failure(
        fmt::format("802.3 length {} exceeds the {} bytes received", llc_length, frame.size() - 14));
  const auto llc = frame.subspan(14, llc_length);  // trailing Ethernet padding excluded
  static constexpr std::uint8_t snap[] = {0xAA, 0xAA, 0x03, 0x00, 0x00, 0x0C, 0x20, 0x00};
  for (std::size_t i = 0; i < sizeof snap; ++i)
    if (byte_at(llc, i) != snap[i])
      return Result<Announcement>::failure("not CDP (LLC/SNAP is not AA AA 03 00000C 2000)");
  const auto pdu = llc.subspan(8);
  Announcement a;
  a.protocol = AnnounceProtocol::cdp;
  const auto version = byte_at(pdu, 0);
  if (version != 1 && version != 2)
    return Result<Announcement>::failure(fmt::format("CDP version {} (want 1 or 2)", version));
  a.ttl = byte_at(pdu, 1);
  const auto checksum = check_cdp_sum(pdu);
  if (!checksum) return Result<Announcement>::failure("CDP checksum does not hold");
  a.checksum = *checksum;

  bool seen_id = false, seen_addr = false, seen_port = false, seen_sw = false, seen_platform = false;
  std::size_t at = 4;
  while (at < pdu.size()) {
    if (pdu.size() - at < 4) return Result<Announcement>::failure("CDP TLV header truncated");
    const auto type = be16(pdu, at);
    const std::size_t length = be16(pdu, at + 2);
    if (length < 4)
      return Result<Announcement>::failure(fmt::format("CDP TLV {:#06x} length {} < 4", type, length));
    if (pdu.size() - at < length)
      return Result<Announcement>::failure(
          fmt::format("CDP TLV {:#06x} length {} runs past the frame", type, length));
    const auto value = pdu.subspan(at + 4, length - 4);
    at += length;
    // The first of each TLV counts; a repeat cannot override it.
    switch (type) {
      case cdp_tlv::device_id:
        if (!std::exchange(seen_id, true)) a.device_id = text_of(value);
        break;
      case cdp_tlv::addresses:
        if (!std::exchange(seen_addr, true)) {
          auto ip = cdp_first_ipv4(value);
          if (!ip) return Result<Announcement>::failure(ip.error());
          a.ip = *ip;
        }
        break;
      case cdp_tlv::port_id:
        if (!std::exchange(seen_port, true)) a.port = text_of(value);
        break;
      case cdp_tlv::software_version:
        if (!std::exchange(seen_sw, true)) {
          a.load = text_of(value);
          if (cut(value)) a.load += "...";
        }
        break;
      case cdp_tlv::platform:
        if (!std::exchange(seen_platform, true)) a.platform = text_of(value);
        break;
      default: break;
    }
  }
  if (!seen_id) return Result<Announcement>::failure("CDP frame without a Device-ID TLV");
  return a;
}

// ------------------------------------------------------------------ LLDP

namespace lldp_tlv {
constexpr unsigned end = 0;
constexpr unsigned chassis_id = 1;
constexpr unsigned port_id = 2;
constexpr unsigned ttl = 3;
constexpr unsigned system_name = 5;
constexpr unsigned management_address = 8;
constexpr unsigned organization = 127;
}  // namespace lldp_tlv

// ANSI/TIA-1057 10.2.6: the inventory TLVs of LLDP-MED (OUI 00-12-BB).
namespace med {
constexpr std::uint8_t oui[] = {0x00, 0x12, 0xBB};
constexpr std::uint8_t software_revision = 7;
constexpr std::uint8_t model_name = 10;
}  // namespace med

// IEEE 802.1AB 8.5.2 / 8.5.3 subtypes.
constexpr std::uint8_t chassis_mac = 4, chassis_network_address = 5;
constexpr std::uint8_t port_mac = 3, port_network_address = 4;
constexpr std::uint8_t iana_ipv4 = 1;  // address family numbers

std::optional<net::Ipv4> network_address(Span value) {
  if (value.size() == 5 && byte_at(value, 0) == iana_ipv4)
    return net::Ipv4::parse_network_bytes(value.subspan(1, 4));
  return std::nullopt;
}

Result<Announcement> parse_lldp(Span frame, std::size_t at) {
  Announcement a;
  a.protocol = AnnounceProtocol::lldp;
  std::optional<MacAddress> chassis;
  std::optional<net::Ipv4> management, chassis_ip;
  bool seen_sw = false, seen_model = false, seen_name = false, seen_end = false;
  unsigned index = 0;
  while (at < frame.size() && !seen_end) {  // what follows End is Ethernet padding
    if (frame.size() - at < 2) return Result<Announcement>::failure("LLDP TLV header truncated");
    const auto header = be16(frame, at);
    const unsigned type = header >> 9;
    const std::size_t length = header & 0x1FF;
    if (frame.size() - at - 2 < length)
      return Result<Announcement>::failure(
          fmt::format("LLDP TLV {} length {} runs past the frame", type, length));
    const auto value = frame.subspan(at + 2, length);
    at += 2 + length;
    ++index;
    // 802.1AB 9.2.7.7.1: the first three TLVs are chassis id, port id, TTL.
    const unsigned mandatory[] = {lldp_tlv::chassis_id, lldp_tlv::port_id, lldp_tlv::ttl};
    if (index <= 3 && type != mandatory[index - 1])
      return Result<Announcement>::failure(
          fmt::format("LLDP TLV {} is type {}, want {}", index, type, mandatory[index - 1]));
    switch (type) {
      case lldp_tlv::end: seen_end = true; break;
      case lldp_tlv::chassis_id:
        if (length < 2) return Result<Announcement>::failure("LLDP chassis id shorter than 2 bytes");
        if (byte_at(value, 0) == chassis_mac && length == 7) chassis = mac_at(value, 1);
        if (byte_at(value, 0) == chassis_network_address) chassis_ip = network_address(value.subspan(1));
        break;
      case lldp_tlv::port_id:
        if (length < 2) return Result<Announcement>::failure("LLDP port id shorter than 2 bytes");
        if (byte_at(value, 0) == port_mac && length == 7) a.port = mac_at(value, 1).to_string();
        else if (byte_at(value, 0) != port_network_address) a.port = text_of(value.subspan(1));
        break;
      case lldp_tlv::ttl:
        if (length != 2) return Result<Announcement>::failure("LLDP TTL is not 2 bytes");
        a.ttl = be16(value, 0);
        break;
      case lldp_tlv::system_name:
        if (!std::exchange(seen_name, true)) a.device_id = text_of(value);
        break;
      case lldp_tlv::management_address: {
        // string length (subtype + address), subtype, address, then interface fields.
        if (length < 1 || byte_at(value, 0) < 1 || byte_at(value, 0) > 32 ||
            std::size_t{byte_at(value, 0)} + 1 > length)
          return Result<Announcement>::failure("LLDP management address malformed");
        if (!management) management = network_address(value.subspan(1, byte_at(value, 0)));
        break;
      }
      case lldp_tlv::organization: {
        if (length < 4) return Result<Announcement>::failure("LLDP organisational TLV shorter than 4 bytes");
        if (!std::equal(std::begin(med::oui), std::end(med::oui), value.begin(),
                        [](std::uint8_t x, std::byte y) { return std::byte{x} == y; }))
          break;
        const auto subtype = byte_at(value, 3);
        const auto info = value.subspan(4);
        if (subtype == med::software_revision && !std::exchange(seen_sw, true)) {
          a.load = text_of(info);
          if (cut(info)) a.load += "...";
        } else if (subtype == med::model_name && !std::exchange(seen_model, true)) {
          a.platform = text_of(info);
        }
        break;
      }
      default: break;
    }
  }
  if (index < 3) return Result<Announcement>::failure("LLDP frame lacks chassis id, port id or TTL");
  if (chassis && !is_multicast(*chassis)) a.mac = *chassis;
  a.ip = management ? management : chassis_ip;
  return a;
}

}  // namespace

std::string_view to_string(AnnounceProtocol protocol) noexcept {
  return protocol == AnnounceProtocol::cdp ? "cdp" : "lldp";
}

std::string_view to_string(CdpChecksum checksum) noexcept {
  switch (checksum) {
    case CdpChecksum::absent: return "absent";
    case CdpChecksum::rfc1071: return "rfc1071";
    case CdpChecksum::cisco_odd_byte: return "cisco-odd-byte";
    case CdpChecksum::cisco_signed: return "cisco-signed";
    case CdpChecksum::not_applicable: return "n/a";
  }
  return "?";
}

bool claims_announcement(std::span<const std::byte> frame) noexcept {
  if (frame.size() < 14) return false;
  std::size_t at = 12;
  auto type = be16(frame, at);
  if (type == 0x8100 && frame.size() >= 18) {
    at += 4;
    type = be16(frame, at);
  }
  if (type == lldp_ethertype) return true;
  if (type > 1500 || mac_at(frame, 0) != cdp_multicast || frame.size() < 22) return false;
  static constexpr std::uint8_t snap[] = {0xAA, 0xAA, 0x03, 0x00, 0x00, 0x0C, 0x20, 0x00};
  for (std::size_t i = 0; i < sizeof snap; ++i)
    if (byte_at(frame, 14 + i) != snap[i]) return false;
  return true;
}

std::string announced_model(std::string_view platform, const firmware::ModelCatalog* catalog,
                            bool& in_catalog) {
  in_catalog = false;
  // Words of the platform, last first: "Cisco IP Phone CP-7965G" -> "CP-7965G".
  if (catalog != nullptr) {
    std::size_t end = platform.size();
    while (end > 0) {
      const auto space = platform.find_last_of(" ,", end - 1);
      const std::size_t begin = space == std::string_view::npos ? 0 : space + 1;
      const auto word = platform.substr(begin, end - begin);
      if (!word.empty())
        if (const auto* info = catalog->find_model(word)) {
          in_catalog = true;
          return info->model;
        }
      if (space == std::string_view::npos) break;
      end = space;
    }
  }
  for (std::size_t i = 0; i < platform.size(); ++i) {
    std::size_t j = i;
    while (j < platform.size() && std::isdigit(static_cast<unsigned char>(platform[j]))) ++j;
    if (j - i >= 4 && j - i <= 5) return std::string(platform.substr(i, j - i));
    i = j;
  }
  return {};
}

Result<Announcement> parse_announcement(std::span<const std::byte> frame,
                                        const firmware::ModelCatalog* catalog) {
  if (frame.size() < 14) return Result<Announcement>::failure("shorter than an Ethernet header");
  const auto destination = mac_at(frame, 0);
  const auto source = mac_at(frame, 6);
  std::size_t at = 12;
  auto type = be16(frame, at);
  if (type == 0x8100) {  // 802.1Q tag: a voice VLAN, skip it
    if (frame.size() < 18) return Result<Announcement>::failure("802.1Q tag truncated");
    at += 4;
    type = be16(frame, at);
  }
  Result<Announcement> parsed = Result<Announcement>::failure("");
  if (type == lldp_ethertype) {
    // 802.1AB 7.1: nearest bridge, nearest non-TPMR bridge, nearest customer bridge.
    const auto last = destination.octets[5];
    const bool ours = std::equal(destination.octets.begin(), destination.octets.begin() + 5,
                                 lldp_multicast.octets.begin()) &&
                      (last == 0x0e || last == 0x03 || last == 0x00);
    if (!ours) return Result<Announcement>::failure("LLDP to " + destination.to_string() + ", not an LLDP group address");
    parsed = parse_lldp(frame, at + 2);
  } else if (type <= 1500) {
    if (destination != cdp_multicast)
      return Result<Announcement>::failure("802.3 frame to " + destination.to_string() + ", not the CDP address");
    if (at != 12) return Result<Announcement>::failure("tagged 802.3 frames are not CDP");
    parsed = parse_cdp(frame, type);
  } else {
    return Result<Announcement>::failure(fmt::format("ethertype {:#06x} is neither CDP nor LLDP", type));
  }
  if (!parsed) return parsed;
  Announcement a = std::move(parsed).value();
  a.source = source;
  if (const auto sep = sep_mac(a.device_id)) {
    a.mac = *sep;
    a.mac_from_device_id = true;
  } else if (a.protocol == AnnounceProtocol::cdp || a.mac == MacAddress{}) {
    a.mac = source;
  }
  a.model = announced_model(a.platform, catalog, a.model_in_catalog);
  if (catalog != nullptr && !a.load.empty() && a.load.size() <= announce_text_limit)
    a.load_valid = firmware::parse_load_name(a.load, *catalog).ok();
  return a;
}

// ------------------------------------------------------------------ table

void AnnounceTable::forget_older_than(std::int64_t cutoff) {
  while (!by_seen_.empty() && by_seen_.begin()->first < cutoff) {
    entries_.erase(by_seen_.begin()->second);
    by_seen_.erase(by_seen_.begin());
  }
}

AnnounceTable::Verdict AnnounceTable::observe(const Announcement& a, std::int64_t now) {
  forget_older_than(now - max_age_);
  const Key key{a.mac, a.protocol};
  auto it = entries_.find(key);
  if (it == entries_.end()) {
    if (entries_.size() >= capacity_) {
      ++refused_;
      return Verdict::refused_full;
    }
    entries_.emplace(key, Entry{a, now});
    by_seen_.emplace(now, key);
    return Verdict::first_sight;
  }
  auto& entry = it->second;
  by_seen_.erase({entry.seen, key});
  entry.seen = now;
  by_seen_.emplace(now, key);
  auto& last = entry.last;
  // Only model, load and IP are news; a field the frame lacks is no change.
  const bool changed = (!a.model.empty() && a.model != last.model) ||
                       (!a.load.empty() && a.load != last.load) || (a.ip && a.ip != last.ip);
  if (!a.model.empty()) {
    last.model = a.model;
    last.model_in_catalog = a.model_in_catalog;
  }
  if (!a.platform.empty()) last.platform = a.platform;
  if (!a.load.empty()) {
    last.load = a.load;
    last.load_valid = a.load_valid;
  }
  if (a.ip) last.ip = a.ip;
  last.device_id = a.device_id;
  last.mac_from_device_id = a.mac_from_device_id;
  last.port = a.port;
  last.ttl = a.ttl;
  last.source = a.source;
  last.checksum = a.checksum;
  return changed ? Verdict::changed : Verdict::unchanged;
}

const Announcement* AnnounceTable::find(const MacAddress& mac, AnnounceProtocol protocol) const {
  const auto it = entries_.find({mac, protocol});
  return it == entries_.end() ? nullptr : &it->second.last;
}

}  // namespace cf::dhcp

#include "cf/dhcp/message.hpp"

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

namespace cf::dhcp {
namespace {

constexpr std::array<std::byte, 4> magic_cookie{std::byte{0x63}, std::byte{0x82}, std::byte{0x53},
                                                std::byte{0x63}};
constexpr std::size_t sname_offset = 44;
constexpr std::size_t sname_size = 64;
constexpr std::size_t file_offset = 108;
constexpr std::size_t file_size = 128;

std::uint32_t read_u32(std::span<const std::byte> b, std::size_t at) {
  return std::to_integer<std::uint32_t>(b[at]) << 24 | std::to_integer<std::uint32_t>(b[at + 1]) << 16 |
         std::to_integer<std::uint32_t>(b[at + 2]) << 8 | std::to_integer<std::uint32_t>(b[at + 3]);
}
std::uint16_t read_u16(std::span<const std::byte> b, std::size_t at) {
  return static_cast<std::uint16_t>(std::to_integer<unsigned>(b[at]) << 8 |
                                    std::to_integer<unsigned>(b[at + 1]));
}
void put_u32(Bytes& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(std::byte(v >> shift & 0xFF));
}
void put_u16(Bytes& out, std::uint16_t v) {
  out.push_back(std::byte(v >> 8));
  out.push_back(std::byte(v & 0xFF));
}

// A NUL-terminated string inside a fixed field.
std::string c_string(std::span<const std::byte> field) {
  std::string text;
  for (auto b : field) {
    if (b == std::byte{0}) break;
    text.push_back(static_cast<char>(b));
  }
  return text;
}

enum class Field { options, file, sname };
std::string_view field_name(Field field) {
  switch (field) {
    case Field::options: return "options";
    case Field::file: return "file";
    case Field::sname: return "sname";
  }
  return "?";
}

// Reads options from one field into `out`. Returns an error text or "".
std::string read_options(std::span<const std::byte> area, std::size_t base, Field field,
                         Options& out) {
  std::size_t i = 0;
  while (i < area.size()) {
    const auto code = std::to_integer<std::uint8_t>(area[i]);
    if (code == option::pad) {
      ++i;
      continue;
    }
    if (code == option::end) return {};
    if (i + 1 >= area.size())
      return fmt::format("option {} at offset {} has no length byte", code, base + i);
    const std::size_t length = std::to_integer<std::size_t>(area[i + 1]);
    if (i + 2 + length > area.size())
      return fmt::format("option {} at offset {} has length {}, past the end of the {} field", code,
                         base + i, length, field_name(field));
    // RFC 2131 4.1: option 52 counts only in the options field; inside file or
    // sname it is ignored so an overload cannot point back at itself.
    if (!(code == option::overload && field != Field::options))
      out.append(code, area.subspan(i + 2, length));
    i += 2 + length;
  }
  if (field == Field::options) return "the options field ends without an END option (255)";
  return {};  // file and sname are fixed-size; tolerate a missing END there
}

}  // namespace

std::string_view to_string(MessageType type) noexcept {
  switch (type) {
    case MessageType::discover: return "discover";
    case MessageType::offer: return "offer";
    case MessageType::request: return "request";
    case MessageType::decline: return "decline";
    case MessageType::ack: return "ack";
    case MessageType::nak: return "nak";
    case MessageType::release: return "release";
    case MessageType::inform: return "inform";
  }
  return "unknown";
}

// ---------------------------------------------------------------- MacAddress

std::optional<MacAddress> MacAddress::parse(std::string_view text) noexcept {
  MacAddress mac;
  std::size_t digits = 0;
  int nibbles_in_octet = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == ':' || c == '-' || c == '.') {
      if (nibbles_in_octet != 0 && nibbles_in_octet != 2) return std::nullopt;
      continue;
    }
    int value = 0;
    if (c >= '0' && c <= '9') value = c - '0';
    else if (c >= 'a' && c <= 'f') value = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F') value = c - 'A' + 10;
    else return std::nullopt;
    if (digits >= 12) return std::nullopt;
    auto& octet = mac.octets[digits / 2];
    octet = static_cast<std::uint8_t>(octet << 4 | value);
    ++digits;
    nibbles_in_octet = digits % 2;
  }
  if (digits != 12) return std::nullopt;
  return mac;
}

std::string MacAddress::to_string() const {
  return fmt::format("{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", octets[0], octets[1], octets[2],
                     octets[3], octets[4], octets[5]);
}

// ---------------------------------------------------------------- Options

const Bytes* Options::find(std::uint8_t code) const noexcept {
  for (const auto& [c, value] : entries_)
    if (c == code) return &value;
  return nullptr;
}

void Options::set(std::uint8_t code, Bytes value) {
  for (auto& [c, v] : entries_)
    if (c == code) {
      v = std::move(value);
      return;
    }
  entries_.emplace_back(code, std::move(value));
}

void Options::append(std::uint8_t code, std::span<const std::byte> more) {
  for (auto& [c, v] : entries_)
    if (c == code) {
      v.insert(v.end(), more.begin(), more.end());
      return;
    }
  entries_.emplace_back(code, Bytes(more.begin(), more.end()));
}

void Options::erase(std::uint8_t code) {
  std::erase_if(entries_, [code](const Entry& e) { return e.first == code; });
}

std::optional<std::uint8_t> Options::u8(std::uint8_t code) const {
  const auto* v = find(code);
  if (v == nullptr || v->size() != 1) return std::nullopt;
  return std::to_integer<std::uint8_t>((*v)[0]);
}
std::optional<std::uint16_t> Options::u16(std::uint8_t code) const {
  const auto* v = find(code);
  if (v == nullptr || v->size() != 2) return std::nullopt;
  return read_u16(*v, 0);
}
std::optional<std::uint32_t> Options::u32(std::uint8_t code) const {
  const auto* v = find(code);
  if (v == nullptr || v->size() != 4) return std::nullopt;
  return read_u32(*v, 0);
}
std::optional<net::Ipv4> Options::ipv4(std::uint8_t code) const {
  const auto* v = find(code);
  if (v == nullptr) return std::nullopt;
  return net::Ipv4::parse_network_bytes(*v);
}
std::optional<std::vector<net::Ipv4>> Options::ipv4_list(std::uint8_t code) const {
  const auto* v = find(code);
  if (v == nullptr || v->empty() || v->size() % 4 != 0) return std::nullopt;
  std::vector<net::Ipv4> list;
  for (std::size_t i = 0; i < v->size(); i += 4)
    list.push_back(net::Ipv4::from_uint(read_u32(*v, i)));
  return list;
}
std::optional<std::string> Options::text(std::uint8_t code) const {
  const auto* v = find(code);
  if (v == nullptr) return std::nullopt;
  std::string s(reinterpret_cast<const char*>(v->data()), v->size());
  // Phones end option 60 with a NUL (cisco-79xx.md 6); so do some hostnames.
  while (!s.empty() && s.back() == '\0') s.pop_back();
  return s;
}

void Options::set_u8(std::uint8_t code, std::uint8_t value) { set(code, Bytes{std::byte{value}}); }
void Options::set_u16(std::uint8_t code, std::uint16_t value) {
  Bytes b;
  put_u16(b, value);
  set(code, std::move(b));
}
void Options::set_u32(std::uint8_t code, std::uint32_t value) {
  Bytes b;
  put_u32(b, value);
  set(code, std::move(b));
}
void Options::set_ipv4(std::uint8_t code, net::Ipv4 value) {
  const auto b = value.to_network_bytes();
  set(code, Bytes(b.begin(), b.end()));
}
void Options::set_ipv4_list(std::uint8_t code, std::span<const net::Ipv4> values) {
  Bytes b;
  for (auto address : values) {
    const auto n = address.to_network_bytes();
    b.insert(b.end(), n.begin(), n.end());
  }
  set(code, std::move(b));
}
void Options::set_text(std::uint8_t code, std::string_view value) {
  const auto* p = reinterpret_cast<const std::byte*>(value.data());
  set(code, Bytes(p, p + value.size()));
}

// ---------------------------------------------------------------- Message

std::optional<MessageType> Message::type() const {
  const auto value = options.u8(option::message_type);
  if (!value || *value < 1 || *value > 8) return std::nullopt;
  return static_cast<MessageType>(*value);
}

std::optional<MacAddress> Message::mac() const noexcept {
  if (htype != 1 || hlen != 6) return std::nullopt;
  MacAddress mac;
  for (std::size_t i = 0; i < 6; ++i) mac.octets[i] = std::to_integer<std::uint8_t>(chaddr[i]);
  return mac;
}

void Message::set_mac(const MacAddress& mac) noexcept {
  htype = 1;
  hlen = 6;
  chaddr.fill(std::byte{0});
  for (std::size_t i = 0; i < 6; ++i) chaddr[i] = std::byte{mac.octets[i]};
}

Result<Message> parse_message(std::span<const std::byte> bytes) {
  if (bytes.size() < min_message_size)
    return Result<Message>::failure(fmt::format(
        "truncated: {} bytes, a DHCP message needs at least {}", bytes.size(), min_message_size));
  Message m;
  m.op = std::to_integer<std::uint8_t>(bytes[0]);
  m.htype = std::to_integer<std::uint8_t>(bytes[1]);
  m.hlen = std::to_integer<std::uint8_t>(bytes[2]);
  m.hops = std::to_integer<std::uint8_t>(bytes[3]);
  if (m.hlen > 16) return Result<Message>::failure(fmt::format("hlen {} is over 16", m.hlen));
  m.xid = read_u32(bytes, 4);
  m.secs = read_u16(bytes, 8);
  m.flags = read_u16(bytes, 10);
  m.ciaddr = net::Ipv4::from_uint(read_u32(bytes, 12));
  m.yiaddr = net::Ipv4::from_uint(read_u32(bytes, 16));
  m.siaddr = net::Ipv4::from_uint(read_u32(bytes, 20));
  m.giaddr = net::Ipv4::from_uint(read_u32(bytes, 24));
  std::copy_n(bytes.begin() + 28, 16, m.chaddr.begin());
  if (!std::equal(magic_cookie.begin(), magic_cookie.end(), bytes.begin() + fixed_header_size))
    return Result<Message>::failure("no magic cookie (63 82 53 63) at offset 236: not DHCP");

  const auto options_area = bytes.subspan(min_message_size);
  if (auto error = read_options(options_area, min_message_size, Field::options, m.options);
      !error.empty())
    return Result<Message>::failure(std::move(error));

  std::uint8_t overload = 0;
  if (m.options.contains(option::overload)) {
    const auto value = m.options.u8(option::overload);
    if (!value || *value < 1 || *value > 3)
      return Result<Message>::failure("option 52 (overload) must be one byte 1, 2 or 3");
    overload = *value;
    m.options.erase(option::overload);
  }
  const auto file_field = bytes.subspan(file_offset, file_size);
  const auto sname_field = bytes.subspan(sname_offset, sname_size);
  if (overload & 1) {
    if (auto error = read_options(file_field, file_offset, Field::file, m.options); !error.empty())
      return Result<Message>::failure(std::move(error));
  } else {
    m.file = c_string(file_field);
  }
  if (overload & 2) {
    if (auto error = read_options(sname_field, sname_offset, Field::sname, m.options);
        !error.empty())
      return Result<Message>::failure(std::move(error));
  } else {
    m.sname = c_string(sname_field);
  }
  return m;
}

namespace {

void put_option(Bytes& out, std::uint8_t code, const Bytes& value) {
  // RFC 3396 section 5: split into pieces of at most 255 bytes, same code each.
  std::size_t at = 0;
  do {
    const std::size_t piece = std::min<std::size_t>(255, value.size() - at);
    out.push_back(std::byte{code});
    out.push_back(std::byte(piece));
    out.insert(out.end(), value.begin() + static_cast<std::ptrdiff_t>(at),
               value.begin() + static_cast<std::ptrdiff_t>(at + piece));
    at += piece;
  } while (at < value.size());
}

void put_fixed_string(Bytes& out, const std::string& text, std::size_t size) {
  const std::size_t n = std::min(text.size(), size - 1);
  for (std::size_t i = 0; i < n; ++i) out.push_back(static_cast<std::byte>(text[i]));
  out.insert(out.end(), size - n, std::byte{0});
}

}  // namespace

Bytes serialize(const Message& m) {
  Bytes out;
  out.reserve(bootp_min_size + 64);
  out.push_back(std::byte{m.op});
  out.push_back(std::byte{m.htype});
  out.push_back(std::byte{m.hlen});
  out.push_back(std::byte{m.hops});
  put_u32(out, m.xid);
  put_u16(out, m.secs);
  put_u16(out, m.flags);
  for (auto a : {m.ciaddr, m.yiaddr, m.siaddr, m.giaddr}) put_u32(out, a.to_uint());
  out.insert(out.end(), m.chaddr.begin(), m.chaddr.end());
  put_fixed_string(out, m.sname, sname_size);
  put_fixed_string(out, m.file, file_size);
  out.insert(out.end(), magic_cookie.begin(), magic_cookie.end());
  if (const auto* type = m.options.find(option::message_type))
    put_option(out, option::message_type, *type);
  for (const auto& [code, value] : m.options.entries()) {
    if (code == option::message_type || code == option::pad || code == option::end) continue;
    put_option(out, code, value);
  }
  out.push_back(std::byte{option::end});
  if (out.size() < bootp_min_size) out.resize(bootp_min_size, std::byte{0});
  return out;
}

std::size_t serialized_size(const Message& m) {
  std::size_t size = min_message_size + 1;  // + END
  for (const auto& [code, value] : m.options.entries()) {
    if (code == option::pad || code == option::end) continue;
    const std::size_t pieces = value.empty() ? 1 : (value.size() + 254) / 255;
    size += 2 * pieces + value.size();
  }
  return std::max(size, bootp_min_size);
}

}  // namespace cf::dhcp

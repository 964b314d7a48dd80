#include "cf/net/ipv4.hpp"

#include <ostream>

#include <fmt/format.h>

namespace cf::net {
namespace {

bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

// A decimal number 0..limit without sign, spaces or leading zeros.
std::optional<std::uint32_t> parse_decimal(std::string_view text, std::uint32_t limit) noexcept {
  if (text.empty() || text.size() > 10) return std::nullopt;
  if (text.size() > 1 && text.front() == '0') return std::nullopt;
  std::uint64_t value = 0;
  for (const char c : text) {
    if (!is_digit(c)) return std::nullopt;
    value = value * 10 + static_cast<std::uint64_t>(c - '0');
  }
  if (value > limit) return std::nullopt;
  return static_cast<std::uint32_t>(value);
}

std::optional<std::uint32_t> hex_digit(char c) noexcept {
  if (is_digit(c)) return static_cast<std::uint32_t>(c - '0');
  if (c >= 'a' && c <= 'f') return static_cast<std::uint32_t>(c - 'a' + 10);
  if (c >= 'A' && c <= 'F') return static_cast<std::uint32_t>(c - 'A' + 10);
  return std::nullopt;
}

std::uint32_t byte_swap(std::uint32_t v) noexcept {
  return (v & 0xFFu) << 24 | (v & 0xFF00u) << 8 | (v >> 8 & 0xFF00u) | v >> 24;
}

std::uint32_t prefix_mask(int prefix_length) noexcept {
  return prefix_length == 0 ? 0 : ~std::uint32_t{0} << (32 - prefix_length);
}

}  // namespace

std::optional<Ipv4> Ipv4::parse(std::string_view text) noexcept {
  std::uint32_t value = 0;
  for (int part = 0; part < 4; ++part) {
    const auto dot = text.find('.');
    if ((part < 3) == (dot == std::string_view::npos)) return std::nullopt;
    const auto octet = parse_decimal(text.substr(0, dot), 255);
    if (!octet) return std::nullopt;
    value = value << 8 | *octet;
    text = part < 3 ? text.substr(dot + 1) : std::string_view{};
  }
  return Ipv4(value);
}

Ipv4 Ipv4::from_network_bytes(std::span<const std::byte, 4> bytes) noexcept {
  const auto octet = [&](std::size_t i) { return std::to_integer<std::uint8_t>(bytes[i]); };
  return from_octets(octet(0), octet(1), octet(2), octet(3));
}

std::optional<Ipv4> Ipv4::parse_network_bytes(std::span<const std::byte> bytes) noexcept {
  if (bytes.size() != 4) return std::nullopt;
  return from_network_bytes(bytes.first<4>());
}

std::array<std::byte, 4> Ipv4::to_network_bytes() const noexcept {
  return {std::byte(value_ >> 24 & 0xFF), std::byte(value_ >> 16 & 0xFF),
          std::byte(value_ >> 8 & 0xFF), std::byte(value_ & 0xFF)};
}

std::string Ipv4::to_string() const {
  return fmt::format("{}.{}.{}.{}", value_ >> 24, value_ >> 16 & 0xFF, value_ >> 8 & 0xFF,
                     value_ & 0xFF);
}

std::optional<Ipv4> Ipv4::offset(std::int64_t delta) const noexcept {
  const std::int64_t result = static_cast<std::int64_t>(value_) + delta;
  if (result < 0 || result > std::int64_t{0xFFFFFFFF}) return std::nullopt;
  return Ipv4(static_cast<std::uint32_t>(result));
}

std::ostream& operator<<(std::ostream& out, Ipv4 address) { return out << address.to_string(); }

std::optional<Ipv4Network> Ipv4Network::parse(std::string_view text) noexcept {
  const auto slash = text.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  const auto address = Ipv4::parse(text.substr(0, slash));
  const auto length = parse_decimal(text.substr(slash + 1), 32);
  if (!address || !length) return std::nullopt;
  auto network = containing(*address, static_cast<int>(*length));
  if (!network || network->network() != *address) return std::nullopt;
  return network;
}

std::optional<Ipv4Network> Ipv4Network::containing(Ipv4 address, int prefix_length) noexcept {
  if (prefix_length < 0 || prefix_length > 32) return std::nullopt;
  return Ipv4Network(Ipv4::from_uint(address.to_uint() & prefix_mask(prefix_length)),
                     prefix_length);
}

std::optional<Ipv4Network> Ipv4Network::from_netmask(Ipv4 address, Ipv4 netmask) noexcept {
  const std::uint32_t mask = netmask.to_uint();
  const std::uint32_t host_bits = ~mask;
  if ((host_bits & (host_bits + 1)) != 0) return std::nullopt;  // ones not contiguous
  int length = 0;
  for (std::uint32_t m = mask; m != 0; m <<= 1) ++length;
  return containing(address, length);
}

Ipv4 Ipv4Network::netmask() const noexcept { return Ipv4::from_uint(prefix_mask(prefix_length_)); }

Ipv4 Ipv4Network::broadcast() const noexcept {
  return Ipv4::from_uint(network_.to_uint() | ~prefix_mask(prefix_length_));
}

bool Ipv4Network::contains(Ipv4 address) const noexcept {
  return (address.to_uint() & prefix_mask(prefix_length_)) == network_.to_uint();
}

std::string Ipv4Network::to_string() const {
  return fmt::format("{}/{}", network_.to_string(), prefix_length_);
}

std::ostream& operator<<(std::ostream& out, const Ipv4Network& network) {
  return out << network.to_string();
}

std::optional<HexSpelling> parse_windows_hex(std::string_view text) {
  if (text.size() != 10 || text[0] != '0' || (text[1] != 'x' && text[1] != 'X'))
    return std::nullopt;
  std::uint32_t little_endian = 0;
  for (const char c : text.substr(2)) {
    const auto digit = hex_digit(c);
    if (!digit) return std::nullopt;
    little_endian = little_endian << 4 | *digit;
  }
  const auto address = Ipv4::from_uint(byte_swap(little_endian));
  return HexSpelling{address, explain_windows_hex(address)};
}

std::string to_windows_hex(Ipv4 address) {
  return fmt::format("0x{:08X}", byte_swap(address.to_uint()));
}

std::string explain_windows_hex(Ipv4 address) {
  const auto b = address.to_network_bytes();
  return fmt::format("{} is the little-endian hex spelling of {} (bytes {:02X} {:02X} {:02X} "
                     "{:02X} on the wire)",
                     to_windows_hex(address), address.to_string(), std::to_integer<int>(b[0]),
                     std::to_integer<int>(b[1]), std::to_integer<int>(b[2]),
                     std::to_integer<int>(b[3]));
}

std::optional<ParsedAddress> parse_address_any(std::string_view text) {
  if (const auto address = Ipv4::parse(text))
    return ParsedAddress{*address, AddressSpelling::dotted_quad, {}};
  if (auto hex = parse_windows_hex(text))
    return ParsedAddress{hex->address, AddressSpelling::windows_hex, std::move(hex->explanation)};
  return std::nullopt;
}

}  // namespace cf::net

#pragma once
// IPv4 addresses and prefixes as values. An Ipv4 holds the address as a
// host-order uint32 so pools can count, compare and step through it; it turns
// into network byte order only at the wire (to_network_bytes), where option
// 150 wants 192.168.1.1 as the bytes C0 A8 01 01.
#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace cf::net {

class Ipv4 {
 public:
  constexpr Ipv4() noexcept = default;  // 0.0.0.0

  static constexpr Ipv4 from_uint(std::uint32_t host_order) noexcept { return Ipv4(host_order); }
  static constexpr Ipv4 from_octets(std::uint8_t a, std::uint8_t b, std::uint8_t c,
                                    std::uint8_t d) noexcept {
    return Ipv4(std::uint32_t{a} << 24 | std::uint32_t{b} << 16 | std::uint32_t{c} << 8 | d);
  }
  static constexpr Ipv4 any() noexcept { return Ipv4(0); }
  static constexpr Ipv4 limited_broadcast() noexcept { return Ipv4(0xFFFFFFFFu); }
  static constexpr Ipv4 loopback() noexcept { return Ipv4(0x7F000001u); }

  // Strict dotted quad, as inet_pton(AF_INET) takes it: exactly four decimal
  // parts 0..255 without leading zeros (010 could mean octal to inet_aton).
  static std::optional<Ipv4> parse(std::string_view text) noexcept;
  static Ipv4 from_network_bytes(std::span<const std::byte, 4> bytes) noexcept;
  // The same for a span of unknown length, e.g. one entry of option 150;
  // nullopt unless it holds exactly four bytes.
  static std::optional<Ipv4> parse_network_bytes(std::span<const std::byte> bytes) noexcept;

  constexpr std::uint32_t to_uint() const noexcept { return value_; }
  std::array<std::byte, 4> to_network_bytes() const noexcept;
  std::string to_string() const;

  // Stepping for pools; nullopt instead of wrapping past 255.255.255.255 or 0.0.0.0.
  std::optional<Ipv4> next() const noexcept { return offset(1); }
  std::optional<Ipv4> offset(std::int64_t delta) const noexcept;

  constexpr bool is_unspecified() const noexcept { return value_ == 0; }
  constexpr bool is_limited_broadcast() const noexcept { return value_ == 0xFFFFFFFFu; }
  constexpr bool is_loopback() const noexcept { return value_ >> 24 == 127; }  // RFC 1122 3.2.1.3
  constexpr bool is_multicast() const noexcept { return value_ >> 28 == 0xE; }  // RFC 5771

  friend constexpr auto operator<=>(Ipv4, Ipv4) noexcept = default;

 private:
  constexpr explicit Ipv4(std::uint32_t host_order) noexcept : value_(host_order) {}
  std::uint32_t value_ = 0;
};

std::ostream& operator<<(std::ostream& out, Ipv4 address);

// A prefix in CIDR notation (RFC 4632), e.g. the phone segment 192.168.1.0/24
// that a DHCP pool must fall inside.
class Ipv4Network {
 public:
  // "A.B.C.D/N" with N 0..32. Host bits must be zero: 192.168.1.5/24 is
  // refused as a likely typo; use containing() to mask an interface address.
  static std::optional<Ipv4Network> parse(std::string_view text) noexcept;
  // The network that `address` lies in; nullopt if prefix_length is not 0..32.
  static std::optional<Ipv4Network> containing(Ipv4 address, int prefix_length) noexcept;
  // From an address and a dotted netmask (DHCP option 1, RFC 2132 3.3);
  // nullopt unless the mask's one-bits are contiguous.
  static std::optional<Ipv4Network> from_netmask(Ipv4 address, Ipv4 netmask) noexcept;

  Ipv4 network() const noexcept { return network_; }
  int prefix_length() const noexcept { return prefix_length_; }
  Ipv4 netmask() const noexcept;
  Ipv4 broadcast() const noexcept;  // directed broadcast, RFC 919
  bool contains(Ipv4 address) const noexcept;
  std::string to_string() const;  // "192.168.1.0/24"

  friend bool operator==(const Ipv4Network&, const Ipv4Network&) noexcept = default;

 private:
  Ipv4Network(Ipv4 network, int prefix_length) noexcept
      : network_(network), prefix_length_(prefix_length) {}
  Ipv4 network_;
  int prefix_length_ = 0;
};

std::ostream& operator<<(std::ostream& out, const Ipv4Network& network);

// The spelling Windows DHCP tools (tftpd32, ...) use for option 150: the four
// wire bytes read as a little-endian 32-bit number and written in hex, so
// 192.168.1.1 (bytes C0 A8 01 01) is 0x0101A8C0. Only the 0x form is taken
// (0x or 0X, then exactly 8 hex digits, any case): 8 bare digits such as
// 10101010 are too easy to mistake for something else.
struct HexSpelling {
  Ipv4 address;
  // e.g. "0x0101A8C0 is the little-endian hex spelling of 192.168.1.1
  // (bytes C0 A8 01 01 on the wire)"
  std::string explanation;
};

std::optional<HexSpelling> parse_windows_hex(std::string_view text);
std::string to_windows_hex(Ipv4 address);  // "0x0101A8C0"
std::string explain_windows_hex(Ipv4 address);

// An address given in either spelling, with the spelling that was used, so a
// tool can print what a hex value "decodes to".
enum class AddressSpelling { dotted_quad, windows_hex };

struct ParsedAddress {
  Ipv4 address;
  AddressSpelling spelling = AddressSpelling::dotted_quad;
  std::string explanation;  // empty for a dotted quad
};

std::optional<ParsedAddress> parse_address_any(std::string_view text);

}  // namespace cf::net

template <>
struct std::hash<cf::net::Ipv4> {
  std::size_t operator()(cf::net::Ipv4 address) const noexcept {
    return std::hash<std::uint32_t>{}(address.to_uint());
  }
};

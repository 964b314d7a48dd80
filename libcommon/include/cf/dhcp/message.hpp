#pragma once
// The DHCP message codec (RFC 2131 section 2, RFC 2132): a BOOTP header plus an
// option map, parsed from untrusted bytes with bounds checks and serialised back.
// Options are stored joined (RFC 3396: several instances of one code are one
// option) and split again into 255-byte pieces on the wire.
#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cf/cli/result.hpp"
#include "cf/net/ipv4.hpp"

namespace cf::dhcp {

using Bytes = std::vector<std::byte>;

// RFC 2132 9.6
enum class MessageType : std::uint8_t {
  discover = 1,
  offer = 2,
  request = 3,
  decline = 4,
  ack = 5,
  nak = 6,
  release = 7,
  inform = 8,
};
std::string_view to_string(MessageType type) noexcept;  // "discover", ...

// Option codes this project names (RFC 2132 unless noted).
namespace option {
inline constexpr std::uint8_t pad = 0;
inline constexpr std::uint8_t subnet_mask = 1;
inline constexpr std::uint8_t router = 3;
inline constexpr std::uint8_t dns_servers = 6;
inline constexpr std::uint8_t hostname = 12;
inline constexpr std::uint8_t domain_name = 15;
inline constexpr std::uint8_t broadcast_address = 28;
inline constexpr std::uint8_t ntp_servers = 42;
inline constexpr std::uint8_t requested_address = 50;
inline constexpr std::uint8_t lease_time = 51;
inline constexpr std::uint8_t overload = 52;
inline constexpr std::uint8_t message_type = 53;
inline constexpr std::uint8_t server_id = 54;
inline constexpr std::uint8_t parameter_list = 55;
inline constexpr std::uint8_t message = 56;
inline constexpr std::uint8_t max_message_size = 57;
inline constexpr std::uint8_t renewal_time = 58;
inline constexpr std::uint8_t rebinding_time = 59;
inline constexpr std::uint8_t vendor_class = 60;
inline constexpr std::uint8_t client_id = 61;
inline constexpr std::uint8_t tftp_server_name = 66;  // text
inline constexpr std::uint8_t bootfile_name = 67;
inline constexpr std::uint8_t relay_agent_info = 82;  // RFC 3046
inline constexpr std::uint8_t tftp_servers = 150;     // Cisco: list of IPv4 (cisco-79xx.md 6)
inline constexpr std::uint8_t end = 255;
}  // namespace option

// An Ethernet hardware address, the key of a lease ("a phone is a MAC").
struct MacAddress {
  std::array<std::uint8_t, 6> octets{};
  // "00:11:22:aa:bb:cc", also with '-' or no separators, any case.
  static std::optional<MacAddress> parse(std::string_view text) noexcept;
  std::string to_string() const;  // lower case, colons
  friend auto operator<=>(const MacAddress&, const MacAddress&) noexcept = default;
};

// Options in the order they were added; one entry per code.
class Options {
 public:
  using Entry = std::pair<std::uint8_t, Bytes>;

  const Bytes* find(std::uint8_t code) const noexcept;
  bool contains(std::uint8_t code) const noexcept { return find(code) != nullptr; }
  // Replaces the value of `code` in place, or appends it.
  void set(std::uint8_t code, Bytes value);
  // RFC 3396: a repeated code continues the earlier value.
  void append(std::uint8_t code, std::span<const std::byte> more);
  void erase(std::uint8_t code);
  const std::vector<Entry>& entries() const noexcept { return entries_; }
  bool empty() const noexcept { return entries_.empty(); }

  std::optional<std::uint8_t> u8(std::uint8_t code) const;
  std::optional<std::uint16_t> u16(std::uint8_t code) const;
  std::optional<std::uint32_t> u32(std::uint8_t code) const;
  std::optional<net::Ipv4> ipv4(std::uint8_t code) const;
  std::optional<std::vector<net::Ipv4>> ipv4_list(std::uint8_t code) const;
  std::optional<std::string> text(std::uint8_t code) const;

  void set_u8(std::uint8_t code, std::uint8_t value);
  void set_u16(std::uint8_t code, std::uint16_t value);
  void set_u32(std::uint8_t code, std::uint32_t value);
  void set_ipv4(std::uint8_t code, net::Ipv4 value);
  // Option 150 and friends: the addresses in network byte order, back to back.
  void set_ipv4_list(std::uint8_t code, std::span<const net::Ipv4> values);
  void set_text(std::uint8_t code, std::string_view value);

  friend bool operator==(const Options&, const Options&) = default;

 private:
  std::vector<Entry> entries_;
};

struct Message {
  static constexpr std::uint16_t broadcast_flag = 0x8000;  // RFC 2131 figure 2

  std::uint8_t op = 1;  // 1 BOOTREQUEST, 2 BOOTREPLY
  std::uint8_t htype = 1;
  std::uint8_t hlen = 6;
  std::uint8_t hops = 0;
  std::uint32_t xid = 0;
  std::uint16_t secs = 0;
  std::uint16_t flags = 0;
  net::Ipv4 ciaddr, yiaddr, siaddr, giaddr;
  std::array<std::byte, 16> chaddr{};
  std::string sname;  // up to 63 characters; empty when overloaded with options
  std::string file;   // up to 127 characters; empty when overloaded with options
  Options options;

  std::optional<MessageType> type() const;
  bool wants_broadcast() const noexcept { return (flags & broadcast_flag) != 0; }
  // The client's MAC when htype is Ethernet (1) and hlen 6.
  std::optional<MacAddress> mac() const noexcept;
  void set_mac(const MacAddress& mac) noexcept;

  friend bool operator==(const Message&, const Message&) = default;
};

inline constexpr std::size_t fixed_header_size = 236;  // op .. file
inline constexpr std::size_t min_message_size = 240;   // + magic cookie
inline constexpr std::size_t bootp_min_size = 300;     // RFC 1542 2.1: pad to 300
inline constexpr std::size_t max_udp_payload = 1472;   // 1500 MTU - IP - UDP

// Parses one UDP payload. Fails with a reason for: fewer than 240 bytes, hlen
// over 16, no magic cookie, an option whose length runs past its field, a
// missing END in the options field, or an overload (52) value other than 1..3.
// Overloaded file/sname fields are read once each, options then file then sname
// (RFC 2131 4.1); an option 52 inside them is ignored, so overloads cannot loop.
Result<Message> parse_message(std::span<const std::byte> bytes);

// The wire form: header, cookie, option 53 first, then the others in order,
// each split into 255-byte pieces (RFC 3396), END, padded to 300 bytes.
Bytes serialize(const Message& message);
std::size_t serialized_size(const Message& message);

}  // namespace cf::dhcp

template <>
struct std::hash<cf::dhcp::MacAddress> {
  std::size_t operator()(const cf::dhcp::MacAddress& mac) const noexcept {
    std::uint64_t value = 0;
    for (auto octet : mac.octets) value = value << 8 | octet;
    return std::hash<std::uint64_t>{}(value);
  }
};

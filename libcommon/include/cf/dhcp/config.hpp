#pragma once
// What the server hands out: pools per subnet, reservations, and the options
// sent to every client. Parsers of the command-line spellings return a
// Result; validate() throws cf::UsageError for a setup that cannot work.
#include <cstdint>
#include <filesystem>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cf/cli/result.hpp"
#include "cf/dhcp/message.hpp"
#include "cf/net/ipv4.hpp"

namespace cf::dhcp {

// A range of addresses handed out on one subnet (the link of the server's
// interface, or a relay's link, selected by giaddr).
struct Pool {
  net::Ipv4Network network = *net::Ipv4Network::parse("0.0.0.0/0");
  net::Ipv4 first, last;
  bool contains(net::Ipv4 address) const noexcept { return first <= address && address <= last; }
  std::uint64_t size() const noexcept { return std::uint64_t{last.to_uint()} - first.to_uint() + 1; }
};

// "START-END" or "START-END/LEN". Without /LEN the network is `link` if it
// holds both ends, else the pool is refused (a relayed subnet needs its length).
Result<Pool> parse_pool(std::string_view text, std::optional<net::Ipv4Network> link);

// A fixed address for one phone.
struct Reservation {
  MacAddress mac;
  net::Ipv4 address;
  std::string hostname;
};

// "MAC=IP[,NAME]"
Result<Reservation> parse_reservation(std::string_view text);
// One reservation a line, "MAC IP [NAME]" or "MAC=IP[,NAME]"; '#' starts a
// comment. Throws cf::Error naming the file and line of a bad one.
std::vector<Reservation> read_reservations(std::istream& in, const std::string& source);
std::vector<Reservation> read_reservations_file(const std::filesystem::path& file);

// An option value from --option CODE:TYPE=VALUE (types ip, ips, str, u8, u16,
// u32, hex). `notes` explains any Windows hex address spelling it decoded.
struct OptionSpec {
  std::uint8_t code = 0;
  Bytes value;
  std::vector<std::string> notes;
};
Result<OptionSpec> parse_option_spec(std::string_view text);

// A list of addresses "A[,B...]", each a dotted quad or the Windows hex
// spelling (0x0101A8C0); `notes` receives one explanation per hex value.
Result<std::vector<net::Ipv4>> parse_address_list(std::string_view text,
                                                  std::vector<std::string>& notes);

// A --config file as cisco-dhcpd reads it (CLI11 INI: KEY = VALUE lines, the
// long option names, '_' read as '-', '#' or ';' comments, [default]; a '['
// list may span lines), checked line by line because CLI11 itself ignores
// what it does not know. Throws cf::UsageError "FILE:LINE: reason" for an
// unknown key or a line that is no KEY = VALUE.
void check_config_file(std::istream& in, const std::string& source,
                       const std::vector<std::string>& known);
void check_config_file(const std::filesystem::path& file, const std::vector<std::string>& known);

struct Config {
  net::Ipv4 server_id;  // option 54 and the source of replies
  std::vector<Pool> pools;
  std::vector<Reservation> reservations;
  std::vector<net::Ipv4> routers;  // option 3; those inside a pool's network go to that pool
  std::uint32_t lease_time = 86400;       // seconds (option 51)
  std::uint32_t offer_hold = 60;          // an offered address is kept this long
  std::uint32_t decline_quarantine = 3600;  // a declined address rests this long
  net::Ipv4 next_server;                  // siaddr (RFC 2131 figure 1)
  std::string only_vendor;                // answer only clients whose option 60 starts so
  Options options;                        // sent when asked for, or always (see handle())
};

// Throws cf::UsageError for overlapping pools, a pool holding the server's own
// address at its network or broadcast address, reservations outside every pool
// network or on a pool network's network or broadcast address, the server's
// or a router's address, a lease time under 60 s.
void validate(const Config& config);

}  // namespace cf::dhcp

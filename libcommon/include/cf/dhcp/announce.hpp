#pragma once
// What phones say about themselves on the link: CDP (Cisco Discovery Protocol,
// 802.3 + LLC/SNAP 00000c/2000 to 01:00:0c:cc:cc:cc) and LLDP with the LLDP-MED
// inventory TLVs (IEEE 802.1AB, ANSI/TIA-1057; ethertype 0x88cc). A phone's
// frames carry its MAC (device id SEP<MAC>), model, running load and IP
// (evidence-79xx.md 7): the only first-hand word on what it runs. The parser
// is pure and takes any bytes; the table decides which announcements are news.
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "cf/cli/result.hpp"
#include "cf/dhcp/message.hpp"
#include "cf/firmware/catalog.hpp"
#include "cf/net/ipv4.hpp"

namespace cf::dhcp {

enum class AnnounceProtocol : std::uint8_t { cdp, lldp };
std::string_view to_string(AnnounceProtocol protocol) noexcept;  // "cdp", "lldp"

inline constexpr MacAddress cdp_multicast{{0x01, 0x00, 0x0c, 0xcc, 0xcc, 0xcc}};
inline constexpr MacAddress lldp_multicast{{0x01, 0x80, 0xc2, 0x00, 0x00, 0x0e}};  // nearest bridge
inline constexpr std::uint16_t lldp_ethertype = 0x88cc;

// Text fields longer than this are cut (and a cut load is never valid): no
// real device id, platform or load name comes near it.
inline constexpr std::size_t announce_text_limit = 128;

// How the CDP checksum of a frame was found to hold. CDP uses the RFC 1071
// sum, but Cisco devices add the last byte of an odd-length PDU as the low
// byte of a word, sign-extended when its top bit is set (Wireshark's CDP
// dissector documents the quirk; lldpd's older releases add it unextended).
enum class CdpChecksum : std::uint8_t {
  absent,          // field is 0: not computed by the sender, not checked
  rfc1071,         // the standard sum (odd byte padded on the right)
  cisco_odd_byte,  // odd byte as the low byte of a zero-extended word
  cisco_signed,    // odd byte as the low byte of a sign-extended word
  not_applicable,  // LLDP has none
};
std::string_view to_string(CdpChecksum checksum) noexcept;

struct Announcement {
  AnnounceProtocol protocol = AnnounceProtocol::cdp;
  MacAddress source;             // Ethernet source of the frame
  MacAddress mac;                // the phone: SEP<MAC>, else LLDP chassis MAC, else `source`
  bool mac_from_device_id = false;  // the device id / system name was SEP<MAC>
  std::string device_id;         // CDP Device-ID, LLDP system name
  std::string platform;          // CDP Platform, LLDP-MED model name: as sent
  std::string model;             // catalog model ("7960", "7941G-GE"), else the digits, else ""
  bool model_in_catalog = false;
  std::string load;              // CDP software version, LLDP-MED software revision: as sent
  bool load_valid = false;       // `load` parses as a load name (cf/firmware/load_name.hpp)
  std::optional<net::Ipv4> ip;   // CDP Addresses, LLDP management address / chassis id
  std::string port;              // CDP Port-ID, LLDP port id (when text)
  std::uint16_t ttl = 0;         // seconds the sender says this holds
  CdpChecksum checksum = CdpChecksum::not_applicable;
  // Sent by a phone: SEP<MAC> device id or a model the catalog knows.
  bool is_phone() const noexcept { return mac_from_device_id || model_in_catalog; }
};

// True when `frame` claims to be CDP (to 01:00:0c:cc:cc:cc with SNAP
// 00000c/2000) or LLDP (ethertype 0x88cc), whether or not it is well formed.
// The packet sockets also see STP, DTP, VTP, PAgP, UDLD... on the same
// addresses: those are no announcements and no reason for a warning.
bool claims_announcement(std::span<const std::byte> frame) noexcept;

// Parses one whole Ethernet frame (destination MAC first, no FCS). Anything
// that is not a well-formed CDP or LLDP frame is a failure with the reason;
// never throws, never reads outside `frame`. With a catalog, `model` is
// normalised through it and `load_valid` checked against it; without one,
// `model` keeps the digits and `load_valid` stays false.
Result<Announcement> parse_announcement(std::span<const std::byte> frame,
                                        const firmware::ModelCatalog* catalog = nullptr);

// The model id in a platform string: "Cisco IP Phone 7960" -> 7960,
// "Cisco IP Phone CP-7965G" -> 7965, "CP-7941G-GE" -> 7941G-GE via the
// catalog; else the first run of 4 digits ("Cisco IP Phone 7937" -> 7937);
// else "". Sets `in_catalog` when the catalog named it.
std::string announced_model(std::string_view platform, const firmware::ModelCatalog* catalog,
                            bool& in_catalog);

// The phones seen and what each last said, per protocol (a 79x1 sends both
// CDP and LLDP, whose strings may differ: keyed by protocol, neither flaps the
// other). Bounded: at most `capacity` entries; an entry not heard from for
// `max_age` seconds is forgotten. When full, a new phone is refused (counted)
// until an entry ages out, so a flood of forged MACs can neither grow memory
// nor the events log past `capacity` lines per `max_age`.
class AnnounceTable {
 public:
  explicit AnnounceTable(std::size_t capacity = 4096, std::int64_t max_age = 3600)
      : capacity_(capacity), max_age_(max_age) {}

  enum class Verdict { first_sight, changed, unchanged, refused_full };
  // Records `a` heard at `now` (seconds, any monotonic clock). Fields the
  // frame lacks (no IP, no model) keep their last value and are no change.
  Verdict observe(const Announcement& a, std::int64_t now);
  // The merged view of a phone after observe(): what an event reports.
  const Announcement* find(const MacAddress& mac, AnnounceProtocol protocol) const;
  std::size_t size() const noexcept { return entries_.size(); }
  std::size_t refused() const noexcept { return refused_; }

 private:
  using Key = std::pair<MacAddress, AnnounceProtocol>;
  struct Entry {
    Announcement last;
    std::int64_t seen = 0;
  };
  void forget_older_than(std::int64_t cutoff);

  std::size_t capacity_;
  std::int64_t max_age_;
  std::map<Key, Entry> entries_;
  std::set<std::pair<std::int64_t, Key>> by_seen_;
  std::size_t refused_ = 0;
};

}  // namespace cf::dhcp

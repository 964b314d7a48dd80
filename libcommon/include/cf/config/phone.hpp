#pragma once
// A phone as cnfgen provisions it: its MAC, catalog model and line keys (one
// extension each). Parsers of the admin's input: MACs in any common spelling,
// the --phones TSV, and the limits a phone puts on what its config may hold.
#include <cstddef>
#include <iosfwd>
#include <string>
#include <string_view>
#include <vector>

#include "cf/cli/result.hpp"
#include "cf/firmware/catalog.hpp"

namespace cf::config {

// The longest SIP password a phone of the 79x1/79x2/79x5/797x families (and every
// family other than 7940-7960) is given: waynemerricks/Cisco7942FreePBX's
// SEPMACADDRESS.cnf.xml (SIP42.9-4-2SR3-1S) says "<authPassword>EXTENSION PASSWORD
// 12CHAR MAX"; buba0's setup even advises 8 (evidence-79xx.md 4). Longer ones are
// refused rather than silently cut by the phone.
inline constexpr std::size_t kMaxSecretLengthCnu = 12;
// 7940/7960 SIP<MAC>.cnf takes longer passwords: julianhead/CiscoPhones's
// SIP0015F92EC692.cnf (P0S3-8-12-00) has a 32-character line1_password
// (evidence-79xx.md 3). Nothing longer has been seen working, so 32 is the bound.
inline constexpr std::size_t kMaxSecretLength79x0 = 32;
// Not from the reference: a bound that keeps names readable on the phone's display
// and in every file format we write.
inline constexpr std::size_t kMaxExtensionLength = 32;
inline constexpr std::size_t kMaxDisplayNameLength = 40;

// The secret bound for a model's family (see the two constants above).
std::size_t max_secret_length(const firmware::ModelInfo& model);

// 12 hex digits, upper case: "001A2B3C4D5E". Accepts 001a2b3c4d5e, 00:1a:2b:3c:4d:5e,
// 00-1A-2B-3C-4D-5E, 001A.2B3C.4D5E and a leading "SEP". Refuses what cannot be a
// phone's own address: all zero, broadcast, and multicast (group bit set, IEEE 802
// clause 8.2: the least significant bit of the first octet).
Result<std::string> parse_mac(std::string_view text);

// Each returns an empty string when the value is acceptable, else the reason.
// An extension also names sections of the PBX files cnfgen writes (pjsip.conf,
// sccp.conf), so it may not be one of their other section names: general, global,
// system, ciscoflash-udp, ciscoflash-tcp, or SEP followed by 12 hex digits.
std::string check_extension(std::string_view extension);
// Empty secret allowed (phones that stay on SCCP).
std::string check_secret(std::string_view secret, std::size_t max_length);
std::string check_display_name(std::string_view name);
// Text that lands inside a quoted value ("...") of SIPDefault.cnf or an XML element:
// printable ASCII and UTF-8, none of '"', '\\', ';', '#' or control characters.
std::string check_quoted_text(std::string_view text);

struct Line {
  std::string extension;     // SIP user, auth name and Asterisk endpoint
  std::string secret;        // SIP password; empty when the phone stays on SCCP
  std::string display_name;  // shown on the phone and sent as caller id
  std::size_t source_line = 0;
};

struct Phone {
  std::string mac;    // normalised, see parse_mac
  std::string model;  // catalog spelling, e.g. "7961"
  std::vector<Line> lines;
  std::size_t source_line = 0;
};

// Adds one line for `mac`; a second line for the same MAC becomes the phone's next
// line key. Throws cf::Error (usage) naming `where` for every bad field, an unknown
// model, a model change for the same MAC, too many lines for the model (catalog
// `lines`) and an extension used twice.
class PhoneList {
 public:
  explicit PhoneList(const firmware::ModelCatalog& catalog) : catalog_(&catalog) {}
  void add(const std::string& where, std::size_t line, std::string_view mac, std::string_view model,
           std::string_view extension, std::string_view secret, std::string_view display_name);
  const std::vector<Phone>& phones() const noexcept { return phones_; }

 private:
  const firmware::ModelCatalog* catalog_;
  std::vector<Phone> phones_;
};

// The --phones file: one line key a line, tab-separated
//   mac  model  extension  secret  [display name]
// `#` starts a comment line, blank lines are skipped, secret "-" means none, a
// missing display name is the extension. Throws cf::Error "FILE:LINE: reason".
std::vector<Phone> read_phones(std::istream& in, const std::string& source,
                               const firmware::ModelCatalog& catalog);

}  // namespace cf::config

#pragma once
// Firmware load names (reference cisco-79xx.md 1.1): what a name says about its
// family, protocol, platform and version. A name that fits no known pattern, or
// names a platform the catalog does not know, is an error, never a guess.
#include <compare>
#include <string>
#include <string_view>
#include <vector>

#include "cf/cli/result.hpp"
#include "cf/firmware/catalog.hpp"

namespace cf::firmware {

enum class Protocol { sccp, sip, mgcp, none };
enum class LoadKind {
  application,  // what a phone runs
  loader,       // 7940/7960 P003-x-y-zz: the universal application loader of a SIP load
  recovery,     // termNN.default.loads: what a factory-reset phone asks for
};

std::string_view to_string(Protocol protocol);
std::string_view to_string(LoadKind kind);
Result<Protocol> parse_protocol(std::string_view text);  // "sip", "SCCP", ...

// A comparable version: `key` orders loads (major, minor, maintenance, sub,
// service release, build); `text` is the Cisco spelling, e.g. "9.4(2)SR3".
struct Version {
  std::vector<int> key;
  std::string text;
  friend bool operator==(const Version& a, const Version& b) { return a.key == b.key; }
  friend std::strong_ordering operator<=>(const Version& a, const Version& b) {
    return a.key <=> b.key;
  }
};

// A version written the way people and rules write it: "8.5(2)", "9.4(2)SR3",
// "8.12(0)", "5.0", "8.3(3)".
Result<Version> parse_version(std::string_view text);

struct LoadName {
  std::string name;      // as given, without a .loads extension
  std::string family;    // "7941-7961"
  std::string platform;  // "41"
  Protocol protocol = Protocol::none;
  LoadKind kind = LoadKind::application;
  Version version;  // empty for recovery loads
};

// Accepts a load name or its .loads file name.
Result<LoadName> parse_load_name(std::string_view name, const ModelCatalog& catalog);

}  // namespace cf::firmware

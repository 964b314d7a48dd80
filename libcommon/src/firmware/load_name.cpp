#include "cf/firmware/load_name.hpp"
#include "cf/cli/text.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <optional>

#include <fmt/format.h>

namespace cf::firmware {
namespace {

constexpr std::size_t kMaxNameLength = 80;
// An SR build of MM.mm (P0030801SR02) does not say its maintenance number; it
// comes after every numbered build of MM.mm, so it sorts as if it were this.
constexpr int kUnstatedMaintenance = 9999;

bool is_digits(std::string_view text) {
  return !text.empty() &&
         std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isdigit(c); });
}

std::optional<int> to_int(std::string_view text) {
  if (!is_digits(text) || text.size() > 6) return std::nullopt;
  int value = 0;
  std::from_chars(text.data(), text.data() + text.size(), value);
  return value;
}

std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (true) {
    const auto at = text.find(separator, start);
    parts.push_back(text.substr(start, at == std::string_view::npos ? at : at - start));
    if (at == std::string_view::npos) return parts;
    start = at + 1;
  }
}

// Cisco's spelling of (major, minor, maintenance, sub, service release, build).
Version make_version(int major, int minor, int maintenance, int sub, int service_release,
                     int build) {
  Version version{{major, minor, maintenance, sub, service_release, build}, ""};
  version.text = fmt::format("{}.{}", major, minor);
  if (maintenance != kUnstatedMaintenance) {
    version.text += fmt::format("({}", maintenance);
    if (sub != 0) version.text += fmt::format(".{}", sub);
    version.text += ")";
  }
  if (service_release != 0) version.text += fmt::format("SR{}", service_release);
  return version;
}

// "9-4-2SR3-1", "8-3-1", "9-0-2SR1", "7-0-3-05": dashed numbers, an optional
// SRn, an optional build after it.
std::optional<Version> parse_dashed_version(std::string_view text) {
  int service_release = 0;
  int build = 0;
  const auto sr = text.find("SR");
  std::string_view numbers = text.substr(0, sr);
  if (sr != std::string_view::npos) {
    const auto tail = split(text.substr(sr + 2), '-');
    if (tail.size() > 2) return std::nullopt;
    const auto release = to_int(tail[0]);
    if (!release) return std::nullopt;
    service_release = *release;
    if (tail.size() == 2) {
      const auto b = to_int(tail[1]);
      if (!b) return std::nullopt;
      build = *b;
    }
  }
  const auto parts = split(numbers, '-');
  if (parts.size() < 3 || parts.size() > 4) return std::nullopt;
  std::vector<int> values;
  for (const auto part : parts) {
    const auto value = to_int(part);
    if (!value) return std::nullopt;
    values.push_back(*value);
  }
  values.resize(4, 0);
  return make_version(values[0], values[1], values[2], values[3], service_release, build);
}

Result<LoadName> fail(std::string_view name, std::string_view why) {
  return Result<LoadName>::failure(fmt::format("'{}' is not a known load name: {}", name, why));
}

Result<LoadName> with_family(LoadName load, const ModelCatalog& catalog) {
  const auto family = catalog.family_of_platform(load.platform);
  if (!family)
    return fail(load.name, fmt::format("platform code {} is not in the model catalog", load.platform));
  load.family = *family;
  return load;
}

// 7940/7960: P0<protocol>3 then 8 digits (SCCP), 4 digits + SRnn, 4 digits
// (DOS 8.3 names), or -MM-m-bb (SIP and its P003 loader). Reference 1.1.
Result<LoadName> parse_7940(std::string_view name, const ModelCatalog& catalog) {
  LoadName load{std::string(name), "", "03", Protocol::none, LoadKind::application, {}};
  switch (name[2]) {
    case '0': load.protocol = Protocol::sccp; break;
    case 'S': load.protocol = Protocol::sip; break;
    case 'M': load.protocol = Protocol::mgcp; break;
    default: return fail(name, "the third character of a 7940/7960 load must be 0, S or M");
  }
  const std::string_view rest = name.substr(4);
  if (rest.starts_with('-')) {
    const auto parts = split(rest.substr(1), '-');
    if (parts.size() != 3) return fail(name, "expected P0S3-MAJOR-MINOR-BUILD");
    const auto major = to_int(parts[0]), minor = to_int(parts[1]), build = to_int(parts[2]);
    if (!major || !minor || !build) return fail(name, "version parts must be numbers");
    if (load.protocol == Protocol::sccp) {
      // P003-8-12-00: the loader shipped with (and named in OS79XX.TXT for) a SIP load.
      load.protocol = Protocol::sip;
      load.kind = LoadKind::loader;
    }
    load.version = make_version(*major, *minor, *build, 0, 0, 0);
    return with_family(std::move(load), catalog);
  }
  if (load.protocol != Protocol::sccp && rest.size() != 4)
    return fail(name, "SIP and MGCP loads are written P0S3-MAJOR-MINOR-BUILD");
  if (rest.size() == 8 && is_digits(rest)) {
    load.version = make_version(*to_int(rest.substr(0, 2)), *to_int(rest.substr(2, 2)),
                                *to_int(rest.substr(4, 2)), *to_int(rest.substr(6, 2)), 0, 0);
  } else if (rest.size() == 8 && is_digits(rest.substr(0, 4)) && rest.substr(4, 2) == "SR" &&
             is_digits(rest.substr(6))) {
    load.version = make_version(*to_int(rest.substr(0, 2)), *to_int(rest.substr(2, 2)),
                                kUnstatedMaintenance, 0, *to_int(rest.substr(6)), 0);
  } else if (rest.size() == 4 && is_digits(rest)) {
    load.version = make_version(*to_int(rest.substr(0, 2)), *to_int(rest.substr(2, 2)), 0, 0, 0, 0);
  } else {
    return fail(name, "expected P003 followed by 8 digits, 4 digits and SRnn, or 4 digits");
  }
  return with_family(std::move(load), catalog);
}

// 79x1/79x2/79x5/797x: SCCPnn., SIPnn. or TERMnn. then a dashed version and
// an optional S (signed). Reference 1.1, 1.2.
Result<LoadName> parse_cnu(std::string_view name, std::string_view prefix, Protocol protocol,
                           const ModelCatalog& catalog) {
  const std::string_view rest = name.substr(prefix.size());
  if (rest.size() < 4 || !is_digits(rest.substr(0, 2)) || rest[2] != '.')
    return fail(name, fmt::format("expected {}NN. with a two-digit platform code", prefix));
  std::string_view version_text = rest.substr(3);
  if (version_text.ends_with('S') && !version_text.ends_with("SR")) version_text.remove_suffix(1);
  const auto version = parse_dashed_version(version_text);
  if (!version)
    return fail(name, "expected a version like 9-4-2, 9-4-2SR3-1 or 7-0-3-05 after the platform");
  LoadName load{std::string(name), "", std::string(rest.substr(0, 2)), protocol,
                LoadKind::application, *version};
  return with_family(std::move(load), catalog);
}

// 7902/7905/7912: CP<model><6-digit version><SCCP|SIP><6-digit date><letter>.
Result<LoadName> parse_cp79(std::string_view name, const ModelCatalog& catalog) {
  if (name.size() < 12 || !is_digits(name.substr(2, 4)) || !is_digits(name.substr(6, 6)))
    return fail(name, "expected CP<model><6-digit version>...");
  const std::string_view after = name.substr(12);
  Protocol protocol;
  std::string_view tail;
  if (after.starts_with("SCCP")) {
    protocol = Protocol::sccp;
    tail = after.substr(4);
  } else if (after.starts_with("SIP")) {
    protocol = Protocol::sip;
    tail = after.substr(3);
  } else {
    return fail(name, "expected SCCP or SIP after the version");
  }
  if (tail.size() != 7 || !is_digits(tail.substr(0, 6)) || !std::isalpha(static_cast<unsigned char>(tail[6])))
    return fail(name, "expected a 6-digit date and a letter at the end");
  const auto digits = name.substr(6, 6);
  LoadName load{std::string(name), "", std::string(name.substr(2, 4)), protocol,
                LoadKind::application,
                make_version(*to_int(digits.substr(0, 2)), *to_int(digits.substr(2, 2)),
                             *to_int(digits.substr(4, 2)), 0, 0, 0)};
  return with_family(std::move(load), catalog);
}

// termNN.default: the recovery load of one model (reference 1.4).
Result<LoadName> parse_term_default(std::string_view name, const ModelCatalog& catalog) {
  const auto* model = catalog.find_by_term_file(std::string(name) + ".loads");
  if (model == nullptr)
    return fail(name, "no model in the catalog lists this recovery file");
  return LoadName{std::string(name), model->family, model->platform, Protocol::none,
                  LoadKind::recovery, {}};
}

}  // namespace

std::string_view to_string(Protocol protocol) {
  switch (protocol) {
    case Protocol::sccp: return "SCCP";
    case Protocol::sip: return "SIP";
    case Protocol::mgcp: return "MGCP";
    case Protocol::none: return "-";
  }
  return "-";
}

std::string_view to_string(LoadKind kind) {
  switch (kind) {
    case LoadKind::application: return "application";
    case LoadKind::loader: return "loader";
    case LoadKind::recovery: return "recovery";
  }
  return "application";
}

Result<Protocol> parse_protocol(std::string_view text) {
  if (iequals(text, "sccp")) return Protocol::sccp;
  if (iequals(text, "sip")) return Protocol::sip;
  if (iequals(text, "mgcp")) return Protocol::mgcp;
  return Result<Protocol>::failure(fmt::format("unknown protocol '{}' (expected sccp or sip)", text));
}

Result<Version> parse_version(std::string_view text) {
  // "9.4(2)SR3", "8.5(2)", "8.0(9)", "5.0", "8.12(0)", "9.4(2.1)", "8.1SR2"
  const auto bad = [&] {
    return Result<Version>::failure(
        fmt::format("'{}' is not a version (expected e.g. 8.5(2) or 9.4(2)SR3)", text));
  };
  const auto dot = text.find('.');
  if (dot == std::string_view::npos) return bad();
  std::string_view rest = text.substr(dot + 1);
  const auto minor_end = std::min(rest.size(), rest.find_first_not_of("0123456789"));
  const auto major = to_int(text.substr(0, dot));
  const auto minor = to_int(rest.substr(0, minor_end));
  if (!major || !minor) return bad();
  rest.remove_prefix(minor_end);
  int maintenance = rest.starts_with("SR") ? kUnstatedMaintenance : 0;
  int sub = 0;
  if (rest.starts_with('(')) {
    const auto close = rest.find(')');
    if (close == std::string_view::npos) return bad();
    const auto inside = split(rest.substr(1, close - 1), '.');
    const auto m = to_int(inside[0]);
    const auto s = inside.size() == 2 ? to_int(inside[1]) : std::optional<int>(0);
    if (inside.size() > 2 || !m || !s) return bad();
    maintenance = *m;
    sub = *s;
    rest.remove_prefix(close + 1);
  }
  int service_release = 0;
  if (!rest.empty()) {
    const auto sr = rest.starts_with("SR") ? to_int(rest.substr(2)) : std::nullopt;
    if (!sr) return bad();
    service_release = *sr;
  }
  return make_version(*major, *minor, maintenance, sub, service_release, 0);
}

Result<LoadName> parse_load_name(std::string_view name, const ModelCatalog& catalog) {
  if (name.ends_with(".loads")) name.remove_suffix(6);
  if (name.empty()) return Result<LoadName>::failure("an empty load name");
  if (name.size() > kMaxNameLength) return fail(name.substr(0, 20), "longer than 80 characters");
  const bool allowed = std::all_of(name.begin(), name.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '.' || c == '-' || c == '_';
  });
  if (!allowed) return Result<LoadName>::failure("a load name has only letters, digits, '.', '-' and '_'");
  if (istarts_with(name, "term") && name.ends_with(".default")) return parse_term_default(name, catalog);
  if (name.size() >= 6 && name.starts_with("P0") && name[3] == '3') return parse_7940(name, catalog);
  if (name.starts_with("SCCP")) return parse_cnu(name, "SCCP", Protocol::sccp, catalog);
  if (name.starts_with("SIP")) return parse_cnu(name, "SIP", Protocol::sip, catalog);
  if (istarts_with(name, "TERM")) return parse_cnu(name, name.substr(0, 4), Protocol::sccp, catalog);
  if (name.starts_with("CP") && name.size() > 2 && std::isdigit(static_cast<unsigned char>(name[2])))
    return parse_cp79(name, catalog);
  return fail(name, "it matches no family's naming (P003..., P0S3-..., SCCPnn., SIPnn., TERMnn., CP79xx...)");
}

}  // namespace cf::firmware

#include "cf/dhcp/config.hpp"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <istream>

#include <fmt/format.h>

#include "cf/cli/error.hpp"
#include "cf/cli/text.hpp"

namespace cf::dhcp {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

template <class T>
std::optional<T> parse_unsigned(std::string_view text, std::uint64_t max) {
  std::uint64_t value = 0;
  int base = 10;
  if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
    text.remove_prefix(2);
    base = 16;
  }
  if (text.empty()) return std::nullopt;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value, base);
  if (error != std::errc{} || end != text.data() + text.size() || value > max) return std::nullopt;
  return static_cast<T>(value);
}

std::optional<Bytes> parse_hex(std::string_view text) {
  Bytes out;
  int high = -1;
  for (const char c : text) {
    if (c == ':' || c == ' ' || c == '-') continue;
    int v = 0;
    if (c >= '0' && c <= '9') v = c - '0';
    else if (c >= 'a' && c <= 'f') v = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F') v = c - 'A' + 10;
    else return std::nullopt;
    if (high < 0) {
      high = v;
    } else {
      out.push_back(std::byte(high << 4 | v));
      high = -1;
    }
  }
  if (high >= 0 || out.empty()) return std::nullopt;
  return out;
}

}  // namespace

Result<Pool> parse_pool(std::string_view text, std::optional<net::Ipv4Network> link) {
  const auto dash = text.find('-');
  if (dash == std::string_view::npos)
    return Result<Pool>::failure(fmt::format("pool '{}': want START-END[/LEN]", text));
  auto end_text = text.substr(dash + 1);
  std::optional<int> prefix;
  if (const auto slash = end_text.find('/'); slash != std::string_view::npos) {
    const auto length = parse_unsigned<int>(end_text.substr(slash + 1), 32);
    if (!length || *length < 8 || *length > 30)
      return Result<Pool>::failure(fmt::format("pool '{}': prefix length must be 8..30", text));
    prefix = *length;
    end_text = end_text.substr(0, slash);
  }
  const auto first = net::Ipv4::parse(text.substr(0, dash));
  const auto last = net::Ipv4::parse(end_text);
  if (!first || !last)
    return Result<Pool>::failure(fmt::format("pool '{}': START and END must be dotted quads", text));
  if (*last < *first)
    return Result<Pool>::failure(fmt::format("pool '{}': END is below START", text));
  Pool pool;
  pool.first = *first;
  pool.last = *last;
  if (prefix) {
    pool.network = *net::Ipv4Network::containing(*first, *prefix);
  } else if (link && link->contains(*first)) {
    pool.network = *link;
  } else {
    return Result<Pool>::failure(fmt::format(
        "pool '{}' is not on the interface's subnet{}; give its prefix length, e.g. {}/24", text,
        link ? " " + link->to_string() : "", text));
  }
  if (!pool.network.contains(*last))
    return Result<Pool>::failure(
        fmt::format("pool '{}': END is outside {}", text, pool.network.to_string()));
  if (*first == pool.network.network() || *last == pool.network.broadcast())
    return Result<Pool>::failure(fmt::format(
        "pool '{}' includes the network or broadcast address of {}", text, pool.network.to_string()));
  return pool;
}

Result<Reservation> parse_reservation(std::string_view text) {
  const auto equals = text.find('=');
  if (equals == std::string_view::npos)
    return Result<Reservation>::failure(fmt::format("reservation '{}': want MAC=IP[,NAME]", text));
  const auto mac = MacAddress::parse(trim(text.substr(0, equals)));
  if (!mac)
    return Result<Reservation>::failure(
        fmt::format("reservation '{}': '{}' is not a MAC address", text, text.substr(0, equals)));
  auto rest = text.substr(equals + 1);
  std::string_view name;
  if (const auto comma = rest.find(','); comma != std::string_view::npos) {
    name = trim(rest.substr(comma + 1));
    rest = rest.substr(0, comma);
  }
  const auto address = net::Ipv4::parse(trim(rest));
  if (!address)
    return Result<Reservation>::failure(
        fmt::format("reservation '{}': '{}' is not a dotted quad", text, rest));
  for (const char c : name)
    if (static_cast<unsigned char>(c) <= ' ' || c == 0x7F)
      return Result<Reservation>::failure(
          fmt::format("reservation '{}': the name may not hold spaces or control characters", text));
  return Reservation{*mac, *address, std::string(name)};
}

std::vector<Reservation> read_reservations(std::istream& in, const std::string& source) {
  std::vector<Reservation> out;
  std::string line;
  std::size_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    std::string_view view = line;
    if (const auto hash = view.find('#'); hash != std::string_view::npos) view = view.substr(0, hash);
    view = trim(view);
    if (view.empty()) continue;
    std::string spec(view);
    if (spec.find('=') == std::string::npos) {
      // "MAC IP [NAME]" -> "MAC=IP,NAME"
      std::vector<std::string> words;
      std::size_t at = 0;
      while (at < spec.size()) {
        const auto start = spec.find_first_not_of(" \t", at);
        if (start == std::string::npos) break;
        const auto stop = spec.find_first_of(" \t", start);
        words.push_back(spec.substr(start, stop - start));
        at = stop == std::string::npos ? spec.size() : stop;
      }
      if (words.size() < 2 || words.size() > 3)
        throw UsageError(fmt::format("{}:{}: want 'MAC IP [NAME]'", source, number));
      spec = words[0] + "=" + words[1] + (words.size() == 3 ? "," + words[2] : "");
    }
    auto reservation = parse_reservation(spec);
    if (!reservation) throw UsageError(fmt::format("{}:{}: {}", source, number, reservation.error()));
    out.push_back(std::move(reservation).value());
  }
  return out;
}

std::vector<Reservation> read_reservations_file(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) throw Error(fmt::format("cannot open reservations file {}", file.string()));
  return read_reservations(in, file.string());
}

Result<std::vector<net::Ipv4>> parse_address_list(std::string_view text,
                                                  std::vector<std::string>& notes) {
  std::vector<net::Ipv4> out;
  while (true) {
    const auto comma = text.find(',');
    const auto item = trim(text.substr(0, comma));
    const auto parsed = net::parse_address_any(item);
    if (!parsed)
      return Result<std::vector<net::Ipv4>>::failure(fmt::format(
          "'{}' is not an IPv4 address (dotted quad, or Windows hex like 0x0101A8C0)", item));
    if (!parsed->explanation.empty()) notes.push_back(parsed->explanation);
    out.push_back(parsed->address);
    if (comma == std::string_view::npos) break;
    text = text.substr(comma + 1);
  }
  return out;
}

Result<OptionSpec> parse_option_spec(std::string_view text) {
  using R = Result<OptionSpec>;
  const auto colon = text.find(':');
  const auto equals = text.find('=');
  if (colon == std::string_view::npos || equals == std::string_view::npos || equals < colon)
    return R::failure(fmt::format("option '{}': want CODE:TYPE=VALUE", text));
  const auto code = parse_unsigned<unsigned>(text.substr(0, colon), 255);
  if (!code || *code == 0 || *code == 255)
    return R::failure(fmt::format("option '{}': CODE must be 1..254", text));
  if (*code == option::message_type || *code == option::server_id || *code == option::overload ||
      *code == option::lease_time)
    return R::failure(fmt::format(
        "option '{}': option {} is set by the server itself (use --lease-time for 51)", text, *code));
  const auto type = text.substr(colon + 1, equals - colon - 1);
  const auto value = text.substr(equals + 1);
  OptionSpec spec;
  spec.code = static_cast<std::uint8_t>(*code);
  Options scratch;
  if (type == "ip" || type == "ips") {
    auto list = parse_address_list(value, spec.notes);
    if (!list) return R::failure(fmt::format("option '{}': {}", text, list.error()));
    if (type == "ip" && list->size() != 1)
      return R::failure(fmt::format("option '{}': type ip takes one address; use ips", text));
    scratch.set_ipv4_list(spec.code, *list);
  } else if (type == "str") {
    if (value.empty()) return R::failure(fmt::format("option '{}': empty string", text));
    scratch.set_text(spec.code, value);
  } else if (type == "u8" || type == "u16" || type == "u32") {
    const std::uint64_t max = type == "u8" ? 0xFF : type == "u16" ? 0xFFFF : 0xFFFFFFFF;
    const auto number = parse_unsigned<std::uint32_t>(value, max);
    if (!number)
      return R::failure(fmt::format("option '{}': '{}' is not a number 0..{}", text, value, max));
    if (type == "u8") scratch.set_u8(spec.code, static_cast<std::uint8_t>(*number));
    else if (type == "u16") scratch.set_u16(spec.code, static_cast<std::uint16_t>(*number));
    else scratch.set_u32(spec.code, *number);
  } else if (type == "hex") {
    auto bytes = parse_hex(value);
    if (!bytes) return R::failure(fmt::format("option '{}': '{}' is not hex bytes", text, value));
    scratch.set(spec.code, std::move(*bytes));
  } else {
    return R::failure(fmt::format("option '{}': TYPE must be ip, ips, str, u8, u16, u32 or hex", text));
  }
  spec.value = *scratch.find(spec.code);
  return spec;
}

void validate(const Config& config) {
  if (config.pools.empty()) throw UsageError("no --pool given: nothing to hand out");
  if (config.lease_time < 60) throw UsageError("--lease-time must be at least 60 seconds");
  for (std::size_t i = 0; i < config.pools.size(); ++i) {
    const auto& a = config.pools[i];
    for (std::size_t j = i + 1; j < config.pools.size(); ++j) {
      const auto& b = config.pools[j];
      if (a.first <= b.last && b.first <= a.last)
        throw UsageError(fmt::format("pools {}-{} and {}-{} overlap", a.first.to_string(),
                                     a.last.to_string(), b.first.to_string(), b.last.to_string()));
    }
  }
  for (const auto& r : config.reservations) {
    bool inside = false;
    for (const auto& pool : config.pools) inside = inside || pool.network.contains(r.address);
    if (!inside)
      throw UsageError(fmt::format("reservation {}={} is outside the network of every pool",
                                   r.mac.to_string(), r.address.to_string()));
    if (r.address == config.server_id)
      throw UsageError(fmt::format("reservation {}={} is the server's own address", r.mac.to_string(),
                                   r.address.to_string()));
    // A phone given one of these would be ACKed an address no host may hold,
    // or NAKed for ever.
    for (const auto& pool : config.pools) {
      // RFC 3021: a /31 has no network or broadcast address.
      if (!pool.network.contains(r.address) || pool.network.prefix_length() >= 31) continue;
      if (r.address == pool.network.network() || r.address == pool.network.broadcast())
        throw UsageError(fmt::format("reservation {}={} is the {} address of {}", r.mac.to_string(),
                                     r.address.to_string(),
                                     r.address == pool.network.network() ? "network" : "broadcast",
                                     pool.network.to_string()));
    }
    if (std::find(config.routers.begin(), config.routers.end(), r.address) != config.routers.end())
      throw UsageError(fmt::format("reservation {}={} is a router's address (--router)",
                                   r.mac.to_string(), r.address.to_string()));
  }
  for (std::size_t i = 0; i < config.reservations.size(); ++i)
    for (std::size_t j = i + 1; j < config.reservations.size(); ++j) {
      const auto& a = config.reservations[i];
      const auto& b = config.reservations[j];
      if (a.mac == b.mac)
        throw UsageError(fmt::format("{} is reserved twice", a.mac.to_string()));
      if (a.address == b.address)
        throw UsageError(fmt::format("{} is reserved for both {} and {}", a.address.to_string(),
                                     a.mac.to_string(), b.mac.to_string()));
    }
}

void check_config_file(std::istream& in, const std::string& source,
                       const std::vector<std::string>& known) {
  auto fold = [](std::string_view key) {
    std::string out(key);
    std::replace(out.begin(), out.end(), '_', '-');
    return out;
  };
  std::string line;
  std::size_t number = 0;
  bool in_list = false;  // inside a multi-line [ ... ] value
  while (std::getline(in, line)) {
    ++number;
    const auto view = trim(line);
    if (in_list) {
      if (view.find(']') != std::string_view::npos) in_list = false;
      continue;
    }
    if (view.empty() || view.front() == '#' || view.front() == ';') continue;
    if (view.front() == '[') {
      if (view != "[default]")
        throw UsageError(fmt::format("{}:{}: section {} is not one cisco-dhcpd reads", source, number,
                                     printable(view, 64)));
      continue;
    }
    const auto equals = view.find('=');
    if (equals == std::string_view::npos)
      throw UsageError(fmt::format("{}:{}: want KEY = VALUE, got '{}'", source, number, printable(view, 64)));
    const auto key = fold(trim(view.substr(0, equals)));
    if (std::find(known.begin(), known.end(), key) == known.end())
      throw UsageError(fmt::format("{}:{}: unknown key '{}'", source, number, printable(key, 64)));
    const auto value = trim(view.substr(equals + 1));
    if (value.starts_with('[') && value.find(']') == std::string_view::npos) in_list = true;
  }
  if (in_list) throw UsageError(fmt::format("{}:{}: a '[' list is never closed", source, number));
}

void check_config_file(const std::filesystem::path& file, const std::vector<std::string>& known) {
  std::ifstream in(file);
  if (!in) throw UsageError(fmt::format("cannot open --config {}", file.string()));
  check_config_file(in, file.string(), known);
}

}  // namespace cf::dhcp

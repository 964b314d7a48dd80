#include "cf/dhcp/export.hpp"

#include <map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace cf::dhcp {
namespace {

using net::Ipv4;

enum class Kind { addresses, text, raw };

Kind kind_of(std::uint8_t code, const Bytes& value) {
  switch (code) {
    case option::dns_servers:
    case option::ntp_servers:
    case option::tftp_servers:
      return value.size() % 4 == 0 && !value.empty() ? Kind::addresses : Kind::raw;
    case option::domain_name:
    case option::tftp_server_name:
      return Kind::text;
    default:
      return Kind::raw;
  }
}

std::string join_addresses(const Bytes& value, std::string_view separator) {
  std::string out;
  for (std::size_t i = 0; i + 3 < value.size(); i += 4) {
    if (!out.empty()) out += separator;
    out += Ipv4::parse_network_bytes(std::span(value).subspan(i, 4))->to_string();
  }
  return out;
}

std::string as_text(const Bytes& value) {
  return std::string(reinterpret_cast<const char*>(value.data()), value.size());
}

std::string hex(const Bytes& value, std::string_view separator) {
  std::string out;
  for (std::size_t i = 0; i < value.size(); ++i) {
    if (i != 0) out += separator;
    out += fmt::format("{:02x}", std::to_integer<unsigned>(value[i]));
  }
  return out;
}

// Text inside double quotes for dnsmasq and dhcpd.
std::string dq(std::string_view text) {
  std::string out = "\"";
  for (const char c : text) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out + "\"";
}

std::vector<Ipv4> routers_in(const Config& config, const Pool& pool) {
  std::vector<Ipv4> out;
  for (auto r : config.routers)
    if (pool.network.contains(r)) out.push_back(r);
  return out;
}

std::string join(const std::vector<Ipv4>& list, std::string_view separator) {
  std::string out;
  for (auto a : list) out += (out.empty() ? "" : std::string(separator)) + a.to_string();
  return out;
}

// Pools grouped by network, in first-seen order.
std::vector<std::pair<net::Ipv4Network, std::vector<const Pool*>>> subnets(const Config& config) {
  std::vector<std::pair<net::Ipv4Network, std::vector<const Pool*>>> out;
  for (const auto& pool : config.pools) {
    auto it = std::find_if(out.begin(), out.end(), [&](auto& s) { return s.first == pool.network; });
    if (it == out.end()) out.push_back({pool.network, {&pool}});
    else it->second.push_back(&pool);
  }
  return out;
}

std::string dnsmasq(const Config& config, const std::string& interface) {
  std::string out = "# dnsmasq configuration written by cisco-dhcpd export\nport=0\n";
  if (!interface.empty()) out += fmt::format("interface={}\nbind-interfaces\n", interface);
  const bool filtered = !config.only_vendor.empty();
  if (filtered) {
    // dnsmasq matches a substring anywhere in option 60, not only a prefix;
    // the quotes keep the commas of "Cisco Systems, Inc." inside the value.
    out += fmt::format("dhcp-vendorclass=set:phone,{}\ndhcp-ignore=tag:!phone\n", dq(config.only_vendor));
  }
  int index = 0;
  for (const auto& pool : config.pools) {
    const auto tag = fmt::format("pool{}", index++);
    out += fmt::format("dhcp-range=set:{},{},{},{},{}\n", tag, pool.first.to_string(),
                       pool.last.to_string(), pool.network.netmask().to_string(), config.lease_time);
    if (const auto routers = routers_in(config, pool); !routers.empty())
      out += fmt::format("dhcp-option=tag:{},3,{}\n", tag, join(routers, ","));
  }
  for (const auto& [code, value] : config.options.entries()) {
    switch (kind_of(code, value)) {
      case Kind::addresses: out += fmt::format("dhcp-option={},{}\n", code, join_addresses(value, ",")); break;
      case Kind::text: out += fmt::format("dhcp-option={},{}\n", code, dq(as_text(value))); break;
      case Kind::raw:
        // A single byte would be read as a number; two or more hex pairs are raw bytes.
        out += value.size() == 1 ? fmt::format("dhcp-option={},{}\n", code, std::to_integer<unsigned>(value[0]))
                                 : fmt::format("dhcp-option={},{}\n", code, hex(value, ":"));
        break;
    }
  }
  if (!config.next_server.is_unspecified())
    out += fmt::format("dhcp-boot=,,{}\n", config.next_server.to_string());
  for (const auto& r : config.reservations)
    out += fmt::format("dhcp-host={},{}{}\n", r.mac.to_string(), r.address.to_string(),
                       r.hostname.empty() ? "" : "," + r.hostname);
  return out;
}

std::string kea(const Config& config, const std::string& interface) {
  using nlohmann::ordered_json;
  ordered_json dhcp4;
  dhcp4["interfaces-config"]["interfaces"] =
      interface.empty() ? ordered_json::array() : ordered_json::array({interface});
  dhcp4["lease-database"] = {{"type", "memfile"}, {"persist", true}, {"lfc-interval", 3600}};
  dhcp4["valid-lifetime"] = config.lease_time;
  dhcp4["authoritative"] = true;
  // Option 150 is not predefined in Kea (tftp-dhcp-peers.md B.1).
  dhcp4["option-def"] = ordered_json::array({{{"name", "tftp-servers"},
                                              {"code", 150},
                                              {"type", "ipv4-address"},
                                              {"array", true},
                                              {"space", "dhcp4"}}});
  const std::map<std::uint8_t, std::string> names{{option::dns_servers, "domain-name-servers"},
                                                  {option::ntp_servers, "ntp-servers"},
                                                  {option::tftp_servers, "tftp-servers"},
                                                  {option::domain_name, "domain-name"},
                                                  {option::tftp_server_name, "tftp-server-name"}};
  auto options = ordered_json::array();
  for (const auto& [code, value] : config.options.entries()) {
    const auto kind = kind_of(code, value);
    if (kind != Kind::raw && names.contains(code)) {
      options.push_back({{"name", names.at(code)},
                         {"data", kind == Kind::addresses ? join_addresses(value, ", ") : as_text(value)}});
    } else {
      options.push_back({{"code", code}, {"csv-format", false}, {"data", hex(value, "")}});
    }
  }
  dhcp4["option-data"] = options;
  if (!config.next_server.is_unspecified()) dhcp4["next-server"] = config.next_server.to_string();
  if (!config.only_vendor.empty()) {
    std::string escaped;
    for (const char c : config.only_vendor) {
      if (c == '\'' || c == '\\') escaped.push_back('\\');
      escaped.push_back(c);
    }
    dhcp4["client-classes"] = ordered_json::array(
        {{{"name", "phones"},
          {"test", fmt::format("substring(option[60].hex,0,{}) == '{}'", config.only_vendor.size(),
                               escaped)}}});
  }
  auto subnet_list = ordered_json::array();
  int id = 1;
  for (const auto& [network, pools] : subnets(config)) {
    ordered_json subnet;
    subnet["id"] = id++;
    subnet["subnet"] = network.to_string();
    auto pool_list = ordered_json::array();
    for (const Pool* p : pools) {
      ordered_json entry = {{"pool", p->first.to_string() + " - " + p->last.to_string()}};
      if (!config.only_vendor.empty()) entry["client-class"] = "phones";
      pool_list.push_back(entry);
      if (const auto routers = routers_in(config, *p); !routers.empty())
        subnet["option-data"] = ordered_json::array({{{"name", "routers"}, {"data", join(routers, ", ")}}});
    }
    subnet["pools"] = pool_list;
    auto reservations = ordered_json::array();
    for (const auto& r : config.reservations) {
      if (!network.contains(r.address)) continue;
      ordered_json entry = {{"hw-address", r.mac.to_string()}, {"ip-address", r.address.to_string()}};
      if (!r.hostname.empty()) entry["hostname"] = r.hostname;
      reservations.push_back(entry);
    }
    if (!reservations.empty()) subnet["reservations"] = reservations;
    subnet_list.push_back(subnet);
  }
  dhcp4["subnet4"] = subnet_list;
  ordered_json root;
  root["Dhcp4"] = dhcp4;
  return root.dump(2) + "\n";
}

std::string isc(const Config& config) {
  std::string out = "# ISC dhcpd configuration written by cisco-dhcpd export\n";
  out += "option tftp-servers code 150 = array of ip-address;\n";
  out += "authoritative;\n";
  out += fmt::format("default-lease-time {};\nmax-lease-time {};\n", config.lease_time, config.lease_time);
  if (!config.next_server.is_unspecified())
    out += fmt::format("next-server {};\n", config.next_server.to_string());
  for (const auto& [code, value] : config.options.entries()) {
    const auto kind = kind_of(code, value);
    switch (code) {
      case option::dns_servers:
        if (kind == Kind::addresses) { out += "option domain-name-servers " + join_addresses(value, ", ") + ";\n"; continue; }
        break;
      case option::ntp_servers:
        if (kind == Kind::addresses) { out += "option ntp-servers " + join_addresses(value, ", ") + ";\n"; continue; }
        break;
      case option::tftp_servers:
        if (kind == Kind::addresses) { out += "option tftp-servers " + join_addresses(value, ", ") + ";\n"; continue; }
        break;
      case option::domain_name: out += "option domain-name " + dq(as_text(value)) + ";\n"; continue;
      case option::tftp_server_name: out += "option tftp-server-name " + dq(as_text(value)) + ";\n"; continue;
      default: break;
    }
    out += fmt::format("option cf-option-{} code {} = string;\noption cf-option-{} {};\n", code, code,
                       code, hex(value, ":"));
  }
  if (!config.only_vendor.empty())
    out += fmt::format("class \"phones\" {{\n  match if substring(option vendor-class-identifier, 0, {}) = {};\n}}\n",
                       config.only_vendor.size(), dq(config.only_vendor));
  for (const auto& [network, pools] : subnets(config)) {
    out += fmt::format("subnet {} netmask {} {{\n", network.network().to_string(),
                       network.netmask().to_string());
    std::vector<Ipv4> routers;
    for (const Pool* p : pools)
      for (auto r : routers_in(config, *p))
        if (std::find(routers.begin(), routers.end(), r) == routers.end()) routers.push_back(r);
    if (!routers.empty()) out += "  option routers " + join(routers, ", ") + ";\n";
    out += "  pool {\n";
    for (const Pool* p : pools) out += fmt::format("    range {} {};\n", p->first.to_string(), p->last.to_string());
    if (!config.only_vendor.empty()) out += "    allow members of \"phones\";\n";
    out += "  }\n}\n";
  }
  int n = 0;
  for (const auto& r : config.reservations)
    out += fmt::format("host {} {{\n  hardware ethernet {};\n  fixed-address {};\n}}\n",
                       r.hostname.empty() ? fmt::format("reserved-{}", ++n) : r.hostname,
                       r.mac.to_string(), r.address.to_string());
  return out;
}

}  // namespace

std::optional<ExportFormat> parse_export_format(std::string_view name) {
  if (name == "dnsmasq") return ExportFormat::dnsmasq;
  if (name == "kea") return ExportFormat::kea;
  if (name == "isc") return ExportFormat::isc;
  return std::nullopt;
}

std::string export_config(const Config& config, ExportFormat format, const std::string& interface) {
  switch (format) {
    case ExportFormat::dnsmasq: return dnsmasq(config, interface);
    case ExportFormat::kea: return kea(config, interface);
    case ExportFormat::isc: return isc(config);
  }
  return {};
}

}  // namespace cf::dhcp

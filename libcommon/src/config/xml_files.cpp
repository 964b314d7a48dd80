// XMLDefault.cnf.xml, SEP<MAC>.cnf.xml and dialplan.xml (reference cisco-79xx.md 2, 3.2).
#include <algorithm>
#include <cctype>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <pugixml.hpp>

#include "cf/cli/error.hpp"
#include "cf/config/writers.hpp"

namespace cf::config {
namespace {

std::string serialise(pugi::xml_document& doc) {
  auto decl = doc.prepend_child(pugi::node_declaration);
  decl.append_attribute("version") = "1.0";
  decl.append_attribute("encoding") = "UTF-8";
  std::ostringstream out;
  doc.save(out, "  ", pugi::format_default, pugi::encoding_utf8);
  return out.str();
}

pugi::xml_node text_child(pugi::xml_node parent, const char* name, const std::string& text) {
  auto node = parent.append_child(name);
  node.text().set(text.c_str());
  return node;
}

// <callManagerGroup><members><member priority="N"><callManager>... (reference 2.1). The
// members are the --callmanager addresses in priority order; SIP phones register to
// processNodeName (NICK-SCRIPT, reference 2.1).
void call_manager_group(pugi::xml_node parent, const Network& network, bool sip) {
  auto members = parent.append_child("callManagerGroup").append_child("members");
  for (std::size_t i = 0; i < network.callmanagers.size(); ++i) {
    auto member = members.append_child("member");
    member.append_attribute("priority") = static_cast<unsigned>(i);
    auto manager = member.append_child("callManager");
    auto ports = manager.append_child("ports");
    text_child(ports, "ethernetPhonePort", std::to_string(network.sccp_port));
    if (sip) text_child(ports, "sipPort", std::to_string(network.sip_port));
    text_child(manager, "processNodeName", network.callmanagers[i]);
  }
}

bool is_cnu_sip(const firmware::LoadName& load) {
  // 79x1/79x2/79x5/797x SIP loads are SIPnn.*; 7940/7960 SIP uses SIPDefault.cnf instead.
  return load.protocol == firmware::Protocol::sip && load.family != "7940-7960" &&
         load.name.starts_with("SIP");
}

}  // namespace

std::string check_host(const std::string& host) {
  if (host.empty()) return "an empty address";
  if (host.size() > 253) return fmt::format("'{}...' is longer than a host name may be", host.substr(0, 20));
  const bool ok = std::all_of(host.begin(), host.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '.' || c == '-';
  });
  if (!ok) return fmt::format("'{}' is not an IPv4 address or host name", host);
  return {};
}

std::string check_codec(const std::string& codec) {
  if (codec == "g711ulaw" || codec == "g711alaw" || codec == "g729") return {};
  return fmt::format("codec '{}' is not one the phones name (g711ulaw, g711alaw, g729)", codec);
}

GeneratedFile xmldefault(const Network& network, const LoadSelection& loads,
                         const firmware::ModelCatalog& catalog) {
  pugi::xml_document doc;
  auto root = doc.append_child("Default");
  call_manager_group(root, network, false);
  for (const auto& model : catalog.models()) {
    const auto* choice = loads.for_model(model.model);
    if (choice == nullptr) continue;
    // The numeric suffix identifies the model; the attribute is informational (2.2).
    auto info = text_child(root, fmt::format("loadInformation{}", model.device_type).c_str(),
                           choice->load.name);
    info.append_attribute("model") = ("Cisco " + model.model).c_str();
  }
  return {"XMLDefault.cnf.xml", serialise(doc)};
}

GeneratedFile sep_file(const Network& network, const Phone& phone, const firmware::LoadName& load) {
  const bool sip = load.protocol == firmware::Protocol::sip;
  pugi::xml_document doc;
  auto device = doc.append_child("device");
  text_child(device, "fullConfig", "true");
  text_child(device, "deviceProtocol", sip ? "SIP" : "SCCP");
  auto pool = device.append_child("devicePool");
  if (!network.time_zone.empty() || !network.ntp_server.empty()) {
    auto date = pool.append_child("dateTimeSetting");
    if (!network.time_zone.empty()) text_child(date, "timeZone", network.time_zone);
    if (!network.ntp_server.empty()) {
      auto ntp = date.append_child("ntps").append_child("ntp");
      text_child(ntp, "name", network.ntp_server);
      text_child(ntp, "ntpMode", "Unicast");
    }
  }
  call_manager_group(pool, network, sip);
  if (is_cnu_sip(load)) {
    auto profile = device.append_child("sipProfile");
    text_child(profile.append_child("sipProxies"), "registerWithProxy", "true");
    text_child(profile, "preferredCodec", network.codec);
    text_child(profile, "phoneLabel", phone.lines.front().display_name);
    auto lines = profile.append_child("sipLines");
    for (std::size_t i = 0; i < phone.lines.size(); ++i) {
      const auto& l = phone.lines[i];
      if (l.secret.empty())
        throw UsageError(fmt::format("phone {} line {} (extension {}) runs SIP load {} and needs "
                                     "a secret to register",
                                     phone.mac, i + 1, l.extension, load.name));
      auto line = lines.append_child("line");
      line.append_attribute("button") = static_cast<unsigned>(i + 1);
      text_child(line, "featureID", "9");  // 9 = line key in CUCM/Wazo templates (UNCERTAIN)
      text_child(line, "featureLabel", l.display_name);
      text_child(line, "proxy", network.callmanagers.front());
      text_child(line, "port", std::to_string(network.sip_port));
      text_child(line, "name", l.extension);
      text_child(line, "displayName", l.display_name);
      text_child(line, "authName", l.extension);
      text_child(line, "authPassword", l.secret);
      text_child(line, "contact", l.extension);
    }
    text_child(profile, "dialTemplate", network.dialplan);
  }
  // Bare, without model or number: how one phone is stepped to a load (reference 2.1).
  text_child(device, "loadInformation", load.name);
  // After loadInformation, as in NamoDev's 7942.cnf.xml and waynemerricks' file.
  if (is_cnu_sip(load))
    text_child(device, "transportLayerProtocol",
               network.transport == SipTransport::tcp ? "4" : "2");
  return {"SEP" + phone.mac + ".cnf.xml", serialise(doc)};
}

const char* to_string(SipTransport transport) noexcept {
  return transport == SipTransport::tcp ? "tcp" : "udp";
}

Result<DialPattern> parse_dial_pattern(std::string_view text) {
  const auto bad = [&](const std::string& why) {
    return Result<DialPattern>::failure(fmt::format("dial pattern '{}': {}", text, why));
  };
  const auto equals = text.rfind('=');
  if (equals == std::string_view::npos) return bad("expected MATCH=TIMEOUT, e.g. 1...=2");
  const std::string_view match = text.substr(0, equals);
  if (match.empty()) return bad("no MATCH before '='");
  if (match.size() > 32) return bad("MATCH is longer than 32 characters");
  const bool allowed = std::all_of(match.begin(), match.end(), [](unsigned char c) {
    return std::isdigit(c) || c == '.' || c == '*' || c == '#' || c == '+' || c == ',';
  });
  if (!allowed) return bad("MATCH may hold only digits, '.', '*', '#', '+' and ','");
  DialPattern pattern{std::string(match), 0};
  const std::string_view timeout = text.substr(equals + 1);
  if (timeout.empty() || timeout.size() > 2 ||
      !std::all_of(timeout.begin(), timeout.end(), [](unsigned char c) { return std::isdigit(c); }))
    return bad("TIMEOUT must be whole seconds, 0 to 60");
  pattern.timeout = static_cast<unsigned>(std::stoul(std::string(timeout)));
  if (pattern.timeout > 60) return bad("TIMEOUT must be whole seconds, 0 to 60");
  return pattern;
}

std::string check_dialplan_xml(const std::string& xml) {
  // Old 7940/7960 loads are said not to read XML files above 8 KB (reference 2.1,
  // UNCERTAIN); a dial plan never needs more.
  if (xml.size() > 8192) return fmt::format("it is {} bytes; a dial plan of at most 8192 is read by every load", xml.size());
  pugi::xml_document doc;
  const auto parsed = doc.load_buffer(xml.data(), xml.size());
  if (!parsed) return fmt::format("not well-formed XML at byte {}: {}", parsed.offset, parsed.description());
  const auto root = doc.document_element();
  if (std::string_view(root.name()) != "DIALTEMPLATE") return "its root element is not <DIALTEMPLATE>";
  for (const auto child : root.children()) {
    if (child.type() != pugi::node_element) continue;
    if (std::string_view(child.name()) != "TEMPLATE")
      return fmt::format("<{}> is not a <TEMPLATE>", child.name());
    if (child.attribute("MATCH").empty()) return "a <TEMPLATE> has no MATCH attribute";
  }
  return {};
}

GeneratedFile dialplan_file(const Network& network, const std::vector<Phone>& phones) {
  if (!network.dialplan_xml.empty()) return {"dialplan.xml", network.dialplan_xml};
  std::vector<DialPattern> patterns = network.dial_patterns;
  if (patterns.empty()) {
    // First digit and length of each numeric extension, in order.
    std::set<std::pair<std::size_t, char>> shapes;
    for (const auto& phone : phones)
      for (const auto& line : phone.lines)
        if (std::all_of(line.extension.begin(), line.extension.end(),
                        [](unsigned char c) { return std::isdigit(c); }))
          shapes.emplace(line.extension.size(), line.extension.front());
    for (const auto& [length, first] : shapes)
      patterns.push_back({first + std::string(length - 1, '.'), 2});
  }
  const bool has_catch_all = std::any_of(patterns.begin(), patterns.end(),
                                         [](const DialPattern& p) { return p.match == "*"; });
  if (!has_catch_all) patterns.push_back({"*", 5});
  pugi::xml_document doc;
  auto root = doc.append_child("DIALTEMPLATE");
  for (const auto& pattern : patterns) {
    auto t = root.append_child("TEMPLATE");
    t.append_attribute("MATCH") = pattern.match.c_str();
    t.append_attribute("Timeout") = pattern.timeout;
  }
  return {"dialplan.xml", serialise(doc)};
}

}  // namespace cf::config

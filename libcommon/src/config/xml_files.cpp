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
  return {"SEP" + phone.mac + ".cnf.xml", serialise(doc)};
}

GeneratedFile dialplan_file(const Network&, const std::vector<Phone>& phones) {
  std::set<std::size_t> lengths;
  for (const auto& phone : phones)
    for (const auto& line : phone.lines)
      if (std::all_of(line.extension.begin(), line.extension.end(),
                      [](unsigned char c) { return std::isdigit(c); }))
        lengths.insert(line.extension.size());
  pugi::xml_document doc;
  auto root = doc.append_child("DIALTEMPLATE");
  // "." is one digit; Timeout 0 dials as soon as an extension's length is reached.
  for (const auto length : lengths) {
    auto t = root.append_child("TEMPLATE");
    t.append_attribute("MATCH") = std::string(length, '.').c_str();
    t.append_attribute("Timeout") = "0";
  }
  auto any = root.append_child("TEMPLATE");
  any.append_attribute("MATCH") = "*";
  any.append_attribute("Timeout") = "5";
  return {"dialplan.xml", serialise(doc)};
}

}  // namespace cf::config

// 7940/7960 SIP provisioning files (reference cisco-79xx.md 4): `key: "value"` lines.
#include <fmt/format.h>

#include "cf/cli/error.hpp"
#include "cf/config/digest.hpp"
#include "cf/config/writers.hpp"

namespace cf::config {
namespace {

// Both registrar sides (pjsip and the Kamailio subscriber table) need every SIP
// line's secret.
void require_secret(const Phone& phone, std::size_t line) {
  if (phone.lines[line].secret.empty())
    throw UsageError(fmt::format("phone {} line {} (extension {}) runs SIP and needs a "
                                 "secret to register",
                                 phone.mac, line + 1, phone.lines[line].extension));
}

// Values are quoted; phone.hpp's checks keep '"', '\\', ';' and '#' out of them.
void key(std::string& out, const std::string& name, const std::string& value) {
  out += fmt::format("{}: \"{}\"\n", name, value);
}

}  // namespace

GeneratedFile sipdefault_file(const Network& network, const firmware::LoadName& sip_load) {
  std::string out =
      "# SIPDefault.cnf for Cisco 7940/7960 SIP phones, written by cnfgen (ciscoflash).\n"
      "# Per-phone values are in SIP<MAC>.cnf and override these.\n";
  key(out, "image_version", sip_load.name);
  key(out, "proxy1_address", network.callmanagers.front());
  key(out, "proxy1_port", std::to_string(network.sip_port));
  for (std::size_t i = 1; i < network.callmanagers.size() && i < 6; ++i) {
    key(out, fmt::format("proxy{}_address", i + 1), network.callmanagers[i]);
    key(out, fmt::format("proxy{}_port", i + 1), std::to_string(network.sip_port));
  }
  key(out, "proxy_register", "1");
  key(out, "sntp_mode", "unicast");
  key(out, "sntp_server", network.ntp_server.empty() ? network.callmanagers.front() : network.ntp_server);
  key(out, "time_zone", network.time_zone.empty() ? "GMT" : network.time_zone);
  // The phone appends .xml to dial_template (reference 3.1: dialplan.xml).
  std::string dialplan = network.dialplan;
  if (dialplan.ends_with(".xml")) dialplan.resize(dialplan.size() - 4);
  key(out, "dial_template", dialplan);
  key(out, "preferred_codec", network.codec);
  return {"SIPDefault.cnf", out};
}

GeneratedFile sip_mac_file(const Network&, const Phone& phone, const firmware::LoadName& sip_load) {
  std::string out = fmt::format("# SIP{}.cnf for Cisco {} {}, written by cnfgen (ciscoflash).\n",
                                phone.mac, phone.model, phone.mac);
  key(out, "image_version", sip_load.name);
  key(out, "phone_label", phone.lines.front().display_name);
  for (std::size_t i = 0; i < phone.lines.size(); ++i) {
    const auto& line = phone.lines[i];
    if (line.secret.empty())
      throw UsageError(fmt::format("phone {} line {} (extension {}) runs SIP and needs a secret "
                                   "to register",
                                   phone.mac, i + 1, line.extension));
    const auto n = i + 1;
    key(out, fmt::format("line{}_name", n), line.extension);
    key(out, fmt::format("line{}_displayname", n), line.display_name);
    key(out, fmt::format("line{}_shortname", n), line.extension);
    key(out, fmt::format("line{}_authname", n), line.extension);
    key(out, fmt::format("line{}_password", n), line.secret);
  }
  return {"SIP" + phone.mac + ".cnf", out};
}

GeneratedFile os79xx_file(const firmware::LoadName& load) {
  std::string image = load.name;
  // SIP bundles name their loader here, P003-8-12-00 for P0S3-8-12-00 (reference 1.2, 4.1).
  if (load.protocol == firmware::Protocol::sip && image.size() > 4 && image.starts_with("P0S3-"))
    image = "P003" + image.substr(4);
  return {"OS79XX.TXT", image + "\n"};
}

GeneratedFile pjsip_file(const Network& network, const AsteriskOptions& options,
                         const std::vector<Phone>& sip_phones) {
  std::string out =
      "; pjsip.conf for the Cisco phones provisioned by cnfgen (ciscoflash).\n"
      "; One endpoint, auth and aor per line key; the names are the extensions.\n";
  const auto transport_name = [](SipTransport t) { return fmt::format("ciscoflash-{}", to_string(t)); };
  if (options.transport)
    for (const auto t : options.transports)
      out += fmt::format("\n[{}]\ntype=transport\nprotocol={}\nbind={}:{}\n", transport_name(t),
                         to_string(t), options.bind, network.sip_port);
  // One transport: the endpoints name it. Several: none, so pjsip replies and sends
  // on the transport the phone registered over.
  const bool name_transport = options.transport && options.transports.size() == 1;
  const std::string codec = network.codec == "g711alaw" ? "alaw"
                            : network.codec == "g729"   ? "g729"
                                                        : "ulaw";
  for (const auto& phone : sip_phones) {
    for (std::size_t i = 0; i < phone.lines.size(); ++i) {
      const auto& line = phone.lines[i];
      require_secret(phone, i);
      out += fmt::format("\n; phone {} (Cisco {}) line {}\n", phone.mac, phone.model, i + 1);
      out += fmt::format("[{}]\ntype=endpoint\n", line.extension);
      if (name_transport) out += fmt::format("transport={}\n", transport_name(options.transports.front()));
      out += fmt::format(
          "context={}\ndisallow=all\nallow={}\nauth={}\naors={}\ncallerid=\"{}\" <{}>\n"
          "direct_media=no\nrtp_symmetric=yes\nforce_rport=yes\nrewrite_contact=yes\n",
          options.context, codec, line.extension, line.extension, line.display_name,
          line.extension);
      out += fmt::format("\n[{}]\ntype=auth\nauth_type=userpass\nusername={}\npassword={}\n",
                         line.extension, line.extension, line.secret);
      out += fmt::format("\n[{}]\ntype=aor\nmax_contacts=1\nremove_existing=yes\n",
                         line.extension);
    }
  }
  return {"pjsip.conf", out, 0640};
}

GeneratedFile sccp_file(const AsteriskOptions& options, const std::vector<Phone>& sccp_phones) {
  std::string out =
      "; sccp.conf (chan-sccp-b) devices for the Cisco phones left on SCCP, written by cnfgen\n"
      "; (ciscoflash). Merge the [general] section of your own sccp.conf with these.\n";
  for (const auto& phone : sccp_phones) {
    out += fmt::format("\n[SEP{}]\ntype=device\ndevicetype={}\ndescription={}\n", phone.mac,
                       phone.model, phone.lines.front().display_name);
    for (const auto& line : phone.lines) out += fmt::format("button=line, {}\n", line.extension);
  }
  for (const auto& phone : sccp_phones) {
    for (const auto& line : phone.lines) {
      out += fmt::format(
          "\n[{}]\ntype=line\nid={}\nlabel={}\ndescription={}\ncid_name={}\ncid_num={}\ncontext={}\n",
          line.extension, line.extension, line.display_name, line.display_name, line.display_name,
          line.extension, options.context);
      if (!line.secret.empty()) out += fmt::format("secret={}\n", line.secret);
    }
  }
  return {"sccp.conf", out, 0640};
}

std::string db_text_escape(std::string_view value) {
  std::string out;
  for (const char c : value) {
    switch (c) {
      case ':': out += "\\:"; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default: out += c;
    }
  }
  return out;
}

std::vector<GeneratedFile> kamailio_files(const std::string& domain,
                                          const std::vector<Phone>& sip_phones) {
  // Column lines as Debian's kamailio 5.6 ships them (/usr/share/kamailio/dbtext/
  // kamailio/{version,subscriber}); auth_db refuses a subscriber table whose version
  // row is not 7.
  std::string version =
      "id(int,auto) table_name(string) table_version(int)\n"
      "1:subscriber:7\n";
  std::string subscriber =
      "id(int,auto) username(string) domain(string) password(string) ha1(string) ha1b(string)\n";
  std::size_t id = 0;
  for (const auto& phone : sip_phones) {
    for (std::size_t i = 0; i < phone.lines.size(); ++i) {
      const auto& line = phone.lines[i];
      require_secret(phone, i);
      const auto ha1 = digest_ha1(line.extension, domain, line.secret);
      const auto ha1b = digest_ha1(line.extension + "@" + domain, domain, line.secret);
      subscriber += fmt::format("{}:{}:{}:{}:{}:{}\n", ++id, db_text_escape(line.extension),
                                db_text_escape(domain), db_text_escape(line.secret), ha1, ha1b);
    }
  }
  return {{"version", version}, {"subscriber", subscriber, 0640}};
}

}  // namespace cf::config

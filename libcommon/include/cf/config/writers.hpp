#pragma once
// The files a phone and Asterisk read, as pure functions of the inputs: the same
// inputs give the same bytes (no timestamps). XML goes through pugixml, so text is
// escaped; the line formats refuse values that would break them (see phone.hpp).
#include <cstdint>
#include <string_view>
#include <string>
#include <vector>

#include "cf/config/loads.hpp"
#include "cf/config/output.hpp"
#include "cf/config/phone.hpp"
#include "cf/cli/result.hpp"
#include "cf/firmware/catalog.hpp"

namespace cf::config {

// How a 79x1/79x2/79x5/797x SIP phone talks to its proxy: <transportLayerProtocol>
// in SEP<MAC>.cnf.xml, 2 = UDP, 4 = TCP (1 = "use device default"). Working files set
// it: NamoDev's 7942.cnf.xml and waynemerricks' SEPMACADDRESS.cnf.xml use 2; buba0's
// setup uses 4 and its README fixes phones that do not register with "Enable TCP
// Transport in FreePBX" (evidence-79xx.md 4; the values as a 69xx/79x1 provisioning
// README lists them, citing voip-info's 79x1 SIP page).
enum class SipTransport { udp, tcp };
const char* to_string(SipTransport transport) noexcept;  // "udp", "tcp"

// One <TEMPLATE MATCH="..." Timeout="N"/> of dialplan.xml: MATCH is digits, '.' (any
// one digit), '*' (any digits), '#', '+' and ','; Timeout the seconds the phone waits
// after the last digit before it dials (0 = at once).
struct DialPattern {
  std::string match;
  unsigned timeout = 0;
};
// "1...=2" or "*=5" -> pattern; the reason when it is not one.
Result<DialPattern> parse_dial_pattern(std::string_view text);
// An admin's own dialplan.xml: well-formed, root <DIALTEMPLATE>, only <TEMPLATE>
// children each with a MATCH. "" when fine, else why.
std::string check_dialplan_xml(const std::string& xml);

// Where the phones find their call control.
struct Network {
  std::vector<std::string> callmanagers;  // processNodeName, priority in order (SCCP/SIP server)
  std::uint16_t sccp_port = 2000;         // ethernetPhonePort (reference 2.1)
  std::uint16_t sip_port = 5060;
  std::string ntp_server;                 // empty: the first callmanager
  std::string time_zone;                  // 79x1... timeZone / 7940 time_zone ("" = GMT there)
  std::string codec = "g711ulaw";         // g711ulaw | g711alaw | g729
  std::string dialplan = "dialplan.xml";
  SipTransport transport = SipTransport::udp;  // 79x1... SIP phones
  std::vector<DialPattern> dial_patterns;      // --dial-pattern; empty: the default plan
  std::string dialplan_xml;                    // --dialplan FILE's bytes; wins when set
};

// A host name or IPv4 address (letters, digits, '.', '-'); "" when fine, else why.
std::string check_host(const std::string& host);
// Refuses a codec the phones do not name (reference 4.2 preferred_codec).
std::string check_codec(const std::string& codec);

// XMLDefault.cnf.xml: callManagerGroup and one loadInformationN per model with a load
// (reference 2.1, 2.2), models in catalog order.
GeneratedFile xmldefault(const Network& network, const LoadSelection& loads,
                         const firmware::ModelCatalog& catalog);

// SEP<MAC>.cnf.xml for one phone running `load`: devicePool with callManagerGroup, a
// bare <loadInformation>, and for a SIP load on a 79x1/79x2/79x5/797x phone a
// sipProfile with its lines (reference 2.1). Throws cf::UsageError for a SIP phone
// line without a secret.
GeneratedFile sep_file(const Network& network, const Phone& phone, const firmware::LoadName& load);

// dialplan.xml: the admin's file (Network::dialplan_xml) as given; else the
// --dial-pattern templates, then a catch-all "*" (5 s) unless one is given; else the
// default: per first digit and length of the phones' numeric extensions one template
// dialled 2 s after the last digit (1001, 1002 -> "1..."), then "*" after 5 s. No
// template dials at once (Timeout 0), so a longer number that starts like an
// extension can still be dialled: the user keeps typing within 2 s.
GeneratedFile dialplan_file(const Network& network, const std::vector<Phone>& phones);

// 7940/7960 SIP (reference 4): SIPDefault.cnf, SIP<MAC>.cnf, OS79XX.TXT.
GeneratedFile sipdefault_file(const Network& network, const firmware::LoadName& sip_load);
GeneratedFile sip_mac_file(const Network& network, const Phone& phone,
                           const firmware::LoadName& sip_load);
// One line, LF, no trailing blanks (Cisco bug CSCdv19260, reference 4.1). For a SIP
// load the loader name P003-x-y-zz, not the image name P0S3-x-y-zz: a pre-UAL phone
// reads the line, compares its first four characters with its running image and, if
// they differ, fetches that name plus ".bin" (reference 3.1, MATRIX via
// COMMUNITY-7940). SIP 7.x/8.x bundles ship P003-8-12-00.bin/.sbn but no
// P0S3-8-12-00.bin (reference 1.2; CME flash listings P003-08-11-00.bin,
// P0S3-08-11-00.sb2), and the OS79XX.TXT that comes with them names the loader
// (BLOG-2005: P003-07-4-00; the FritzBox howto: "nur folgende Zeile: P003-8-12-00").
// julianhead/CiscoPhones and Provisioner put the image name there instead, which
// sends such a phone after a file no bundle has. SCCP loads name themselves
// (P00308010200, Cisco community SIP->SCCP doc).
GeneratedFile os79xx_file(const firmware::LoadName& load);

// pjsip.conf: a transport per entry of `transports` (ciscoflash-udp, ciscoflash-tcp;
// both by default), and endpoint/auth/aor per line of each SIP phone. With one
// transport the endpoints name it; with both, pjsip answers on the one a request
// came in on.
struct AsteriskOptions {
  std::string context = "phones";
  bool transport = true;
  std::vector<SipTransport> transports{SipTransport::udp, SipTransport::tcp};
  std::string bind = "0.0.0.0";
};
GeneratedFile pjsip_file(const Network& network, const AsteriskOptions& options,
                         const std::vector<Phone>& sip_phones);
// sccp.conf (chan-sccp-b): a device per SCCP phone and a line per extension.
GeneratedFile sccp_file(const AsteriskOptions& options, const std::vector<Phone>& sccp_phones);

// Kamailio's text database (db_text module, Kamailio 5.6): `version` (subscriber
// table version 7) and `subscriber` (id, username, domain, password, ha1, ha1b), one
// row per line key of each SIP phone, username the extension. ha1 = MD5(user:domain:
// password) and ha1b = MD5(user@domain:domain:password), the realm being the domain
// (RFC 2617 3.2.2.2; auth_db reads ha1 with calculate_ha1 off, password with it on).
// Throws cf::UsageError for a SIP line without a secret.
std::vector<GeneratedFile> kamailio_files(const std::string& domain,
                                          const std::vector<Phone>& sip_phones);
// A db_text field: ':' (the column separator), '\\', newline, CR and tab escaped
// with a backslash (README.db_text 1.2).
std::string db_text_escape(std::string_view value);

}  // namespace cf::config

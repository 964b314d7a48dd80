#pragma once
// The files a phone and Asterisk read, as pure functions of the inputs: the same
// inputs give the same bytes (no timestamps). XML goes through pugixml, so text is
// escaped; the line formats refuse values that would break them (see phone.hpp).
#include <cstdint>
#include <string>
#include <vector>

#include "cf/config/loads.hpp"
#include "cf/config/output.hpp"
#include "cf/config/phone.hpp"
#include "cf/firmware/catalog.hpp"

namespace cf::config {

// Where the phones find their call control.
struct Network {
  std::vector<std::string> callmanagers;  // processNodeName, priority in order (SCCP/SIP server)
  std::uint16_t sccp_port = 2000;         // ethernetPhonePort (reference 2.1)
  std::uint16_t sip_port = 5060;
  std::string ntp_server;                 // empty: the first callmanager
  std::string time_zone;                  // 79x1... timeZone / 7940 time_zone ("" = GMT there)
  std::string codec = "g711ulaw";         // g711ulaw | g711alaw | g729
  std::string dialplan = "dialplan.xml";
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

// dialplan.xml: one TEMPLATE per extension length used, dialled at once, and a
// catch-all that waits for the inter-digit timeout.
GeneratedFile dialplan_file(const Network& network, const std::vector<Phone>& phones);

// 7940/7960 SIP (reference 4): SIPDefault.cnf, SIP<MAC>.cnf, OS79XX.TXT.
GeneratedFile sipdefault_file(const Network& network, const firmware::LoadName& sip_load);
GeneratedFile sip_mac_file(const Network& network, const Phone& phone,
                           const firmware::LoadName& sip_load);
// The loader name P003-x-y-zz of a SIP load (SCCP loads name themselves), one
// line, LF, no trailing blanks (Cisco bug CSCdv19260, reference 4.1).
GeneratedFile os79xx_file(const firmware::LoadName& load);

// pjsip.conf: a UDP transport, and endpoint/auth/aor per line of each SIP phone.
struct AsteriskOptions {
  std::string context = "phones";
  bool transport = true;
  std::string bind = "0.0.0.0";
};
GeneratedFile pjsip_file(const Network& network, const AsteriskOptions& options,
                         const std::vector<Phone>& sip_phones);
// sccp.conf (chan-sccp-b): a device per SCCP phone and a line per extension.
GeneratedFile sccp_file(const AsteriskOptions& options, const std::vector<Phone>& sccp_phones);

}  // namespace cf::config

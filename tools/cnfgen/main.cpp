// cnfgen: the provisioning files a Cisco 79xx phone reads, and the Asterisk side.
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "cf/cli/diagnostics.hpp"
#include "cf/cli/error.hpp"
#include "cf/cli/records.hpp"
#include "cf/cli/terminal.hpp"
#include "cf/cli/tool.hpp"
#include "cf/config/load_check.hpp"
#include "cf/config/loads.hpp"
#include "cf/config/output.hpp"
#include "cf/config/phone.hpp"
#include "cf/config/writers.hpp"
#include "cf/firmware/catalog.hpp"

namespace {

using namespace cf;
using namespace cf::config;

struct Options {
  // loads
  std::string manifest;
  std::vector<std::string> loads;
  std::string protocol;
  std::string root;
  bool no_verify = false;
  // output
  std::string output = ".";
  bool check = false;
  // network
  Network network;
  // phones
  std::string phones_file;
  std::string mac, model, extension, secret, display_name;
  // dial plan, transport
  std::string dialplan_file;
  std::vector<std::string> dial_patterns;
  std::string transport;                // sep: udp | tcp
  std::vector<std::string> transports;  // asterisk: udp and/or tcp
  // asterisk
  AsteriskOptions asterisk;
  // kamailio
  std::string domain;
};

void add_load_options(CLI::App& sub, Options& o, bool manifest_from_stdin) {
  sub.add_option("--manifest", o.manifest,
                 std::string("fwunpack's manifest (#load protocol family models version dir files "
                             "bytes, TSV or JSON Lines); - for stdin") +
                     (manifest_from_stdin ? ". Read from stdin when neither --manifest nor --load is given" : ""))
      ->type_name("FILE");
  sub.add_option("--load", o.loads,
                 "MODEL=LOAD: run LOAD on MODEL, or on every model of a family "
                 "(7940-7960=P0S3-8-12-00); repeatable, wins over the manifest")
      ->type_name("MODEL=LOAD");
  sub.add_option("--protocol", o.protocol,
                 "sip or sccp: which of several manifest loads of a family to use "
                 "(the newest of that protocol)")
      ->check(CLI::IsMember({"sip", "sccp", "SIP", "SCCP"}));
  sub.add_option("--root", o.root,
                 "TFTP root: every load written must be complete there, else exit 3")
      ->type_name("DIR");
  sub.add_flag("--no-verify", o.no_verify, "write even if a load is incomplete in --root");
}

void add_output_options(CLI::App& sub, Options& o) {
  sub.add_option("-o,--output", o.output,
                 "directory to write into (default .), or - for stdout when one file is written")
      ->type_name("DIR");
  sub.add_flag("--check", o.check,
               "write nothing; exit 1 and print a diff if the files on disk differ");
}

void add_network_options(CLI::App& sub, Options& o, bool required) {
  auto* cm = sub.add_option("--callmanager", o.network.callmanagers,
                            "address of Asterisk/chan_sccp: processNodeName and SIP proxy; "
                            "repeat for backups, in priority order")
                 ->type_name("ADDR");
  if (required) cm->required();
  sub.add_option("--port", o.network.sccp_port, "SCCP port, ethernetPhonePort (default 2000)")->check(CLI::Range(1, 65535));
  sub.add_option("--sip-port", o.network.sip_port, "SIP port of the proxy (default 5060)")->check(CLI::Range(1, 65535));
  sub.add_option("--ntp", o.network.ntp_server, "NTP server (default: the first --callmanager for 7940/7960)")
      ->type_name("ADDR");
  sub.add_option("--time-zone", o.network.time_zone,
                 "time zone as the phone names it (7940/7960: GMT, EST, CET...; default GMT)");
  sub.add_option("--codec", o.network.codec, "g711ulaw (default), g711alaw or g729");
}

void add_phone_options(CLI::App& sub, Options& o) {
  sub.add_option("--phones", o.phones_file,
                 "TSV, one line key a line: mac, model, extension, secret (- for none), "
                 "[display name]; # comments; a MAC repeated adds a line key")
      ->type_name("FILE");
  sub.add_option("--mac", o.mac, "one phone: its MAC, any common spelling");
  sub.add_option("--model", o.model, "one phone: its model, e.g. 7961");
  sub.add_option("--extension", o.extension, "one phone: its extension (SIP user)");
  sub.add_option("--secret", o.secret, "one phone: its SIP password");
  sub.add_option("--display-name", o.display_name, "one phone: the name shown (default the extension)");
}

void add_dialplan_options(CLI::App& sub, Options& o) {
  sub.add_option("--dialplan", o.dialplan_file,
                 "write this dialplan.xml as it is (checked: <DIALTEMPLATE> of <TEMPLATE MATCH>)")
      ->type_name("FILE");
  sub.add_option("--dial-pattern", o.dial_patterns,
                 "MATCH=TIMEOUT, a TEMPLATE of dialplan.xml in order (1...=2, 0*=5); repeatable; "
                 "replaces the default plan, a catch-all *=5 is added unless given")
      ->type_name("MATCH=TIMEOUT");
}

// The dial plan options into the Network, refused (exit 2) before anything is written.
void read_dialplan_options(Options& o) {
  if (!o.dialplan_file.empty() && !o.dial_patterns.empty())
    throw UsageError("give either --dialplan FILE or --dial-pattern, not both");
  for (const auto& text : o.dial_patterns) {
    auto pattern = parse_dial_pattern(text);
    if (!pattern) throw UsageError("--dial-pattern: " + pattern.error());
    o.network.dial_patterns.push_back(*pattern);
  }
  if (o.dialplan_file.empty()) return;
  cli::Input input(o.dialplan_file);
  std::string xml;
  char buffer[4096];
  while (input.stream().read(buffer, sizeof buffer) || input.stream().gcount() > 0) {
    xml.append(buffer, static_cast<std::size_t>(input.stream().gcount()));
    if (xml.size() > 65536) break;  // check_dialplan_xml refuses it by its size
  }
  if (auto why = check_dialplan_xml(xml); !why.empty())
    throw UsageError(fmt::format("--dialplan {}: {}", input.name(), why));
  o.network.dialplan_xml = std::move(xml);
}

std::vector<Phone> read_phone_input(const Options& o, const firmware::ModelCatalog& catalog,
                                    bool required) {
  const bool single = !o.mac.empty() || !o.model.empty() || !o.extension.empty();
  if (!o.phones_file.empty() && single)
    throw UsageError("give either --phones FILE or --mac/--model/--extension, not both");
  if (!o.phones_file.empty()) {
    cli::Input input(o.phones_file);
    return read_phones(input.stream(), input.name(), catalog);
  }
  if (single) {
    if (o.mac.empty() || o.model.empty() || o.extension.empty())
      throw UsageError("one phone needs --mac, --model and --extension (and --secret for SIP)");
    PhoneList list(catalog);
    list.add("command line", 0, o.mac, o.model, o.extension, o.secret, o.display_name);
    return list.phones();
  }
  if (required) throw UsageError("no phones: give --phones FILE or --mac, --model, --extension");
  return {};
}

std::optional<firmware::Protocol> protocol_option(const Options& o) {
  if (o.protocol.empty()) return std::nullopt;
  return *firmware::parse_protocol(o.protocol);
}

LoadSelection gather_loads(const Options& o, const firmware::ModelCatalog& catalog,
                           bool stdin_default, const cli::Diagnostics& diag) {
  LoadSelection loads(catalog);
  std::string manifest = o.manifest;
  if (manifest.empty() && o.loads.empty() && stdin_default) {
    if (cli::is_tty(STDIN_FILENO))
      throw UsageError("no loads: pipe fwunpack's manifest in, or give --manifest FILE or "
                       "--load MODEL=LOAD");
    manifest = "-";
  }
  if (!manifest.empty()) {
    cli::Input input(manifest);
    loads.add_manifest(input.stream(), input.name());
  }
  for (const auto& spec : o.loads) loads.add_explicit(spec);
  for (const auto& skipped : loads.choose(protocol_option(o)))
    diag.warning(fmt::format("no load for the {} family: {}", skipped.family, skipped.reason));
  return loads;
}

// Exit 3 unless every load is complete in --root (DESIGN: verify before serving).
void verify(const Options& o, const std::vector<firmware::LoadName>& used,
            const firmware::ModelCatalog& catalog, const cli::Diagnostics& diag) {
  if (o.root.empty() || o.no_verify) {
    if (!o.root.empty()) diag.warning("--no-verify: loads not checked in " + o.root);
    return;
  }
  const auto rules = upgrade::RuleSet::load_default(catalog);
  std::vector<std::string> problems;
  std::vector<std::string> seen;
  for (const auto& load : used) {
    if (std::find(seen.begin(), seen.end(), load.name) != seen.end()) continue;
    seen.push_back(load.name);
    for (const auto& m : missing_files(o.root, load, catalog, rules))
      problems.push_back(fmt::format("load {} is incomplete in {}: {} {}", load.name, o.root,
                                     m.file, m.reason));
  }
  if (problems.empty()) return;
  for (std::size_t i = 0; i + 1 < problems.size(); ++i) diag.error(problems[i]);
  throw VerificationError(problems.back() + " (--no-verify writes anyway)");
}

void validate_network(const Options& o) {
  for (const auto& host : o.network.callmanagers)
    if (auto why = check_host(host); !why.empty()) throw UsageError("--callmanager: " + why);
  if (!o.network.ntp_server.empty())
    if (auto why = check_host(o.network.ntp_server); !why.empty()) throw UsageError("--ntp: " + why);
  if (auto why = check_codec(o.network.codec); !why.empty()) throw UsageError("--codec: " + why);
  if (auto why = check_quoted_text(o.network.time_zone); !why.empty())
    throw UsageError("--time-zone: " + why);
}

int finish(const Options& o, const std::vector<GeneratedFile>& files, const cli::Diagnostics& diag) {
  const auto differ = emit_files(files, o.output, o.check, std::cout);
  if (o.check && differ > 0) {
    diag.note(fmt::format("{} of {} file(s) differ from what cnfgen would write", differ, files.size()));
    return 1;
  }
  return 0;
}

const LoadChoice& load_for(const LoadSelection& loads, const Phone& phone) {
  const auto* choice = loads.for_model(phone.model);
  if (choice == nullptr)
    throw UsageError(fmt::format("phone {} is a {}, and no load was given for it (manifest or "
                                 "--load {}=LOAD)",
                                 phone.mac, phone.model, phone.model));
  return *choice;
}

int run_xmldefault(const Options& o, const cli::Diagnostics& diag) {
  const auto catalog = firmware::ModelCatalog::load_default();
  validate_network(o);
  const auto loads = gather_loads(o, catalog, true, diag);
  const auto chosen = loads.chosen_loads();
  if (chosen.empty()) throw Error("no load for any model: nothing to write");
  std::vector<firmware::LoadName> used;
  for (const auto* c : chosen) used.push_back(c->load);
  verify(o, used, catalog, diag);
  return finish(o, {xmldefault(o.network, loads, catalog)}, diag);
}

int run_sep(Options o, const cli::Diagnostics& diag) {
  const auto catalog = firmware::ModelCatalog::load_default();
  validate_network(o);
  read_dialplan_options(o);
  if (o.transport == "tcp") o.network.transport = SipTransport::tcp;
  const auto phones = read_phone_input(o, catalog, true);
  const auto loads = gather_loads(o, catalog, true, diag);
  std::vector<GeneratedFile> files;
  std::vector<firmware::LoadName> used;
  std::vector<Phone> sip_cnu;
  for (const auto& phone : phones) {
    const auto& load = load_for(loads, phone).load;
    used.push_back(load);
    files.push_back(sep_file(o.network, phone, load));
    if (load.protocol == firmware::Protocol::sip && load.family != "7940-7960") sip_cnu.push_back(phone);
  }
  if (!sip_cnu.empty()) files.push_back(dialplan_file(o.network, sip_cnu));
  verify(o, used, catalog, diag);
  return finish(o, files, diag);
}

int run_sip79x0(Options o, const cli::Diagnostics& diag) {
  const auto catalog = firmware::ModelCatalog::load_default();
  validate_network(o);
  read_dialplan_options(o);
  Options sip = o;
  if (sip.protocol.empty()) sip.protocol = "sip";
  auto phones = read_phone_input(o, catalog, false);
  std::vector<Phone> ours;
  for (auto& phone : phones) {
    if (catalog.find_model(phone.model)->family == "7940-7960")
      ours.push_back(std::move(phone));
    else
      diag.note(fmt::format("phone {} is a {}: not a 7940/7960, skipped (use cnfgen sep)",
                            phone.mac, phone.model));
  }
  const auto loads = gather_loads(sip, catalog, true, diag);
  const auto* choice = loads.for_model("7960");
  if (choice == nullptr) choice = loads.for_model("7940");
  if (choice == nullptr)
    throw UsageError("no SIP load for the 7940-7960 family (manifest or --load 7940-7960=P0S3-...)");
  const auto& load = choice->load;
  if (load.protocol != firmware::Protocol::sip)
    throw UsageError(fmt::format("{} ({}) is a {} load; SIPDefault.cnf needs a SIP load (P0S3-...)",
                                 load.name, choice->origin, firmware::to_string(load.protocol)));
  for (const auto& phone : ours) {
    const auto* own = loads.for_model(phone.model);
    if (own == nullptr || own->load.name != load.name)
      throw UsageError(fmt::format("the 7940 and 7960 get different loads ({} and {}); "
                                   "SIPDefault.cnf names one image_version",
                                   load.name, own ? own->load.name : "none"));
  }
  verify(o, {load}, catalog, diag);
  std::vector<GeneratedFile> files{sipdefault_file(o.network, load)};
  for (const auto& phone : ours) files.push_back(sip_mac_file(o.network, phone, load));
  files.push_back(os79xx_file(load));
  files.push_back(dialplan_file(o.network, ours));
  return finish(o, files, diag);
}

// Which phones run SIP: those whose chosen load is a SIP load; with no loads given,
// --protocol decides for all (default sip).
void split_by_protocol(const Options& o, const std::vector<Phone>& phones,
                       const firmware::ModelCatalog& catalog, const cli::Diagnostics& diag,
                       std::vector<Phone>& sip, std::vector<Phone>& sccp) {
  const bool have_loads = !o.manifest.empty() || !o.loads.empty();
  const auto loads = gather_loads(o, catalog, false, diag);
  const auto fallback = protocol_option(o).value_or(firmware::Protocol::sip);
  for (const auto& phone : phones) {
    const auto* choice = have_loads ? loads.for_model(phone.model) : nullptr;
    const auto protocol = choice ? choice->load.protocol : fallback;
    (protocol == firmware::Protocol::sccp ? sccp : sip).push_back(phone);
  }
}

int run_asterisk(Options o, const cli::Diagnostics& diag) {
  const auto catalog = firmware::ModelCatalog::load_default();
  validate_network(o);
  if (auto why = check_host(o.asterisk.bind); !why.empty()) throw UsageError("--bind: " + why);
  for (const char c : o.asterisk.context)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_')
      throw UsageError("--context may hold only letters, digits, '-' and '_'");
  if (o.asterisk.context.empty()) throw UsageError("--context is empty");
  if (!o.transports.empty()) {
    o.asterisk.transports.clear();
    for (const auto& name : o.transports) {
      const auto t = name == "tcp" ? SipTransport::tcp : SipTransport::udp;
      if (std::find(o.asterisk.transports.begin(), o.asterisk.transports.end(), t) ==
          o.asterisk.transports.end())
        o.asterisk.transports.push_back(t);
    }
  }
  const auto phones = read_phone_input(o, catalog, true);
  std::vector<Phone> sip, sccp;
  split_by_protocol(o, phones, catalog, diag, sip, sccp);
  std::vector<GeneratedFile> files{pjsip_file(o.network, o.asterisk, sip)};
  if (!sccp.empty()) files.push_back(sccp_file(o.asterisk, sccp));
  return finish(o, files, diag);
}

int run_kamailio(const Options& o, const cli::Diagnostics& diag) {
  const auto catalog = firmware::ModelCatalog::load_default();
  validate_network(o);
  const std::string domain = !o.domain.empty()                ? o.domain
                             : !o.network.callmanagers.empty() ? o.network.callmanagers.front()
                                                               : std::string();
  if (domain.empty())
    throw UsageError("no domain: give --domain NAME or --callmanager ADDR (the registrar the "
                     "phones register to)");
  if (auto why = check_host(domain); !why.empty()) throw UsageError("--domain: " + why);
  const auto phones = read_phone_input(o, catalog, true);
  std::vector<Phone> sip, sccp;
  split_by_protocol(o, phones, catalog, diag, sip, sccp);
  for (const auto& phone : sccp)
    diag.note(fmt::format("phone {} stays on SCCP: no subscriber for it", phone.mac));
  if (sip.empty()) diag.warning("no phone runs SIP: the subscriber table is empty");
  return finish(o, kamailio_files(domain, sip), diag);
}

}  // namespace

int main(int argc, char** argv) {
  auto app = cf::cli::make_app(
      "cnfgen",
      "Write the files a Cisco 79xx phone reads over TFTP (XMLDefault.cnf.xml, SEP<MAC>.cnf.xml, "
      "SIPDefault.cnf, SIP<MAC>.cnf, OS79XX.TXT, dialplan.xml), the Asterisk pjsip.conf/"
      "sccp.conf and the Kamailio subscriber table that match them. A set of files is written "
      "all or nothing; output is deterministic.");
  app->require_subcommand(1);
  Options o;

  auto* xml = app->add_subcommand(
      "xmldefault",
      "XMLDefault.cnf.xml: callManagerGroup and one loadInformationN per model that has a load.\n"
      "  fwunpack fw/*.zip -C /srv/tftp | cnfgen xmldefault --root /srv/tftp --callmanager 192.168.1.1 -o /srv/tftp");
  add_load_options(*xml, o, true);
  add_output_options(*xml, o);
  add_network_options(*xml, o, true);

  auto* sep = app->add_subcommand(
      "sep",
      "SEP<MAC>.cnf.xml per phone: a bare loadInformation (steps one phone to a load) and, for\n"
      "  SIP loads on 79x1/79x2/79x5/797x, a sipProfile that registers to --callmanager.\n"
      "  cnfgen sep --phones phones.tsv --load 7961=SIP41.9-4-2SR3-1S --callmanager 192.168.1.1 -o /srv/tftp");
  add_load_options(*sep, o, true);
  add_output_options(*sep, o);
  add_network_options(*sep, o, true);
  add_phone_options(*sep, o);
  add_dialplan_options(*sep, o);
  sep->add_option("--transport", o.transport,
                  "udp (default) or tcp: transportLayerProtocol of 79x1/79x2/79x5/797x SIP phones")
      ->check(CLI::IsMember({"udp", "tcp"}));

  auto* sip = app->add_subcommand(
      "sip79x0",
      "7940/7960 on SIP: SIPDefault.cnf, SIP<MAC>.cnf per phone, OS79XX.TXT, dialplan.xml.\n"
      "  cnfgen sip79x0 --phones phones.tsv --load 7940-7960=P0S3-8-12-00 --callmanager 192.168.1.1 -o /srv/tftp");
  add_load_options(*sip, o, true);
  add_output_options(*sip, o);
  add_network_options(*sip, o, true);
  add_phone_options(*sip, o);
  add_dialplan_options(*sip, o);

  auto* ast = app->add_subcommand(
      "asterisk",
      "pjsip.conf (endpoint, auth, aor per line) for SIP phones, sccp.conf for phones on SCCP.\n"
      "  cnfgen asterisk --phones phones.tsv -o /etc/asterisk/ciscoflash");
  add_load_options(*ast, o, false);
  add_output_options(*ast, o);
  add_network_options(*ast, o, false);
  add_phone_options(*ast, o);
  ast->add_option("--context", o.asterisk.context, "dialplan context of the phones (default phones)");
  ast->add_option("--bind", o.asterisk.bind, "address the UDP transport binds (default 0.0.0.0)");
  ast->add_option("--transport", o.transports,
                  "udp or tcp: the pjsip transport to offer; repeatable; default both")
      ->check(CLI::IsMember({"udp", "tcp"}));
  ast->add_flag("--no-transport", [&](std::int64_t) { o.asterisk.transport = false; },
                "leave out the transport sections (you have your own)");

  auto* kam = app->add_subcommand(
      "kamailio",
      "Kamailio db_text tables (version, subscriber) with the SIP phones' digest credentials.\n"
      "  cnfgen kamailio --phones phones.tsv --domain 192.168.1.1 -o /etc/kamailio/ciscoflash");
  add_load_options(*kam, o, false);
  add_output_options(*kam, o);
  add_network_options(*kam, o, false);
  add_phone_options(*kam, o);
  kam->add_option("--domain", o.domain,
                  "SIP domain and digest realm of the subscribers (default the first --callmanager)")
      ->type_name("NAME");

  return cf::cli::run_tool(*app, argc, argv, [&]() -> int {
    const auto diag = cf::cli::Diagnostics::for_stderr("cnfgen");
    if (*xml) return run_xmldefault(o, diag);
    if (*sep) return run_sep(o, diag);
    if (*sip) return run_sip79x0(o, diag);
    if (*kam) return run_kamailio(o, diag);
    return run_asterisk(o, diag);
  });
}

// cisco-dhcpd: a DHCP server for phone segments, with option 150 (the TFTP
// server list Cisco phones need) first-class. See cisco-dhcpd(8).
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "cf/cli/tool.hpp"
#include "cf/dhcp/config.hpp"
#include "cf/dhcp/export.hpp"
#include "cf/dhcp/link.hpp"
#include "cf/dhcp/server.hpp"

namespace {

using cf::net::Ipv4;

struct Flags {
  std::string iface;
  std::string server_ip;
  std::vector<std::string> pools;
  std::vector<std::string> routers;
  std::vector<std::string> dns;
  std::string domain;
  std::vector<std::string> ntp;
  std::uint32_t lease_time = 86400;
  std::uint32_t decline_time = 3600;
  std::vector<std::string> tftp;
  std::string tftp_name;
  std::string next_server;
  std::vector<std::string> options;
  std::vector<std::string> reserve;
  std::string reservations;
  std::string only_vendor;
  std::string leases = "/var/lib/ciscoflash/cisco-dhcpd.leases";
  std::string events;
  bool force = false;
  double probe_time = 5.0;
  std::uint16_t server_port = 67;
  std::uint16_t client_port = 68;
  bool quiet = false;
  bool no_announce = false;
  std::string export_format;
};

std::vector<Ipv4> addresses(const std::vector<std::string>& values, const std::string& flag,
                            const cf::cli::Diagnostics& diagnostics) {
  std::vector<Ipv4> out;
  for (const auto& value : values) {
    std::vector<std::string> notes;
    auto list = cf::dhcp::parse_address_list(value, notes);
    if (!list) throw cf::UsageError(fmt::format("{} {}: {}", flag, value, list.error()));
    for (const auto& note : notes) diagnostics.note(fmt::format("{}: {}", flag, note));
    out.insert(out.end(), list->begin(), list->end());
  }
  return out;
}

std::optional<Ipv4> one_address(const std::string& value, const std::string& flag,
                                const cf::cli::Diagnostics& diagnostics) {
  if (value.empty()) return std::nullopt;
  const auto list = addresses({value}, flag, diagnostics);
  if (list.size() != 1) throw cf::UsageError(fmt::format("{} takes one address", flag));
  return list.front();
}

cf::dhcp::Config build_config(const Flags& flags, const std::optional<cf::dhcp::InterfaceInfo>& link,
                              const cf::cli::Diagnostics& diagnostics) {
  cf::dhcp::Config config;
  if (auto id = one_address(flags.server_ip, "--server-ip", diagnostics)) config.server_id = *id;
  else if (link) config.server_id = link->address;
  else throw cf::UsageError("give --server-ip (or --iface of an interface on this host)");

  for (const auto& text : flags.pools) {
    auto pool = cf::dhcp::parse_pool(text, link ? link->network : std::nullopt);
    if (!pool) throw cf::UsageError("--pool " + pool.error());
    config.pools.push_back(*pool);
  }
  for (const auto& text : flags.reserve) {
    auto r = cf::dhcp::parse_reservation(text);
    if (!r) throw cf::UsageError("--reserve " + r.error());
    config.reservations.push_back(*r);
  }
  if (!flags.reservations.empty())
    for (auto& r : cf::dhcp::read_reservations_file(flags.reservations))
      config.reservations.push_back(std::move(r));
  config.lease_time = flags.lease_time;
  config.decline_quarantine = flags.decline_time;
  config.only_vendor = flags.only_vendor;
  config.routers = addresses(flags.routers, "--router", diagnostics);
  if (auto next = one_address(flags.next_server, "--next-server", diagnostics)) config.next_server = *next;

  using namespace cf::dhcp;
  if (const auto dns = addresses(flags.dns, "--dns", diagnostics); !dns.empty())
    config.options.set_ipv4_list(option::dns_servers, dns);
  if (!flags.domain.empty()) config.options.set_text(option::domain_name, flags.domain);
  if (const auto ntp = addresses(flags.ntp, "--ntp", diagnostics); !ntp.empty())
    config.options.set_ipv4_list(option::ntp_servers, ntp);
  const auto tftp = addresses(flags.tftp, "--tftp", diagnostics);
  if (!tftp.empty()) config.options.set_ipv4_list(option::tftp_servers, tftp);
  if (!flags.tftp_name.empty()) config.options.set_text(option::tftp_server_name, flags.tftp_name);
  else if (!tftp.empty()) config.options.set_text(option::tftp_server_name, tftp.front().to_string());
  for (const auto& text : flags.options) {
    auto spec = parse_option_spec(text);
    if (!spec) throw cf::UsageError("--" + spec.error());
    for (const auto& note : spec->notes) diagnostics.note("--option: " + note);
    config.options.set(spec->code, spec->value);
  }
  validate(config);
  return config;
}

int serve(const Flags& flags, const cf::cli::Diagnostics& diagnostics) {
  if (flags.iface.empty()) throw cf::UsageError("--iface is required: the phone-facing interface");
  const auto link = cf::dhcp::interface_info(flags.iface);
  const auto config = build_config(flags, link, diagnostics);
  if (config.options.find(cf::dhcp::option::tftp_servers) == nullptr)
    diagnostics.warning("no --tftp: phones get no option 150 and cannot find their TFTP server");

  if (flags.probe_time > 0) {
    const auto answers = cf::dhcp::probe_for_servers(
        link, std::chrono::milliseconds(static_cast<long>(flags.probe_time * 1000)),
        flags.client_port, flags.server_port,
        flags.only_vendor.empty() ? std::string("Cisco Systems, Inc. IP Phone CP-7960G")
                                  : flags.only_vendor + " CP-7960G");
    for (const auto& a : answers) {
      const auto text = fmt::format("another DHCP server answers on {}: {} (from {}, offered {})",
                                    link.name, a.server_id.to_string(), a.from.to_string(),
                                    a.offered.to_string());
      if (!flags.force)
        throw cf::Error(text + "; refusing to start (--force starts anyway)");
      diagnostics.warning(text + "; starting anyway because of --force");
    }
    if (answers.empty())
      diagnostics.note(fmt::format("no other DHCP server answered on {} within {}s", link.name,
                                   flags.probe_time));
  }

  cf::dhcp::ServerOptions options;
  options.server_port = flags.server_port;
  options.client_port = flags.client_port;
  options.leases = flags.leases;
  options.events = flags.events;
  options.quiet = flags.quiet;
  options.announce = !flags.no_announce;
  const auto dir = options.leases.parent_path();
  if (!dir.empty()) std::filesystem::create_directories(dir);
  return cf::dhcp::serve(config, options, link, diagnostics);
}

int export_config(const Flags& flags, const cf::cli::Diagnostics& diagnostics) {
  std::optional<cf::dhcp::InterfaceInfo> link;
  if (!flags.iface.empty()) {
    try {
      link = cf::dhcp::interface_info(flags.iface);
    } catch (const cf::Error& e) {
      diagnostics.note(fmt::format("{}; pools need /LEN", e.what()));
    }
  }
  const auto config = build_config(flags, link, diagnostics);
  const auto format = cf::dhcp::parse_export_format(flags.export_format);
  if (!format) throw cf::UsageError("--format must be dnsmasq, kea or isc");
  std::cout << cf::dhcp::export_config(config, *format, flags.iface);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  auto app = cf::cli::make_app(
      "cisco-dhcpd",
      "A DHCP server for IP phone segments: hands out addresses from --pool and tells phones\n"
      "their TFTP server in option 150 (and 66). Bound to one interface; refuses to start if\n"
      "another DHCP server answers there. Example:\n"
      "  cisco-dhcpd --iface eth1 --pool 192.168.1.100-192.168.1.250 --tftp 192.168.1.1 \\\n"
      "      --only-vendor 'Cisco Systems, Inc. IP Phone' --events /var/log/ciscoflash/dhcp.jsonl");
  Flags flags;
  app->set_config("--config", "", "Read these options from a file (KEY = VALUE lines, same names)");
  app->add_option("--iface", flags.iface, "Interface facing the phones (SO_BINDTODEVICE)");
  app->add_option("--server-ip", flags.server_ip,
                  "Server identifier (option 54) and reply source; default: the interface's address");
  app->add_option("--pool", flags.pools,
                  "Address range START-END[/LEN], repeatable; /LEN for a relayed subnet");
  app->add_option("--reserve", flags.reserve, "Fixed address MAC=IP[,NAME], repeatable");
  app->add_option("--reservations", flags.reservations,
                  "File of reservations, one 'MAC IP [NAME]' a line")
      ->check(CLI::ExistingFile);
  app->add_option("--router", flags.routers, "Default gateway(s), option 3 (A[,B])");
  app->add_option("--dns", flags.dns, "DNS servers, option 6 (A[,B])");
  app->add_option("--domain", flags.domain, "Domain name, option 15");
  app->add_option("--ntp", flags.ntp, "NTP servers, option 42 (A[,B])");
  app->add_option("--lease-time", flags.lease_time, "Lease time in seconds (option 51)")
      ->capture_default_str();
  app->add_option("--decline-time", flags.decline_time,
                  "Seconds a DECLINEd address stays out of the pool")
      ->capture_default_str();
  app->add_option("--tftp", flags.tftp,
                  "TFTP server address(es) for option 150, IP[,IP]; 0x0101A8C0 (Windows hex) accepted");
  app->add_option("--tftp-name", flags.tftp_name, "Option 66 text; default: the first --tftp address");
  app->add_option("--next-server", flags.next_server, "siaddr of replies (next server to boot from)");
  app->add_option("--option", flags.options,
                  "Any option CODE:TYPE=VALUE, TYPE ip, ips, str, u8, u16, u32 or hex; repeatable");
  app->add_option("--only-vendor", flags.only_vendor,
                  "Answer only clients whose option 60 starts with this, e.g. 'Cisco Systems, Inc. IP Phone'");
  app->add_option("--leases", flags.leases, "Lease file (FILE.journal beside it)")->capture_default_str();
  app->add_option("--events", flags.events, "Append one JSON object per DHCP event to this file");
  app->add_flag("--force", flags.force, "Start even if another DHCP server answers the probe");
  app->add_option("--probe-time", flags.probe_time,
                  "Seconds to wait for another server's OFFER at start; 0 skips the probe")
      ->capture_default_str();
  app->add_option("--server-port", flags.server_port, "UDP port to serve on")->capture_default_str();
  app->add_option("--client-port", flags.client_port, "UDP port clients listen on")->capture_default_str();
  app->add_flag("--quiet", flags.quiet, "No per-event line on stderr");
  app->add_flag("--no-announce", flags.no_announce,
                "Do not listen for the phones' CDP / LLDP-MED frames (no phone-announce events)");
  auto* export_cmd = app->add_subcommand(
      "export", "Print this setup as dnsmasq, Kea or ISC dhcpd configuration, then exit");
  export_cmd->add_option("--format", flags.export_format, "dnsmasq, kea or isc")->required();
  export_cmd->fallthrough();

  // CLI11 would skip unknown keys and garbage lines of --config silently;
  // check_config_file refuses them with FILE:LINE instead.
  app->allow_config_extras(true);
  return cf::cli::run_tool(*app, argc, argv, [&] {
    if (const auto* config = app->get_config_ptr(); config != nullptr && config->count() > 0) {
      std::vector<std::string> known;
      for (const auto* sub : {app.get(), export_cmd})
        for (const auto* option : sub->get_options())
          for (const auto& name : option->get_lnames()) known.push_back(name);
      cf::dhcp::check_config_file(config->as<std::string>(), known);
    }
    const auto diagnostics = cf::cli::Diagnostics::for_stderr("cisco-dhcpd");
    if (export_cmd->parsed()) return export_config(flags, diagnostics);
    return serve(flags, diagnostics);
  });
}

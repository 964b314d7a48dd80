#pragma once
// The same setup (pools, option 150 as an array of addresses, 66, the
// vendor-class match, reservations) written as configuration for dnsmasq,
// ISC Kea or ISC dhcpd, for sites that already run one of them
// (tftp-dhcp-peers.md B.2 gives each server's spelling).
#include <optional>
#include <string>
#include <string_view>

#include "cf/dhcp/config.hpp"

namespace cf::dhcp {

enum class ExportFormat { dnsmasq, kea, isc };
std::optional<ExportFormat> parse_export_format(std::string_view name);

// `interface` may be empty (then no interface line is written).
std::string export_config(const Config& config, ExportFormat format, const std::string& interface);

}  // namespace cf::dhcp

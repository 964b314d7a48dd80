#pragma once
// What cisco-tftpd reports: each event as a JSON object for --events and one
// human line for stderr (man page, EVENTS). Pure functions of what happened;
// the server adds the timestamp and writes them.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cf/net/udp.hpp"
#include "cf/tftp/packet.hpp"
#include "cf/tftp/phones.hpp"
#include "cf/tftp/resolver.hpp"

namespace cf::tftp {

// Longer request names are refused before any lookup or tracking: no file a
// phone fetches comes near it, and it bounds what one request costs.
inline constexpr std::size_t kMaxRequestName = 512;

struct ServerEvent {
  nlohmann::json event;  // without "ts"
  std::string line;
  bool quiet = false;  // a front end may hide it (probes for absent files)
};

// A request answered with an ERROR from the listening socket; `request` is
// null when the datagram was no request at all.
ServerEvent refusal_event(const net::SocketAddress& client, const Request* request,
                          const std::string& message, const std::string& result, bool quiet,
                          const std::string& mac);

// A transfer that ended, whatever the result.
struct TransferSummary {
  net::SocketAddress client;
  std::string mac;   // empty when not known
  std::string file;  // as requested
  std::string path;  // as found, or the upload's name
  bool upload = false;
  Mode mode = Mode::octet;
  std::uint64_t bytes = 0;
  long long ms = 0;
  std::uint32_t blksize = 512, windowsize = 1;
  std::string result;  // "ok", "timeout", ...
  std::string detail;  // why, when not ok
  std::optional<FileIdentity> served;  // reads: the version served
  std::uint64_t resent = 0;            // reads: blocks sent again
};
ServerEvent transfer_event(const TransferSummary& summary);

// What the phone tracker noticed (phone-config, load-complete, loop-suspected).
std::vector<ServerEvent> phone_events(const net::SocketAddress& client,
                                      const std::vector<PhoneEvent>& events);

}  // namespace cf::tftp

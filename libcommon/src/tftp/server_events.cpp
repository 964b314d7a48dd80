#include "cf/tftp/server_events.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "cf/cli/text.hpp"

namespace cf::tftp {

using nlohmann::json;

namespace {

// Text from the wire kept in an event: JSON escapes it, this bounds it, so one
// request writes at most a few hundred bytes to the log.
std::string clip(std::string_view text, std::size_t limit = 200) {
  return std::string(text.substr(0, limit));
}

// size, mtime_ns, inode: which version of a file was served (man page, EVENTS).
void add_identity(json& event, const FileIdentity& identity) {
  event["size"] = identity.size;
  event["mtime_ns"] = identity.mtime_ns;
  event["inode"] = identity.inode;
}

}  // namespace

ServerEvent refusal_event(const net::SocketAddress& client, const Request* request,
                          const std::string& message, const std::string& result, bool quiet,
                          const std::string& mac) {
  json event = {{"event", "transfer"}, {"client", client.to_string()}, {"result", result},
                {"error", clip(message)}, {"bytes", 0}, {"ms", 0}};
  std::string what = "request";
  if (request) {
    event["file"] = clip(request->filename, kMaxRequestName);
    if (request->filename.size() > kMaxRequestName) event["file_bytes"] = request->filename.size();
    event["direction"] = request->opcode == Opcode::rrq ? "read" : "write";
    what = fmt::format("{} {}", request->opcode == Opcode::rrq ? "read" : "write",
                       printable(request->filename));
  }
  if (!mac.empty()) event["mac"] = mac;
  auto line = fmt::format("{} {}: {} ({})", client.to_string(), what, result, printable(message));
  return {std::move(event), std::move(line), quiet};
}

ServerEvent transfer_event(const TransferSummary& s) {
  json event = {{"event", "transfer"},
                {"client", s.client.to_string()},
                {"file", s.file},
                {"path", s.path},
                {"direction", s.upload ? "write" : "read"},
                {"mode", std::string(to_string(s.mode))},
                {"bytes", s.bytes},
                {"ms", s.ms},
                {"blksize", s.blksize},
                {"windowsize", s.windowsize},
                {"result", s.result}};
  if (s.served) {
    add_identity(event, *s.served);
    event["resent"] = s.resent;
  }
  if (!s.detail.empty()) event["error"] = clip(s.detail);
  if (!s.mac.empty()) event["mac"] = s.mac;
  auto line = fmt::format("{} {} {}: {} {} bytes in {} ms (blksize {}, window {}){}",
                          s.client.to_string(), s.upload ? "write" : "read", printable(s.file),
                          s.result, s.bytes, s.ms, s.blksize, s.windowsize,
                          s.detail.empty() ? "" : " - " + printable(s.detail));
  return {std::move(event), std::move(line), false};
}

std::vector<ServerEvent> phone_events(const net::SocketAddress& client,
                                      const std::vector<PhoneEvent>& events) {
  std::vector<ServerEvent> out;
  for (const auto& e : events) {
    json event = {{"event", e.event}, {"client", client.to_string()}, {"file", e.file}};
    if (!e.mac.empty()) event["mac"] = e.mac;
    if (!e.model.empty()) event["model"] = e.model;
    if (!e.load.empty()) event["load"] = e.load;
    if (e.count) event["count"] = e.count;
    if (e.identity) add_identity(event, *e.identity);
    if (!e.files.empty()) {
      json files = json::array();
      std::int64_t newest = 0;
      for (const auto& [name, identity] : e.files) {
        json entry = {{"file", name}};
        add_identity(entry, identity);
        files.push_back(std::move(entry));
        newest = std::max(newest, identity.mtime_ns);
      }
      event["files"] = std::move(files);
      event["mtime_ns_max"] = newest;
    }
    std::string line = fmt::format("{} {}{}: {}", client.to_string(), e.event,
                                   e.mac.empty() ? "" : " SEP" + e.mac, printable(e.file));
    if (e.count) line += fmt::format(" ({} fetches)", e.count);
    out.push_back({std::move(event), std::move(line), false});
  }
  return out;
}

}  // namespace cf::tftp

#include "cf/tftp/options.hpp"
#include "cf/cli/text.hpp"

#include <algorithm>
#include <cctype>
#include <set>

namespace cf::tftp {
namespace {
NegotiationResult refuse(std::string reason) {
  NegotiationResult result;
  result.failure.reason = std::move(reason);
  return result;
}

bool is_known(const std::string& name) {
  return name == "blksize" || name == "windowsize" || name == "timeout" || name == "tsize" ||
         name == "rollover";
}

}  // namespace

std::optional<std::uint64_t> parse_decimal(std::string_view text) {
  if (text.empty() || text.size() > 19) return std::nullopt;
  std::uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return value;
}

NegotiationResult negotiate(const Request& request, const NegotiationLimits& limits,
                            std::optional<std::uint64_t> file_size) {
  if (!request.options_error.empty()) return refuse("malformed options: " + request.options_error);
  Negotiated out;
  std::set<std::string> seen;
  std::optional<std::size_t> window_option;
  const bool netascii = request.mode == Mode::netascii;
  for (const auto& [name, value] : request.options) {
    const auto key = to_lower(name);
    if (!is_known(key)) continue;  // RFC 2347: unknown options are ignored
    if (!seen.insert(key).second) return refuse("option " + key + " sent twice");
    const auto number = parse_decimal(value);
    if (key == "blksize") {
      if (!number || *number < kMinBlockSize || *number > kMaxBlockSize)
        return refuse("blksize '" + value + "' is not 8..65464 (RFC 2348)");
      const auto cap = std::clamp<std::uint32_t>(limits.max_blksize, kMinBlockSize, kMaxBlockSize);
      out.blksize = static_cast<std::uint32_t>(std::min<std::uint64_t>(*number, cap));
      out.oack.emplace_back(name, std::to_string(out.blksize));
    } else if (key == "windowsize") {
      if (!number || *number < 1 || *number > kMaxWindowSize)
        return refuse("windowsize '" + value + "' is not 1..65535 (RFC 7440)");
      if (netascii) continue;
      const auto cap = std::clamp<std::uint32_t>(limits.max_window, 1, kWindowHardCap);
      out.windowsize = static_cast<std::uint32_t>(std::min<std::uint64_t>(*number, cap));
      window_option = out.oack.size();
      out.oack.emplace_back(name, std::to_string(out.windowsize));
    } else if (key == "timeout") {
      if (!number || *number < 1 || *number > 255) continue;  // RFC 2349: leave it out
      out.timeout_seconds = static_cast<std::uint32_t>(*number);
      out.oack.emplace_back(name, value);
    } else if (key == "tsize") {
      if (!number) return refuse("tsize '" + value + "' is not a number (RFC 2349)");
      if (netascii || !limits.allow_tsize) continue;
      out.tsize = request.opcode == Opcode::rrq ? file_size.value_or(0) : *number;
      out.oack.emplace_back(name, std::to_string(*out.tsize));
    } else if (key == "rollover") {
      if (!number || *number > 1) continue;
      out.rollover = static_cast<std::uint16_t>(*number);
      out.oack.emplace_back(name, value);
    }
  }
  // The byte budget needs the final blksize, which may come after windowsize.
  if (window_option) {
    const auto by_bytes = std::max<std::uint32_t>(1, limits.max_window_bytes / out.blksize);
    out.windowsize = std::min(out.windowsize, by_bytes);
    out.oack[*window_option].second = std::to_string(out.windowsize);
  }
  NegotiationResult result;
  result.accepted = std::move(out);
  return result;
}

}  // namespace cf::tftp

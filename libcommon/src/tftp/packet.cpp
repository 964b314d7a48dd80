#include "cf/tftp/packet.hpp"
#include "cf/cli/text.hpp"

#include <algorithm>
#include <cctype>
#include <optional>

namespace cf::tftp {
namespace {
std::uint16_t read_u16(std::span<const std::byte> bytes, std::size_t at) {
  return static_cast<std::uint16_t>(std::to_integer<unsigned>(bytes[at]) << 8 |
                                    std::to_integer<unsigned>(bytes[at + 1]));
}

void append_u16(std::vector<std::byte>& out, std::uint16_t value) {
  out.push_back(static_cast<std::byte>(value >> 8));
  out.push_back(static_cast<std::byte>(value & 0xFF));
}

void append_string(std::vector<std::byte>& out, std::string_view text) {
  for (char c : text) out.push_back(static_cast<std::byte>(c));
  out.push_back(std::byte{0});
}

// Reads a NUL-terminated string starting at `at`; nullopt if no NUL before the end.
std::optional<std::string> read_string(std::span<const std::byte> bytes, std::size_t& at) {
  const auto begin = bytes.begin() + static_cast<std::ptrdiff_t>(at);
  const auto nul = std::find(begin, bytes.end(), std::byte{0});
  if (nul == bytes.end()) return std::nullopt;
  std::string text;
  text.reserve(static_cast<std::size_t>(nul - begin));
  for (auto it = begin; it != nul; ++it) text.push_back(static_cast<char>(*it));
  at += text.size() + 1;
  return text;
}

ParseResult fail(ErrorCode code, std::string reason) {
  return ParseResult{ParseFailure{code, std::move(reason)}};
}

ParseResult parse_request(Opcode opcode, std::span<const std::byte> bytes) {
  std::size_t at = 2;
  Request request;
  request.opcode = opcode;
  auto filename = read_string(bytes, at);
  if (!filename) return fail(ErrorCode::illegal_operation, "file name is not NUL-terminated");
  if (filename->empty()) return fail(ErrorCode::illegal_operation, "empty file name");
  auto mode = read_string(bytes, at);
  if (!mode) return fail(ErrorCode::illegal_operation, "mode is missing or not NUL-terminated");
  request.filename = std::move(*filename);
  request.mode_text = *mode;
  const auto mode_name = to_lower(*mode);
  if (mode_name == "octet") {
    request.mode = Mode::octet;
  } else if (mode_name == "netascii") {
    request.mode = Mode::netascii;
  } else if (mode_name == "mail") {
    return fail(ErrorCode::illegal_operation, "mode mail is not supported (RFC 1350: obsolete)");
  } else {
    return fail(ErrorCode::illegal_operation, "unknown mode '" + *mode + "'");
  }
  while (at < bytes.size()) {
    // Some old phone images end the request with an extra NUL after the mode
    // (an empty trailing option), and some stacks pad short frames with
    // zeros: NULs up to the end are padding, not an option without a value.
    const auto rest = bytes.subspan(at);
    if (std::all_of(rest.begin(), rest.end(), [](std::byte b) { return b == std::byte{0}; }))
      break;
    auto name = read_string(bytes, at);
    if (!name) {
      request.options_error = "option name is not NUL-terminated";
      break;
    }
    auto value = read_string(bytes, at);
    if (!value) {
      request.options_error = "option '" + *name + "' has no NUL-terminated value";
      break;
    }
    request.options.emplace_back(std::move(*name), std::move(*value));
  }
  return ParseResult{Packet{std::move(request)}};
}

}  // namespace

ParseResult parse_packet(std::span<const std::byte> bytes) {
  if (bytes.size() < 2) return fail(ErrorCode::illegal_operation, "datagram shorter than an opcode");
  const auto opcode = read_u16(bytes, 0);
  switch (opcode) {
    case 1:
    case 2:
      return parse_request(static_cast<Opcode>(opcode), bytes);
    case 3:
      if (bytes.size() < 4) return fail(ErrorCode::illegal_operation, "DATA without block number");
      return ParseResult{Packet{Data{read_u16(bytes, 2), bytes.subspan(4)}}};
    case 4:
      // RFC 1350 ACKs are exactly 4 bytes; trailing bytes are tolerated
      // (some stacks pad short frames), the block number is what counts.
      if (bytes.size() < 4) return fail(ErrorCode::illegal_operation, "ACK without block number");
      return ParseResult{Packet{Ack{read_u16(bytes, 2)}}};
    case 5: {
      if (bytes.size() < 4) return fail(ErrorCode::illegal_operation, "ERROR without code");
      ErrorPacket error{static_cast<ErrorCode>(read_u16(bytes, 2)), {}};
      std::size_t at = 4;
      if (auto message = read_string(bytes, at)) {
        error.message = std::move(*message);
      } else {
        for (auto b : bytes.subspan(4)) error.message.push_back(static_cast<char>(b));
      }
      return ParseResult{Packet{std::move(error)}};
    }
    case 6: {
      OptionAck oack;
      std::size_t at = 2;
      while (at < bytes.size()) {
        auto name = read_string(bytes, at);
        auto value = name ? read_string(bytes, at) : std::nullopt;
        if (!value) return fail(ErrorCode::option_refused, "malformed OACK");
        oack.options.emplace_back(std::move(*name), std::move(*value));
      }
      return ParseResult{Packet{std::move(oack)}};
    }
    default:
      return fail(ErrorCode::illegal_operation, "unknown opcode " + std::to_string(opcode));
  }
}

void encode_data(std::vector<std::byte>& out, std::uint16_t block,
                 std::span<const std::byte> payload) {
  out.clear();
  out.reserve(4 + payload.size());
  append_u16(out, static_cast<std::uint16_t>(Opcode::data));
  append_u16(out, block);
  out.insert(out.end(), payload.begin(), payload.end());
}

void encode_ack(std::vector<std::byte>& out, std::uint16_t block) {
  out.clear();
  append_u16(out, static_cast<std::uint16_t>(Opcode::ack));
  append_u16(out, block);
}

void encode_error(std::vector<std::byte>& out, ErrorCode code, std::string_view message) {
  out.clear();
  append_u16(out, static_cast<std::uint16_t>(Opcode::error));
  append_u16(out, static_cast<std::uint16_t>(code));
  // A NUL inside the message would end it early on the wire; cut it there.
  append_string(out, message.substr(0, std::min(message.find('\0'), std::size_t{400})));
}

void encode_oack(std::vector<std::byte>& out, const std::vector<Option>& options) {
  out.clear();
  append_u16(out, static_cast<std::uint16_t>(Opcode::oack));
  for (const auto& [name, value] : options) {
    append_string(out, name);
    append_string(out, value);
  }
}

void encode_request(std::vector<std::byte>& out, Opcode opcode, std::string_view filename,
                    std::string_view mode, const std::vector<Option>& options) {
  out.clear();
  append_u16(out, static_cast<std::uint16_t>(opcode));
  append_string(out, filename);
  append_string(out, mode);
  for (const auto& [name, value] : options) {
    append_string(out, name);
    append_string(out, value);
  }
}

std::string_view to_string(ErrorCode code) {
  switch (code) {
    case ErrorCode::not_defined: return "not defined";
    case ErrorCode::file_not_found: return "file not found";
    case ErrorCode::access_violation: return "access violation";
    case ErrorCode::disk_full: return "disk full";
    case ErrorCode::illegal_operation: return "illegal TFTP operation";
    case ErrorCode::unknown_transfer_id: return "unknown transfer ID";
    case ErrorCode::file_exists: return "file already exists";
    case ErrorCode::no_such_user: return "no such user";
    case ErrorCode::option_refused: return "option negotiation refused";
  }
  return "unknown error";
}

std::string_view to_string(Mode mode) { return mode == Mode::octet ? "octet" : "netascii"; }

}  // namespace cf::tftp

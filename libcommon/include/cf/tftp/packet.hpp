#pragma once
// TFTP packets (RFC 1350, options RFC 2347) as values: parsing untrusted
// datagrams into them without throwing or reading past the span, and encoding
// the packets the server sends.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "cf/cli/result.hpp"

namespace cf::tftp {

enum class Opcode : std::uint16_t { rrq = 1, wrq = 2, data = 3, ack = 4, error = 5, oack = 6 };

// RFC 1350 section 5 plus RFC 2347 (8: option negotiation refused).
enum class ErrorCode : std::uint16_t {
  not_defined = 0,
  file_not_found = 1,
  access_violation = 2,
  disk_full = 3,
  illegal_operation = 4,
  unknown_transfer_id = 5,
  file_exists = 6,
  no_such_user = 7,
  option_refused = 8,
};

enum class Mode { octet, netascii };

using Option = std::pair<std::string, std::string>;  // name as sent, value

struct Request {
  Opcode opcode = Opcode::rrq;  // rrq or wrq
  std::string filename;
  Mode mode = Mode::octet;
  std::string mode_text;        // as sent, for logs
  std::vector<Option> options;  // in the order sent
  // Set when the option list itself could not be read (an option without a
  // value, a missing NUL): the request is answered with ERROR 8.
  std::string options_error;
};

struct Data {
  std::uint16_t block = 0;
  std::span<const std::byte> payload;  // points into the parsed datagram
};

struct Ack {
  std::uint16_t block = 0;
};

struct ErrorPacket {
  ErrorCode code = ErrorCode::not_defined;
  std::string message;
};

struct OptionAck {
  std::vector<Option> options;
};

using Packet = std::variant<Request, Data, Ack, ErrorPacket, OptionAck>;

// The failure of parse_packet carries the TFTP error to answer with (an
// unknown opcode or a malformed request is illegal_operation, RFC 1350 5).
struct ParseFailure {
  ErrorCode code = ErrorCode::illegal_operation;
  std::string reason;
};

// Parses one datagram. Never throws, never reads outside `datagram`.
// Filenames and modes must be NUL-terminated (RFC 1350 figure 5-1); the mode
// is octet or netascii in any case ("mail" is refused, RFC 1350 says it is
// obsolete). Options are name/value pairs of NUL-terminated strings; a
// trailing name without a value or a missing final NUL sets options_error
// rather than failing the whole request, so the answer can be ERROR 8.
// NUL bytes after the last complete string are padding (an old phone's
// trailing empty option, a zero-padded frame) and are ignored.
struct ParseResult {
  std::variant<Packet, ParseFailure> outcome;
  bool ok() const noexcept { return outcome.index() == 0; }
  const Packet& packet() const { return std::get<0>(outcome); }
  const ParseFailure& failure() const { return std::get<1>(outcome); }
};
ParseResult parse_packet(std::span<const std::byte> datagram);

// Encoders append to `out` (cleared first) so a caller can reuse one buffer.
void encode_data(std::vector<std::byte>& out, std::uint16_t block,
                 std::span<const std::byte> payload);
void encode_ack(std::vector<std::byte>& out, std::uint16_t block);
void encode_error(std::vector<std::byte>& out, ErrorCode code, std::string_view message);
void encode_oack(std::vector<std::byte>& out, const std::vector<Option>& options);
void encode_request(std::vector<std::byte>& out, Opcode opcode, std::string_view filename,
                    std::string_view mode, const std::vector<Option>& options);

std::string_view to_string(ErrorCode code);
std::string_view to_string(Mode mode);

}  // namespace cf::tftp

#pragma once
// TFTP option negotiation (RFC 2347) for blksize (RFC 2348), timeout and
// tsize (RFC 2349), windowsize (RFC 7440) and tftp-hpa's rollover: which
// options the server acknowledges, with which values, or why it refuses.
//
// Decisions (each where an RFC leaves room):
// - Option names are matched case-insensitively (RFC 2347); the OACK echoes
//   the name as the client spelled it and carries only options it asked for.
// - blksize outside 8..65464 or not a decimal number: ERROR 8 (RFC 2348 gives
//   the valid range; answering 512 silently would hide a client bug). A value
//   above --max-blksize is lowered to it (RFC 2348: the server may answer a
//   smaller value).
// - windowsize outside 1..65535 or not a number: ERROR 8 (RFC 7440 range);
//   above --max-window it is lowered, and lowered further so that a window
//   holds at most --max-window-bytes (default 64 KiB): a burst larger than
//   the receiver's socket buffer is lost whole and costs a timeout. netascii transfers never negotiate a
//   window (the block -> file offset mapping is only known block by block, as
//   in dnsmasq), so windowsize is left out of the OACK and the window is 1.
// - timeout outside 1..255 or not a number: ignored, i.e. left out of the
//   OACK (RFC 2349: the server must echo the exact value or leave it out).
// - tsize: in an RRQ any number (normally 0) is answered with the file size;
//   in a WRQ the client's size is accepted and echoed. Not a number: ERROR 8.
//   In netascii mode tsize is ignored (RFC 2349 allows octet-only servers,
//   and the converted size would cost a pass over the file).
// - rollover (tftp-hpa extension): 0 or 1 is acknowledged, anything else ignored.
// - A known option sent twice: ERROR 8 (which value the client means is
//   ambiguous). Unknown options, repeated or not, are ignored (RFC 2347).
// - A malformed option list (a name without a value, a missing NUL): ERROR 8.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "cf/tftp/packet.hpp"

namespace cf::tftp {

inline constexpr std::uint32_t kDefaultBlockSize = 512;      // RFC 1350
inline constexpr std::uint32_t kMinBlockSize = 8;            // RFC 2348
inline constexpr std::uint32_t kMaxBlockSize = 65464;        // RFC 2348
inline constexpr std::uint32_t kMaxWindowSize = 65535;       // RFC 7440
// The state machine maps 16-bit ACK numbers back to blocks in flight; a window
// must stay below half the block-number space for that to be unambiguous.
inline constexpr std::uint32_t kWindowHardCap = 32768;

struct NegotiationLimits {
  std::uint32_t max_blksize = 1468;  // Ethernet MTU 1500 - 20 (IP) - 8 (UDP) - 4 (TFTP)
  std::uint32_t max_window = 64;
  std::uint32_t max_window_bytes = 64 * 1024;  // windowsize * blksize at most (at least 1 block)
  bool allow_tsize = true;
};

struct Negotiated {
  std::uint32_t blksize = kDefaultBlockSize;
  std::uint32_t windowsize = 1;
  std::optional<std::uint32_t> timeout_seconds;  // client's timeout option if accepted
  std::optional<std::uint64_t> tsize;            // the value to put in the OACK
  std::uint16_t rollover = 0;                    // block number after 65535
  std::vector<Option> oack;                      // empty: no OACK, plain RFC 1350
};

struct NegotiationFailure {
  std::string reason;  // sent as the ERROR 8 message and logged
};

// `file_size` is the size answered for tsize in an RRQ (nullopt for a WRQ).
struct NegotiationResult {
  std::optional<Negotiated> accepted;
  NegotiationFailure failure;
  bool ok() const noexcept { return accepted.has_value(); }
};
NegotiationResult negotiate(const Request& request, const NegotiationLimits& limits,
                            std::optional<std::uint64_t> file_size);

// Strict decimal: digits only, no sign, no spaces, at most 20 digits.
std::optional<std::uint64_t> parse_decimal(std::string_view text);

}  // namespace cf::tftp

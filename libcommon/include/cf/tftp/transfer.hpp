#pragma once
// The TFTP transfer state machines as values plus functions of (state, packet,
// now): what to send next and when to wake up. No sockets, no clocks; the
// server's event loop does the I/O and tests drive these with made-up times.
//
// Rules followed:
// - Retransmission by timeout only, with backoff (base, 2x, 4x, then 8x the
//   base), giving up after max_retries timeouts in a row (RFC 1350 section 2,
//   RFC 1123 4.2.3.2 adaptive timeout).
// - A duplicate or stale ACK never causes a resend: that is the Sorcerer's
//   Apprentice bug (RFC 1123 4.2.3.1).
// - RFC 7440: up to windowsize blocks are in flight; an ACK of block n moves
//   the window to start at n+1 and sends what is missing from it; a timeout
//   resends the whole window starting after the last acknowledged block (a
//   shrinking window was tried: atftp 0.8 ignores repeated old blocks without
//   re-ACKing them, so a window that no longer reaches past what it already
//   has stalls it; bursts are kept small by negotiation instead, see
//   NegotiationLimits::max_window_bytes).
// - Block numbers are 16 bits on the wire and roll over after 65535 to 0 (or
//   to 1 with tftp-hpa's rollover=1 option). Internally blocks are counted
//   with 64 bits, so any file size works.
#include <chrono>
#include <cstdint>
#include <optional>

namespace cf::tftp {

using TimePoint = std::chrono::steady_clock::time_point;
using Duration = std::chrono::steady_clock::duration;

enum class TransferStatus { running, complete, gave_up };

// 16-bit block number on the wire for internal block `n` (n >= 1; 0 is the
// OACK/WRQ acknowledgement).
std::uint16_t wire_block(std::uint64_t n, std::uint16_t rollover);

// Timeout for the attempt after `retries` timeouts in a row.
Duration backoff(Duration base, unsigned retries);

// ----------------------------------------------------------------- sending (RRQ)

// A stream whose length is found only when its end is produced (netascii:
// the converted size is known after the last block is converted, and the
// server does not read a whole file up front to count it; issue 13 item 2).
inline constexpr std::uint64_t kUnknownStreamSize = UINT64_MAX / 2;

struct ReadSettings {
  // Bytes on the wire (file size), or kUnknownStreamSize until
  // ReadTransfer::end_stream names the last block.
  std::uint64_t stream_size = 0;
  std::uint32_t blksize = 512;
  std::uint32_t windowsize = 1;
  std::uint16_t rollover = 0;
  bool send_oack = false;  // options were acknowledged: OACK first, wait for ACK 0
  Duration timeout = std::chrono::seconds(1);
  unsigned max_retries = 6;
  // Until the client has answered once, fewer retries: a request from a
  // spoofed or vanished source is freed after base+2x+4x (7 s at the default
  // timeout) instead of the whole schedule (~40 s); issue 13 item 3.
  unsigned first_ack_retries = 2;
};

struct ReadTransfer {
  ReadSettings settings;
  std::uint64_t acked = 0;       // highest block acknowledged (0: none / OACK)
  std::uint64_t sent_up_to = 0;  // the window is sent up to here
  std::uint64_t highest_sent = 0;  // highest block ever sent: ACKs up to it count
  bool oack_pending = false;
  unsigned retries = 0;          // timeouts in a row
  TimePoint deadline{};
  TransferStatus status = TransferStatus::running;
  bool heard = false;  // an ACK came from the client
  std::uint64_t resent_blocks = 0;  // for statistics
  std::uint32_t window = 1;         // blocks per window (the negotiated windowsize)

  // Blocks in the transfer: size / blksize + 1 (the last is shorter than
  // blksize, possibly empty, RFC 1350 section 6).
  std::uint64_t total_blocks() const noexcept {
    return settings.stream_size / settings.blksize + 1;
  }
  std::uint64_t block_offset(std::uint64_t n) const noexcept {
    return (n - 1) * settings.blksize;
  }
  std::uint32_t block_length(std::uint64_t n) const noexcept;
  std::uint64_t bytes_acked() const noexcept;
  // For a stream of unknown size: block n came out `length` bytes long,
  // shorter than blksize, so it is the last one (RFC 1350 section 6).
  void end_stream(std::uint64_t n, std::uint32_t length) noexcept {
    settings.stream_size = block_offset(n) + length;
  }
};

// What to send now: the OACK and/or blocks first..last (inclusive, none if
// first > last), and when on_timeout should be called (nullopt: finished).
struct ReadStep {
  bool send_oack = false;
  std::uint64_t first = 1;
  std::uint64_t last = 0;
  std::optional<TimePoint> wake_at;
  bool ignored = false;  // the packet did not change anything (duplicate, stale)
  std::uint64_t block_count() const noexcept { return last >= first ? last - first + 1 : 0; }
};

ReadTransfer make_read_transfer(const ReadSettings& settings);
ReadStep start(ReadTransfer& transfer, TimePoint now);
ReadStep on_ack(ReadTransfer& transfer, std::uint16_t block, TimePoint now);
ReadStep on_timeout(ReadTransfer& transfer, TimePoint now);

// --------------------------------------------------------------- receiving (WRQ)

struct WriteSettings {
  std::uint32_t blksize = 512;
  std::uint16_t rollover = 0;
  bool send_oack = false;
  Duration timeout = std::chrono::seconds(1);
  unsigned max_retries = 6;
  unsigned first_ack_retries = 2;  // until the first DATA, as for reads
  std::uint64_t max_size = 0;  // refuse DATA beyond this many bytes (disk full)
};

struct WriteTransfer {
  WriteSettings settings;
  std::uint64_t received = 0;  // blocks written, in order
  std::uint64_t bytes = 0;
  unsigned retries = 0;
  TimePoint deadline{};
  TransferStatus status = TransferStatus::running;
  bool heard = false;  // a DATA came from the client
  bool too_large = false;
};

struct WriteStep {
  bool send_oack = false;
  std::optional<std::uint16_t> send_ack;
  bool write = false;            // write the DATA payload at write_offset
  std::uint64_t write_offset = 0;
  std::optional<TimePoint> wake_at;
  bool ignored = false;
};

WriteTransfer make_write_transfer(const WriteSettings& settings);
WriteStep start(WriteTransfer& transfer, TimePoint now);
WriteStep on_data(WriteTransfer& transfer, std::uint16_t block, std::size_t payload_size,
                  TimePoint now);
WriteStep on_timeout(WriteTransfer& transfer, TimePoint now);

}  // namespace cf::tftp

#include "cf/tftp/transfer.hpp"

#include <algorithm>

namespace cf::tftp {

std::uint16_t wire_block(std::uint64_t n, std::uint16_t rollover) {
  if (n == 0) return 0;
  if (rollover == 1) return static_cast<std::uint16_t>((n - 1) % 65535 + 1);  // 65535 -> 1
  return static_cast<std::uint16_t>(n & 0xFFFF);                              // 65535 -> 0
}

Duration backoff(Duration base, unsigned retries) {
  return base * (1 << std::min(retries, 3u));
}

namespace {
unsigned retry_limit(bool heard, unsigned max_retries, unsigned first_ack_retries) {
  return heard ? max_retries : std::min(max_retries, first_ack_retries);
}
}  // namespace

// ----------------------------------------------------------------- sending

std::uint32_t ReadTransfer::block_length(std::uint64_t n) const noexcept {
  const auto offset = block_offset(n);
  if (offset >= settings.stream_size) return 0;
  return static_cast<std::uint32_t>(
      std::min<std::uint64_t>(settings.blksize, settings.stream_size - offset));
}

std::uint64_t ReadTransfer::bytes_acked() const noexcept {
  return std::min<std::uint64_t>(acked * settings.blksize, settings.stream_size);
}

ReadTransfer make_read_transfer(const ReadSettings& settings) {
  ReadTransfer transfer;
  transfer.settings = settings;
  transfer.settings.blksize = std::max<std::uint32_t>(settings.blksize, 1);
  transfer.settings.windowsize = std::clamp<std::uint32_t>(settings.windowsize, 1, 32768);
  transfer.window = transfer.settings.windowsize;
  return transfer;
}

namespace {

// Sends the window that starts after the last acknowledged block.
ReadStep send_window(ReadTransfer& t, TimePoint now, bool resend_all) {
  ReadStep step;
  const auto window_end = std::min(t.acked + t.window, t.total_blocks());
  step.first = resend_all ? t.acked + 1 : std::max(t.acked, t.sent_up_to) + 1;
  step.last = window_end;
  if (resend_all && step.last >= step.first)
    t.resent_blocks += std::min(t.sent_up_to, step.last) >= step.first
                           ? std::min(t.sent_up_to, step.last) - step.first + 1
                           : 0;
  t.sent_up_to = resend_all ? std::max(step.last, t.acked) : std::max(t.sent_up_to, step.last);
  t.highest_sent = std::max(t.highest_sent, t.sent_up_to);
  t.deadline = now + backoff(t.settings.timeout, t.retries);
  step.wake_at = t.deadline;
  return step;
}

}  // namespace

ReadStep start(ReadTransfer& t, TimePoint now) {
  t.retries = 0;
  if (t.settings.send_oack) {
    t.oack_pending = true;
    ReadStep step;
    step.send_oack = true;
    t.deadline = now + t.settings.timeout;
    step.wake_at = t.deadline;
    return step;
  }
  return send_window(t, now, false);
}

ReadStep on_ack(ReadTransfer& t, std::uint16_t block, TimePoint now) {
  ReadStep ignored;
  ignored.ignored = true;
  if (t.status != TransferStatus::running) return ignored;
  t.heard = true;
  ignored.wake_at = t.deadline;
  if (t.oack_pending) {
    // RFC 2347: after an OACK the client answers ACK 0; anything else is stale.
    if (block != 0) return ignored;
    t.oack_pending = false;
    t.retries = 0;
    return send_window(t, now, false);
  }
  // Which block in flight (acked, sent_up_to] does this number name? The
  // window is below half the number space, so at most one matches.
  std::uint64_t matched = 0;
  for (auto n = t.highest_sent; n > t.acked; --n) {
    if (wire_block(n, t.settings.rollover) == block) {
      matched = n;
      break;
    }
  }
  if (matched == 0) return ignored;  // duplicate or stale ACK: never resend (Sorcerer's Apprentice)
  t.acked = matched;
  t.retries = 0;
  if (t.acked >= t.total_blocks()) {
    t.status = TransferStatus::complete;
    ReadStep done;
    return done;
  }
  // RFC 7440 section 4: an ACK of a block before the end of the window means
  // the blocks after it were lost; the window restarts after it.
  if (matched > t.sent_up_to) t.sent_up_to = matched;  // sent before a timeout shrank the window
  if (matched < t.sent_up_to) {
    const auto window_end = std::min(t.acked + t.window, t.total_blocks());
    t.resent_blocks += std::min(t.sent_up_to, window_end) - std::min(matched, window_end);
    t.sent_up_to = matched;
  }
  return send_window(t, now, false);
}

ReadStep on_timeout(ReadTransfer& t, TimePoint now) {
  ReadStep ignored;
  ignored.ignored = true;
  if (t.status != TransferStatus::running) return ignored;
  if (now < t.deadline) {
    ignored.wake_at = t.deadline;
    return ignored;
  }
  if (++t.retries > retry_limit(t.heard, t.settings.max_retries, t.settings.first_ack_retries)) {
    t.status = TransferStatus::gave_up;
    return ignored;
  }
  if (t.oack_pending) {
    ReadStep step;
    step.send_oack = true;
    t.deadline = now + backoff(t.settings.timeout, t.retries);
    step.wake_at = t.deadline;
    return step;
  }
  return send_window(t, now, true);
}

// --------------------------------------------------------------- receiving

WriteTransfer make_write_transfer(const WriteSettings& settings) {
  WriteTransfer transfer;
  transfer.settings = settings;
  transfer.settings.blksize = std::max<std::uint32_t>(settings.blksize, 1);
  return transfer;
}

namespace {

WriteStep resend_last(WriteTransfer& t) {
  WriteStep step;
  if (t.received == 0 && t.settings.send_oack)
    step.send_oack = true;
  else
    step.send_ack = wire_block(t.received, t.settings.rollover);
  return step;
}

}  // namespace

WriteStep start(WriteTransfer& t, TimePoint now) {
  auto step = resend_last(t);  // OACK, or ACK 0 (RFC 1350 section 4)
  t.deadline = now + t.settings.timeout;
  step.wake_at = t.deadline;
  return step;
}

WriteStep on_data(WriteTransfer& t, std::uint16_t block, std::size_t payload_size,
                  TimePoint now) {
  WriteStep step;
  if (t.status == TransferStatus::gave_up) {
    step.ignored = true;
    return step;
  }
  t.heard = true;
  const auto rollover = t.settings.rollover;
  if (t.status == TransferStatus::running && block == wire_block(t.received + 1, rollover)) {
    if (t.bytes + payload_size > t.settings.max_size) {
      t.too_large = true;
      t.status = TransferStatus::gave_up;
      step.ignored = true;
      return step;
    }
    step.write = true;
    step.write_offset = t.bytes;
    t.bytes += payload_size;
    ++t.received;
    t.retries = 0;
    step.send_ack = wire_block(t.received, rollover);
    if (payload_size < t.settings.blksize) {
      t.status = TransferStatus::complete;  // the server dallies to re-ACK a lost final ACK
      return step;
    }
    t.deadline = now + t.settings.timeout;
    step.wake_at = t.deadline;
    return step;
  }
  if (t.received > 0 && block == wire_block(t.received, rollover)) {
    // The sender did not get our ACK and repeated the block: ACK it again
    // (RFC 1350). Receiving is lock-step, so this cannot snowball.
    step.send_ack = block;
    step.wake_at = t.status == TransferStatus::running ? std::optional(t.deadline) : std::nullopt;
    return step;
  }
  step.ignored = true;
  step.wake_at = t.status == TransferStatus::running ? std::optional(t.deadline) : std::nullopt;
  return step;
}

WriteStep on_timeout(WriteTransfer& t, TimePoint now) {
  WriteStep step;
  if (t.status != TransferStatus::running) {
    step.ignored = true;
    return step;
  }
  if (now < t.deadline) {
    step.ignored = true;
    step.wake_at = t.deadline;
    return step;
  }
  if (++t.retries > retry_limit(t.heard, t.settings.max_retries, t.settings.first_ack_retries)) {
    t.status = TransferStatus::gave_up;
    step.ignored = true;
    return step;
  }
  step = resend_last(t);
  t.deadline = now + backoff(t.settings.timeout, t.retries);
  step.wake_at = t.deadline;
  return step;
}

}  // namespace cf::tftp

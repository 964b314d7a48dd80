// The transfer state machines, driven by a ManualClock: loss, duplicate ACKs,
// rollover and window resends, without sockets.
#include <doctest/doctest.h>

#include "cf/net/event_loop.hpp"
#include "cf/tftp/server.hpp"
#include "cf/tftp/transfer.hpp"

using namespace cf::tftp;
using namespace std::chrono_literals;

namespace {

ReadSettings settings(std::uint64_t size, std::uint32_t blksize, std::uint32_t window = 1,
                      bool oack = false) {
  ReadSettings s;
  s.stream_size = size;
  s.blksize = blksize;
  s.windowsize = window;
  s.send_oack = oack;
  s.timeout = 1s;
  s.max_retries = 3;
  return s;
}

}  // namespace

TEST_CASE("lock-step: each new ACK sends the next block; the last ACK completes") {
  cf::net::ManualClock clock;
  auto t = make_read_transfer(settings(1024, 512));
  CHECK(t.total_blocks() == 3);  // 512 + 512 + an empty final block
  auto s = start(t, clock.now());
  CHECK(s.first == 1);
  CHECK(s.last == 1);
  CHECK(s.wake_at == clock.now() + 1s);
  s = on_ack(t, 1, clock.now());
  CHECK(s.first == 2);
  CHECK(s.last == 2);
  s = on_ack(t, 2, clock.now());
  CHECK(s.first == 3);
  CHECK(t.block_length(3) == 0);
  s = on_ack(t, 3, clock.now());
  CHECK(t.status == TransferStatus::complete);
  CHECK_FALSE(s.wake_at);
  CHECK(t.bytes_acked() == 1024);
}

TEST_CASE("duplicate and stale ACKs never cause a resend (Sorcerer's Apprentice)") {
  cf::net::ManualClock clock;
  auto t = make_read_transfer(settings(5000, 512));
  start(t, clock.now());
  on_ack(t, 1, clock.now());           // sends block 2
  auto dup = on_ack(t, 1, clock.now());  // ACK 1 again
  CHECK(dup.ignored);
  CHECK(dup.block_count() == 0);
  CHECK_FALSE(dup.send_oack);
  auto future = on_ack(t, 9, clock.now());  // a block never sent
  CHECK(future.ignored);
  CHECK(future.block_count() == 0);
  CHECK(t.acked == 1);
  CHECK(t.resent_blocks == 0);
}

TEST_CASE("loss: a timeout resends, backs off, then gives up") {
  cf::net::ManualClock clock;
  auto t = make_read_transfer(settings(5000, 512));
  start(t, clock.now());
  auto early = on_timeout(t, clock.now() + 500ms);
  CHECK(early.ignored);
  CHECK(early.wake_at == clock.now() + 1s);
  clock.advance(1s);
  auto r1 = on_timeout(t, clock.now());
  CHECK(r1.first == 1);
  CHECK(r1.last == 1);
  CHECK(r1.wake_at == clock.now() + 2s);  // backoff doubles
  clock.advance(2s);
  auto r2 = on_timeout(t, clock.now());
  CHECK(r2.wake_at == clock.now() + 4s);
  // the ACK finally arrives: timer resets to the base
  auto ok = on_ack(t, 1, clock.now());
  CHECK(ok.first == 2);
  CHECK(ok.wake_at == clock.now() + 1s);
  for (int i = 0; i < 3; ++i) {
    clock.advance(10s);
    on_timeout(t, clock.now());
    CHECK(t.status == TransferStatus::running);
  }
  clock.advance(10s);
  auto last = on_timeout(t, clock.now());
  CHECK(t.status == TransferStatus::gave_up);
  CHECK_FALSE(last.wake_at);
}

TEST_CASE("OACK first, then ACK 0 starts the data; other ACKs are ignored") {
  cf::net::ManualClock clock;
  auto t = make_read_transfer(settings(100, 512, 1, true));
  auto s = start(t, clock.now());
  CHECK(s.send_oack);
  CHECK(s.block_count() == 0);
  CHECK(on_ack(t, 1, clock.now()).ignored);
  clock.advance(1s);
  CHECK(on_timeout(t, clock.now()).send_oack);  // OACK lost: resent
  s = on_ack(t, 0, clock.now());
  CHECK(s.first == 1);
  CHECK(s.last == 1);
  on_ack(t, 1, clock.now());
  CHECK(t.status == TransferStatus::complete);
}

TEST_CASE("rollover: block 65535 is followed by 0 (or 1 with rollover=1)") {
  CHECK(wire_block(65535, 0) == 65535);
  CHECK(wire_block(65536, 0) == 0);
  CHECK(wire_block(65537, 0) == 1);
  CHECK(wire_block(65535, 1) == 65535);
  CHECK(wire_block(65536, 1) == 1);
  cf::net::ManualClock clock;
  // 70000 blocks of 8 bytes, lock-step, every ACK in order.
  auto t = make_read_transfer(settings(70000ull * 8, 8));
  start(t, clock.now());
  for (std::uint64_t n = 1; n <= t.total_blocks(); ++n) {
    auto s = on_ack(t, wire_block(n, 0), clock.now());
    REQUIRE_FALSE(s.ignored);
  }
  CHECK(t.status == TransferStatus::complete);
  CHECK(t.bytes_acked() == 70000ull * 8);
}

TEST_CASE("rollover in window mode maps ACK numbers across the wrap") {
  cf::net::ManualClock clock;
  auto t = make_read_transfer(settings(70000ull * 8, 8, 16));
  start(t, clock.now());
  std::uint64_t acked = 0;
  while (t.status == TransferStatus::running) {
    acked = std::min<std::uint64_t>(acked + 16, t.total_blocks());
    auto s = on_ack(t, wire_block(acked, 0), clock.now());
    REQUIRE_FALSE(s.ignored);
  }
  CHECK(t.status == TransferStatus::complete);
  CHECK(t.resent_blocks == 0);
}

TEST_CASE("window: up to windowsize blocks in flight; ACK n restarts at n+1; timeout resends the window") {
  cf::net::ManualClock clock;
  auto t = make_read_transfer(settings(100 * 512, 512, 8));
  auto s = start(t, clock.now());
  CHECK(s.first == 1);
  CHECK(s.last == 8);
  s = on_ack(t, 8, clock.now());  // whole window received
  CHECK(s.first == 9);
  CHECK(s.last == 16);
  s = on_ack(t, 11, clock.now());  // 12 was lost: client acknowledges 11
  CHECK(s.first == 12);
  CHECK(s.last == 19);
  CHECK(t.resent_blocks == 5);  // 12..16 go out again
  CHECK(on_ack(t, 11, clock.now()).ignored);  // duplicate: nothing
  clock.advance(1s);
  s = on_timeout(t, clock.now());  // everything lost: resend the window from 12
  CHECK(s.first == 12);
  CHECK(s.last == 19);
  s = on_ack(t, 19, clock.now());
  CHECK(s.first == 20);
  CHECK(s.last == 27);
  // an ACK for a block sent before a timeout still counts
  clock.advance(1s);
  on_timeout(t, clock.now());
  s = on_ack(t, 27, clock.now());
  CHECK(s.first == 28);
}

TEST_CASE("window never runs past the last block") {
  cf::net::ManualClock clock;
  auto t = make_read_transfer(settings(3 * 512 + 10, 512, 32));
  auto s = start(t, clock.now());
  CHECK(s.first == 1);
  CHECK(s.last == 4);
  on_ack(t, 4, clock.now());
  CHECK(t.status == TransferStatus::complete);
}

TEST_CASE("receiving (WRQ): in-order data is written and acknowledged; duplicates re-ACKed") {
  cf::net::ManualClock clock;
  WriteSettings ws;
  ws.blksize = 512;
  ws.max_size = 4096;
  ws.max_retries = 2;
  auto w = make_write_transfer(ws);
  auto s = start(w, clock.now());
  CHECK(s.send_ack == std::uint16_t{0});
  s = on_data(w, 1, 512, clock.now());
  CHECK(s.write);
  CHECK(s.write_offset == 0);
  CHECK(s.send_ack == std::uint16_t{1});
  s = on_data(w, 1, 512, clock.now());  // our ACK was lost
  CHECK_FALSE(s.write);
  CHECK(s.send_ack == std::uint16_t{1});
  s = on_data(w, 5, 512, clock.now());  // out of order: ignored
  CHECK(s.ignored);
  s = on_data(w, 2, 100, clock.now());
  CHECK(s.write);
  CHECK(s.write_offset == 512);
  CHECK(w.status == TransferStatus::complete);
  CHECK(w.bytes == 612);
  s = on_data(w, 2, 100, clock.now());  // final DATA repeated during the dally
  CHECK(s.send_ack == std::uint16_t{2});
  CHECK_FALSE(s.write);
}

TEST_CASE("receiving: uploads beyond max_size stop; silence gives up") {
  cf::net::ManualClock clock;
  WriteSettings ws;
  ws.blksize = 512;
  ws.max_size = 600;
  ws.max_retries = 1;
  auto w = make_write_transfer(ws);
  start(w, clock.now());
  on_data(w, 1, 512, clock.now());
  on_data(w, 2, 512, clock.now());
  CHECK(w.too_large);
  CHECK(w.status == TransferStatus::gave_up);
  auto quiet = make_write_transfer(ws);
  start(quiet, clock.now());
  clock.advance(1s);
  CHECK(on_timeout(quiet, clock.now()).send_ack == std::uint16_t{0});
  clock.advance(10s);
  on_timeout(quiet, clock.now());
  CHECK(quiet.status == TransferStatus::gave_up);
}

TEST_CASE("a stream of unknown size ends at the first short block (netascii)") {
  cf::net::ManualClock clock;
  auto t = make_read_transfer(settings(kUnknownStreamSize, 512));
  auto s = start(t, clock.now());
  CHECK(s.first == 1);
  CHECK(s.last == 1);
  CHECK(t.block_length(1) == 512);
  s = on_ack(t, 1, clock.now());
  CHECK(s.first == 2);
  CHECK(s.last == 2);
  // The server converted block 2 and it came out short: the stream ends there.
  t.end_stream(2, 100);
  CHECK(t.total_blocks() == 2);
  CHECK(t.block_length(2) == 100);
  // a lost DATA 2 is resent by the timeout
  clock.advance(1s);
  s = on_timeout(t, clock.now());
  CHECK(s.first == 2);
  CHECK(s.last == 2);
  on_ack(t, 2, clock.now());
  CHECK(t.status == TransferStatus::complete);
  CHECK(t.bytes_acked() == 612);
  // exactly a multiple of blksize: an empty final block
  auto e = make_read_transfer(settings(kUnknownStreamSize, 512));
  start(e, clock.now());
  on_ack(e, 1, clock.now());
  e.end_stream(2, 0);
  CHECK(e.block_length(2) == 0);
  on_ack(e, 2, clock.now());
  CHECK(e.status == TransferStatus::complete);
  CHECK(e.bytes_acked() == 512);
}

TEST_CASE("before the first ACK a transfer gives up after first_ack_retries") {
  cf::net::ManualClock clock;
  auto s = settings(5000, 512);
  s.max_retries = 6;
  s.first_ack_retries = 2;
  auto never = make_read_transfer(s);
  start(never, clock.now());
  clock.advance(1s);
  on_timeout(never, clock.now());
  clock.advance(2s);
  on_timeout(never, clock.now());
  CHECK(never.status == TransferStatus::running);
  clock.advance(4s);
  on_timeout(never, clock.now());
  CHECK(never.status == TransferStatus::gave_up);  // 7 s, not ~40 s
  // once the client answered, the full schedule applies
  auto heard = make_read_transfer(s);
  start(heard, clock.now());
  on_ack(heard, 1, clock.now());
  for (int i = 0; i < 6; ++i) {
    clock.advance(10s);
    on_timeout(heard, clock.now());
    CHECK(heard.status == TransferStatus::running);
  }
  clock.advance(10s);
  on_timeout(heard, clock.now());
  CHECK(heard.status == TransferStatus::gave_up);
  // uploads: the same before the first DATA
  WriteSettings w;
  w.max_retries = 6;
  w.first_ack_retries = 1;
  w.max_size = 1 << 20;
  auto up = make_write_transfer(w);
  start(up, clock.now());
  clock.advance(1s);
  on_timeout(up, clock.now());
  CHECK(up.status == TransferStatus::running);
  clock.advance(2s);
  on_timeout(up, clock.now());
  CHECK(up.status == TransferStatus::gave_up);
}

TEST_CASE("--max-transfers is sized to the file descriptor limit: two per transfer") {
  CHECK(cf::tftp::transfers_for_fd_limit(1024, 1) == (1024 - 33) / 2);
  CHECK(cf::tftp::transfers_for_fd_limit(8192, 1) >= 1000);  // the shipped unit's LimitNOFILE
  CHECK(cf::tftp::transfers_for_fd_limit(34, 1) == 0);
  CHECK(cf::tftp::transfers_for_fd_limit(10, 3) == 0);
  CHECK(cf::tftp::transfers_for_fd_limit(100, 4) == 32);
}

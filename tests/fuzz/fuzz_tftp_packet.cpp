// libFuzzer harness: TFTP request/ACK/DATA parsing (cf/tftp/packet.hpp), the
// option negotiation on whatever request comes out, and the state machine
// fed with the parsed ACK numbers.
#include <cstddef>
#include <cstdint>
#include <span>
#include <variant>

#include "cf/tftp/options.hpp"
#include "cf/tftp/packet.hpp"
#include "cf/tftp/transfer.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data), size);
  const auto parsed = cf::tftp::parse_packet(bytes);
  if (!parsed.ok()) return 0;
  if (const auto* request = std::get_if<cf::tftp::Request>(&parsed.packet())) {
    const auto n = cf::tftp::negotiate(*request, {}, size);
    if (n.ok()) {
      if (n.accepted->blksize < 8 || n.accepted->blksize > 1468) __builtin_trap();
      if (n.accepted->windowsize < 1 || n.accepted->windowsize > 64) __builtin_trap();
    }
  } else if (const auto* data_packet = std::get_if<cf::tftp::Data>(&parsed.packet())) {
    if (data_packet->payload.size() + 4 != size) __builtin_trap();
  } else if (const auto* ack = std::get_if<cf::tftp::Ack>(&parsed.packet())) {
    // The ACK number against a transfer in flight: never more blocks than the window.
    cf::tftp::ReadSettings settings;
    settings.stream_size = 100000;
    settings.windowsize = 8;
    auto t = cf::tftp::make_read_transfer(settings);
    cf::tftp::start(t, {});
    const auto step = cf::tftp::on_ack(t, ack->block, {});
    if (step.block_count() > 8) __builtin_trap();
  }
  return 0;
}

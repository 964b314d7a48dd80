// MD5 as RFC 1321 section 3 specifies it: 64-byte blocks, little-endian words, four
// rounds of 16 steps with the sine-derived constants T[i] = floor(2^32 * |sin(i)|).
#include "cf/config/digest.hpp"

#include <cmath>

#include <fmt/format.h>

namespace cf::config {
namespace {

constexpr std::array<std::uint32_t, 64> kShift{
    7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22,  // round 1
    5, 9,  14, 20, 5, 9,  14, 20, 5, 9,  14, 20, 5, 9,  14, 20,  // round 2
    4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23,  // round 3
    6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21}; // round 4

std::array<std::uint32_t, 64> sine_table() {
  std::array<std::uint32_t, 64> t{};
  for (std::size_t i = 0; i < t.size(); ++i)
    t[i] = static_cast<std::uint32_t>(std::floor(4294967296.0 * std::fabs(std::sin(static_cast<double>(i + 1)))));
  return t;
}

std::uint32_t rotate_left(std::uint32_t x, std::uint32_t n) { return (x << n) | (x >> (32 - n)); }

void process_block(std::array<std::uint32_t, 4>& state, const std::uint8_t* block,
                   const std::array<std::uint32_t, 64>& table) {
  std::array<std::uint32_t, 16> x{};
  for (std::size_t i = 0; i < 16; ++i)
    x[i] = static_cast<std::uint32_t>(block[i * 4]) | static_cast<std::uint32_t>(block[i * 4 + 1]) << 8 |
           static_cast<std::uint32_t>(block[i * 4 + 2]) << 16 |
           static_cast<std::uint32_t>(block[i * 4 + 3]) << 24;
  std::uint32_t a = state[0], b = state[1], c = state[2], d = state[3];
  for (std::uint32_t i = 0; i < 64; ++i) {
    std::uint32_t f = 0, k = 0;
    if (i < 16) {
      f = (b & c) | (~b & d);
      k = i;
    } else if (i < 32) {
      f = (b & d) | (c & ~d);
      k = (5 * i + 1) % 16;
    } else if (i < 48) {
      f = b ^ c ^ d;
      k = (3 * i + 5) % 16;
    } else {
      f = c ^ (b | ~d);
      k = (7 * i) % 16;
    }
    const std::uint32_t next = b + rotate_left(a + f + table[i] + x[k], kShift[i]);
    a = d;
    d = c;
    c = b;
    b = next;
  }
  state[0] += a;
  state[1] += b;
  state[2] += c;
  state[3] += d;
}

}  // namespace

std::array<std::uint8_t, 16> md5(std::string_view data) {
  static const auto table = sine_table();
  std::array<std::uint32_t, 4> state{0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476};
  const auto* bytes = reinterpret_cast<const std::uint8_t*>(data.data());
  std::size_t whole = data.size() / 64 * 64;
  for (std::size_t offset = 0; offset < whole; offset += 64) process_block(state, bytes + offset, table);
  // Padding (RFC 1321 3.1, 3.2): 0x80, zeros to 56 mod 64, the bit length little-endian.
  std::array<std::uint8_t, 128> tail{};
  const std::size_t rest = data.size() - whole;
  for (std::size_t i = 0; i < rest; ++i) tail[i] = bytes[whole + i];
  tail[rest] = 0x80;
  const std::size_t tail_size = rest < 56 ? 64 : 128;
  const std::uint64_t bits = static_cast<std::uint64_t>(data.size()) * 8;
  for (std::size_t i = 0; i < 8; ++i) tail[tail_size - 8 + i] = static_cast<std::uint8_t>(bits >> (8 * i));
  for (std::size_t offset = 0; offset < tail_size; offset += 64) process_block(state, tail.data() + offset, table);
  std::array<std::uint8_t, 16> out{};
  for (std::size_t i = 0; i < 4; ++i)
    for (std::size_t j = 0; j < 4; ++j) out[i * 4 + j] = static_cast<std::uint8_t>(state[i] >> (8 * j));
  return out;
}

std::string md5_hex(std::string_view data) {
  std::string out;
  for (const auto byte : md5(data)) out += fmt::format("{:02x}", byte);
  return out;
}

std::string digest_ha1(std::string_view user, std::string_view realm, std::string_view password) {
  return md5_hex(fmt::format("{}:{}:{}", user, realm, password));
}

}  // namespace cf::config

#include "cf/firmware/signed_file.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace cf::firmware {
namespace {

unsigned u8(std::span<const std::byte> bytes, std::size_t at) {
  return std::to_integer<unsigned>(bytes[at]);
}
unsigned u16be(std::span<const std::byte> bytes, std::size_t at) {
  return (u8(bytes, at) << 8) | u8(bytes, at + 1);
}

std::size_t search(std::span<const std::byte> hay, std::span<const std::byte> needle,
                   std::size_t limit) {
  if (needle.empty() || hay.size() < needle.size()) return hay.size();
  const auto end = hay.begin() + static_cast<std::ptrdiff_t>(std::min(hay.size(), limit + needle.size()));
  const auto it = std::search(hay.begin(), end, needle.begin(), needle.end());
  return it == end ? hay.size() : static_cast<std::size_t>(it - hay.begin());
}

}  // namespace

Result<std::size_t> signature_header_length(std::span<const std::byte> file) {
  constexpr std::size_t kFixed = 10;  // tag1(1) len(2) version(2) tag2(1) len(2) H(2)
  if (file.size() < kFixed)
    return Result<std::size_t>::failure(
        fmt::format("{} bytes are too short for a signature header", file.size()));
  if (u8(file, 0) != 1 || u16be(file, 1) != 2)
    return Result<std::size_t>::failure("no signature header: byte 0 is not tag 1 (version) of length 2");
  if (u8(file, 5) != 2 || u16be(file, 6) != 2)
    return Result<std::size_t>::failure("no signature header: byte 5 is not tag 2 (header length) of length 2");
  const std::size_t length = u16be(file, 8);
  if (length < kFixed)
    return Result<std::size_t>::failure(
        fmt::format("signature header length {} is shorter than its own first records", length));
  if (length > file.size())
    return Result<std::size_t>::failure(fmt::format(
        "signature header claims {} bytes but the file has only {}", length, file.size()));
  return length;
}

Result<std::size_t> find_payload(std::span<const std::byte> file,
                                  std::span<const std::byte> magic, std::size_t scan_limit) {
  if (const auto header = signature_header_length(file)) return *header;
  const auto at = search(file, magic, scan_limit);
  if (at < file.size()) return at;
  return Result<std::size_t>::failure(fmt::format(
      "no readable signature header and no payload magic in the first {} bytes", scan_limit));
}

Result<std::size_t> find_gzip_payload(std::span<const std::byte> file, std::size_t scan_limit) {
  static constexpr std::byte kGzip[] = {std::byte{0x1f}, std::byte{0x8b}, std::byte{0x08}};
  const auto at = search(file, kGzip, scan_limit);
  if (at < file.size()) return at;
  return Result<std::size_t>::failure(
      fmt::format("no gzip stream (1F 8B 08) in the first {} bytes", scan_limit));
}

}  // namespace cf::firmware

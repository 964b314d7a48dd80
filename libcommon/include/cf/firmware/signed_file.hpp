#pragma once
// Cisco's signed-file header (reference cisco-79xx.md 1.3, tests/fixtures/README.md):
// TLV records, tag 1 = header version, tag 2 = total header length H; the payload
// (CNU archive, .loads text, gzip stream) starts at byte H.
#include <cstddef>
#include <span>
#include <string_view>

#include "cf/cli/result.hpp"

namespace cf::firmware {

inline constexpr std::string_view kCnuMagic = "CNU_File_Archive_3.0";

// H from the tag 1 / tag 2 records at offsets 0 and 5, checked to fit the file.
Result<std::size_t> signature_header_length(std::span<const std::byte> file);

// Where the payload starts: H if the TLV header is readable, else the first
// occurrence of `magic` within the first `scan_limit` bytes (ref 1.3: kbdfck
// scans the first 500 bytes for CNU_; ref 1.5: 1F 8B 08 for gzip'd packages).
Result<std::size_t> find_payload(std::span<const std::byte> file,
                                 std::span<const std::byte> magic,
                                 std::size_t scan_limit = 4096);

// Offset of the first `1F 8B 08` (gzip, deflate) in the first `scan_limit` bytes.
Result<std::size_t> find_gzip_payload(std::span<const std::byte> file,
                                      std::size_t scan_limit = 65536);

// Helpers for callers holding text or char buffers.
inline std::span<const std::byte> as_bytes(std::string_view text) {
  return {reinterpret_cast<const std::byte*>(text.data()), text.size()};
}

}  // namespace cf::firmware

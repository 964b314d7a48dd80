#pragma once
// Structural check of a CNU_File_Archive_3.0 (the .sbn of 79x1/79x2/79x5/797x),
// reference cisco-79xx.md 1.3 and tests/fixtures/README.md "CNU archive": a
// 0x248-byte big-endian header, a 20-byte-per-record file table, NUL-terminated
// names, then the files' bytes in table order. Offsets count from the magic.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "cf/cli/result.hpp"

namespace cf::firmware {

struct CnuEntry {
  std::uint32_t type = 0;   // 7 = named file, 6 = raw blob (no name)
  std::uint32_t flags = 0;
  std::uint32_t size = 0;
  std::uint32_t mtime = 0;
  std::optional<std::string> name;  // nullopt when name_offset is 0
};

struct CnuArchive {
  std::uint32_t count = 0;
  std::uint32_t content_offset = 0;
  std::vector<CnuEntry> entries;
  std::uint64_t end = 0;  // content_offset + sum of sizes: where the archive ends
};

inline constexpr std::size_t kCnuHeaderSize = 0x248;
inline constexpr std::size_t kCnuRecordSize = 20;
inline constexpr std::uint32_t kCnuMaxFiles = 4096;

// `archive` starts at the magic. Fails if anything the header or the table
// promises lies outside the span.
Result<CnuArchive> parse_cnu_archive(std::span<const std::byte> archive);

// What a signed component image (.sbn/.SBN) holds after its signature header.
enum class SbnKind { cnu, opaque };
struct SbnCheck {
  SbnKind kind = SbnKind::opaque;
  std::size_t header_length = 0;
  std::optional<CnuArchive> cnu;  // set for SbnKind::cnu
};

// A whole .sbn file: a signature header (or, failing that, the CNU magic found
// by scanning), then either a CNU archive, checked as above, or (7940/7960
// loader images, ref 1.3 "opaque blobs") a non-empty payload.
Result<SbnCheck> check_sbn(std::span<const std::byte> file);

}  // namespace cf::firmware

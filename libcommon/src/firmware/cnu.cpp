#include "cf/firmware/cnu.hpp"

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

#include "cf/firmware/signed_file.hpp"

namespace cf::firmware {
namespace {

std::uint32_t u32be(std::span<const std::byte> bytes, std::size_t at) {
  std::uint32_t value = 0;
  for (std::size_t i = 0; i < 4; ++i) value = (value << 8) | std::to_integer<std::uint32_t>(bytes[at + i]);
  return value;
}

bool has_magic_at(std::span<const std::byte> bytes, std::size_t at) {
  if (at > bytes.size() || bytes.size() - at < kCnuMagic.size()) return false;
  return std::memcmp(bytes.data() + at, kCnuMagic.data(), kCnuMagic.size()) == 0;
}

Result<CnuArchive> fail(std::string reason) { return Result<CnuArchive>::failure(std::move(reason)); }

}  // namespace

Result<CnuArchive> parse_cnu_archive(std::span<const std::byte> archive) {
  if (!has_magic_at(archive, 0)) return fail("no CNU_File_Archive_3.0 magic");
  if (archive.size() < kCnuHeaderSize)
    return fail(fmt::format("CNU header needs {} bytes, only {} present", kCnuHeaderSize, archive.size()));
  if (!has_magic_at(archive, 0x38)) return fail("the second copy of the CNU magic (at 0x38) is missing");
  CnuArchive out;
  out.count = u32be(archive, 0x30);
  out.content_offset = u32be(archive, 0x34);
  const std::uint64_t size = archive.size();
  if (out.count == 0) return fail("CNU file table is empty");
  if (out.count > kCnuMaxFiles)
    return fail(fmt::format("CNU file count {} is more than {}", out.count, kCnuMaxFiles));
  const std::uint64_t table_end = kCnuHeaderSize + std::uint64_t{out.count} * kCnuRecordSize;
  if (table_end > size)
    return fail(fmt::format("CNU file table of {} records ends at {}, past the end ({})", out.count,
                            table_end, size));
  if (out.content_offset < table_end || out.content_offset > size)
    return fail(fmt::format("CNU content offset {} is outside {}..{}", out.content_offset, table_end, size));
  std::uint64_t sum = 0;
  out.entries.reserve(out.count);
  for (std::uint32_t i = 0; i < out.count; ++i) {
    const std::size_t at = kCnuHeaderSize + std::size_t{i} * kCnuRecordSize;
    CnuEntry entry{u32be(archive, at), u32be(archive, at + 4), u32be(archive, at + 8),
                   u32be(archive, at + 12), std::nullopt};
    const std::uint32_t name_offset = u32be(archive, at + 16);
    if (name_offset != 0) {
      if (name_offset < table_end || name_offset >= out.content_offset)
        return fail(fmt::format("CNU record {}: name offset {} is outside the name block {}..{}", i,
                                name_offset, table_end, out.content_offset));
      const auto* begin = reinterpret_cast<const char*>(archive.data()) + name_offset;
      const auto* limit = reinterpret_cast<const char*>(archive.data()) + out.content_offset;
      const auto* nul = std::find(begin, limit, '\0');
      if (nul == limit) return fail(fmt::format("CNU record {}: name is not NUL-terminated", i));
      entry.name = std::string(begin, nul);
    }
    sum += entry.size;
    out.entries.push_back(std::move(entry));
  }
  out.end = std::uint64_t{out.content_offset} + sum;
  if (out.end > size)
    return fail(fmt::format("CNU file table promises {} bytes of content ending at {}, but the archive "
                            "has only {} ({} bytes missing)",
                            sum, out.end, size, out.end - size));
  return out;
}

Result<SbnCheck> check_sbn(std::span<const std::byte> file) {
  const auto payload = find_payload(file, as_bytes(kCnuMagic), 4096);
  if (!payload) return Result<SbnCheck>::failure(payload.error());
  SbnCheck check;
  check.header_length = *payload;
  const auto rest = file.subspan(*payload);
  if (rest.size() >= 4 && std::memcmp(rest.data(), "CNU_", 4) == 0) {
    auto cnu = parse_cnu_archive(rest);
    if (!cnu) return Result<SbnCheck>::failure(cnu.error());
    check.kind = SbnKind::cnu;
    check.cnu = std::move(cnu).value();
    return check;
  }
  if (rest.empty()) return Result<SbnCheck>::failure("nothing follows the signature header");
  return check;
}

}  // namespace cf::firmware

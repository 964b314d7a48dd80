#pragma once
// Reading a file's blocks from disk for a transfer: whole octet blocks with
// pread, and netascii conversion (RFC 764) done block by block. Used where
// the file cache does not hold the file (netascii, large or fresh files).
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "cf/tftp/packet.hpp"
#include "cf/tftp/resolver.hpp"
#include "cf/tftp/transfer.hpp"

namespace cf::tftp {

// `length` bytes at `offset`, or false if the file ends first.
bool read_fully(int fd, std::byte* out, std::size_t length, std::uint64_t offset);

// Fills out[0..blksize) with the next netascii bytes (LF -> CR LF, CR -> CR
// NUL) of the first `size` bytes of the file; returns how many, or nullopt if
// the file ends before `size` (it was truncated while being sent). `source`
// is where the file resumes, `pending` a byte of a pair split across blocks
// (-1: none), `staging` a buffer of at least one byte. Bounded work per
// block: the converted size is never computed up front (issue 13 item 2).
std::optional<std::size_t> convert_netascii(int fd, std::uint64_t size, std::uint64_t& source,
                                            int& pending, std::vector<std::byte>& staging,
                                            std::byte* out, std::size_t blksize);

// The blocks of one download: from the file cache's copy when it holds this
// version, else read per block (octet) or converted block by block
// (netascii, window 1 only: the next block or a resend of the last one).
class BlockSource {
 public:
  BlockSource() = default;
  BlockSource(OpenedFile file, Mode mode, std::shared_ptr<const std::vector<std::byte>> cached,
              std::uint32_t blksize);

  // Block n's bytes, valid until the next call; nullopt if the file became
  // shorter than it was at the request. For netascii, the short block ends
  // the stream in `read` (its length is known only then).
  std::optional<std::span<const std::byte>> block(ReadTransfer& read, std::uint64_t n);
  const OpenedFile& file() const noexcept { return file_; }

 private:
  OpenedFile file_;
  Mode mode_ = Mode::octet;
  std::shared_ptr<const std::vector<std::byte>> cached_;
  std::vector<std::byte> buffer_;   // one block read or converted
  std::vector<std::byte> staging_;  // netascii: raw bytes before conversion
  std::uint64_t ascii_block_ = 0;   // netascii: the block held in buffer_
  std::size_t ascii_length_ = 0;
  std::uint64_t ascii_source_ = 0;  // netascii: where the file resumes
  int ascii_pending_ = -1;
};

}  // namespace cf::tftp

#pragma once
// Reading a file's blocks from disk for a transfer: whole octet blocks with
// pread, and netascii conversion (RFC 764) done block by block. Used where
// the file cache does not hold the file (netascii, large or fresh files).
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

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

}  // namespace cf::tftp

#include "cf/tftp/file_blocks.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <utility>

namespace cf::tftp {

bool read_fully(int fd, std::byte* out, std::size_t length, std::uint64_t offset) {
  std::size_t done = 0;
  while (done < length) {
    const auto n = ::pread(fd, out + done, length - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<std::size_t>(n);
  }
  return true;
}

std::optional<std::size_t> convert_netascii(int fd, std::uint64_t size, std::uint64_t& source,
                                            int& pending, std::vector<std::byte>& staging,
                                            std::byte* out, std::size_t blksize) {
  std::size_t length = 0;
  if (pending >= 0) {
    out[length++] = static_cast<std::byte>(pending);
    pending = -1;
  }
  while (length < blksize && source < size) {
    const auto want = std::min<std::uint64_t>({staging.size(), blksize - length, size - source});
    const auto n = ::pread(fd, staging.data(), static_cast<std::size_t>(want),
                           static_cast<off_t>(source));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return std::nullopt;
    std::size_t used = 0;
    for (; used < static_cast<std::size_t>(n) && length < blksize; ++used) {
      const auto c = staging[used];
      if (c == std::byte{'\n'} || c == std::byte{'\r'}) {
        out[length++] = std::byte{'\r'};
        const auto second = c == std::byte{'\n'} ? std::byte{'\n'} : std::byte{0};
        if (length < blksize)
          out[length++] = second;
        else
          pending = std::to_integer<int>(second);
      } else {
        out[length++] = c;
      }
    }
    source += used;
  }
  return length;
}

BlockSource::BlockSource(OpenedFile file, Mode mode,
                         std::shared_ptr<const std::vector<std::byte>> cached,
                         std::uint32_t blksize)
    : file_(std::move(file)), mode_(mode), cached_(std::move(cached)) {
  if (!cached_ || mode_ == Mode::netascii) buffer_.resize(blksize);
  if (mode_ == Mode::netascii) staging_.resize(blksize);
}

std::optional<std::span<const std::byte>> BlockSource::block(ReadTransfer& read, std::uint64_t n) {
  const auto blksize = read.settings.blksize;
  if (mode_ == Mode::netascii) {
    if (n != ascii_block_) {
      const auto converted = convert_netascii(file_.fd.get(), file_.size, ascii_source_,
                                              ascii_pending_, staging_, buffer_.data(), blksize);
      if (!converted) return std::nullopt;
      ascii_length_ = *converted;
      ascii_block_ = n;
      if (ascii_length_ < blksize) read.end_stream(n, static_cast<std::uint32_t>(ascii_length_));
    }
    return std::span<const std::byte>(buffer_).first(ascii_length_);
  }
  const auto length = read.block_length(n);
  const auto offset = read.block_offset(n);
  if (cached_) return std::span<const std::byte>(*cached_).subspan(static_cast<std::size_t>(offset), length);
  if (!read_fully(file_.fd.get(), buffer_.data(), length, offset)) return std::nullopt;
  return std::span<const std::byte>(buffer_).first(length);
}

}  // namespace cf::tftp

#include "cf/net/fd.hpp"

#include <unistd.h>

namespace cf::net {

void UniqueFd::reset(int fd) noexcept {
  const int old = std::exchange(fd_, fd);
  // No retry on EINTR: Linux has released the descriptor either way, and a
  // retry could close one that another thread was just given (close(2) NOTES).
  if (old >= 0 && old != fd) ::close(old);
}

}  // namespace cf::net

#include "cf/tftp/resolver.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "cf/cli/error.hpp"

namespace cf::tftp {
namespace {

std::string join(const std::vector<std::string>& parts, std::size_t count) {
  std::string path;
  for (std::size_t i = 0; i < count && i < parts.size(); ++i) {
    if (i) path += '/';
    path += parts[i];
  }
  return path;
}

long openat2_syscall(int dirfd, const char* path, int flags) {
  open_how how{};
  how.flags = static_cast<std::uint64_t>(flags) | O_CLOEXEC;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
  return syscall(SYS_openat2, dirfd, path, &how, sizeof how);
}

}  // namespace

Result<std::vector<std::string>> split_request_name(std::string_view name) {
  std::vector<std::string> parts;
  std::string current;
  auto flush = [&]() -> bool {
    if (current == "..") return false;
    if (!current.empty() && current != ".") parts.push_back(current);
    current.clear();
    return true;
  };
  for (char c : name) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 32 || byte == 127)
      return Result<std::vector<std::string>>::failure("control character in file name");
    if (c == '/' || c == '\\') {
      if (!flush()) return Result<std::vector<std::string>>::failure("'..' in file name");
    } else {
      current.push_back(c);
    }
  }
  if (!flush()) return Result<std::vector<std::string>>::failure("'..' in file name");
  if (parts.empty()) return Result<std::vector<std::string>>::failure("empty file name");
  // No phone file starts with a dot; fwunpack's lock and staging folders and our
  // own upload temporaries do, and are never served.
  for (const auto& part : parts)
    if (part.front() == '.')
      return Result<std::vector<std::string>>::failure("hidden name (starting with '.')");
  return parts;
}

Resolver::Resolver(ResolverOptions options) : options_(std::move(options)) {
  if (options_.roots.empty()) throw UsageError("no --root directory given");
  for (const auto& root : options_.roots) {
    const int fd = ::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) throw Error("cannot open root " + root + ": " + std::strerror(errno));
    root_fds_.emplace_back(fd);
  }
  openat2_missing_ = !options_.use_openat2;
}

Resolver::Step Resolver::open_beneath(int root_fd, const std::string& path, int flags,
                                      net::UniqueFd& out, std::string& reason) const {
  const long fd = openat2_syscall(root_fd, path.c_str(), flags);
  if (fd >= 0) {
    out.reset(static_cast<int>(fd));
    return Step::found;
  }
  const int error = errno;
  if (error == ENOSYS) {
    openat2_missing_ = true;
    return Step::missing;  // caller retries with the walk
  }
  if (error == ENOENT || error == ENOTDIR) return Step::missing;
  if (error == EMFILE || error == ENFILE) return Step::exhausted;
  reason = (error == EXDEV || error == ELOOP) ? "path leaves the root" : std::strerror(error);
  return Step::refused;
}

Resolver::Step Resolver::open_walk(int root_fd, const std::vector<std::string>& parts,
                                   int flags, net::UniqueFd& out, std::string& reason) const {
  net::UniqueFd dir;
  int at = root_fd;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const bool last = i + 1 == parts.size();
    const int f = last ? flags | O_NOFOLLOW | O_CLOEXEC
                       : O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
    const int fd = ::openat(at, parts[i].c_str(), f);
    if (fd < 0) {
      const int error = errno;
      struct stat st {};
      if (error == ENOTDIR && ::fstatat(at, parts[i].c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
          S_ISLNK(st.st_mode)) {
        reason = "symbolic links are not followed";
        return Step::refused;
      }
      if (error == ENOENT || error == ENOTDIR) return Step::missing;
      if (error == EMFILE || error == ENFILE) return Step::exhausted;
      reason = error == ELOOP ? "symbolic links are not followed" : std::strerror(error);
      return Step::refused;
    }
    if (last) {
      out.reset(fd);
      return Step::found;
    }
    dir.reset(fd);
    at = dir.get();
  }
  return Step::missing;
}

Resolver::Step Resolver::open_in_root(int root_fd, const std::vector<std::string>& parts,
                                      int flags, net::UniqueFd& out, std::string& reason) const {
  if (!openat2_missing_) {
    const auto step = open_beneath(root_fd, join(parts, parts.size()), flags, out, reason);
    if (!openat2_missing_) return step;
  }
  return open_walk(root_fd, parts, flags, out, reason);
}

// Finds, component by component, the entry each part names ignoring case,
// from the cached folded names of each directory (no directory read unless
// it changed). Every directory is itself opened beneath the root.
std::optional<std::vector<std::string>> Resolver::fold_case(
    int root_fd, const std::vector<std::string>& parts, std::string& reason,
    bool& refused) const {
  std::vector<std::string> found;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    net::UniqueFd dir;
    if (i > 0) {
      const auto step = open_in_root(root_fd, found, O_RDONLY | O_DIRECTORY, dir, reason);
      if (step == Step::refused || step == Step::exhausted) refused = true;
      if (step != Step::found) return std::nullopt;
    }
    const auto* names = folded_.names_of(i == 0 ? root_fd : dir.get());
    if (!names) return std::nullopt;
    auto match = names->find(parts[i]);
    if (!match) return std::nullopt;
    found.push_back(std::move(*match));
  }
  return found;
}

ResolveResult Resolver::open(std::string_view request_name) const {
  ResolveResult result;
  auto parts = split_request_name(request_name);
  if (!parts) {
    result.error = ResolveError::access_violation;
    result.reason = parts.error();
    return result;
  }
  // O_NONBLOCK: opening a fifo must not wait for a writer; it is refused below.
  const int flags = O_RDONLY | O_NONBLOCK | O_NOCTTY;
  for (std::size_t r = 0; r < root_fds_.size(); ++r) {
    const int root_fd = root_fds_[r].get();
    net::UniqueFd fd;
    std::string reason;
    auto names = parts.value();
    auto step = open_in_root(root_fd, names, flags, fd, reason);
    if (step == Step::missing && !options_.case_sensitive) {
      bool refused = false;
      if (auto folded = fold_case(root_fd, names, reason, refused)) {
        names = std::move(*folded);
        step = open_in_root(root_fd, names, flags, fd, reason);
      } else if (refused) {
        step = Step::refused;
      }
    }
    if (step == Step::exhausted) {
      result.error = ResolveError::out_of_descriptors;
      result.reason = "out of file descriptors";
      return result;
    }
    if (step == Step::refused) {
      result.error = ResolveError::access_violation;
      result.reason = reason;
      return result;
    }
    if (step == Step::missing) continue;
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
      result.error = ResolveError::access_violation;
      result.reason = "not a regular file";
      return result;
    }
    OpenedFile file;
    file.fd = std::move(fd);
    file.size = static_cast<std::uint64_t>(st.st_size);
    file.mtime_ns = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 +
                    st.st_mtim.tv_nsec;
    file.path = join(names, names.size());
    file.root_index = r;
    file.device = st.st_dev;
    file.inode = st.st_ino;
    result.file = std::move(file);
    return result;
  }
  result.error = ResolveError::not_found;
  result.reason = "no such file under any root";
  return result;
}

}  // namespace cf::tftp

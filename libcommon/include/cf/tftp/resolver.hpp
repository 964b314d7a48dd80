#pragma once
// Turns a requested file name into an open regular file under one of the TFTP
// roots, or the reason it may not be served. Nothing outside a root is ever
// opened: `..`, absolute paths and symlinks leading out are refused by the
// kernel (openat2 RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS); where openat2 is
// missing (ENOSYS) each component is opened with O_NOFOLLOW instead, which
// also refuses symlinks that stay inside the root.
//
// Request names: `\` is a separator like `/` (Windows-style clients); leading
// separators are relative to the root; empty and `.` components are dropped;
// a `..` component or a control character (0-31, 127) is refused outright.
// Case: the exact name first; failing that, each component is matched
// case-insensitively (phones ask for Jar41sip... when the file is jar41sip...),
// exact entries winning over case-folded ones; `case_sensitive` turns this off.
// The folded names of each directory are cached and read again only when the
// directory changes, so a miss costs a lookup, not a directory scan.
#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cf/cli/result.hpp"
#include "cf/net/fd.hpp"
#include "cf/tftp/name_index.hpp"

namespace cf::tftp {

struct ResolverOptions {
  std::vector<std::string> roots;  // searched in order
  bool case_sensitive = false;
  bool use_openat2 = true;  // false: the O_NOFOLLOW walk (tests exercise both)
};

enum class ResolveError { not_found, access_violation, out_of_descriptors };

// Which version of a file was served: what --events reports so a migration
// can prove a phone fetched a file written after a given moment.
struct FileIdentity {
  std::uint64_t size = 0;     // bytes at open
  std::int64_t mtime_ns = 0;  // st_mtim at open, nanoseconds since the epoch
  std::uint64_t inode = 0;
};

struct OpenedFile {
  net::UniqueFd fd;  // O_RDONLY, read with pread for the whole transfer
  std::uint64_t size = 0;
  std::int64_t mtime_ns = 0;
  std::string path;  // as found on disk, relative to its root
  std::size_t root_index = 0;
  dev_t device = 0;
  ino_t inode = 0;
  FileIdentity identity() const noexcept {
    return {size, mtime_ns, static_cast<std::uint64_t>(inode)};
  }
};

struct ResolveResult {
  std::optional<OpenedFile> file;
  ResolveError error = ResolveError::not_found;
  std::string reason;
};

// The components of a request name after the rules above, or why it is refused.
Result<std::vector<std::string>> split_request_name(std::string_view name);

class Resolver {
 public:
  // Opens every root (throws cf::Error if one is not a readable directory).
  explicit Resolver(ResolverOptions options);

  ResolveResult open(std::string_view request_name) const;
  // Directory reads for case-insensitive lookups so far (tests, statistics).
  std::uint64_t directory_scans() const noexcept { return folded_.scans(); }
  const std::vector<std::string>& roots() const noexcept { return options_.roots; }

 private:
  enum class Step { found, missing, refused, exhausted };
  Step open_beneath(int root_fd, const std::string& path, int flags, net::UniqueFd& out,
                    std::string& reason) const;
  Step open_walk(int root_fd, const std::vector<std::string>& parts, int flags,
                 net::UniqueFd& out, std::string& reason) const;
  Step open_in_root(int root_fd, const std::vector<std::string>& parts, int flags,
                    net::UniqueFd& out, std::string& reason) const;
  std::optional<std::vector<std::string>> fold_case(int root_fd,
                                                    const std::vector<std::string>& parts,
                                                    std::string& reason, bool& refused) const;

  ResolverOptions options_;
  std::vector<net::UniqueFd> root_fds_;
  mutable bool openat2_missing_ = false;
  mutable FoldedNameCache folded_;
};

}  // namespace cf::tftp

#include "cf/config/output.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <ostream>
#include <system_error>

#include <fmt/format.h>

#include "cf/cli/error.hpp"

namespace cf::config {
namespace {

namespace fs = std::filesystem;

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { reset(); }
  int get() const noexcept { return fd_; }
  int release_close() {
    const int rc = ::close(fd_);
    fd_ = -1;
    return rc;
  }
  void reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_;
};

// Names the file the user asked for, never a temporary name.
[[noreturn]] void fail(const fs::path& path, const char* what) {
  throw Error(fmt::format("{} {}: {}", what, path.string(), std::strerror(errno)));
}

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < text.size()) {
    const auto end = text.find('\n', start);
    if (end == std::string::npos) {
      lines.push_back(text.substr(start) + "\n\\ No newline at end of file");
      break;
    }
    lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

std::string read_file(const fs::path& path, bool& exists) {
  std::ifstream in(path, std::ios::binary);
  exists = static_cast<bool>(in);
  if (!exists) return {};
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace

namespace {

// A file written to a temporary name beside its target, fsynced, waiting for its
// rename. The destructor removes the temporary file unless it was committed.
class StagedFile {
 public:
  StagedFile(const fs::path& target, const std::string& content, unsigned mode) : target_(target) {
    temp_ = (directory() / ("." + target.filename().string() + ".XXXXXX")).string();
    Fd fd(::mkstemp(temp_.data()));
    if (fd.get() < 0) {
      temp_.clear();
      fail(target_, "cannot write");
    }
    // A throwing constructor runs no destructor: remove the temporary file here.
    const auto discard_and_fail = [&](const char* what) {
      const int saved = errno;
      ::unlink(temp_.c_str());
      errno = saved;
      fail(target_, what);
    };
    if (::fchmod(fd.get(), static_cast<mode_t>(mode)) != 0) discard_and_fail("cannot set the mode of");
    std::size_t done = 0;
    while (done < content.size()) {
      const auto n = ::write(fd.get(), content.data() + done, content.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) discard_and_fail("cannot write");
      done += static_cast<std::size_t>(n);
    }
    if (::fsync(fd.get()) != 0) discard_and_fail("cannot write (fsync)");
    if (fd.release_close() != 0) discard_and_fail("cannot write (close)");
  }
  StagedFile(const StagedFile&) = delete;
  StagedFile& operator=(const StagedFile&) = delete;
  StagedFile(StagedFile&& other) noexcept : target_(std::move(other.target_)), temp_(std::move(other.temp_)) {
    other.temp_.clear();
  }
  StagedFile& operator=(StagedFile&&) = delete;
  ~StagedFile() {
    if (!temp_.empty()) ::unlink(temp_.c_str());
  }

  // What would make the rename fail, checked before any file is replaced.
  void check_target() const {
    struct stat st {};
    if (::lstat(target_.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
      errno = EISDIR;
      fail(target_, "cannot replace");
    }
  }
  void commit() {
    if (::rename(temp_.c_str(), target_.c_str()) != 0) fail(target_, "cannot replace");
    temp_.clear();
  }
  fs::path directory() const {
    return target_.has_parent_path() ? target_.parent_path() : fs::path(".");
  }

 private:
  fs::path target_;
  std::string temp_;
};

void sync_directory(const fs::path& dir) {
  Fd dirfd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dirfd.get() < 0 || ::fsync(dirfd.get()) != 0) fail(dir, "fsync of the directory");
}

// Every file staged first; only when all are written and every target can be
// replaced are they renamed, so a failure leaves every target as it was.
void write_all_or_nothing(const std::vector<std::pair<fs::path, const GeneratedFile*>>& targets) {
  std::vector<StagedFile> staged;
  staged.reserve(targets.size());
  for (const auto& [path, file] : targets) staged.emplace_back(path, file->content, file->mode);
  for (const auto& file : staged) file.check_target();
  std::vector<fs::path> dirs;
  for (auto& file : staged) {
    file.commit();
    if (std::find(dirs.begin(), dirs.end(), file.directory()) == dirs.end()) dirs.push_back(file.directory());
  }
  for (const auto& dir : dirs) sync_directory(dir);
}

}  // namespace

void write_atomically(const fs::path& path, const std::string& content, unsigned mode) {
  const GeneratedFile file{path.filename().string(), content, mode};
  write_all_or_nothing({{path, &file}});
}

std::string unified_diff(const std::string& before, const std::string& after,
                         const std::string& old_label, const std::string& new_label) {
  if (before == after) return {};
  const auto a = split_lines(before);
  const auto b = split_lines(after);
  // Longest common subsequence over lines; config files are small. Past the bound,
  // fall back to replacing everything (still a correct diff, just not a minimal one).
  const std::size_t n = a.size(), m = b.size();
  std::vector<std::pair<char, std::string>> ops;  // ' ', '-', '+'
  if (n * m <= 4'000'000) {
    std::vector<std::vector<unsigned>> lcs(n + 1, std::vector<unsigned>(m + 1, 0));
    for (std::size_t i = n; i-- > 0;)
      for (std::size_t j = m; j-- > 0;)
        lcs[i][j] = a[i] == b[j] ? lcs[i + 1][j + 1] + 1 : std::max(lcs[i + 1][j], lcs[i][j + 1]);
    std::size_t i = 0, j = 0;
    while (i < n || j < m) {
      if (i < n && j < m && a[i] == b[j]) {
        ops.emplace_back(' ', a[i++]);
        ++j;
      } else if (i < n && (j == m || lcs[i + 1][j] >= lcs[i][j + 1])) {
        ops.emplace_back('-', a[i++]);  // deletions first, as diff -u prints them
      } else {
        ops.emplace_back('+', b[j++]);
      }
    }
  } else {
    for (const auto& line : a) ops.emplace_back('-', line);
    for (const auto& line : b) ops.emplace_back('+', line);
  }
  constexpr std::size_t kContext = 3;
  std::string out = fmt::format("--- {}\n+++ {}\n", old_label, new_label);
  std::size_t k = 0;
  while (k < ops.size()) {
    if (ops[k].first == ' ') {
      ++k;
      continue;
    }
    // A hunk: from kContext lines before this change to kContext after the last
    // change that is within 2*kContext of the previous one.
    std::size_t start = k >= kContext ? k - kContext : 0;
    std::size_t end = k;
    while (true) {
      while (end < ops.size() && ops[end].first != ' ') ++end;
      std::size_t next = end;
      while (next < ops.size() && ops[next].first == ' ' && next - end < 2 * kContext) ++next;
      if (next < ops.size() && ops[next].first != ' ') {
        end = next;
        continue;
      }
      break;
    }
    const std::size_t stop = std::min(ops.size(), end + kContext);
    // Line numbers of the hunk in a and b.
    std::size_t a_line = 1, b_line = 1;
    for (std::size_t x = 0; x < start; ++x) {
      if (ops[x].first != '+') ++a_line;
      if (ops[x].first != '-') ++b_line;
    }
    std::size_t a_count = 0, b_count = 0;
    std::string body;
    for (std::size_t x = start; x < stop; ++x) {
      if (ops[x].first != '+') ++a_count;
      if (ops[x].first != '-') ++b_count;
      body += ops[x].first;
      body += ops[x].second;
      body += '\n';
    }
    out += fmt::format("@@ -{},{} +{},{} @@\n", a_count ? a_line : a_line - 1, a_count,
                       b_count ? b_line : b_line - 1, b_count);
    out += body;
    k = stop;
  }
  return out;
}

std::size_t emit_files(const std::vector<GeneratedFile>& files, const std::string& output,
                       bool check, std::ostream& out) {
  if (output == "-") {
    if (files.size() != 1) {
      std::vector<std::string> names;
      for (const auto& f : files) names.push_back(f.name);
      throw UsageError(fmt::format("-o - writes one file to stdout, but this writes {} ({}); "
                                   "give a directory",
                                   files.size(), fmt::join(names, ", ")));
    }
    if (check) throw UsageError("--check compares files on disk; it needs -o DIR, not -o -");
    out << files.front().content;
    out.flush();
    if (!out) throw Error("stdout: write error");
    return 0;
  }
  std::error_code ec;
  const fs::path target(output);
  const bool is_dir = fs::is_directory(target, ec);
  if (!is_dir && files.size() != 1)
    throw UsageError(fmt::format("-o {}: not a directory (this writes {} files)", output,
                                 files.size()));
  std::size_t differ = 0;
  std::vector<std::pair<fs::path, const GeneratedFile*>> targets;
  for (const auto& file : files) {
    const fs::path path = is_dir ? target / file.name : target;
    if (check) {
      bool exists = false;
      const auto current = read_file(path, exists);
      if (!exists || current != file.content) {
        ++differ;
        out << unified_diff(current, file.content, exists ? path.string() : "/dev/null",
                            path.string() + " (cnfgen)");
      }
    } else {
      targets.emplace_back(path, &file);
    }
  }
  if (!check) write_all_or_nothing(targets);
  return differ;
}

}  // namespace cf::config

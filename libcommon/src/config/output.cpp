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

[[noreturn]] void fail(const fs::path& path, const char* what) {
  throw Error(fmt::format("{}: {}: {}", path.string(), what, std::strerror(errno)));
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

void write_atomically(const fs::path& path, const std::string& content, unsigned mode) {
  const fs::path dir = path.has_parent_path() ? path.parent_path() : fs::path(".");
  std::string temp = (dir / ("." + path.filename().string() + ".XXXXXX")).string();
  Fd fd(::mkstemp(temp.data()));
  if (fd.get() < 0) fail(temp, "cannot create a temporary file");
  const auto cleanup_and_fail = [&](const char* what) {
    const int saved = errno;
    ::unlink(temp.c_str());
    errno = saved;
    fail(temp, what);
  };
  if (::fchmod(fd.get(), static_cast<mode_t>(mode)) != 0) cleanup_and_fail("chmod");
  std::size_t done = 0;
  while (done < content.size()) {
    const auto n = ::write(fd.get(), content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) cleanup_and_fail("write");
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd.get()) != 0) cleanup_and_fail("fsync");
  if (fd.release_close() != 0) cleanup_and_fail("close");
  if (::rename(temp.c_str(), path.c_str()) != 0) cleanup_and_fail("rename");
  Fd dirfd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dirfd.get() < 0 || ::fsync(dirfd.get()) != 0) fail(dir, "fsync of the directory");
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
      write_atomically(path, file.content, file.mode);
    }
  }
  return differ;
}

}  // namespace cf::config

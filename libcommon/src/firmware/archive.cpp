#include "cf/firmware/archive.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <optional>
#include <system_error>

#include <archive.h>
#include <archive_entry.h>
#include <fmt/format.h>

#include "cf/cli/error.hpp"
#include "cf/cli/text.hpp"
#include "cf/firmware/loads_file.hpp"
#include "cf/firmware/root_lock.hpp"
#include "cf/firmware/signed_file.hpp"

namespace cf::firmware {
namespace fs = std::filesystem;
namespace {

// Read and write in large blocks: fewer system calls, and libarchive hands out
// its own blocks (archive_read_data_block), so entry bytes are never copied twice.
constexpr std::size_t kBlock = 256 * 1024;
constexpr std::size_t kSniff = 4096;

class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() { reset(); }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const noexcept { return fd_; }
  void reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_;
};

std::string errno_text(int error) { return std::generic_category().message(error); }

void write_all(int fd, const char* data, std::size_t size, const fs::path& path) {
  while (size > 0) {
    const auto n = ::write(fd, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw Error(fmt::format("{}: {}", path.string(), errno_text(n < 0 ? errno : ENOSPC)));
    data += n;
    size -= static_cast<std::size_t>(n);
  }
}

// Reads exactly `size` bytes at `offset` (fewer only at the end of the file).
std::size_t pread_full(int fd, char* data, std::size_t size, std::uint64_t offset, const fs::path& path) {
  std::size_t done = 0;
  while (done < size) {
    const auto n = ::pread(fd, data + done, size - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw Error(fmt::format("{}: {}", path.string(), errno_text(errno)));
    if (n == 0) break;
    done += static_cast<std::size_t>(n);
  }
  return done;
}

// Where one entry's bytes go. The same firmware file comes in many archives (an
// apps41 image is in the SCCP41, the SIP41 and a bundle zip): when a file of the
// same name and size is staged already, the entry is compared with it block by
// block instead of written again; only at the first differing byte does it get
// a staging file of its own (the bytes so far copied from the twin). A written
// file's writeback is started when it is done, so the fsyncs before the renames
// find the data on disk already (see install()).
// An entry no load can use is only kept if its first bytes show an archive (to
// be read in turn); otherwise its bytes are counted and dropped, so a flood of
// junk entries costs no file creation.
class StagingSink {
 public:
  enum class Keep { always, if_archive };

  StagingSink(fs::path target, const StagedFile* twin, Keep keep = Keep::always)
      : target_(std::move(target)), undecided_(keep == Keep::if_archive) {
    head_.reserve(kSniff);
    if (undecided_) return;
    if (twin != nullptr) {
      twin_.reset(::open(twin->path.c_str(), O_RDONLY | O_CLOEXEC));
      if (twin_.get() >= 0) {
        twin_path_ = twin->path;
        twin_size_ = twin->size;
      }
    }
    if (twin_.get() < 0) open_target();
  }

  void append(const char* data, std::size_t size) {
    if (head_.size() < kSniff) {
      const auto take = std::min(size, kSniff - head_.size());
      const auto* bytes = reinterpret_cast<const std::byte*>(data);
      head_.insert(head_.end(), bytes, bytes + take);
      if (undecided_) {
        position_ += take;
        data += take;
        size -= take;
        if (head_.size() < kSniff) return;
        decide();
      }
    }
    if (twin_.get() >= 0 && !matches_twin(data, size)) diverge();
    if (out_.get() >= 0) write_all(out_.get(), data, size, target_);
    position_ += size;
  }

  // Appends `size` zero bytes (a hole in a sparse entry).
  void append_zeros(std::uint64_t size) {
    static const std::vector<char> zeros(kBlock);
    while (size > 0) {
      const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(size, zeros.size()));
      append(zeros.data(), n);
      size -= n;
    }
  }

  std::uint64_t size() const noexcept { return position_; }
  std::span<const std::byte> head() const noexcept { return head_; }
  // True if the bytes went to a file of their own (false: the twin holds them, or nobody).
  bool owns_file() const noexcept { return out_.get() >= 0 || written_; }

  // Closes the entry and says where its bytes are (empty: dropped). `durable`:
  // start writing the file back now (it will be installed; a nested archive will not).
  fs::path finish(bool durable) {
    if (undecided_) decide();
    if (dropped_) return {};
    if (twin_.get() >= 0 && position_ != twin_size_) diverge();
    if (twin_.get() >= 0) return twin_path_;
    // A hint only: install() fsyncs each file before it is renamed into place.
    if (durable) (void)::sync_file_range(out_.get(), 0, 0, SYNC_FILE_RANGE_WRITE);
    out_.reset();
    written_ = true;
    return target_;
  }

 private:
  void open_target() {
    out_.reset(::open(target_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
    if (out_.get() < 0) throw Error(fmt::format("{}: {}", target_.string(), errno_text(errno)));
  }

  // Keep::if_archive, once the head is known: an archive gets a file (the head
  // first), anything else is dropped.
  void decide() {
    undecided_ = false;
    if (sniff_container(head_) == ContainerKind::none) {
      dropped_ = true;
      return;
    }
    open_target();
    write_all(out_.get(), reinterpret_cast<const char*>(head_.data()), head_.size(), target_);
  }

  bool matches_twin(const char* data, std::size_t size) {
    if (position_ + size > twin_size_) return false;
    compare_.resize(std::min(size, kBlock));
    for (std::size_t done = 0; done < size;) {
      const auto n = std::min(size - done, compare_.size());
      if (pread_full(twin_.get(), compare_.data(), n, position_ + done, twin_path_) != n ||
          std::memcmp(compare_.data(), data + done, n) != 0)
        return false;
      done += n;
    }
    return true;
  }

  // The entry is not the twin after all: give it a file with the bytes so far.
  void diverge() {
    open_target();
    compare_.resize(kBlock);
    for (std::uint64_t done = 0; done < position_;) {
      const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(position_ - done, compare_.size()));
      const auto n = pread_full(twin_.get(), compare_.data(), want, done, twin_path_);
      if (n != want) throw Error(fmt::format("{}: changed while it was read", twin_path_.string()));
      write_all(out_.get(), compare_.data(), n, target_);
      done += n;
    }
    twin_.reset();
  }

  fs::path target_;
  Fd out_;
  Fd twin_;
  fs::path twin_path_;
  std::uint64_t twin_size_ = 0;
  std::uint64_t position_ = 0;
  bool undecided_ = false;
  bool dropped_ = false;
  bool written_ = false;
  std::vector<std::byte> head_;
  std::vector<char> compare_;
};

// Reads a file from `base` on: libarchive's read/seek/skip callbacks over a
// window of the file, so a signature header before the gzip is invisible.
struct Window {
  int fd = -1;
  std::int64_t base = 0;
  std::int64_t size = 0;  // bytes after base
  std::vector<char> buffer = std::vector<char>(kBlock);
  const std::function<void(std::uint64_t)>* progress = nullptr;

  std::int64_t position() const { return ::lseek(fd, 0, SEEK_CUR) - base; }
};

la_ssize_t window_read(archive* a, void* data, const void** out) {
  auto* w = static_cast<Window*>(data);
  ssize_t n;
  do n = ::read(w->fd, w->buffer.data(), w->buffer.size());
  while (n < 0 && errno == EINTR);
  if (n < 0) {
    archive_set_error(a, errno, "read: %s", std::strerror(errno));
    return -1;
  }
  *out = w->buffer.data();
  if (w->progress && *w->progress) (*w->progress)(static_cast<std::uint64_t>(w->position()));
  return n;
}

la_int64_t window_seek(archive*, void* data, la_int64_t offset, int whence) {
  auto* w = static_cast<Window*>(data);
  std::int64_t target = offset;
  if (whence == SEEK_CUR) target = w->position() + offset;
  if (whence == SEEK_END) target = w->size + offset;
  if (target < 0 || target > w->size) return ARCHIVE_FATAL;
  if (::lseek(w->fd, w->base + target, SEEK_SET) < 0) return ARCHIVE_FATAL;
  return target;
}

la_int64_t window_skip(archive*, void* data, la_int64_t request) {
  auto* w = static_cast<Window*>(data);
  const std::int64_t here = w->position();
  const std::int64_t to = std::min<std::int64_t>(here + request, w->size);
  if (::lseek(w->fd, w->base + to, SEEK_SET) < 0) return 0;
  return to - here;
}

struct ArchiveReader {
  archive* a = archive_read_new();
  ~ArchiveReader() { archive_read_free(a); }
};

bool starts_with(std::span<const std::byte> head, std::string_view magic, std::size_t at = 0) {
  return head.size() >= at + magic.size() &&
         std::memcmp(head.data() + at, magic.data(), magic.size()) == 0;
}

std::vector<std::byte> read_head(const fs::path& file, std::uint64_t offset = 0) {
  std::vector<std::byte> head(kSniff);
  Fd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) throw Error(fmt::format("{}: {}", file.string(), errno_text(errno)));
  const auto n = ::pread(fd.get(), head.data(), head.size(), static_cast<off_t>(offset));
  head.resize(n < 0 ? 0 : static_cast<std::size_t>(n));
  return head;
}

bool is_firmware_image_name(std::string_view name) {
  for (const std::string_view suffix : {".sbn", ".SBN", ".sb2", ".bin", ".loads", ".zz.sgn", ".TXT", ".txt"})
    if (name.ends_with(suffix)) return true;
  return false;
}

}  // namespace

std::string StagedFile::origin() const {
  std::string text = input;
  for (std::size_t i = 0; i < members.size(); ++i) text += (i == 0 ? ": " : " > ") + members[i];
  return text;
}

std::optional<std::string> name_problem(std::string_view name) {
  if (name.empty()) return "empty name";
  for (const char c : name)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return "control character in the name";
  if (name == "." || name == "..") return "'..' in the path";
  if (name.find_first_of("/\\") != std::string_view::npos) return "a '/' or '\\' in the name";
  return std::nullopt;
}

bool may_be_installed(std::string_view name) { return is_component_name(name) || name == "OS79XX.TXT"; }

Result<std::string> member_base_name(std::string_view member) {
  using R = Result<std::string>;
  if (member.empty()) return R::failure("empty name");
  if (member.front() == '/' || member.front() == '\\' ||
      (member.size() >= 2 && member[1] == ':' && std::isalpha(static_cast<unsigned char>(member[0]))))
    return R::failure("absolute path");
  for (const char c : member)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return R::failure("control character in the name");
  std::size_t start = 0;
  std::string_view base;
  while (start <= member.size()) {
    auto end = member.find_first_of("/\\", start);
    if (end == std::string_view::npos) end = member.size();
    const auto part = member.substr(start, end - start);
    if (part == "..") return R::failure("'..' in the path");
    base = part;
    start = end + 1;
  }
  if (base.empty() || base == ".") return R::failure("no file name after the last '/'");
  if (auto problem = name_problem(base)) return R::failure(*problem);
  return std::string(base);
}

ContainerKind sniff_container(std::span<const std::byte> head) {
  if (starts_with(head, "PK\x03\x04") || starts_with(head, "\x1f\x8b") || starts_with(head, "BZh") ||
      starts_with(head, "\xfd" "7zXZ") || starts_with(head, "7z\xbc\xaf\x27\x1c") ||
      starts_with(head, "\x28\xb5\x2f\xfd") || starts_with(head, "ustar", 257))
    return ContainerKind::archive;
  if (const auto h = signature_header_length(head); h && starts_with(head, "\x1f\x8b\x08", *h))
    return ContainerKind::signed_gzip;
  return ContainerKind::none;
}

struct Extractor::Context {
  std::string input;
};

Extractor::Extractor(fs::path staging, ExtractLimits limits, std::function<void(std::uint64_t)> progress)
    : staging_(std::move(staging)), limits_(limits), progress_(std::move(progress)) {}

fs::path Extractor::next_staging_path() { return staging_ / fmt::format("f{:06}", counter_++); }

void Extractor::add(const fs::path& input) {
  std::error_code ec;
  const auto status = fs::status(input, ec);
  if (ec) throw Error(fmt::format("{}: {}", input.string(), ec.message()));
  if (fs::is_directory(status)) return add_directory(input, input.string());
  if (!fs::is_regular_file(status)) throw Error(fmt::format("{}: not a file or directory", input.string()));
  Context context{input.string()};
  const auto head = read_head(input);
  std::uint64_t offset = 0;
  switch (sniff_container(head)) {
    case ContainerKind::archive: break;
    case ContainerKind::signed_gzip: offset = *signature_header_length(head); break;
    case ContainerKind::none: {
      // ref 1.5: a COP's signature header may not be the TLV one; the gzip magic marks the tar.
      const auto gz = find_gzip_payload(head, head.size());
      if (!gz)
        throw VerificationError(fmt::format(
            "{}: not a recognised archive (zip, tar, gzip, or a signature header before a gzip stream)",
            input.string()));
      offset = *gz;
    }
  }
  read_container(input, offset, context, {}, 0);
}

const StagedFile* Extractor::twin_of(const std::string& name, std::optional<std::uint64_t> size) const {
  if (!size) return nullptr;
  const auto it = twins_.find({name, *size});
  return it == twins_.end() ? nullptr : &files_[it->second];
}

void Extractor::keep(StagedFile file) {
  // Every input kind ends here: a name that could not land in a root never gets a StagedFile.
  if (auto problem = name_problem(file.name))
    throw VerificationError(fmt::format("{}: refused: {}", printable(file.origin()), *problem));
  if (!file.path.empty()) twins_[{file.name, file.size}] = files_.size();
  files_.push_back(std::move(file));
}

void Extractor::count_entry(const std::string& where) {
  if (++entries_ > limits_.max_entries)
    throw VerificationError(fmt::format("{}: refused: more than --max-entries ({}) entries in total", where,
                                        limits_.max_entries));
}

void Extractor::add_directory(const fs::path& dir, const std::string& input) {
  std::error_code ec;
  std::vector<fs::path> entries;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    // fwunpack's own lock and staging folders, when a root is read as an input.
    if (is_fwunpack_private_name(entry.path().filename().string())) continue;
    count_entry(fmt::format("{}: entry '{}'", input, printable(entry.path().filename().string())));
    entries.push_back(entry.path());
  }
  if (ec) throw Error(fmt::format("{}: {}", dir.string(), ec.message()));
  std::sort(entries.begin(), entries.end());
  std::vector<char> buffer(kBlock);
  for (const auto& path : entries) {
    const auto name = path.filename().string();
    // O_NONBLOCK: a FIFO put here must not hang the run; it is skipped below like
    // any other file that is not regular (symbolic links are not followed).
    Fd in(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK));
    if (in.get() < 0 && errno == ELOOP) continue;
    if (in.get() < 0) throw Error(fmt::format("{}: {}", path.string(), errno_text(errno)));
    struct stat st {};
    if (::fstat(in.get(), &st) != 0) throw Error(fmt::format("{}: {}", path.string(), errno_text(errno)));
    if (!S_ISREG(st.st_mode)) continue;
    if (auto problem = name_problem(name))
      throw VerificationError(fmt::format("{}: entry '{}': refused: {}", input, printable(name), *problem));
    std::vector<std::byte> head(kSniff);
    const auto got = pread_full(in.get(), reinterpret_cast<char*>(head.data()), head.size(), 0, path);
    head.resize(got);
    // A folder of downloads holds archives: unpack those, copy loose load files.
    if (sniff_container(head) != ContainerKind::none) {
      add(path);
      continue;
    }
    const auto size = static_cast<std::uint64_t>(st.st_size);
    if (!may_be_installed(name)) {  // a readme: listed, never installed, so never copied
      keep(StagedFile{name, input, {name}, {}, size});
      continue;
    }
    StagingSink sink(next_staging_path(), twin_of(name, size));
    while (true) {
      const auto n = ::read(in.get(), buffer.data(), buffer.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) throw Error(fmt::format("{}: {}", path.string(), errno_text(errno)));
      if (n == 0) break;
      if (staged_bytes_ + sink.size() + static_cast<std::uint64_t>(n) > limits_.max_bytes)
        throw VerificationError(fmt::format("{}: more than --max-bytes ({}) in total", path.string(),
                                            limits_.max_bytes));
      sink.append(buffer.data(), static_cast<std::size_t>(n));
    }
    const auto read = sink.size();
    auto staged_path = sink.finish(true);
    staged_bytes_ += read;
    keep(StagedFile{name, input, {name}, std::move(staged_path), read});
  }
}

void Extractor::read_container(const fs::path& file, std::uint64_t offset, Context& context,
                               std::vector<std::string> members, int depth) {
  const auto where = [&](std::string_view member) {
    std::string text = context.input;
    for (std::size_t i = 0; i < members.size(); ++i) text += (i == 0 ? ": " : " > ") + members[i];
    if (!member.empty()) text += (members.empty() ? ": entry '" : " > entry '") + printable(member) + "'";
    return text;
  };
  if (depth > limits_.max_depth)
    throw VerificationError(fmt::format("{}: archives nested more than {} deep", where(""), limits_.max_depth));

  Fd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) throw Error(fmt::format("{}: {}", file.string(), errno_text(errno)));
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) throw Error(fmt::format("{}: {}", file.string(), errno_text(errno)));
  Window window;
  window.fd = fd.get();
  window.base = static_cast<std::int64_t>(offset);
  window.size = st.st_size - window.base;
  window.progress = depth == 0 ? &progress_ : nullptr;
  if (::lseek(fd.get(), window.base, SEEK_SET) < 0)
    throw Error(fmt::format("{}: {}", file.string(), errno_text(errno)));

  ArchiveReader reader;
  archive* a = reader.a;
  archive_read_support_filter_all(a);
  archive_read_support_format_zip(a);
  archive_read_support_format_tar(a);
  archive_read_support_format_gnutar(a);
  archive_read_support_format_cpio(a);
  archive_read_support_format_7zip(a);
  archive_read_set_read_callback(a, window_read);
  archive_read_set_seek_callback(a, window_seek);
  archive_read_set_skip_callback(a, window_skip);
  archive_read_set_callback_data(a, &window);
  if (archive_read_open1(a) != ARCHIVE_OK)
    throw VerificationError(fmt::format("{}: cannot be read as an archive: {}", where(""),
                                        archive_error_string(a) ? archive_error_string(a) : "unknown format"));

  const std::uint64_t container_size = static_cast<std::uint64_t>(std::max<std::int64_t>(window.size, 0));
  const std::uint64_t expansion_limit = std::max(limits_.max_ratio * container_size, limits_.ratio_floor);
  std::uint64_t expanded = 0;

  while (true) {
    archive_entry* entry = nullptr;
    const int r = archive_read_next_header(a, &entry);
    if (r == ARCHIVE_EOF) break;
    if (r < ARCHIVE_WARN)
      throw VerificationError(fmt::format("{}: broken archive (truncated or corrupt): {}", where(""),
                                          archive_error_string(a) ? archive_error_string(a) : "read error"));
    const char* raw_name = archive_entry_pathname(entry);
    const std::string member = raw_name ? raw_name : "";
    count_entry(where(member));
    const auto type = archive_entry_filetype(entry);
    if (type == AE_IFDIR) continue;
    if (type == AE_IFLNK) {
      const char* target = archive_entry_symlink(entry);
      throw VerificationError(fmt::format("{}: refused: symbolic link (-> {})", where(member),
                                          target ? printable(target) : "?"));
    }
    if (archive_entry_hardlink(entry) != nullptr)
      throw VerificationError(fmt::format("{}: refused: hard link (-> {})", where(member),
                                          printable(archive_entry_hardlink(entry))));
    if (type != AE_IFREG)
      throw VerificationError(
          fmt::format("{}: refused: not a regular file (device, fifo or socket)", where(member)));
    auto base = member_base_name(member);
    if (!base) throw VerificationError(fmt::format("{}: refused: {}", where(member), base.error()));
    if (archive_entry_size_is_set(entry)) {
      const auto declared = static_cast<std::uint64_t>(archive_entry_size(entry));
      if (staged_bytes_ + declared > limits_.max_bytes)
        throw VerificationError(fmt::format(
            "{}: refused: declares {} bytes, which would pass --max-bytes ({})", where(member), declared,
            limits_.max_bytes));
    }

    std::optional<std::uint64_t> declared;
    if (archive_entry_size_is_set(entry)) declared = static_cast<std::uint64_t>(archive_entry_size(entry));
    const bool installable = may_be_installed(*base);
    StagingSink sink(next_staging_path(), installable ? twin_of(*base, declared) : nullptr,
                     installable ? StagingSink::Keep::always : StagingSink::Keep::if_archive);
    // Holes count as the bytes they expand to (a sparse entry's trailing hole is
    // reported by no block: it runs to the declared size).
    const auto grow_to = [&](std::uint64_t at, std::size_t length) {
      const std::uint64_t hole = at - sink.size();
      const std::uint64_t grow = hole + length;
      expanded += grow;
      if (staged_bytes_ + sink.size() + grow > limits_.max_bytes)
        throw VerificationError(fmt::format("{}: refused: more than --max-bytes ({}) in total",
                                            where(member), limits_.max_bytes));
      if (expanded > expansion_limit)
        throw VerificationError(fmt::format(
            "{}: refused: expands past {} bytes from a {}-byte container (compression ratio above {}:1)",
            where(member), expansion_limit, container_size, limits_.max_ratio));
      if (hole > 0) sink.append_zeros(hole);
    };
    while (true) {
      const void* block = nullptr;
      std::size_t length = 0;
      la_int64_t at = 0;
      const int status = archive_read_data_block(a, &block, &length, &at);
      if (status == ARCHIVE_EOF) break;
      if (status < ARCHIVE_WARN || at < 0 || static_cast<std::uint64_t>(at) < sink.size())
        throw VerificationError(fmt::format("{}: broken archive (truncated or corrupt): {}", where(member),
                                            archive_error_string(a) ? archive_error_string(a) : "read error"));
      grow_to(static_cast<std::uint64_t>(at), length);
      sink.append(static_cast<const char*>(block), length);
    }
    if (declared && archive_entry_sparse_count(entry) > 0 && *declared > sink.size()) grow_to(*declared, 0);
    const std::uint64_t size = sink.size();
    if (declared && *declared != size)
      throw VerificationError(fmt::format("{}: refused: declares {} bytes but holds {}", where(member),
                                          *declared, size));
    staged_bytes_ += size;

    auto chain = members;
    chain.push_back(member);
    const auto kind = is_firmware_image_name(*base) ? ContainerKind::none : sniff_container(sink.head());
    const auto target = sink.finish(kind == ContainerKind::none);
    if (kind != ContainerKind::none) {
      const std::uint64_t inner_offset =
          kind == ContainerKind::signed_gzip ? *signature_header_length(sink.head()) : 0;
      read_container(target, inner_offset, context, chain, depth + 1);
      if (sink.owns_file()) {
        std::error_code ec;
        fs::remove(target, ec);
      }
      staged_bytes_ -= size;
      continue;
    }
    keep(StagedFile{std::move(base).value(), context.input, std::move(chain), target, size});
  }
}

}  // namespace cf::firmware

#include "cf/dhcp/lease.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <fstream>
#include <system_error>

#include <fmt/format.h>

#include "cf/cli/error.hpp"
#include "cf/cli/text.hpp"

namespace cf::dhcp {
namespace {

std::string errno_text(int error) { return std::system_category().message(error); }

// Printable ASCII stays; everything else (and a space where `escape_space`) is \xHH.
std::string escape(std::string_view text, bool escape_space) {
  if (text.empty()) return "-";
  if (text == "-") return "\\x2d";
  std::string out;
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7F || c == '\\' || (escape_space && c == ' '))
      out += fmt::format("\\x{:02x}", u);
    else
      out.push_back(c);
  }
  return out;
}

std::optional<std::string> unescape(std::string_view text) {
  if (text == "-") return std::string();
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\\') {
      out.push_back(text[i]);
      continue;
    }
    if (i + 3 >= text.size() || text[i + 1] != 'x') return std::nullopt;
    unsigned value = 0;
    const auto [end, error] = std::from_chars(text.data() + i + 2, text.data() + i + 4, value, 16);
    if (error != std::errc{} || end != text.data() + i + 4) return std::nullopt;
    out.push_back(static_cast<char>(value));
    i += 3;
  }
  return out;
}

void write_all(int fd, std::string_view data, const std::string& what) {
  while (!data.empty()) {
    const auto n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      throw Error(fmt::format("cannot write {}: {}", what, errno_text(errno)));
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
}

void fsync_or_throw(int fd, const std::string& what) {
  if (::fsync(fd) != 0) throw Error(fmt::format("cannot fsync {}: {}", what, errno_text(errno)));
}

}  // namespace

std::string format_lease_line(const Lease& lease) {
  return fmt::format("{} {} {} {} {}", lease.mac.to_string(), lease.address.to_string(), lease.expiry,
                     escape(lease.hostname, true), escape(lease.vendor_class, false));
}

Result<Lease> parse_lease_line(std::string_view line) {
  using R = Result<Lease>;
  std::string_view fields[4];
  for (auto& field : fields) {
    const auto space = line.find(' ');
    if (space == std::string_view::npos)
      return R::failure("want 'mac ip expiry hostname vendor-class' (5 fields)");
    field = line.substr(0, space);
    line.remove_prefix(space + 1);
  }
  Lease lease;
  const auto mac = MacAddress::parse(fields[0]);
  if (!mac) return R::failure(fmt::format("'{}' is not a MAC address", fields[0]));
  const auto address = net::Ipv4::parse(fields[1]);
  if (!address) return R::failure(fmt::format("'{}' is not an IPv4 address", fields[1]));
  const auto [end, error] =
      std::from_chars(fields[2].data(), fields[2].data() + fields[2].size(), lease.expiry);
  if (error != std::errc{} || end != fields[2].data() + fields[2].size() || lease.expiry < 0)
    return R::failure(fmt::format("'{}' is not an expiry time in Unix seconds", fields[2]));
  auto hostname = unescape(fields[3]);
  auto vendor = unescape(line);
  if (!hostname || !vendor || line.empty()) return R::failure("bad \\x escape or empty field");
  lease.mac = *mac;
  lease.address = *address;
  lease.hostname = std::move(*hostname);
  lease.vendor_class = std::move(*vendor);
  return lease;
}

// ---------------------------------------------------------------- LeaseTable

void LeaseTable::unindex(const Lease& lease) {
  by_address_.erase(lease.address);
  addresses_.erase(lease.address);
  by_expiry_.erase({lease.expiry, lease.address});
}

void LeaseTable::put(const Lease& lease) {
  if (lease.address.is_unspecified()) {  // a tombstone: the MAC is forgotten
    erase(lease.mac);
    return;
  }
  if (const auto it = by_address_.find(lease.address);
      it != by_address_.end() && it->second != lease.mac)
    erase(MacAddress(it->second));  // the address moved on to lease.mac
  if (const auto old = by_mac_.find(lease.mac); old != by_mac_.end()) unindex(old->second);
  by_mac_[lease.mac] = lease;
  by_address_[lease.address] = lease.mac;
  addresses_.insert(lease.address);
  by_expiry_.emplace(lease.expiry, lease.address);
}

void LeaseTable::erase(const MacAddress& mac) {
  if (const auto it = by_mac_.find(mac); it != by_mac_.end()) {
    unindex(it->second);
    by_mac_.erase(it);
  }
}

const Lease* LeaseTable::find(const MacAddress& mac) const {
  const auto it = by_mac_.find(mac);
  return it == by_mac_.end() ? nullptr : &it->second;
}

const Lease* LeaseTable::holder(net::Ipv4 address) const {
  const auto it = by_address_.find(address);
  return it == by_address_.end() ? nullptr : find(it->second);
}

// ---------------------------------------------------------------- LeaseStore

LeaseStore::LeaseStore(std::filesystem::path file) : file_(std::move(file)) {}

std::filesystem::path LeaseStore::journal_file() const {
  auto journal = file_;
  journal += ".journal";
  return journal;
}

LoadReport LeaseStore::load(LeaseTable& table) const {
  LoadReport report;
  for (const auto& path : {file_, journal_file()}) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      std::error_code ec;
      if (std::filesystem::exists(path, ec))
        throw Error(fmt::format("cannot read lease file {}", path.string()));
      continue;
    }
    std::string line;
    std::size_t number = 0;
    while (std::getline(in, line)) {
      ++number;
      if (line.empty() || line.front() == '#') continue;
      auto lease = parse_lease_line(line);
      if (!lease) {
        report.problems.push_back(fmt::format("{}:{}: {}; line skipped", path.string(), number,
                                              lease.error()));
        report.skipped.push_back(line);
        continue;
      }
      table.put(*lease);
      ++report.leases;
    }
    if (in.bad()) throw Error(fmt::format("cannot read lease file {}", path.string()));
  }
  return report;
}

std::filesystem::path LeaseStore::bad_file() const {
  auto bad = file_;
  bad += ".bad";
  return bad;
}

void LeaseStore::keep_skipped(const LoadReport& report) const {
  if (report.skipped.empty()) return;
  std::string text;
  for (std::size_t i = 0; i < report.skipped.size(); ++i) {
    const auto& why = i < report.problems.size() ? report.problems[i] : std::string("unreadable");
    text += "# " + printable(why, 512) + '\n' + report.skipped[i] + '\n';
  }
  const auto bad = bad_file();
  net::UniqueFd fd(::open(bad.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600));
  if (!fd) throw Error(fmt::format("cannot open {}: {}", bad.string(), errno_text(errno)));
  write_all(fd.get(), text, bad.string());
  fsync_or_throw(fd.get(), bad.string());
}

void LeaseStore::compact(const LeaseTable& table) {
  auto temp = file_;
  temp += ".tmp";
  std::string text = "# cisco-dhcpd leases: mac ip expiry hostname vendor-class\n";
  for (const auto& [mac, lease] : table.all()) text += format_lease_line(lease) + '\n';
  {
    net::UniqueFd fd(::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (!fd) throw Error(fmt::format("cannot create {}: {}", temp.string(), errno_text(errno)));
    write_all(fd.get(), text, temp.string());
    fsync_or_throw(fd.get(), temp.string());
  }
  if (::rename(temp.c_str(), file_.c_str()) != 0)
    throw Error(fmt::format("cannot rename {} to {}: {}", temp.string(), file_.string(),
                            errno_text(errno)));
  const auto dir = file_.has_parent_path() ? file_.parent_path() : std::filesystem::path(".");
  net::UniqueFd dir_fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir_fd) throw Error(fmt::format("cannot open directory {}: {}", dir.string(), errno_text(errno)));
  fsync_or_throw(dir_fd.get(), dir.string());
  // Only now that the snapshot holds everything may the journal be emptied;
  // a crash before this point replays the journal over the new snapshot,
  // which changes nothing because a later line wins.
  journal_.reset();
  const auto journal = journal_file();
  net::UniqueFd jfd(::open(journal.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (!jfd) throw Error(fmt::format("cannot truncate {}: {}", journal.string(), errno_text(errno)));
  fsync_or_throw(jfd.get(), journal.string());
  fsync_or_throw(dir_fd.get(), dir.string());
  journal_lines_ = 0;
}

void LeaseStore::open_journal() {
  if (journal_) return;
  const auto journal = journal_file();
  journal_.reset(::open(journal.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
  if (!journal_) throw Error(fmt::format("cannot open {}: {}", journal.string(), errno_text(errno)));
}

void LeaseStore::append(const Lease& lease) {
  pending_ += format_lease_line(lease);
  pending_ += '\n';
  ++pending_count_;
}

void LeaseStore::sync() {
  if (pending_.empty()) return;
  open_journal();
  const auto name = journal_file().string();
  const auto before = ::lseek(journal_.get(), 0, SEEK_END);
  try {
    write_all(journal_.get(), pending_, name);
    if (::fdatasync(journal_.get()) != 0)
      throw Error(fmt::format("cannot fdatasync {}: {}", name, errno_text(errno)));
  } catch (const Error&) {
    // Cut a half-written batch off, so the next batch does not continue a torn line.
    if (before >= 0 && ::ftruncate(journal_.get(), before) != 0) journal_.reset();
    throw;
  }
  journal_lines_ += pending_count_;
  pending_.clear();
  pending_count_ = 0;
}

}  // namespace cf::dhcp

#include "cf/firmware/completeness.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <system_error>

#include <fmt/format.h>

#include "cf/cli/error.hpp"
#include "cf/firmware/cnu.hpp"
#include "cf/firmware/loads_file.hpp"

namespace cf::firmware {
namespace fs = std::filesystem;

MappedFile::MappedFile(const fs::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw Error(fmt::format("{}: {}", path.string(), std::generic_category().message(errno)));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || st.st_size < 0) {
    const int error = errno;
    ::close(fd);
    throw Error(fmt::format("{}: {}", path.string(), std::generic_category().message(error)));
  }
  size_ = static_cast<std::size_t>(st.st_size);
  if (size_ > 0) {
    void* map = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (map == MAP_FAILED) {
      const int error = errno;
      ::close(fd);
      throw Error(fmt::format("{}: {}", path.string(), std::generic_category().message(error)));
    }
    data_ = static_cast<const std::byte*>(map);
  }
  ::close(fd);
}

MappedFile::~MappedFile() {
  if (data_ != nullptr) ::munmap(const_cast<std::byte*>(data_), size_);
}

std::optional<std::string> check_file(const fs::path& path, std::string_view name) {
  std::error_code ec;
  const auto status = fs::symlink_status(path, ec);
  if (ec || !fs::exists(status)) return "missing";
  if (!fs::is_regular_file(status)) return "not a regular file";
  if (fs::file_size(path, ec) == 0) return "empty";
  const bool sbn = name.ends_with(".sbn") || name.ends_with(".SBN");
  const bool loads = name.ends_with(".loads");
  if (!sbn && !loads) return std::nullopt;
  try {
    const MappedFile file(path);
    if (sbn) {
      if (const auto check = check_sbn(file.bytes()); !check) return "broken: " + check.error();
    } else if (const auto names = parse_loads_file(file.bytes()); !names) {
      return "broken: " + names.error();
    }
  } catch (const Error& error) {
    return std::string("unreadable: ") + error.what();
  }
  return std::nullopt;
}

LoadCheck check_load(const FileLookup& lookup, std::string_view load) {
  LoadCheck check;
  std::string loads_name(load);
  if (!loads_name.ends_with(".loads")) loads_name += ".loads";
  check.load = loads_name.substr(0, loads_name.size() - 6);
  check.files.push_back(loads_name);
  const auto loads_path = lookup(loads_name);
  if (!loads_path) {
    check.problems.push_back({loads_name, "missing"});
    return check;
  }
  if (auto problem = check_file(*loads_path, loads_name)) {
    check.problems.push_back({loads_name, *problem});
    return check;
  }
  std::error_code ec;
  check.bytes += fs::file_size(*loads_path, ec);
  const MappedFile file(*loads_path);
  const auto components = parse_loads_file(file.bytes());
  for (const auto& name : components.value()) {
    check.files.push_back(name);
    const auto path = lookup(name);
    if (!path) {
      check.problems.push_back({name, "missing"});
      continue;
    }
    if (auto problem = check_file(*path, name)) {
      check.problems.push_back({name, *problem});
      continue;
    }
    check.bytes += fs::file_size(*path, ec);
  }
  return check;
}

LoadCheck check_load(const fs::path& root, std::string_view load) {
  return check_load(
      [&root](std::string_view name) -> std::optional<fs::path> {
        if (name.find('/') != std::string_view::npos) return std::nullopt;
        auto path = root / std::string(name);
        std::error_code ec;
        if (!fs::exists(fs::symlink_status(path, ec))) return std::nullopt;
        return path;
      },
      load);
}

std::vector<LoadCheck> check_root(const fs::path& root) {
  std::error_code ec;
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(root, ec)) {
    const auto name = entry.path().filename().string();
    if (name.ends_with(".loads") && name.size() > 6) names.push_back(name);
  }
  if (ec) throw Error(fmt::format("{}: {}", root.string(), ec.message()));
  std::sort(names.begin(), names.end());
  std::vector<LoadCheck> out;
  for (const auto& name : names) out.push_back(check_load(root, name));
  return out;
}

}  // namespace cf::firmware

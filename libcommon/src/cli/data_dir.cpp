#include "cf/cli/data_dir.hpp"

#include <cstdlib>
#include <system_error>
#include <vector>

#include "cf/cli/error.hpp"

namespace cf {
namespace {

std::vector<std::filesystem::path> candidates() {
  std::vector<std::filesystem::path> dirs;
  if (const char* env = std::getenv("CISCOFLASH_DATA"); env != nullptr && *env != '\0')
    dirs.emplace_back(env);
  std::error_code ec;
  const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) dirs.push_back(exe.parent_path().parent_path() / "share" / "ciscoflash");
  dirs.emplace_back(CF_INSTALL_DATADIR);
  dirs.emplace_back(CF_SOURCE_DATADIR);
  return dirs;
}

}  // namespace

std::filesystem::path data_dir() {
  for (const auto& dir : candidates()) {
    std::error_code ec;
    if (std::filesystem::is_regular_file(dir / "models.tsv", ec)) return dir;
  }
  return candidates().front();
}

std::filesystem::path data_file(const std::filesystem::path& name) {
  std::string searched;
  for (const auto& dir : candidates()) {
    std::error_code ec;
    if (std::filesystem::is_regular_file(dir / name, ec)) return dir / name;
    searched += searched.empty() ? "" : ", ";
    searched += dir.string();
  }
  throw Error("data file " + name.string() + " not found in " + searched +
              " (set CISCOFLASH_DATA to the folder that holds it)");
}

}  // namespace cf

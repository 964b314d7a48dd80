#include "cf/config/load_check.hpp"
#include "cf/cli/text.hpp"

#include <algorithm>
#include <cctype>
#include <map>
#include <system_error>

#include <fmt/format.h>

#include "cf/cli/error.hpp"
#include "cf/firmware/completeness.hpp"

namespace cf::config {
namespace {

namespace fs = std::filesystem;

// The regular files of a root by lower-case name.
std::map<std::string, fs::path> index_root(const fs::path& root) {
  std::map<std::string, fs::path> files;
  std::error_code ec;
  fs::directory_iterator it(root, ec);
  if (ec) throw Error(fmt::format("--root {}: {}", root.string(), ec.message()));
  for (; it != fs::directory_iterator(); it.increment(ec)) {
    if (ec) throw Error(fmt::format("--root {}: {}", root.string(), ec.message()));
    std::error_code type_ec;
    if (it->is_regular_file(type_ec)) files.emplace(to_lower(it->path().filename().string()), it->path());
  }
  return files;
}

}  // namespace

std::vector<MissingFile> missing_files(const fs::path& root, const firmware::LoadName& load,
                                       const firmware::ModelCatalog& catalog,
                                       const upgrade::RuleSet& rules) {
  const auto files = index_root(root);
  const firmware::FileLookup lookup = [&](std::string_view name) -> std::optional<fs::path> {
    const auto found = files.find(to_lower(name));
    if (found == files.end()) return std::nullopt;
    return found->second;
  };
  std::vector<MissingFile> missing;
  for (const auto& problem : firmware::check_load(lookup, load.name).problems)
    missing.push_back({problem.file, problem.problem});

  const auto models = catalog.family_models(load.family);
  if (models.empty()) return missing;
  for (const auto* rule : rules.for_family(load.family)) {
    if (rule->kind != upgrade::RuleKind::needs || !rule->matches(load, load)) continue;
    for (const auto& file : rule->expand_via(*models.front(), load.name)) {
      const bool reported = std::any_of(missing.begin(), missing.end(), [&](const MissingFile& m) {
        return iequals(m.file, file);
      });
      if (reported) continue;
      if (const auto problem = lookup(file) ? firmware::check_file(*lookup(file), file)
                                            : std::optional<std::string>("missing"))
        missing.push_back({file, *problem});
    }
  }
  return missing;
}

}  // namespace cf::config

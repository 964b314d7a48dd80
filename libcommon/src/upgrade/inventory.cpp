#include "cf/upgrade/inventory.hpp"

#include <fmt/format.h>

#include "cf/cli/records.hpp"
#include "cf/firmware/completeness.hpp"
#include "cf/upgrade/planner.hpp"

namespace cf::upgrade {
namespace {

namespace fs = std::filesystem;
// A TFTP root is flat or one directory per model (reference 1.2, SCCPMGR-FILES);
// deeper trees are not firmware.
constexpr int kMaxDepth = 4;

bool names_a_7940_load(const std::string& file, const std::string& extension) {
  return file.starts_with("P0") && (extension == ".bin" || extension == ".sbn" || extension == ".sb2");
}

}  // namespace

void Inventory::add(LoadName load, const fs::path& dir) {
  const auto name = load.name;
  loads_.try_emplace(name, InstalledLoad{std::move(load), dir});
}

void Inventory::scan_root(const fs::path& root, const firmware::ModelCatalog& catalog) {
  std::error_code error;
  if (!fs::is_directory(root, error))
    throw Error(fmt::format("--root {}: not a directory", root.string()));
  fs::recursive_directory_iterator it(root, fs::directory_options::skip_permission_denied, error);
  if (error) throw Error(fmt::format("cannot read {}: {}", root.string(), error.message()));
  for (; it != fs::recursive_directory_iterator(); it.increment(error)) {
    if (error) throw Error(fmt::format("cannot read {}: {}", root.string(), error.message()));
    if (it.depth() >= kMaxDepth) it.disable_recursion_pending();
    const auto file = it->path().filename().string();
    // cisco-tftpd serves no hidden name, so nothing below one is a load a phone
    // could get (fwunpack's staging folders and kept term files live there).
    if (file.starts_with('.')) {
      it.disable_recursion_pending();
      continue;
    }
    if (!it->is_regular_file(error)) continue;
    const auto extension = it->path().extension().string();
    if (extension != ".loads" && !names_a_7940_load(file, extension)) continue;
    auto load = firmware::parse_load_name(it->path().stem().string(), catalog);
    if (!load || load->kind != firmware::LoadKind::application) continue;  // not a load name
    add(std::move(load).value(), it->path().parent_path());
  }
}

void Inventory::read_manifest(std::istream& in, const std::string& source,
                              const firmware::ModelCatalog& catalog) {
  cli::RecordReader reader(in, source, {"load", "dir"});
  while (auto record = reader.next()) {
    auto load = firmware::parse_load_name(record->at("load"), catalog);
    if (!load) throw cli::RecordError(source, record->line, load.error());
    if (load->kind != firmware::LoadKind::application) continue;
    add(std::move(load).value(), record->at("dir"));
  }
}

std::vector<LoadName> Inventory::loads_of_family(const std::string& family) const {
  std::vector<LoadName> out;
  for (const auto& [name, installed] : loads_)
    if (installed.load.family == family) out.push_back(installed.load);
  return out;
}

const InstalledLoad* Inventory::find(const std::string& name) const {
  const auto it = loads_.find(name);
  return it == loads_.end() ? nullptr : &it->second;
}

std::vector<MissingLoad> check_complete(const std::vector<LoadName>& loads, const Inventory& inventory,
                                        const RuleSet& rules, const firmware::ModelInfo& model) {
  std::vector<MissingLoad> missing;
  const auto family_rules = rules.for_family(model.family);
  for (const auto& load : loads) {
    if (is_unknown(load)) continue;
    const auto* installed = inventory.find(load.name);
    if (installed == nullptr) {
      missing.push_back({load.name, {}, usual_archive(model, load), nullptr});
      continue;
    }
    // The files its .loads lists must be whole: the check fwunpack and cnfgen use.
    const auto whole = firmware::check_load(installed->dir, load.name);
    if (!whole.complete()) {
      MissingLoad gap{load.name, {}, usual_archive(model, load), nullptr};
      for (const auto& problem : whole.problems)
        gap.files.push_back(fmt::format("{} ({})", problem.file, problem.problem));
      missing.push_back(std::move(gap));
      continue;
    }
    for (const auto* rule : family_rules) {
      if (rule->kind != RuleKind::needs || !rule->matches(load, load)) continue;
      MissingLoad gap{load.name, {}, usual_archive(model, load), rule};
      for (const auto& file : rule->expand_via(model, load.name)) {
        std::error_code error;
        if (!fs::is_regular_file(installed->dir / file, error)) gap.files.push_back(file);
      }
      if (!gap.files.empty()) missing.push_back(std::move(gap));
    }
  }
  return missing;
}

}  // namespace cf::upgrade

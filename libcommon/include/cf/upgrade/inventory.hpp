#pragma once
// The loads the planner may use: found by name in a TFTP root, or listed in a
// fwunpack manifest (`#load protocol family models version dir files bytes`),
// and the completeness check a plan's loads must pass before they are served.
#include <filesystem>
#include <iosfwd>
#include <map>
#include <string>
#include <vector>

#include "cf/firmware/catalog.hpp"
#include "cf/firmware/load_name.hpp"
#include "cf/upgrade/rules.hpp"

namespace cf::upgrade {

struct InstalledLoad {
  LoadName load;
  std::filesystem::path dir;  // where its files are
};

class Inventory {
 public:
  // Application loads named by *.loads files, and 7940/7960 loads named by their
  // .bin/.sbn/.sb2 files, anywhere under `root` (symlinked directories are not followed).
  void scan_root(const std::filesystem::path& root, const firmware::ModelCatalog& catalog);
  // Throws cf::cli::RecordError for a malformed manifest line or load name.
  void read_manifest(std::istream& in, const std::string& source,
                     const firmware::ModelCatalog& catalog);

  std::vector<LoadName> loads_of_family(const std::string& family) const;
  const InstalledLoad* find(const std::string& name) const;
  bool empty() const noexcept { return loads_.empty(); }

 private:
  void add(LoadName load, const std::filesystem::path& dir);
  std::map<std::string, InstalledLoad> loads_;
};

struct MissingLoad {
  std::string load;
  std::vector<std::string> files;  // empty: the load is not in the root at all;
                                   // else the missing or broken files
  std::string archive;             // the download that usually carries it
  const Rule* rule = nullptr;      // the needs rule that names the files; null when
                                   // the load's own .loads list names them
};

// For each load: is it in the inventory, and are the files that the family's
// needs rules name present in its directory?
std::vector<MissingLoad> check_complete(const std::vector<LoadName>& loads, const Inventory& inventory,
                                        const RuleSet& rules, const firmware::ModelInfo& model);

}  // namespace cf::upgrade

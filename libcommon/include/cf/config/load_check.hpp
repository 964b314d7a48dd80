#pragma once
// Is a load complete in a TFTP root, so a phone told to fetch it finds every file?
// The shared check of cf/firmware/completeness.hpp (the .loads file, every file it
// lists, .sbn structure), plus the files the `needs` rules of data/upgrade-rules
// ask for beside it (e.g. the P003 loader of a P0S3 SIP load). Names match
// case-insensitively, as the phones' TFTP server resolves them (reference
// cisco-79xx.md 3.2, last note).
#include <filesystem>
#include <string>
#include <vector>

#include "cf/firmware/load_name.hpp"
#include "cf/upgrade/rules.hpp"

namespace cf::config {

struct MissingFile {
  std::string file;    // as the load names it
  std::string reason;  // "missing", "empty", "broken: ..."
};

// The files of `load` that are missing or unusable in `root`; empty when complete.
// Throws cf::Error if `root` is not a readable directory.
std::vector<MissingFile> missing_files(const std::filesystem::path& root,
                                       const firmware::LoadName& load,
                                       const firmware::ModelCatalog& catalog,
                                       const upgrade::RuleSet& rules);

}  // namespace cf::config

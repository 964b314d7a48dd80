#pragma once
// fwunpack's core: staged files -> the loads they make up -> verified -> renamed
// into a TFTP root one whole file at a time (write to a temp dir inside the
// root, fsync, rename, fsync the root), so a phone never sees a partial file and
// a transfer in flight keeps the old inode.
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "cf/cli/diagnostics.hpp"
#include "cf/firmware/archive.hpp"
#include "cf/firmware/completeness.hpp"

namespace cf::firmware {

// A directory DIR/.fwunpack-XXXXXX, removed with everything in it when it goes.
class StagingDir {
 public:
  explicit StagingDir(const std::filesystem::path& parent);
  ~StagingDir();
  StagingDir(const StagingDir&) = delete;
  StagingDir& operator=(const StagingDir&) = delete;
  const std::filesystem::path& path() const noexcept { return path_; }

 private:
  std::filesystem::path path_;
};

struct LoadPlan {
  std::map<std::string, const StagedFile*> files;  // base name -> the copy to install
  std::vector<LoadCheck> loads;                     // application loads, by name
  std::vector<LoadCheck> recovery;                  // termNN.default loads
  std::map<std::string, std::string> recovery_points_to;  // term load -> application load
  std::vector<std::string> extras;                  // OS79XX.TXT: rides along, no load of its own
  std::vector<std::string> ignored;                 // belongs to no load; not installed
  bool complete() const;
};

// Groups staged files into loads and checks each (cf/firmware/completeness.hpp).
// A component that is not staged is looked for in `root` (if not empty). Two
// inputs with different bytes under one name throw cf::Error unless `force`
// (then the later input wins); term*.default.loads variants are not a conflict:
// the one whose components belong to the newest load wins.
LoadPlan plan_loads(const std::vector<StagedFile>& staged, const std::filesystem::path& root,
                    bool force, const cli::Diagnostics& diagnostics);

// One line per problem: "LOAD is incomplete: FILE is missing (listed by X.loads from INPUT)".
std::vector<std::string> describe_problems(const LoadPlan& plan);

// What install() did with each file.
struct InstallSummary {
  std::vector<std::string> installed, unchanged, kept;  // kept: a differing term file left alone
};

// Renames the planned files into `root`. Every target is checked first: an
// existing file with other bytes throws cf::Error (nothing renamed) unless
// `force`; an identical one is left alone. Components go first, .loads files
// after them, OS79XX.TXT last, so a phone never finds a .loads whose files are
// not there yet.
InstallSummary install(const LoadPlan& plan, const std::filesystem::path& root, bool force,
                       const cli::Diagnostics& diagnostics);

// True if both files have the same bytes.
bool same_content(const std::filesystem::path& a, const std::filesystem::path& b);

}  // namespace cf::firmware

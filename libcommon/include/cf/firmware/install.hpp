#pragma once
// fwunpack's core: staged files -> the loads they make up -> verified -> renamed
// into a TFTP root one whole file at a time (write to a temp dir inside the
// root, fsync, rename, fsync the root), so a phone never sees a partial file and
// a transfer in flight keeps the old inode.
#include <filesystem>
#include <cstddef>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "cf/cli/diagnostics.hpp"
#include "cf/firmware/archive.hpp"
#include "cf/firmware/completeness.hpp"
#include "cf/firmware/root_lock.hpp"

namespace cf::firmware {

// A .loads file whose name is not a load the catalog knows: not installed, and
// its components only if a known load lists them too (the manifest could not
// describe it, and cnfgen would refuse the row).
struct SkippedLoad {
  std::string file;    // "P00399999999.loads"
  std::string reason;  // why parse_load_name refused it
};

struct LoadPlan {
  std::map<std::string, const StagedFile*> files;  // base name -> the copy to install
  std::vector<LoadCheck> loads;                     // application loads, by name
  std::vector<LoadCheck> recovery;                  // termNN.default loads
  std::map<std::string, std::string> recovery_points_to;  // term load -> application load
  std::set<std::string> extras;                     // OS79XX.TXT: rides along, no load of its own
  std::set<std::string> ignored;                    // belongs to no known load; not installed
  std::vector<SkippedLoad> skipped;                 // unknown load names (their files are in ignored)
  bool complete() const;
};

// Groups staged files into loads and checks each (cf/firmware/completeness.hpp).
// A component that is not staged is looked for in `root` (if not empty). Two
// inputs with different bytes under one name throw cf::Error unless `force`
// (then the later input wins); term*.default.loads variants are not a conflict:
// the one whose components belong to the newest load wins. Files that were not
// kept (StagedFile::path empty) go to `ignored` and are never compared.
// Work is O(n log n) in the number of files: a flood of entries costs no
// quadratic search.
LoadPlan plan_loads(const std::vector<StagedFile>& staged, const std::filesystem::path& root,
                    bool force, const cli::Diagnostics& diagnostics);

// One line per problem: "LOAD is incomplete: FILE is missing (listed by X.loads from INPUT)".
std::vector<std::string> describe_problems(const LoadPlan& plan);

// What install() did with each file.
struct InstallSummary {
  std::vector<std::string> installed, unchanged, kept;  // kept: a differing term file left alone
};

// Renames the planned files into `root`; call it holding the root's RootLock.
// Every target is checked first: an existing file with other bytes throws
// cf::Error (nothing renamed) unless `force`; an identical one is left alone.
// Components go first, .loads files after them, OS79XX.TXT last, so a phone
// never finds a .loads whose files are not there yet. Without `force` a file is
// renamed only if no file of its name exists (rename_no_replace): if one
// appeared after the check (a writer that does not take the lock), the files
// this run renamed are taken back out and cf::Error is thrown.
InstallSummary install(const LoadPlan& plan, const std::filesystem::path& root, bool force,
                       const cli::Diagnostics& diagnostics);

// Renames `from` to `to` unless `to` exists (then returns false, both left as
// they were): renameat2(RENAME_NOREPLACE), or on filesystems without it link()
// then unlink(), or, where neither is supported, a check then rename().
// Throws cf::Error on any other failure.
bool rename_no_replace(const std::filesystem::path& from, const std::filesystem::path& to);

// Prints at most `limit` of `lines`, then one line saying how many were left out,
// so a hostile input with thousands of problems yields a bounded report.
void report_lines(const cli::Diagnostics& diagnostics, cli::Severity severity, const std::vector<std::string>& lines,
                  std::size_t limit = 10);

// True if both files have the same bytes.
bool same_content(const std::filesystem::path& a, const std::filesystem::path& b);

}  // namespace cf::firmware

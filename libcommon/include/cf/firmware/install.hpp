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
#include <string_view>
#include <vector>

#include "cf/cli/diagnostics.hpp"
#include "cf/firmware/archive.hpp"
#include "cf/firmware/catalog.hpp"
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

// Where fwunpack keeps every term file variant it installs: ROOT/.term/<LOAD>/<NAME>,
// LOAD being the load whose component list the variant repeats. The leading dot
// keeps it out of reach of phones (cisco-tftpd serves no hidden name) and out of
// every listing of loads (check_root and the inventory read only the root's own
// .loads files). `fwunpack --set-term` installs one of them as ROOT/<NAME>.
// (kKeptTermDir is in root_lock.hpp, with fwunpack's other private names.)
std::filesystem::path kept_term_path(const std::filesystem::path& root, std::string_view load,
                                     std::string_view term_file);

// A term file variant of this run and the load it belongs to.
struct KeptTerm {
  std::string load;  // "SCCP41.8-5-2S"
  std::string name;  // "term61.default.loads"
  const StagedFile* file = nullptr;
};

struct LoadPlan {
  std::map<std::string, const StagedFile*> files;  // base name -> the copy to install
  std::vector<LoadCheck> loads;                     // application loads, by name
  std::vector<LoadCheck> recovery;                  // termNN.default loads
  std::map<std::string, std::string> recovery_points_to;  // term load -> application load
  std::set<std::string> extras;                     // OS79XX.TXT: rides along, no load of its own
  std::set<std::string> ignored;                    // belongs to no known load; not installed
  std::vector<SkippedLoad> skipped;                 // unknown load names (their files are in ignored)
  std::vector<KeptTerm> kept_terms;                 // every term variant, by the load it lists
  bool complete() const;
};

// Groups staged files into loads and checks each (cf/firmware/completeness.hpp).
// A component that is not staged is looked for in `root` (if not empty). Two
// inputs with different bytes under one name throw cf::Error unless `force`
// (then the later input wins); term*.default.loads variants are not a conflict:
// the one whose components belong to the newest load wins, and every variant
// whose component list equals a load's of this run is kept for that load
// (kept_terms; of two variants with different bytes for one load, both listing
// its components, the later input's, with a note). Files that were not
// kept (StagedFile::path empty) go to `ignored` and are never compared.
// Work is O(n log n) in the number of files: a flood of entries costs no
// quadratic search. root_term_files: as for install() (only says which term
// variant the root would get).
LoadPlan plan_loads(const std::vector<StagedFile>& staged, const std::filesystem::path& root,
                    bool force, const cli::Diagnostics& diagnostics, bool root_term_files = true);

// One line per problem: "LOAD is incomplete: FILE is missing (listed by X.loads from INPUT)".
std::vector<std::string> describe_problems(const LoadPlan& plan);

// What install() did with each file.
struct InstallSummary {
  std::vector<std::string> installed, unchanged, kept;  // kept: a differing term file left alone
  std::vector<std::string> terms_written;               // ".term/LOAD/NAME" made by this run
};

// Renames the planned files into `root`; call it holding the root's RootLock.
// Every target is checked first: an existing file with other bytes throws
// cf::Error (nothing renamed) unless `force`; an identical one is left alone.
// Components go first, .loads files after them, OS79XX.TXT last, so a phone
// never finds a .loads whose files are not there yet. Without `force` a file is
// renamed only if no file of its name exists (rename_no_replace): if one
// appeared after the check (a writer that does not take the lock), the files
// this run renamed are taken back out and cf::Error is thrown.
// The kept term variants are written first (a copy each, fsynced, renamed into
// ROOT/.term/LOAD/): an existing one with other bytes is a conflict like any
// file, an identical one is left alone. root_term_files false: no term file goes
// into ROOT itself (only the kept variants): a migration chooses one with
// set_recovery_load(), and no phone may take another meanwhile.
InstallSummary install(const LoadPlan& plan, const std::filesystem::path& root, bool force,
                       const cli::Diagnostics& diagnostics, bool root_term_files = true);

// Renames `from` to `to` unless `to` exists (then returns false, both left as
// they were): renameat2(RENAME_NOREPLACE), or on filesystems without it link()
// then unlink(), or, where neither is supported, a check then rename().
// Throws cf::Error on any other failure.
bool rename_no_replace(const std::filesystem::path& from, const std::filesystem::path& to);

// Prints at most `limit` of `lines`, then one line saying how many were left out,
// so a hostile input with thousands of problems yields a bounded report.
void report_lines(const cli::Diagnostics& diagnostics, cli::Severity severity, const std::vector<std::string>& lines,
                  std::size_t limit = 10);

// What set_recovery_load() did with one term file.
struct TermInstalled {
  std::string term_file;  // "term61.default.loads"
  std::string load;       // the load it names now
  bool changed = false;   // false: ROOT/<term_file> had these bytes already
};

// Makes ROOT/<term file> of `model` the variant fwunpack kept for `load`
// (kept_term_path): each of the model's term files is checked first, then each
// is copied into a staging folder, fsynced and renamed over ROOT/<term file>
// (the old inode stays whole for a transfer in flight), then the root fsynced.
// Call it holding the root's exclusive RootLock. Throws cf::Error (exit 1) when
// the model has no term file, `load` is not an application load of its family,
// or no variant was kept for it (`archive`: the download to name in that
// message); cf::VerificationError (exit 3) when the kept variant or the load in
// the root is broken, or they list different components (fail closed: a reset
// phone would fetch files that are not there).
std::vector<TermInstalled> set_recovery_load(const std::filesystem::path& root, const ModelInfo& model,
                                             std::string_view load, const ModelCatalog& catalog,
                                             std::string_view archive);

// True if both files have the same bytes.
bool same_content(const std::filesystem::path& a, const std::filesystem::path& b);

}  // namespace cf::firmware

#pragma once
// Reading firmware inputs (reference cisco-79xx.md 1.1, 1.5): zip, tar, tar.gz,
// .cop (tar.gz), .cop.sgn/.sgn (signature header before the gzip), archives
// nested in archives, and already-extracted directories. Every regular file
// is streamed into a staging directory under its base name's identity; hostile
// entries are refused with a cf::VerificationError naming input and entry.
// An entry with the same name and bytes as one staged already (the same image
// in several archives) is compared, not written again: both StagedFiles then
// share one path. An entry whose name no load can list (a readme, a manual) is
// read and checked like any other but not written: it could never be installed.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cf/cli/result.hpp"

namespace cf::firmware {

struct ExtractLimits {
  std::uint64_t max_bytes = std::uint64_t{1} << 30;  // --max-bytes: all inputs together
  // A container may expand to at most max(max_ratio x its own size, ratio_floor)
  // bytes. Firmware is compressed already (ratio near 1), a zip bomb is ~1000:1.
  std::uint64_t max_ratio = 100;
  std::uint64_t ratio_floor = std::uint64_t{16} << 20;
  int max_depth = 4;  // containers inside containers
  // --max-entries: archive members (folders included) and folder files, all
  // inputs together. Cisco's largest bundles hold a few dozen.
  std::uint64_t max_entries = 10000;
};

struct StagedFile {
  std::string name;                  // base name, exact case: what lands in the root
  std::string input;                 // the command-line input it came from
  std::vector<std::string> members;  // member names, outermost container first
  std::filesystem::path path;        // where its bytes are now (inside the staging dir);
                                     // empty if not kept (!may_be_installed(name))
  std::uint64_t size = 0;
  // "input: member > member", for messages.
  std::string origin() const;
};

// Why a base name may not land in a root (nullopt: it may): empty, "." or "..",
// a '/' or '\\' in it, a control character (it would forge lines in the
// manifest and on terminals, and break --verify). The one check every input
// kind (archive member, folder entry) goes through.
std::optional<std::string> name_problem(std::string_view name);

// The base name an archive member lands under, or why it is refused:
// absolute paths, `..` components, and whatever name_problem() refuses.
// Prefixes such as usr/local/cm/tftp/ are dropped (phones ask for bare names).
Result<std::string> member_base_name(std::string_view member);

// A file of this name can be installed: a load can list it (is_component_name,
// .loads files included) or it is OS79XX.TXT.
bool may_be_installed(std::string_view name);

// What the first bytes of a file say it is, for inputs and nested members.
enum class ContainerKind { none, archive, signed_gzip };
ContainerKind sniff_container(std::span<const std::byte> head);

class Extractor {
 public:
  // `staging` must exist and be on the filesystem where files will be installed.
  // `progress` gets the bytes read so far of the current command-line input.
  Extractor(std::filesystem::path staging, ExtractLimits limits,
            std::function<void(std::uint64_t done)> progress = {});
  // Reads one command-line input (archive file or directory) into staging.
  // Throws cf::VerificationError for a hostile or broken input, cf::Error for I/O.
  void add(const std::filesystem::path& input);
  const std::vector<StagedFile>& files() const noexcept { return files_; }
  std::uint64_t staged_bytes() const noexcept { return staged_bytes_; }
  std::uint64_t entries() const noexcept { return entries_; }

 private:
  struct Context;
  void read_container(const std::filesystem::path& file, std::uint64_t offset, Context& context,
                      std::vector<std::string> members, int depth);
  void add_directory(const std::filesystem::path& dir, const std::string& input);
  std::filesystem::path next_staging_path();
  // A staged file of this name and size whose bytes a new entry may share, or null.
  const StagedFile* twin_of(const std::string& name, std::optional<std::uint64_t> size) const;
  void keep(StagedFile file);
  // Counts one more entry against --max-entries; `where` names it if refused.
  void count_entry(const std::string& where);

  std::filesystem::path staging_;
  ExtractLimits limits_;
  std::function<void(std::uint64_t)> progress_;
  std::vector<StagedFile> files_;
  // (name, size) -> the latest kept file with both: the twin candidate, found in O(log n).
  std::map<std::pair<std::string, std::uint64_t>, std::size_t> twins_;
  std::uint64_t staged_bytes_ = 0;
  std::uint64_t entries_ = 0;
  std::uint64_t counter_ = 0;
};

}  // namespace cf::firmware

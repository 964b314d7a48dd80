#pragma once
// Is a load whole? The one completeness check that fwunpack (before installing
// and with --verify), cnfgen and upgrade-path share: the load's .loads file is
// readable, and every file it lists is present, non-empty and, for .sbn images,
// structurally sound (cf/firmware/cnu.hpp). Reference cisco-79xx.md 1.3, 1.4.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace cf::firmware {

struct FileProblem {
  std::string file;     // base name, e.g. "dsp45.8-5-2TH1-9.sbn"
  std::string problem;  // "missing", "empty", "broken: CNU file table promises ..."
};

struct LoadCheck {
  std::string load;                   // "SIP41.9-4-2SR3-1S", "term41.default"
  std::vector<std::string> files;     // <load>.loads first, then the components it lists
  std::uint64_t bytes = 0;            // sum of the sizes of the files that are present
  std::vector<FileProblem> problems;  // empty: the load is complete
  bool complete() const noexcept { return problems.empty(); }
};

// Where a file of a given base name is, or nullopt if there is none.
using FileLookup = std::function<std::optional<std::filesystem::path>(std::string_view name)>;

// Checks `load` (a load name, or its .loads file name) against files found through `lookup`.
LoadCheck check_load(const FileLookup& lookup, std::string_view load);
// The same against a TFTP root: files are looked up as root/<name>, exact case.
LoadCheck check_load(const std::filesystem::path& root, std::string_view load);
// Every load in a root: one LoadCheck per *.loads file (recovery loads included), sorted by name.
std::vector<LoadCheck> check_root(const std::filesystem::path& root);

// Problem with one file on its own (nullopt: fine): missing, not a regular
// file, empty, a .sbn/.SBN that fails check_sbn, a .loads that lists nothing.
std::optional<std::string> check_file(const std::filesystem::path& path, std::string_view name);

// A read-only view of a whole file (mmap), for the parsers.
class MappedFile {
 public:
  explicit MappedFile(const std::filesystem::path& path);  // throws cf::Error
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  std::span<const std::byte> bytes() const noexcept { return {data_, size_}; }

 private:
  const std::byte* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace cf::firmware

#pragma once
// The files cnfgen writes, and how they reach the disk: atomically (temp file in
// the same directory, fsync, rename, fsync the directory), so a phone fetching
// its config over TFTP never reads half of one; or compared with what is there.
#include <filesystem>
#include <iosfwd>
#include <string>
#include <vector>

namespace cf::config {

struct GeneratedFile {
  std::string name;     // file name inside the output directory
  std::string content;  // exact bytes
  unsigned mode = 0644; // pjsip.conf/sccp.conf hold secrets: 0640
};

// Replaces `path` with `content` atomically. Throws cf::Error naming the path.
void write_atomically(const std::filesystem::path& path, const std::string& content,
                      unsigned mode);

// A unified-style diff (---/+++ headers, @@ hunks with 3 lines of context) of
// `before` -> `after`; empty when equal. A missing file is diffed as empty.
std::string unified_diff(const std::string& before, const std::string& after,
                         const std::string& old_label, const std::string& new_label);

// Where -o points: "-" (stdout, one file only), a directory, or (one file only) a
// file path. Returns how many files differ in check mode (diffs go to `out`),
// else writes them and returns 0. Throws cf::UsageError for stdout with several files.
std::size_t emit_files(const std::vector<GeneratedFile>& files, const std::string& output,
                       bool check, std::ostream& out);

}  // namespace cf::config

#include "cf/firmware/install.hpp"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <set>
#include <system_error>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "cf/cli/error.hpp"
#include "cf/firmware/load_name.hpp"
#include "cf/firmware/loads_file.hpp"
#include "cf/net/fd.hpp"

namespace cf::firmware {
namespace fs = std::filesystem;
namespace {

std::string errno_text() { return std::generic_category().message(errno); }

void fsync_path(const fs::path& path, bool directory) {
  const int fd = ::open(path.c_str(), (directory ? O_RDONLY | O_DIRECTORY : O_RDONLY) | O_CLOEXEC);
  if (fd < 0) throw Error(fmt::format("{}: {}", path.string(), errno_text()));
  const int r = ::fsync(fd);
  const int error = errno;
  ::close(fd);
  if (r != 0) throw Error(fmt::format("fsync {}: {}", path.string(), std::generic_category().message(error)));
}

std::vector<std::string> components_of(const fs::path& path) {
  try {
    const MappedFile file(path);
    auto names = parse_loads_file(file.bytes());
    return names ? std::move(names).value() : std::vector<std::string>{};
  } catch (const Error&) {
    return {};
  }
}

// A hash of a (small) file's bytes, to bucket term files before comparing them.
std::size_t content_digest(const fs::path& path) {
  try {
    const MappedFile file(path);
    const auto bytes = file.bytes();
    return std::hash<std::string_view>{}(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
  } catch (const Error&) {
    return 0;
  }
}

// Writes the bytes of `source` to `target`, a name that must not exist yet, and
// fsyncs it before returning.
void copy_synced(const fs::path& source, const fs::path& target) {
  const MappedFile in(source);
  net::UniqueFd out(::open(target.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644));
  if (!out) throw Error(fmt::format("{}: {}", target.string(), errno_text()));
  const auto bytes = in.bytes();
  std::size_t done = 0;
  while (done < bytes.size()) {
    const auto n = ::write(out.get(), bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw Error(fmt::format("write {}: {}", target.string(), errno_text()));
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(out.get()) != 0) throw Error(fmt::format("fsync {}: {}", target.string(), errno_text()));
}

// `dir` as a real directory (a symbolic link there could point the kept files
// anywhere): made if missing; true if this call made it.
bool ensure_directory(const fs::path& dir) {
  struct stat st {};
  if (::lstat(dir.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) return false;
    throw Error(fmt::format("{} is not a directory", dir.string()));
  }
  if (errno != ENOENT) throw Error(fmt::format("{}: {}", dir.string(), errno_text()));
  if (::mkdir(dir.c_str(), 0755) == 0) return true;
  if (errno == EEXIST) return ensure_directory(dir);
  throw Error(fmt::format("mkdir {}: {}", dir.string(), errno_text()));
}

// Why `path` cannot hold a directory of kept term files, or nullopt.
std::optional<std::string> not_a_directory(const fs::path& path) {
  std::error_code ec;
  const auto status = fs::symlink_status(path, ec);
  if (!fs::exists(status) || fs::is_directory(status)) return std::nullopt;
  return fmt::format("{} is not a directory (fwunpack keeps term file variants there)", path.string());
}

}  // namespace

fs::path kept_term_path(const fs::path& root, std::string_view load, std::string_view term_file) {
  return root / std::string(kKeptTermDir) / std::string(load) / std::string(term_file);
}

void report_lines(const cli::Diagnostics& diagnostics, cli::Severity severity, const std::vector<std::string>& lines,
                  std::size_t limit) {
  for (std::size_t i = 0; i < lines.size() && i < limit; ++i) diagnostics.print(severity, lines[i]);
  if (lines.size() > limit) diagnostics.print(severity, fmt::format("... and {} more like these", lines.size() - limit));
}

bool same_content(const fs::path& a, const fs::path& b) {
  if (a == b) return true;  // two entries the extractor found identical share one staging file
  struct Open {
    int fd;
    explicit Open(const fs::path& path) : fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC)) {}
    ~Open() { if (fd >= 0) ::close(fd); }
    Open(const Open&) = delete;
    Open& operator=(const Open&) = delete;
  };
  const Open x(a), y(b);
  struct stat sx {}, sy {};
  if (x.fd < 0 || y.fd < 0 || ::fstat(x.fd, &sx) != 0 || ::fstat(y.fd, &sy) != 0) return false;
  if (sx.st_size != sy.st_size) return false;
  if (sx.st_dev == sy.st_dev && sx.st_ino == sy.st_ino) return true;
  // Block by block: memory stays flat whatever the file size.
  constexpr std::size_t kBlock = 256 * 1024;
  std::vector<char> bx(kBlock), by(kBlock);
  const auto fill = [](int fd, std::vector<char>& buffer, off_t offset) -> ssize_t {
    std::size_t done = 0;
    while (done < buffer.size()) {
      const auto n = ::pread(fd, buffer.data() + done, buffer.size() - done, offset + static_cast<off_t>(done));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return -1;
      if (n == 0) break;
      done += static_cast<std::size_t>(n);
    }
    return static_cast<ssize_t>(done);
  };
  for (off_t offset = 0;; offset += static_cast<off_t>(kBlock)) {
    const auto nx = fill(x.fd, bx, offset);
    const auto ny = fill(y.fd, by, offset);
    if (nx < 0 || ny < 0 || nx != ny) return false;
    if (std::memcmp(bx.data(), by.data(), static_cast<std::size_t>(nx)) != 0) return false;
    if (static_cast<std::size_t>(nx) < kBlock) return true;
  }
}

bool LoadPlan::complete() const {
  return std::all_of(loads.begin(), loads.end(), [](const LoadCheck& c) { return c.complete(); }) &&
         std::all_of(recovery.begin(), recovery.end(), [](const LoadCheck& c) { return c.complete(); });
}

LoadPlan plan_loads(const std::vector<StagedFile>& staged, const fs::path& root, bool force,
                    const cli::Diagnostics& diagnostics, bool root_term_files) {
  LoadPlan plan;
  const auto catalog = ModelCatalog::load_default();
  // Term files of one name, one per distinct content: (size, hash) finds the
  // candidates that may be equal, so each new file is compared with few.
  struct TermVariants {
    std::vector<const StagedFile*> files;
    std::map<std::pair<std::uint64_t, std::size_t>, std::vector<const StagedFile*>> by_digest;
  };
  std::map<std::string, TermVariants> term_candidates;
  std::vector<std::string> conflicts;
  for (const auto& file : staged) {
    if (file.path.empty() || !may_be_installed(file.name)) {  // no load can list it: never compared
      plan.files.emplace(file.name, &file);
      plan.ignored.insert(file.name);
      continue;
    }
    if (is_recovery_loads_name(file.name)) {
      auto& variants = term_candidates[file.name];
      auto& same_digest = variants.by_digest[{file.size, content_digest(file.path)}];
      if (std::none_of(same_digest.begin(), same_digest.end(),
                       [&](const StagedFile* f) { return same_content(f->path, file.path); })) {
        same_digest.push_back(&file);
        variants.files.push_back(&file);
      }
      continue;
    }
    auto [it, inserted] = plan.files.emplace(file.name, &file);
    if (inserted || same_content(it->second->path, file.path)) continue;
    const auto text = fmt::format("{}: {} and {} have different bytes", file.name, it->second->origin(), file.origin());
    if (!force) {
      conflicts.push_back(text);
      continue;
    }
    diagnostics.warning(text + "; --force: the later one wins");
    it->second = &file;
  }
  if (!conflicts.empty()) {
    report_lines(diagnostics, cli::Severity::error, conflicts);
    throw Error(fmt::format("the inputs disagree on {} file(s); nothing was installed (--force takes the later one)",
                            conflicts.size()));
  }

  const FileLookup lookup = [&plan, &root](std::string_view name) -> std::optional<fs::path> {
    if (auto it = plan.files.find(std::string(name)); it != plan.files.end())
      return it->second->path.empty() ? std::nullopt : std::optional<fs::path>(it->second->path);
    if (root.empty() || name.find('/') != std::string_view::npos) return std::nullopt;
    std::error_code ec;
    auto path = root / std::string(name);
    if (fs::exists(fs::symlink_status(path, ec))) return path;
    return std::nullopt;
  };
  const auto known = [&](const std::string& file) {
    const auto name = parse_load_name(file, catalog);
    if (!name) plan.skipped.push_back({file, name.error()});
    return name.ok();
  };

  std::set<std::string> listed;
  for (const auto& [name, file] : plan.files) {
    if (!name.ends_with(".loads") || plan.ignored.contains(name) || !known(name)) continue;
    auto check = check_load(lookup, name);
    listed.insert(check.files.begin(), check.files.end());
    plan.loads.push_back(std::move(check));
  }

  // Recovery loads: of several term files under one name, the one that lists the
  // components of the newest load in this run (ref 1.4; tests/fixtures/README.md).
  std::map<std::vector<std::string>, std::pair<const LoadCheck*, Version>> newest_by_components;
  std::map<std::vector<std::string>, std::vector<const LoadCheck*>> loads_by_components;
  for (const auto& load : plan.loads) {
    const auto parsed = parse_load_name(load.load, catalog);  // known(): it parses
    std::vector<std::string> components(load.files.begin() + 1, load.files.end());
    loads_by_components[components].push_back(&load);
    auto [it, inserted] = newest_by_components.try_emplace(std::move(components), &load, parsed->version);
    if (!inserted && parsed->version > it->second.second) it->second = {&load, parsed->version};
  }
  std::vector<std::string> same_load;
  for (auto& [name, variants] : term_candidates) {
    if (!known(name)) {
      plan.files.emplace(name, variants.files.back());
      continue;
    }
    const auto& candidates = variants.files;
    const StagedFile* best = candidates.back();
    const LoadCheck* best_load = nullptr;
    // Every variant is kept for each load whose components it lists, so the
    // migration, not the order of the inputs, decides which one phones get.
    std::map<std::string, const StagedFile*> kept;
    for (const auto* candidate : candidates) {
      const auto components = components_of(candidate->path);
      if (const auto of = loads_by_components.find(components); of != loads_by_components.end()) {
        for (const auto* load : of->second) {
          auto [slot, inserted] = kept.try_emplace(load->load, candidate);
          if (inserted) continue;
          // Both list exactly the load's components, so either is right for it;
          // only their signature headers differ.
          same_load.push_back(fmt::format("{}: {} and {} both list the components of {}; keeping the later one",
                                          name, slot->second->origin(), candidate->origin(), load->load));
          slot->second = candidate;
        }
      }
      const auto it = newest_by_components.find(components);
      if (it == newest_by_components.end()) continue;
      if (!best_load || it->second.second > parse_load_name(best_load->load, catalog)->version) {
        best = candidate;
        best_load = it->second.first;
      }
    }
    if (candidates.size() > 1 && root_term_files)
      diagnostics.note(fmt::format("{}: {} variants; installing the one from {}{}", name, candidates.size(),
                                   best->origin(), best_load ? " (it points to " + best_load->load + ")" : ""));
    plan.files[name] = best;
    auto check = check_load(lookup, name);
    if (best_load) plan.recovery_points_to[check.load] = best_load->load;
    listed.insert(check.files.begin(), check.files.end());
    plan.recovery.push_back(std::move(check));
    for (const auto& [load, file] : kept) plan.kept_terms.push_back({load, name, file});
  }
  report_lines(diagnostics, cli::Severity::note, same_load);

  for (const auto& [name, file] : plan.files) {
    if (listed.contains(name)) continue;
    if (name == "OS79XX.TXT")
      plan.extras.insert(name);
    else
      plan.ignored.insert(name);
  }
  return plan;
}

std::vector<std::string> describe_problems(const LoadPlan& plan) {
  std::vector<std::string> out;
  const auto describe = [&](const LoadCheck& check) {
    const auto loads_file = check.files.front();
    const auto it = plan.files.find(loads_file);
    const std::string from = it != plan.files.end() ? it->second->origin() : "the root";
    for (const auto& problem : check.problems) {
      if (problem.file == loads_file)
        out.push_back(fmt::format("{} is incomplete: {} is {} ({})", check.load, problem.file, problem.problem, from));
      else
        out.push_back(fmt::format("{} is incomplete: {} is {}; {} ({}) lists it, so it should come with that input",
                                  check.load, problem.file, problem.problem, loads_file, from));
    }
  };
  for (const auto& check : plan.loads) describe(check);
  for (const auto& check : plan.recovery) describe(check);
  return out;
}

bool rename_no_replace(const fs::path& from, const fs::path& to) {
  if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0) return true;
  if (errno == EEXIST) return false;
  if (errno != EINVAL && errno != ENOSYS && errno != ENOTSUP)
    throw Error(fmt::format("rename {} to {}: {}", from.string(), to.string(), errno_text()));
  // No RENAME_NOREPLACE here (some network and FUSE filesystems): link() fails
  // on an existing name just the same.
  if (::link(from.c_str(), to.c_str()) == 0) {
    if (::unlink(from.c_str()) != 0)
      throw Error(fmt::format("unlink {}: {}", from.string(), errno_text()));
    return true;
  }
  if (errno == EEXIST) return false;
  if (errno != EPERM && errno != ENOTSUP && errno != EOPNOTSUPP)
    throw Error(fmt::format("link {} to {}: {}", from.string(), to.string(), errno_text()));
  // No hard links either (vfat): the caller's root lock is all that stands
  // between this check and the rename.
  std::error_code ec;
  if (fs::exists(fs::symlink_status(to, ec))) return false;
  if (::rename(from.c_str(), to.c_str()) != 0)
    throw Error(fmt::format("rename {} to {}: {}", from.string(), to.string(), errno_text()));
  return true;
}

InstallSummary install(const LoadPlan& plan, const fs::path& root, bool force,
                       const cli::Diagnostics& diagnostics, bool root_term_files) {
  // Components, then application .loads, then recovery .loads, then OS79XX.TXT.
  const auto rank = [](const std::string& name) {
    if (name == "OS79XX.TXT") return 3;
    if (is_recovery_loads_name(name)) return 2;
    return name.ends_with(".loads") ? 1 : 0;
  };
  std::vector<std::string> order;
  for (const auto& [name, file] : plan.files)
    if (!plan.ignored.contains(name) && (root_term_files || !is_recovery_loads_name(name))) order.push_back(name);
  std::stable_sort(order.begin(), order.end(), [&](const auto& a, const auto& b) { return rank(a) < rank(b); });

  InstallSummary summary;
  std::vector<std::string> to_rename, conflicts;
  for (const auto& name : order) {
    const auto target = root / name;
    const auto source = plan.files.at(name)->path;
    std::error_code ec;
    const auto status = fs::symlink_status(target, ec);
    if (!fs::exists(status)) {
      to_rename.push_back(name);
    } else if (fs::is_regular_file(status) && same_content(source, target)) {
      summary.unchanged.push_back(name);
    } else if (fs::is_directory(status)) {
      conflicts.push_back(fmt::format("{} is a directory", target.string()));
    } else if (force) {
      to_rename.push_back(name);
    } else if (is_recovery_loads_name(name)) {
      summary.kept.push_back(name);
      diagnostics.warning(fmt::format("{}: kept the existing recovery load, which differs from the one in {} "
                                      "(--force replaces it)", target.string(), plan.files.at(name)->origin()));
    } else {
      conflicts.push_back(fmt::format("{} exists with different bytes than in {}", target.string(),
                                      plan.files.at(name)->origin()));
    }
  }
  std::vector<const KeptTerm*> terms_to_write;
  for (const auto& term : plan.kept_terms) {
    const auto target = kept_term_path(root, term.load, term.name);
    bool blocked = false;
    for (const auto& dir : {target.parent_path().parent_path(), target.parent_path()})
      if (auto problem = not_a_directory(dir); problem && !blocked) {
        conflicts.push_back(*problem);
        blocked = true;
      }
    if (blocked) continue;
    std::error_code ec;
    const auto status = fs::symlink_status(target, ec);
    if (!fs::exists(status)) {
      terms_to_write.push_back(&term);
    } else if (fs::is_regular_file(status) && same_content(term.file->path, target)) {
      continue;
    } else if (fs::is_directory(status)) {
      conflicts.push_back(fmt::format("{} is a directory", target.string()));
    } else if (force) {
      terms_to_write.push_back(&term);
    } else {
      conflicts.push_back(fmt::format("{} exists with different bytes than in {}", target.string(),
                                      term.file->origin()));
    }
  }
  if (!conflicts.empty()) {
    report_lines(diagnostics, cli::Severity::error, conflicts);
    throw Error(fmt::format("{} file(s) in {} would change; nothing was installed (--force replaces them)",
                            conflicts.size(), root.string()));
  }
  // Each file's writeback was started when it was staged (archive.cpp), so these
  // mostly wait for the journal commit and the disk flush.
  for (const auto& name : to_rename) fsync_path(plan.files.at(name)->path, false);
  // Without --force every rename here makes a name that did not exist, so undoing
  // them restores the root exactly.
  const auto take_back = [&]() {
    for (auto it = summary.installed.rbegin(); it != summary.installed.rend(); ++it)
      if (!rename_no_replace(root / *it, plan.files.at(*it)->path))
        diagnostics.warning(fmt::format("{}: could not be taken back", (root / *it).string()));
    for (const auto& written : summary.terms_written)
      if (::unlink((root / written).c_str()) != 0)
        diagnostics.warning(fmt::format("{}: could not be taken back", (root / written).string()));
    fsync_path(root, true);
  };
  // The kept variants first: no phone reads them, so a failure after them
  // leaves nothing a phone would see half done.
  for (std::size_t i = 0; i < terms_to_write.size(); ++i) {
    const auto& term = *terms_to_write[i];
    const auto target = kept_term_path(root, term.load, term.name);
    const auto top = target.parent_path().parent_path();
    const bool made_top = ensure_directory(top);
    const bool made_dir = ensure_directory(target.parent_path());
    // A copy in the staging folder (same filesystem), so the staged file itself
    // can still be renamed into the root below.
    const auto temp = term.file->path.parent_path() / fmt::format("kept-term-{}", i);
    copy_synced(term.file->path, temp);
    if (force) {
      if (::rename(temp.c_str(), target.c_str()) != 0)
        throw Error(fmt::format("rename {} to {}: {}", temp.string(), target.string(), errno_text()));
    } else if (!rename_no_replace(temp, target)) {
      if (same_content(temp, target)) continue;
      take_back();
      throw Error(fmt::format("{} appeared while installing, with other bytes than in {} (is something other than "
                              "fwunpack writing to {}?); nothing was installed",
                              target.string(), term.file->origin(), root.string()));
    }
    summary.terms_written.push_back(fmt::format("{}/{}/{}", kKeptTermDir, term.load, term.name));
    fsync_path(target.parent_path(), true);
    if (made_dir) fsync_path(top, true);
    if (made_top) fsync_path(root, true);
  }
  for (const auto& name : to_rename) {
    const auto source = plan.files.at(name)->path;
    const auto target = root / name;
    if (force) {
      if (::rename(source.c_str(), target.c_str()) != 0)
        throw Error(fmt::format("rename {} to {}: {}", source.string(), target.string(), errno_text()));
    } else if (!rename_no_replace(source, target)) {
      if (same_content(source, target)) {
        summary.unchanged.push_back(name);
        continue;
      }
      take_back();
      throw Error(fmt::format("{} appeared while installing, with other bytes than in {} (is something other "
                              "than fwunpack writing to {}?); the {} file(s) this run had renamed were taken back, "
                              "nothing was installed",
                              target.string(), plan.files.at(name)->origin(), root.string(), summary.installed.size()));
    }
    summary.installed.push_back(name);
  }
  fsync_path(root, true);
  if (!summary.unchanged.empty()) {
    std::string names;
    for (std::size_t i = 0; i < summary.unchanged.size() && i < 4; ++i) names += (i ? ", " : "") + summary.unchanged[i];
    if (summary.unchanged.size() > 4) names += fmt::format(" and {} more", summary.unchanged.size() - 4);
    diagnostics.note(fmt::format("{} file(s) already in {} with the same bytes, left alone: {}",
                                 summary.unchanged.size(), root.string(), names));
  }
  return summary;
}

std::vector<TermInstalled> set_recovery_load(const fs::path& root, const ModelInfo& model, std::string_view load,
                                             const ModelCatalog& catalog, std::string_view archive) {
  if (model.term_files.empty())
    throw Error(fmt::format("the {} has no term file: no source shows a factory-reset {} asking for one", model.model,
                            model.model));
  const auto name = parse_load_name(load, catalog);
  if (!name) throw Error(fmt::format("{}: {}", load, name.error()));
  if (name->kind != LoadKind::application)
    throw Error(fmt::format("{} is a {} load, not one a phone runs", load, to_string(name->kind)));
  if (name->family != model.family)
    throw Error(fmt::format("{} is a load of {}, but the {} belongs to {}", load, name->family, model.model,
                            model.family));

  // A load never unpacked here has no variant: say which download brings it.
  for (const auto& term : model.term_files) {
    const auto kept = kept_term_path(root, name->name, term);
    for (const auto& dir : {kept.parent_path().parent_path(), kept.parent_path()}) {
      struct stat st {};
      if (::lstat(dir.c_str(), &st) == 0 && !S_ISDIR(st.st_mode))
        throw VerificationError(fmt::format("{} is not a directory; refusing to read term files through it",
                                            dir.string()));
    }
    struct stat st {};
    if (::lstat(kept.c_str(), &st) != 0 || !S_ISREG(st.st_mode))
      throw Error(fmt::format("no {} was kept for {} in {} (fwunpack keeps one for each load it installs); unpack "
                              "{} into {} with fwunpack -C first",
                              term, name->name, (root / std::string(kKeptTermDir)).string(), archive, root.string()));
  }
  // The load as the root serves it: a term file must not send a reset phone to
  // a load whose files are not all there.
  const auto check = check_load(root, name->name);
  if (!check.complete()) {
    std::vector<std::string> problems;
    for (const auto& problem : check.problems) problems.push_back(problem.file + " is " + problem.problem);
    throw VerificationError(fmt::format("{} is not complete in {} ({}); no term file may name it", name->name,
                                        root.string(), fmt::join(problems, ", ")));
  }
  const std::vector<std::string> components(check.files.begin() + 1, check.files.end());

  std::vector<TermInstalled> out;
  std::vector<fs::path> sources;
  for (const auto& term : model.term_files) {
    const auto kept = kept_term_path(root, name->name, term);
    if (auto problem = check_file(kept, term))
      throw VerificationError(fmt::format("{} is {}", kept.string(), *problem));
    const auto listed = components_of(kept);
    if (listed != components)
      throw VerificationError(fmt::format("{} lists {}, but {}.loads in {} lists {}; refusing to install it",
                                          kept.string(), fmt::join(listed, " "), name->name, root.string(),
                                          fmt::join(components, " ")));
    const auto target = root / term;
    std::error_code ec;
    const auto status = fs::symlink_status(target, ec);
    if (fs::is_directory(status)) throw Error(fmt::format("{} is a directory", target.string()));
    const bool same = fs::is_regular_file(status) && same_content(kept, target);
    out.push_back({term, name->name, !same});
    sources.push_back(kept);
  }

  bool changed = false;
  const StagingDir staging(root);
  for (std::size_t i = 0; i < out.size(); ++i) {
    if (!out[i].changed) continue;
    const auto temp = staging.path() / fmt::format("term-{}", i);
    copy_synced(sources[i], temp);
    const auto target = root / out[i].term_file;
    if (::rename(temp.c_str(), target.c_str()) != 0)
      throw Error(fmt::format("rename {} to {}: {}", temp.string(), target.string(), errno_text()));
    changed = true;
  }
  if (changed) fsync_path(root, true);
  return out;
}

}  // namespace cf::firmware

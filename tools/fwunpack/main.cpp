// fwunpack: unpack Cisco 79xx firmware archives, check that every load is whole,
// install them atomically into a TFTP root and print the manifest for cnfgen.
#include <algorithm>
#include <chrono>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "cf/cli/diagnostics.hpp"
#include "cf/cli/error.hpp"
#include "cf/cli/progress.hpp"
#include "cf/cli/records.hpp"
#include "cf/cli/terminal.hpp"
#include "cf/cli/text.hpp"
#include "cf/cli/tool.hpp"
#include "cf/firmware/archive.hpp"
#include "cf/firmware/catalog.hpp"
#include "cf/firmware/completeness.hpp"
#include "cf/firmware/install.hpp"
#include "cf/firmware/load_name.hpp"
#include "cf/firmware/manifest.hpp"
#include "cf/firmware/root_lock.hpp"
#include "cf/upgrade/planner.hpp"

namespace fs = std::filesystem;
using namespace cf::firmware;

namespace {

constexpr std::uint64_t kProgressThreshold = std::uint64_t{32} << 20;

struct Options {
  std::vector<std::string> inputs;
  std::string root;
  std::string verify_root;
  std::string set_term;  // a load: install its kept term file variant
  std::string model;
  bool list = false;
  bool force = false;
  bool no_root_terms = false;
  bool json = false;
  std::uint64_t max_bytes = std::uint64_t{1} << 30;
  std::uint64_t max_ratio = 100;
  std::uint64_t max_entries = ExtractLimits{}.max_entries;
  unsigned lock_timeout = 120;  // seconds
};

// Shows at most a few names of a long list, then how many more: one line for a
// thousand ignored files, not a thousand lines.
std::string some_of(const std::vector<std::string>& items, std::size_t shown = 4) {
  std::string text;
  for (std::size_t i = 0; i < items.size() && i < shown; ++i) text += (i ? ", " : "") + items[i];
  if (items.size() > shown) text += fmt::format(" and {} more", items.size() - shown);
  return text;
}

std::optional<RootLock> lock_root(const fs::path& root, RootLock::Mode mode, const Options& options,
                                  const cf::cli::Diagnostics& diagnostics) {
  return RootLock::acquire(root, mode, std::chrono::seconds(options.lock_timeout), [&](const std::string& holder) {
    diagnostics.note(fmt::format("{} is locked by {}; waiting up to {} s (--lock-timeout)", root.string(), holder,
                                 options.lock_timeout));
  });
}

// Every value the manifest will carry is written once into a buffer before the
// root is touched: one that the record format cannot carry (a TAB or line break
// in the root's path) stops the run while nothing has changed.
void check_root_fits_manifest(const fs::path& root, const Options& options);

std::vector<fs::path> expand_inputs(const std::vector<std::string>& inputs) {
  std::vector<fs::path> out;
  for (const auto& input : inputs) {
    if (input != "-") {
      out.emplace_back(input);
      continue;
    }
    for (std::string line; std::getline(std::cin, line);)
      if (!line.empty()) out.emplace_back(line);
  }
  if (out.empty()) throw cf::UsageError("no input archives or directories given");
  return out;
}

cf::cli::RecordFormat format_of(const Options& options) {
  return options.json ? cf::cli::RecordFormat::json_lines : cf::cli::RecordFormat::tsv;
}

void print_rows(const LoadPlan& plan, const ModelCatalog& catalog, const std::string& dir,
                cf::cli::RecordWriter& writer) {
  // Unknown load names were skipped in plan_loads, so no row is a row of dashes.
  for (const auto& check : plan.loads) writer.write(manifest_row(check, catalog, dir).values());
  for (const auto& check : plan.recovery) {
    const LoadCheck* target = nullptr;
    if (auto it = plan.recovery_points_to.find(check.load); it != plan.recovery_points_to.end())
      for (const auto& load : plan.loads)
        if (load.load == it->second) target = &load;
    writer.write(manifest_row(check, catalog, dir, target).values());
  }
}

void check_root_fits_manifest(const fs::path& root, const Options& options) {
  std::ostringstream probe;
  cf::cli::RecordWriter writer(probe, format_of(options), manifest_schema());
  try {
    writer.write(ManifestRow{"-", "-", "-", "-", "-", root.string(), 0, 0}.values());
  } catch (const cf::Error& error) {
    throw cf::Error(fmt::format("{}: this root cannot be named in the manifest ({}); nothing was read or written",
                                cf::printable(root.string()), error.what()));
  }
}

int verify_root(const Options& options, const cf::cli::Diagnostics& diagnostics) {
  fs::path root = fs::absolute(options.verify_root).lexically_normal();
  if (!root.has_filename()) root = root.parent_path();
  check_root_fits_manifest(root, options);
  if (!fs::is_directory(root)) throw cf::Error(fmt::format("{}: not a directory", root.string()));
  const auto catalog = ModelCatalog::load_default();
  // Shared: verifications run side by side, but never in the middle of an install.
  const auto lock = lock_root(root, RootLock::Mode::shared, options, diagnostics);
  std::ostringstream rows;
  cf::cli::RecordWriter writer(rows, format_of(options), manifest_schema());
  std::vector<LoadCheck> checks;
  std::vector<std::string> unknown;
  for (auto& check : check_root(root)) {
    if (auto name = parse_load_name(check.load, catalog); !name)
      unknown.push_back(fmt::format("{}.loads ({})", cf::printable(check.load), name.error()));
    else
      checks.push_back(std::move(check));
  }
  if (!unknown.empty())
    diagnostics.warning(fmt::format("{} .loads file(s) in {} name no known load and are not listed: {}",
                                    unknown.size(), root.string(), some_of(unknown)));
  std::size_t incomplete = 0;
  for (const auto& check : checks) {
    if (!check.complete()) {
      ++incomplete;
      for (const auto& problem : check.problems)
        diagnostics.error(fmt::format("{} is incomplete: {} is {}", check.load, problem.file, problem.problem));
      continue;
    }
    writer.write(manifest_row(check, catalog, root.string(), recovery_target(check, checks)).values());
  }
  std::cout << rows.str() << std::flush;
  if (incomplete > 0)
    throw cf::VerificationError(fmt::format("{} of {} load(s) in {} are incomplete", incomplete, checks.size(),
                                            root.string()));
  if (checks.empty()) diagnostics.warning(fmt::format("{}: no .loads files, so no loads", root.string()));
  return 0;
}

int unpack(const Options& options, const cf::cli::Diagnostics& diagnostics) {
  const auto inputs = expand_inputs(options.inputs);
  const auto catalog = ModelCatalog::load_default();
  fs::path root;
  std::optional<RootLock> lock;
  std::unique_ptr<StagingDir> staging;
  if (!options.list) {
    root = fs::absolute(options.root).lexically_normal();
    if (root.has_filename() == false) root = root.parent_path();
    check_root_fits_manifest(root, options);
    if (!fs::is_directory(root)) throw cf::Error(fmt::format("{}: not a directory", root.string()));
    // Staging folders are made and cleaned under the root lock (root_lock.hpp);
    // the lock is let go while the inputs are read, so another run's long unpack
    // does not hold this one up, and taken again to plan and install.
    lock = lock_root(root, RootLock::Mode::exclusive, options, diagnostics);
    if (const auto removed = remove_stale_staging(root, *lock); !removed.empty())
      diagnostics.note(fmt::format("removed {} staging folder(s) left in {} by interrupted runs: {}", removed.size(),
                                   root.string(), some_of(removed)));
    staging = std::make_unique<StagingDir>(root);
    lock.reset();
  } else {
    staging = std::make_unique<StagingDir>(fs::temp_directory_path());
  }

  std::uint64_t total = 0;
  std::error_code ec;
  for (const auto& input : inputs)
    if (fs::is_regular_file(input, ec)) total += fs::file_size(input, ec);
  const bool bar_enabled = cf::cli::terminal_policy(2).animations() && total >= kProgressThreshold;
  std::uint64_t done_before = 0;
  cf::cli::ProgressBar bar(std::cerr, bar_enabled, "fwunpack", total);
  ExtractLimits limits;
  limits.max_bytes = options.max_bytes;
  limits.max_ratio = options.max_ratio;
  limits.max_entries = options.max_entries;
  Extractor extractor(staging->path(), limits, [&](std::uint64_t done) { bar.update(done_before + done); });
  for (const auto& input : inputs) {
    extractor.add(input);
    if (fs::is_regular_file(input, ec)) done_before += fs::file_size(input, ec);
  }
  bar.finish();

  // From here to the last rename the root must not change under us: the plan
  // looks into it for components the inputs lack, install() for conflicts.
  if (!options.list) lock = lock_root(root, RootLock::Mode::exclusive, options, diagnostics);
  const auto plan = plan_loads(extractor.files(), options.list ? fs::path() : root, options.force, diagnostics,
                               !options.no_root_terms);
  if (!plan.skipped.empty()) {
    std::vector<std::string> names;
    for (const auto& skipped : plan.skipped)
      names.push_back(fmt::format("{} ({}; from {})", skipped.file, skipped.reason, plan.files.at(skipped.file)->origin()));
    diagnostics.warning(fmt::format("{} .loads file(s) name no known load; skipped, not installed: {}",
                                    plan.skipped.size(), some_of(names)));
  }
  if (!plan.ignored.empty()) {
    std::string names;
    std::size_t shown = 0;
    for (auto it = plan.ignored.begin(); it != plan.ignored.end() && shown < 4; ++it, ++shown)
      names += fmt::format("{}{} ({})", shown ? ", " : "", *it, plan.files.at(*it)->origin());
    if (plan.ignored.size() > shown) names += fmt::format(" and {} more", plan.ignored.size() - shown);
    diagnostics.note(fmt::format("{} file(s) belong to no load; not installed: {}", plan.ignored.size(), names));
  }
  if (plan.loads.empty() && plan.recovery.empty())
    throw cf::VerificationError(plan.skipped.empty() ? "the inputs hold no .loads file, so no load to install"
                                                     : "the inputs hold no .loads file of a known load, so no load to install");

  if (options.list) {
    cf::cli::RecordWriter files(std::cout, format_of(options),
                                {{"file", cf::cli::Column::Kind::text}, {"bytes", cf::cli::Column::Kind::integer},
                                 {"role", cf::cli::Column::Kind::text}, {"member", cf::cli::Column::Kind::text}});
    for (const auto& [name, file] : plan.files) {
      const std::string role = plan.ignored.contains(name)  ? "ignored"
                               : plan.extras.contains(name) ? "extra"
                               : name.ends_with(".loads")   ? "loads"
                                                            : "component";
      files.write({name, std::to_string(file->size), role, file->origin()});
    }
  }
  const auto problems = describe_problems(plan);
  report_lines(diagnostics, cf::cli::Severity::error, problems, 20);
  if (!problems.empty())
    throw cf::VerificationError(options.list ? "the inputs hold incomplete loads"
                                             : fmt::format("nothing was installed in {}", root.string()));
  if (options.list) return 0;

  std::ostringstream manifest;
  cf::cli::RecordWriter writer(manifest, format_of(options), manifest_schema());
  print_rows(plan, catalog, root.string(), writer);
  const auto summary = install(plan, root, options.force, diagnostics, !options.no_root_terms);
  lock.reset();
  std::cout << manifest.str() << std::flush;
  if (!summary.terms_written.empty())
    diagnostics.note(fmt::format("kept {} term file variant(s) under {} for fwunpack --set-term: {}",
                                 summary.terms_written.size(), (root / std::string(kKeptTermDir)).string(),
                                 some_of(summary.terms_written)));
  if (summary.installed.empty() && summary.terms_written.empty())
    diagnostics.note(fmt::format("{}: everything was already installed; nothing changed", root.string()));
  return 0;
}

// --set-term: one line per term file of the model, "term FILE LOAD" (TSV) or
// {"term":FILE,"load":LOAD} (--json), printed after the rename.
int set_term(const Options& options, const cf::cli::Diagnostics& diagnostics) {
  fs::path root = fs::absolute(options.root).lexically_normal();
  if (!root.has_filename()) root = root.parent_path();
  if (!fs::is_directory(root)) throw cf::Error(fmt::format("{}: not a directory", root.string()));
  const auto catalog = ModelCatalog::load_default();
  const auto* model = catalog.find_model(options.model);
  if (model == nullptr)
    throw cf::Error(fmt::format("--model {}: not a model in the catalog", cf::printable(options.model)));
  std::string archive = "the archive that carries it";
  if (auto load = parse_load_name(options.set_term, catalog); load && load->family == model->family)
    archive = cf::upgrade::usual_archive(*model, load.value());
  // Exclusive: the staging folder and the rename, like an install.
  const auto lock = lock_root(root, RootLock::Mode::exclusive, options, diagnostics);
  const auto done = set_recovery_load(root, *model, options.set_term, catalog, archive);
  std::ostringstream out;
  for (const auto& term : done) {
    if (options.json)
      out << fmt::format("{{\"term\":\"{}\",\"load\":\"{}\"}}\n", term.term_file, term.load);
    else
      out << fmt::format("term\t{}\t{}\n", term.term_file, term.load);
    if (!term.changed)
      diagnostics.note(fmt::format("{} already names {}; left alone", (root / term.term_file).string(), term.load));
  }
  std::cout << out.str() << std::flush;
  if (!std::cout) throw cf::Error("writing to stdout failed");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  auto app = cf::cli::make_app(
      "fwunpack",
      "Unpack Cisco 79xx firmware archives, check every load is complete, install them\n"
      "atomically into a TFTP root and print the manifest (one line per load) for cnfgen.\n\n"
      "Examples:\n"
      "  fwunpack cmterm-7941_7961-sip.9-4-2SR3-1.zip -C /srv/tftp\n"
      "  fwunpack ~/Downloads/*.zip ~/Downloads/*.cop.sgn -C /srv/tftp | cnfgen xmldefault ...\n"
      "  fwunpack --list firewallcx-cisco-79xx-sip.zip\n"
      "  fwunpack --verify /srv/tftp\n"
      "  fwunpack --set-term SCCP41.8-5-2S --model 7961 -C /srv/tftp");
  Options options;
  app->add_option("inputs", options.inputs,
                  "Archives (.zip .tar .tar.gz .tgz .cop .cop.sgn .sgn, nested ones too; format found from "
                  "the content) or directories of already-extracted files; '-' reads one path a line from stdin");
  auto* dir = app->add_option("-C,--directory", options.root,
                              "Install into this TFTP root (each file renamed into place whole)");
  auto* verify = app->add_option("--verify", options.verify_root,
                                 "Check every load in this TFTP root; exit 3 if any is incomplete");
  auto* set_term_option = app->add_option(
      "--set-term", options.set_term,
      "Make the root's term file of --model name LOAD: install the variant fwunpack kept for LOAD under "
      "ROOT/.term (needs -C ROOT); prints 'term FILE LOAD'")
      ->option_text("LOAD");
  auto* model_option = app->add_option("--model", options.model, "Phone model for --set-term, e.g. 7961");
  auto* list = app->add_flag("--list", options.list,
                             "Show what the inputs hold (one record per file) and check their loads; install nothing");
  app->add_flag("--force", options.force,
                "Replace existing files with different bytes (and let the later input win a disagreement)");
  app->add_flag("--no-root-term", options.no_root_terms,
                "Put no termNN.default.loads into the root itself, only the kept variants under ROOT/.term: "
                "the migration chooses one with --set-term (scripts/sccp-to-sip does)");
  app->add_flag("--json", options.json, "Write JSON Lines instead of TSV");
  app->add_option("--max-bytes", options.max_bytes,
                  "Refuse inputs that unpack to more than this many bytes in total (default 1 GiB; K/M/G suffixes)")
      ->transform(CLI::AsSizeValue(false));
  app->add_option("--max-ratio", options.max_ratio,
                  "Refuse a container that expands past max(RATIO x its size, 16 MiB) (default 100)")
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1000000}));
  app->add_option("--max-entries", options.max_entries,
                  "Refuse inputs with more than this many archive entries and folder files in total (default 10000)")
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{100000000}));
  app->add_option("--lock-timeout", options.lock_timeout,
                  "Wait at most this many seconds for another fwunpack run on the same root (default 120; 0: do not wait)")
      ->check(CLI::Range(0u, 86400u));
  verify->excludes(dir)->excludes(list);
  dir->excludes(list);
  set_term_option->needs(model_option)->excludes(verify)->excludes(list);
  model_option->needs(set_term_option);

  return cf::cli::run_tool(*app, argc, argv, [&]() -> int {
    const auto diagnostics = cf::cli::Diagnostics::for_stderr("fwunpack");
    if (!options.set_term.empty()) {
      if (!options.inputs.empty()) throw cf::UsageError("--set-term takes a load, not input archives");
      if (options.root.empty()) throw cf::UsageError("--set-term needs the root: -C DIR");
      return set_term(options, diagnostics);
    }
    if (!options.verify_root.empty()) {
      if (!options.inputs.empty()) throw cf::UsageError("--verify takes a root, not input archives");
      return verify_root(options, diagnostics);
    }
    if (options.root.empty() && !options.list)
      throw cf::UsageError("say where to install with -C DIR (or use --list or --verify DIR)");
    return unpack(options, diagnostics);
  });
}

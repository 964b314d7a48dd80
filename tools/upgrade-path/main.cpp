// upgrade-path: plan the staged route of firmware loads from a phone's current
// load to a target, by the rules in data/upgrade-rules (see upgrade-path(1)).
#include <algorithm>
#include <iostream>
#include <optional>

#include <fmt/format.h>

#include "cf/cli/data_dir.hpp"
#include "cf/cli/text.hpp"
#include "cf/cli/records.hpp"
#include "cf/cli/tool.hpp"
#include "cf/firmware/catalog.hpp"
#include "cf/firmware/load_name.hpp"
#include "cf/upgrade/inventory.hpp"
#include "cf/upgrade/planner.hpp"
#include "cf/upgrade/reset_load.hpp"
#include "cf/upgrade/rules.hpp"

namespace {

using cf::firmware::LoadName;
using cf::firmware::Protocol;

struct Options {
  std::string model;
  std::vector<std::string> from;
  std::string to;
  std::string root;
  std::string manifest;
  std::string rules;
  bool json = false;
  bool explain = false;
  bool reset_load = false;
};

LoadName parse_phone_load(const std::string& text, const std::string& what,
                          const cf::firmware::ModelInfo& model,
                          const cf::firmware::ModelCatalog& catalog) {
  auto load = cf::firmware::parse_load_name(text, catalog);
  if (!load) throw cf::UsageError(fmt::format("{}: {}", what, load.error()));
  if (load->kind != cf::firmware::LoadKind::application)
    throw cf::UsageError(fmt::format("{}: {} is a {} load, not one a phone runs", what, text,
                                     to_string(load->kind)));
  if (load->family != model.family)
    throw cf::UsageError(fmt::format("{}: {} is a load of {}, but the {} belongs to {}", what, text,
                                     load->family, model.model, model.family));
  return std::move(load).value();
}

LoadName newest_of(Protocol protocol, const cf::upgrade::Inventory& inventory,
                   const cf::firmware::ModelInfo& model, bool have_sources) {
  if (!have_sources)
    throw cf::UsageError(fmt::format("--to {}: the newest load is looked up in --root or --manifest; give one",
                                     to_string(protocol)));
  std::optional<LoadName> newest;
  for (auto& load : inventory.loads_of_family(model.family))
    if (load.protocol == protocol && (!newest || newest->version < load.version ||
                                      (newest->version == load.version && newest->name < load.name)))
      newest = load;
  if (!newest)
    throw cf::Error(fmt::format("--to {}: no {} load of {} in the given root or manifest",
                                to_string(protocol), to_string(protocol), model.family));
  return *newest;
}

LoadName parse_from(const std::string& text, const cf::firmware::ModelInfo& model,
                    const cf::firmware::ModelCatalog& catalog) {
  if (text == "unknown" || text == "unknown-sccp") return cf::upgrade::unknown_load(model.family, Protocol::sccp);
  if (text == "unknown-sip") return cf::upgrade::unknown_load(model.family, Protocol::sip);
  return parse_phone_load(text, "--from", model, catalog);
}

// --reset-load: the load the model's termNN.default.loads should name for the
// fleet on the --from loads. Bad input is exit 1 here (a script passes what it
// found on the phones), usage 2, no safe load 3.
int run_reset_load(const Options& options) {
  if (options.root.empty()) throw cf::UsageError("--reset-load needs --root: only loads the root holds can be named");
  if (!options.manifest.empty()) throw cf::UsageError("--reset-load reads the root itself; drop --manifest");
  if (options.explain) throw cf::UsageError("--reset-load explains itself in its why column; drop --explain");
  const auto catalog = cf::firmware::ModelCatalog::load_default();
  const auto* model = catalog.find_model(options.model);
  if (model == nullptr)
    throw cf::Error(fmt::format("--model {}: not a model in the catalog ({})", options.model,
                                cf::data_file("models.tsv").string()));
  if (model->term_files.empty())
    throw cf::Error(fmt::format("--model {}: the {} has no term file, so a reset phone fetches no load by it",
                                options.model, model->model));
  const auto rules = options.rules.empty() ? cf::upgrade::RuleSet::load_default(catalog)
                                           : cf::upgrade::RuleSet::load(options.rules, catalog);
  cf::upgrade::Inventory inventory;
  inventory.scan_root(options.root, catalog);

  cf::upgrade::ResetRequest request;
  request.model = model;
  try {
    for (const auto& text : options.from) request.from.push_back(parse_from(text, *model, catalog));
    const std::string to = cf::to_lower(options.to);
    if (to == "sip" || to == "sccp")
      request.target = newest_of(cf::firmware::parse_protocol(to).value(), inventory, *model, true);
    else
      request.target = parse_phone_load(options.to, "--to", *model, catalog);
  } catch (const cf::UsageError& error) {
    throw cf::Error(error.what());
  }
  // Only whole loads: a term file must not send a reset phone to missing files.
  for (const auto& load : inventory.loads_of_family(model->family))
    if (cf::upgrade::check_complete({load}, inventory, rules, *model).empty()) request.known.push_back(load);

  const auto choice = cf::upgrade::choose_reset_load(rules, request, catalog);
  if (!choice.load) throw cf::Error(choice.blocked, cf::ExitCode::verification_failed);
  cf::cli::RecordWriter writer(std::cout,
                               options.json ? cf::cli::RecordFormat::json_lines : cf::cli::RecordFormat::tsv,
                               {{"model"}, {"term"}, {"load"}, {"protocol"}, {"version"}, {"why"}});
  const auto& load = *choice.load;
  writer.write({model->model, model->term_files.front(), load.name, std::string(to_string(load.protocol)),
                load.version.text, choice.why});
  std::cout.flush();
  if (!std::cout) throw cf::Error("writing to stdout failed");
  return 0;
}

int run(const Options& options) {
  if (options.reset_load) return run_reset_load(options);
  if (options.from.size() != 1) throw cf::UsageError("--from: one load (several only with --reset-load)");
  const auto diagnostics = cf::cli::Diagnostics::for_stderr("upgrade-path");
  const auto catalog = cf::firmware::ModelCatalog::load_default();
  const auto* model = catalog.find_model(options.model);
  if (model == nullptr)
    throw cf::UsageError(fmt::format("--model {}: not a model in the catalog ({})", options.model,
                                     cf::data_file("models.tsv").string()));
  const auto rules = options.rules.empty() ? cf::upgrade::RuleSet::load_default(catalog)
                                           : cf::upgrade::RuleSet::load(options.rules, catalog);

  cf::upgrade::Inventory inventory;
  if (!options.root.empty()) inventory.scan_root(options.root, catalog);
  if (!options.manifest.empty()) {
    cf::cli::Input input(options.manifest);
    inventory.read_manifest(input.stream(), input.name(), catalog);
  }
  const bool have_sources = !options.root.empty() || !options.manifest.empty();

  cf::upgrade::PlanRequest request;
  request.model = model;
  request.from = parse_from(options.from.front(), *model, catalog);
  const std::string to = cf::to_lower(options.to);
  if (to == "sip" || to == "sccp")
    request.target = newest_of(cf::firmware::parse_protocol(to).value(), inventory, *model, have_sources);
  else
    request.target = parse_phone_load(options.to, "--to", *model, catalog);
  request.known = inventory.loads_of_family(model->family);
  request.only_known = have_sources;

  const auto outcome = cf::upgrade::plan_route(rules, request, catalog);
  if (!outcome.steps) {
    // A root that lacks every load of a stone class fails verification, like a
    // root that lacks a step's load: what is missing is named, and can be added.
    if (outcome.lacks_stone && request.only_known)
      throw cf::Error(outcome.blocked, cf::ExitCode::verification_failed);
    throw cf::Error(outcome.blocked);
  }
  const auto& steps = *outcome.steps;

  if (options.explain) {
    if (steps.empty())
      std::cout << fmt::format("The {} already runs {}; nothing to do.\n", model->model,
                               request.target.name);
    for (const auto& step : steps) std::cout << step.explanation << '\n';
  } else {
    cf::cli::RecordWriter writer(std::cout,
                                 options.json ? cf::cli::RecordFormat::json_lines
                                              : cf::cli::RecordFormat::tsv,
                                 {{"step", cf::cli::Column::Kind::integer},
                                  {"model"}, {"load"}, {"protocol"}, {"version"}, {"why"}});
    for (std::size_t i = 0; i < steps.size(); ++i) {
      const auto& load = steps[i].load;
      writer.write({std::to_string(i + 1), model->model, load.name,
                    std::string(to_string(load.protocol)), load.version.text, steps[i].why});
    }
  }
  std::cout.flush();
  if (!std::cout) throw cf::Error("writing to stdout failed");

  std::vector<LoadName> loads;
  for (const auto& step : steps) loads.push_back(step.load);
  const auto missing = cf::upgrade::check_complete(loads, inventory, rules, *model);
  if (missing.empty() || !have_sources) return 0;
  for (const auto& gap : missing) {
    // Without --root the manifest's directories may be elsewhere: only say what it lacks.
    if (options.root.empty() && !gap.files.empty()) continue;
    const auto message =
        gap.files.empty()
            ? fmt::format("{} is a step of the plan but is not in {}; it usually ships in {}",
                          gap.load, options.root.empty() ? "the manifest" : options.root, gap.archive)
        : gap.rule == nullptr
            ? fmt::format("{} is incomplete: {}; it usually ships in {}", gap.load,
                          fmt::join(gap.files, ", "), gap.archive)
            : fmt::format("{} is incomplete: {} missing beside it ({}); it usually ships in {}",
                          gap.load, fmt::join(gap.files, ", "), gap.rule->citation(), gap.archive);
    if (options.root.empty())
      diagnostics.warning(message);
    else
      diagnostics.error(message);
  }
  if (options.root.empty()) return 0;
  return static_cast<int>(cf::ExitCode::verification_failed);
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  auto app = cf::cli::make_app(
      "upgrade-path",
      "Plan the staged route of firmware loads that takes a phone from the load it runs to a "
      "target load without skipping a required stepping stone. Prints one record per step: "
      "#step model load protocol version why.");
  app->add_option("--model,-m", options.model, "Phone model, e.g. 7960, 7961G-GE, CP-7945G")
      ->required();
  app->add_option("--from,-f", options.from,
                  "The load the phone runs (e.g. P00303010102, SCCP41.8-2-2SR2S), or 'unknown' "
                  "(SCCP of any age: the route through every mandatory stepping stone) or "
                  "'unknown-sip'; with --reset-load, repeat it for each load the fleet runs")
      ->required()
      ->allow_extra_args(false);
  app->add_option("--to,-t", options.to,
                  "Target load name, or 'sip' / 'sccp' for the newest such load in --root or "
                  "--manifest")
      ->required();
  app->add_option("--root,-r", options.root,
                  "TFTP root: plan only through the loads it holds (a stepping stone is any load "
                  "of the rule's class; the plan names the class it lacks), and every step's load "
                  "must be complete there (else exit 3)");
  app->add_option("--manifest", options.manifest,
                  "fwunpack manifest (TSV or JSON Lines; '-' = stdin) listing installed loads");
  app->add_option("--rules", options.rules, "Rules file instead of the installed upgrade-rules");
  app->add_flag("--json", options.json, "Write the steps as JSON Lines");
  app->add_flag("--explain", options.explain,
                "Print one sentence per step (why, which rule, its source) instead of records");
  app->add_flag("--reset-load", options.reset_load,
                "Print the load the model's termNN.default.loads should name now: the newest load in --root on "
                "the routes from the --from loads to --to that every --from load is or may jump to in one step "
                "(#model term load protocol version why); exit 3 if none is");
  return cf::cli::run_tool(*app, argc, argv, [&] { return run(options); });
}

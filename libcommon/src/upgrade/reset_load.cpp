#include "cf/upgrade/reset_load.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <tuple>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "cf/cli/error.hpp"
#include "cf/upgrade/planner.hpp"

namespace cf::upgrade {
namespace {

// As the --from argument spells it: "unknown" and "unknown-sip" share a name.
std::string spelled(const LoadName& load) {
  if (is_unknown(load)) return load.protocol == firmware::Protocol::sip ? "unknown-sip" : "unknown";
  return load.name;
}

}  // namespace

ResetChoice choose_reset_load(const RuleSet& rules, const ResetRequest& request,
                              const firmware::ModelCatalog& catalog) {
  if (request.model == nullptr || request.from.empty()) throw Error("choose_reset_load: no model or no phones");
  rules.require_jump_rules(request.model->family);
  const auto family_rules = rules.for_family(request.model->family);
  ResetChoice choice;

  std::vector<LoadName> fleet;
  std::set<std::string> seen;
  for (const auto& load : request.from)
    if (seen.insert(spelled(load)).second) fleet.push_back(load);

  std::map<std::string, const LoadName*> known;
  for (const auto& load : request.known)
    if (load.family == request.model->family && load.kind == firmware::LoadKind::application)
      known.emplace(load.name, &load);

  std::map<std::string, LoadName> candidates;
  if (const auto it = known.find(request.target.name); it != known.end()) candidates.emplace(it->first, *it->second);
  for (const auto& from : fleet) {
    PlanRequest plan;
    plan.model = request.model;
    plan.from = from;
    plan.target = request.target;
    plan.known = request.known;
    plan.only_known = true;
    const auto outcome = plan_route(rules, plan, catalog);
    if (!outcome.steps) {
      choice.blocked = fmt::format("the phones on {} have no route to {} through the root, so no term file is safe "
                                   "for the whole fleet: {}",
                                   spelled(from), request.target.name, outcome.blocked);
      return choice;
    }
    for (const auto& step : *outcome.steps)
      if (const auto it = known.find(step.load.name); it != known.end()) candidates.emplace(it->first, *it->second);
  }
  if (candidates.empty()) {
    choice.blocked = fmt::format("the root holds no complete load on the routes to {} (nor {} itself)",
                                 request.target.name, request.target.name);
    return choice;
  }

  std::vector<LoadName> order;
  for (auto& [name, load] : candidates) order.push_back(load);
  const auto protocol = request.target.protocol;
  std::sort(order.begin(), order.end(), [&](const LoadName& a, const LoadName& b) {
    // Newest first; at one version the target's protocol first; then by name.
    return std::make_tuple(b.version, b.protocol == protocol, a.name) <
           std::make_tuple(a.version, a.protocol == protocol, b.name);
  });

  std::vector<std::string> refused;
  std::set<const Rule*> cited;  // for the blocked message: each rule's note and source once
  for (const auto& candidate : order) {
    std::vector<std::string> one_step, already;
    std::string refusal;
    for (const auto& from : fleet) {
      if (!is_unknown(from) && from.name == candidate.name) {
        already.push_back(spelled(from));
        continue;
      }
      const auto verdict = judge_jump(family_rules, from, candidate);
      if (verdict.allowed) {
        one_step.push_back(spelled(from));
        continue;
      }
      refusal = verdict.forbidden_by != nullptr
                    ? fmt::format("{}: rule {} forbids the jump from {}", candidate.name, verdict.forbidden_by->id,
                                  spelled(from))
                    : fmt::format("{}: no jump from {}", candidate.name, spelled(from));
      if (verdict.forbidden_by != nullptr) cited.insert(verdict.forbidden_by);
      break;
    }
    if (!refusal.empty()) {
      refused.push_back(std::move(refusal));
      continue;
    }
    choice.load = candidate;
    std::vector<std::string> parts;
    if (!one_step.empty()) parts.push_back(fmt::format("one step for {}", fmt::join(one_step, ", ")));
    if (!already.empty()) parts.push_back(fmt::format("already on it: {}", fmt::join(already, ", ")));
    if (candidate.name == request.target.name) parts.push_back("the target");
    for (const auto& text : refused) parts.push_back("not " + text);
    choice.why = fmt::format("{}", fmt::join(parts, "; "));
    return choice;
  }
  choice.blocked = fmt::format("no load in the root is one step for every phone ({}): {}",
                               fmt::join([&] {
                                 std::vector<std::string> names;
                                 for (const auto& from : fleet) names.push_back(spelled(from));
                                 return names;
                               }(), ", "),
                               fmt::join(refused, "; "));
  for (const auto* rule : cited) choice.blocked += fmt::format(" [{}: {} {}]", rule->id, rule->note, rule->citation());
  return choice;
}

}  // namespace cf::upgrade

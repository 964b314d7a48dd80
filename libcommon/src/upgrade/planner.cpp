#include "cf/upgrade/planner.hpp"
#include "cf/cli/text.hpp"

#include <algorithm>
#include <cctype>
#include <limits>
#include <set>
#include <tuple>

#include <fmt/format.h>

namespace cf::upgrade {
namespace {

using firmware::Protocol;

constexpr std::string_view kUnknownName = "unknown";

// Shortest first, then fewer protocol switches, then fewer steps away from the
// starting protocol (switch late), then fewer loads that no rule names.
using Cost = std::tuple<int, int, int, int>;

std::string describe(const LoadName& load) {
  if (is_unknown(load)) return fmt::format("an {} load of unknown age", to_string(load.protocol));
  return fmt::format("{} ({} {})", load.name, to_string(load.protocol), load.version.text);
}

bool any_uncertain(const std::vector<const Rule*>& rules) {
  return std::any_of(rules.begin(), rules.end(), [](const Rule* r) { return r->uncertain; });
}

std::string rule_clause(const Rule& rule) {
  return fmt::format("{} [{}]", rule.note, rule.citation());
}

}  // namespace

LoadName unknown_load(const std::string& family, Protocol protocol) {
  LoadName load;
  load.name = std::string(kUnknownName);
  load.family = family;
  load.protocol = protocol;
  load.version = firmware::Version{{}, "unknown"};  // sorts below every version
  return load;
}

bool is_unknown(const LoadName& load) { return load.name == kUnknownName && load.version.key.empty(); }

std::vector<LoadName> candidate_loads(const RuleSet& rules, const PlanRequest& request,
                                      const firmware::ModelCatalog& catalog) {
  const auto& family = request.model->family;
  std::vector<LoadName> out;
  std::set<std::string> seen;
  const auto add = [&](const LoadName& load) {
    if (is_unknown(load) || load.family != family || load.kind != firmware::LoadKind::application)
      return;
    if (seen.insert(load.name).second) out.push_back(load);
  };
  for (const auto& load : request.known) add(load);
  add(request.from);
  add(request.target);
  for (const auto* rule : rules.for_family(family)) {
    if (rule->kind != RuleKind::forbid) continue;
    for (const auto& stone : rule->expand_via(*request.model, "")) {
      auto load = firmware::parse_load_name(stone, catalog);
      if (load) add(load.value());
    }
  }
  std::sort(out.begin(), out.end(), [](const LoadName& a, const LoadName& b) {
    return std::tie(a.version, a.name) < std::tie(b.version, b.name);
  });
  return out;
}

PlanOutcome plan_route(const RuleSet& rules, const PlanRequest& request,
                       const firmware::ModelCatalog& catalog) {
  PlanOutcome outcome;
  if (!is_unknown(request.from) && request.from.name == request.target.name) {
    outcome.steps.emplace();
    return outcome;
  }
  const auto family_rules = rules.for_family(request.model->family);
  std::set<std::string> stones;
  for (const auto* rule : family_rules)
    if (rule->kind == RuleKind::forbid)
      for (const auto& stone : rule->expand_via(*request.model, "")) stones.insert(stone);

  // Node 0 is the start; the others are the candidate loads (minus the start).
  std::vector<LoadName> nodes{request.from};
  for (auto& load : candidate_loads(rules, request, catalog))
    if (load.name != request.from.name || is_unknown(request.from)) nodes.push_back(std::move(load));
  const std::size_t n = nodes.size();
  std::size_t target = n;
  for (std::size_t i = 1; i < n; ++i)
    if (nodes[i].name == request.target.name) target = i;

  constexpr int kInf = std::numeric_limits<int>::max();
  std::vector<Cost> cost(n, Cost{kInf, kInf, kInf, kInf});
  std::vector<std::size_t> previous(n, n);
  std::vector<bool> done(n, false);
  cost[0] = Cost{0, 0, 0, 0};
  const auto start_protocol = request.from.protocol;
  for (std::size_t round = 0; round < n; ++round) {
    std::size_t best = n;
    for (std::size_t i = 0; i < n; ++i)
      if (!done[i] && std::get<0>(cost[i]) != kInf && (best == n || cost[i] < cost[best])) best = i;
    if (best == n || best == target) break;
    done[best] = true;
    for (std::size_t next = 1; next < n; ++next) {
      if (done[next] || next == best) continue;
      if (!judge_jump(family_rules, nodes[best], nodes[next]).allowed) continue;
      auto [steps, switches, away, unnamed] = cost[best];
      const Cost candidate{steps + 1, switches + (nodes[next].protocol != nodes[best].protocol),
                           away + (nodes[next].protocol != start_protocol),
                           unnamed + (next != target && !stones.contains(nodes[next].name))};
      if (candidate < cost[next]) {
        cost[next] = candidate;
        previous[next] = best;
      }
    }
  }

  if (target == n || std::get<0>(cost[target]) == kInf) {
    const auto verdict = judge_jump(family_rules, request.from, request.target);
    const Rule* rule = verdict.forbidden_by;
    outcome.blocked =
        rule == nullptr
            ? fmt::format("no route from {} to {}", describe(request.from), request.target.name)
            : fmt::format("no route from {} to {}: {} forbids the direct jump ({}) and no known "
                          "load leads around it{}",
                          describe(request.from), request.target.name, rule->citation(), rule->note,
                          rule->via.empty() ? "" : fmt::format(" (its stepping stones: {})",
                                                               fmt::join(rule->expand_via(*request.model, ""), ", ")));
    return outcome;
  }

  std::vector<std::size_t> path;
  for (std::size_t at = target; at != 0; at = previous[at]) path.push_back(at);
  path.push_back(0);
  std::reverse(path.begin(), path.end());

  std::vector<Step> steps;
  for (std::size_t i = 1; i < path.size(); ++i) {
    const LoadName& here = nodes[path[i - 1]];
    const LoadName& load = nodes[path[i]];
    Step step;
    step.load = load;
    const auto edge = judge_jump(family_rules, here, load);
    const bool last = i + 1 == path.size();
    std::string sentence = fmt::format("Step {}: load {}", i, describe(load));
    if (last) {
      step.why = "target";
      sentence += ", the target";
    } else {
      // On a shortest route the direct jump to the target is always forbidden.
      const auto direct = judge_jump(family_rules, here, request.target);
      const Rule* rule = direct.forbidden_by;
      if (rule != nullptr) {
        step.rules.push_back(rule);
        const auto named = rule->expand_via(*request.model, "");
        const bool is_named = std::find(named.begin(), named.end(), load.name) != named.end();
        step.why = fmt::format("{} {}", is_named ? "stepping stone of" : "detour around", rule->id);
        sentence += fmt::format(", because {} may not jump straight to {}: {}", describe(here),
                                request.target.name, rule_clause(*rule));
      } else {
        step.why = "stepping stone";
      }
    }
    if (edge.forbidden_by != nullptr && edge.allowed_by != nullptr) {
      step.rules.push_back(edge.allowed_by);
      step.why += fmt::format("; allowed by {} over {}", edge.allowed_by->id, edge.forbidden_by->id);
      sentence += fmt::format("; the jump is allowed by {}", rule_clause(*edge.allowed_by));
    }
    step.uncertain = any_uncertain(step.rules);
    if (step.uncertain) {
      step.why += " (uncertain)";
      sentence += "; the rule is marked uncertain in the reference, so watch this step";
    }
    step.explanation = sentence + ".";
    steps.push_back(std::move(step));
  }
  outcome.steps = std::move(steps);
  return outcome;
}

std::string usual_archive(const firmware::ModelInfo& model, const LoadName& load) {
  std::string dashed;
  const auto dot = load.name.find('.');
  if (dot != std::string::npos) {
    // SCCP41.9-4-2SR3-1S: the download repeats the dashed version without the S.
    dashed = load.name.substr(dot + 1);
    if (dashed.size() > 1 && dashed.back() == 'S' && !dashed.ends_with("SR")) dashed.pop_back();
  } else {
    for (const char c : load.version.text) {
      if (c == '.' || c == '(') dashed += '-';
      else if (c != ')') dashed += c;
    }
  }
  return fmt::format("{}-{}.{}.zip", model.bundle, to_lower(to_string(load.protocol)), dashed);
}

}  // namespace cf::upgrade

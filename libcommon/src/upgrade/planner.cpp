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
  if (!request.only_known)
    for (const auto* rule : rules.for_family(family))
      for (const auto& stone : rule->preferred(*request.model)) {
        auto load = firmware::parse_load_name(stone, catalog);
        if (load) add(load.value());
      }
  std::sort(out.begin(), out.end(), [](const LoadName& a, const LoadName& b) {
    return std::tie(a.version, a.name) < std::tie(b.version, b.name);
  });
  return out;
}

namespace {

// Loads below the start (same protocol, the target excepted), jumps that only an
// uncertain allow rule permits, steps, protocol switches, steps away from the
// starting protocol, and the sum of the stone ranks.
using Cost = std::tuple<int, int, int, int, int, int>;
constexpr int kInf = std::numeric_limits<int>::max();

// Within one protocol only: the 7940/7960 number SCCP and SIP loads apart (SCCP
// 8.0(9) is older than SIP 5.3 in no useful sense).
bool is_down(const LoadName& from, const LoadName& to) {
  return !is_unknown(from) && from.protocol == to.protocol && to.version < from.version;
}

// 0: a stone a rule prefers (the seed's); 1: the newest candidate of some rule's
// stone class; 2: any other load.
std::vector<int> stone_ranks(const std::vector<LoadName>& nodes,
                             const std::vector<const Rule*>& rules,
                             const firmware::ModelInfo& model) {
  std::vector<int> rank(nodes.size(), 2);
  for (const auto* rule : rules) {
    if (rule->kind != RuleKind::forbid) continue;
    const auto preferred = rule->preferred(model);
    std::size_t newest = nodes.size();
    for (std::size_t i = 0; i < nodes.size(); ++i) {
      if (std::find(preferred.begin(), preferred.end(), nodes[i].name) != preferred.end())
        rank[i] = 0;
      else if (rule->stones && rule->stones->matches(nodes[i]) &&
               (newest == nodes.size() || nodes[newest].version < nodes[i].version))
        newest = i;
    }
    if (newest != nodes.size()) rank[newest] = std::min(rank[newest], 1);
  }
  return rank;
}

// Why no route reaches the target: the rule that forbids the direct jump, and
// the stone classes that would lead around a blocking rule but that no candidate
// fills (what the admin must add to the root).
std::string explain_blocked(const std::vector<LoadName>& nodes, const std::vector<bool>& reached,
                            const std::vector<const Rule*>& rules, const PlanRequest& request,
                            const firmware::ModelCatalog& catalog, const std::vector<Step>* relaxed_route,
                            bool& lacks_stone) {
  const auto& target = request.target;
  std::string text = fmt::format("no route from {} to {}", describe(request.from), target.name);
  const auto direct = judge_jump(rules, request.from, target).forbidden_by;
  if (direct != nullptr)
    text += fmt::format(": {} forbids the direct jump ({})", direct->citation(), direct->note);
  std::vector<const Rule*> lacking;
  const auto note_lacking = [&](const Rule* rule) {
    if (std::find(lacking.begin(), lacking.end(), rule) == lacking.end()) lacking.push_back(rule);
  };
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    if (!reached[i]) continue;
    const auto* rule = judge_jump(rules, nodes[i], target).forbidden_by;
    if (rule == nullptr || rule->kind != RuleKind::forbid || (!rule->stones && rule->prefer.empty()))
      continue;
    const bool filled = std::any_of(nodes.begin(), nodes.end(), [&](const LoadName& n) {
      return n.name != target.name && rule->is_stone(n, *request.model);
    });
    if (!filled) note_lacking(rule);
  }
  // A class can be filled and still out of reach (a 5.x phone refuses the root's
  // 8.1 loader and needs 8.0(4) first): the route with the rules' preferred stones
  // says which of them the root lacks.
  if (lacking.empty() && relaxed_route != nullptr) {
    for (const auto& step : *relaxed_route) {
      if (step.load.name == target.name ||
          std::any_of(nodes.begin(), nodes.end(), [&](const LoadName& n) { return n.name == step.load.name; }))
        continue;
      for (const auto* rule : rules) {
        if (rule->kind != RuleKind::forbid || !rule->is_stone(step.load, *request.model)) continue;
        const bool filled = std::any_of(nodes.begin(), nodes.end(), [&](const LoadName& n) {
          return n.name != target.name && rule->is_stone(n, *request.model);
        });
        if (filled) continue;  // the root has that class; the narrower one is missing
        note_lacking(rule);
        break;
      }
    }
  }
  lacks_stone = !lacking.empty();
  for (const auto* rule : lacking) {
    text += fmt::format("; the route needs {} (rule {}), and {}", rule->describe_stones(*request.model),
                        rule->id, request.only_known ? "the root holds none" : "none is known");
    std::vector<std::string> archives;
    for (const auto& name : rule->preferred(*request.model))
      if (auto load = firmware::parse_load_name(name, catalog))
        archives.push_back(usual_archive(*request.model, load.value()));
    if (!archives.empty()) text += fmt::format(" ({} usually ships in {})", fmt::join(rule->preferred(*request.model), ", "), fmt::join(archives, ", "));
  }
  return text;
}

}  // namespace

PlanOutcome plan_route(const RuleSet& rules, const PlanRequest& request,
                       const firmware::ModelCatalog& catalog) {
  rules.require_jump_rules(request.model->family);
  PlanOutcome outcome;
  if (!is_unknown(request.from) && request.from.name == request.target.name) {
    outcome.steps.emplace();
    return outcome;
  }
  const auto family_rules = rules.for_family(request.model->family);

  // Node 0 is the start; the others are the candidate loads (minus the start).
  std::vector<LoadName> nodes{request.from};
  for (auto& load : candidate_loads(rules, request, catalog))
    if (load.name != request.from.name || is_unknown(request.from)) nodes.push_back(std::move(load));
  const std::size_t n = nodes.size();
  std::size_t target = n;
  for (std::size_t i = 1; i < n; ++i)
    if (nodes[i].name == request.target.name) target = i;
  const auto rank = stone_ranks(nodes, family_rules, *request.model);

  std::vector<Cost> cost(n, Cost{kInf, kInf, kInf, kInf, kInf, kInf});
  std::vector<std::size_t> previous(n, n);
  std::vector<bool> done(n, false);
  cost[0] = Cost{0, 0, 0, 0, 0, 0};
  const auto start_protocol = request.from.protocol;
  for (std::size_t round = 0; round < n; ++round) {
    std::size_t best = n;
    for (std::size_t i = 0; i < n; ++i)
      if (!done[i] && std::get<0>(cost[i]) != kInf && (best == n || cost[i] < cost[best])) best = i;
    if (best == n) break;
    done[best] = true;
    if (best == target) break;
    for (std::size_t next = 1; next < n; ++next) {
      if (done[next] || next == best) continue;
      const auto verdict = judge_jump(family_rules, nodes[best], nodes[next]);
      if (!verdict.allowed) continue;
      auto [downs, doubtful, steps, switches, away, ranks] = cost[best];
      const bool below = next != target && is_down(request.from, nodes[next]);
      const bool on_doubt = verdict.forbidden_by != nullptr && verdict.allowed_by->uncertain;
      const Cost candidate{downs + below, doubtful + on_doubt, steps + 1,
                           switches + (nodes[next].protocol != nodes[best].protocol),
                           away + (nodes[next].protocol != start_protocol),
                           ranks + (next == target ? 0 : rank[next])};
      if (candidate < cost[next]) {
        cost[next] = candidate;
        previous[next] = best;
      }
    }
  }

  if (target == n || std::get<0>(cost[target]) == kInf) {
    std::optional<std::vector<Step>> relaxed_route;
    if (request.only_known) {
      auto relaxed = request;
      relaxed.only_known = false;
      relaxed_route = plan_route(rules, relaxed, catalog).steps;
    }
    outcome.blocked = explain_blocked(nodes, done, family_rules, request, catalog,
                                      relaxed_route ? &*relaxed_route : nullptr, outcome.lacks_stone);
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
    step.down = is_down(here, load);
    const auto edge = judge_jump(family_rules, here, load);
    const bool last = i + 1 == path.size();
    std::string sentence = fmt::format("Step {}: load {}", i, describe(load));
    if (last) {
      step.why = "target";
      sentence += ", the target";
    } else {
      const auto direct = judge_jump(family_rules, here, request.target);
      const Rule* rule = direct.forbidden_by;
      if (rule != nullptr) {
        step.rules.push_back(rule);
        step.why = fmt::format("{} {}", rule->is_stone(load, *request.model) ? "stepping stone of" : "detour around",
                               rule->id);
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
    if (step.down) {
      step.why += "; down";
      sentence += fmt::format("; this steps down from {} (the rules leave no route that does not)",
                              here.version.text);
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

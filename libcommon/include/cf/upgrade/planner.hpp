#pragma once
// The route planner: a search over the loads of one family, whose edges are the
// one-step jumps the rules allow (rules.hpp). It prefers, in this order: fewer
// loads older than the start (same protocol, the target excepted: a needless
// downgrade is a risk of its own), fewer jumps that only an uncertain allow rule
// permits, fewer steps, fewer protocol switches, keeping
// the starting protocol longest, and stepping stones the rules prefer (the seed's
// loads), else the newest load of a stone class.
#include <optional>
#include <string>
#include <vector>

#include "cf/firmware/catalog.hpp"
#include "cf/firmware/load_name.hpp"
#include "cf/upgrade/rules.hpp"

namespace cf::upgrade {

// The start of a phone whose load nobody knows: SCCP (or SIP) older than any
// load, so every rule about old loads applies to it (DESIGN: "SCCP firmware of
// unknown age").
LoadName unknown_load(const std::string& family, firmware::Protocol protocol);
bool is_unknown(const LoadName& load);

struct Step {
  LoadName load;
  std::string why;                   // short, for the record's why column
  std::string explanation;           // a sentence, for --explain
  std::vector<const Rule*> rules;    // the rules that make this step needed or allowed
  bool uncertain = false;            // some rule in `rules` is uncertain
  bool down = false;                 // older than the load before it, same protocol
};

struct PlanRequest {
  const firmware::ModelInfo* model = nullptr;
  LoadName from;                     // a load of the model's family, or unknown_load()
  LoadName target;
  std::vector<LoadName> known;       // loads installed or listed
  // false: the rules' preferred stepping stones are candidates too, whether or not
  // they are known (a plan without a root names what to download); true: only
  // `known` loads (a plan through what a root holds).
  bool only_known = false;
};

struct PlanOutcome {
  std::optional<std::vector<Step>> steps;  // nullopt: no route
  std::string blocked;                     // why there is no route, naming the rule
  bool lacks_stone = false;                // a stone class that no candidate fills blocks it
};

// Throws cf::Error when no rule speaks about the family's jumps (fail closed).
PlanOutcome plan_route(const RuleSet& rules, const PlanRequest& request,
                       const firmware::ModelCatalog& catalog);

// Every load the planner considers for a request: known ones, from, target and
// (unless only_known) the stepping stones the family's rules prefer; deduplicated
// by name.
std::vector<LoadName> candidate_loads(const RuleSet& rules, const PlanRequest& request,
                                      const firmware::ModelCatalog& catalog);

// The Cisco download that usually carries a load, from the catalog's bundle
// column: SCCP41.8-5-2S -> cmterm-7941_7961-sccp.8-5-2.zip.
std::string usual_archive(const firmware::ModelInfo& model, const LoadName& load);

}  // namespace cf::upgrade

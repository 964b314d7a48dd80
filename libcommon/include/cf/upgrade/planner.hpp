#pragma once
// The route planner: a shortest-path search over the loads of one family, whose
// edges are the one-step jumps the rules allow (rules.hpp). Ties between routes of
// equal length go to fewer protocol switches, then to the route that keeps the
// starting protocol longest, then to the rules' own stepping stones.
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
};

struct PlanRequest {
  const firmware::ModelInfo* model = nullptr;
  LoadName from;                     // a load of the model's family, or unknown_load()
  LoadName target;
  std::vector<LoadName> known;       // loads installed or listed; rule stepping stones are added
};

struct PlanOutcome {
  std::optional<std::vector<Step>> steps;  // nullopt: no route
  std::string blocked;                     // why there is no route, naming the rule
};

PlanOutcome plan_route(const RuleSet& rules, const PlanRequest& request,
                       const firmware::ModelCatalog& catalog);

// Every load the planner considers for a request: known ones, from, target and
// the stepping stones the family's rules name; deduplicated by name.
std::vector<LoadName> candidate_loads(const RuleSet& rules, const PlanRequest& request,
                                      const firmware::ModelCatalog& catalog);

// The Cisco download that usually carries a load, from the catalog's bundle
// column: SCCP41.8-5-2S -> cmterm-7941_7961-sccp.8-5-2.zip.
std::string usual_archive(const firmware::ModelInfo& model, const LoadName& load);

}  // namespace cf::upgrade

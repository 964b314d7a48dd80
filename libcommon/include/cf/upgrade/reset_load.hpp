#pragma once
// The load a factory-reset phone should find in its termNN.default.loads: a
// reset phone forgets where it was in the migration and installs whatever that
// file names (reference phone-behaviour 4), so the file must name a load that
// every phone of the fleet may take in one step, and the newest such load, so
// the reset does not throw a phone further back than it was.
#include <optional>
#include <string>
#include <vector>

#include "cf/firmware/catalog.hpp"
#include "cf/firmware/load_name.hpp"
#include "cf/upgrade/rules.hpp"

namespace cf::upgrade {

struct ResetRequest {
  const firmware::ModelInfo* model = nullptr;
  std::vector<LoadName> from;   // the loads the fleet runs; unknown_load() allowed
  LoadName target;
  std::vector<LoadName> known;  // the family's complete loads in the root
};

struct ResetChoice {
  std::optional<LoadName> load;  // nullopt: no load is safe for every phone
  std::string why;               // which phones it is one step for; why newer ones are not
  std::string blocked;           // when !load: the reason, naming loads and rules
};

// Among the known loads that lie on a planned route (plan_route through the
// known loads only) from some `from` load to the target, the target included,
// the newest (version, then the target's protocol, then name) that every
// `from` load either is or may jump to in one step (judge_jump, the planner's
// edge check). A `from` load with no route to the target blocks the answer
// (fail closed: the root cannot take that phone to the target). Throws
// cf::Error when no rule speaks about the family's jumps.
ResetChoice choose_reset_load(const RuleSet& rules, const ResetRequest& request,
                              const firmware::ModelCatalog& catalog);

}  // namespace cf::upgrade

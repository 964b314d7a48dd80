#!/usr/bin/env bash
# A fleet in one run: 40 simulated phones, 10 of each demo model and load,
# migrated by scripts/sccp-to-sip in a namespaced lab (tests/lib/fleet.sh). Every
# phone must end done, planned from the load it announced, having flashed exactly
# the loads of its plan in order (no step skipped, none repeated; the 7940s on
# P00305000500 never sent back to P00303010102), no flash cut.
set -euo pipefail
# shellcheck source=../lib/common.sh
source "$CF_SOURCE_DIR/tests/lib/common.sh"
# shellcheck source=../lib/fleet.sh
source "$CF_SOURCE_DIR/tests/lib/fleet.sh"
((EUID == 0)) || cf_skip "the lab needs root for network namespaces"
command -v jq >/dev/null || cf_skip "jq is not installed"

per_model=${CF_FLEET_PER_MODEL:-10}
work=$(cf_tmpdir)
rc=0
fleet_migrate "$per_model" "$work" || rc=$?
cf_log_register "$work/fleet.out" fleet
[[ $rc == 0 ]] || cf_fail "the fleet migration exited $rc: $(grep -E 'failed|error' "$work/fleet.out" | tail -10)"
problems=$(fleet_check "$work" "$per_model")
[[ -z "$problems" ]] || cf_fail "fleet: $problems"
grep -q $'\tP00305000500,P00303010102' "$work/fleet.state" && cf_fail "a 7940 was planned down"
echo "e2e: $((4 * per_model)) phones migrated in $(cat "$work/seconds") s, each through exactly its plan"

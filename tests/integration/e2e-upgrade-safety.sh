#!/usr/bin/env bash
# The migration's safety rules in a namespaced lab (scripts/lab, tests/phonesim):
#   1. phones that write flash for longer than --stall-seconds are never
#      power-cycled mid-flash (phonesim records every interrupted flash), and every
#      phone is done, the 7940's loader stage included;
#   2. the control: a flash window shorter than the phones' flash (--flash-window)
#      lets the stall rule cut a flash, and phonesim records it, so test 1 can fail;
#   3. a phone whose announced load differs from what the state file expected is
#      planned again from that load and never sent through the old route;
#   4. phones as sites have them: an ITL from a CUCM cluster and an Alternate TFTP
#      setting (each diagnosed with its remedy, not looped), an old image's read
#      requests and a UAL 7940 looping on a missing CTL file (both migrate);
#   5. a factory-reset 7961 on 8.2(2) installs what term61.default.loads names before
#      any config: the migration makes that 8.5(2) (not the newest load, which an
#      old-key phone refuses with Auth Fail), and it follows the fleet to the target.
set -euo pipefail
# shellcheck source=../lib/common.sh
source "$CF_SOURCE_DIR/tests/lib/common.sh"
((EUID == 0)) || cf_skip "the lab needs root for network namespaces"
command -v jq >/dev/null || cf_skip "jq is not installed"

work=$(cf_tmpdir)
firmware="$work/firmware"
"$CF_SOURCE_DIR/tests/fixtures/make-firmware" -q --scale 0.02 --only good "$firmware"
rm -f "$firmware/expected.json"
migrate=("$CF_SOURCE_DIR/scripts/sccp-to-sip" --asterisk 10.213.7.1 --idle-seconds 8
         --discover-seconds 60 --archives "$firmware")
last_state() { tail -n 1 "$1/phones/$2/results.jsonl"; }
interruptions() { jq '.flash_interruptions // [] | length' "$1/phones/$2/state.json"; }

# lab_run NAME FLASH_SECONDS SCRIPT_ARGS -- PHONES...: one lab, one migration.
lab_run() {
  local name=$1 flash=$2 extra=$3 rc=0
  shift 4
  local phones=()
  for p in "$@"; do phones+=(--phone "$p"); done
  "$CF_SOURCE_DIR/scripts/lab" --bin "$CF_BIN_DIR" --root "$work/$name.root" --dir "$work/$name" \
    --flash-seconds "$flash" "${phones[@]}" -- bash -c "$(printf '%q ' "${migrate[@]}") $extra \
      --root \"\$CF_LAB_ROOT\" --events \"\$CF_LAB_TFTP_EVENTS\" --dhcp-events \"\$CF_LAB_DHCP_EVENTS\" \
      --expect $# --reset-cmd \"\$CF_LAB_DIR/bin/reset-phone\" --state $work/$name.state \
      --asterisk-dir $work/$name.ast" >"$work/$name.out" 2>&1 || rc=$?
  mkdir -p "$work/$name.ast"
  cf_log_register "$work/$name.out" "$name"
  return "$rc"
}

# ------------------------------------------------ 1. flash longer than the stall
lab_run slow 40 "--stall-seconds 15 --timeout 500" -- \
  7961,00:1E:4A:05:79:61,SCCP41.8-2-2S 7940,00:1E:4A:05:79:40,P00308000900 ||
  cf_fail "the slow-flash migration failed: $(tail -20 "$work/slow.out")"
for mac in 001E4A057961 001E4A057940; do
  cf_assert_eq 0 "$(interruptions "$work/slow" "$mac")" "$mac flashes cut by a power-cycle"
  cf_assert_eq running "$(jq -r .state <<<"$(last_state "$work/slow" "$mac")")" "$mac state"
done
cf_assert_eq SIP41.9-4-2SR3-1S "$(jq -r .load <<<"$(last_state "$work/slow" 001E4A057961)")" "7961 load"
cf_assert_eq P0S3-8-12-00 "$(jq -r .load <<<"$(last_state "$work/slow" 001E4A057940)")" "7940 load"
cf_assert_contains "$(cat "$work/slow.out")" "it writes flash now"
echo "e2e: 40 s flashes with a 15 s stall rule: no flash cut, every phone done"

# ------------------------------------- 2. the control: a too-short flash window
lab_run cut 30 "--stall-seconds 5 --flash-window 1 --timeout 45" -- \
  7961,00:1E:4A:06:79:61,SCCP41.8-5-2S || true
(( $(interruptions "$work/cut" 001E4A067961) >= 1 )) ||
  cf_fail "a power-cycle inside the flash window went unnoticed: phonesim must record it"
echo "e2e: the control run cut a flash, and phonesim recorded it"

# -------------------------------- 3. an announcement the state did not expect
mkdir -p "$work/replan.root"
printf '#mac\tmodel\textension\tsecret\tname\tplan\tstep\tstatus\tfrom\n' >"$work/replan.state"
printf '001E4A077961\t7961\t301\tsecret301\tRe\tSCCP41.8-5-2S,SIP41.9-4-2SR3-1S\t1\tstepping\tSCCP41.8-2-2S\n' \
  >>"$work/replan.state"
chmod 600 "$work/replan.state"
lab_run replan 1 "--stall-seconds 20 --timeout 120" -- 7961,00:1E:4A:07:79:61,SIP41.8-5-2S ||
  cf_fail "the re-planned migration failed: $(tail -20 "$work/replan.out")"
cf_assert_contains "$(cat "$work/replan.out")" "announces SIP41.8-5-2S, but its state expected SCCP41.8-2-2S"
state=$(last_state "$work/replan" 001E4A077961)
cf_assert_eq SIP41.9-4-2SR3-1S "$(jq -r .load <<<"$state")" "re-planned phone's load"
cf_assert_eq '["SIP41.9-4-2SR3-1S"]' "$(jq -c .loads <<<"$state")" "re-planned phone's flashed loads"
echo "e2e: a phone on another load than the state expected was planned again from it"

# ------------------- 4. phones real sites have: trust lists, old requests, alt TFTP
# A 7961 holding a CUCM ITL never takes our config: diagnosed with its remedy, not
# counted as done, not looped. A 7960 whose image sends old read requests (no
# options, a trailing NUL) migrates. A 7965 with Alternate TFTP set elsewhere is
# diagnosed with the setting to change.
rc=0
lab_run sites 1 "--stall-seconds 15 --idle-seconds 8 --timeout 200" -- \
  7961,00:1E:4A:08:79:61,SCCP41.8-5-2S,itl 7960,00:1E:4A:08:79:60,P00308000900,old-rrq \
  7965,00:1E:4A:08:79:65,SCCP45.8-5-2S,alt-tftp=10.213.7.99 \
  7940,00:1E:4A:08:79:40,P00305000500,ctl-loop || rc=$?
cf_assert_eq 1 "$rc" "exit with two phones that cannot be moved"
out=$(cat "$work/sites.out")
cf_assert_contains "$out" "phone 001E4A087961: failed: it asks for SEP001E4A087961.cnf.xml.sgn"
cf_assert_contains "$out" "Trust List > ITL File"
cf_assert_contains "$out" "phone 001E4A087965: failed: it takes a DHCP lease but never asks this TFTP server"
cf_assert_contains "$out" "Alternate TFTP"
cf_assert_eq SCCP41.8-5-2S "$(jq -r .load <<<"$(last_state "$work/sites" 001E4A087961)")" "ITL phone's load"
cf_assert_eq untrusted-config "$(jq -r .state <<<"$(last_state "$work/sites" 001E4A087961)")" "ITL phone's state"
# Diagnosed once, not power-cycled round after round.
(( $(grep -c '^{' "$work/sites/phones/001E4A087961/results.jsonl") <= 4 )) ||
  cf_fail "the ITL phone was booted again and again: $(grep -c '^{' "$work/sites/phones/001E4A087961/results.jsonl") boots"
state=$(last_state "$work/sites" 001E4A087960)
cf_assert_eq running "$(jq -r .state <<<"$state")" "old-rrq phone's state"
cf_assert_eq P0S3-8-12-00 "$(jq -r .load <<<"$state")" "old-rrq phone's load"
grep -q "001E4A087960.*done" "$work/sites.out" || cf_fail "the old-rrq phone is not done"
# A UAL 7940 that loops on a missing CTLSEP<MAC>.tlv gets the empty file and migrates.
cf_assert_eq P0S3-8-12-00 "$(jq -r .load <<<"$(last_state "$work/sites" 001E4A087940)")" "ctl-loop phone's load"
cf_assert_file_exists "$work/sites.root/CTLSEP001E4A087940.tlv"
echo "e2e: ITL and Alternate TFTP diagnosed with their remedies; old read requests served"

# ----------------------------------------------- 5. a factory reset asks term61
rc=0
lab_run reset 1 "--stall-seconds 20 --timeout 240" -- \
  7961,00:1E:4A:09:79:61,SCCP41.8-2-2S,factory-reset 7961,00:1E:4A:09:79:62,SCCP41.8-5-2S || rc=$?
cf_assert_eq 0 "$rc" "the migration with a factory-reset phone: $(tail -20 "$work/reset.out")"
results="$work/reset/phones/001E4A097961/results.jsonl"
if grep -q '"state": "auth-fail"' "$results"; then cf_fail "the reset phone was offered a load it refuses: $(cat "$results")"; fi
cf_assert_eq '"SCCP41.8-5-2S"' "$(jq -c '.loads[0]' "$work/reset/phones/001E4A097961/state.json")" "the reset phone's first load"
cf_assert_eq SIP41.9-4-2SR3-1S "$(jq -r .load <<<"$(last_state "$work/reset" 001E4A097961)")" "the reset phone's load"
cf_assert_contains "$(cat "$work/reset.out")" "term61.default.loads: names SCCP41.8-5-2S"
cf_assert_contains "$(cat "$work/reset.out")" "term61.default.loads: names SIP41.9-4-2SR3-1S"
echo "e2e: a factory-reset phone took the term file's 8.5(2), then its plan; term61 ends on the target"

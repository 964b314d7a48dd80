# A fleet lab for tests and benches: 4 x PER_MODEL simulated phones, the demo's
# models and loads (7940 on P00305000500, 7960 on P00303010102, 7961 on
# SCCP41.8-2-2S, 7965 on SCCP45.8-5-2S), migrated by scripts/sccp-to-sip in one run.
# Needs root, jq, built tools; CF_SOURCE_DIR and CF_BIN_DIR set.

declare -A fleet_start=([7940]=P00305000500 [7960]=P00303010102 [7961]=SCCP41.8-2-2S [7965]=SCCP45.8-5-2S)

# fleet_migrate PER_MODEL WORK: firmware, lab and migration under WORK; the
# migration's own wall time in seconds goes to WORK/seconds. Returns its exit code.
fleet_migrate() {
  local per_model=$1 work=$2 m i rc=0 phones=()
  mkdir -p "$work"
  "$CF_SOURCE_DIR/tests/fixtures/make-firmware" -q --scale 0.01 --only good "$work/firmware"
  rm -f "$work/firmware/expected.json"
  for m in 7940 7960 7961 7965; do
    for ((i = 0; i < per_model; i++)); do
      phones+=(--phone "$(printf '%s,00:1E:4A:%s:%02X:%02X,%s' "$m" "${m:2:2}" $((0x10 + i / 256)) \
                            $((i % 256)) "${fleet_start[$m]}")")
    done
  done
  "$CF_SOURCE_DIR/scripts/lab" --bin "$CF_BIN_DIR" --root "$work/root" --dir "$work/lab" \
    --flash-seconds 2 "${phones[@]}" -- bash -c "start=\$EPOCHREALTIME; $(printf '%q ' \
      "$CF_SOURCE_DIR/scripts/sccp-to-sip") --asterisk 10.213.7.1 --archives $work/firmware \
      --idle-seconds 10 --stall-seconds 180 --timeout 1800 --discover-seconds $((60 + per_model * 2)) \
      --expect $((4 * per_model)) --root \"\$CF_LAB_ROOT\" --events \"\$CF_LAB_TFTP_EVENTS\" \
      --dhcp-events \"\$CF_LAB_DHCP_EVENTS\" --reset-cmd \"\$CF_LAB_DIR/bin/reset-phone\" \
      --state $work/fleet.state --asterisk-dir $work; rc=\$?; \
      awk -v a=\$start -v b=\$EPOCHREALTIME 'BEGIN { printf \"%.1f\\n\", b - a }' >$work/seconds; exit \$rc" >"$work/fleet.out" 2>&1 || rc=$?
  return "$rc"
}

# fleet_check WORK PER_MODEL: prints one line per problem (a phone not done, not
# planned from its announced load, whose flashed loads differ from its plan, or
# whose flash was cut); prints nothing when the fleet is whole.
fleet_check() {
  local work=$1 per_model=$2 checked=0 mac model plan step status from state flashed
  while IFS=$'\t' read -r mac model _ _ _ plan step status from; do
    [[ "$mac" == \#* ]] && continue
    checked=$((checked + 1))
    [[ "$status" == done ]] || echo "$mac: status $status"
    [[ "$from" == "${fleet_start[$model]}" ]] || echo "$mac: planned from $from, not ${fleet_start[$model]}"
    state=$(jq -c . "$work/lab/phones/$mac/state.json")
    flashed=$(jq -r '[.loads[] | select(startswith("P003-") | not)] | join(",")' <<<"$state")
    [[ "$flashed" == "$plan" ]] || echo "$mac: flashed $flashed, planned $plan"
    [[ "$(jq '.flash_interruptions // [] | length' <<<"$state")" == 0 ]] || echo "$mac: a flash was cut"
  done <"$work/fleet.state"
  ((checked == 4 * per_model)) || echo "the state file has $checked phones, not $((4 * per_model))"
}

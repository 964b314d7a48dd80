#!/usr/bin/env bash
# The main job end to end: simulated phones (tests/phonesim) in a namespaced lab
# (scripts/lab) go from old SCCP loads to SIP through scripts/sccp-to-sip, our
# cisco-dhcpd and cisco-tftpd, with faults injected on the way:
#   1. a mixed fleet reaches SIP, registered to the proxy, each phone's TFTP log
#      showing its intermediate loads in order, while cisco-tftpd is killed and
#      restarted mid-transfer, cisco-dhcpd is restarted (same addresses after),
#      and one phone loses power in the middle of a load;
#   2. a needed intermediate load is missing: the script stops before any phone
#      moves;
#   3. DHCP loses option 150 after the 7960's loader stage: the phone shows
#      "Protocol Application Invalid", the script says so and how to fix it, and
#      once option 150 is back a rerun finishes the phone.
set -euo pipefail
# shellcheck source=../lib/common.sh
source "$CF_SOURCE_DIR/tests/lib/common.sh"
((EUID == 0)) || cf_skip "the lab needs root for network namespaces"
command -v jq >/dev/null || cf_skip "jq is not installed"

work=$(cf_tmpdir)
firmware="$work/firmware"
"$CF_SOURCE_DIR/tests/fixtures/make-firmware" -q --scale 0.03 --only good "$firmware"
rm -f "$firmware/expected.json"
lab=("$CF_SOURCE_DIR/scripts/lab" --bin "$CF_BIN_DIR" --flash-seconds 1)
migrate=("$CF_SOURCE_DIR/scripts/sccp-to-sip" --asterisk 10.213.7.1 --idle-seconds 8
         --stall-seconds 15 --timeout 240 --discover-seconds 60)

last_state() { tail -n 1 "$1/phones/$2/results.jsonl"; }
field() { jq -r "$2" <<<"$1"; }

# ---------------------------------------------------------------- 1. the fleet
cat >"$work/faults.sh" <<'EOF'
#!/usr/bin/env bash
# Kill cisco-tftpd while a firmware file is on the wire, then restart cisco-dhcpd
# once a first load has landed.
set -u
events=$CF_LAB_TFTP_EVENTS
until grep -q '"file":"[^"]*\.sbn"' "$events" 2>/dev/null; do sleep 0.05; done
kill -9 "$(cat "$CF_LAB_DIR/cisco-tftpd.pid")"
echo fault: cisco-tftpd killed >&2
sleep 2
"$CF_LAB_DIR/bin/restart-server" cisco-tftpd
until grep -q '"event":"load-complete"' "$events" 2>/dev/null; do sleep 0.1; done
"$CF_LAB_DIR/bin/restart-server" cisco-dhcpd
echo fault: cisco-dhcpd restarted >&2
EOF
cat >"$work/fleet.sh" <<EOF
#!/usr/bin/env bash
set -u
bash "$work/faults.sh" &
faults=\$!
trap 'kill \$faults 2>/dev/null' EXIT  # it waits for events that may never come
$(printf '%q ' "${migrate[@]}") --root "\$CF_LAB_ROOT" --archives "$firmware" \\
  --events "\$CF_LAB_TFTP_EVENTS" --dhcp-events "\$CF_LAB_DHCP_EVENTS" --expect 4 \\
  --reset-cmd "\$CF_LAB_DIR/bin/reset-phone" --state "$work/fleet.state" --asterisk-dir "$work" \
  --kamailio-db "\$CF_LAB_KAMAILIO_DB" || exit \$?
# The registrar's own view once every phone had time to register (phones register
# when they boot on SIP; a refresh comes at half the granted expiry).
for _ in \$(seq 60); do
  [[ \$("\$CF_LAB_DIR/bin/registrar-dump" | grep -vc '^#') -ge 4 ]] && break
  sleep 1
done
"\$CF_LAB_DIR/bin/registrar-dump" >"$work/registrar.tsv"
EOF
status=0
"${lab[@]}" --root "$work/tftp1" --dir "$work/lab1" \
  --phone 7940,00:1E:4A:01:79:40,P00308000900 \
  --phone 7960,00:1E:4A:01:79:60,P00303010102 \
  --phone 7961,00:1E:4A:01:79:61,SCCP41.8-2-2S \
  --phone 7965,00:1E:4A:01:79:65,SCCP45.8-5-2S,power-loss-during=jar45sip.9-4-2ES26.sbn \
  -- bash "$work/fleet.sh" >"$work/fleet.out" 2>&1 || status=$?
cf_log_register "$work/fleet.out" fleet
[[ $status == 0 ]] || cf_fail "the fleet migration exited $status: $(tail -20 "$work/fleet.out")"

declare -A want=([001E4A017940]=P0S3-8-12-00 [001E4A017960]=P0S3-8-12-00
                 [001E4A017961]=SIP41.9-4-2SR3-1S [001E4A017965]=SIP45.9-4-2SR3-1S)
declare -A stones=([001E4A017940]="P003-8-12-00 P0S3-8-12-00"
                   [001E4A017960]="P00305000500 P00308000400 P003-8-12-00 P0S3-8-12-00"
                   [001E4A017961]="SCCP41.8-5-2S SIP41.9-4-2SR3-1S"
                   [001E4A017965]="SIP45.9-4-2SR3-1S")
for mac in "${!want[@]}"; do
  state=$(last_state "$work/lab1" "$mac")
  cf_assert_eq running "$(field "$state" .state)" "$mac state"
  cf_assert_eq "${want[$mac]}" "$(field "$state" .load)" "$mac final load"
  cf_assert_eq true "$(field "$state" .registered)" "$mac registered"
  # ... and the registrar itself lists the phone's extension with a contact.
  ext=$(awk -F'\t' -v m="$mac" '$1 == m { print $3 }' "$work/fleet.state")
  awk -F'\t' -v e="$ext" '$1 == e && $2 ~ /^sip:/ { found = 1 } END { exit !found }' "$work/registrar.tsv" ||
    cf_fail "$mac (extension $ext) is not in the registrar's table: $(cat "$work/registrar.tsv")"
  cf_assert_eq 10.213.7.1 "$(field "$state" .proxy)" "$mac proxy"
  # The loads it flashed end with the stepping stones in order (an unknown start
  # may add steps before them).
  flashed=$(field "$state" '.loads | join(" ")')
  [[ "$flashed" == *"${stones[$mac]}" ]] || cf_fail "$mac flashed '$flashed', expected it to end with '${stones[$mac]}'"
  # ... and its own TFTP log shows each load's .loads fetched in that order.
  fetched=$(jq -r 'select(.result == "ok" and (.file | endswith(".loads"))) | .file' \
              "$work/lab1/phones/$mac/tftp.jsonl" | sed 's/\.loads$//' | uniq | tr '\n' ' ')
  for load in ${stones[$mac]}; do
    [[ "$load" == P003-* ]] && continue  # the loader comes inside the P0S3 load
    [[ " $fetched" == *" $load "* ]] || cf_fail "$mac never fetched $load.loads (fetched: $fetched)"
  done
done
grep -q '"state": "power-lost"' "$work/lab1/phones/001E4A017965/results.jsonl" ||
  cf_fail "the power-loss fault never fired"
grep -q "fault: cisco-tftpd killed" "$work/fleet.out" || cf_fail "cisco-tftpd was never killed"
grep -q "fault: cisco-dhcpd restarted" "$work/fleet.out" || cf_fail "cisco-dhcpd was never restarted"
# Leases kept: every phone got one address, before and after the restart.
for mac in "${!want[@]}"; do
  addresses=$(jq -r --arg m "$mac" 'select(.event == "ack" and ((.mac | ascii_upcase | gsub(":"; "")) == $m)) | .ip' \
                "$work/lab1/dhcp.jsonl" | sort -u | wc -l)
  cf_assert_eq 1 "$addresses" "$mac addresses over the dhcpd restart"
done
grep -q '^\[endpoint-\|type *= *endpoint' "$work/pjsip.conf" || cf_fail "no endpoints in pjsip.conf"
echo "e2e: fleet of 4 reached SIP through tftpd kill, dhcpd restart and a power loss"

# ------------------------------------------------- 2. a needed load is missing
partial="$work/partial"
mkdir -p "$partial"
cp "$firmware"/cmterm-7941_7961-*.9-4-2SR3-1.zip "$firmware"/cmterm-7941_7961-*.8-3-3.zip "$partial"/
status=0
"${lab[@]}" --root "$work/tftp2" --dir "$work/lab2" --phone 7961,00:1E:4A:02:79:61,SCCP41.8-2-2S \
  -- bash -c "$(printf '%q ' "${migrate[@]}") --root \"\$CF_LAB_ROOT\" --archives $partial \
       --events \"\$CF_LAB_TFTP_EVENTS\" --dhcp-events \"\$CF_LAB_DHCP_EVENTS\" --expect 1 \
       --reset-cmd \"\$CF_LAB_DIR/bin/reset-phone\" \
       --state $work/missing.state" >"$work/missing.out" 2>&1 || status=$?
cf_assert_eq 3 "$status" "exit code with a load missing"
cf_assert_contains "$(cat "$work/missing.out")" "cmterm-7941_7961-sccp.8-5-2.zip"
cf_assert_contains "$(cat "$work/missing.out")" "no phone was touched"
ls "$work/tftp2"/SEP* >/dev/null 2>&1 && cf_fail "a SEP file was written although a load is missing"
# Its flash, not its last end state: a phone that cannot get its config never ends.
cf_assert_eq '[]' "$(jq -c .loads "$work/lab2/phones/001E4A027961/state.json")" "phone untouched"
echo "e2e: a missing intermediate load stops the script before any phone moves"

# ------------------------------------------- 3. no option 150 after the loader
cat >"$work/pai.sh" <<EOF
#!/usr/bin/env bash
set -u
# DHCP loses option 150 as soon as the phone starts on its SIP load (the loader stage).
( until grep -q '"file":"P0S3-8-12-00.loads"' "\$CF_LAB_TFTP_EVENTS" 2>/dev/null; do sleep 0.05; done
  "\$CF_LAB_DIR/bin/restart-server" cisco-dhcpd --no-option-150 ) &
run() {
  $(printf '%q ' "${migrate[@]}") --root "\$CF_LAB_ROOT" --archives "$firmware" \\
    --events "\$CF_LAB_TFTP_EVENTS" --dhcp-events "\$CF_LAB_DHCP_EVENTS" --expect 1 \\
    --reset-cmd "\$CF_LAB_DIR/bin/reset-phone" --state "$work/pai.state" --asterisk-dir "$work"
}
run && { echo "first run should have failed"; exit 1; }
wait
echo "== option 150 back, rerun"
"\$CF_LAB_DIR/bin/restart-server" cisco-dhcpd
run
EOF
status=0
"${lab[@]}" --root "$work/tftp3" --dir "$work/lab3" --phone 7960,00:1E:4A:03:79:60,P00308000900 \
  -- bash "$work/pai.sh" >"$work/pai.out" 2>&1 || status=$?
cf_log_register "$work/pai.out" no-option-150
[[ $status == 0 ]] || cf_fail "the rerun with option 150 back exited $status: $(tail -20 "$work/pai.out")"
cf_assert_contains "$(cat "$work/pai.out")" "Protocol Application Invalid"
cf_assert_contains "$(cat "$work/pai.out")" "option 150"
grep -q '"state": "protocol-application-invalid"' "$work/lab3/phones/001E4A037960/results.jsonl" ||
  cf_fail "the phone never showed Protocol Application Invalid"
state=$(last_state "$work/lab3" 001E4A037960)
cf_assert_eq running "$(field "$state" .state)" "7960 after the fix"
cf_assert_eq P0S3-8-12-00 "$(field "$state" .load)" "7960 load after the fix"
echo "e2e: Protocol Application Invalid diagnosed, and the phone recovered"

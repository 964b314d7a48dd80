#!/usr/bin/env bash
# Real phones never stop retrying a file they cannot get (phone-behaviour.md 8), so a
# stuck phone is never silent: scripts/sccp-to-sip must notice that the same load file
# keeps failing and give the phone up naming that file, instead of waiting for a
# silence that never comes, and leave nothing running when it ends. Driven by a
# synthetic cisco-tftpd event stream.
# shellcheck source=_lib.sh
source "$(dirname "$0")/_lib.sh"
export PATH="${CF_BIN_DIR}:${PATH}"

mac=001E4A000002
printf '%s\t7961\t202\tsecret2\tTwo\n' "$mac" >"$work/phones.tsv"
printf '{"event":"phone-announce","mac":"00:1e:4a:00:00:02","model":"7961","load":"SCCP41.8-5-2S"}\n' \
  >"$work/dhcp.jsonl"

"$CF_SOURCE_DIR/scripts/sccp-to-sip" --root "$root" --events "$work/events.jsonl" \
  --dhcp-events "$work/dhcp.jsonl" --asterisk 127.0.0.1 --phones "$work/phones.tsv" \
  --discover-seconds 0 --reset-cmd true --idle-seconds 60 --stall-seconds 4 --timeout 60 \
  --state "$work/state" --asterisk-dir "$work/ast" >"$work/out" 2>&1 &
pid=$!
cf_register_pid "$pid" sccp-to-sip
cf_wait_until 20 grep -q "step 1/1: SIP41.9-4-2SR3-1S" "$work/out" ||
  cf_fail "the script did not start stepping: $(cat "$work/out")"

# The phone reads its config, then asks for the load's file over and over: the
# server answers not-found each time (the root lost it after planning).
rm "$root/SIP41.9-4-2SR3-1S.bin"
for _ in $(seq 30); do
  kill -0 "$pid" 2>/dev/null || break
  printf '{"event":"transfer","mac":"%s","file":"SEP%s.cnf.xml","result":"ok"}\n' "$mac" "$mac" >>"$work/events.jsonl"
  printf '{"event":"transfer","mac":"%s","file":"SIP41.9-4-2SR3-1S.bin","result":"not-found"}\n' "$mac" \
    >>"$work/events.jsonl"
  sleep 0.5
done
rc=0
wait "$pid" || rc=$?
cf_assert_eq 1 "$rc" "exit status with a phone given up"
out=$(cat "$work/out")
cf_assert_contains "$out" "phone $mac: failed: it has asked for SIP41.9-4-2SR3-1S.bin for"
cf_assert_contains "$out" "this server answers not-found"
cf_assert_contains "$out" "fwunpack --verify $root"
grep -q "^$mac.*failed" "$work/out" || cf_fail "the summary does not show the phone as failed: $out"
# Nothing of the script outlives it: its event stream (tail -F | jq) ends with it.
no_leftovers() { ! pgrep -f "$work/events.jsonl" >/dev/null; }
cf_wait_until 5 no_leftovers ||
  cf_fail "processes left behind: $(pgrep -af "$work/events.jsonl")"
echo "sccp-to-sip: a phone that keeps retrying a missing file is given up, the file named"

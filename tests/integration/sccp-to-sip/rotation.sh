#!/usr/bin/env bash
# logrotate may move cisco-tftpd's event file in the middle of a migration
# (/etc/logrotate.d/ciscoflash). The server writes on into the moved file until
# its reload reopens the name: scripts/sccp-to-sip must still see those events
# (a load-complete missed there would let the stall rule power-cycle a phone that
# writes flash), then follow the new file. Driven by a synthetic event stream.
# shellcheck source=_lib.sh
source "$(dirname "$0")/_lib.sh"
export PATH="${CF_BIN_DIR}:${PATH}"

mac=001E4A000003
printf '%s\t7961\t203\tsecret3\tThree\n' "$mac" >"$work/phones.tsv"
printf '{"event":"phone-announce","mac":"00:1e:4a:00:00:03","model":"7961","load":"SCCP41.8-5-2S"}\n' \
  >"$work/dhcp.jsonl"
events="$work/events.jsonl"

"$CF_SOURCE_DIR/scripts/sccp-to-sip" --root "$root" --events "$events" \
  --dhcp-events "$work/dhcp.jsonl" --asterisk 127.0.0.1 --phones "$work/phones.tsv" \
  --discover-seconds 0 --reset-cmd true --idle-seconds 60 --stall-seconds 60 --timeout 60 \
  --state "$work/state" --asterisk-dir "$work/ast" >"$work/out" 2>&1 &
pid=$!
cf_register_pid "$pid" sccp-to-sip
cf_wait_until 20 grep -q "step 1/1: SIP41.9-4-2SR3-1S" "$work/out" ||
  cf_fail "the script did not start stepping: $(cat "$work/out")"

# The phone fetches its load; logrotate moves the file; the server, not yet
# reloaded, writes the load-complete into the moved file; reloaded, it writes the
# next event into a new file at the old name.
printf '{"event":"transfer","mac":"%s","file":"SIP41.9-4-2SR3-1S.loads","result":"ok"}\n' "$mac" >>"$events"
cf_wait_until 10 grep -q "SIP41.9-4-2SR3-1S.loads" "$events"
sleep 1
mv "$events" "$events.1"
sleep 1
printf '{"event":"load-complete","mac":"%s","load":"SIP41.9-4-2SR3-1S"}\n' "$mac" >>"$events.1"
printf '{"event":"transfer","mac":"%s","file":"SIP41.9-4-2SR3-1S.bin","result":"ok"}\n' "$mac" >>"$events"

cf_wait_until 10 grep -q "phone $mac: every file of SIP41.9-4-2SR3-1S sent; it writes flash now" "$work/out" ||
  cf_fail "the load-complete written to the moved file was missed: $(cat "$work/out")"
kill "$pid"
wait "$pid" 2>/dev/null || true
no_leftovers() { ! pgrep -f "$events" >/dev/null; }
cf_wait_until 5 no_leftovers || cf_fail "processes left behind: $(pgrep -af "$events")"
echo "sccp-to-sip: an event file moved by logrotate mid-migration loses no event"

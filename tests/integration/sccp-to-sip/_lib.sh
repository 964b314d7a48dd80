#!/usr/bin/env bash
# What the sccp-to-sip tests share: $work, and $root holding a 7961's SCCP and
# SIP load (a .loads naming a one-byte image each), and an empty
# $work/events.jsonl for the script to follow.
set -euo pipefail
# shellcheck source=../../lib/common.sh
source "${CF_SOURCE_DIR}/tests/lib/common.sh"
command -v jq >/dev/null || cf_skip "jq is not installed"

work=$(cf_tmpdir)
root="$work/root"
mkdir -p "$root"
for f in SCCP41.8-5-2S SIP41.9-4-2SR3-1S; do
  printf '%s\n' "$f.bin" >"$root/$f.loads"; printf x >"$root/$f.bin"
done
: >"$work/events.jsonl"

# start_stepping MAC EXTENSION STALL_SECONDS: scripts/sccp-to-sip in the background
# ($pid, its output in $work/out) for one 7961 that announces SCCP41.8-5-2S, back
# once the script has begun the phone's one step (SIP41.9-4-2SR3-1S).
start_stepping() {
  local mac=$1 extension=$2 stall=$3
  printf '%s\t7961\t%s\tsecret%s\tPhone %s\n' "$mac" "$extension" "$extension" "$extension" >"$work/phones.tsv"
  printf '{"event":"phone-announce","mac":"%s","model":"7961","load":"SCCP41.8-5-2S"}\n' \
    "$(sed 's/../&:/g; s/:$//' <<<"${mac,,}")" >"$work/dhcp.jsonl"
  "$CF_SOURCE_DIR/scripts/sccp-to-sip" --root "$root" --events "$work/events.jsonl" \
    --dhcp-events "$work/dhcp.jsonl" --asterisk 127.0.0.1 --phones "$work/phones.tsv" \
    --discover-seconds 0 --reset-cmd true --idle-seconds 60 --stall-seconds "$stall" --timeout 60 \
    --state "$work/state" --asterisk-dir "$work/ast" >"$work/out" 2>&1 &
  pid=$!
  cf_register_pid "$pid" sccp-to-sip
  cf_wait_until 20 grep -q "step 1/1: SIP41.9-4-2SR3-1S" "$work/out" ||
    cf_fail "the script did not start stepping: $(cat "$work/out")"
}

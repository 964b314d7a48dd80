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

#!/usr/bin/env bash
# Every broken fixture archive is refused with exit 3 and a message naming the
# archive and the offending entry or file, and leaves nothing in the root.
source "$(dirname "$0")/_lib.sh"
out="$(fw_fixtures --only broken)"
tmp="$(cf_tmpdir fwunpack)"
declare -A want=(
  [truncated-zip]="broken archive (truncated or corrupt)"
  [truncated-sbn]="dsp45.8-5-2TH1-9.sbn is broken: CNU file table promises"
  [missing-component]="SIP70.8-3-3S is incomplete: cvm70sip.8-3-3TH1-2.sbn is missing"
  [dotdot-path]="refused: '..' in the path"
  [absolute-path]="entry '/etc/cron.d/ciscoflash-evil': refused: absolute path"
  [symlink-entry]="entry 'escape': refused: symbolic link (-> ../../../../../etc)"
  [zip-bomb-ratio]="refused: expands past"
  [zip-bomb-declared]="refused: declares"
)
count=0
while IFS=$'\t' read -r name reason; do
  root="$tmp/root-${name//\//_}"
  mkdir "$root"
  set +e
  "$FWUNPACK" "$out/$name" -C "$root" >"$tmp/out" 2>"$tmp/err"
  rc=$?
  set -e
  cf_assert_eq 3 "$rc" "exit code for $name"
  cf_assert_contains "$(cat "$tmp/err")" "${want[$reason]}" "message for $name"
  [[ "$reason" == missing-component || "$reason" == truncated-sbn ]] ||
    cf_assert_contains "$(cat "$tmp/err")" "$out/$name" "the message names the archive"
  cf_assert_eq "" "$(grep -v '^#' "$tmp/out" || true)" "no manifest rows for $name"
  fw_assert_empty "$root"
  count=$((count + 1))
done < <(python3 -c '
import json, sys
for a in json.load(open(sys.argv[1]))["archives"]:
    if a["kind"] == "broken": print(a["name"] + "\t" + a["reason"])' "$out/expected.json")
cf_assert_eq 12 "$count" "broken archives tried"
[[ ! -e /tmp/ciscoflash-evil.sbn ]] || cf_fail "something was written to /tmp/ciscoflash-evil.sbn"

# --max-bytes lower than the load: refused, nothing left; declared sizes that lie are caught.
good="$(fw_fixtures --only cmterm-7941_7961-sccp.8-5-2.zip)"
root="$tmp/small"; mkdir "$root"
set +e
"$FWUNPACK" "$good/cmterm-7941_7961-sccp.8-5-2.zip" --max-bytes 20K -C "$root" 2>"$tmp/err"; rc=$?
set -e
cf_assert_eq 3 "$rc" "--max-bytes 20K"
cf_assert_contains "$(cat "$tmp/err")" "--max-bytes"
fw_assert_empty "$root"
set +e
"$FWUNPACK" "$out/broken/zip-bomb-declared.zip" --max-bytes 8G -C "$root" 2>"$tmp/err"; rc=$?
set -e
cf_assert_eq 3 "$rc" "lying declared size with a large --max-bytes"
cf_assert_contains "$(cat "$tmp/err")" "declares 5368709120 bytes but holds 65536"
fw_assert_empty "$root"
echo "ok: $count broken archives refused"

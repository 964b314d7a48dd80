#!/usr/bin/env bash
# A root whose path the manifest cannot carry (issue 13 item 17): found before
# the root is touched (no lock file, no staging folder, no files), exit 1. With
# --json the path can be carried, so the same root works.
source "$(dirname "$0")/_lib.sh"
out="$(fw_fixtures --only cmterm-7940-7960-sccp.8-0-9.zip)"
tmp="$(cf_tmpdir fwunpack)"
zip="$out/cmterm-7940-7960-sccp.8-0-9.zip"
for name in $'tab\there' $'line\nbreak' $'carriage\rreturn'; do
  root="$tmp/$name"; mkdir "$root"
  set +e
  "$FWUNPACK" "$zip" -C "$root" >"$tmp/out" 2>"$tmp/err"; rc=$?
  set -e
  cf_assert_eq 1 "$rc" "root $(printf %q "$name")"
  cf_assert_contains "$(cat "$tmp/err")" "cannot be named in the manifest"
  cf_assert_contains "$(cat "$tmp/err")" "nothing was read or written"
  cf_assert_eq "" "$(ls -A "$root")" "root $(printf %q "$name") untouched, not even a lock file"
  set +e
  "$FWUNPACK" --verify "$root" >/dev/null 2>"$tmp/err"; rc=$?
  set -e
  cf_assert_eq 1 "$rc" "--verify of root $(printf %q "$name")"
done
root="$tmp/"$'tab\there'
"$FWUNPACK" "$zip" -C "$root" --json >"$tmp/out" 2>"$tmp/err" || cf_fail "--json: $(cat "$tmp/err")"
python3 -c 'import json,sys; r=json.loads(open(sys.argv[1]).read()); assert r["dir"]==sys.argv[2], r' "$tmp/out" "$root"
echo ok

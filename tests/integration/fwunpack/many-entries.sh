#!/usr/bin/env bash
# 100,000 tiny entries (issue 13 item 19): refused by the default --max-entries
# (10000) with one message and nothing left in the root; allowed with a higher
# cap, they complete with one aggregated note, not one per entry. Timing figures
# are printed for the record (10k vs 100k shows the growth), never asserted.
source "$(dirname "$0")/_lib.sh"
out="$(fw_fixtures --only cmterm-7940-7960-sccp.8-0-9.zip)"
tmp="$(cf_tmpdir fwunpack)"
zip="$out/cmterm-7940-7960-sccp.8-0-9.zip"
python3 - "$zip" "$tmp" <<'PY'
import sys, zipfile
src, tmp = sys.argv[1:]
for count in (10_000, 100_000):
    with zipfile.ZipFile(src) as z, zipfile.ZipFile(f"{tmp}/many-{count}.zip", "w", zipfile.ZIP_STORED) as o:
        for info in z.infolist():
            o.writestr(info.filename, z.read(info))
        for i in range(count):
            o.writestr(f"docs/{i:06d}.txt", b"x")
PY

root="$tmp/capped"; mkdir "$root"
set +e
"$FWUNPACK" "$tmp/many-100000.zip" -C "$root" >"$tmp/out" 2>"$tmp/err"; rc=$?
set -e
cf_assert_eq 3 "$rc" "100,000 entries under the default cap"
cf_assert_contains "$(cat "$tmp/err")" "refused: more than --max-entries (10000) entries in total"
cf_assert_eq 1 "$(wc -l <"$tmp/err")" "one line of diagnostics"
fw_assert_empty "$root"

for count in 10000 100000; do
  root="$tmp/root-$count"; mkdir "$root"
  start=$(date +%s.%N)
  "$FWUNPACK" "$tmp/many-$count.zip" -C "$root" --max-entries 200000 >"$tmp/out" 2>"$tmp/err" ||
    cf_fail "$count entries with --max-entries 200000: $(head -c 2000 "$tmp/err")"
  end=$(date +%s.%N)
  cf_info "$count tiny entries: $(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.2f", b - a }') s"
  cf_assert_eq 1 "$(grep -c 'belong to no load' "$tmp/err")" "$count: one aggregated note"
  cf_assert_contains "$(cat "$tmp/err")" "$count file(s) belong to no load; not installed: 000000.txt"
  cf_assert_contains "$(cat "$tmp/err")" "and $((count - 4)) more"
  cf_assert_eq 1 "$(wc -l <"$tmp/err")" "$count: one line of diagnostics in all"
  cf_assert_eq "P00308000900" "$(grep -v '^#' "$tmp/out" | cut -f1)" "$count: the load is installed"
  cf_assert_eq "" "$(ls -A "$root" | grep -v -e '^P00308000900\.' -e '^\.fwunpack\.lock$' || true)" "$count: only the load"
done
echo ok

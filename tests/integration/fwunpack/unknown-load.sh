#!/usr/bin/env bash
# A .loads file whose name is no known load (issue 13 item 15) is skipped with a
# warning, never installed, never a manifest row of dashes; the documented
# `fwunpack | cnfgen` pipe keeps working. --verify does the same for a root.
source "$(dirname "$0")/_lib.sh"
CNFGEN="${CF_BIN_DIR}/cnfgen"
out="$(fw_fixtures --only cmterm-7940-7960-sccp.8-0-9.zip)"
tmp="$(cf_tmpdir fwunpack)"
zip="$out/cmterm-7940-7960-sccp.8-0-9.zip"
# The real load plus SCCP99 (platform 99 is in no catalog) listing a file of its own.
python3 - "$zip" "$tmp/mixed.zip" "$tmp/only-unknown.zip" <<'PY'
import sys, zipfile
src, mixed, only = sys.argv[1:]
header = bytes([1, 0, 2, 0, 1, 2, 0, 2, 0, 40, 11, 0, 27]) + b"z" * 27
unknown = header + b"P00308000900.bin\nonly99.sbn\n"
with zipfile.ZipFile(src) as z, zipfile.ZipFile(mixed, "w") as o:
    for info in z.infolist():
        o.writestr(info.filename, z.read(info))
    o.writestr("SCCP99.9-4-2S.loads", unknown)
    o.writestr("only99.sbn", header + b"x" * 100)
with zipfile.ZipFile(only, "w") as o:
    o.writestr("SCCP99.9-4-2S.loads", unknown)
    o.writestr("only99.sbn", header + b"x" * 100)
PY

root="$tmp/root"; mkdir "$root"
"$FWUNPACK" "$tmp/mixed.zip" -C "$root" >"$tmp/manifest" 2>"$tmp/err" || cf_fail "mixed: $(cat "$tmp/err")"
cf_assert_contains "$(cat "$tmp/err")" "1 .loads file(s) name no known load; skipped, not installed: SCCP99.9-4-2S.loads"
cf_assert_eq "P00308000900" "$(grep -v '^#' "$tmp/manifest" | cut -f1 | xargs)" "one row, the known load"
if grep -v '^#' "$tmp/manifest" | grep -q $'\t-\t'; then cf_fail "a manifest field is '-': $(cat "$tmp/manifest")"; fi
[[ ! -e "$root/SCCP99.9-4-2S.loads" && ! -e "$root/only99.sbn" ]] || cf_fail "the unknown load was installed"
"$CNFGEN" xmldefault --root "$root" --callmanager 127.0.0.1 -o "$tmp/XMLDefault.cnf.xml" <"$tmp/manifest" 2>"$tmp/cnf.err" ||
  cf_fail "cnfgen refused the manifest: $(cat "$tmp/cnf.err")"
cf_assert_contains "$(cat "$tmp/XMLDefault.cnf.xml")" "P00308000900"

# Nothing but the unknown load: nothing to install (exit 3), root untouched.
root2="$tmp/root2"; mkdir "$root2"
set +e
"$FWUNPACK" "$tmp/only-unknown.zip" -C "$root2" >"$tmp/out" 2>"$tmp/err"; rc=$?
set -e
cf_assert_eq 3 "$rc" "only an unknown load"
cf_assert_contains "$(cat "$tmp/err")" "no .loads file of a known load"
fw_assert_empty "$root2"

# --list shows it as ignored.
"$FWUNPACK" --list "$tmp/mixed.zip" >"$tmp/list" 2>/dev/null
cf_assert_eq "SCCP99.9-4-2S.loads ignored" "$(awk -F'\t' '$1 == "SCCP99.9-4-2S.loads" { print $1, $3 }' "$tmp/list")"

# An unknown .loads put into a root by hand: --verify warns and lists only known loads.
bsdtar -xf "$tmp/only-unknown.zip" -C "$root"
"$FWUNPACK" --verify "$root" >"$tmp/verify" 2>"$tmp/err" || cf_fail "verify: $(cat "$tmp/err")"
cf_assert_contains "$(cat "$tmp/err")" "name no known load and are not listed: SCCP99.9-4-2S.loads"
cf_assert_eq "$(cat "$tmp/manifest")" "$(cat "$tmp/verify")" "--verify lists the known load only"
"$CNFGEN" xmldefault --root "$root" --callmanager 127.0.0.1 -o "$tmp/XMLDefault2.cnf.xml" <"$tmp/verify" ||
  cf_fail "cnfgen refused the --verify manifest"
echo ok

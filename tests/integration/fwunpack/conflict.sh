#!/usr/bin/env bash
# Two inputs that disagree on a file: refused (exit 1, root untouched) unless
# --force, which replaces the file by rename (a reader of the old one keeps its inode).
source "$(dirname "$0")/_lib.sh"
out="$(fw_fixtures --only cmterm-7940-7960-sccp.8-0-9.zip)"
tmp="$(cf_tmpdir fwunpack)"
zip="$out/cmterm-7940-7960-sccp.8-0-9.zip"
# A directory input with the same load, one byte of the .sb2 changed.
mkdir "$tmp/other"
(cd "$tmp/other" && bsdtar -xf "$zip")
printf '\x55' | dd of="$tmp/other/P00308000900.sb2" bs=1 seek=1000 conv=notrunc status=none
root="$tmp/root"; mkdir "$root"
"$FWUNPACK" "$zip" -C "$root" >/dev/null 2>&1 || cf_fail "first install"
old_inode="$(stat -c %i "$root/P00308000900.sb2")"
old_sum="$(cf_sha256 "$root/P00308000900.sb2")"

set +e
"$FWUNPACK" "$tmp/other" -C "$root" >/dev/null 2>"$tmp/err"; rc=$?
set -e
cf_assert_eq 1 "$rc" "conflict with the root without --force"
cf_assert_contains "$(cat "$tmp/err")" "P00308000900.sb2 exists with different bytes"
cf_assert_eq "$old_sum" "$(cf_sha256 "$root/P00308000900.sb2")" "root untouched"

set +e
"$FWUNPACK" "$zip" "$tmp/other" -C "$tmp/root" >/dev/null 2>"$tmp/err"; rc=$?
set -e
cf_assert_eq 1 "$rc" "two inputs disagreeing without --force"
cf_assert_contains "$(cat "$tmp/err")" "P00308000900.sb2: $zip: P00308000900.sb2 and $tmp/other: P00308000900.sb2 have different bytes"

# Both inputs in one run with --force: the later wins, byte for byte (same size, so
# fwunpack first compares it with the earlier copy, then writes its own from byte 1000 on).
fresh="$tmp/fresh"; mkdir "$fresh"
"$FWUNPACK" "$zip" "$tmp/other" -C "$fresh" --force >/dev/null 2>"$tmp/err" || cf_fail "--force, two inputs: $(cat "$tmp/err")"
cf_assert_contains "$(cat "$tmp/err")" "--force: the later one wins"
cf_assert_file_sha256_eq "$tmp/other/P00308000900.sb2" "$fresh/P00308000900.sb2"
cf_assert_file_sha256_eq "$tmp/other/P00308000900.bin" "$fresh/P00308000900.bin"
[[ -z "$(ls -A "$fresh" | grep '^\.fwunpack-' || true)" ]] || cf_fail "staging left behind"

exec 7<"$root/P00308000900.sb2"   # a reader holding the old file
"$FWUNPACK" "$tmp/other" -C "$root" --force >/dev/null 2>"$tmp/err" || cf_fail "--force: $(cat "$tmp/err")"
cf_assert_file_sha256_eq "$tmp/other/P00308000900.sb2" "$root/P00308000900.sb2"
cf_assert_ne "$old_inode" "$(stat -c %i "$root/P00308000900.sb2")" "replaced by rename, new inode"
cf_assert_eq "$old_sum" "$(sha256sum <&7 | cut -d' ' -f1)" "the open reader still sees the old bytes"
exec 7<&-
[[ -z "$(ls -A "$root" | grep '^\.fwunpack-' || true)" ]] || cf_fail "staging left behind"
echo ok

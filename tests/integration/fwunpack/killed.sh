#!/usr/bin/env bash
# A run killed during staging leaves its .fwunpack-XXXXXX folder in the root
# (issue 13 item 18). The next run removes every such folder that no live run
# holds, says so, and installs; a folder a live run holds is left alone.
# Two real deaths: SIGXFSZ in the middle of writing a staged file (ulimit -f, no
# cleanup runs, as with kill -9), and SIGKILL itself, injected by strace at the
# first fsync (all staged, nothing renamed) when strace can trace here.
source "$(dirname "$0")/_lib.sh"
command -v flock >/dev/null || cf_skip "flock (util-linux) is not installed"
out="$(fw_fixtures --only cmterm-7940-7960-sccp.8-0-9.zip)"
tmp="$(cf_tmpdir fwunpack)"
zip="$out/cmterm-7940-7960-sccp.8-0-9.zip"
root="$tmp/root"; mkdir "$root"
staging_dirs() { ls -A "$root" | grep '^\.fwunpack-' || true; }

# 1. Killed while writing: the largest staged file passes a 4 KiB file-size limit.
set +e
(ulimit -c 0; ulimit -f 4; exec "$FWUNPACK" "$zip" -C "$root") >/dev/null 2>&1; rc=$?
set -e
cf_assert_eq $((128 + 25)) "$rc" "killed by SIGXFSZ while staging"
cf_assert_eq 1 "$(staging_dirs | wc -l)" "one staging folder left by the killed run"
first="$(staging_dirs)"
[[ -n "$(ls -A "$root/$first" | grep -v '^\.lock$' || true)" ]] || cf_fail "the killed run had staged nothing"
cf_assert_eq 700 "$(stat -c %a "$root/$first")" "a staging folder is private to its owner"
cf_assert_eq "" "$(ls "$root")" "nothing was installed"

# 2. SIGKILL after staging, before the first rename. This run, before staging,
# already removes the folder the first one left: only its own is left after it.
left="$first"
if command -v strace >/dev/null && strace -qq -o /dev/null true 2>/dev/null; then
  set +e
  strace -qq -o /dev/null -e trace=fsync -e inject=fsync:signal=SIGKILL "$FWUNPACK" "$zip" -C "$root" >/dev/null 2>&1
  rc=$?
  set -e
  cf_assert_eq 137 "$rc" "kill -9 at the first fsync"
  left="$(staging_dirs)"
  cf_assert_eq 1 "$(printf '%s\n' "$left" | wc -l)" "one staging folder after the second killed run"
  cf_assert_ne "$first" "$left" "the first killed run's folder was removed by the second run"
  [[ -n "$(ls -A "$root/$left" | grep -v '^\.lock$' || true)" ]] || cf_fail "the second killed run had staged nothing"
  cf_assert_eq "" "$(ls "$root")" "still nothing installed"
else
  cf_info "strace cannot trace here: the SIGKILL case is not run (the SIGXFSZ one is)"
fi

# 3. A live run's folder: its lock is held (here by flock(1), as a live run holds it).
mkdir -m 700 "$root/.fwunpack-live00"
printf 'in progress' >"$root/.fwunpack-live00/f000000"
exec 9>"$root/.fwunpack-live00/.lock"
flock -n 9 || cf_fail "could not hold the live folder's lock"

"$FWUNPACK" "$zip" -C "$root" >"$tmp/manifest" 2>"$tmp/err" 9>&- || cf_fail "the next run: $(cat "$tmp/err")"
cf_assert_contains "$(cat "$tmp/err")" "removed 1 staging folder(s) left in $root by interrupted runs: $left"
cf_assert_eq ".fwunpack-live00" "$(staging_dirs)" "only the live run's folder is left"
cf_assert_eq "in progress" "$(cat "$root/.fwunpack-live00/f000000")" "the live run's files are untouched"
exec 9>&-
"$FWUNPACK" --verify "$root" >"$tmp/verify" || cf_fail "--verify after the recovery"
cf_assert_eq "$(cat "$tmp/manifest")" "$(cat "$tmp/verify")"

# Once its run is gone (lock released), that folder is stale too.
"$FWUNPACK" "$zip" -C "$root" >/dev/null 2>"$tmp/err" || cf_fail "third run: $(cat "$tmp/err")"
cf_assert_contains "$(cat "$tmp/err")" "removed 1 staging folder(s)"
cf_assert_eq "" "$(staging_dirs)" "no staging folder left"
echo ok

#!/usr/bin/env bash
# Two runs into one root at once (issue 13 item 14). They take turns on the root
# lock: with different bytes under one name exactly one wins (exit 0) and the
# other reports the conflict (exit 1) having changed nothing, so the winner's
# manifest describes what is in the root; with the same bytes both succeed and
# both manifests are true. A run that may not wait (--lock-timeout 0) says who
# holds the lock and exits 1.
source "$(dirname "$0")/_lib.sh"
command -v flock >/dev/null || cf_skip "flock (util-linux) is not installed"
out="$(fw_fixtures --only cmterm-7940-7960-sccp.8-0-9.zip)"
tmp="$(cf_tmpdir fwunpack)"
zip="$out/cmterm-7940-7960-sccp.8-0-9.zip"
mkdir "$tmp/other"
(cd "$tmp/other" && bsdtar -xf "$zip")
printf '\x55' | dd of="$tmp/other/P00308000900.sb2" bs=1 seek=1000 conv=notrunc status=none

waiting() { grep -q "waiting up to" "$1"; }

# run_pair ROOT INPUT_A INPUT_B : start both while the test holds the root lock,
# wait until both say they are waiting for it, let go, collect exit codes in rc_a rc_b.
run_pair() {
  local root="$1"
  exec 8>"$root/.fwunpack.lock"
  flock -n 8 || cf_fail "the test could not take the lock"
  # 8>&- : the runs must not inherit the test's hold on the lock.
  "$FWUNPACK" "$2" -C "$root" >"$tmp/a.out" 2>"$tmp/a.err" 8>&- & local pid_a=$!
  "$FWUNPACK" "$3" -C "$root" >"$tmp/b.out" 2>"$tmp/b.err" 8>&- & local pid_b=$!
  cf_wait_until 60 waiting "$tmp/a.err" || cf_fail "run A never waited for the lock: $(cat "$tmp/a.err")"
  cf_wait_until 60 waiting "$tmp/b.err" || cf_fail "run B never waited for the lock: $(cat "$tmp/b.err")"
  exec 8>&-
  set +e
  wait "$pid_a"; rc_a=$?
  wait "$pid_b"; rc_b=$?
  set -e
}

# --- different bytes: one winner, one clean refusal --------------------------------
for round in 1 2 3; do
  root="$tmp/root-$round"; mkdir "$root"
  run_pair "$root" "$zip" "$tmp/other"
  if [[ "$rc_a" == 0 ]]; then winner=a loser=b; else winner=b loser=a; fi
  cf_assert_eq "0 1" "$(printf '%s\n' "$rc_a" "$rc_b" | sort | xargs)" "round $round: exit codes (a=$rc_a b=$rc_b)"
  cf_assert_contains "$(cat "$tmp/$loser.err")" "P00308000900.sb2 exists with different bytes"
  cf_assert_contains "$(cat "$tmp/$loser.err")" "nothing was installed"
  cf_assert_eq "" "$(grep -v '^#' "$tmp/$loser.out" || true)" "round $round: the loser prints no manifest rows"
  # The winner's manifest is what --verify finds now, and its bytes are in the root.
  "$FWUNPACK" --verify "$root" >"$tmp/verify.out" 2>"$tmp/verify.err" || cf_fail "verify: $(cat "$tmp/verify.err")"
  cf_assert_eq "$(cat "$tmp/verify.out")" "$(cat "$tmp/$winner.out")" "round $round: winner's manifest = the root"
  if [[ "$winner" == a ]]; then src_sb2="$(bsdtar -xOf "$zip" P00308000900.sb2 | sha256sum | cut -d' ' -f1)"
  else src_sb2="$(cf_sha256 "$tmp/other/P00308000900.sb2")"; fi
  cf_assert_eq "$src_sb2" "$(cf_sha256 "$root/P00308000900.sb2")" "round $round: the winner's bytes are in the root"
  [[ -z "$(ls -A "$root" | grep '^\.fwunpack-' || true)" ]] || cf_fail "staging left behind"
done

# --- the same bytes: the second to get the lock finds the first's files ------------
root="$tmp/root-same"; mkdir "$root"
run_pair "$root" "$zip" "$zip"
cf_assert_eq "0 0" "$rc_a $rc_b" "the same archive twice at once"
cf_assert_eq "$(cat "$tmp/a.out")" "$(cat "$tmp/b.out")" "both manifests agree"
"$FWUNPACK" --verify "$root" >"$tmp/verify.out"
cf_assert_eq "$(cat "$tmp/verify.out")" "$(cat "$tmp/a.out")" "and describe the root"
cf_assert_contains "$(cat "$tmp/a.err" "$tmp/b.err")" "everything was already installed; nothing changed"

# --- no waiting: the holder is named, exit 1, nothing touched ----------------------
root="$tmp/root-busy"; mkdir "$root"
exec 8>"$root/.fwunpack.lock"
flock -n 8
set +e
"$FWUNPACK" "$zip" -C "$root" --lock-timeout 0 >"$tmp/out" 2>"$tmp/err" 8>&-; rc=$?
set -e
exec 8>&-
cf_assert_eq 1 "$rc" "--lock-timeout 0 on a locked root"
cf_assert_contains "$(cat "$tmp/err")" "$root is locked by another process"
cf_assert_contains "$(cat "$tmp/err")" "(--lock-timeout)"
fw_assert_empty "$root"
echo ok

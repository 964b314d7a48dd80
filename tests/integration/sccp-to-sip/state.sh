#!/usr/bin/env bash
# scripts/sccp-to-sip reads its state file as untrusted input: every field is
# checked before any is used, a bad line is refused with its line number and
# nothing is written to the TFTP root; a crafted field is never evaluated; the
# file it writes is 0600 (it holds the SIP secrets).
# shellcheck source=_lib.sh
source "$(dirname "$0")/_lib.sh"

printf '001E4A000001\t7961\t201\tsecret1\tOne\n' >"$work/phones.tsv"
script=("$CF_SOURCE_DIR/scripts/sccp-to-sip" --root "$root" --events "$work/events.jsonl"
        --asterisk 127.0.0.1 --phones "$work/phones.tsv" --discover-seconds 0 --timeout 1)
good=$'001E4A000001\t7961\t201\tsecret1\tOne\tSCCP41.8-5-2S,SIP41.9-4-2SR3-1S\t1\tstepping\tSCCP41.8-2-2S'
pwned="$work/pwned"

# refused LINE2 REASON: a state file whose second line is LINE2 stops the script
# with REASON naming line 2, exit 1, and leaves the root as it was.
refused() {
  local line=$1 reason=$2 rc=0
  printf '#mac\tmodel\textension\tsecret\tname\tplan\tstep\tstatus\tfrom\n%s\n' "$line" >"$work/state"
  chmod 600 "$work/state"
  "${script[@]}" --state "$work/state" >"$work/out" 2>&1 || rc=$?
  cf_assert_eq 1 "$rc" "exit for: $reason"
  cf_assert_contains "$(cat "$work/out")" "$work/state:2: $reason"
  [[ -z "$(find "$root" -name 'SEP*' -o -name 'SIP*.cnf' -o -name '*.tmp*')" ]] ||
    cf_fail "the root was written to although the state is corrupt ($reason)"
  [[ ! -e "$pwned" ]] || cf_fail "a state field was evaluated ($reason)"
}

refused "${good/$'\t1\t'/$'\t0\t'}" "step 0 is outside the plan's 2 steps"
refused "${good/$'\t1\t'/$'\t3\t'}" "step 3 is outside the plan's 2 steps"
refused "${good/$'\t1\t'/$'\tx[$(touch '"$pwned"$')]\t'}" "step 'x[\$(touch $pwned)]' is not a number"
refused "${good/$'\t1\t'/$'\t1+1\t'}" "step '1+1' is not a number"
refused "${good/001E4A000001/00:1E:4A:00:00:01}" "'00:1E:4A:00:00:01' is not a MAC"
refused "${good/001E4A000001/$'001E4A00000Z'}" "'001E4A00000Z' is not a MAC"
refused "${good/SIP41.9-4-2SR3-1S/SIP41.9-4-2SR3-1X}" "'SIP41.9-4-2SR3-1X' is not a load a 7961 runs"
refused "${good/SIP41.9-4-2SR3-1S/P0S3-8-12-00}" "'P0S3-8-12-00' is not a load a 7961 runs"
refused "${good/SIP41.9-4-2SR3-1S/\$(touch $pwned)}" "'\$(touch $pwned)' is not a load a 7961 runs"
refused "${good/7961/7999}" "'7999' is not a model"
refused "${good/stepping/running}" "status 'running' is not new, stepping, done or failed"
refused "${good/secret1/se\"cret}" "the secret has characters a config file cannot carry"
refused "${good/$'\tOne\t'/$'\t\t'}" "expected 9 non-empty tab-separated fields"
refused "${good/SCCP41.8-2-2S/NOTALOAD}" "from 'NOTALOAD' is not a load a 7961 runs"

# A good state (eight columns, as earlier versions wrote) in a dry run: accepted.
# The dry run plans from the root and writes nothing.
printf '%s\n' "${good%$'\t'*}" >"$work/state"
chmod 644 "$work/state"
"${script[@]}" --state "$work/state" --dry-run >"$work/out" 2>&1 ||
  cf_fail "a good state was refused: $(cat "$work/out")"
cf_assert_contains "$(cat "$work/out")" "SCCP41.8-5-2S -> SIP41.9-4-2SR3-1S"
cf_assert_eq 600 "$(stat -c %a "$work/state")" "state made private"

# A new state is created 0600 even under a permissive umask.
rm -f "$work/state"
rc=0
(umask 022; "${script[@]}" --state "$work/state" --reset-cmd true --idle-seconds 1 --stall-seconds 1) \
  >"$work/out" 2>&1 || rc=$?
cf_assert_eq 1 "$rc" "no phone answers within the timeout"
cf_assert_file_exists "$work/state"
cf_assert_eq 600 "$(stat -c %a "$work/state")" "new state mode"
cf_assert_eq $'001E4A000001\t7961\t201\tsecret1\tOne' "$(cat "$work/phones.tsv")" "--phones file untouched"

# A bad --phones line names its line (exit 2).
printf '001E4A000001\t7961\t201\tsecret1\tOne\nnot a phone line\n' >"$work/bad-phones.tsv"
rc=0
"$CF_SOURCE_DIR/scripts/sccp-to-sip" --root "$root" --events "$work/events.jsonl" --asterisk 127.0.0.1 \
  --phones "$work/bad-phones.tsv" --state "$work/other.state" --dry-run >"$work/out" 2>&1 || rc=$?
cf_assert_eq 2 "$rc" "exit for a bad phones line"
cf_assert_contains "$(cat "$work/out")" "$work/bad-phones.tsv:2:"
echo "sccp-to-sip: state file checks passed"

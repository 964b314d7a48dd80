#!/usr/bin/env bash
# Issue 16 item 4: upgrade-path --reset-load names the load a factory-reset
# phone of the model should find in its termNN.default.loads, for a fleet on the
# --from loads, from a root fwunpack filled; fwunpack --set-term then puts that
# load's term file in place. Exit 0 with "#model term load protocol version
# why" and one record, 3 when no load is one step for every phone, 1 on bad
# input, 2 on usage.
set -euo pipefail
source "${CF_SOURCE_DIR}/tests/lib/common.sh"
export CISCOFLASH_DATA="${CISCOFLASH_DATA:-${CF_SOURCE_DIR}/data}"
bin="${CF_BIN_DIR}/upgrade-path"
fwunpack="${CF_BIN_DIR}/fwunpack"
tmp="$(cf_tmpdir upgrade-reset)"
root="$tmp/root"; mkdir "$root"
out="$tmp/fw"
python3 "${CF_SOURCE_DIR}/tests/fixtures/make-firmware" -q --scale 0.02 --load SCCP41.8-5-2S \
  --load SIP41.8-5-2S --load SIP41.9-4-2SR3-1S "$out" >&2
"$fwunpack" "$out"/*.zip -C "$root" >/dev/null 2>&1 || cf_fail "fwunpack"
target=SIP41.9-4-2SR3-1S

# run EXPECTED_RC ARGS...: stdout in $tmp/o, stderr in $tmp/e
run() {
  local want="$1" rc=0
  shift
  "$bin" "$@" >"$tmp/o" 2>"$tmp/e" || rc=$?
  [[ "$rc" == "$want" ]] || cf_fail "upgrade-path $* exited $rc, expected $want: $(cat "$tmp/e")"
}
record() { grep -v '^#' "$tmp/o"; }

# 1. A phone below 8.3(3) among phones on 8.5(2): the term file stays at 8.5(2).
run 0 --reset-load --model 7961 --to "$target" --root "$root" --from SCCP41.8-2-2SR2S --from SCCP41.8-5-2S
cf_assert_eq $'#model\tterm\tload\tprotocol\tversion\twhy' "$(head -1 "$tmp/o")" "header"
cf_assert_eq 2 "$(wc -l <"$tmp/o")" "header and one record"
cf_assert_eq $'7961\tterm61.default.loads\tSCCP41.8-5-2S\tSCCP\t8.5(2)' "$(record | cut -f1-5)" "8.5(2) while a phone is below 8.3(3)"
cf_assert_contains "$(record | cut -f6)" "one step for SCCP41.8-2-2SR2S; already on it: SCCP41.8-5-2S"
cf_assert_contains "$(record | cut -f6)" "not SIP41.9-4-2SR3-1S: rule cnu-833 forbids the jump from SCCP41.8-2-2SR2S"
# The lead's pipeline: that load's term file into the root.
load="$(record | cut -f3)"
cf_assert_eq $'term\tterm61.default.loads\tSCCP41.8-5-2S' "$("$fwunpack" --set-term "$load" --model 7961 -C "$root" 2>/dev/null)"
cf_assert_eq "$(cf_sha256 "$root/.term/SCCP41.8-5-2S/term61.default.loads")" "$(cf_sha256 "$root/term61.default.loads")"

# 2. Every phone on 8.5(2) (either protocol, repeated loads once): the target.
run 0 --reset-load --model 7961 --to sip --root "$root" --from SCCP41.8-5-2S --from SIP41.8-5-2S --from SIP41.8-5-2S
cf_assert_eq $'7961\tterm61.default.loads\tSIP41.9-4-2SR3-1S\tSIP\t9.4(2)SR3\tone step for SCCP41.8-5-2S, SIP41.8-5-2S; the target' \
  "$(record)" "the target once all are on 8.5(2)"
# The 7941 of the same family: its own term file.
run 0 --reset-load --model 7941 --to "$target" --root "$root" --from "$target" --json
cf_assert_eq '{"model":"7941","term":"term41.default.loads","load":"SIP41.9-4-2SR3-1S","protocol":"SIP","version":"9.4(2)SR3","why":"already on it: SIP41.9-4-2SR3-1S; the target"}' \
  "$(cat "$tmp/o")" "--json"
# A phone of unknown age counts as the oldest.
run 0 --reset-load --model 7961 --to "$target" --root "$root" --from unknown --from "$target"
cf_assert_eq "SCCP41.8-5-2S" "$(record | cut -f3)" "unknown phones hold it at 8.5(2)"

# 3. A load that is in the root but incomplete is never named: the SIP 8.5(2) instead.
mv "$root/jar41sccp.8-5-2TH1-9.sbn" "$tmp/"
run 0 --reset-load --model 7961 --to "$target" --root "$root" --from SCCP41.8-2-2SR2S --from SIP41.8-5-2S
cf_assert_eq "SIP41.8-5-2S" "$(record | cut -f3)" "the incomplete SCCP 8.5(2) is not named"
# With no whole 8.5(2) the old phone has no route: exit 3 naming the stone it needs.
mv "$root/jar41sip.8-5-2TH1-9.sbn" "$tmp/"
run 3 --reset-load --model 7961 --to "$target" --root "$root" --from SCCP41.8-2-2SR2S --from "$target"
cf_assert_eq "" "$(cat "$tmp/o")" "nothing on stdout"
cf_assert_contains "$(cat "$tmp/e")" "the phones on SCCP41.8-2-2SR2S have no route to $target"
cf_assert_contains "$(cat "$tmp/e")" "cmterm-7941_7961-sccp.8-5-2.zip"
mv "$tmp/jar41sccp.8-5-2TH1-9.sbn" "$tmp/jar41sip.8-5-2TH1-9.sbn" "$root/"

# 4. A phone below 8.3(3) and one on a new-key-only load, under rules that keep
#    new-key loads off 8.5(2) (the stricter reading of the key edges): exit 3,
#    both rules named.
cp "${CISCOFLASH_DATA}/upgrade-rules" "$tmp/strict-rules"
printf 'strict-key\t7941-7961\tnever\tany >=8.5(2)SR1\tany <=8.5(2)\t-\t-\ttest\tsure\tNew-key loads verify nothing up to 8.5(2).\n' \
  >>"$tmp/strict-rules"
run 3 --reset-load --model 7961 --to "$target" --root "$root" --rules "$tmp/strict-rules" \
  --from SCCP41.8-2-2SR2S --from "$target"
cf_assert_contains "$(cat "$tmp/e")" "no load in the root is one step for every phone (SCCP41.8-2-2SR2S, $target)"
cf_assert_contains "$(cat "$tmp/e")" "rule strict-key forbids the jump from $target"
# The shipped rules let the same fleet share 8.5(2).
run 0 --reset-load --model 7961 --to "$target" --root "$root" --from SCCP41.8-2-2SR2S --from "$target"
cf_assert_eq "8.5(2)" "$(record | cut -f5)" "8.5(2) under the shipped rules"

# 5. Bad input is exit 1, usage exit 2.
run 1 --reset-load --model 7999 --to "$target" --root "$root" --from SCCP41.8-5-2S
cf_assert_contains "$(cat "$tmp/e")" "not a model in the catalog"
run 1 --reset-load --model 7960 --to P0S3-8-12-00 --root "$root" --from P00308000900
cf_assert_contains "$(cat "$tmp/e")" "the 7960 has no term file"
run 1 --reset-load --model 7961 --to "$target" --root "$root" --from P00308000900
run 1 --reset-load --model 7961 --to "$target" --root "$root" --from SCCP41.8-5-2S --rules "$tmp/no-such-rules"
printf '#rule\tfamilies\tkind\tfrom\tto\tvia\tprefer\tsource\tconfidence\tnote\n' >"$tmp/empty-rules"
run 1 --reset-load --model 7961 --to "$target" --root "$root" --from SCCP41.8-5-2S --rules "$tmp/empty-rules"
run 2 --reset-load --model 7961 --to "$target" --from SCCP41.8-5-2S
cf_assert_contains "$(cat "$tmp/e")" "--reset-load needs --root"
run 2 --reset-load --model 7961 --to "$target" --root "$root"
# Without --reset-load, --from stays one load.
run 2 --model 7961 --to "$target" --root "$root" --from SCCP41.8-5-2S --from SIP41.8-5-2S
cf_info "reset-load checked"

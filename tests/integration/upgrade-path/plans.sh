#!/usr/bin/env bash
# upgrade-path against a synthetic TFTP root (each .loads lists one small .bin):
# records, --json, --explain, and exit codes 0 (plan), 1 (no route), 2 (bad
# model or load), 3 (a step's load missing or incomplete in --root).
set -euo pipefail
# shellcheck source=../../lib/common.sh
source "${CF_SOURCE_DIR}/tests/lib/common.sh"

bin="${CF_BIN_DIR}/upgrade-path"
[[ -x "${bin}" ]] || cf_fail "no ${bin}; build the upgrade-path target"
root="$(cf_tmpdir)"
out="$(cf_tmpdir)"

for f in P00303010102.loads P00305000500.loads P00308000400.loads P00308000900.loads P0S3-8-12-00.loads \
         P003-8-12-00.bin P003-8-12-00.sbn P0S3-07-4-00.loads \
         SCCP41.8-2-2SR2S.loads SCCP41.8-5-2S.loads SIP41.9-4-2SR3-1S.loads \
         SCCP41.9-4-2SR3-1S.loads term41.default.loads; do
  if [[ "${f}" == *.loads ]]; then
    printf '%s\n' "${f%.loads}.bin" >"${root}/${f}"
    printf 'x' >"${root}/${f%.loads}.bin"
  else
    printf 'x' >"${root}/${f}"
  fi
done

# run EXPECTED_RC OUTFILE ARGS...: stdout to OUTFILE, stderr to OUTFILE.err
run() {
  local want="$1" file="$2" rc=0
  shift 2
  "${bin}" "$@" >"${file}" 2>"${file}.err" || rc=$?
  [[ "${rc}" == "${want}" ]] ||
    cf_fail "upgrade-path $* exited ${rc}, expected ${want}; stderr: $(cat "${file}.err")"
}

# 1. The classic 7960 migration, every stone installed: exit 0, four steps.
run 0 "${out}/a" --model 7960 --from P00302010200 --to sip --root "${root}"
cf_assert_eq $'#step\tmodel\tload\tprotocol\tversion\twhy' "$(head -1 "${out}/a")" "header"
cf_assert_eq "P00303010102 P00305000500 P00308000400 P0S3-8-12-00" \
  "$(awk -F'\t' 'NR>1 {printf "%s%s", sep, $3; sep=" "}' "${out}/a")" "7960 route"
cf_assert_eq $'4\t7960\tP0S3-8-12-00\tSIP\t8.12(0)\ttarget' "$(tail -1 "${out}/a")" "last step"
cf_assert_contains "$(sed -n 2p "${out}/a")" "stepping stone of 7940-sccp-3 (uncertain)"

# 2. JSON Lines carry the same records.
run 0 "${out}/b" --model CP-7961G --from SCCP41.8-2-2SR2S --to sip --root "${root}" --json
cf_assert_eq 2 "$(wc -l <"${out}/b")" "two JSON steps"
cf_assert_eq '{"step":1,"model":"7961","load":"SCCP41.8-5-2S","protocol":"SCCP","version":"8.5(2)","why":"stepping stone of cnu-833"}' \
  "$(head -1 "${out}/b")" "first JSON step"
python3 -c 'import json,sys; [json.loads(l) for l in open(sys.argv[1])]' "${out}/b" ||
  cf_fail "--json output is not JSON Lines"

# 3. --explain: a sentence per step citing the rule and its source.
run 0 "${out}/c" --model 7961 --from SCCP41.8-2-2SR2S --to SIP41.9-4-2SR3-1S --explain --root "${root}"
cf_assert_eq 2 "$(wc -l <"${out}/c")" "two sentences"
cf_assert_contains "$(head -1 "${out}/c")" "rule cnu-833"
cf_assert_contains "$(head -1 "${out}/c")" "WAZO-LIMIT"

# 4. Already at the target: header only, exit 0.
run 0 "${out}/d" --model 7960 --from P0S3-8-12-00 --to sip --root "${root}"
cf_assert_eq 1 "$(wc -l <"${out}/d")" "no steps"

# 5. Unknown start: every mandatory stepping stone.
run 0 "${out}/e" --model 7940 --from unknown --to P0S3-8-12-00
cf_assert_eq 5 "$(wc -l <"${out}/e")" "four steps from an unknown load"

# 6. A stepping stone missing from the root: exit 3 naming the class it lacks,
#    the seed's load of that class and the archive that carries it.
rm "${root}/P00305000500.loads" "${root}/P00305000500.bin"
run 3 "${out}/f" --model 7960 --from P00303010102 --to P0S3-8-12-00 --root "${root}"
cf_assert_contains "$(cat "${out}/f.err")" "the route needs a load of the class 'SCCP >=5.0 <6.0' (e.g. P00305000500)"
cf_assert_contains "$(cat "${out}/f.err")" "cmterm-7940-7960-sccp.5-0-5.zip"
# Without --root the plan names the seed's loads; with the root's own 5.x load it goes through that.
run 0 "${out}/f2" --model 7960 --from P00303010102 --to P0S3-8-12-00
cf_assert_contains "$(cat "${out}/f2")" "P00305000500"
printf '%s\n' P00305000300.bin >"${root}/P00305000300.loads"; printf x >"${root}/P00305000300.bin"
run 0 "${out}/f3" --model 7960 --from P00303010102 --to P0S3-8-12-00 --root "${root}"
cf_assert_eq "P00305000300 P00308000400 P0S3-8-12-00" \
  "$(awk -F'\t' 'NR>1 {printf "%s%s", sep, $3; sep=" "}' "${out}/f3")" "route through the root's 5.x load"

# 7. A SIP 8.x load without its P003 loader files: exit 3 naming the files and rule.
rm "${root}/P003-8-12-00.sbn"
run 3 "${out}/g" --model 7960 --from P00308000900 --to P0S3-8-12-00 --root "${root}"
cf_assert_contains "$(cat "${out}/g.err")" "P003-8-12-00.sbn missing"
cf_assert_contains "$(cat "${out}/g.err")" "7940-sip-loader"

# 8. No route: exit 1 naming the blocking rule.
rules="${out}/wall-rules"
printf '#rule\tfamilies\tkind\tfrom\tto\tvia\tprefer\tsource\tconfidence\tnote\n' >"${rules}"
printf 'wall\t7940-7960\tforbid\tSCCP *\tSIP *\t-\t-\tDESIGN\tsure\tNo SIP ever.\n' >>"${rules}"
run 1 "${out}/h" --model 7960 --from P00308000900 --to P0S3-8-12-00 --rules "${rules}"
cf_assert_contains "$(cat "${out}/h.err")" "rule wall (${rules}:2"

# 9. A malformed rules file: exit 1 with file:line.
printf 'bad\t7940-7960\tmaybe\tSCCP *\tSIP *\t-\t-\tDESIGN\tsure\tx\n' >>"${rules}"
run 1 "${out}/i" --model 7960 --from P00308000900 --to P0S3-8-12-00 --rules "${rules}"
cf_assert_contains "$(cat "${out}/i.err")" "${rules}:3: unknown kind 'maybe'"

# 10. Usage errors: exit 2.
run 2 "${out}/j" --model 7999 --from P00308000900 --to sip
run 2 "${out}/k" --model 7960 --from NOTALOAD --to P0S3-8-12-00
run 2 "${out}/l" --model 7960 --from SCCP41.8-5-2S --to P0S3-8-12-00
run 2 "${out}/m" --model 7960 --from P00308000900
run 2 "${out}/n" --model 7960 --from P00308000900 --to sip   # sip needs --root or --manifest

# 11. A manifest on stdin names the loads (no root: nothing checked on disk).
manifest=$'#load\tprotocol\tfamily\tmodels\tversion\tdir\tfiles\tbytes\nSIP41.9-4-2SR3-1S\tSIP\t7941-7961\t7941,7961\t9.4(2)SR3\t/srv/tftp\t8\t1000'
"${bin}" --model 7941 --from SCCP41.9-4-2SR3-1S --to sip --manifest - <<<"${manifest}" >"${out}/o" ||
  cf_fail "manifest plan failed"
cf_assert_eq $'1\t7941\tSIP41.9-4-2SR3-1S\tSIP\t9.4(2)SR3\ttarget' "$(tail -1 "${out}/o")" "manifest target"

# 12. A load whose .loads lists a file that is not there: exit 3 naming the file
#     (the completeness check fwunpack uses).
rm "${root}/SCCP41.8-5-2S.bin"
run 3 "${out}/p" --model 7961 --from SCCP41.8-2-2SR2S --to SCCP41.8-5-2S --root "${root}"
cf_assert_contains "$(cat "${out}/p.err")" "SCCP41.8-5-2S is incomplete: SCCP41.8-5-2S.bin (missing)"

# 13. Fail closed: an empty (or comment-only) rules file, and a family no jump rule
#     speaks about, exit 1 with the reason; nothing is printed as a plan.
printf '# nothing here\n#rule\tfamilies\tkind\tfrom\tto\tvia\tprefer\tsource\tconfidence\tnote\n' >"${out}/empty-rules"
run 1 "${out}/q" --model 7960 --from P00305000500 --to P0S3-8-12-00 --rules "${out}/empty-rules"
cf_assert_contains "$(cat "${out}/q.err")" "holds no rules"
cf_assert_eq "" "$(cat "${out}/q")" "no plan from an empty rules file"
: >"${out}/blank-rules"
run 1 "${out}/q2" --model 7960 --from P00305000500 --to P0S3-8-12-00 --rules "${out}/blank-rules"
run 1 "${out}/r" --model 7931 --from SCCP31.9-2-1S --to SCCP31.9-3-1S
cf_assert_contains "$(cat "${out}/r.err")" "no rule in"
cf_assert_contains "$(cat "${out}/r.err")" "speaks about the jumps between 7931 loads"

# 14. Classes, not names: a root whose only SCCP 8.x load is P0030801SR02 routes through
#     it from 8.0(4) on, but a 5.x phone needs 8.0(4) first (7940-sccp-804: Auth error on
#     8.0(5) and later) and the root lacks it: exit 3 naming it; a phone on 5.0(5) is never
#     sent back to 3.1(1.2); old SIP is staged as Cisco says.
sr="$(cf_tmpdir)"
for f in P00303010102 P00305000500 P0030801SR02 P0S3-8-12-00 P0S3-04-4-00 P0S3-05-3-00 P0S3-06-3-00 P0S3-07-4-00; do
  printf '%s\n' "${f}.bin" >"${sr}/${f}.loads"; printf x >"${sr}/${f}.bin"
done
for f in P003-8-12-00.bin P003-8-12-00.sbn; do printf x >"${sr}/${f}"; done
run 0 "${out}/s" --model 7960 --from P00305000500 --to P0S3-8-12-00 --root "${sr}"
cf_assert_eq "P0S3-06-3-00 P0S3-07-4-00 P0S3-8-12-00" \
  "$(awk -F'\t' 'NR>1 {printf "%s%s", sep, $3; sep=" "}' "${out}/s")" "5.x: CME's way through SIP 6.x, not P0030801SR02"
late="$(cf_tmpdir)"
for f in P00305000500 P0030801SR02 P0S3-8-12-00; do
  printf '%s\n' "${f}.bin" >"${late}/${f}.loads"; printf x >"${late}/${f}.bin"
done
for f in P003-8-12-00.bin P003-8-12-00.sbn; do printf x >"${late}/${f}"; done
run 3 "${out}/s1" --model 7960 --from P00305000500 --to P0S3-8-12-00 --root "${late}"
cf_assert_contains "$(cat "${out}/s1.err")" "'SCCP =8.0(4)' (e.g. P00308000400) (rule 7940-sccp-804), and the root holds none"
cf_assert_contains "$(cat "${out}/s1.err")" "cmterm-7940-7960-sccp.8-0-4.zip"
# 8.1(2)SR2 needs 8.1(1) first (7940-sccp-812: "File auth error").
run 3 "${out}/s2" --model 7960 --from P00308000400 --to P0030801SR02 --root "${sr}"
cf_assert_contains "$(cat "${out}/s2.err")" "'SCCP =8.1(1)' (e.g. P00308010100) (rule 7940-sccp-812)"
cf_assert_contains "$(cat "${out}/s2.err")" "cmterm-7940-7960-sccp.8-1-1.zip"
run 3 "${out}/s3" --model 7960 --from P0S3-8-12-00 --to P0030801SR02 --root "${sr}"
cf_assert_contains "$(cat "${out}/s3.err")" "rule 7940-sip-sccp805 ("
run 0 "${out}/t" --model 7940 --from P0S3-04-1-00 --to P0S3-8-12-00 --root "${sr}"
cf_assert_eq "P0S3-04-4-00 P0S3-05-3-00 P0S3-06-3-00 P0S3-07-4-00 P0S3-8-12-00" \
  "$(awk -F'\t' 'NR>1 {printf "%s%s", sep, $3; sep=" "}' "${out}/t")" "SIP staging"
run 1 "${out}/u" --model 7960 --from P0S3-8-12-00 --to P0S3-04-4-00 --root "${sr}"
rm "${sr}/P0S3-05-3-00.loads" "${sr}/P0S3-05-3-00.bin"
run 3 "${out}/v" --model 7940 --from P0S3-04-1-00 --to P0S3-8-12-00 --root "${sr}"
cf_assert_contains "$(cat "${out}/v.err")" "'SIP >=5.3 <5.4' (rule 7940-sip-53), and the root holds none"
cf_assert_contains "$(cat "${out}/u.err")" "rule 7940-signed ("

echo "upgrade-path: all checks passed"

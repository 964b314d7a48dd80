#!/usr/bin/env bash
# cnfgen golden-file tests: each subcommand and family against tests/integration/cnfgen/golden/,
# xmllint --noout on every XML written, pjsip.conf through _pjsip_check.py, --check,
# -o -, --root verification (exit 3), every refused input (exit 2, the reason, nothing
# written) and all-or-nothing writes. UPDATE_GOLDEN=1 rewrites the golden files.
#
# The golden manifest is hand-written in fwunpack's contract format (DESIGN "Contracts");
# the round trip make-firmware | fwunpack | cnfgen --root is checked at the end.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=../../lib/common.sh
source "${CF_SOURCE_DIR:-${here}/../../..}/tests/lib/common.sh"
command -v cnfgen >/dev/null || cf_fail "cnfgen not on PATH"
command -v xmllint >/dev/null || cf_skip "xmllint missing (apt-get install libxml2-utils)"
golden="${here}/golden"
work="$(cf_tmpdir)"
manifest="${golden}/manifest.tsv"
phones="${golden}/phones.tsv"
cm=(--callmanager 192.168.1.1)

# run CASE ARGS...: cnfgen ARGS -o work/CASE, then compare with golden/CASE.
run_case() {
  local name="$1"; shift
  mkdir -p "${work}/${name}"
  cnfgen "$@" -o "${work}/${name}"
  local f
  for f in "${work}/${name}"/*.xml; do
    [[ -e "$f" ]] || continue
    xmllint --noout "$f" || cf_fail "${name}: $(basename "$f") is not well-formed XML"
  done
  if [[ "${UPDATE_GOLDEN:-}" == 1 ]]; then
    rm -rf "${golden:?}/${name}"
    cp -r "${work}/${name}" "${golden}/${name}"
  fi
  diff -ru "${golden}/${name}" "${work}/${name}" || cf_fail "${name}: output differs from golden"
}

run_case xmldefault-sip xmldefault "${cm[@]}" --protocol sip <"${manifest}"
run_case xmldefault-sccp xmldefault "${cm[@]}" --protocol sccp --manifest "${manifest}"
run_case xmldefault-load xmldefault --callmanager 10.0.0.1 --callmanager pbx2.example --port 2001 \
  --load 7940-7960=P00308000900 --load 7961=SIP41.8-5-2S
run_case sep sep "${cm[@]}" --phones "${phones}" --manifest "${manifest}" --protocol sip \
  --load 7945=SCCP45.9-4-2SR3-1S --ntp 192.168.1.2 --time-zone 'Central Europe Standard/Daylight Time'
run_case sep-one sep "${cm[@]}" --mac 00-1A-2B-3C-4D-99 --model CP-7960G --extension 2000 \
  --load 7960=P00308000900
run_case sip79x0 sip79x0 "${cm[@]}" --phones "${phones}" --manifest "${manifest}" --time-zone CET --codec g711alaw
run_case asterisk asterisk --phones "${phones}" --manifest "${manifest}" --protocol sip \
  --load 7945=SCCP45.9-4-2SR3-1S --context office
python3 "${here}/_pjsip_check.py" "${work}/asterisk/pjsip.conf"
run_case asterisk-tcp asterisk --phones "${phones}" --manifest "${manifest}" --protocol sip \
  --load 7945=SCCP45.9-4-2SR3-1S --transport tcp --bind 192.168.1.1
python3 "${here}/_pjsip_check.py" "${work}/asterisk-tcp/pjsip.conf"
run_case sep-tcp sep "${cm[@]}" --mac 001a2b3c4d61 --model 7961 --extension 2001 --secret 'tcp&<pw>' \
  --load 7961=SIP41.9-4-2SR3-1S --transport tcp --dial-pattern '2...=0' --dial-pattern '0*=4'
run_case kamailio kamailio "${cm[@]}" --phones "${phones}" --manifest "${manifest}" --protocol sip \
  --load 7945=SCCP45.9-4-2SR3-1S
printf '<?xml version="1.0"?>\n<DIALTEMPLATE>\n  <TEMPLATE MATCH="9,*" Timeout="3" User="Phone"/>\n</DIALTEMPLATE>\n' \
  >"${work}/own-dialplan.xml"
run_case sip79x0-own-dialplan sip79x0 "${cm[@]}" --phones "${phones}" --load 7940-7960=P0S3-8-12-00 \
  --dialplan "${work}/own-dialplan.xml"
cmp "${work}/own-dialplan.xml" "${work}/sip79x0-own-dialplan/dialplan.xml" \
  || cf_fail "--dialplan FILE is not written as given"

# Every file has the expected set of names.
cf_assert_eq "$(cd "${work}/sep" && ls | tr '\n' ' ')" \
  "SEP001A2B3C4D11.cnf.xml SEP001A2B3C4D40.cnf.xml SEP001A2B3C4D41.cnf.xml SEP001A2B3C4D45.cnf.xml SEP001A2B3C4D60.cnf.xml SEP001A2B3C4D62.cnf.xml SEP001A2B3C4D65.cnf.xml SEP001A2B3C4D70.cnf.xml SEP001A2B3C4D75.cnf.xml dialplan.xml " "sep file set"
# OS79XX.TXT: one line, the loader name, no trailing blanks.
cf_assert_eq "$(od -An -c "${work}/sip79x0/OS79XX.TXT" | tr -s ' ')" " P 0 0 3 - 8 - 1 2 - 0 0 \n" "OS79XX.TXT bytes"
# transportLayerProtocol: 2 (UDP) by default, 4 with --transport tcp; only on 79x1+ SIP.
grep -q '<transportLayerProtocol>2</transportLayerProtocol>' "${work}/sep/SEP001A2B3C4D41.cnf.xml" \
  || cf_fail "79x1 SIP SEP file lacks transportLayerProtocol 2"
grep -q '<transportLayerProtocol>4</transportLayerProtocol>' "${work}/sep-tcp/SEP001A2B3C4D61.cnf.xml" \
  || cf_fail "--transport tcp did not give transportLayerProtocol 4"
! grep -q transportLayerProtocol "${work}/sep/SEP001A2B3C4D45.cnf.xml" \
  || cf_fail "an SCCP phone got a SIP transport"
# The default dial plan never dials at once, so numbers longer than an extension go through.
! grep -q 'Timeout="0"' "${work}/sep/dialplan.xml" || cf_fail "default dial plan has Timeout 0"
grep -q '<TEMPLATE MATCH="1\.\.\." Timeout="2" />' "${work}/sip79x0/dialplan.xml" \
  || cf_fail "default dial plan lacks 1... with Timeout 2"
# pjsip: both transports by default, TCP only with --transport tcp.
grep -q '^protocol=udp$' "${work}/asterisk/pjsip.conf" && grep -q '^protocol=tcp$' "${work}/asterisk/pjsip.conf" \
  || cf_fail "default pjsip.conf lacks the UDP or the TCP transport"
! grep -q '^protocol=udp$' "${work}/asterisk-tcp/pjsip.conf" || cf_fail "--transport tcp still offers UDP"
# Kamailio: SCCP phones have no subscriber; ha1 is MD5(user:realm:password).
cf_assert_eq "$(grep -c "" "${work}/kamailio/subscriber")" 10 "subscriber rows (9 SIP line keys + the column line)"
cf_assert_contains "$(cat "${work}/kamailio/subscriber")" \
  "4:1004:192.168.1.1:pw\\:1004:$(printf '%s' '1004:192.168.1.1:pw:1004' | md5sum | cut -d' ' -f1):"

# -o - prints the one file; deterministic.
a="$(cnfgen xmldefault "${cm[@]}" --protocol sip -o - <"${manifest}")"
b="$(cnfgen xmldefault "${cm[@]}" --protocol sip -o - <"${manifest}")"
cf_assert_eq "$a" "$b" "same input, same bytes"
cf_assert_eq "$a" "$(cat "${golden}/xmldefault-sip/XMLDefault.cnf.xml")" "-o - equals the file"

# --check: 0 when equal, 1 and a diff when not.
cnfgen sip79x0 "${cm[@]}" --phones "${phones}" --manifest "${manifest}" --time-zone CET --codec g711alaw \
  -o "${work}/sip79x0" --check >"${work}/check.out" || cf_fail "--check on identical files failed"
sed -i 's/P0S3-8-12-00/P0S3-8-11-00/' "${work}/sip79x0/SIPDefault.cnf"
set +e
cnfgen sip79x0 "${cm[@]}" --phones "${phones}" --manifest "${manifest}" --time-zone CET --codec g711alaw \
  -o "${work}/sip79x0" --check >"${work}/check.out" 2>&1
rc=$?
set -e
cf_assert_eq "$rc" 1 "--check exit code when a file differs"
cf_assert_contains "$(cat "${work}/check.out")" '-image_version: "P0S3-8-11-00"'
cf_assert_contains "$(cat "${work}/check.out")" '+image_version: "P0S3-8-12-00"'
grep -q P0S3-8-11-00 "${work}/sip79x0/SIPDefault.cnf" || cf_fail "--check wrote a file"

# expect_fail CODE MESSAGE ARGS...: cnfgen exits CODE and says MESSAGE on stderr.
expect_fail() {
  local code="$1" message="$2"; shift 2
  local rc=0
  cnfgen "$@" >"${work}/out" 2>"${work}/err" </dev/null || rc=$?
  cf_assert_eq "$rc" "$code" "exit code of: cnfgen $*"
  cf_assert_contains "$(cat "${work}/err")" "$message"
}
printf '# two good lines, then a bad one\n001a2b3c4d40\t7940\t1\tpw\n001a2b3c4d41\t7941\t2\tpw\n001a2b3c4d4\t7941\t3\tpw\n' >"${work}/badmac.tsv"
expect_fail 2 "badmac.tsv:4: '001a2b3c4d4' is not a MAC address" sep "${cm[@]}" --phones "${work}/badmac.tsv" --load 7941=SIP41.8-5-2S
printf '001a2b3c4d40\t7999\t1\tpw\n' >"${work}/badmodel.tsv"
expect_fail 2 "badmodel.tsv:1: model '7999' is not in the model catalog" asterisk --phones "${work}/badmodel.tsv"
expect_fail 2 "the phone takes at most 12" sep "${cm[@]}" --mac 001a2b3c4d40 --model 7961 --extension 1 \
  --secret 0123456789abc --load 7961=SIP41.8-5-2S
expect_fail 2 "may not contain ';'" asterisk --mac 001a2b3c4d40 --model 7961 --extension 1 --secret 'a;b'
printf '001a2b3c4d40\t7940\t1\n' >"${work}/short.tsv"
expect_fail 2 "short.tsv:1: expected 4 or 5 tab-separated fields" sip79x0 "${cm[@]}" --phones "${work}/short.tsv" --load 7940-7960=P0S3-8-12-00
expect_fail 2 "is a load for the 7941-7961 family" xmldefault "${cm[@]}" --load 7960=SIP41.8-5-2S
expect_fail 2 "SCCP and SIP loads for the 7940-7960 family" xmldefault "${cm[@]}" --manifest "${manifest}"
expect_fail 2 "needs a SIP load" sip79x0 "${cm[@]}" --load 7940-7960=P00308000900
expect_fail 2 "-o - writes one file to stdout" sep "${cm[@]}" --phones "${phones}" --manifest "${manifest}" --protocol sip --load 7945=SCCP45.9-4-2SR3-1S -o -
expect_fail 2 "needs a secret" sep "${cm[@]}" --mac 001a2b3c4d40 --model 7961 --extension 1 --load 7961=SIP41.8-5-2S -o "${work}"
expect_fail 2 "callmanager" xmldefault --load 7960=P00308000900

# expect_refused MESSAGE ARGS...: exit 2 with MESSAGE, and nothing written to a
# fresh output directory.
expect_refused() {
  local message="$1"; shift
  local out rc=0
  out="$(mktemp -d "${work}/refused.XXXXXX")"
  cnfgen "$@" -o "$out" >"${work}/out" 2>"${work}/err" </dev/null || rc=$?
  cf_assert_eq "$rc" 2 "exit code of: cnfgen $*"
  cf_assert_contains "$(cat "${work}/err")" "$message"
  cf_assert_eq "$(ls -A "$out")" "" "files written although refused: cnfgen $*"
}
tsv() { printf '%s\t%s\t%s\t%s\t%s\n' "$@" >"${work}/in.tsv"; echo "${work}/in.tsv"; }
sip41=(--load 7941-7961=SIP41.9-4-2SR3-1S)
# MACs that are no phone's own.
expect_refused "'ff:ff:ff:ff:ff:ff' is the broadcast MAC address" sep "${cm[@]}" "${sip41[@]}" \
  --mac ff:ff:ff:ff:ff:ff --model 7961 --extension 1 --secret pw
expect_refused "is a multicast MAC address" asterisk --phones "$(tsv 01:00:0c:cc:cc:cc 7961 1 pw x)"
expect_refused "is the all-zero MAC address" kamailio "${cm[@]}" --phones "$(tsv 000000000000 7961 1 pw x)"
# Extensions that are section names of pjsip.conf / sccp.conf.
expect_refused "extension 'general' is a section name" asterisk --phones "$(tsv 001a2b3c4d41 7941 general pw x)"
expect_refused "extension 'ciscoflash-udp' is a section name" asterisk --phones "$(tsv 001a2b3c4d41 7941 ciscoflash-udp pw x)"
expect_refused "extension 'CiscoFlash-TCP' is a section name" kamailio "${cm[@]}" --phones "$(tsv 001a2b3c4d41 7941 CiscoFlash-TCP pw x)"
expect_refused "extension 'SEP001A2B3C4D40' looks like a phone's SEP<MAC>" sep "${cm[@]}" "${sip41[@]}" \
  --phones "$(tsv 001a2b3c4d41 7941 SEP001A2B3C4D40 pw x)"
# Characters that end a quoted value.
expect_refused "--time-zone: it may not contain '\\'" sip79x0 "${cm[@]}" --load 7940-7960=P0S3-8-12-00 \
  --phones "$(tsv 001a2b3c4d40 7940 1 pw x)" --time-zone 'CET\'
expect_refused "--time-zone: it may not contain '\"'" sep "${cm[@]}" "${sip41[@]}" \
  --phones "$(tsv 001a2b3c4d41 7941 1 pw x)" --time-zone 'CET"'
expect_refused "the display name may not contain '\\'" sip79x0 "${cm[@]}" --load 7940-7960=P0S3-8-12-00 \
  --phones "$(tsv 001a2b3c4d40 7940 1 pw 'a\b')"
expect_refused "the display name may not contain '\"'" kamailio "${cm[@]}" --phones "$(tsv 001a2b3c4d40 7940 1 pw 'a"b')"
expect_refused "the secret may not contain '\\'" sip79x0 "${cm[@]}" --load 7940-7960=P0S3-8-12-00 \
  --phones "$(tsv 001a2b3c4d40 7940 1 'p\w' x)"
expect_refused "the secret may not contain '\"'" asterisk --phones "$(tsv 001a2b3c4d41 7941 1 'p"w' x)"
# Secret bounds: 12 on 79x1 and later, 32 on 7940/7960.
expect_refused "the secret is 13 characters; the phone takes at most 12" kamailio "${cm[@]}" \
  --phones "$(tsv 001a2b3c4d41 7941 1 0123456789abc x)"
expect_refused "the secret is 33 characters; the phone takes at most 32" sip79x0 "${cm[@]}" \
  --load 7940-7960=P0S3-8-12-00 --phones "$(tsv 001a2b3c4d40 7940 1 1ecc835fe9c5f80c018a69d1257df5e3x x)"
# Dial plans and transports.
expect_refused "--dial-pattern: dial pattern '1a..=2'" sep "${cm[@]}" "${sip41[@]}" \
  --phones "$(tsv 001a2b3c4d41 7941 1 pw x)" --dial-pattern 1a..=2
expect_refused "TIMEOUT must be whole seconds, 0 to 60" sip79x0 "${cm[@]}" --load 7940-7960=P0S3-8-12-00 \
  --phones "$(tsv 001a2b3c4d40 7940 1 pw x)" --dial-pattern '*=61'
printf '<DIALTEMPLATE><TEMPLATE MATCH="*">\n' >"${work}/broken.xml"
expect_refused "--dialplan ${work}/broken.xml: not well-formed XML" sep "${cm[@]}" "${sip41[@]}" \
  --phones "$(tsv 001a2b3c4d41 7941 1 pw x)" --dialplan "${work}/broken.xml"
expect_refused "either --dialplan FILE or --dial-pattern" sep "${cm[@]}" "${sip41[@]}" \
  --phones "$(tsv 001a2b3c4d41 7941 1 pw x)" --dialplan "${work}/own-dialplan.xml" --dial-pattern '*=5'
expect_refused "--transport" sep "${cm[@]}" "${sip41[@]}" --phones "$(tsv 001a2b3c4d41 7941 1 pw x)" --transport tls
# Kamailio's domain.
expect_refused "no domain: give --domain NAME or --callmanager ADDR" kamailio --phones "$(tsv 001a2b3c4d41 7941 1 pw x)"
expect_refused "--domain: 'a:b' is not an IPv4 address or host name" kamailio --domain a:b \
  --phones "$(tsv 001a2b3c4d41 7941 1 pw x)"

# All or nothing: a fleet's files are staged, then renamed; one target that cannot be
# replaced (a directory where dialplan.xml goes) leaves every file as it was, and the
# error names that target, not a temporary name.
fleet="${work}/fleet"
mkdir -p "${fleet}/dialplan.xml"
echo 'image_version: "old"' >"${fleet}/SIPDefault.cnf"
rc=0
cnfgen sip79x0 "${cm[@]}" --phones "${phones}" --load 7940-7960=P0S3-8-12-00 -o "${fleet}" \
  2>"${work}/err" || rc=$?
cf_assert_eq "$rc" 1 "exit code when a target cannot be replaced"
cf_assert_contains "$(cat "${work}/err")" "cannot replace ${fleet}/dialplan.xml: Is a directory"
cf_assert_eq "$(cat "${fleet}/SIPDefault.cnf")" 'image_version: "old"' "SIPDefault.cnf untouched"
cf_assert_eq "$(ls -A "${fleet}" | tr '\n' ' ')" "SIPDefault.cnf dialplan.xml " "nothing else written, no temporary file left"
rmdir "${fleet}/dialplan.xml"
cnfgen sip79x0 "${cm[@]}" --phones "${phones}" --load 7940-7960=P0S3-8-12-00 -o "${fleet}" 2>/dev/null
cf_assert_eq "$(ls "${fleet}" | tr '\n' ' ')" "OS79XX.TXT SIP001A2B3C4D40.cnf SIP001A2B3C4D60.cnf SIPDefault.cnf dialplan.xml " "fleet written"
# A file that cannot be written is named as the user gave it.
rc=0
cnfgen xmldefault "${cm[@]}" --load 7960=P00308000900 -o "${work}/no-such-dir/XMLDefault.cnf.xml" \
  2>"${work}/err" || rc=$?
cf_assert_eq "$rc" 1 "writing into a missing directory"
cf_assert_contains "$(cat "${work}/err")" "cannot write ${work}/no-such-dir/XMLDefault.cnf.xml: No such file or directory"

# The pipe of the README: synthetic firmware, fwunpack into a root, its manifest
# into cnfgen with --root, which checks every load with the same completeness check.
root="${work}/root"
mkdir -p "${root}"
"${CF_SOURCE_DIR}/tests/fixtures/make-firmware" -q --scale 0.01 \
  --only cmterm-7941_7961-sip.8-5-2.zip,cmterm-7940-7960-sip.8-12-00.zip "${work}/firmware"
fwunpack "${work}/firmware"/*.zip -C "${root}" \
  | cnfgen xmldefault "${cm[@]}" --protocol sip --root "${root}" -o "${work}/piped.xml"
xmllint --noout "${work}/piped.xml" || cf_fail "piped XMLDefault is not well-formed"
grep -q '<loadInformation115 model="[^"]*">SIP41.8-5-2S</loadInformation115>' "${work}/piped.xml" \
  || cf_fail "piped XMLDefault lacks the 7941 load: $(cat "${work}/piped.xml")"
grep -q '<loadInformation7 model="[^"]*">P0S3-8-12-00</loadInformation7>' "${work}/piped.xml" \
  || cf_fail "piped XMLDefault lacks the 7960 load"

# --root: a load whose files are not all there is refused with exit 3, naming load and file.
mv "${root}/jar41sip.8-5-2TH1-9.sbn" "${work}/jar.sbn"
expect_fail 3 "load SIP41.8-5-2S is incomplete in ${root}: jar41sip.8-5-2TH1-9.sbn missing" \
  xmldefault "${cm[@]}" --load 7941-7961=SIP41.8-5-2S --root "${root}" -o "${work}"
[[ ! -e "${work}/XMLDefault.cnf.xml" ]] || cf_fail "a file was written although verification failed"
cnfgen xmldefault "${cm[@]}" --load 7941-7961=SIP41.8-5-2S --root "${root}" --no-verify -o - >/dev/null 2>&1 \
  || cf_fail "--no-verify did not override"
mv "${work}/jar.sbn" "${root}/JAR41SIP.8-5-2TH1-9.SBN"   # TFTP servers match case-insensitively
cnfgen xmldefault "${cm[@]}" --load 7941-7961=SIP41.8-5-2S --root "${root}" -o - | xmllint --noout - \
  || cf_fail "complete load refused"
head -c 100 "${root}/JAR41SIP.8-5-2TH1-9.SBN" >"${work}/cut" && mv "${work}/cut" "${root}/JAR41SIP.8-5-2TH1-9.SBN"
expect_fail 3 "jar41sip.8-5-2TH1-9.sbn broken" \
  xmldefault "${cm[@]}" --load 7941-7961=SIP41.8-5-2S --root "${root}" -o "${work}"
rm "${root}/P003-8-12-00.sbn"
expect_fail 3 "load P0S3-8-12-00 is incomplete" sip79x0 "${cm[@]}" --load 7940-7960=P0S3-8-12-00 --root "${root}" -o "${work}"

echo "cnfgen golden tests passed"

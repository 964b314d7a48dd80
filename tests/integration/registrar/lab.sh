#!/usr/bin/env bash
# The lab's registrar with whole phones: scripts/lab starts Kamailio in its server
# namespace; a 7940 on P0S3-8-12-00 and a 7941 on SIP41.9-4-2SR3-1S boot through
# cisco-dhcpd and cisco-tftpd (no upgrade: their configs name the load they run),
# reach state running and register with what they read over TFTP, UDP for the
# 7940 and TCP for the 7941. Their end states say registered=true / sip_status
# 200 and registrar-dump lists both. Then the 7941's password changes in the
# subscriber table: its next refresh is refused (403 in its sip.jsonl) and it
# drops out of registrar-dump, while the 7940 stays.
set -euo pipefail
source "$CF_SOURCE_DIR/tests/lib/common.sh"
((EUID == 0)) || cf_skip "the lab needs root for network namespaces"
command -v jq >/dev/null || cf_skip "jq is not installed"
PATH="$PATH:/usr/sbin:/sbin"
command -v kamailio >/dev/null || cf_skip "kamailio (package kamailio) is not installed"
source "$(dirname "${BASH_SOURCE[0]}")/_lib.sh"

work=$(cf_tmpdir registrar-lab)
root="$work/tftp"
mkdir -p "$root"
# Config files in cnfgen's formats, written by hand for this test; each phone asks
# for 20 s registrations (short, yet a loaded CI machine refreshes in time) (timer_register_expires / timerRegisterExpires).
cat >"$root/SIPDefault.cnf" <<'EOF'
image_version: "P0S3-8-12-00"
proxy1_address: "10.213.7.1"
proxy1_port: "5060"
proxy_register: "1"
timer_register_expires: "20"
EOF
cat >"$root/SIP001E4A027940.cnf" <<'EOF'
image_version: "P0S3-8-12-00"
line1_name: "2040"
line1_authname: "2040"
line1_password: "a-32-character-secret-for-7940x"
EOF
cat >"$root/SEP001E4A027941.cnf.xml" <<'EOF'
<?xml version="1.0" encoding="UTF-8"?>
<device>
  <fullConfig>true</fullConfig>
  <deviceProtocol>SIP</deviceProtocol>
  <devicePool>
    <callManagerGroup>
      <members>
        <member priority="0">
          <callManager>
            <ports><ethernetPhonePort>2000</ethernetPhonePort><sipPort>5060</sipPort></ports>
            <processNodeName>10.213.7.1</processNodeName>
          </callManager>
        </member>
      </members>
    </callManagerGroup>
  </devicePool>
  <sipProfile>
    <sipProxies><registerWithProxy>true</registerWithProxy></sipProxies>
    <sipStack><timerRegisterExpires>20</timerRegisterExpires></sipStack>
    <sipLines>
      <line button="1">
        <featureID>9</featureID>
        <proxy>10.213.7.1</proxy>
        <port>5060</port>
        <name>2041</name>
        <authName>2041</authName>
        <authPassword>pw2041</authPassword>
      </line>
    </sipLines>
  </sipProfile>
  <transportLayerProtocol>4</transportLayerProtocol>
  <loadInformation>SIP41.9-4-2SR3-1S</loadInformation>
</device>
EOF
db="$work/kamailio-db"
write_subscribers "$db" 10.213.7.1 2040:a-32-character-secret-for-7940x 2041:pw2041

cat >"$work/check.sh" <<'EOF'
#!/usr/bin/env bash
# Inside the lab: wait for both end states and both contacts, change 2041's
# password, wait for the refusal and for 2041 to leave the registrar's table.
set -u
export CF_SOURCE_DIR
source "$CF_SOURCE_DIR/tests/integration/registrar/_lib.sh"
results() { tail -n 1 "$CF_LAB_DIR/phones/$1/results.jsonl" 2>/dev/null; }
for mac in 001E4A027940 001E4A027941; do
  cf_wait_until 90 test -s "$CF_LAB_DIR/phones/$mac/results.jsonl" || { echo "no end state for $mac"; exit 1; }
  results "$mac" >"$WORK/$mac.json"
done
listed() { [[ $("$CF_LAB_DIR/bin/registrar-dump" | grep -c -E '^204[01]	') == 2 ]]; }
cf_wait_until 30 listed || { echo "not both in registrar-dump"; exit 1; }
"$CF_LAB_DIR/bin/registrar-dump" >"$WORK/dump-before.tsv"
write_subscribers "$CF_LAB_KAMAILIO_DB" 10.213.7.1 2040:a-32-character-secret-for-7940x 2041:changed
refused() { grep -q '"sip_status": 403' "$CF_LAB_DIR/phones/001E4A027941/sip.jsonl"; }
cf_wait_until 30 refused || { echo "2041 was not refused"; exit 1; }
gone() { ! "$CF_LAB_DIR/bin/registrar-dump" | grep -q '^2041	'; }
cf_wait_until 60 gone || { echo "2041 still in registrar-dump"; exit 1; }
"$CF_LAB_DIR/bin/registrar-dump" >"$WORK/dump-after.tsv"
EOF
status=0
WORK="$work" "$CF_SOURCE_DIR/scripts/lab" --bin "$CF_BIN_DIR" --root "$root" --dir "$work/lab" \
  --kamailio-db "$db" --registrar-min-expires 2 --no-announce \
  --phone 7940,00:1E:4A:02:79:40,P0S3-8-12-00 --phone 7941,00:1E:4A:02:79:41,SIP41.9-4-2SR3-1S \
  -- bash "$work/check.sh" >"$work/lab.out" 2>&1 || status=$?
cf_log_register "$work/lab.out" lab
cf_log_register "$work/lab/kamailio.log" kamailio
[[ $status == 0 ]] || cf_fail "the lab check failed ($status): $(tail -5 "$work/lab.out")"

for mac in 001E4A027940 001E4A027941; do
  state=$(cat "$work/$mac.json")
  cf_assert_eq "running SIP true 200" \
    "$(jq -r '[.state, .protocol, .registered, .sip_status] | join(" ")' <<<"$state")" "$mac end state"
done
cf_assert_eq udp "$(jq -r .sip_transport "$work/001E4A027940.json")" "7940 transport"
cf_assert_eq tcp "$(jq -r .sip_transport "$work/001E4A027941.json")" "7941 transport"
cf_assert_eq "#aor	contact	expires" "$(head -n 1 "$work/dump-before.tsv")" "registrar-dump header"
grep -q -E '^2040	sip:2040@10\.213\.[4-7]\.[0-9]+:[0-9]+	[0-9]+$' "$work/dump-before.tsv" ||
  cf_fail "7940 not in registrar-dump: $(cat "$work/dump-before.tsv")"
grep -q -E '^2041	sip:2041@10\.213\.[4-7]\.[0-9]+:[0-9]+;transport=tcp	[0-9]+$' "$work/dump-before.tsv" ||
  cf_fail "7941 not in registrar-dump: $(cat "$work/dump-before.tsv")"
grep -q '^2040	' "$work/dump-after.tsv" || cf_fail "7940 left registrar-dump: $(cat "$work/dump-after.tsv")"
# The registrar stopped with the lab.
pid=$(cat "$work/lab/kamailio/kamailio.pid" 2>/dev/null || true)
[[ -z "$pid" ]] || ! kill -0 "$pid" 2>/dev/null || cf_fail "kamailio $pid survived the lab"
cat "$work/001E4A027941.json" "$work/dump-before.tsv"
echo "registrar/lab: 7940 (UDP) and 7941 (TCP) registered and listed; 7941 refused after its password changed"

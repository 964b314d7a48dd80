#!/usr/bin/env bash
# phonesim's SIP client (tests/phonesim/phonesimlib/sip.py) against the repo's
# Kamailio registrar, with nothing but the files a phone reads over TFTP:
#   7940/7960 SIPDefault.cnf + SIP<MAC>.cnf over UDP            -> 200, in ul.dump
#   79x1 SEP<MAC>.cnf.xml, transportLayerProtocol 4 (TCP)       -> 200, in ul.dump over TCP
#   a challenge without qop (RFC 2069 compatibility)            -> 200
#   a wrong password in the config                              -> 403, not registered
#   the password changed on the server while the phone is up    -> its next
#     re-registration gets 403, it reports not registered, and its binding
#     leaves the registrar's table when it expires.
source "$(dirname "${BASH_SOURCE[0]}")/_lib.sh"

work=$(cf_tmpdir registrar-phonesim)
db="$work/db"
write_subscribers "$db" 127.0.0.1 1001:pw1001-long-secret-of-32-chars 1003:pw1003 1004:pw1004
registrar_start kamailio "$db"

# phone_register FILE... [-- SIP ARGS] : phonesim's registration from these config
# files; prints its JSON lines.
phone_register() {
  (cd "$CF_SOURCE_DIR/tests/phonesim" && timeout 60 python3 -m phonesimlib.sip --local-ip 127.0.0.1 \
    --timeout 10 "$@")
}
field() { jq -r ".$2" <<<"$1"; }

# --- 7940 over UDP, in cnfgen's SIPDefault.cnf / SIP<MAC>.cnf format.
mkdir -p "$work/7940"
cat >"$work/7940/SIPDefault.cnf" <<EOF
# SIPDefault.cnf for Cisco 7940/7960 SIP phones, written by cnfgen (ciscoflash).
image_version: "P0S3-8-12-00"
proxy1_address: "127.0.0.1"
proxy1_port: "$SIP_PORT"
proxy_register: "1"
EOF
cat >"$work/7940/SIP001A2B3C4D40.cnf" <<'EOF'
# SIP001A2B3C4D40.cnf for Cisco 7940 001A2B3C4D40, written by cnfgen (ciscoflash).
image_version: "P0S3-8-12-00"
line1_name: "1001"
line1_authname: "1001"
line1_password: "pw1001-long-secret-of-32-chars"
EOF
out=$(phone_register "$work/7940/SIPDefault.cnf" "$work/7940/SIP001A2B3C4D40.cnf") ||
  cf_fail "7940 did not register: $out"
cf_assert_eq "true 200 udp" "$(field "$out" registered) $(field "$out" sip_status) $(field "$out" sip_transport)" "7940 over UDP"
cf_assert_contains "$(registrar_contacts)" "1001 sip:1001@127.0.0.1:" "7940's contact in ul.dump"

# --- 79x1 over TCP: a SEP<MAC>.cnf.xml in cnfgen's layout with transportLayerProtocol 4.
sep() {  # sep PASSWORD TRANSPORT
  cat <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<device>
  <deviceProtocol>SIP</deviceProtocol>
  <devicePool>
    <callManagerGroup>
      <members>
        <member priority="0">
          <callManager>
            <ports><ethernetPhonePort>2000</ethernetPhonePort><sipPort>$SIP_PORT</sipPort></ports>
            <processNodeName>127.0.0.1</processNodeName>
          </callManager>
        </member>
      </members>
    </callManagerGroup>
  </devicePool>
  <sipProfile>
    <sipProxies><registerWithProxy>true</registerWithProxy></sipProxies>
    <sipLines>
      <line button="1">
        <featureID>9</featureID>
        <proxy>USECALLMANAGER</proxy>
        <port>$SIP_PORT</port>
        <name>1004</name>
        <authName>1004</authName>
        <authPassword>$1</authPassword>
      </line>
    </sipLines>
  </sipProfile>
  <transportLayerProtocol>$2</transportLayerProtocol>
  <loadInformation>SIP41.9-4-2SR3-1S</loadInformation>
</device>
EOF
}
mkdir -p "$work/7941" "$work/7941-bad"
sep pw1004 4 >"$work/7941/SEP001A2B3C4D41.cnf.xml"
xmllint --noout "$work/7941/SEP001A2B3C4D41.cnf.xml"
out=$(phone_register "$work/7941/SEP001A2B3C4D41.cnf.xml") || cf_fail "7941 did not register: $out"
cf_assert_eq "true 200 tcp" "$(field "$out" registered) $(field "$out" sip_status) $(field "$out" sip_transport)" "7941 over TCP"
cf_assert_contains "$(registrar_contacts)" ";transport=tcp" "7941's TCP contact in ul.dump"
cf_assert_contains "$(kamcmd -s "$CTL" ul.dump)" "Socket: tcp:127.0.0.1:$SIP_PORT" "7941 registered over TCP"

# --- a wrong password in the phone's config.
sep wrong-pw 2 >"$work/7941-bad/SEP001A2B3C4D41.cnf.xml"
if out=$(phone_register "$work/7941-bad/SEP001A2B3C4D41.cnf.xml"); then
  cf_fail "a wrong password registered: $out"
fi
cf_assert_eq "false 403 udp" "$(field "$out" registered) $(field "$out" sip_status) $(field "$out" sip_transport)" "wrong password refused"

# --- a registrar that challenges without qop (RFC 2617 3.2.1 backward compatibility).
main_port=$SIP_PORT main_ctl=$CTL
registrar_start kamailio-rfc2069 "$db" WITH_RFC2069_AUTH
if command -v sipsak >/dev/null; then
  challenge=$(timeout 30 sipsak -U -i -x 60 -vvv -s "sip:1003@127.0.0.1:$SIP_PORT" -a pw1003 2>&1 || true)
  cf_assert_contains "$challenge" 'WWW-Authenticate: Digest realm="127.0.0.1"' "a challenge"
  [[ "$challenge" != *qop* ]] || cf_fail "the RFC 2069 registrar offered qop: $challenge"
fi
sed "s/\"$main_port\"/\"$SIP_PORT\"/" "$work/7940/SIPDefault.cnf" >"$work/SIPDefault-2069.cnf"
mkdir -p "$work/2069" && mv "$work/SIPDefault-2069.cnf" "$work/2069/SIPDefault.cnf"
out=$(phone_register "$work/2069/SIPDefault.cnf" "$work/7940/SIP001A2B3C4D40.cnf") ||
  cf_fail "no registration without qop: $out"
cf_assert_eq "true 200" "$(field "$out" registered) $(field "$out" sip_status)" "digest without qop"
cf_server_stop kamailio-rfc2069
SIP_PORT=$main_port CTL=$main_ctl

# --- the password changed on the server while the phone stays up. The phone asks
# for Expires 4 (timer_register_expires), so it refreshes every 2 s.
mkdir -p "$work/7960"
cp "$work/7940/SIPDefault.cnf" "$work/7960/SIPDefault.cnf"
cat >"$work/7960/SIP001A2B3C4D60.cnf" <<'EOF'
line1_name: "1003"
line1_authname: "1003"
line1_password: "pw1003"
timer_register_expires: "4"
EOF
journal="$work/7960/rounds.jsonl"
(cd "$CF_SOURCE_DIR/tests/phonesim" && exec timeout 90 python3 -m phonesimlib.sip --local-ip 127.0.0.1 \
  --timeout 10 --rounds 8 --retry-seconds 1 "$work/7960/SIPDefault.cnf" "$work/7960/SIP001A2B3C4D60.cnf" \
  >"$journal" 2>"$work/7960/stderr") &
phone=$!
cf_register_pid "$phone" "phonesim sip 1003"
cf_wait_until 20 grep -q '"round": 0' "$journal" || cf_fail "no first registration of 1003"
first=$(head -n 1 "$journal")
cf_assert_eq "true 4" "$(field "$first" registered) $(field "$first" sip_expires)" "1003 registered for 4 s"
cf_assert_contains "$(registrar_contacts)" "1003 sip:1003@127.0.0.1:" "1003 in ul.dump"
write_subscribers "$db" 127.0.0.1 1001:pw1001-long-secret-of-32-chars 1003:changed-on-server 1004:pw1004
cf_wait_until 30 grep -q '"registered": false' "$journal" || cf_fail "1003 never reported the refusal: $(cat "$journal")"
refused=$(grep -m 1 '"registered": false' "$journal")
cf_assert_eq "403" "$(field "$refused" sip_status)" "the re-registration is refused"
# Once refused, it stays refused: no 200 after the first failure.
after=$(sed -n '/"registered": false/,$p' "$journal" | grep -c '"registered": true' || true)
cf_assert_eq 0 "$after" "no registration after the password change"
wait "$phone" && cf_fail "phonesim sip exited 0 with a refused last registration"
# The registrar's own view: the old binding expires (4 s) and 1003 is gone.
gone() { ! registrar_contacts | grep -q '^1003 '; }
cf_wait_until 20 gone || cf_fail "1003 still in ul.dump: $(registrar_contacts)"
cf_assert_contains "$(registrar_contacts)" "1001 sip:1001@127.0.0.1:" "1001 still registered"
rounds=$(wc -l <"$journal")
echo "registrar/phonesim-sip: UDP, TCP, no-qop 200; wrong password 403; server-side password change refused after $(grep -c '"registered": true' "$journal") good of $rounds rounds"

#!/usr/bin/env bash
# The repo's Kamailio registrar against sipsak, a SIP client we did not write:
# credentials taken from a SIP<MAC>.cnf in cnfgen's format register (200, and
# the contact shows in kamcmd ul.dump); a wrong password, an authentication user
# that is not the To user, and an unknown user are refused with 403; a method other
# than REGISTER gets 405.
source "$(dirname "${BASH_SOURCE[0]}")/_lib.sh"
command -v sipsak >/dev/null || cf_skip "sipsak (package sipsak) is not installed"

work=$(cf_tmpdir registrar-sipsak)
db="$work/db"
write_subscribers "$db" 127.0.0.1 1001:pw1001-long-secret-of-32-chars 1002:pw1002
registrar_start kamailio "$db"

# A SIP<MAC>.cnf as cnfgen writes it (tests/integration/cnfgen/golden/sip79x0),
# pointed at this registrar; 7940/7960 take secrets longer than 12 characters.
cnf="$work/SIP001A2B3C4D40.cnf"
cat >"$cnf" <<EOF
# SIP001A2B3C4D40.cnf for Cisco 7940 001A2B3C4D40, written by cnfgen (ciscoflash).
image_version: "P0S3-8-12-00"
proxy1_address: "127.0.0.1"
proxy1_port: "$SIP_PORT"
line1_name: "1001"
line1_displayname: "Front Desk"
line1_authname: "1001"
line1_password: "pw1001-long-secret-of-32-chars"
EOF
proxy=$(sip_cnf_value "$cnf" proxy1_address)
port=$(sip_cnf_value "$cnf" proxy1_port)
user=$(sip_cnf_value "$cnf" line1_name)
auth=$(sip_cnf_value "$cnf" line1_authname)
password=$(sip_cnf_value "$cnf" line1_password)
cf_assert_eq "pw1001-long-secret-of-32-chars" "$password" "password read from the .cnf"

# sipsak_register USER AUTHUSER PASSWORD [TRANSPORT] : usrloc mode, one REGISTER
# (answering the challenge), 60 s; prints sipsak's output, returns its status.
sipsak_register() {
  timeout 30 sipsak -U -i -x 60 -vvv --transport "${4:-udp}" -s "sip:$1@$proxy:$port" \
    -u "$2" -a "$3" 2>&1
}

out=$(sipsak_register "$user" "$auth" "$password") || cf_fail "sipsak did not register: $out"
cf_assert_contains "$out" "401 Unauthorized" "challenged first"
contacts=$(registrar_contacts)
cf_assert_contains "$contacts" "1001 sip:1001@127.0.0.1:" "sipsak's contact in ul.dump"

out=$(sipsak_register "$user" "$auth" "$password" tcp) || cf_fail "sipsak over TCP did not register: $out"
cf_assert_contains "$(kamcmd -s "$CTL" ul.dump)" "Socket: tcp:127.0.0.1:$SIP_PORT" "a contact over TCP in ul.dump"

if out=$(sipsak_register "$user" "$auth" "wrong-password"); then
  cf_fail "a wrong password registered: $out"
fi
cf_assert_contains "$out" "403 Forbidden" "wrong password refused"

if out=$(sipsak_register 1002 "$auth" "$password"); then
  cf_fail "1001's credentials registered 1002: $out"
fi
cf_assert_contains "$out" "403 Forbidden (authentication user is not the To user)" "From/To mismatch"

if out=$(sipsak_register 1009 1009 whatever); then
  cf_fail "an unknown user registered: $out"
fi
cf_assert_contains "$out" "403 Forbidden" "unknown user refused"

out=$(timeout 30 sipsak -vvv -s "sip:$user@$proxy:$port" 2>&1) || true
cf_assert_contains "$out" "405 Method Not Allowed" "OPTIONS refused"
cf_assert_contains "$out" "Allow: REGISTER" "the 405 names REGISTER"

count=$(registrar_contacts | grep -c '^1002 ' || true)
cf_assert_eq 0 "$count" "no contact for 1002"
echo "registrar/sipsak: UDP and TCP 200, wrong password, From/To mismatch and unknown user 403, OPTIONS 405"

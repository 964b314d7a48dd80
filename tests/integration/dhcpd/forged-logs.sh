#!/usr/bin/env bash
# Log forging (issue 13 item 12): a hostname (option 12) and a vendor class
# (option 60) carrying a newline and ESC sequences reach stderr escaped, never
# as a line of their own or as terminal control; the events stay valid JSON.
source "$(dirname "${BASH_SOURCE[0]}")/_lib.sh"

dhcp_lab frg 1 10.231.8.0/24
client="${LAB_HOSTS[0]}"
tmp="$(cf_tmpdir forged)"
start_dhcpd dhcpd --pool 10.231.8.100-10.231.8.110 --tftp 10.231.8.1 --leases "$tmp/leases" \
  --events "$tmp/events" --probe-time 0 --only-vendor "Cisco Systems, Inc. IP Phone"
py="$(dirname "${BASH_SOURCE[0]}")/_crafted_client.py"
timeout 60 ip netns exec "$client" python3 "$py" "$LAB_ADDR" forge || cf_fail "case forge"
log="$(cf_server_log dhcpd)"
cf_wait_until 10 grep -q "does not start with --only-vendor" "$log" || cf_fail "no ignore line for the PC"
cat "$log"
grep -q 'ack .* host SEP00112233\\x0acisco-dhcpd: error: FORGED\\x1b\[2J\\x1b\]0;title\\x07' "$log" ||
  cf_fail "the hostname is not shown escaped"
grep -q "option 60 'PC\\\\x0acisco-dhcpd: error: FORGED" "$log" || cf_fail "the vendor class is not shown escaped"
if grep -q '^cisco-dhcpd: error: FORGED' "$log"; then cf_fail "a forged line reached stderr"; fi
if grep -q $'\x1b' "$log"; then cf_fail "a raw ESC reached stderr"; fi
if grep -q $'\x07' "$log"; then cf_fail "a raw BEL reached stderr"; fi
# Every event line is one JSON object (jq reads them all) and keeps the real bytes.
command -v jq >/dev/null || cf_skip "jq not installed"
jq -e -s 'map(select(.event == "ack")) | .[0].hostname | contains("\nci")' "$tmp/events" >/dev/null ||
  cf_fail "the ack event does not carry the hostname's real bytes"
echo PASS

#!/usr/bin/env bash
# Hand-made packets (python3 socket/struct, _crafted_client.py) from a client
# namespace: the broadcast flag, a relay agent (giaddr selects the relay's
# pool, option 82 echoed, reply to the relay on port 67), INFORM, DECLINE
# quarantine, and garbage, after which a normal client is still served.
source "$(dirname "${BASH_SOURCE[0]}")/_lib.sh"

dhcp_lab cra 1 10.231.7.0/24
client="${LAB_HOSTS[0]}"
# The client namespace has an address (for INFORM and for playing the relay)
# and holds the relay's address 10.99.0.1; the server routes 10.99.0.0/24 to it.
ip -n "$client" addr add 10.231.7.2/24 dev eth0
ip -n "$client" addr add 10.99.0.1/32 dev lo
ip -n "$LAB_SRV" route add 10.99.0.0/24 via 10.231.7.2
tmp="$(cf_tmpdir crafted)"
start_dhcpd dhcpd --pool 10.231.7.100-10.231.7.110 --pool 10.99.0.10-10.99.0.20/24 --tftp 10.231.7.1 \
  --leases "$tmp/leases" --events "$tmp/events" --decline-time 600 --probe-time 1

py="$(dirname "${BASH_SOURCE[0]}")/_crafted_client.py"
for case in broadcast relay "inform 10.231.7.2" decline garbage; do
  # shellcheck disable=SC2086  # "inform ADDR" is two arguments
  timeout 60 ip netns exec "$client" python3 "$py" "$LAB_ADDR" $case || cf_fail "case $case"
done
cf_server_running dhcpd || cf_fail "the server died"
grep -q "malformed packet from 10.231.7.2" "$(cf_server_log dhcpd)" || cf_fail "garbage not reported"
grep -q '"event":"decline"' "$tmp/events" || cf_fail "no decline event"
grep -q '"event":"inform"' "$tmp/events" || cf_fail "no inform event"
echo PASS

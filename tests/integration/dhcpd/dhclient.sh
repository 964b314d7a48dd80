#!/usr/bin/env bash
# ISC dhclient, with a dhclient.conf that declares option 150 as an array of
# addresses, gets an address and option 150 from cisco-dhcpd.
source "$(dirname "${BASH_SOURCE[0]}")/_lib.sh"
command -v dhclient >/dev/null || cf_skip "dhclient (isc-dhcp-client) not installed"

dhcp_lab dhc 1 10.231.5.0/24
tmp="$(cf_tmpdir dhclient)"
start_dhcpd dhcpd --pool 10.231.5.50-10.231.5.60 --tftp 10.231.5.1,10.231.5.2 --tftp-name tftp.lab \
  --leases "$tmp/leases" --dns 10.231.5.53 --domain lab.example --probe-time 1

cat >"$tmp/dhclient.conf" <<'CONF'
option tftp150 code 150 = array of ip-address;
send vendor-class-identifier "Cisco Systems, Inc. IP Phone CP-7941G";
request subnet-mask, routers, domain-name-servers, domain-name, tftp-server-name, tftp150;
CONF
cat >"$tmp/script.sh" <<SCRIPT
#!/bin/sh
env | grep -E '^(reason|new_)' | sort >>"$tmp/dump"
exit 0
SCRIPT
chmod +x "$tmp/script.sh"
timeout 30 ip netns exec "${LAB_HOSTS[0]}" dhclient -4 -1 -v -cf "$tmp/dhclient.conf" \
  -lf "$tmp/dhclient.leases" -pf "$tmp/dhclient.pid" -sf "$tmp/script.sh" eth0 >"$tmp/out" 2>&1 ||
  { cat "$tmp/out"; cf_fail "dhclient got no lease"; }
# dhclient daemonizes once bound; stop it (it would renew the lease forever)
[[ -f "$tmp/dhclient.pid" ]] && kill "$(cat "$tmp/dhclient.pid")" 2>/dev/null || true
cat "$tmp/dump"
grep -q '^reason=BOUND' "$tmp/dump" || cf_fail "dhclient did not bind"
cf_assert_eq "10.231.5.1 10.231.5.2" "$(sed -n 's/^new_tftp150=//p' "$tmp/dump" | tr -d "'")" "option 150"
cf_assert_eq "tftp.lab" "$(sed -n 's/^new_tftp_server_name=//p' "$tmp/dump" | tr -d "'")" "option 66"
cf_assert_eq "10.231.5.53" "$(sed -n 's/^new_domain_name_servers=//p' "$tmp/dump" | tr -d "'")" "dns"
grep -q '^new_ip_address=10.231.5.5[0-9]' "$tmp/dump" || grep -q '^new_ip_address=10.231.5.60' "$tmp/dump" ||
  cf_fail "address not from the pool"
echo PASS

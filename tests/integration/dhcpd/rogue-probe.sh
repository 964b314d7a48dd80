#!/usr/bin/env bash
# The start-up probe finds another DHCP server (dnsmasq) on the segment:
# cisco-dhcpd refuses to start and names it; with --force it starts anyway.
# Also checks that a dnsmasq fed by `cisco-dhcpd export --format dnsmasq`
# passes `dnsmasq --test` and serves option 150 to udhcpc.
source "$(dirname "${BASH_SOURCE[0]}")/_lib.sh"
command -v dnsmasq >/dev/null || cf_skip "dnsmasq (dnsmasq-base) not installed"

dhcp_lab rog 1 10.231.6.0/24
tmp="$(cf_tmpdir rogue)"
# The other server: dnsmasq in a second server namespace on the same bridge.
cf_bridge_attach rog-sw rog-other eth0 10.231.6.2/24
other="$(cf_ns rog-other)"

"$DHCPD" export --format dnsmasq --server-ip 10.231.6.2 --pool 10.231.6.150-10.231.6.160/24 \
  --tftp 10.231.6.2,0x0306E70A --iface eth0 --only-vendor "Cisco Systems, Inc. IP Phone" \
  --reserve 02:00:00:00:00:99=10.231.6.99,spare >"$tmp/dnsmasq.conf" 2>"$tmp/export.err"
cat "$tmp/dnsmasq.conf"
grep -q '^dhcp-option=150,10.231.6.2,10.231.6.3$' "$tmp/dnsmasq.conf" || cf_fail "export: option 150 line"
dnsmasq --test --conf-file="$tmp/dnsmasq.conf" || cf_fail "dnsmasq --test rejects the export"
cf_server_start dnsmasq --netns "$other" -- dnsmasq --keep-in-foreground --no-daemon --conf-file="$tmp/dnsmasq.conf" \
  --dhcp-leasefile="$tmp/dnsmasq.leases" --pid-file="$tmp/dnsmasq.pid" --no-hosts --no-resolv --log-dhcp
cf_wait_until 10 cf_udp_port_bound 67 "$other" || cf_fail "dnsmasq did not start"

# The exported config really serves a phone, option 150 included.
script="$(make_udhcpc_script "$tmp")"
run_udhcpc "${LAB_HOSTS[0]}" "$tmp/phone" "$script" -V "Cisco Systems, Inc. IP Phone CP-7960G" -O 150 ||
  cf_fail "dnsmasq with the exported config gave no lease"
cf_assert_eq "0ae706020ae70603" "$(sed -n 's/^opt150=//p' "$tmp/phone" )" "dnsmasq's option 150"
if run_udhcpc "${LAB_HOSTS[0]}" "$tmp/pc" "$script" -V "MSFT 5.0"; then
  cf_fail "the exported vendor-class filter let a PC through"
fi

# Now the probe: refuse, and name the other server.
set +e
timeout 30 ip netns exec "$LAB_SRV" "$DHCPD" --iface eth0 --pool 10.231.6.100-10.231.6.120 --tftp 10.231.6.1 \
  --leases "$tmp/leases" --probe-time 6 >"$tmp/refused" 2>&1
status=$?
set -e
cat "$tmp/refused"
cf_assert_eq 1 "$status" "exit status when another server answers"
grep -q "another DHCP server answers on eth0: 10.231.6.2" "$tmp/refused" || cf_fail "the other server is not named"
grep -q "refusing to start" "$tmp/refused" || cf_fail "no refusal"

start_dhcpd forced --pool 10.231.6.100-10.231.6.120 --tftp 10.231.6.1 --leases "$tmp/leases2" --force
grep -q "starting anyway because of --force" "$(cf_server_log forced)" || cf_fail "--force did not warn"
echo PASS

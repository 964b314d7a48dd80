#!/usr/bin/env bash
# busybox udhcpc, phone vendor class and -O 150, gets an address and option
# 150 with the right bytes from cisco-dhcpd; the lease and events are written;
# a restart keeps the lease; --only-vendor ignores a PC.
source "$(dirname "${BASH_SOURCE[0]}")/_lib.sh"

dhcp_lab udc 2 10.231.4.0/24
tmp="$(cf_tmpdir udhcpc)"
script="$(make_udhcpc_script "$tmp")"
leases="$tmp/leases"
events="$tmp/events.jsonl"
common=(--pool 10.231.4.100-10.231.4.120 --tftp 192.168.1.1,0x0201A8C0 --router 10.231.4.1
        --leases "$leases" --events "$events" --lease-time 600)
start_dhcpd dhcpd1 "${common[@]}" --only-vendor "Cisco Systems, Inc. IP Phone"
log="$(cf_server_log dhcpd1)"
grep -q "0x0201A8C0 is the little-endian hex spelling of 192.168.1.2" "$log" ||
  cf_fail "no note explaining the Windows hex spelling"
grep -q "no other DHCP server answered" "$log" || cf_fail "the rogue probe did not run"

run_udhcpc "${LAB_HOSTS[0]}" "$tmp/phone" "$script" \
  -V "Cisco Systems, Inc. IP Phone CP-7960G" -O 150 -x hostname:SEP001122334455 ||
  cf_fail "udhcpc got no lease"
cat "$tmp/phone"
ip1="$(sed -n 's/^ip=//p' "$tmp/phone")"
[[ "$ip1" =~ ^10\.231\.4\.1[0-2][0-9]$ ]] || cf_fail "address $ip1 is not from the pool"
# option 150 as udhcpc prints an unknown option: hex of the bytes, C0A80101 C0A80102
cf_assert_eq "c0a80101c0a80102" "$(sed -n 's/^opt150=//p' "$tmp/phone" | tr 'A-F' 'a-f')" "option 150 bytes"
cf_assert_eq "10.231.4.1" "$(sed -n 's/^router=//p' "$tmp/phone")" "router"
cf_assert_eq "255.255.255.0" "$(sed -n 's/^subnet=//p' "$tmp/phone")" "subnet mask"

mac="$(ip netns exec "${LAB_HOSTS[0]}" cat /sys/class/net/eth0/address)"
cf_wait_until 5 grep -q "\"event\":\"ack\"" "$events" || cf_fail "no ack event"
ack="$(grep '"event":"ack"' "$events" | head -1)"
cf_assert_contains "$ack" "\"mac\":\"$mac\""
cf_assert_contains "$ack" "\"ip\":\"$ip1\""
cf_assert_contains "$ack" '"vendor-class":"Cisco Systems, Inc. IP Phone CP-7960G"'
cf_assert_contains "$ack" '"model":"7960"'
cf_assert_contains "$ack" '"hostname":"SEP001122334455"'
grep -q '"event":"discover"' "$events" || cf_fail "no discover event"
grep -q '"event":"offer"' "$events" || cf_fail "no offer event"

# A PC (other vendor class) is ignored under --only-vendor
if run_udhcpc "${LAB_HOSTS[1]}" "$tmp/pc" "$script" -V "MSFT 5.0"; then
  cf_fail "--only-vendor: a PC got a lease"
fi
grep -q '"event":"ignore".*MSFT 5.0' "$events" || cf_fail "no ignore event for the PC"

# Rotation: logrotate moves the event file and reloads the unit (SIGHUP); the
# server writes on into a new file at the old name.
mv "$events" "$events.1"
kill -HUP "$(cf_server_pid dhcpd1)"
cf_wait_until 5 test -f "$events" || cf_fail "SIGHUP did not reopen the event file"
cf_server_running dhcpd1 || cf_fail "SIGHUP stopped the server"
run_udhcpc "${LAB_HOSTS[1]}" "$tmp/pc-rotated" "$script" -V "MSFT 5.0" &&
  cf_fail "--only-vendor: a PC got a lease after the reload"
cf_wait_until 5 grep -q '"event":"ignore".*MSFT 5.0' "$events" || cf_fail "no event in the reopened file"

# Restart: the lease file holds the phone, and it gets the same address back
cf_server_stop dhcpd1
grep -q "^$mac $ip1 [0-9]* SEP001122334455 Cisco Systems, Inc. IP Phone CP-7960G$" "$leases" ||
  { cat "$leases"; cf_fail "lease file lacks the phone's lease"; }
start_dhcpd dhcpd2 "${common[@]}"
grep -q "1 leases loaded" "$(cf_server_log dhcpd2)" || cf_fail "restart did not load the lease"
# the PC first (no --only-vendor now), so a forgetful server would give it the phone's address
run_udhcpc "${LAB_HOSTS[1]}" "$tmp/pc2" "$script" -V "MSFT 5.0" || cf_fail "PC got no lease"
cf_assert_ne "$ip1" "$(sed -n 's/^ip=//p' "$tmp/pc2")" "the PC must not get the phone's address"
run_udhcpc "${LAB_HOSTS[0]}" "$tmp/phone2" "$script" -V "Cisco Systems, Inc. IP Phone CP-7960G" -O 150 ||
  cf_fail "udhcpc got no lease after restart"
cf_assert_eq "$ip1" "$(sed -n 's/^ip=//p' "$tmp/phone2")" "same MAC, same address after restart"
echo "PASS"

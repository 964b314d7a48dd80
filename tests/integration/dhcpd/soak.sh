#!/usr/bin/env bash
# Soak: cisco-dhcpd under a DISCOVER flood from random MACs (and forged CDP
# phones) keeps serving a real client (busybox udhcpc) every round, and its
# memory stays bounded: offers are bounded by the pool, the phone table by its
# cap. Bounded in count and time: 4 flood rounds of 6 s at 4,000 DISCOVERs a
# second (ten times the rate issue 13 saw starve a phone; plus 1 CDP frame per
# 8), the phone served while each runs, within udhcpc's 4 tries of 1 s.
source "$(dirname "${BASH_SOURCE[0]}")/_lib.sh"

dhcp_lab soak 2 10.231.10.0/24
flooder="${LAB_HOSTS[0]}" phone="${LAB_HOSTS[1]}"
tmp="$(cf_tmpdir soak)"
script="$(make_udhcpc_script "$tmp")"
start_dhcpd dhcpd --pool 10.231.10.20-10.231.10.250 --tftp 10.231.10.1 --leases "$tmp/leases" \
  --events "$tmp/events" --probe-time 0 --quiet
# setsid and ip netns exec both exec: the server's pid is the daemon's
dhcpd_pid="$(cf_server_pid dhcpd)"
grep -q cisco-dhcpd "/proc/$dhcpd_pid/comm" || cf_fail "pid $dhcpd_pid is not cisco-dhcpd"
rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$dhcpd_pid/status"; }

run_udhcpc "$phone" "$tmp/first" "$script" -V "Cisco Systems, Inc. IP Phone CP-7960G" -O 150 ||
  cf_fail "the phone got no lease before the flood"
phone_ip="$(sed -n 's/^ip=//p' "$tmp/first")"
rss_start="$(rss)"
for round in 1 2 3 4; do
  ip netns exec "$flooder" timeout 30 python3 "$(dirname "${BASH_SOURCE[0]}")/_flood_client.py" eth0 6 4000 >"$tmp/flood.$round" 2>&1 &
  flood=$!
  cf_register_pid "$flood"
  sleep 0.5
  # the real phone, during the flood: a few tries of one second, as a phone would
  SECONDS=0; run_udhcpc "$phone" "$tmp/round.$round" "$script" -V "Cisco Systems, Inc. IP Phone CP-7960G" -O 150 ||
    cf_fail "round $round: the phone got no lease under the flood"
  cf_assert_eq "$phone_ip" "$(sed -n 's/^ip=//p' "$tmp/round.$round")" "round $round: the phone's address"
  echo "round $round: phone served after ${SECONDS}s"
  cf_assert_eq "0ae70a01" "$(sed -n 's/^opt150=//p' "$tmp/round.$round" | tr 'A-F' 'a-f')" \
    "round $round: option 150"
  kill -0 "$flood" 2>/dev/null || cf_fail "round $round: the flood ended before the phone was served"
  wait "$flood" || cf_fail "round $round: the flood client failed: $(cat "$tmp/flood.$round")"
  echo "round $round: $(cat "$tmp/flood.$round"); RSS $(rss) kB; events file $(du -k "$tmp/events" | cut -f1) kB"
done
cf_server_running dhcpd || cf_fail "cisco-dhcpd died under the flood"
rss_end="$(rss)"
echo "RSS at start ${rss_start} kB, after 4 rounds ${rss_end} kB"
# Bounded: 4 rounds of ~tens of thousands of MACs must not grow it by more than 32 MB.
((rss_end - rss_start < 32768)) || cf_fail "RSS grew from ${rss_start} to ${rss_end} kB"
offers="$(grep -c '"event":"offer"' "$tmp/events" || true)"
announces="$(grep -c '"event":"phone-announce"' "$tmp/events" || true)"
echo "offers written: $offers; phone-announce events: $announces"
((announces <= 4096)) || cf_fail "more phone-announce events than the phone table's cap"
echo PASS

#!/usr/bin/env bash
# Phone announcements from senders that are not our code: lldpd (CDPv2 and
# LLDP-MED) and scapy's CDP and LLDP layers, in a namespace pair; cisco-dhcpd
# on the other end writes one phone-announce event per phone and change.
# tcpdump decodes the frames of tests/phonesim/phonesimlib/cdp.py as CDP and
# LLDP-MED with the right fields. Garbage frames are refused, not fatal;
# --no-announce turns listening off.
source "$(dirname "${BASH_SOURCE[0]}")/_lib.sh"

scapy_python=/usr/bin/python3  # Debian's interpreter, where python3-scapy lives
command -v lldpd >/dev/null || cf_skip "lldpd not installed"
command -v tcpdump >/dev/null || cf_skip "tcpdump not installed"
"$scapy_python" -c 'import scapy.contrib.cdp, scapy.contrib.lldp' 2>/dev/null ||
  cf_skip "python3-scapy not installed"

cf_netns_pair srv ph 10.231.9.0/24
srv="$CF_PAIR_NS_A" ph="$CF_PAIR_NS_B" srv_if="$CF_PAIR_IF_A" ph_if="$CF_PAIR_IF_B"
tmp="$(cf_tmpdir announce)"
events="$tmp/events.jsonl"
scapy_send() { ip netns exec "$ph" "$scapy_python" "$(dirname "${BASH_SOURCE[0]}")/_scapy_announce.py" "$ph_if" "$@"; }
announces() { grep '"event":"phone-announce"' "$events" | grep "\"mac\":\"$1\"" | grep "\"protocol\":\"$2\"" || true; }
has_announce() { [[ -n "$(announces "$1" "$2")" ]]; }
count_announces() { announces "$1" "$2" | grep -c . || true; }

start_announce_dhcpd() {
  local name="$1"
  shift
  cf_server_start "$name" --netns "$srv" -- "$DHCPD" --iface "$srv_if" --probe-time 0 \
    --pool 10.231.9.100-10.231.9.120 --tftp 10.231.9.1 --leases "$tmp/leases" --events "$events" "$@"
  cf_wait_until 10 grep -q "serving on" "$(cf_server_log "$name")" ||
    cf_fail "cisco-dhcpd $name did not start"
}
start_announce_dhcpd dhcpd

# ---------------------------------------------------------------- (a) lldpd
# Configured as a 7941 would announce itself: system name SEP<MAC>, the load as
# CDP software version (system description) and LLDP-MED software revision.
lldpd_mac=0a:1b:2c:3d:4e:01
lldpd_load=SCCP41.9-4-2SR3-1S
ip -n "$ph" link set "$ph_if" address "$lldpd_mac"
# lldpd's lldpcli reads the configuration as the unprivileged _lldpd user.
chmod 0711 "$tmp"
mkdir -m 0755 "$tmp/lldpd"
cat >"$tmp/lldpd/lldpd.conf" <<EOF
configure system hostname SEP0A1B2C3D4E01
configure inventory software-revision $lldpd_load
configure inventory model CP-7941G
configure lldp tx-interval 1
EOF
# -ccccc: CDPv2 only, sent without waiting for a CDP peer; -l: LLDP too (else a
# forced CDP silences it); -M 1: LLDP-MED
# endpoint class I (with inventory TLVs); private socket and pid file.
cf_server_start lldpd --netns "$ph" -- lldpd -d -ccccc -l -M 1 -I "$ph_if" -m 10.231.9.2 \
  -S "$lldpd_load" -P "Cisco IP Phone 7941" -u "$tmp/lldpd/lldpd.sock" -p "$tmp/lldpd/lldpd.pid" \
  -O "$tmp/lldpd/lldpd.conf"
cf_wait_until 20 has_announce "$lldpd_mac" cdp || cf_fail "no CDP phone-announce from lldpd"
cf_wait_until 20 has_announce "$lldpd_mac" lldp || cf_fail "no LLDP phone-announce from lldpd"
cdp_event="$(announces "$lldpd_mac" cdp | head -1)"
echo "lldpd CDP: $cdp_event"
cf_assert_contains "$cdp_event" '"model":"7941"'
cf_assert_contains "$cdp_event" "\"load\":\"$lldpd_load\""
cf_assert_contains "$cdp_event" '"load-valid":true'
cf_assert_contains "$cdp_event" '"ip":"10.231.9.2"'
cf_assert_contains "$cdp_event" "\"iface\":\"$srv_if\""
lldp_event="$(announces "$lldpd_mac" lldp | head -1)"
echo "lldpd LLDP: $lldp_event"
cf_assert_contains "$lldp_event" '"model":"7941"'
cf_assert_contains "$lldp_event" "\"load\":\"$lldpd_load\""
cf_assert_contains "$lldp_event" '"ip":"10.231.9.2"'
# lldpd repeats itself every second: still one event per protocol.
sleep 3
cf_assert_eq 1 "$(count_announces "$lldpd_mac" cdp)" "CDP events for an unchanged phone"
cf_assert_eq 1 "$(count_announces "$lldpd_mac" lldp)" "LLDP events for an unchanged phone"
cf_server_stop lldpd

# ---------------------------------------------------------------- (b) scapy
scapy_mac=0a:1b:2c:3d:4e:02
scapy_send cdp "$scapy_mac" P00308000900 "Cisco IP Phone 7960" 10.231.9.3 3
cf_wait_until 10 has_announce "$scapy_mac" cdp || cf_fail "no phone-announce for scapy's CDP"
event="$(announces "$scapy_mac" cdp)"
echo "scapy CDP: $event"
cf_assert_contains "$event" '"model":"7960"'
cf_assert_contains "$event" '"load":"P00308000900"'
cf_assert_contains "$event" '"ip":"10.231.9.3"'
# the phone upgraded: one more event, with the new load
scapy_send cdp "$scapy_mac" P0S3-08-12-00 "Cisco IP Phone 7960" 10.231.9.3 2
cf_wait_until 10 grep -q 'P0S3-08-12-00' "$events" || cf_fail "no event for the changed load"
cf_assert_eq 2 "$(count_announces "$scapy_mac" cdp)" "events for three identical frames and one change"

scapy_lldp_mac=0a:1b:2c:3d:4e:03
scapy_send lldp "$scapy_lldp_mac" SCCP45.9-4-2SR3-1S CP-7965G 10.231.9.4 2
cf_wait_until 10 has_announce "$scapy_lldp_mac" lldp || cf_fail "no phone-announce for scapy's LLDP"
event="$(announces "$scapy_lldp_mac" lldp)"
echo "scapy LLDP: $event"
cf_assert_contains "$event" '"model":"7965"'
cf_assert_contains "$event" '"load":"SCCP45.9-4-2SR3-1S"'
cf_assert_contains "$event" '"ip":"10.231.9.4"'
cf_assert_eq 1 "$(count_announces "$scapy_lldp_mac" lldp)" "events for two identical LLDP frames"

scapy_send garbage
cf_wait_until 10 grep -q "CDP/LLDP frame ignored: CDP TLV 0x0001 length 32767 runs past" "$(cf_server_log dhcpd)" ||
  cf_fail "a CDP TLV longer than its frame was not reported"
cf_wait_until 10 grep -q "CDP/LLDP frame ignored: LLDP" "$(cf_server_log dhcpd)" ||
  cf_fail "a truncated LLDP frame was not reported"
cf_server_running dhcpd || cf_fail "cisco-dhcpd died on garbage frames"

# ------------------------------------------------------ (c) phonesim + tcpdump
sim_mac=0a:1b:2c:3d:4e:04
cat >"$tmp/send_sim.py" <<EOF
import sys
sys.path.insert(0, "$CF_SOURCE_DIR/tests/phonesim")
from phonesimlib import cdp
mac = "$sim_mac"
cdp.send_frame("$ph_if", cdp.build_cdp_frame(mac, cdp.device_id(mac), "P00308000900",
                                             "Cisco IP Phone 7960", "10.231.9.5"))
cdp.send_frame("$ph_if", cdp.build_lldp_med_frame(mac, "SCCP45.9-4-2SR3-1S", "CP-7965G", "10.231.9.5"))
EOF
ip netns exec "$srv" timeout 20 tcpdump -n -i "$srv_if" -c 2 -w "$tmp/sim.pcap" \
  'ether dst 01:00:0c:cc:cc:cc or ether proto 0x88cc' 2>"$tmp/tcpdump.err" &
tcpdump_pid=$!
cf_register_pid "$tcpdump_pid"
cf_wait_until 10 grep -q "listening on" "$tmp/tcpdump.err" || cf_fail "tcpdump did not start"
ip netns exec "$ph" python3 "$tmp/send_sim.py"
wait "$tcpdump_pid" || cf_fail "tcpdump captured no frames: $(cat "$tmp/tcpdump.err")"
tcpdump -v -n -r "$tmp/sim.pcap" >"$tmp/decoded.txt" 2>&1
cat "$tmp/decoded.txt"
decoded="$(cat "$tmp/decoded.txt")"
cf_assert_contains "$decoded" "CDPv2, ttl: 180s"
grep -q "Device-ID (0x01), value length: 15 bytes: 'SEP0A1B2C3D4E04'" "$tmp/decoded.txt" ||
  cf_fail "tcpdump does not decode the Device-ID"
grep -A1 "Version String (0x05)" "$tmp/decoded.txt" | grep -q "P00308000900" ||
  cf_fail "tcpdump does not decode the software version"
grep -q "Platform (0x06), value length: 19 bytes: 'Cisco IP Phone 7960'" "$tmp/decoded.txt" ||
  cf_fail "tcpdump does not decode the platform"
grep -q "IPv4 (1) 10.231.9.5" "$tmp/decoded.txt" || cf_fail "tcpdump does not decode the address"
grep -iq "checksum.*bad\|malformed\|invalid" "$tmp/decoded.txt" && cf_fail "tcpdump finds the frames broken"
grep -q "Inventory - software revision Subtype (7)" "$tmp/decoded.txt" ||
  cf_fail "tcpdump does not decode the LLDP-MED software revision"
grep -q "Software revision SCCP45.9-4-2SR3-1S" "$tmp/decoded.txt" || cf_fail "tcpdump shows another software revision"
grep -q "Model name CP-7965G" "$tmp/decoded.txt" || cf_fail "tcpdump shows no LLDP-MED model name"
grep -q "System Name TLV (5), length 15: SEP0A1B2C3D4E04" "$tmp/decoded.txt" || cf_fail "tcpdump shows no system name"
cf_wait_until 10 has_announce "$sim_mac" cdp || cf_fail "no phone-announce for phonesim's CDP"
cf_wait_until 10 has_announce "$sim_mac" lldp || cf_fail "no phone-announce for phonesim's LLDP"

# ---------------------------------------------------------------- --no-announce
cf_server_stop dhcpd
before="$(grep -c phone-announce "$events")"
start_announce_dhcpd quiet --no-announce
scapy_send cdp 0a:1b:2c:3d:4e:05 P00308000900 "Cisco IP Phone 7960" 10.231.9.6 2
# a DHCP exchange after the frames proves the server was reading its sockets meanwhile
script="$(make_udhcpc_script "$tmp")"
UDHCPC_DUMP="$tmp/lease" ip netns exec "$ph" busybox udhcpc -i "$ph_if" -f -q -n -t 4 -T 1 -A 1 \
  -s "$script" -V "Cisco Systems, Inc. IP Phone CP-7960G" || cf_fail "udhcpc got no lease"
cf_assert_eq "$before" "$(grep -c phone-announce "$events")" "phone-announce events under --no-announce"
echo "PASS"

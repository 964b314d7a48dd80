#!/usr/bin/env bash
# The phone simulator against independent servers: dnsmasq (DHCP with option 150,
# and its built-in TFTP) in a server namespace, phonesim in a phone namespace.
# Checks (issue 8): a 7965 on SCCP45.8-5-2S told by its SEP file to run
# SIP45.9-4-2SR3-1S gets there and registers; a 7961 below 8.3(3) sent straight to
# 9.4(2) ends in reboot-loop; a 7960 whose DHCP has no option 150 after the loader
# stage ends in protocol-application-invalid (and recovers once 150 is back); a
# power cut mid-download keeps the old load and a rerun completes.
set -euo pipefail
SRC="${CF_SOURCE_DIR:-$(cd "$(dirname "$0")/../../.." && pwd)}"
source "${SRC}/tests/lib/netns.sh"
source "${SRC}/tests/lib/server.sh"
cf_netns_require
command -v dnsmasq >/dev/null || cf_skip "dnsmasq not installed (apt-get install dnsmasq-base)"
command -v unzip >/dev/null || cf_skip "unzip not installed"

PHONESIM="${SRC}/tests/phonesim/phonesim"
work="$(cf_tmpdir)"
chmod 755 "$work"
root="${work}/root"
mkdir -p "$root"

"${SRC}/tests/fixtures/make-firmware" -q --scale 0.02 \
  --only cmterm-7945_7965-sip.9-4-2SR3-1.zip,cmterm-7941_7961-sccp.9-4-2SR3-1.zip,cmterm-7940-7960-sip.8-12-00.zip \
  "${work}/fw"
for z in "${work}"/fw/*.zip; do unzip -q -o "$z" -d "$root"; done
rm -f "${root}/OS79XX.TXT"

cf_netns_pair srv ph 10.213.7.0/24 srv0 ph0
SRV_IP="$CF_PAIR_ADDR_A"
ip -n "$CF_PAIR_NS_B" addr flush dev ph0

# ------------------------------------------------------------ configs
cat >"${root}/SEP001E4A000001.cnf.xml" <<XML
<?xml version="1.0" encoding="UTF-8"?>
<device>
  <deviceProtocol>SIP</deviceProtocol>
  <devicePool><callManagerGroup><members><member priority="0"><callManager>
    <ports><ethernetPhonePort>2000</ethernetPhonePort><sipPort>5060</sipPort></ports>
    <processNodeName>${SRV_IP}</processNodeName>
  </callManager></member></members></callManagerGroup></devicePool>
  <sipProfile><sipLines>
    <line button="1"><featureLabel>201</featureLabel><proxy>USECALLMANAGER</proxy>
      <name>201</name><displayName>Phone 201</displayName>
      <authName>201</authName><authPassword>secret201</authPassword></line>
  </sipLines></sipProfile>
  <loadInformation>SIP45.9-4-2SR3-1S</loadInformation>
</device>
XML
# the 7945 of the power-cut case gets the same config under its own MAC
sed 's/201/202/g' "${root}/SEP001E4A000001.cnf.xml" >"${root}/SEP001E4A000004.cnf.xml"
cat >"${root}/SEP001E4A000002.cnf.xml" <<XML
<device><loadInformation>SCCP41.9-4-2SR3-1S</loadInformation></device>
XML
cat >"${root}/SEP001E4A000003.cnf.xml" <<XML
<device><devicePool><callManagerGroup><members><member priority="0"><callManager>
  <processNodeName>${SRV_IP}</processNodeName></callManager></member></members>
</callManagerGroup></devicePool><loadInformation>P0S3-8-12-00</loadInformation></device>
XML
printf 'image_version: P0S3-8-12-00\nproxy1_address: %s ; the registrar\nproxy_register: 1\n' \
  "$SRV_IP" >"${root}/SIPDefault.cnf"
printf 'line1_name: "203"\nline1_authname: "203"\nline1_password: "secret203"\n' \
  >"${root}/SIP001E4A000003.cnf"

# ------------------------------------------------------------ servers
dnsmasq_start() {   # dnsmasq_start NAME [extra dnsmasq options...]
  local name="$1"
  shift
  cf_server_start "$name" --netns srv -- dnsmasq --no-daemon --conf-file=/dev/null \
    --port=0 --user=root --interface=srv0 --bind-interfaces --pid-file= \
    --dhcp-range=10.213.7.100,10.213.7.150,255.255.255.0,1h \
    --dhcp-leasefile="${work}/leases" --log-dhcp "$@"
  cf_wait_until 10 cf_udp_port_bound 67 "$CF_PAIR_NS_A" ||
    cf_fail "dnsmasq ${name} did not bind port 67"
}
with_tftp=(--enable-tftp --tftp-root="$root")
dnsmasq_start dnsmasq "--dhcp-option=150,${SRV_IP}" "${with_tftp[@]}"

phone() {   # phone ARGS... : run phonesim in the phone namespace, print its JSON line
  ip netns exec "$CF_PAIR_NS_B" timeout 60 python3 "$PHONESIM" --iface ph0 \
    --tftp-timeout 0.5 --file-tries 2 "$@" || true
}
field() { python3 -c 'import json,sys; v=json.loads(sys.argv[1])[sys.argv[2]]; print(json.dumps(v) if not isinstance(v,str) else v)' "$1" "$2"; }
fetched() {  # fetched STATE_DIR : the ok transfers in order, one name a line
  python3 -c 'import json,sys
for l in open(sys.argv[1]): e=json.loads(l); print(e["file"]) if e["result"]=="ok" else None' "$1/tftp.jsonl"
}

# ------------------------------------------------------------ 1: 7965 SCCP -> SIP
out="$(phone --model 7965 --mac 00:1E:4A:00:00:01 --load SCCP45.8-5-2S --state-dir "${work}/p1")"
cf_info "7965: $out"
cf_assert_eq running "$(field "$out" state)" "7965 state"
cf_assert_eq SIP45.9-4-2SR3-1S "$(field "$out" load)" "7965 load"
cf_assert_eq SIP "$(field "$out" protocol)" "7965 protocol"
# No SIP registrar runs here: the phone sends its REGISTER to the proxy, the
# kernel answers port unreachable, and it is not registered.
cf_assert_eq "false null" "$(field "$out" registered) $(field "$out" sip_status)" "7965 not registered"
cf_assert_contains "$(field "$out" sip_reason)" "Connection refused" "7965 REGISTER refused"
cf_assert_eq "$SRV_IP" "$(field "$out" proxy)" "7965 proxy"
cf_assert_eq '["SIP45.9-4-2SR3-1S"]' "$(field "$out" loads)" "7965 loads"
expected="SEP001E4A000001.cnf.xml
SIP45.9-4-2SR3-1S.loads
$(python3 -c 'import sys
d=open(sys.argv[1],"rb").read(); print(d[int.from_bytes(d[8:10],"big"):].decode().strip())' \
  "${root}/SIP45.9-4-2SR3-1S.loads")
SEP001E4A000001.cnf.xml"
cf_assert_eq "$expected" "$(fetched "${work}/p1")" "7965 transfers in order"
grep -q '"file": "CTLSEP001E4A000001.tlv", "server": "'"$SRV_IP"'", "result": "not-found"' \
  "${work}/p1/tftp.jsonl" || cf_fail "7965 did not ask for CTLSEP001E4A000001.tlv first"
grep -q '"ITLSEP001E4A000001.tlv"' "${work}/p1/tftp.jsonl" || cf_fail "7965 did not ask for ITLSEP"

# ------------------------------------- 2: 7961 jump past the signing-key change -> auth fail
# (phone-behaviour.md 3: an old-key load cannot verify a new-key one; it keeps its load)
out="$(phone --model 7961 --mac 00:1E:4A:00:00:02 --load SCCP41.8-2-2S --state-dir "${work}/p2")"
cf_info "7961: $out"
cf_assert_eq auth-fail "$(field "$out" state)" "7961 state"
cf_assert_eq SCCP41.8-2-2S "$(field "$out" load)" "7961 keeps (falls back to) its load"
cf_assert_contains "$(fetched "${work}/p2")" SCCP41.9-4-2SR3-1S.loads

# ------------------------------------------------------------ 3: power cut mid-download
out="$(phone --model 7945 --mac 00:1E:4A:00:00:04 --load SCCP45.8-5-2S --state-dir "${work}/p4" \
  --fault power-loss-during=jar45sip.9-4-2ES26.sbn)"
cf_info "7945 power cut: $out"
cf_assert_eq power-lost "$(field "$out" state)" "7945 power cut state"
cf_assert_eq SCCP45.8-5-2S "$(field "$out" load)" "7945 keeps its old load after the power cut"
out="$(phone --model 7945 --mac 00:1E:4A:00:00:04 --state-dir "${work}/p4" \
  --fault power-loss-during=jar45sip.9-4-2ES26.sbn)"
cf_info "7945 powered on again: $out"
cf_assert_eq running "$(field "$out" state)" "7945 after power-on"
cf_assert_eq SIP45.9-4-2SR3-1S "$(field "$out" load)" "7945 load after power-on"

# ------------------------------------------------------------ 4: 7960 loader stage, no 150
out="$(phone --model 7960 --mac 00:1E:4A:00:00:03 --load P00308000900 --state-dir "${work}/p3" --max-boots 1)"
cf_info "7960 stage 1: $out"
cf_assert_eq rebooting "$(field "$out" state)" "7960 after stage 1"
cf_assert_eq P003-8-12-00 "$(field "$out" load)" "7960 runs the loader"
cf_server_stop dnsmasq
dnsmasq_start dnsmasq-no150   # no option 150 or 66 (dnsmasq still puts itself in siaddr,
                              # which the wiped loader does not use)
out="$(phone --model 7960 --mac 00:1E:4A:00:00:03 --state-dir "${work}/p3")"
cf_info "7960 without option 150: $out"
cf_assert_eq protocol-application-invalid "$(field "$out" state)" "7960 without option 150"
cf_assert_contains "$(field "$out" reason)" "option 150"
if grep -q '"boot": 2,' "${work}/p3/tftp.jsonl"; then cf_fail "7960 used TFTP without option 150"; fi
cf_server_stop dnsmasq-no150
dnsmasq_start dnsmasq-150 "--dhcp-option=150,${SRV_IP}" "${with_tftp[@]}"
out="$(phone --model 7960 --mac 00:1E:4A:00:00:03 --state-dir "${work}/p3")"
cf_info "7960 with option 150 again: $out"
cf_assert_eq running "$(field "$out" state)" "7960 recovered"
cf_assert_eq P0S3-8-12-00 "$(field "$out" load)" "7960 final load"
# No SIP registrar runs here: the phone sends its REGISTER to the proxy, the
# kernel answers port unreachable, and it is not registered.
cf_assert_eq "false null" "$(field "$out" registered) $(field "$out" sip_status)" "7960 not registered"
cf_assert_contains "$(field "$out" sip_reason)" "Connection refused" "7960 REGISTER refused"
cf_assert_eq '["P003-8-12-00", "P0S3-8-12-00"]' "$(field "$out" loads)" "7960 loads in order"
cf_info "dnsmasq-boot: all checks passed"

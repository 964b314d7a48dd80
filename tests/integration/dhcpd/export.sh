#!/usr/bin/env bash
# `cisco-dhcpd export` from a CLI11 config file: the dnsmasq, Kea and ISC
# configurations pass the real programs' own checks (`dnsmasq --test`,
# `kea-dhcp4 -t`, `dhcpd -t`) where they are installed. No server is started
# here (serving with the dnsmasq export is in rogue-probe.sh).
set -euo pipefail
source "${CF_SOURCE_DIR}/tests/lib/common.sh"
DHCPD="${CF_BIN_DIR}/cisco-dhcpd"
tmp="$(cf_tmpdir export)"
cat >"$tmp/setup.conf" <<'CONF'
# the same keys as the command-line options
server-ip = 192.168.1.1
pool = ["192.168.1.100-192.168.1.150/24", "10.9.0.10-10.9.0.20/24"]
router = ["192.168.1.1", "10.9.0.1"]
tftp = "192.168.1.1,0x0201A8C0"
tftp-name = "tftp.lab"
dns = "192.168.1.53"
domain = "phones.lab"
option = ["42:ips=192.168.1.123", "2:u32=3600", "43:hex=01:04:c0:a8:01:01"]
only-vendor = "Cisco Systems, Inc. IP Phone"
reserve = ["00:1b:54:00:00:01=192.168.1.20,lobby", "00:1b:54:00:00:02=10.9.0.30"]
lease-time = 7200
CONF
checked=0
for format in dnsmasq kea isc; do
  "$DHCPD" export --format "$format" --config "$tmp/setup.conf" >"$tmp/$format.conf" 2>"$tmp/$format.err" ||
    { cat "$tmp/$format.err"; cf_fail "export --format $format failed"; }
done
grep -q "0x0201A8C0 is the little-endian hex spelling of 192.168.1.2" "$tmp/isc.err" || cf_fail "no hex note"
grep -q '^dhcp-option=150,192.168.1.1,192.168.1.2$' "$tmp/dnsmasq.conf" || cf_fail "dnsmasq option 150"
grep -q '"data": "192.168.1.1, 192.168.1.2"' "$tmp/kea.conf" || cf_fail "kea option 150"
grep -q '^option tftp-servers 192.168.1.1, 192.168.1.2;$' "$tmp/isc.conf" || cf_fail "isc option 150"
python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$tmp/kea.conf" || cf_fail "kea export is not JSON"

if command -v dnsmasq >/dev/null; then
  dnsmasq --test --conf-file="$tmp/dnsmasq.conf" || { cat "$tmp/dnsmasq.conf"; cf_fail "dnsmasq --test"; }
  checked=$((checked + 1))
fi
if command -v kea-dhcp4 >/dev/null; then
  kea-dhcp4 -t "$tmp/kea.conf" || { cat "$tmp/kea.conf"; cf_fail "kea-dhcp4 -t"; }
  checked=$((checked + 1))
fi
if command -v dhcpd >/dev/null; then
  dhcpd -t -4 -cf "$tmp/isc.conf" || { cat "$tmp/isc.conf"; cf_fail "dhcpd -t"; }
  checked=$((checked + 1))
fi
((checked > 0)) || cf_skip "none of dnsmasq, kea-dhcp4, dhcpd is installed"
echo "PASS: $checked of 3 exports checked by the real program"

#!/usr/bin/env bash
# Setups that cannot work stop cisco-dhcpd at start with exit 2 and the place
# of the mistake: unknown keys and garbage lines in --config (FILE:LINE), a bad
# --reservations line, reservations on a network, broadcast or router address.
# Runs the real binary (the export subcommand reads the same setup and needs no
# interface or root); nothing is sent.
set -euo pipefail
source "${CF_SOURCE_DIR:-$(dirname "${BASH_SOURCE[0]}")/../../..}/tests/lib/common.sh"
DHCPD="${CF_BIN_DIR:-}/cisco-dhcpd"
[[ -x "$DHCPD" ]] || DHCPD="$(command -v cisco-dhcpd)" || cf_fail "cisco-dhcpd not built"
tmp="$(cf_tmpdir dhcpd-config)"

# expect_usage WHAT EXPECTED-TEXT ARGS... : exit 2 and EXPECTED-TEXT on stderr
expect_usage() {
  local what="$1" expected="$2" status=0
  shift 2
  "$DHCPD" "$@" export --format dnsmasq >"$tmp/out" 2>"$tmp/err" || status=$?
  cf_assert_eq 2 "$status" "exit status for $what"
  grep -qF -- "$expected" "$tmp/err" || cf_fail "$what: want '$expected', got: $(cat "$tmp/err")"
}
base=(--server-ip 10.0.0.1 --pool 10.0.0.100-10.0.0.150/24 --router 10.0.0.254)

printf 'server-ip = 10.0.0.1\npool = 10.0.0.100-10.0.0.150/24\n# fine so far\nprobe_time = 0\n' >"$tmp/good.conf"
"$DHCPD" --config "$tmp/good.conf" export --format dnsmasq >/dev/null || cf_fail "a good --config was refused"
cp "$tmp/good.conf" "$tmp/unknown.conf"
printf 'tftp-server = 10.0.0.1\n' >>"$tmp/unknown.conf"
expect_usage "unknown key" "unknown.conf:5: unknown key 'tftp-server'" --config "$tmp/unknown.conf"
cp "$tmp/good.conf" "$tmp/garbage.conf"
printf '\nthis line means nothing\n' >>"$tmp/garbage.conf"
expect_usage "garbage line" "garbage.conf:6: want KEY = VALUE" --config "$tmp/garbage.conf"

printf '00:1b:54:00:00:01 10.0.0.20\n00:1b:54:00:00:02\n' >"$tmp/res.txt"
expect_usage "bad --reservations line" "res.txt:2: want 'MAC IP [NAME]'" "${base[@]}" --reservations "$tmp/res.txt"
expect_usage "network address" "is the network address of 10.0.0.0/24" "${base[@]}" --reserve 00:1b:54:00:00:01=10.0.0.0
expect_usage "broadcast address" "is the broadcast address of 10.0.0.0/24" "${base[@]}" --reserve 00:1b:54:00:00:01=10.0.0.255
expect_usage "router address" "is a router's address" "${base[@]}" --reserve 00:1b:54:00:00:01=10.0.0.254
expect_usage "outside every pool" "outside the network of every pool" "${base[@]}" --reserve 00:1b:54:00:00:01=10.9.0.5
"$DHCPD" "${base[@]}" --reserve 00:1b:54:00:00:01=10.0.0.20 export --format dnsmasq >/dev/null ||
  cf_fail "a good reservation was refused"
echo "PASS"

# shellcheck shell=bash
# Shared setup of the cisco-dhcpd integration tests (not a test itself: the
# leading underscore keeps it out of ctest). Everything runs inside network
# namespaces made here and removed at exit; nothing touches the host's network.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=../../lib/netns.sh
source "${CF_SOURCE_DIR:-$here/../../..}/tests/lib/netns.sh"
# shellcheck source=../../lib/server.sh
source "${CF_SOURCE_DIR:-$here/../../..}/tests/lib/server.sh"

DHCPD="${CF_BIN_DIR:-}/cisco-dhcpd"
[[ -x "$DHCPD" ]] || DHCPD="$(command -v cisco-dhcpd)" || cf_fail "cisco-dhcpd not built"
cf_netns_require
command -v busybox >/dev/null || cf_skip "busybox not installed"

# dhcp_lab N SUBNET : a bridge with a server namespace (address .1) and N
# client namespaces without addresses. Sets LAB_* variables.
dhcp_lab() {
  cf_bridge_lab --name "$1" --subnet "$3" --no-host-addrs "$2"
  LAB_SRV="${CF_LAB_SERVER_NS}"
  LAB_ADDR="${CF_LAB_SERVER_ADDR}"
  LAB_HOSTS=("${CF_LAB_HOST_NS[@]}")
}

# A udhcpc -s script that dumps what the client learned, one VAR=value a line.
make_udhcpc_script() {
  local out="$1/udhcpc.sh"
  cat >"$out" <<'SCRIPT'
#!/bin/sh
# $1 is the event (deconfig, bound, renew, leasefail, nak)
if [ "$1" = bound ] || [ "$1" = renew ]; then
  env | grep -E '^(ip|subnet|router|opt150|tftp|serverid|lease|hostname|domain|dns|boot_file|siaddr|opt[0-9]+)=' | sort >"$UDHCPC_DUMP"
  echo "event=$1" >>"$UDHCPC_DUMP"
fi
exit 0
SCRIPT
  chmod +x "$out"
  printf '%s\n' "$out"
}

# run_udhcpc NS DUMP SCRIPT [udhcpc args...] : one lease attempt (quit after),
# returns udhcpc's status.
run_udhcpc() {
  local ns="$1" dump="$2" script="$3"
  shift 3
  UDHCPC_DUMP="$dump" ip netns exec "$ns" busybox udhcpc -i eth0 -f -q -n -t 4 -T 1 -A 1 \
    -s "$script" "$@"
}

start_dhcpd() {
  local name="$1"
  shift
  cf_server_start "$name" --netns "$LAB_SRV" -- "$DHCPD" --iface eth0 "$@"
  cf_wait_until 10 grep -q "serving on" "$(cf_server_log "$name")" ||
    { cat "$(cf_server_log "$name")" >&2; cf_fail "cisco-dhcpd $name did not start"; }
}

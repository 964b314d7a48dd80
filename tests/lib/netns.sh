# shellcheck shell=bash
# shellcheck disable=SC2034  # CF_* variables are results read by the sourcing test
# tests/lib/netns.sh - private networks for integration tests, built from
# Linux network namespaces, veth pairs and bridges.
#
# Nothing here touches the machine's own network: every namespace, veth end
# and bridge is created directly inside a namespace this file made (veth
# peers are created with "peer ... netns X", never in the host namespace), and
# namespaces get no default route, so 10.x / 192.168.x addresses used inside
# them cannot reach anything outside.
#
#   source tests/lib/netns.sh
#   cf_netns_require                     # exit 77 (ctest SKIP) unless root + netns work
#   cf_netns_pair a b 10.201.0.0/24      # a=10.201.0.1, b=10.201.0.2
#   cf_netns_exec b some-client 10.201.0.1
#
# Namespace names are "${CF_NETNS_PREFIX}NAME"; the default prefix is
# "cf-<pid of the test shell>-", so parallel tests never collide and the
# leftovers of a test that was SIGKILLed can be recognised (and are removed
# by cf_netns_reap_stale, which cf_netns_require runs).
#
# Every namespace is registered for the cleanup of common.sh, which at exit
# (normal, failure, SIGINT, SIGTERM, SIGHUP) kills all processes running in
# it (SIGTERM, then SIGKILL after CF_STOP_TIMEOUT seconds) and deletes it;
# deleting a namespace destroys the veths and bridges inside it.

if [[ -n "${_CF_NETNS_SH_LOADED:-}" ]]; then
  return 0
fi
_CF_NETNS_SH_LOADED=1

# shellcheck source=SCRIPTDIR/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

CF_NETNS_PREFIX="${CF_NETNS_PREFIX:-cf-${_CF_OWNER_PID}-}"
if [[ "${CF_NETNS_PREFIX}" != cf-* ]]; then
  printf 'cf: CF_NETNS_PREFIX must start with "cf-" (got %s)\n' "${CF_NETNS_PREFIX}" >&2
  return 2
fi
CF_NETNS_SKIP_REASON=""
_CF_NETNS_SUPPORTED=""

# ---------------------------------------------------------------- support

# cf_netns_supported : return 0 if namespaces, veth and bridges can be made
# here (root, iproute2, kernel support); otherwise return 1 and set
# CF_NETNS_SKIP_REASON. The answer is cached.
cf_netns_supported() {
  if [[ "${_CF_NETNS_SUPPORTED}" == yes ]]; then
    return 0
  elif [[ "${_CF_NETNS_SUPPORTED}" == no ]]; then
    return 1
  fi
  _CF_NETNS_SUPPORTED=no
  if [[ "${EUID}" -ne 0 ]]; then
    CF_NETNS_SKIP_REASON="network namespaces need root (running as uid ${EUID})"
    return 1
  fi
  local tool
  for tool in ip ss setsid python3; do
    if ! command -v "$tool" >/dev/null 2>&1; then
      CF_NETNS_SKIP_REASON="command '${tool}' not found"
      return 1
    fi
  done
  if [[ ! -e /proc/self/ns/net ]]; then
    CF_NETNS_SKIP_REASON="kernel without network namespaces (/proc/self/ns/net missing)"
    return 1
  fi
  local probe="${CF_NETNS_PREFIX}probe${RANDOM}" error=""
  _cf_journal_add netns "$probe"
  if ! error="$(ip netns add "$probe" 2>&1)"; then
    CF_NETNS_SKIP_REASON="'ip netns add' failed: ${error}"
    return 1
  fi
  if ! error="$(ip -n "$probe" link add cfprobe0 type veth peer name cfprobe1 2>&1)"; then
    CF_NETNS_SKIP_REASON="cannot create veth pairs: ${error}"
  elif ! error="$(ip -n "$probe" link add cfprobebr type bridge 2>&1)"; then
    CF_NETNS_SKIP_REASON="cannot create bridges: ${error}"
  fi
  ip netns del "$probe" 2>/dev/null || true
  [[ -z "${CF_NETNS_SKIP_REASON}" ]] || return 1
  _CF_NETNS_SUPPORTED=yes
  return 0
}

# cf_netns_require : skip the test (print "SKIP: reason", exit 77) unless
# cf_netns_supported; also cleans up after tests that were SIGKILLed
# (cf_reap_stale, cf_netns_reap_stale; CF_NETNS_NO_REAP=1 to skip that).
cf_netns_require() {
  if ! cf_netns_supported; then
    cf_skip "${CF_NETNS_SKIP_REASON}"
  fi
  if [[ "${CF_NETNS_NO_REAP:-0}" != 1 ]]; then
    cf_reap_stale
    cf_netns_reap_stale
  fi
}

# ---------------------------------------------------------------- names

# cf_ns NAME : print the full namespace name for NAME. Names that already
# start with "cf-" are full names and are returned as they are (so short
# names must not start with "cf-").
cf_ns() {
  if [[ "$1" == cf-* ]]; then
    printf '%s\n' "$1"
  else
    printf '%s%s\n' "${CF_NETNS_PREFIX}" "$1"
  fi
}

# _cf_ns_short NAME : NAME without the prefix.
_cf_ns_short() {
  printf '%s\n' "${1#"${CF_NETNS_PREFIX}"}"
}

# cf_netns_list_all : every namespace name on the machine, one a line.
cf_netns_list_all() {
  ip netns list 2>/dev/null | awk '{ print $1 }'
}

# cf_netns_exists NAME
cf_netns_exists() {
  [[ -e "/run/netns/$(cf_ns "$1")" ]]
}

# ---------------------------------------------------------------- create

# cf_netns_create NAME : create namespace "${CF_NETNS_PREFIX}NAME" with lo up
# and register it for cleanup. Does nothing if it already exists.
cf_netns_create() {
  local short="$1" full
  if [[ ! "$short" =~ ^[A-Za-z0-9._-]+$ ]]; then
    cf_info "cf_netns_create: bad namespace name '${short}'"
    return 2
  fi
  full="$(cf_ns "$short")"
  if [[ -e "/run/netns/${full}" ]]; then
    return 0
  fi
  _cf_journal_add netns "$full"
  ip netns add "$full" || return 1
  ip -n "$full" link set lo up || return 1
}

# cf_netns_exec NAME COMMAND [ARGS...] : run COMMAND inside namespace NAME.
cf_netns_exec() {
  local full
  full="$(cf_ns "$1")"
  shift
  ip netns exec "$full" "$@"
}

# cf_netns_pids NAME : pids of all processes whose network namespace is NAME.
cf_netns_pids() {
  ip netns pids "$(cf_ns "$1")" 2>/dev/null || true
}

# cf_netns_kill_procs NAME... : SIGTERM every process inside the namespaces,
# SIGKILL after CF_STOP_TIMEOUT seconds.
cf_netns_kill_procs() {
  local name pid start
  local -a entries=()
  for name in "$@"; do
    for pid in $(cf_netns_pids "$name"); do
      start="$(_cf_proc_starttime "$pid")" || continue
      entries+=("${pid}:${start}")
    done
  done
  _cf_stop_pids "${CF_STOP_TIMEOUT:-5}" "${entries[@]}"
}

# cf_netns_delete NAME... : kill what runs inside, then delete the namespaces
# (which destroys their interfaces). Missing namespaces are ignored.
cf_netns_delete() {
  local name full
  cf_netns_kill_procs "$@"
  for name in "$@"; do
    full="$(cf_ns "$name")"
    [[ -e "/run/netns/${full}" ]] || continue
    if ! ip netns del "$full" 2>/dev/null; then
      sleep 0.2
      ip netns del "$full" || cf_info "could not delete namespace ${full}"
    fi
  done
  return 0
}

# Called by the common.sh cleanup with the journaled namespaces, newest first.
_cf_cleanup_netns_hook() {
  cf_netns_delete "$@"
}

# cf_netns_reap_stale : delete namespaces named cf-<pid>-* whose <pid> no
# longer runs (left behind by a test that was SIGKILLed, e.g. by a timeout).
cf_netns_reap_stale() {
  local name owner
  local -a stale=()
  while IFS= read -r name; do
    [[ "$name" =~ ^cf-([0-9]+)- ]] || continue
    owner="${BASH_REMATCH[1]}"
    if [[ ! -e "/proc/${owner}" ]]; then
      stale+=("$name")
    fi
  done < <(cf_netns_list_all)
  if ((${#stale[@]})); then
    cf_info "removing stale namespaces of dead tests: ${stale[*]}"
    cf_netns_delete "${stale[@]}"
  fi
  return 0
}

# ---------------------------------------------------------------- addresses

_cf_ip_to_int() {
  local IFS=. a b c d
  read -r a b c d <<<"$1"
  printf '%s\n' $(((a << 24) | (b << 16) | (c << 8) | d))
}

_cf_int_to_ip() {
  local n="$1"
  printf '%d.%d.%d.%d\n' $(((n >> 24) & 255)) $(((n >> 16) & 255)) $(((n >> 8) & 255)) $((n & 255))
}

# cf_subnet_prefixlen CIDR : "10.1.2.0/24" -> 24
cf_subnet_prefixlen() {
  local cidr="$1"
  if [[ ! "$cidr" =~ ^([0-9]{1,3}\.){3}[0-9]{1,3}/([0-9]{1,2})$ ]]; then
    cf_info "not an IPv4 subnet: '${cidr}' (want A.B.C.D/LEN)"
    return 2
  fi
  local len="${BASH_REMATCH[2]}"
  if ((len < 8 || len > 30)); then
    cf_info "prefix length ${len} of ${cidr} is outside 8..30"
    return 2
  fi
  printf '%s\n' "$len"
}

# cf_ip_in_subnet CIDR N : the N-th host address of the subnet
# (cf_ip_in_subnet 10.1.2.0/24 5 -> 10.1.2.5).
cf_ip_in_subnet() {
  local cidr="$1" n="$2" len base size
  len="$(cf_subnet_prefixlen "$cidr")" || return 2
  size=$((1 << (32 - len)))
  if ((n < 1 || n > size - 2)); then
    cf_info "host number ${n} does not fit in ${cidr}"
    return 2
  fi
  base="$(_cf_ip_to_int "${cidr%/*}")"
  base=$((base & ~(size - 1) & 0xffffffff))
  _cf_int_to_ip $((base + n))
}

# cf_subnet_broadcast CIDR : 10.1.2.0/24 -> 10.1.2.255
cf_subnet_broadcast() {
  local cidr="$1" len base size
  len="$(cf_subnet_prefixlen "$cidr")" || return 2
  size=$((1 << (32 - len)))
  base="$(_cf_ip_to_int "${cidr%/*}")"
  base=$((base & ~(size - 1) & 0xffffffff))
  _cf_int_to_ip $((base + size - 1))
}

# ---------------------------------------------------------------- topologies

# cf_netns_pair A B SUBNET [IFACE_A] [IFACE_B]
# Create namespaces A and B (if needed) joined by a veth pair; A gets host
# address 1 of SUBNET, B host address 2. Interfaces default to "veth-B" in A
# and "veth-A" in B (cut to 15 characters). Sets:
#   CF_PAIR_NS_A CF_PAIR_NS_B         full namespace names
#   CF_PAIR_IF_A CF_PAIR_IF_B         interface names
#   CF_PAIR_ADDR_A CF_PAIR_ADDR_B     addresses (without /len)
#   CF_PAIR_PREFIXLEN
# (Call it directly, not in $(...), or the variables are lost.)
cf_netns_pair() {
  if (($# < 3)); then
    cf_info "usage: cf_netns_pair A B SUBNET [IFACE_A] [IFACE_B]"
    return 2
  fi
  local a b subnet="$3" if_a if_b len addr_a addr_b ns_a ns_b
  a="$(_cf_ns_short "$1")"
  b="$(_cf_ns_short "$2")"
  if_a="${4:-veth-${b}}"
  if_b="${5:-veth-${a}}"
  if_a="${if_a:0:15}"
  if_b="${if_b:0:15}"
  len="$(cf_subnet_prefixlen "$subnet")" || return 2
  addr_a="$(cf_ip_in_subnet "$subnet" 1)" || return 2
  addr_b="$(cf_ip_in_subnet "$subnet" 2)" || return 2
  cf_netns_create "$a" || return 1
  cf_netns_create "$b" || return 1
  ns_a="$(cf_ns "$a")"
  ns_b="$(cf_ns "$b")"
  ip -n "$ns_a" link add "$if_a" type veth peer name "$if_b" netns "$ns_b" || return 1
  ip -n "$ns_a" addr add "${addr_a}/${len}" dev "$if_a" || return 1
  ip -n "$ns_b" addr add "${addr_b}/${len}" dev "$if_b" || return 1
  ip -n "$ns_a" link set "$if_a" up || return 1
  ip -n "$ns_b" link set "$if_b" up || return 1
  CF_PAIR_NS_A="$ns_a"
  CF_PAIR_NS_B="$ns_b"
  CF_PAIR_IF_A="$if_a"
  CF_PAIR_IF_B="$if_b"
  CF_PAIR_ADDR_A="$addr_a"
  CF_PAIR_ADDR_B="$addr_b"
  CF_PAIR_PREFIXLEN="$len"
}

# cf_bridge_create SWITCH [BRIDGE] : create namespace SWITCH holding bridge
# BRIDGE (default br0), STP and multicast snooping off, up.
cf_bridge_create() {
  local sw bridge="${2:-br0}"
  cf_netns_create "$1" || return 1
  sw="$(cf_ns "$1")"
  ip -n "$sw" link add "$bridge" type bridge stp_state 0 mcast_snooping 0 || return 1
  ip -n "$sw" link set "$bridge" up || return 1
}

# cf_bridge_attach SWITCH NS [IFACE] [ADDR/LEN] [BRIDGE]
# Plug namespace NS (created if needed) into BRIDGE (default br0) of
# namespace SWITCH through a veth pair: IFACE (default eth0) inside NS, port
# "p-NS" inside SWITCH. ADDR/LEN, if not empty, is assigned to IFACE.
cf_bridge_attach() {
  if (($# < 2)); then
    cf_info "usage: cf_bridge_attach SWITCH NS [IFACE] [ADDR/LEN] [BRIDGE]"
    return 2
  fi
  local sw ns short iface="${3:-eth0}" addr="${4:-}" bridge="${5:-br0}" port
  sw="$(cf_ns "$1")"
  short="$(_cf_ns_short "$2")"
  cf_netns_create "$short" || return 1
  ns="$(cf_ns "$short")"
  port="p-${short}"
  port="${port:0:15}"
  if ip -n "$sw" link show "$port" >/dev/null 2>&1; then
    port="p-$(printf '%s' "$ns" | cksum | cut -c1-10)"
  fi
  ip -n "$ns" link add "$iface" type veth peer name "$port" netns "$sw" || return 1
  ip -n "$sw" link set "$port" master "$bridge" || return 1
  ip -n "$sw" link set "$port" up || return 1
  if [[ -n "$addr" ]]; then
    ip -n "$ns" addr add "$addr" dev "$iface" || return 1
  fi
  ip -n "$ns" link set "$iface" up || return 1
}

# cf_bridge_lab [--name LAB] [--subnet CIDR] [--no-host-addrs] N
# A switched LAN: namespace LAB-sw holds bridge br0; LAB-srv and LAB-h1 ..
# LAB-hN each have an "eth0" plugged into it. The server gets host address
# 1 of CIDR (default 10.231.0.0/24), host i gets address 10+i, or none with
# --no-host-addrs (e.g. for DHCP clients). Defaults: LAB=lab. Sets:
#   CF_LAB_NAME CF_LAB_SUBNET CF_LAB_PREFIXLEN CF_LAB_BROADCAST
#   CF_LAB_SWITCH_NS CF_LAB_BRIDGE (br0) CF_LAB_IFACE (eth0)
#   CF_LAB_SERVER_NS CF_LAB_SERVER_ADDR
#   CF_LAB_HOST_NS=(full names)  CF_LAB_HOST_ADDRS=(addresses, or "" each)
# (Call it directly, not in $(...), or the variables are lost.)
cf_bridge_lab() {
  local lab=lab subnet=10.231.0.0/24 host_addrs=1 count=""
  while (($#)); do
    case "$1" in
      --name) lab="$2"; shift 2 ;;
      --subnet) subnet="$2"; shift 2 ;;
      --no-host-addrs) host_addrs=0; shift ;;
      -*) cf_info "cf_bridge_lab: unknown option $1"; return 2 ;;
      *) count="$1"; shift ;;
    esac
  done
  if [[ ! "$count" =~ ^[0-9]+$ ]]; then
    cf_info "usage: cf_bridge_lab [--name LAB] [--subnet CIDR] [--no-host-addrs] N"
    return 2
  fi
  local len server_addr i host addr
  len="$(cf_subnet_prefixlen "$subnet")" || return 2
  server_addr="$(cf_ip_in_subnet "$subnet" 1)" || return 2
  if ((host_addrs)); then
    cf_ip_in_subnet "$subnet" $((10 + count)) >/dev/null || return 2
  fi
  cf_bridge_create "${lab}-sw" br0 || return 1
  cf_bridge_attach "${lab}-sw" "${lab}-srv" eth0 "${server_addr}/${len}" || return 1
  CF_LAB_HOST_NS=()
  CF_LAB_HOST_ADDRS=()
  for ((i = 1; i <= count; i++)); do
    host="${lab}-h${i}"
    addr=""
    if ((host_addrs)); then
      addr="$(cf_ip_in_subnet "$subnet" $((10 + i)))"
      cf_bridge_attach "${lab}-sw" "$host" eth0 "${addr}/${len}" || return 1
    else
      cf_bridge_attach "${lab}-sw" "$host" eth0 || return 1
    fi
    CF_LAB_HOST_NS+=("$(cf_ns "$host")")
    CF_LAB_HOST_ADDRS+=("$addr")
  done
  CF_LAB_NAME="$lab"
  CF_LAB_SUBNET="$subnet"
  CF_LAB_PREFIXLEN="$len"
  CF_LAB_BROADCAST="$(cf_subnet_broadcast "$subnet")"
  CF_LAB_SWITCH_NS="$(cf_ns "${lab}-sw")"
  CF_LAB_BRIDGE=br0
  CF_LAB_IFACE=eth0
  CF_LAB_SERVER_NS="$(cf_ns "${lab}-srv")"
  CF_LAB_SERVER_ADDR="$server_addr"
}

# ---------------------------------------------------------------- leak check

# cf_leftovers [--journal FILE] [--prefix PREFIX]...
# Print one line per resource that still exists and return 1 if there is
# any, 0 if none. With --journal FILE (a CF_LEAK_JOURNAL written by another
# script), every namespace, process, temporary directory and port lock
# recorded there is checked; with --prefix, every namespace whose name
# starts with PREFIX. Without options: namespaces with our own prefix.
#   if ! leaks="$(cf_leftovers --journal "$j")"; then cf_fail "leaked: $leaks"; fi
cf_leftovers() {
  local -a journals=() prefixes=()
  while (($#)); do
    case "$1" in
      --journal) journals+=("$2"); shift 2 ;;
      --prefix) prefixes+=("$2"); shift 2 ;;
      *) cf_info "cf_leftovers: unknown argument $1"; return 2 ;;
    esac
  done
  if ((${#journals[@]} == 0 && ${#prefixes[@]} == 0)); then
    prefixes=("${CF_NETNS_PREFIX}")
  fi
  local found=0 name prefix journal kind a b c
  declare -A reported=()
  local all_namespaces
  all_namespaces="$(cf_netns_list_all)"
  for prefix in "${prefixes[@]}"; do
    while IFS= read -r name; do
      if [[ -n "$name" && "$name" == "$prefix"* && -z "${reported[ns:$name]:-}" ]]; then
        reported[ns:$name]=1
        printf 'netns %s\n' "$name"
        found=1
      fi
    done <<<"$all_namespaces"
  done
  for journal in "${journals[@]}"; do
    [[ -f "$journal" ]] || continue
    while IFS="${_CF_SEP}" read -r kind a b c; do
      case "$kind" in
        netns)
          if [[ -e "/run/netns/${a}" && -z "${reported[ns:$a]:-}" ]]; then
            reported[ns:$a]=1
            printf 'netns %s\n' "$a"
            found=1
          fi
          ;;
        proc)
          if [[ -n "$b" ]] && _cf_proc_alive "$a" "$b"; then
            printf 'process %s (%s)\n' "$a" "$c"
            found=1
          fi
          ;;
        tmpdir)
          if [[ -e "$a" ]]; then
            printf 'tmpdir %s\n' "$a"
            found=1
          fi
          ;;
        portlock)
          if [[ -e "$a" ]]; then
            printf 'port lock %s\n' "$a"
            found=1
          fi
          ;;
      esac
    done <"$journal"
  done
  return "$found"
}

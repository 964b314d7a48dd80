# shellcheck shell=bash
# shellcheck disable=SC2034  # CF_* variables are results read by the sourcing test
# tests/lib/server.sh - run servers in the background for integration tests.
#
#   source tests/lib/server.sh
#   cf_server_start tftpd --netns srv -- cf-tftpd --root "$root" --port 69
#   cf_server_wait_ready tftpd --udp 69 --timeout 10
#   ...
#   cf_server_stop tftpd
#
# Every server runs in its own process group (so its children are stopped
# with it), with stdin from /dev/null and stdout+stderr appended to a log
# file that is registered with cf_log_register: if the test fails (any
# non-zero exit but 77, including cf_fail and signals) the cleanup prints the
# tail of every registered log. At exit, servers still running get SIGTERM,
# then SIGKILL after CF_STOP_TIMEOUT seconds (default 5).
#
# This file also brings in everything from common.sh: cf_fail, cf_skip,
# cf_assert_eq, cf_assert_file_sha256_eq, cf_tmpdir, cf_wait_until, ...

if [[ -n "${_CF_SERVER_SH_LOADED:-}" ]]; then
  return 0
fi
_CF_SERVER_SH_LOADED=1

# shellcheck source=SCRIPTDIR/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

# Namespace names given to the helpers below may be short (as for netns.sh)
# if netns.sh is loaded, otherwise they must be full names.
_cf_server_ns_name() {
  if [[ -z "$1" ]]; then
    return 0
  elif declare -F cf_ns >/dev/null; then
    cf_ns "$1"
  else
    printf '%s\n' "$1"
  fi
}

# cf_server_start NAME [--netns NS] [--log FILE] [--cwd DIR] [--env VAR=VALUE]...
#                 [--] COMMAND [ARGS...]
# Start COMMAND in the background (inside namespace NS if given), logging to
# FILE (default "$(cf_log_dir)/NAME.log"). Sets CF_SERVER_PID; the pid is
# also available as "$(cf_server_pid NAME)". NAME must be unique per test.
cf_server_start() {
  local name="${1:-}"
  if [[ ! "$name" =~ ^[A-Za-z0-9._-]+$ ]]; then
    cf_info "usage: cf_server_start NAME [--netns NS] [--log FILE] [--cwd DIR] [--env V=X]... -- COMMAND..."
    return 2
  fi
  shift
  local ns="" log="" cwd=""
  local -a envs=()
  while (($#)); do
    case "$1" in
      --netns) ns="$(_cf_server_ns_name "$2")"; shift 2 ;;
      --log) log="$2"; shift 2 ;;
      --cwd) cwd="$2"; shift 2 ;;
      --env) envs+=("$2"); shift 2 ;;
      --) shift; break ;;
      *) break ;;
    esac
  done
  if (($# == 0)); then
    cf_info "cf_server_start ${name}: no command given"
    return 2
  fi
  if [[ -z "$log" ]]; then
    log="$(cf_log_dir)/${name}.log"
  fi
  : >>"$log" || return 1
  cf_log_register "$log" "server ${name}"
  local -a command=("$@")
  if ((${#envs[@]})); then
    command=(env "${envs[@]}" "${command[@]}")
  fi
  if [[ -n "$ns" ]]; then
    command=(ip netns exec "$ns" "${command[@]}")
  fi
  # Own process group: with job control off, the background subshell is not
  # a group leader, so setsid(1) calls setsid() and execs without forking
  # (the pid stays $!); with job control on, the job already has its group.
  if [[ "$-" != *m* ]]; then
    command=(setsid "${command[@]}")
  fi
  printf '=== %s: starting%s: %s\n' "$(date '+%H:%M:%S')" "${ns:+ in netns ${ns}}" \
    "$(printf '%q ' "$@")" >>"$log"
  (
    if [[ -n "$cwd" ]]; then
      cd -- "$cwd" || exit 127
    fi
    exec "${command[@]}"
  ) </dev/null >>"$log" 2>&1 &
  local pid=$!
  local start
  start="$(_cf_proc_starttime "$pid")" || start=""
  _cf_journal_add proc "$pid" "$start" "server ${name}"
  printf "%s${_CF_SEP}%s${_CF_SEP}%s${_CF_SEP}%s${_CF_SEP}%s\n" "$name" "$pid" "$start" "$ns" "$log" \
    >>"${_CF_SERVER_REGISTRY}"
  CF_SERVER_PID="$pid"
}

# _cf_server_lookup NAME : set _cf_srv_pid _cf_srv_start _cf_srv_ns _cf_srv_log
_cf_server_lookup() {
  local name pid start ns log found=1
  _cf_srv_pid="" _cf_srv_start="" _cf_srv_ns="" _cf_srv_log=""
  [[ -f "${_CF_SERVER_REGISTRY}" ]] || return 1
  while IFS="${_CF_SEP}" read -r name pid start ns log; do
    if [[ "$name" == "$1" ]]; then
      _cf_srv_pid="$pid" _cf_srv_start="$start" _cf_srv_ns="$ns" _cf_srv_log="$log"
      found=0
    fi
  done <"${_CF_SERVER_REGISTRY}"
  if ((found)); then
    cf_info "no server named '$1' was started"
  fi
  return "$found"
}

# cf_server_pid NAME / cf_server_log NAME / cf_server_netns NAME
cf_server_pid() { _cf_server_lookup "$1" && printf '%s\n' "${_cf_srv_pid}"; }
cf_server_log() { _cf_server_lookup "$1" && printf '%s\n' "${_cf_srv_log}"; }
cf_server_netns() { _cf_server_lookup "$1" && printf '%s\n' "${_cf_srv_ns}"; }

# cf_server_running NAME : return 0 while the server process is alive.
cf_server_running() {
  _cf_server_lookup "$1" || return 1
  [[ -n "${_cf_srv_start}" ]] && _cf_proc_alive "${_cf_srv_pid}" "${_cf_srv_start}"
}

# _cf_port_bound u|t PORT [NS] [OWNER_PGID]
_cf_port_bound() {
  local proto="$1" port="$2" ns="${3:-}" owner="${4:-}" output pid pgid
  local -a command=(ss -H -n -p "-${proto}l" "sport = :${port}")
  if [[ -n "$ns" ]]; then
    command=(ip netns exec "$ns" "${command[@]}")
  fi
  output="$("${command[@]}" 2>/dev/null)" || return 1
  [[ -n "$output" ]] || return 1
  if [[ -z "$owner" || "$output" != *pid=* ]]; then
    return 0
  fi
  while [[ "$output" =~ pid=([0-9]+) ]]; do
    pid="${BASH_REMATCH[1]}"
    output="${output#*pid="${pid}"}"
    pgid="$(_cf_proc_pgid "$pid")" || continue
    if [[ "$pid" == "$owner" || "$pgid" == "$owner" ]]; then
      return 0
    fi
  done
  return 1
}

# cf_udp_port_bound PORT [NS] [OWNER_PID] : a UDP socket is bound to PORT
# (in namespace NS if given); with OWNER_PID, by that process or its group.
cf_udp_port_bound() {
  _cf_port_bound u "$1" "$(_cf_server_ns_name "${2:-}")" "${3:-}"
}

# cf_tcp_port_listening PORT [NS] [OWNER_PID] : same for a listening TCP socket.
cf_tcp_port_listening() {
  _cf_port_bound t "$1" "$(_cf_server_ns_name "${2:-}")" "${3:-}"
}

# _cf_reap PID : collect the exit status of our child PID into
# CF_SERVER_EXIT_STATUS (empty if PID is not a child of this shell).
_cf_reap() {
  CF_SERVER_EXIT_STATUS=""
  local status=0
  { wait "$1"; } 2>/dev/null || status=$?
  # 127: not our child (started from a subshell); status unknown.
  if ((status != 127)); then
    CF_SERVER_EXIT_STATUS="$status"
  fi
}

# cf_server_wait_ready NAME [--timeout SECONDS] [--udp PORT] [--tcp PORT]
#                      [--log-match REGEX] [--probe COMMAND [ARGS...]]
# Wait until every given condition holds (default timeout 10 s):
#   --udp PORT        a UDP socket of the server is bound to PORT (checked
#                     with ss inside the server's namespace)
#   --tcp PORT        a TCP socket of the server listens on PORT
#   --log-match RE    the server's log matches the extended regex RE
#   --probe CMD...    CMD exits 0 (must come last; takes the rest of the line)
# Returns 1, after printing the server's log tail, if the server exits or
# the time runs out.
cf_server_wait_ready() {
  local name="${1:-}"
  shift || true
  local timeout=10 udp="" tcp="" pattern=""
  local -a probe_command=()
  while (($#)); do
    case "$1" in
      --timeout) timeout="$2"; shift 2 ;;
      --udp) udp="$2"; shift 2 ;;
      --tcp) tcp="$2"; shift 2 ;;
      --log-match) pattern="$2"; shift 2 ;;
      --probe) shift; probe_command=("$@"); break ;;
      *) cf_info "cf_server_wait_ready: unknown option $1"; return 2 ;;
    esac
  done
  _cf_server_lookup "$name" || return 2
  local pid="${_cf_srv_pid}" start="${_cf_srv_start}" ns="${_cf_srv_ns}" log="${_cf_srv_log}"
  local deadline_tenths=$(( $(awk -v t="$timeout" 'BEGIN { printf "%d", t * 10 }') )) tenths=0
  local began=$SECONDS
  while :; do
    if [[ -z "$start" ]] || ! _cf_proc_alive "$pid" "$start"; then
      _cf_reap "$pid"
      cf_info "server ${name} (pid ${pid}) exited${CF_SERVER_EXIT_STATUS:+ with status ${CF_SERVER_EXIT_STATUS}} before it was ready"
      _cf_print_log_tail "$log" "server ${name}"
      return 1
    fi
    if { [[ -z "$udp" ]] || _cf_port_bound u "$udp" "$ns" "$pid"; } &&
      { [[ -z "$tcp" ]] || _cf_port_bound t "$tcp" "$ns" "$pid"; } &&
      { [[ -z "$pattern" ]] || grep -Eq -- "$pattern" "$log"; } &&
      { ((${#probe_command[@]} == 0)) || "${probe_command[@]}" >/dev/null 2>&1; }; then
      return 0
    fi
    if ((tenths >= deadline_tenths || SECONDS - began > timeout + 1)); then
      cf_info "server ${name} (pid ${pid}) not ready after ${timeout}s"
      _cf_print_log_tail "$log" "server ${name}"
      return 1
    fi
    sleep 0.1
    tenths=$((tenths + 1))
  done
}

_cf_print_log_tail() {
  printf -- '----- %s: last %s lines of %s -----\n' "$2" "${CF_LOG_TAIL_LINES:-40}" "$1" >&2
  tail -n "${CF_LOG_TAIL_LINES:-40}" -- "$1" >&2 2>/dev/null || true
  printf -- '----- end -----\n' >&2
}

# cf_server_stop NAME [--timeout SECONDS] [--signal SIGNAL]
# Send SIGNAL (default TERM) to the server's process group, wait up to
# SECONDS (default CF_STOP_TIMEOUT or 5), then SIGKILL. Sets
# CF_SERVER_EXIT_STATUS (e.g. 0, or 143 for death by SIGTERM) when the server
# is a child of this shell. Returns 0 (1 if no such server).
cf_server_stop() {
  local name="${1:-}"
  shift || true
  local timeout="${CF_STOP_TIMEOUT:-5}" sig=TERM
  while (($#)); do
    case "$1" in
      --timeout) timeout="$2"; shift 2 ;;
      --signal) sig="$2"; shift 2 ;;
      *) cf_info "cf_server_stop: unknown option $1"; return 2 ;;
    esac
  done
  _cf_server_lookup "$name" || return 1
  local pid="${_cf_srv_pid}" start="${_cf_srv_start}"
  if [[ -n "$start" ]] && _cf_proc_alive "$pid" "$start"; then
    _cf_signal_group "$pid" "$sig"
    local tenths=0 max
    max="$(awk -v t="$timeout" 'BEGIN { printf "%d", t * 10 }')"
    while _cf_proc_alive "$pid" "$start" && ((tenths < max)); do
      sleep 0.1
      tenths=$((tenths + 1))
    done
    if _cf_proc_alive "$pid" "$start"; then
      cf_info "server ${name} (pid ${pid}) still running ${timeout}s after SIG${sig}, sending SIGKILL"
      disown "$pid" 2>/dev/null || true
      _cf_signal_group "$pid" KILL
      tenths=0
      while _cf_proc_alive "$pid" "$start" && ((tenths < 50)); do
        sleep 0.1
        tenths=$((tenths + 1))
      done
      CF_SERVER_EXIT_STATUS=137
    else
      _cf_reap "$pid"
    fi
  else
    _cf_reap "$pid"
  fi
  printf '=== %s: stopped, exit status %s\n' "$(date '+%H:%M:%S')" \
    "${CF_SERVER_EXIT_STATUS:-unknown}" >>"${_cf_srv_log}" 2>/dev/null || true
  return 0
}

# cf_run_logged NAME [--netns NS] [--] COMMAND [ARGS...]
# Run COMMAND in the foreground with stdout+stderr going to
# "$(cf_log_dir)/NAME.log" (shown if the test fails); returns its status.
cf_run_logged() {
  local name="$1" ns=""
  shift
  while (($#)); do
    case "$1" in
      --netns) ns="$(_cf_server_ns_name "$2")"; shift 2 ;;
      --) shift; break ;;
      *) break ;;
    esac
  done
  local log
  log="$(cf_log_dir)/${name}.log"
  cf_log_register "$log" "command ${name}"
  local -a command=("$@")
  if [[ -n "$ns" ]]; then
    command=(ip netns exec "$ns" "${command[@]}")
  fi
  printf '=== %s: running: %s\n' "$(date '+%H:%M:%S')" "$(printf '%q ' "$@")" >>"$log"
  local status=0
  "${command[@]}" </dev/null >>"$log" 2>&1 || status=$?
  printf '=== %s: exit status %s\n' "$(date '+%H:%M:%S')" "$status" >>"$log"
  return "$status"
}

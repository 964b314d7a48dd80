# shellcheck shell=bash
# shellcheck disable=SC2034  # CF_* variables are results read by the sourcing test
# tests/lib/common.sh - shared core of the ciscoflash test helpers.
#
# Source it (directly, or through netns.sh / ports.sh / server.sh, which all
# source it). It provides:
#   * one cleanup that always runs: traps on EXIT INT TERM HUP, chained with
#     any trap that was already set, and re-chained if the caller sets a new
#     trap later and then creates another resource;
#   * a journal of everything the helpers create (processes, namespaces,
#     temporary directories, port locks, exit hooks), kept in files so that
#     resources created inside "$(...)" subshells are cleaned up too;
#   * small assertion helpers: cf_fail, cf_skip, cf_assert_eq, ...
#
# Everything is safe under "set -euo pipefail": helpers return non-zero only
# on real failure and never reference unset variables.
#
# Environment knobs (all optional):
#   CF_STOP_TIMEOUT   seconds between SIGTERM and SIGKILL (default 5)
#   CF_LOG_DIR        where server logs go (default: a per-run dir removed at
#                     exit; set it to keep the logs)
#   CF_LOG_TAIL_LINES lines of each log shown when a test fails (default 40)
#   CF_LEAK_JOURNAL   file that also receives one line per created resource
#                     and is never cleaned, so a parent can run
#                     "cf_leftovers --journal FILE" after this script ended.
#   CF_KEEP_TMP=1     keep cf_tmpdir directories (for debugging)

if [[ -n "${_CF_COMMON_SH_LOADED:-}" ]]; then
  return 0
fi
_CF_COMMON_SH_LOADED=1

CF_LIB_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CF_TOOLS_DIR="$(cd "${CF_LIB_DIR}/../tools" 2>/dev/null && pwd)" || CF_TOOLS_DIR=""
# ctest's SKIP_RETURN_CODE for the scripted tests (see tests/CMakeLists.txt).
CF_SKIP_EXIT_CODE=77
CF_SERVER_PID=""
CF_SERVER_EXIT_STATUS=""

# The shell that sourced us owns the cleanup; subshells never run it.
_CF_OWNER_PID="${BASHPID}"
# Field separator of the journal and registries: not whitespace, so that
# empty fields survive "read".
_CF_SEP=$'\x1f'
_CF_STATE_DIR="$(mktemp -d "${TMPDIR:-/tmp}/cf-state.${_CF_OWNER_PID}.XXXXXX")"
_CF_JOURNAL="${_CF_STATE_DIR}/journal"
_CF_LOG_REGISTRY="${_CF_STATE_DIR}/log-registry"
_CF_SERVER_REGISTRY="${_CF_STATE_DIR}/server-registry"
: >"${_CF_JOURNAL}"
: >"${_CF_LOG_REGISTRY}"
: >"${_CF_SERVER_REGISTRY}"
declare -gA _CF_PREVIOUS_TRAPS=()

# ---------------------------------------------------------------- messages

cf_info() { printf 'cf: %s\n' "$*" >&2; }

# Location of the caller of the function that called _cf_caller_location.
_cf_caller_location() {
  local depth="${1:-2}"
  printf '%s:%s' "${BASH_SOURCE[${depth}]:-?}" "${BASH_LINENO[$((depth - 1))]:-?}"
}

# cf_fail MESSAGE... : print "FAIL: MESSAGE (file:line)" and exit 1.
# The exit runs the cleanup, which also prints the tail of every server log.
# (Called inside a subshell it only ends that subshell, like "exit".)
cf_fail() {
  printf 'FAIL: %s (at %s)\n' "$*" "$(_cf_caller_location 2)" >&2
  exit 1
}

# cf_skip REASON... : print "SKIP: REASON" and exit 77 (ctest SKIP_RETURN_CODE).
cf_skip() {
  printf 'SKIP: %s\n' "$*" >&2
  exit "${CF_SKIP_EXIT_CODE}"
}

# cf_assert_eq EXPECTED ACTUAL [WHAT]
cf_assert_eq() {
  if [[ "$1" != "$2" ]]; then
    printf 'FAIL: %s: expected [%s], got [%s] (at %s)\n' "${3:-values differ}" "$1" "$2" \
      "$(_cf_caller_location 2)" >&2
    exit 1
  fi
}

# cf_assert_ne UNEXPECTED ACTUAL [WHAT]
cf_assert_ne() {
  if [[ "$1" == "$2" ]]; then
    printf 'FAIL: %s: got [%s], which it must not be (at %s)\n' "${3:-values equal}" "$2" \
      "$(_cf_caller_location 2)" >&2
    exit 1
  fi
}

# cf_assert_contains HAYSTACK NEEDLE [WHAT]
cf_assert_contains() {
  if [[ "$1" != *"$2"* ]]; then
    printf 'FAIL: %s: [%s] does not contain [%s] (at %s)\n' "${3:-missing text}" "$1" "$2" \
      "$(_cf_caller_location 2)" >&2
    exit 1
  fi
}

# cf_assert_file_exists PATH [WHAT]
cf_assert_file_exists() {
  if [[ ! -f "$1" ]]; then
    printf 'FAIL: %s: no file %s (at %s)\n' "${2:-missing file}" "$1" "$(_cf_caller_location 2)" >&2
    exit 1
  fi
}

# cf_sha256 FILE : print the hex SHA-256 of FILE.
cf_sha256() {
  local sum
  sum="$(sha256sum -- "$1")" || return 1
  printf '%s\n' "${sum%% *}"
}

# cf_assert_file_sha256_eq FILE_A FILE_B : both exist and have the same SHA-256.
cf_assert_file_sha256_eq() {
  local a="$1" b="$2" sum_a sum_b
  if [[ ! -f "$a" || ! -f "$b" ]]; then
    printf 'FAIL: cannot compare %s and %s: missing file (at %s)\n' "$a" "$b" \
      "$(_cf_caller_location 2)" >&2
    exit 1
  fi
  sum_a="$(cf_sha256 "$a")"
  sum_b="$(cf_sha256 "$b")"
  if [[ "$sum_a" != "$sum_b" ]]; then
    printf 'FAIL: files differ: %s (sha256 %s, %s bytes) vs %s (sha256 %s, %s bytes) (at %s)\n' \
      "$a" "$sum_a" "$(stat -c %s -- "$a")" "$b" "$sum_b" "$(stat -c %s -- "$b")" \
      "$(_cf_caller_location 2)" >&2
    exit 1
  fi
}

# cf_wait_until TIMEOUT_SECONDS COMMAND [ARGS...]
# Run COMMAND every 0.1 s until it succeeds (return 0) or the time is up
# (return 1). COMMAND's output is not hidden.
cf_wait_until() {
  local timeout="$1"
  shift
  local deadline=$((SECONDS + ${timeout%.*} + 1))
  local tries=0 max_tries
  max_tries="$(awk -v t="$timeout" 'BEGIN { printf "%d", t * 10 + 1 }')"
  while :; do
    if "$@"; then
      return 0
    fi
    tries=$((tries + 1))
    if ((tries >= max_tries || SECONDS > deadline)); then
      return 1
    fi
    sleep 0.1
  done
}

# ---------------------------------------------------------------- journal

# _cf_journal_add KIND FIELD... : remember a resource for the cleanup.
_cf_journal_add() {
  local line
  line="$(printf "%s${_CF_SEP}" "$@")"
  line="${line%"${_CF_SEP}"}"
  if [[ -d "${_CF_STATE_DIR}" ]]; then
    printf '%s\n' "$line" >>"${_CF_JOURNAL}"
  fi
  if [[ -n "${CF_LEAK_JOURNAL:-}" ]]; then
    printf '%s\n' "$line" >>"${CF_LEAK_JOURNAL}"
  fi
  _cf_traps_ensure
}

# _cf_proc_starttime PID : the process start time (clock ticks since boot),
# used with the PID to recognise a process even if the PID is reused.
_cf_proc_starttime() {
  local stat fields
  stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
  stat="${stat##*) }"
  read -r -a fields <<<"$stat"
  printf '%s\n' "${fields[19]}"
}

# _cf_proc_alive PID [STARTTIME] : running (not a zombie) and, if given, the
# same process that was registered.
_cf_proc_alive() {
  local stat fields
  stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
  stat="${stat##*) }"
  read -r -a fields <<<"$stat"
  [[ "${fields[0]}" != Z && "${fields[0]}" != X ]] || return 1
  [[ -z "${2:-}" || "${fields[19]}" == "$2" ]]
}

# _cf_proc_pgid PID
_cf_proc_pgid() {
  local stat fields
  stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
  stat="${stat##*) }"
  read -r -a fields <<<"$stat"
  printf '%s\n' "${fields[2]}"
}

# cf_register_pid PID [DESCRIPTION] : kill this process (and its process
# group if it leads one) at exit, SIGTERM first, SIGKILL after CF_STOP_TIMEOUT.
cf_register_pid() {
  local pid="$1" start
  start="$(_cf_proc_starttime "$pid")" || start=""
  _cf_journal_add proc "$pid" "$start" "${2:-pid $pid}"
}

# cf_on_exit COMMAND [ARGS...] : run this command during cleanup (last
# registered runs first), before processes are killed and namespaces removed.
cf_on_exit() {
  local quoted
  quoted="$(printf '%q ' "$@")"
  _cf_journal_add hook "${quoted% }"
}

# cf_tmpdir [NAME] : create a temporary directory, print its path; it is
# removed at exit (unless CF_KEEP_TMP=1). Safe to use as dir=$(cf_tmpdir).
cf_tmpdir() {
  local dir
  dir="$(mktemp -d "${TMPDIR:-/tmp}/cf-${1:-tmp}.XXXXXX")" || return 1
  _cf_journal_add tmpdir "$dir"
  printf '%s\n' "$dir"
}

# cf_log_register FILE [LABEL] : show the tail of FILE if the test fails.
cf_log_register() {
  if [[ -d "${_CF_STATE_DIR}" ]]; then
    printf "%s${_CF_SEP}%s\n" "$1" "${2:-$(basename -- "$1")}" >>"${_CF_LOG_REGISTRY}"
  fi
}

# cf_log_dir : print (and create) the directory for server logs.
cf_log_dir() {
  local dir="${CF_LOG_DIR:-${_CF_STATE_DIR}/logs}"
  mkdir -p -- "$dir"
  printf '%s\n' "$dir"
}

# cf_dump_logs [LINES] : print the last LINES lines of every registered log.
cf_dump_logs() {
  local lines="${1:-${CF_LOG_TAIL_LINES:-40}}" file label
  [[ -s "${_CF_LOG_REGISTRY}" ]] || return 0
  declare -A seen=()
  while IFS="${_CF_SEP}" read -r file label; do
    [[ -n "$file" && -z "${seen[$file]:-}" ]] || continue
    seen[$file]=1
    printf -- '----- %s: last %s lines of %s -----\n' "$label" "$lines" "$file" >&2
    if [[ -f "$file" ]]; then
      tail -n "$lines" -- "$file" >&2 || true
    else
      printf '(missing)\n' >&2
    fi
  done <"${_CF_LOG_REGISTRY}"
  printf -- '----- end of logs -----\n' >&2
}

# ---------------------------------------------------------------- stopping

# _cf_signal_group PID SIGNAL : signal the process group PID leads (if it
# leads one) and the process itself.
_cf_signal_group() {
  local pid="$1" sig="$2" pgid
  pgid="$(_cf_proc_pgid "$pid" 2>/dev/null)" || pgid=""
  if [[ "$pgid" == "$pid" ]]; then
    kill -s "$sig" -- "-$pid" 2>/dev/null || true
  fi
  kill -s "$sig" -- "$pid" 2>/dev/null || true
}

# _cf_stop_pids TIMEOUT PID:START... : SIGTERM all, wait up to TIMEOUT
# seconds, SIGKILL whatever is left, reap our own children.
_cf_stop_pids() {
  local timeout="$1"
  shift
  local entry pid start
  local -a alive=()
  for entry in "$@"; do
    pid="${entry%%:*}"
    start="${entry#*:}"
    # No start time means the process was gone when it was registered.
    if [[ -n "$start" ]] && _cf_proc_alive "$pid" "$start"; then
      alive+=("$entry")
      _cf_signal_group "$pid" TERM
    fi
  done
  ((${#alive[@]})) || return 0
  local waited=0 max=$((timeout * 10)) any
  while ((waited < max)); do
    any=0
    for entry in "${alive[@]}"; do
      if _cf_proc_alive "${entry%%:*}" "${entry#*:}"; then
        any=1
        break
      fi
    done
    ((any)) || break
    sleep 0.1
    waited=$((waited + 1))
  done
  for entry in "${alive[@]}"; do
    pid="${entry%%:*}"
    if _cf_proc_alive "$pid" "${entry#*:}"; then
      cf_info "pid ${pid} ignored SIGTERM for ${timeout}s, sending SIGKILL"
      # (disown: no "Killed" job report from bash for our own children)
      disown "$pid" 2>/dev/null || true
      _cf_signal_group "$pid" KILL
    fi
  done
  for entry in "${alive[@]}"; do
    { wait "${entry%%:*}"; } 2>/dev/null || true
  done
  return 0
}

# Set by netns.sh: deletes namespaces and kills what runs in them.
_cf_cleanup_netns_hook() { :; }

# _cf_cleanup EXIT_STATUS FINAL : undo everything in the journal, newest first.
_cf_cleanup() {
  local -
  set +eu
  local rc="${1:-0}" final="${2:-1}"
  [[ "${BASHPID}" == "${_CF_OWNER_PID}" ]] || return 0
  [[ -d "${_CF_STATE_DIR}" ]] || return 0
  # stderr may be a pipe whose reader is gone (e.g. "| head"): a message
  # must not kill us half way through the cleanup.
  trap '' PIPE
  # A signal arriving now (a second Ctrl-C, a SIGTERM from a parent) must not
  # cut the cleanup short either: note it and carry on.
  local saved_traps
  saved_traps="$(trap -p INT TERM HUP)"
  trap '_cf_signal_during_cleanup INT' INT
  trap '_cf_signal_during_cleanup TERM' TERM
  trap '_cf_signal_during_cleanup HUP' HUP
  local work="${_CF_STATE_DIR}/journal.$$.${RANDOM}"
  mv -f -- "${_CF_JOURNAL}" "$work" 2>/dev/null || return 0
  : >"${_CF_JOURNAL}"
  _cf_undo_journal "$work" "$rc" 1
  rm -f -- "$work"
  if [[ "$final" == 1 ]]; then
    rm -rf -- "${_CF_STATE_DIR}"
  fi
  eval "$saved_traps"
  return 0
}

# _cf_undo_journal JOURNAL EXIT_STATUS RUN_HOOKS : undo what JOURNAL lists,
# newest first: exit hooks (if RUN_HOOKS is 1), processes, namespaces (via
# netns.sh), temporary directories, port reservations. Prints the logs first
# if EXIT_STATUS is a failure.
_cf_undo_journal() {
  local journal="$1" rc="$2" run_hooks="$3"
  local -a hooks=() procs=() namespaces=() tmpdirs=() portlocks=()
  local kind a b
  while IFS="${_CF_SEP}" read -r kind a b _; do
    case "$kind" in
      hook) hooks+=("$a") ;;
      proc) procs+=("${a}:${b}") ;;
      netns) namespaces+=("$a") ;;
      tmpdir) tmpdirs+=("$a") ;;
      portlock) portlocks+=("$a") ;;
    esac
  done < <(tac -- "$journal")

  local hook
  if [[ "$run_hooks" == 1 ]]; then
    for hook in "${hooks[@]}"; do
      eval "$hook" || cf_info "cleanup hook failed: $hook"
    done
  fi
  _cf_stop_pids "${CF_STOP_TIMEOUT:-5}" "${procs[@]}"
  if [[ -n "$rc" && "$rc" != 0 && "$rc" != "${CF_SKIP_EXIT_CODE}" ]]; then
    cf_dump_logs "${CF_LOG_TAIL_LINES:-40}"
  fi
  if ((${#namespaces[@]})); then
    _cf_cleanup_netns_hook "${namespaces[@]}"
  fi
  local dir
  if [[ "${CF_KEEP_TMP:-0}" == 1 ]]; then
    ((${#tmpdirs[@]} == 0)) || cf_info "CF_KEEP_TMP=1: keeping ${tmpdirs[*]}"
  else
    for dir in "${tmpdirs[@]}"; do
      rm -rf -- "$dir"
    done
  fi
  for dir in "${portlocks[@]}"; do
    rm -rf -- "$dir"
  done
}

# cf_reap_stale : undo what tests that died without cleaning up (SIGKILL,
# e.g. a ctest timeout) left behind, as recorded in their state directories
# ${TMPDIR:-/tmp}/cf-state.<pid>.*: processes (checked by pid and start
# time), namespaces, temporary directories, port reservations. Their exit
# hooks are not run. cf_netns_require calls it.
cf_reap_stale() {
  local -
  set +eu
  local dir owner journal
  for dir in "${TMPDIR:-/tmp}"/cf-state.*; do
    [[ -d "$dir" && -O "$dir" ]] || continue
    owner="${dir##*/cf-state.}"
    owner="${owner%%.*}"
    [[ "$owner" =~ ^[0-9]+$ && ! -e "/proc/${owner}" ]] || continue
    cf_info "cleaning up after dead test (pid ${owner}): ${dir}"
    # journal.* : a journal whose cleanup was itself killed half way
    for journal in "${dir}"/journal*; do
      [[ -f "$journal" ]] && _cf_undo_journal "$journal" "" 0
    done
    rm -rf -- "$dir"
  done
  return 0
}

_cf_signal_during_cleanup() {
  printf 'cf: SIG%s during cleanup; finishing the cleanup first\n' "$1" >&2
}

# cf_cleanup_now : run the cleanup immediately (the helpers stay usable and
# the exit cleanup still runs for anything created afterwards).
cf_cleanup_now() {
  _cf_cleanup 0 0
}

# ---------------------------------------------------------------- traps

# _cf_trap_action SIGNAL : print the command currently trapped for SIGNAL.
_cf_trap_action() {
  local spec
  spec="$(trap -p "$1")"
  [[ -n "$spec" ]] || return 0
  spec="${spec#trap -- }"
  spec="${spec% *}"
  eval "printf '%s' ${spec}"
}

_cf_exit_trap() {
  local rc=$?
  _cf_cleanup "$rc" 1
  local previous="${_CF_PREVIOUS_TRAPS[EXIT]:-}"
  if [[ -n "$previous" ]]; then
    eval "$previous"
  fi
  exit "$rc"
}

_cf_signal_trap() {
  local sig="$1" number
  number="$(kill -l "$sig" 2>/dev/null)" || number=15
  printf 'cf: caught SIG%s, cleaning up\n' "$sig" >&2
  _cf_cleanup $((128 + number)) 1
  local previous="${_CF_PREVIOUS_TRAPS[$sig]:-}"
  if [[ -n "$previous" ]]; then
    eval "$previous"
  fi
  exit $((128 + number))
}

# (Re)install our traps, keeping whatever trap was set before as the
# "previous" action that ours runs after the cleanup.
_cf_traps_ensure() {
  [[ "${BASHPID}" == "${_CF_OWNER_PID}" ]] || return 0
  local sig action
  for sig in EXIT INT TERM HUP; do
    action="$(_cf_trap_action "$sig")"
    case "$action" in
      _cf_exit_trap | "_cf_signal_trap $sig") continue ;;
    esac
    _CF_PREVIOUS_TRAPS[$sig]="$action"
    if [[ "$sig" == EXIT ]]; then
      trap '_cf_exit_trap' EXIT
    else
      # shellcheck disable=SC2064  # $sig is meant to be expanded now
      trap "_cf_signal_trap $sig" "$sig"
    fi
  done
}

_cf_traps_ensure

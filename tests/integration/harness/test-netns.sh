#!/usr/bin/env bash
# Self-test of tests/lib/{common,netns,server,ports}.sh.
#
# The parent runs scenarios in child bash processes, each with its own
# CF_LEAK_JOURNAL, and checks from outside that after the child is gone
# nothing it made is left (namespaces, processes, temporary directories,
# port reservations) -- after a pass, after cf_fail, after SIGTERM and after
# a SIGINT sent to the child's whole process group (like Ctrl-C).
#
#   bash tests/integration/harness/test-netns.sh      # exit 0 pass, 1 fail, 77 skip
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
lib="${here}/../../lib"
udp_probe="${here}/../../tools/udp-probe"
self="${here}/$(basename -- "${BASH_SOURCE[0]}")"

# ---------------------------------------------------------------- scenario
# bash test-netns.sh scenario MODE WORKDIR, MODE = pass | fail | hang
run_scenario() {
  local mode="$1" work="$2"
  # A trap set before the helpers are loaded must still run (chaining).
  # shellcheck disable=SC2064  # expand $work now
  trap "echo exit-trap-ran >'${work}/user-exit-trap'" EXIT
  # shellcheck disable=SC2064
  trap "echo int-trap-ran >'${work}/user-int-trap'" INT
  export CF_LEAK_JOURNAL="${work}/journal"
  # shellcheck disable=SC2034  # read by the helpers
  CF_STOP_TIMEOUT=1
  # shellcheck source=SCRIPTDIR/../../lib/netns.sh
  source "${lib}/netns.sh"
  # shellcheck source=SCRIPTDIR/../../lib/server.sh
  source "${lib}/server.sh"
  # shellcheck source=SCRIPTDIR/../../lib/ports.sh
  source "${lib}/ports.sh"
  cf_netns_require

  local scratch
  scratch="$(cf_tmpdir scenario)"
  echo data >"${scratch}/file"
  cf_free_ports 2 --both >"${work}/ports"

  # --- a veth pair
  cf_netns_pair a b 10.201.0.0/24
  cf_assert_eq 10.201.0.1 "${CF_PAIR_ADDR_A}" "address of a"
  cf_assert_eq 10.201.0.2 "${CF_PAIR_ADDR_B}" "address of b"
  cf_assert_eq "" "$(ip -n "${CF_PAIR_NS_B}" route show default)" "default route in b"
  if ip -o addr show | grep -q '10\.201\.'; then
    cf_fail "a test address leaked into the host namespace"
  fi
  cf_server_start echo-a --netns a -- python3 "$udp_probe" echo-server --bind 0.0.0.0:5000
  cf_server_wait_ready echo-a --udp 5000 --timeout 10
  cf_netns_exec b python3 "$udp_probe" ping "${CF_PAIR_ADDR_A}:5000" --count 2 >"${work}/pair-ping"
  cf_assert_contains "$(cat "${work}/pair-ping")" "reply #2 from 10.201.0.1:5000"
  # also with bash's /dev/udp from b: the echo server logs the datagram
  cf_netns_exec b bash -c "echo hello-from-b >/dev/udp/${CF_PAIR_ADDR_A}/5000"
  cf_wait_until 5 grep -q "from 10.201.0.2:.*hello-from-b" "$(cf_server_log echo-a)" ||
    cf_fail "echo server in a did not see the /dev/udp datagram from b"

  # --- a bridge lab with 3 hosts
  cf_bridge_lab --name lab --subnet 10.202.0.0/24 3
  cf_assert_eq 3 "${#CF_LAB_HOST_NS[@]}" "lab hosts"
  cf_assert_eq 10.202.0.255 "${CF_LAB_BROADCAST}" "lab broadcast"
  cf_server_start echo-lab --netns "${CF_LAB_SERVER_NS}" -- \
    python3 "$udp_probe" echo-server --bind 0.0.0.0:5001
  cf_server_wait_ready echo-lab --udp 5001
  local i
  for i in 0 1 2; do
    cf_netns_exec "${CF_LAB_HOST_NS[$i]}" python3 "$udp_probe" ping "${CF_LAB_SERVER_ADDR}:5001" >/dev/null ||
      cf_fail "host $((i + 1)) cannot reach the lab server"
  done
  cf_assert_eq 3 "$(grep -c '^from 10\.202\.0\.1[123]:' "$(cf_server_log echo-lab)")" \
    "datagrams from the three lab hosts"
  # host to host through the bridge
  cf_server_start echo-h3 --netns "${CF_LAB_HOST_NS[2]}" -- python3 "$udp_probe" echo-server --bind 0.0.0.0:5002
  cf_server_wait_ready echo-h3 --udp 5002
  cf_netns_exec "${CF_LAB_HOST_NS[0]}" python3 "$udp_probe" ping "${CF_LAB_HOST_ADDRS[2]}:5002" >/dev/null ||
    cf_fail "h1 cannot reach h3"

  # --- DHCP-like: a host without address broadcasts inside its own lab
  cf_bridge_lab --name dhcp --subnet 10.203.0.0/24 --no-host-addrs 1
  cf_assert_eq "" "${CF_LAB_HOST_ADDRS[0]}" "unaddressed host"
  cf_server_start bootps --netns "${CF_LAB_SERVER_NS}" -- python3 "$udp_probe" echo-server --bind 0.0.0.0:6767
  cf_server_wait_ready bootps --udp 6767
  cf_netns_exec "${CF_LAB_HOST_NS[0]}" python3 "$udp_probe" send 255.255.255.255:6767 \
    --broadcast --device eth0 --bind 0.0.0.0:6868 --message discover >/dev/null
  cf_wait_until 5 grep -q '^from 0\.0\.0\.0:6868 .*discover' "$(cf_server_log bootps)" ||
    cf_fail "broadcast from the unaddressed host did not reach the lab server"

  # --- processes the cleanup must stop
  # unregistered, inside a namespace: killed by the namespace sweep
  ip netns exec "$(cf_ns a)" sleep 1000 &
  echo "$! $(_cf_proc_starttime "$!")" >"${work}/unregistered-pid"
  # ignores SIGTERM: needs SIGKILL
  cf_server_start stubborn -- bash -c 'trap "" TERM; while :; do sleep 0.2; done'
  cf_server_start sleeper --netns b -- sleep 1000
  cf_server_stop sleeper --timeout 2
  cf_assert_eq 143 "${CF_SERVER_EXIT_STATUS}" "exit status of a stopped server"
  cf_server_start sleeper2 -- sleep 1000
  # started in a subshell: still registered through the journal file
  (cf_server_start subshell-sleeper -- sleep 1000)

  echo ready >"${work}/ready"
  case "$mode" in
    pass) exit 0 ;;
    fail) cf_fail "deliberate failure for the self-test" ;;
    hang)
      while :; do sleep 0.2; done
      ;;
  esac
}

if [[ "${1:-}" == scenario ]]; then
  run_scenario "$2" "$3"
  exit 0
fi

# ---------------------------------------------------------------- parent

# A shell started in the background by a non-interactive shell has SIGINT
# ignored, and cannot trap it; its children inherit that (no Ctrl-C test).
sigint_ignored=0
if [[ "$(trap -p INT)" == "trap -- '' SIGINT" ]]; then
  sigint_ignored=1
fi

# shellcheck source=SCRIPTDIR/../../lib/netns.sh
source "${lib}/netns.sh"
# shellcheck source=SCRIPTDIR/../../lib/server.sh
source "${lib}/server.sh"
# shellcheck source=SCRIPTDIR/../../lib/ports.sh
source "${lib}/ports.sh"
cf_netns_require

failures=0
passes=0
not() { ! "$@"; }
check() { # check DESCRIPTION COMMAND...
  local what="$1"
  shift
  if "$@"; then
    printf 'ok   - %s\n' "$what"
    passes=$((passes + 1))
  else
    printf 'FAIL - %s\n' "$what"
    failures=$((failures + 1))
    if [[ -n "${child_work:-}" && -f "${child_work}/stderr" ]]; then
      printf -- '--- stderr of the scenario in %s ---\n' "$child_work"
      tail -n 40 "${child_work}/stderr" || true
    fi
  fi
}

# A namespace of the parent must survive the children's cleanups.
cf_netns_create canary

child_leftovers() { # WORK
  local work="$1" leaks="" pid start
  leaks="$(cf_leftovers --journal "${work}/journal")" || true
  if [[ -f "${work}/unregistered-pid" ]]; then
    read -r pid start <"${work}/unregistered-pid"
    if _cf_proc_alive "$pid" "$start"; then
      leaks+=$'\n'"unregistered process ${pid}"
    fi
  fi
  if [[ -n "${leaks//$'\n'/}" ]]; then
    printf 'leftovers of %s:\n%s\n' "$work" "$leaks" >&2
    return 1
  fi
  return 0
}

journal_has() { # WORK KIND: the journal recorded at least one KIND
  grep -q "^$2"$'\x1f' "$1/journal"
}

# run_child MODE [SIGNAL] : run a scenario, optionally signal it once ready.
# Sets child_status and child_work.
run_child() {
  local mode="$1" signal="${2:-}"
  child_work="$(cf_tmpdir "child-${mode}${signal:+-$signal}")"
  # Job control on: the child gets its own process group and, unlike a plain
  # background job of a script, does not have SIGINT ignored.
  set -m
  bash "$self" scenario "$mode" "$child_work" >"${child_work}/stdout" 2>"${child_work}/stderr" &
  local pid=$!
  set +m
  # If this parent is interrupted, its cleanup stops the child (SIGTERM to
  # the child's group), and the child cleans up after itself.
  cf_register_pid "$pid" "scenario ${mode}"
  if [[ -n "$signal" ]]; then
    if ! cf_wait_until 60 test -f "${child_work}/ready"; then
      echo "scenario never got ready" >&2
    fi
    sleep 0.5
    # (stderr off: no "Killed" job report from bash for the SIGKILL case)
    {
      kill -s "$signal" -- "-${pid}"
      # A child that ignores the signal must not hang the test.
      if ! cf_wait_until 30 not _cf_proc_alive "$pid"; then
        echo "scenario ignored SIG${signal}; sending SIGTERM"
        kill -s TERM -- "-${pid}" || true
      fi
      child_status=0
      wait "$pid" || child_status=$?
    } 2>/dev/null
    return 0
  fi
  child_status=0
  wait "$pid" || child_status=$?
}

# 1. a passing scenario
run_child pass
check "pass scenario exits 0 (got ${child_status})" test "$child_status" = 0
check "pass scenario ran to the end" test -f "${child_work}/ready"
check "pass scenario journal recorded namespaces" journal_has "$child_work" netns
check "pass scenario journal recorded processes" journal_has "$child_work" proc
check "pass scenario journal recorded tmpdirs and port locks" \
  bash -c "grep -q '^tmpdir' '${child_work}/journal' && grep -q '^portlock' '${child_work}/journal'"
check "pass scenario left nothing behind" child_leftovers "$child_work"
check "pre-existing EXIT trap still ran" test -f "${child_work}/user-exit-trap"
check "no log dump after a pass" bash -c "! grep -q -- '----- server' '${child_work}/stderr'"
check "SIGKILL escalation for the TERM-ignoring server" \
  grep -q 'ignored SIGTERM for 1s, sending SIGKILL' "${child_work}/stderr"

# 2. a failing scenario
run_child fail
check "fail scenario exits 1 (got ${child_status})" test "$child_status" = 1
check "fail scenario printed the failure" grep -q 'FAIL: deliberate failure' "${child_work}/stderr"
check "fail scenario printed the server logs" grep -q -- '----- server echo-a: last' "${child_work}/stderr"
check "fail scenario left nothing behind" child_leftovers "$child_work"

# 3. SIGTERM to a hanging scenario
run_child hang TERM
check "SIGTERM scenario exits 143 (got ${child_status})" test "$child_status" = 143
check "SIGTERM scenario left nothing behind" child_leftovers "$child_work"
check "pre-existing EXIT trap ran after SIGTERM" test -f "${child_work}/user-exit-trap"

# 4. SIGINT to the whole process group of a hanging scenario (Ctrl-C)
if ((sigint_ignored)); then
  echo "skip - SIGINT scenario: SIGINT is ignored in this shell (started in the background?)"
else
  run_child hang INT
  check "SIGINT scenario exits 130 (got ${child_status})" test "$child_status" = 130
  check "SIGINT scenario left nothing behind" child_leftovers "$child_work"
  check "pre-existing INT trap was chained" test -f "${child_work}/user-int-trap"
fi

# 4b. SIGKILL (e.g. a ctest timeout): no cleanup can run; the next
# cf_netns_require (here: cf_reap_stale + cf_netns_reap_stale) undoes it.
run_child hang KILL
check "SIGKILL scenario died by SIGKILL (got ${child_status})" test "$child_status" = 137
check "SIGKILL scenario did leave things behind" not child_leftovers "$child_work" 2>/dev/null
cf_reap_stale 2>/dev/null
cf_netns_reap_stale 2>/dev/null
check "cf_reap_stale cleaned up after the SIGKILLed scenario" child_leftovers "$child_work"

# 5. stderr is a pipe whose reader goes away early (SIGPIPE during cleanup)
child_work="$(cf_tmpdir child-sigpipe)"
status=0
(bash "$self" scenario fail "$child_work" 2>&1 | head -n 1 >/dev/null) || status=$?
check "scenario with a closed stderr left nothing behind" child_leftovers "$child_work"

# 6. namespaces of a dead test are reaped
true &
dead_pid=$!
wait "$dead_pid"
if [[ ! -e "/proc/${dead_pid}" ]]; then
  ip netns add "cf-${dead_pid}-stale"
  cf_netns_reap_stale 2>/dev/null
  check "cf_netns_reap_stale removed cf-${dead_pid}-stale" bash -c "! test -e /run/netns/cf-${dead_pid}-stale"
fi

# 7. not root: the helpers ask for a skip (77)
if command -v setpriv >/dev/null && setpriv --reuid=65534 --regid=65534 --clear-groups true 2>/dev/null; then
  status=0
  setpriv --reuid=65534 --regid=65534 --clear-groups env TMPDIR=/tmp \
    bash -c "source '${lib}/netns.sh'; cf_netns_require; echo not-skipped" >/dev/null 2>&1 || status=$?
  check "unprivileged run skips with 77 (got ${status})" test "$status" = 77
else
  echo "skip - unprivileged check (setpriv unavailable)"
fi

check "parent's own namespace survived the children" cf_netns_exists canary

# 8. helpers in this process
# ports: parallel callers never get the same port
ports_dir="$(cf_tmpdir ports)"
for i in 1 2 3 4; do
  cf_free_ports 25 --udp >"${ports_dir}/${i}" &
done
wait
check "100 ports from 4 parallel cf_free_ports are distinct" \
  test "$(cat "${ports_dir}"/* | sort -u | wc -l)" = 100
# shellcheck disable=SC2016  # awk program
check "ports are inside 20000-32000" awk '$1 < 20000 || $1 > 32000 { exit 1 }' "${ports_dir}"/1
check "ports are reserved while the test runs" test -d "/tmp/cf-port-locks/$(head -n 1 "${ports_dir}/1")"
tcp_port="$(cf_free_port --tcp)"
check "a free TCP port can be listened on" python3 -c "
import socket; s = socket.socket(); s.bind(('127.0.0.1', ${tcp_port})); s.listen()"

# server readiness: by log line, by probe, failure when the server dies or hangs
cf_server_start says-ready -- bash -c 'sleep 0.3; echo "server ready"; exec sleep 100'
check "wait_ready --log-match" cf_server_wait_ready says-ready --log-match '^server ready$' --timeout 5
check "wait_ready --probe" cf_server_wait_ready says-ready --probe test -f "$(cf_server_log says-ready)"
cf_server_start dies -- bash -c 'echo boom; exit 3'
helper_err="$(cf_tmpdir helpers)/stderr"
status=0
cf_server_wait_ready dies --udp 9 --timeout 5 2>"$helper_err" || status=$?
check "wait_ready fails when the server exits" test "$status" = 1
check "... and says so with the log" bash -c "grep -q 'exited with status 3 before it was ready' '$helper_err' && grep -q boom '$helper_err'"
cf_server_start never-binds -- sleep 100
status=0
cf_server_wait_ready never-binds --udp 9 --timeout 1 2>"$helper_err" || status=$?
check "wait_ready times out" bash -c "test $status = 1 && grep -q 'not ready after 1s' '$helper_err'"
cf_server_stop never-binds
check "stopped server reports SIGTERM status" test "${CF_SERVER_EXIT_STATUS}" = 143
check "cf_server_running is true for a running server" cf_server_running says-ready
check "cf_server_running is false after stop" not cf_server_running never-binds

# assertions
sha_dir="$(cf_tmpdir sha)"
printf 'same' >"${sha_dir}/a"
printf 'same' >"${sha_dir}/b"
printf 'diff' >"${sha_dir}/c"
check "cf_assert_file_sha256_eq passes on equal files" bash -c \
  "source '${lib}/common.sh'; cf_assert_file_sha256_eq '${sha_dir}/a' '${sha_dir}/b'"
status=0
(cf_assert_file_sha256_eq "${sha_dir}/a" "${sha_dir}/c") 2>"$helper_err" || status=$?
check "cf_assert_file_sha256_eq fails on different files" \
  bash -c "test $status = 1 && grep -q 'FAIL: files differ' '$helper_err'"
status=0
(cf_assert_eq one two "the answer") 2>"$helper_err" || status=$?
check "cf_assert_eq fails with a message" \
  bash -c "test $status = 1 && grep -q 'FAIL: the answer: expected \[one\], got \[two\]' '$helper_err'"
check "cf_ip_in_subnet" test "$(cf_ip_in_subnet 10.9.8.77/26 5)" = 10.9.8.69
check "cf_subnet_broadcast" test "$(cf_subnet_broadcast 10.9.8.77/26)" = 10.9.8.127

# 9. in-process: cf_cleanup_now removes everything and cf_leftovers agrees
cf_netns_pair x y 10.204.0.0/30
cf_server_start inproc --netns x -- sleep 1000
leaks_before="$(cf_leftovers)" || true
check "cf_leftovers reports live namespaces" \
  bash -c "grep -q '^netns $(cf_ns x)\$' <<<'${leaks_before}' && grep -q '^netns $(cf_ns canary)\$' <<<'${leaks_before}'"
cf_cleanup_now
check "cf_leftovers is empty after cf_cleanup_now" cf_leftovers
check "cf_cleanup_now stopped the server" bash -c "! kill -0 $(cf_server_pid inproc) 2>/dev/null"

echo "test-netns: ${passes} passed, ${failures} failed"
if ((failures)); then
  exit 1
fi

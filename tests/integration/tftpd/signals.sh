#!/usr/bin/env bash
# Signals (issue 13 item 13):
# - on a terminal (a pty from script(1)), SIGHUP means the terminal is gone:
#   the server stops (and writes server-stop);
# - not on a terminal, SIGHUP reopens the event log and the server goes on;
#   SIGUSR1 reopens it in both cases;
# - SIGTERM ends the process within --grace even with a transfer that never
#   finishes (a client that ACKed once and went silent).
# Timeouts below only make a hang fail; nothing asserts on speed.
source "$(dirname "$0")/_lib.sh"
need_client script util-linux

tmp="$(cf_tmpdir tftpd-signals)"
root="$tmp/root"; mkdir -p "$root"
head -c 200000 /dev/urandom >"$root/big.bin"

wait_gone() {  # wait_gone PID SECONDS
  local i
  for ((i = 0; i < $2 * 10; i++)); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done
  return 1
}

# --- on a terminal: SIGHUP stops it.
port="$(cf_free_port --udp)"
script -qfec "$TFTPD ${TFTPD_IO_ARGS[*]} --root $root --listen 127.0.0.1:$port --events $tmp/tty.jsonl --grace 1" \
  /dev/null >"$tmp/tty.out" 2>&1 </dev/null &
script_pid=$!
cf_wait_until 10 grep -q server-start "$tmp/tty.jsonl" 2>/dev/null || cf_fail "server on a pty did not start"
tftpd_pid="$(pgrep -P "$script_pid" -x cisco-tftpd || true)"
[[ -z "$tftpd_pid" ]] && tftpd_pid="$(pgrep -P "$(pgrep -P "$script_pid" | head -1)" -x cisco-tftpd || true)"
[[ -n "$tftpd_pid" ]] || cf_fail "cannot find cisco-tftpd under script"
kill -HUP "$tftpd_pid"
wait_gone "$tftpd_pid" 15 || { kill -KILL "$tftpd_pid"; cf_fail "SIGHUP on a terminal did not stop the server"; }
grep -q server-stop "$tmp/tty.jsonl" || cf_fail "no server-stop after SIGHUP on a terminal"
wait "$script_pid" 2>/dev/null || true

# --- not on a terminal: SIGHUP and SIGUSR1 reopen the event log.
tftpd_start tftpd --root "$root" --events "$tmp/events.jsonl" --grace 1
pid="$(cf_server_pid tftpd)"
mv "$tmp/events.jsonl" "$tmp/events.jsonl.1"
kill -HUP "$pid"
cf_wait_until 5 test -f "$tmp/events.jsonl" || cf_fail "SIGHUP did not reopen the event log"
kill -0 "$pid" || cf_fail "SIGHUP stopped a server not on a terminal"
mv "$tmp/events.jsonl" "$tmp/events.jsonl.2"
kill -USR1 "$pid"
cf_wait_until 5 test -f "$tmp/events.jsonl" || cf_fail "SIGUSR1 did not reopen the event log"

# --- SIGTERM with a transfer stuck in flight: gone within --grace (1 s) plus
# slack, not after the retry schedule (~40 s).
python3 - "$PORT" "$tmp/acked" <<'PY' &
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(5)
s.sendto(b"\x00\x01big.bin\x00octet\x00", ("127.0.0.1", int(sys.argv[1])))
data, peer = s.recvfrom(2048)
s.sendto(b"\x00\x04\x00\x01", peer)   # ACK 1, then silence
s.recvfrom(2048)                        # DATA 2: the server took the ACK
open(sys.argv[2], "w").close()
time.sleep(30)
PY
stuck=$!
cf_wait_until 10 test -f "$tmp/acked" || cf_fail "the stuck transfer did not start"
kill -TERM "$pid"
wait_gone "$pid" 10 || cf_fail "SIGTERM did not end the server within --grace"
kill "$stuck" 2>/dev/null || true
grep -q '"result":"aborted"' "$tmp/events.jsonl" || cf_fail "the stuck transfer was not aborted"

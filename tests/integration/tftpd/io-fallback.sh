#!/usr/bin/env bash
# The epoll fallback (issue 14): where io_uring_setup(2) is refused -- here by
# a seccomp filter on the server process alone (tests/lib/no-io-uring.py, as
# Docker's default profile does; no root, nothing changed on the machine) --
# - --io auto starts on epoll and says why in the startup line, and the
#   server-start event reports "io":"epoll";
# - downloads, lock-step and windowed, are intact on that fallback;
# - --io uring exits 1 with the reason instead of falling back.
source "$(dirname "$0")/_lib.sh"
need_client tftp tftp-hpa
need_client atftp atftp
DENY=(python3 "$CF_SOURCE_DIR/tests/lib/no-io-uring.py")
"${DENY[@]}" true || { rc=$?; [[ $rc == 77 ]] && cf_skip "no seccomp filter here"; cf_fail "no-io-uring.py: $rc"; }

tmp="$(cf_tmpdir tftpd-io-fallback)"
root="$tmp/root"; mkdir -p "$root"
random_file "$root/load.sbn" 200000
touch -d '10 minutes ago' "$root/load.sbn"

# --io uring under the filter: a clear refusal, exit 1.
port="$(cf_free_port --udp)"
"${DENY[@]}" "$TFTPD" --root "$root" --listen "127.0.0.1:$port" --io uring 2>"$tmp/uring.err" &&
  rc=0 || rc=$?
cf_assert_eq 1 "$rc"
grep -q 'io_uring is unavailable: io_uring_setup: Operation not permitted' "$tmp/uring.err" ||
  cf_fail "--io uring: no reason given: $(cat "$tmp/uring.err")"

# --io auto under the filter: epoll, and the reason.
PORT="$(cf_free_port --udp)"
cf_server_start tftpd -- "${DENY[@]}" "$TFTPD" --io auto --listen "127.0.0.1:${PORT}" --view log \
  --root "$root" --events "$tmp/events.jsonl"
cf_server_wait_ready tftpd --udp "$PORT" --timeout 10 || cf_fail "cisco-tftpd did not start"
log="$(cf_server_log tftpd)"
grep -qF '(io epoll (io_uring unavailable: io_uring_setup: Operation not permitted), cache' "$log" ||
  cf_fail "startup line does not report the fallback: $(cat "$log")"
grep -q '"event":"server-start".*"io":"epoll"' "$tmp/events.jsonl" ||
  cf_fail "server-start event: $(head -1 "$tmp/events.jsonl")"

tftp -m binary 127.0.0.1 "$PORT" -c get load.sbn "$tmp/a" >/dev/null 2>&1 || cf_fail "lock-step get"
cmp -s "$tmp/a" "$root/load.sbn" || cf_fail "lock-step download differs"
atftp --option "blksize 1428" --option "windowsize 8" -g -r load.sbn -l "$tmp/w" 127.0.0.1 "$PORT" \
  >/dev/null 2>&1 || cf_fail "windowed get"
cmp -s "$tmp/w" "$root/load.sbn" || cf_fail "windowed download differs"
cf_server_stop tftpd
grep -c '"event":"transfer".*"result":"ok"' "$tmp/events.jsonl" | grep -qx 2 ||
  cf_fail "two ok transfers expected: $(grep '"event":"transfer"' "$tmp/events.jsonl")"

# The same server without the filter takes io_uring where the kernel allows
# it: the fallback above came from the filter, not from this machine.
if [[ "$(cat /proc/sys/kernel/io_uring_disabled 2>/dev/null || echo 0)" == 0 ]]; then
  PORT="$(cf_free_port --udp)"
  cf_server_start tftpd-free -- "$TFTPD" --io auto --listen "127.0.0.1:${PORT}" --view log --root "$root"
  cf_server_wait_ready tftpd-free --udp "$PORT" --timeout 10 || cf_fail "cisco-tftpd did not start"
  if grep -qF '(io io_uring, cache' "$(cf_server_log tftpd-free)"; then
    cf_info "unfiltered: io_uring; filtered: epoll with the reason"
  else
    cf_info "io_uring unavailable even without the filter: $(grep 'listening on' "$(cf_server_log tftpd-free)")"
  fi
  cf_server_stop tftpd-free
fi

#!/usr/bin/env bash
# The I/O backend and the file cache (issue 14):
# - --io epoll / --io uring are what the startup line and the server-start
#   event report; --io uring where io_uring cannot be had exits 1 with the
#   reason, and --io auto then says epoll and why;
# - served bytes always match the file on disk as it was at the request: a
#   cached load replaced by another of the same size (rename over it), or
#   rewritten in place with a new mtime, is served anew, never the old bytes;
# - lock-step and windowed downloads of a cached file are intact on both
#   backends, and the event names the version served (size, mtime, inode).
source "$(dirname "$0")/_lib.sh"
need_client tftp tftp-hpa
need_client atftp atftp

tmp="$(cf_tmpdir tftpd-io-cache)"
root="$tmp/root"; mkdir -p "$root"
settled() { touch -d '10 minutes ago' "$@"; }   # the cache takes files that settled
random_file "$root/load.sbn" 300000
settled "$root/load.sbn"

# --- which backend
uring_ok=1
port="$(cf_free_port --udp)"
"$TFTPD" --root "$root" --listen "127.0.0.1:$port" --view log --io uring \
  --events "$tmp/probe.jsonl" 2>"$tmp/probe.err" &
probe=$!
for _ in $(seq 50); do
  grep -q 'listening on' "$tmp/probe.err" 2>/dev/null && break
  kill -0 "$probe" 2>/dev/null || break
  sleep 0.1
done
if kill -0 "$probe" 2>/dev/null; then
  grep -q '(io io_uring, cache' "$tmp/probe.err" || cf_fail "--io uring: $(cat "$tmp/probe.err")"
  grep -q '"event":"server-start".*"io":"io_uring"' "$tmp/probe.jsonl" || cf_fail "server-start io"
  kill "$probe"; wait "$probe" || true
else
  wait "$probe" && rc=0 || rc=$?
  cf_assert_eq 1 "$rc"
  grep -q 'io_uring is unavailable' "$tmp/probe.err" || cf_fail "no reason: $(cat "$tmp/probe.err")"
  uring_ok=0
  cf_info "io_uring unavailable here: $(cat "$tmp/probe.err")"
fi

backends=(epoll)
(( uring_ok )) && backends+=(uring)
for io in "${backends[@]}"; do
  random_file "$root/load.sbn" 300000
  settled "$root/load.sbn"
  : >"$tmp/events.jsonl"
  PORT="$(cf_free_port --udp)"
  cf_server_start "tftpd-$io" -- "$TFTPD" --listen "127.0.0.1:${PORT}" --view log --io "$io" \
    --root "$root" --events "$tmp/events.jsonl"
  cf_server_wait_ready "tftpd-$io" --udp "$PORT" --timeout 10 || cf_fail "cisco-tftpd --io $io did not start"
  want="(io $io"; [[ $io == uring ]] && want="(io io_uring"
  grep -qF "$want" "$(cf_server_log "tftpd-$io")" || cf_fail "startup line for --io $io"

  tftp -m binary 127.0.0.1 "$PORT" -c get load.sbn "$tmp/a" >/dev/null 2>&1 || cf_fail "$io: get"
  cmp -s "$tmp/a" "$root/load.sbn" || cf_fail "$io: lock-step download differs"
  atftp --option "blksize 1428" --option "windowsize 8" -g -r load.sbn -l "$tmp/w" 127.0.0.1 "$PORT" \
    >/dev/null 2>&1 || cf_fail "$io: windowed get"
  cmp -s "$tmp/w" "$root/load.sbn" || cf_fail "$io: windowed download differs"

  # Replaced by a file of the same size (a new inode): the new bytes.
  random_file "$tmp/next" 300000
  settled "$tmp/next"
  mv "$tmp/next" "$root/load.sbn"
  tftp -m binary 127.0.0.1 "$PORT" -c get load.sbn "$tmp/b" >/dev/null 2>&1 || cf_fail "$io: get after replace"
  cmp -s "$tmp/b" "$root/load.sbn" || cf_fail "$io: the replaced file was served from the old bytes"

  # Rewritten in place, same size and inode, another mtime: the new bytes.
  inode="$(stat -c %i "$root/load.sbn")"
  random_file "$tmp/inplace" 300000
  dd if="$tmp/inplace" of="$root/load.sbn" conv=notrunc status=none
  touch -d '5 minutes ago' "$root/load.sbn"
  cf_assert_eq "$inode" "$(stat -c %i "$root/load.sbn")"
  tftp -m binary 127.0.0.1 "$PORT" -c get load.sbn "$tmp/c" >/dev/null 2>&1 || cf_fail "$io: get after rewrite"
  cmp -s "$tmp/c" "$root/load.sbn" || cf_fail "$io: the rewritten file was served from the old bytes"

  mtime_ns="$(python3 -c 'import os,sys; print(os.stat(sys.argv[1]).st_mtime_ns)' "$root/load.sbn")"
  grep '"event":"transfer"' "$tmp/events.jsonl" | tail -1 | grep -q "\"mtime_ns\":$mtime_ns" ||
    cf_fail "$io: the last transfer event does not name the version served"
  cf_server_stop "tftpd-$io"
  cf_info "--io $io: lock-step, windowed, replaced and rewritten files served intact"
done

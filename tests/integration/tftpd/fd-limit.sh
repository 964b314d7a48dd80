#!/usr/bin/env bash
# File descriptors (issue 13 item 7): started with a limit of 80 descriptors
# and the default --max-transfers 1000, cisco-tftpd lowers --max-transfers to
# what fits (2 per transfer) and says so on stderr; a flood of requests then
# never meets a descriptor shortage ("no free transfer port" or "out of file
# descriptors"), and a real client is served.
source "$(dirname "$0")/_lib.sh"
need_client tftp tftp-hpa
need_client prlimit util-linux

tmp="$(cf_tmpdir tftpd-fd-limit)"
root="$tmp/root"; mkdir -p "$root"
echo small >"$root/small.txt"
head -c 100000 /dev/urandom >"$root/big.bin"
PORT="$(cf_free_port --udp)"
cf_server_start tftpd -- prlimit --nofile=80:80 "$TFTPD" "${TFTPD_IO_ARGS[@]}" --listen "127.0.0.1:${PORT}" \
  --view log --root "$root" --events "$tmp/events.jsonl"
cf_server_wait_ready tftpd --udp "$PORT" --timeout 10 || cf_fail "cisco-tftpd did not start"
log="$(cf_server_log tftpd)"
grep -q -- '--max-transfers lowered from 1000 to 23: the file descriptor limit is 80' "$log" ||
  cf_fail "no note about the lowered --max-transfers: $(cat "$log")"

python3 - "$PORT" <<'PY'
import socket, sys
port = int(sys.argv[1])
socks = []
for a in range(2, 8):
    for _ in range(12):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.%d" % a, 0))
        s.sendto(b"\x00\x01big.bin\x00octet\x00", ("127.0.0.1", port))
        socks.append(s)
for s in socks:
    s.settimeout(5)
    s.recvfrom(2048)
PY
tftp -m binary 127.0.0.1 "$PORT" -c get small.txt "$tmp/got" >/dev/null 2>&1 || cf_fail "real client not served"
cf_assert_eq small "$(cat "$tmp/got")"
if grep -Eq 'no free transfer port|out of file descriptors' "$tmp/events.jsonl"; then
  cf_fail "a request met a descriptor shortage: $(grep -E 'no free|descriptors' "$tmp/events.jsonl" | head -3)"
fi

#!/usr/bin/env bash
# Hostile requests (issue 13 items 1 and 12): file names and modes carrying
# newlines and ESC never reach stderr raw (no forged log line, no terminal
# control), and a request with a huge name writes a bounded amount to the
# log and the event file and is refused before any lookup.
source "$(dirname "$0")/_lib.sh"

tmp="$(cf_tmpdir tftpd-hostile)"
root="$tmp/root"; mkdir -p "$root"
echo hello >"$root/ok.txt"
tftpd_start tftpd --root "$root" --events "$tmp/events.jsonl"
log="$(cf_server_log tftpd)"

python3 - "$PORT" <<'PY'
import socket, sys
port = int(sys.argv[1])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(5)
def ask(packet):
    s.sendto(packet, ("127.0.0.1", port))
    data, _ = s.recvfrom(2048)
    assert data[:2] == b"\x00\x05", data   # an ERROR, whatever the form
forged = b"x\ncisco-tftpd: forged line\x1b[2J\x1b]0;title\x07"
ask(b"\x00\x01" + forged + b"\x00octet\x00")               # control characters in the name
ask(b"\x00\x01ok.txt\x00oct\x1b[31met\x00")                # ... in the mode
ask(b"\x00\x01SEP" + forged + b".cnf.xml\x00octet\x00")
ask(b"\x00\x02" + forged + b"\x00octet\x00")                 # a WRQ
ask(b"\x00\x01\xc3\xa9t\xe9\x9b\x00octet\x00")               # non-ASCII, invalid UTF-8
PY
cf_wait_until 5 grep -q 'oct' "$log" || cf_fail "refusals not logged"
if grep -q $'\x1b' "$log"; then cf_fail "ESC reached stderr raw"; fi
if grep -q $'\x07' "$log"; then cf_fail "BEL reached stderr raw"; fi
if grep -q '^cisco-tftpd: forged' "$log"; then cf_fail "a file name forged a log line"; fi
grep -q 'x\\x0acisco-tftpd: forged line\\x1b' "$log" || cf_fail "escaped name not in the log"
# The event file is JSON: every line parses, the name is kept escaped there.
python3 - "$tmp/events.jsonl" <<'PY'
import json, sys
lines = open(sys.argv[1], "rb").read().split(b"\n")
assert lines[-1] == b""
for raw in lines[:-1]:
    assert b"\x1b" not in raw and b"\x07" not in raw, raw
    json.loads(raw)
PY

# One request with a 60 kB name: refused (access violation), and each of the
# log and the event file grows by well under 2 kB for it.
log_before="$(stat -c %s "$log")"; ev_before="$(stat -c %s "$tmp/events.jsonl")"
python3 - "$PORT" <<'PY'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(5)
s.sendto(b"\x00\x01" + b"A" * 60000 + b"\x00octet\x00", ("127.0.0.1", int(sys.argv[1])))
data, _ = s.recvfrom(2048)
assert data[:4] == b"\x00\x05\x00\x02", data
PY
cf_wait_until 5 grep -q 'file_bytes' "$tmp/events.jsonl" || cf_fail "no event for the long name"
log_growth=$(( $(stat -c %s "$log") - log_before ))
ev_growth=$(( $(stat -c %s "$tmp/events.jsonl") - ev_before ))
cf_info "a 60 kB name wrote $log_growth bytes to stderr, $ev_growth bytes of events"
(( log_growth < 2048 )) || cf_fail "stderr grew by $log_growth bytes for one request"
(( ev_growth < 2048 )) || cf_fail "the event file grew by $ev_growth bytes for one request"
tftp -m binary 127.0.0.1 "$PORT" -c get ok.txt "$tmp/got" >/dev/null 2>&1 || cf_fail "server stopped serving"
cf_assert_eq hello "$(cat "$tmp/got")"

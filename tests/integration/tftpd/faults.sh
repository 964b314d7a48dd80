#!/usr/bin/env bash
# Faults from outside (issue 13 items 2, 3 and 5):
# - a netascii RRQ for a large file does not make the server read the file to
#   size it (measured in bytes read, /proc/PID/io rchar, not in time);
# - a file truncated while it is sent ends the transfer with an ERROR, in
#   octet and in netascii, never with a short "complete" file or silence;
# - --max-transfers filled by requests nobody answers (many source addresses
#   and ports) does not lock out a real client: the oldest unanswered
#   transfer is reclaimed.
source "$(dirname "$0")/_lib.sh"
need_client tftp tftp-hpa

tmp="$(cf_tmpdir tftpd-faults)"
root="$tmp/root"; mkdir -p "$root"
echo small >"$root/small.txt"
# 64 MB of text lines (cheap to make, expensive to count)
python3 -c "
import sys
line = b'x' * 63 + b'\n'
with open(sys.argv[1], 'wb') as f:
    for _ in range(16): f.write(line * 65536)
" "$root/big.txt"
tftpd_start tftpd --root "$root" --events "$tmp/events.jsonl" --max-transfers 20
pid="$(cf_server_pid tftpd)"
rchar() { awk '/^rchar:/ {print $2}' "/proc/$pid/io"; }

# --- item 2: netascii sizing reads at most a few blocks, not 64 MB.
before="$(rchar)"
python3 - "$PORT" <<'PY'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(5)
s.sendto(b"\x00\x01big.txt\x00netascii\x00tsize\x000\x00", ("127.0.0.1", int(sys.argv[1])))
data, peer = s.recvfrom(2048)
# netascii answers no tsize: plain DATA 1, converted (LF -> CR LF)
assert data[:4] == b"\x00\x03\x00\x01", data[:20]
assert data[4:4 + 65] == b"x" * 63 + b"\r\n", data[:80]
s.sendto(b"\x00\x05\x00\x00stop\x00", peer)   # end it: we only wanted the first block
PY
read_bytes=$(( $(rchar) - before ))
cf_info "netascii RRQ of a 64 MB file: the server read $read_bytes bytes"
(( read_bytes < 1048576 )) || cf_fail "netascii RRQ read $read_bytes bytes before sending block 1"
tftp -m ascii 127.0.0.1 "$PORT" -c get small.txt "$tmp/small" >/dev/null 2>&1 || cf_fail "netascii get"
cf_assert_eq small "$(cat "$tmp/small")"

# --- item 5: truncated while being sent -> ERROR, in octet and netascii.
python3 - "$PORT" "$root" <<'PY'
import os, socket, sys
port, root = int(sys.argv[1]), sys.argv[2]
for mode in (b"octet", b"netascii"):
    path = os.path.join(root, "shrinking.txt")
    with open(path, "wb") as f:
        f.write((b"y" * 99 + b"\n") * 100)            # 10000 bytes
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(5)
    s.sendto(b"\x00\x01shrinking.txt\x00" + mode + b"\x00", ("127.0.0.1", port))
    data, peer = s.recvfrom(2048)
    assert data[:4] == b"\x00\x03\x00\x01", data[:20]
    os.truncate(path, 300)                             # shorter than what was promised
    block, got = 1, []
    while True:
        s.sendto(b"\x00\x04" + block.to_bytes(2, "big"), peer)
        data, _ = s.recvfrom(2048)
        op = int.from_bytes(data[:2], "big")
        if op == 5:
            print(mode.decode(), "truncation answered with", data[4:-1].decode(), file=sys.stderr)
            break
        assert op == 3, data[:20]
        block = int.from_bytes(data[2:4], "big")
        assert len(data) - 4 == 512, (mode, "a short final block: the client takes it as complete")
PY
grep -q '"result":"read-error"' "$tmp/events.jsonl" || cf_fail "no read-error event"

# --- item 3: 200 never-answered RRQs from 20 addresses fill --max-transfers 20;
# a real client still gets its file.
python3 - "$PORT" <<'PY'
import socket, sys
port = int(sys.argv[1])
socks = []
for a in range(2, 22):
    for _ in range(10):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.%d" % a, 0))
        s.sendto(b"\x00\x01big.txt\x00octet\x00", ("127.0.0.1", port))
        socks.append(s)
for s in socks:   # each got DATA 1 or ERROR; nobody ACKs
    s.settimeout(5)
    s.recvfrom(2048)
PY
tftp -m binary 127.0.0.1 "$PORT" -c get small.txt "$tmp/got" >"$tmp/tftp.out" 2>&1 ||
  cf_fail "real client locked out: $(cat "$tmp/tftp.out")"
cf_assert_eq small "$(cat "$tmp/got")"
grep -q '"result":"reclaimed"' "$tmp/events.jsonl" || cf_fail "no reclaimed transfer"
if grep -q '"error":"too many transfers, try again"' "$tmp/events.jsonl"; then
  cf_fail "a request was refused while unanswered transfers held the slots"
fi

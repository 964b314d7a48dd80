#!/usr/bin/env bash
# Old request forms (issue 16 item 2): an RRQ with a trailing NUL after the
# mode (an empty trailing option, as some old phone images send) and a plain
# RFC 1350 RRQ with no options are both served: DATA 1 first (no OACK), the
# whole file, in octet and netascii. Sent raw from python3 on loopback.
source "$(dirname "$0")/_lib.sh"

tmp="$(cf_tmpdir tftpd-old-requests)"
root="$tmp/root"; mkdir -p "$root"
head -c 1300 /dev/urandom >"$root/OS79XX.TXT"
printf 'line one\nline two\r\n' >"$root/text.txt"

tftpd_start tftpd --root "$root" --events "$tmp/events.jsonl"

python3 - "$PORT" "$root" <<'PY'
import socket, sys
port, root = int(sys.argv[1]), sys.argv[2]

def fetch(request):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(5)
    s.sendto(request, ("127.0.0.1", port))
    got, expect = b"", 1
    while True:
        data, peer = s.recvfrom(70000)
        op = int.from_bytes(data[:2], "big")
        assert op == 3, ("expected DATA (no OACK, no ERROR)", request, data[:80])
        block = int.from_bytes(data[2:4], "big")
        assert block == expect, (block, expect)
        got += data[4:]
        s.sendto(b"\x00\x04" + data[2:4], peer)
        if len(data) - 4 < 512:
            return got
        expect += 1

content = open(root + "/OS79XX.TXT", "rb").read()
for form in (b"\x00\x01OS79XX.TXT\x00octet\x00\x00",   # trailing empty option
             b"\x00\x01OS79XX.TXT\x00octet\x00",       # plain RFC 1350
             b"\x00\x01OS79XX.TXT\x00OCTET\x00\x00\x00"):
    assert fetch(form) == content, form
text = open(root + "/text.txt", "rb").read()
ascii = text.replace(b"\r", b"\r\x00").replace(b"\n", b"\r\n")
assert fetch(b"\x00\x01text.txt\x00netascii\x00\x00") == ascii
assert fetch(b"\x00\x01text.txt\x00netascii\x00") == ascii
print("old request forms served", file=sys.stderr)
PY
ok="$(grep -c '"result":"ok"' "$tmp/events.jsonl")"
cf_assert_eq 5 "$ok" "transfers ok in the event log"
if grep -q option-refused "$tmp/events.jsonl"; then cf_fail "an old request form was refused"; fi

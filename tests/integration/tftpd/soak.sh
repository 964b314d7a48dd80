#!/usr/bin/env bash
# Soak (issue 13, "Done when"): cisco-tftpd under a mixed flood for 20 s --
# RRQs for missing unique 190-byte names from 60 addresses, and RRQs for a
# real file from fresh source ports that never ACK -- keeps serving a real
# client (tftp-hpa, fetching and checking a 300 kB file over and over), and
# its resident memory stays bounded.
#
# RSS bound: 64 MB. The tracker is capped at ~20 MB worst case (65536 names x
# ~280 B plus 4096 clients, see PhoneTrackerSettings), 1000 transfers hold a
# packet buffer each (~3 kB: ~3 MB), the folded-name index of this root is
# ~100 kB, and the binary with its libraries starts near 5 MB; without the
# bounds the same flood grows the tracker by ~50 MB per 100k names.
# Timeouts only make a hang fail.
source "$(dirname "$0")/_lib.sh"
need_client tftp tftp-hpa

tmp="$(cf_tmpdir tftpd-soak)"
root="$tmp/root"; mkdir -p "$root"
head -c 300000 /dev/urandom >"$root/SIP41.9-4-2SR3-1S.sbn"
for i in $(seq 1 2000); do : >"$root/filler-$i.bin"; done
tftpd_start tftpd --root "$root" --events "$tmp/events.jsonl" --grace 1
pid="$(cf_server_pid tftpd)"
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$pid/status"; }
cf_info "RSS at start: $(rss_kb) kB"

python3 - "$PORT" 20 >"$tmp/flood.out" 2>&1 <<'PY' &
import os, socket, sys, time
port, seconds = int(sys.argv[1]), float(sys.argv[2])
end = time.monotonic() + seconds
senders = []
for a in range(2, 62):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.%d" % a, 0))
    s.setblocking(False)
    senders.append(s)
sent = n = 0
while time.monotonic() < end and n < 400000:
    n += 1
    s = senders[n % len(senders)]
    name = ("m%08d-" % n).encode() + os.urandom(100).hex().encode()[:180]
    try:
        s.sendto(b"\x00\x01" + name + b"\x00octet\x00", ("127.0.0.1", port))
        sent += 1
        if n % 4 == 0:   # a never-ACKed RRQ from a fresh port of another address
            t = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            t.bind(("127.0.%d.%d" % (1 + n % 200, 1 + n % 250), 0))
            t.sendto(b"\x00\x01SIP41.9-4-2SR3-1S.sbn\x00octet\x00", ("127.0.0.1", port))
            t.close()
            sent += 1
        for r in senders[:1]:
            try:
                while True: r.recv(2048)
            except BlockingIOError:
                pass
    except (BlockingIOError, OSError):
        pass
print("flood sent", sent, "requests", file=sys.stderr)
PY
flood=$!

max_rss=0 fetches=0
while kill -0 "$flood" 2>/dev/null; do
  # As a phone does, a fetch answered with ERROR (its slot reclaimed before its first
  # ACK reached a saturated server) is asked for once more, at once.
  fetch() {
    rm -f "$tmp/got"
    timeout 30 tftp -m binary 127.0.0.1 "$PORT" -c get SIP41.9-4-2SR3-1S.sbn "$tmp/got" >"$tmp/tftp.out" 2>&1 &&
      cmp -s "$tmp/got" "$root/SIP41.9-4-2SR3-1S.sbn"
  }
  if fetch || { grep -q "transfer dropped" "$tmp/tftp.out" && fetch; }; then
    fetches=$((fetches + 1))
  else
    kill "$flood" 2>/dev/null || true
    cf_fail "the real client failed under the flood (fetch $((fetches + 1))): $(cat "$tmp/tftp.out")"
  fi
  rss="$(rss_kb)"; ((rss > max_rss)) && max_rss=$rss
done
wait "$flood" || true
rss="$(rss_kb)"; ((rss > max_rss)) && max_rss=$rss
cf_info "$(cat "$tmp/flood.out"); $fetches good fetches during it; max RSS ${max_rss} kB"
((fetches >= 1)) || cf_fail "no fetch completed during the flood"
((max_rss < 65536)) || cf_fail "RSS reached ${max_rss} kB (bound 65536 kB)"
cf_server_running tftpd || cf_fail "server died"
misses="$(grep -c '"result":"not-found"' "$tmp/events.jsonl" || true)"
cf_info "$misses misses logged"
((misses > 1000)) || cf_fail "the flood did not reach the server ($misses misses)"

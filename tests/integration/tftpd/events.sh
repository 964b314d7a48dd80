#!/usr/bin/env bash
# --events JSON Lines and phone tracking with a phone's request sequence:
# quiet probe misses, phone-config, load-complete (every file the .loads
# names), loop-suspected; uploads into --upload-dir never overwrite; SIGHUP
# reopens the event log; SIGTERM stops cleanly.
source "$(dirname "$0")/_lib.sh"
need_client tftp tftp-hpa

tmp="$(cf_tmpdir tftpd-events)"
root="$tmp/root"; up="$tmp/up"; mkdir -p "$root" "$up"
mac=0011223344AA
echo '<device/>' >"$root/SEP${mac}.cnf.xml"
for f in jar41sip.9-4-2ES26.sbn cnu41.9-4-2ES26.sbn apps41.9-4-2ES26.sbn; do
  head -c 20000 /dev/urandom >"$root/$f"
done
# A .loads file as tests/fixtures/README.md describes it: TLV header
# (tag 1 len 2 version 1; tag 2 len 2 header length 10), then names.
{ printf '\x01\x00\x02\x00\x01\x02\x00\x02\x00\x0a'
  printf 'jar41sip.9-4-2ES26.sbn\ncnu41.9-4-2ES26.sbn\napps41.9-4-2ES26.sbn\n'; } >"$root/SIP41.9-4-2SR3-1S.loads"
echo existing >"$up/taken.txt"

tftpd_start tftpd --root "$root" --events "$tmp/events.jsonl" --upload-dir "$up" --loop-count 3
get() { tftp -m binary 127.0.0.1 "$PORT" -c get "$1" "$tmp/got" >/dev/null 2>&1; }

get "CTLSEP${mac}.tlv" || true   # probe: not found, quietly
get "SEP${mac}.cnf.xml" || cf_fail "config"
get SIP41.9-4-2SR3-1S.loads || cf_fail "loads"
get Jar41sip.9-4-2ES26.sbn || cf_fail "jar"
get cnu41.9-4-2ES26.sbn || cf_fail "cnu"
get apps41.9-4-2ES26.sbn || cf_fail "apps"
for _ in 1 2 3; do get term41.default.loads || true; done

ev="$tmp/events.jsonl"
python3 - "$ev" "$mac" "$root" <<'PY'
import json, os, sys
events = [json.loads(line) for line in open(sys.argv[1])]
mac = sys.argv[2]
root = sys.argv[3]
def version(name):
    st = os.stat(os.path.join(root, name))
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "inode": st.st_ino}
for e in events:
    assert "ts" in e and "event" in e, e
    if e["event"] not in ("server-start", "server-stop"):
        assert e["client"].startswith("127.0.0.1:"), e
kinds = [e["event"] for e in events]
def one(kind, **fields):
    found = [e for e in events if e["event"] == kind and all(e.get(k) == v for k, v in fields.items())]
    assert len(found) == 1, (kind, fields, found)
    return found[0]
probe = one("transfer", file="CTLSEP%s.tlv" % mac)
assert probe["result"] == "not-found" and probe["mac"] == mac, probe
pc = one("phone-config", mac=mac)
assert {k: pc[k] for k in ("size", "mtime_ns", "inode")} == version("SEP%s.cnf.xml" % mac), pc
lc = one("load-complete", mac=mac)
assert lc["load"] == "SIP41.9-4-2SR3-1S", lc
listed = ["SIP41.9-4-2SR3-1S.loads", "jar41sip.9-4-2ES26.sbn", "cnu41.9-4-2ES26.sbn",
          "apps41.9-4-2ES26.sbn"]
assert [f["file"] for f in lc["files"]] == listed, lc
for f in lc["files"]:
    assert {k: f[k] for k in ("size", "mtime_ns", "inode")} == version(f["file"]), f
assert lc["mtime_ns_max"] == max(version(n)["mtime_ns"] for n in listed), lc
loop = one("loop-suspected", file="term41.default.loads")
assert loop["count"] == 3 and loop["mac"] == mac, loop
ok = [e for e in events if e["event"] == "transfer" and e["result"] == "ok"]
assert len(ok) == 5, ok
for e in ok:
    for k in ("file", "bytes", "ms", "blksize", "windowsize", "result", "mac"):
        assert k in e, (k, e)
    assert {k: e[k] for k in ("size", "mtime_ns", "inode")} == version(e["path"]), e
print("events ok:", len(events), file=sys.stderr)
PY

# A config replaced by rename: the next fetch names the new version.
old_inode="$(stat -c %i "$root/SEP${mac}.cnf.xml")"
echo '<device><new/></device>' >"$root/new.tmp"
touch -d '2030-01-02 03:04:05.123456789' "$root/new.tmp"
mv "$root/new.tmp" "$root/SEP${mac}.cnf.xml"
get "SEP${mac}.cnf.xml" || cf_fail "config after replacing it"
python3 - "$ev" "$root/SEP${mac}.cnf.xml" "$old_inode" <<'PY'
import json, os, sys
configs = [json.loads(l) for l in open(sys.argv[1]) if '"phone-config"' in l]
st = os.stat(sys.argv[2])
last = configs[-1]
assert last["inode"] == st.st_ino != int(sys.argv[3]), last
assert last["mtime_ns"] == st.st_mtime_ns and last["mtime_ns"] % 1000000000 == 123456789, last
assert last["size"] == st.st_size, last
assert configs[-2]["inode"] == int(sys.argv[3]), configs
PY

# Uploads: a new name is stored whole; an existing one is refused and kept.
head -c 5000 /dev/urandom >"$tmp/upload.bin"
tftp -m binary 127.0.0.1 "$PORT" -c put "$tmp/upload.bin" upload.bin >/dev/null 2>&1 || cf_fail "upload"
cf_wait_until 5 test -f "$up/upload.bin" || cf_fail "upload not stored"
cf_assert_file_sha256_eq "$tmp/upload.bin" "$up/upload.bin"
msg="$(tftp -m binary 127.0.0.1 "$PORT" -c put "$tmp/upload.bin" taken.txt 2>&1 || true)"
cf_assert_contains "$msg" "Error code 6" "upload over an existing file"
cf_assert_eq existing "$(cat "$up/taken.txt")"
msg="$(tftp -m binary 127.0.0.1 "$PORT" -c put "$tmp/upload.bin" sub/x 2>&1 || true)"
cf_assert_contains "$msg" "Error code 2" "upload into a subdirectory"
if ls -A "$up" | grep -q '^\.cisco-tftpd'; then cf_fail "temporary upload file left behind"; fi
# Temporary names cannot be squatted (issue 13 item 6): the reserved prefix is
# refused in a WRQ, and names a local user planted do not stop an upload.
msg="$(tftp -m binary 127.0.0.1 "$PORT" -c put "$tmp/upload.bin" ".cisco-tftpd.$(cf_server_pid tftpd).9.part" 2>&1 || true)"
cf_assert_contains "$msg" "Error code 2" "upload to a reserved temporary name"
for i in $(seq 1 40); do : >"$up/.cisco-tftpd.$(cf_server_pid tftpd).$i.part"; done
tftp -m binary 127.0.0.1 "$PORT" -c put "$tmp/upload.bin" second.bin >/dev/null 2>&1 || cf_fail "upload with squatted temp names"
cf_wait_until 5 test -f "$up/second.bin" || cf_fail "second upload not stored"
cf_assert_file_sha256_eq "$tmp/upload.bin" "$up/second.bin"
rm -f "$up"/.cisco-tftpd.*

# SIGHUP reopens the event log after rotation.
mv "$ev" "$ev.1"
kill -HUP "$(cf_server_pid tftpd)"
cf_wait_until 5 test -f "$ev" || cf_fail "event log not reopened"
get "SEP${mac}.cnf.xml" || cf_fail "config after SIGHUP"
cf_wait_until 5 grep -q phone-config "$ev" || cf_fail "no event in the reopened log"
# SIGTERM: clean exit, server-stop written.
cf_server_stop tftpd
cf_assert_eq 0 "${CF_SERVER_EXIT_STATUS:-0}" "exit status after SIGTERM"
grep -q server-stop "$ev" || cf_fail "no server-stop event"

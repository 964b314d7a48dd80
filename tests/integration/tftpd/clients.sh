#!/usr/bin/env bash
# cisco-tftpd against independent clients on loopback: tftp-hpa, atftp
# (blksize, tsize, windowsize 1/8/32), curl, busybox; SHA-256 of every
# download equals the source; a 40 MB file at blksize 512 (block numbers roll
# over past 65535); 50 concurrent downloads; netascii.
source "$(dirname "$0")/_lib.sh"
need_client tftp tftp-hpa
need_client atftp atftp
need_client curl curl
need_client busybox busybox

tmp="$(cf_tmpdir tftpd-clients)"
root="$tmp/root"; out="$tmp/out"
mkdir -p "$root/sub" "$out"
random_file "$root/small.bin" 1000
random_file "$root/exact.bin" $((512 * 8))          # ends with an empty DATA block
random_file "$root/sub/Jar41sip.sbn" 3000000
random_file "$root/big.bin" $((40 * 1024 * 1024))   # 81920 blocks at 512
printf 'line one\nline two\r\nlast' >"$root/text.cnf"

tftpd_start tftpd --root "$root" --max-blksize 8192 --max-per-client 64 --events "$tmp/events.jsonl"
log="$(cf_server_log tftpd)"

check() {  # check SOURCE DOWNLOADED WHAT
  cf_assert_file_sha256_eq "$1" "$2"
  cf_info "ok: $3"
}

# tftp-hpa: plain RFC 1350, 512-byte blocks, no options.
for f in small.bin exact.bin sub/Jar41sip.sbn; do
  tftp -v -m binary 127.0.0.1 "$PORT" -c get "$f" "$out/hpa" >/dev/null 2>&1 || cf_fail "tftp get $f"
  check "$root/$f" "$out/hpa" "tftp-hpa $f"
done
# Case-insensitive lookup and a Windows-style path.
tftp -m binary 127.0.0.1 "$PORT" -c get 'SUB\jar41SIP.sbn' "$out/case" >/dev/null 2>&1 || cf_fail "tftp case-insensitive get"
check "$root/sub/Jar41sip.sbn" "$out/case" "case-insensitive, backslash path"

# atftp: blksize, tsize and windowsize 1/8/32.
for bs in 512 1428 8192; do
  for ws in 1 8 32; do
    atftp --option "blksize $bs" --option "windowsize $ws" --option "tsize 0" \
      -g -r sub/Jar41sip.sbn -l "$out/atftp" 127.0.0.1 "$PORT" >/dev/null 2>&1 ||
      cf_fail "atftp blksize $bs windowsize $ws"
    check "$root/sub/Jar41sip.sbn" "$out/atftp" "atftp blksize $bs windowsize $ws"
  done
done
grep -q '"blksize":1428,.*"windowsize":32' "$tmp/events.jsonl" || cf_fail "no transfer event with blksize 1428 window 32"
grep -q '"blksize":8192,.*"windowsize":8}' "$tmp/events.jsonl" || cf_fail "window of 8192-byte blocks not capped to 64 KiB"

# curl, with blksize.
for bs in 1024 1468; do
  curl -sS -o "$out/curl" "tftp://127.0.0.1:${PORT}/sub/Jar41sip.sbn" --tftp-blksize "$bs" ||
    cf_fail "curl blksize $bs"
  check "$root/sub/Jar41sip.sbn" "$out/curl" "curl blksize $bs"
done
curl -sS -o "$out/curl0" "tftp://127.0.0.1:${PORT}/exact.bin" --tftp-no-options || cf_fail "curl no options"
check "$root/exact.bin" "$out/curl0" "curl --tftp-no-options"

# busybox, with and without -b.
busybox tftp -g -r sub/Jar41sip.sbn -l "$out/bb" -b 1468 127.0.0.1 "$PORT" || cf_fail "busybox -b 1468"
check "$root/sub/Jar41sip.sbn" "$out/bb" "busybox -b 1468"
busybox tftp -g -r small.bin -l "$out/bb2" 127.0.0.1 "$PORT" || cf_fail "busybox"
check "$root/small.bin" "$out/bb2" "busybox"

# netascii: LF -> CR LF on the wire, tftp-hpa converts back.
tftp -m netascii 127.0.0.1 "$PORT" -c get text.cnf "$out/text" >/dev/null 2>&1 || cf_fail "netascii get"
cf_assert_eq "$(od -An -c "$root/text.cnf")" "$(od -An -c "$out/text")" "netascii round trip"

# 40 MB at blksize 512: 81920 blocks, block numbers roll over to 0.
tftp -m binary 127.0.0.1 "$PORT" -c get big.bin "$out/big" >/dev/null 2>&1 || cf_fail "tftp 40 MB"
check "$root/big.bin" "$out/big" "40 MB with tftp-hpa (rollover)"
atftp --option "blksize 512" --option "windowsize 16" -g -r big.bin -l "$out/big2" 127.0.0.1 "$PORT" >/dev/null 2>&1 ||
  cf_fail "atftp 40 MB"
check "$root/big.bin" "$out/big2" "40 MB with atftp blksize 512 window 16 (rollover)"

# 50 concurrent downloads with mixed clients.
pids=()
for i in $(seq 1 50); do
  case $((i % 3)) in
    0) tftp -m binary 127.0.0.1 "$PORT" -c get sub/Jar41sip.sbn "$out/c$i" >/dev/null 2>&1 & ;;
    1) atftp --option "blksize 1428" --option "windowsize 8" -g -r sub/Jar41sip.sbn -l "$out/c$i" 127.0.0.1 "$PORT" >/dev/null 2>&1 & ;;
    2) curl -sS -o "$out/c$i" "tftp://127.0.0.1:${PORT}/sub/Jar41sip.sbn" --tftp-blksize 1468 & ;;
  esac
  pids+=($!)
done
for i in "${!pids[@]}"; do
  wait "${pids[$i]}" || cf_fail "concurrent download $((i + 1)) failed"
done
for i in $(seq 1 50); do
  cf_assert_file_sha256_eq "$root/sub/Jar41sip.sbn" "$out/c$i"
done
cf_info "ok: 50 concurrent downloads"

# Every transfer so far ended ok, and the server is still there.
cf_server_running tftpd || cf_fail "server died"
if grep '"event":"transfer"' "$tmp/events.jsonl" | grep -v '"result":"ok"'; then
  cf_fail "a transfer did not end ok"
fi
count="$(grep -c '"event":"transfer"' "$tmp/events.jsonl")"
cf_assert_eq 71 "$count" "transfer events"

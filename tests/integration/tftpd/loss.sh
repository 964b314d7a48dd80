#!/usr/bin/env bash
# Downloads through tests/tools/lossy-relay at 10% and 30% loss with
# duplication and reordering arrive intact (lock-step and windowed).
source "$(dirname "$0")/_lib.sh"
need_client atftp atftp
need_client tftp tftp-hpa
RELAY="${CF_SOURCE_DIR}/tests/tools/lossy-relay"

tmp="$(cf_tmpdir tftpd-loss)"
root="$tmp/root"; mkdir -p "$root"
random_file "$root/load.sbn" 100000
# Short server timeout and many retries: at 30% loss each way about half the
# round trips fail, and the test should not take minutes.
tftpd_start tftpd --root "$root" --timeout 0.02 --retries 40 --events "$tmp/events.jsonl"

run_relay() {  # run_relay NAME DROP
  cf_server_start "$1" -- python3 "$RELAY" --listen 127.0.0.1:0 --ready-file "$tmp/$1.addr" \
    --upstream "127.0.0.1:${PORT}" --tftp --drop "$2" --dup 0.05 --reorder 0.05 --seed 7 \
    --stats "$tmp/$1.json"
  cf_wait_until 10 test -s "$tmp/$1.addr" || cf_fail "relay $1 did not start"
  read -r _ RELAY_PORT <"$tmp/$1.addr"
}

# Clients and their limits (their bugs, not the server's): atftp 0.8 aborts
# on a repeated OACK ("unexpected OACK", e.g. when ACK 0 is lost and the
# server resends the OACK) and gives up after a few of its own timeouts, so
# it runs at 10% loss only; curl likewise stalls at 30%. tftp-hpa (lock-step,
# no options) runs at both rates.
for drop in 0.1 0.3; do
  run_relay "relay-$drop" "$drop"
  tftp -m binary 127.0.0.1 "$RELAY_PORT" -c get load.sbn "$tmp/h-$drop" >/dev/null 2>&1 ||
    cf_fail "tftp-hpa through ${drop} loss"
  cf_assert_file_sha256_eq "$root/load.sbn" "$tmp/h-$drop"
  cf_info "ok: tftp-hpa through $drop loss"
  if [[ "$drop" == 0.1 ]]; then
    for seed_try in 1 2 3; do
      if atftp --option "blksize 1428" --option "windowsize 8" -g -r load.sbn -l "$tmp/a-$drop" \
        127.0.0.1 "$RELAY_PORT" >"$tmp/atftp.log" 2>&1; then break; fi
      grep -q "unexpected OACK" "$tmp/atftp.log" || cf_fail "atftp through ${drop} loss: $(tail -2 "$tmp/atftp.log")"
      cf_info "atftp aborted on a repeated OACK (atftp client bug); trying again"
    done
    cf_assert_file_sha256_eq "$root/load.sbn" "$tmp/a-$drop"
    cf_info "ok: atftp windowsize 8 through $drop loss"
    # curl asks for the RFC 2349 timeout option, set to its own retry time (6 s
    # by default), and the server honours it: each lost packet would cost 6 s
    # or more. --connect-timeout 2 makes curl ask for 1 s.
    curl -sS --connect-timeout 2 -o "$tmp/c-$drop" "tftp://127.0.0.1:${RELAY_PORT}/load.sbn" --tftp-blksize 1428 ||
      cf_fail "curl through ${drop} loss"
    cf_assert_file_sha256_eq "$root/load.sbn" "$tmp/c-$drop"
    cf_info "ok: curl blksize 1428 through $drop loss"
  fi
  cf_server_stop "relay-$drop"
  python3 - "$tmp/relay-$drop.json" <<'PY' || cf_fail "the relay did not drop and duplicate anything"
import json, sys
stats = json.load(open(sys.argv[1]))
def total(node, key):
    if isinstance(node, dict):
        return sum((v if k == key and isinstance(v, int) else total(v, key)) for k, v in node.items())
    return 0
sys.exit(0 if total(stats, "dropped") > 0 and total(stats, "duplicated") > 0 else 1)
PY
done
# The server resent because of loss, never because of duplicate ACKs:
grep -q '"resent":[1-9]' "$tmp/events.jsonl" || cf_fail "no retransmission recorded"
cf_server_running tftpd || cf_fail "server died"

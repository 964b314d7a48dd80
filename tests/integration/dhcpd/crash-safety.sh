#!/usr/bin/env bash
# Crash safety: under DORA load the server is killed with SIGKILL at random
# moments and restarted, again and again. Every lease a client saw ACKed must
# be in the lease file afterwards (the ACK leaves only after fdatasync), and
# the file must load at every restart.
source "$(dirname "${BASH_SOURCE[0]}")/_lib.sh"

rounds="${CF_DHCP_CRASH_ROUNDS:-8}"
dhcp_lab cra 1 10.232.0.0/16
tmp="$(cf_tmpdir crash)"
leases="$tmp/leases"
acked="$tmp/acked"
: >"$acked"
args=(--pool 10.232.1.1-10.232.200.254 --tftp 10.232.0.1 --leases "$leases" --probe-time 0 --quiet)

cf_server_start load --netns "${LAB_HOSTS[0]}" -- python3 "$(dirname "${BASH_SOURCE[0]}")/_load_client.py" "$acked"
for ((round = 1; round <= rounds; round++)); do
  start_dhcpd "dhcpd$round" "${args[@]}"
  log="$(cf_server_log "dhcpd$round")"
  grep -q "leases loaded" "$log" || cf_fail "round $round: the lease file did not load"
  # kill at a random moment, 0.3 .. 1.5 s into serving
  sleep "$(awk -v r="$RANDOM" 'BEGIN { printf "%.2f", 0.3 + (r % 120) / 100 }')"
  pid="$(cf_server_pid "dhcpd$round")"
  kill -KILL "$pid"
  wait "$pid" 2>/dev/null || true  # reap it quietly
  grep -h "line skipped" "$log" >&2 || true
done
cf_server_stop load
count="$(wc -l <"$acked")"
((count > 20)) || cf_fail "only $count ACKs under load; the test proves nothing"

# Load the files once more through the server, then compare.
start_dhcpd final "${args[@]}"
cf_server_stop final
missing=0
while read -r mac ip; do
  if ! grep -q "^$mac $ip " "$leases"; then
    echo "ACKed lease missing: $mac $ip" >&2
    missing=$((missing + 1))
  fi
done <"$acked"
cf_assert_eq 0 "$missing" "ACKed leases lost (of $count)"
echo "PASS: $count ACKed leases over $rounds SIGKILLs, all present"

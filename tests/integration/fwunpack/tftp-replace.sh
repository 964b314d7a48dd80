#!/usr/bin/env bash
# A TFTP download (tftp-hpa in.tftpd on 127.0.0.1) of a file that fwunpack
# --force replaces at that moment yields the whole old or the whole new file,
# never a mix: fwunpack renames a complete file over the old one.
source "$(dirname "$0")/_lib.sh"
source "${CF_SOURCE_DIR}/tests/lib/server.sh"
source "${CF_SOURCE_DIR}/tests/lib/ports.sh"
TFTPD=/usr/sbin/in.tftpd
[[ -x "$TFTPD" ]] || cf_skip "in.tftpd (package tftpd-hpa) is not installed"
command -v tftp >/dev/null || cf_skip "tftp (package tftp-hpa) is not installed"
[[ "$(id -u)" == 0 ]] || cf_skip "in.tftpd -s (chroot) needs root"

name=cmterm-7941_7961-sccp.9-4-2SR3-1.zip
out="$(fw_fixtures --scale 1 --only "$name")"
tmp="$(cf_tmpdir fwunpack)"
chmod 755 "$tmp"
root="$tmp/root"; mkdir -m 755 "$root"
file=jar41sccp.9-4-2ES26.sbn
# The "new" load: the same files with the jar's last content byte changed (still a sound CNU archive).
mkdir "$tmp/new"
(cd "$tmp/new" && bsdtar -xf "$out/$name")
size="$(stat -c %s "$tmp/new/$file")"
printf '\x5a' | dd of="$tmp/new/$file" bs=1 seek=$((size - 1)) conv=notrunc status=none
mkdir "$tmp/old"
(cd "$tmp/old" && bsdtar -xf "$out/$name")
old_sum="$(cf_sha256 "$tmp/old/$file")"
new_sum="$(cf_sha256 "$tmp/new/$file")"
cf_assert_ne "$old_sum" "$new_sum"
"$FWUNPACK" "$tmp/old" -C "$root" >/dev/null 2>&1 || cf_fail "initial install"

port="$(cf_free_port --udp --host 127.0.0.1)"
cf_server_start tftpd -- "$TFTPD" -L -a "127.0.0.1:$port" -s "$root" -u "$(id -un)" -v
cf_server_wait_ready tftpd --udp "$port" --timeout 10 || cf_fail "in.tftpd did not start"

# Downloads in the background while fwunpack swaps the file back and forth.
mkdir "$tmp/got"
(
  for i in $(seq 1 12); do
    tftp 127.0.0.1 "$port" -m binary -c get "$file" "$tmp/got/$i" || echo "tftp $i failed" >&2
  done
) &
downloader=$!
cf_register_pid "$downloader" "tftp download loop"
swaps=0
while kill -0 "$downloader" 2>/dev/null; do
  if ((swaps % 2 == 0)); then src="$tmp/new"; else src="$tmp/old"; fi
  "$FWUNPACK" "$src" -C "$root" --force >/dev/null 2>&1 || cf_fail "swap $swaps failed"
  swaps=$((swaps + 1))
done
wait "$downloader" || true
((swaps >= 2)) || cf_fail "the downloads ended before two swaps ($swaps)"
old_n=0; new_n=0
for f in "$tmp"/got/*; do
  sum="$(cf_sha256 "$f")"
  if [[ "$sum" == "$old_sum" ]]; then old_n=$((old_n + 1))
  elif [[ "$sum" == "$new_sum" ]]; then new_n=$((new_n + 1))
  else cf_fail "$(basename "$f"): a download that is neither the old nor the new file ($(stat -c %s "$f") bytes)"
  fi
done
cf_assert_eq 12 "$((old_n + new_n))" "downloads completed"
echo "ok: 12 downloads during $swaps replacements: $old_n old, $new_n new, none mixed"

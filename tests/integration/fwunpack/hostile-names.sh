#!/usr/bin/env bash
# One name check for every input kind (issue 13 item 16), and the hostile entry
# kinds an archive can carry, each tried for real: every one is refused (exit 3)
# with a message naming input and entry, escaped so it cannot forge a line or
# drive the terminal, and leaves nothing in the root.
source "$(dirname "$0")/_lib.sh"
out="$(fw_fixtures --only cmterm-7940-7960-sccp.8-0-9.zip)"
tmp="$(cf_tmpdir fwunpack)"
zip="$out/cmterm-7940-7960-sccp.8-0-9.zip"

# expect_refused WHAT REASON INPUT... : exit 3, REASON in the message, no raw
# control bytes on stderr, nothing in a fresh root.
n=0
expect_refused() {
  local what="$1" reason="$2" root rc
  shift 2
  n=$((n + 1)); root="$tmp/root-$n"; mkdir "$root"
  set +e
  "$FWUNPACK" "$@" -C "$root" >"$tmp/out" 2>"$tmp/err"; rc=$?
  set -e
  cf_assert_eq 3 "$rc" "$what: exit code"
  cf_assert_contains "$(cat "$tmp/err")" "$reason" "$what: message"
  if LC_ALL=C grep -q $'[\x01-\x08\x0b-\x1f\x7f]' "$tmp/err"; then cf_fail "$what: raw control byte on stderr"; fi
  cf_assert_eq "$(wc -l <"$tmp/err")" "$(grep -c '^fwunpack: ' "$tmp/err")" "$what: every stderr line is fwunpack's own"
  cf_assert_eq "" "$(grep -v '^#' "$tmp/out" || true)" "$what: no manifest rows"
  fw_assert_empty "$root"
}

# --- folder inputs: the same check as archive members ------------------------------
for bad in $'evil\n.loads' $'evil\e[2J.sbn' $'P00308000900.sbn\rX'; do
  dir="$tmp/folder-$n"; mkdir "$dir"
  (cd "$dir" && bsdtar -xf "$zip")
  printf 'x' >"$dir/$bad"
  expect_refused "folder entry $(printf %q "$bad")" "refused: control character in the name" "$dir"
  cf_assert_contains "$(cat "$tmp/err")" "$dir: entry '"
done

# --- the same names, and the other hostile kinds, inside archives ------------------
python3 - "$tmp" <<'PY'
import io, sys, tarfile
tmp = sys.argv[1]
def tar(name, *members):
    with tarfile.open(f"{tmp}/{name}", "w", format=tarfile.GNU_FORMAT) as t:
        for info, data in members:
            t.addfile(info, io.BytesIO(data) if data is not None else None)
def reg(name, data=b"x"):
    info = tarfile.TarInfo(name); info.size = len(data); return info, data
def special(name, kind, **kw):
    info = tarfile.TarInfo(name); info.type = kind
    for k, v in kw.items(): setattr(info, k, v)
    return info, None
tar("newline.tar", reg("dir/evil\n.loads"))
tar("esc.tar", reg("evil\x1b]0;pwned\x07.sbn"))
tar("hardlink.tar", reg("P00308000900.bin"), special("copy.sbn", tarfile.LNKTYPE, linkname="/etc/shadow"))
tar("chardev.tar", special("tty.sbn", tarfile.CHRTYPE, devmajor=5, devminor=0))
tar("blockdev.tar", special("sda.sbn", tarfile.BLKTYPE, devmajor=8, devminor=0))
tar("fifo.tar", special("pipe.sbn", tarfile.FIFOTYPE))
tar("symlink.tar", special("P00308000900.sbn", tarfile.SYMTYPE, linkname="/etc/passwd"))
tar("dotdot.tar", reg("../../x.sbn"))
tar("absolute.tar", reg("/tmp/ciscoflash-evil-abs.sbn"))
tar("backslash.tar", reg("..\\..\\x.sbn"))
PY
expect_refused "newline in a tar member" "refused: control character in the name" "$tmp/newline.tar"
expect_refused "ESC in a tar member" "refused: control character in the name" "$tmp/esc.tar"
expect_refused "hard link" "refused: hard link (-> /etc/shadow)" "$tmp/hardlink.tar"
expect_refused "character device" "refused: not a regular file" "$tmp/chardev.tar"
expect_refused "block device" "refused: not a regular file" "$tmp/blockdev.tar"
expect_refused "fifo" "refused: not a regular file" "$tmp/fifo.tar"
expect_refused "symbolic link" "refused: symbolic link (-> /etc/passwd)" "$tmp/symlink.tar"
expect_refused "'..' path" "refused: '..' in the path" "$tmp/dotdot.tar"
expect_refused "absolute path" "refused: absolute path" "$tmp/absolute.tar"
expect_refused "'..' with backslashes" "refused: '..' in the path" "$tmp/backslash.tar"
# A hostile archive among good inputs spoils the whole run: nothing is installed.
expect_refused "good and hostile together" "refused: hard link" "$zip" "$tmp/hardlink.tar"
[[ ! -e /tmp/ciscoflash-evil-abs.sbn && ! -e "$tmp/x.sbn" ]] || cf_fail "an entry escaped the root"

# --- folder inputs: links and FIFOs are skipped, never followed or waited on --------
dir="$tmp/folder-links"; mkdir "$dir"
(cd "$dir" && bsdtar -xf "$zip")
mv "$dir/P00308000900.bin" "$tmp/outside.bin"
ln -s "$tmp/outside.bin" "$dir/P00308000900.bin"   # a link to the real bytes: not followed
mkfifo "$dir/P00308000900.extra.sbn"
root="$tmp/root-links"; mkdir "$root"
set +e
timeout 120 "$FWUNPACK" "$dir" -C "$root" >"$tmp/out" 2>"$tmp/err"; rc=$?
set -e
cf_assert_eq 3 "$rc" "a load whose .bin is only a symbolic link is incomplete"
cf_assert_contains "$(cat "$tmp/err")" "P00308000900.bin is missing"
fw_assert_empty "$root"
echo "ok: $n hostile inputs refused"

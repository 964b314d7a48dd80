#!/usr/bin/env bash
# `cmake --install` puts every binary in bin/, its man page in share/man/man1 or
# man8, the data in share/ciscoflash and the systemd units of the daemons in
# lib/systemd/system, and an installed binary finds that data without
# CISCOFLASH_DATA.
set -euo pipefail
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
cmake --install "$CF_BUILD_DIR" --prefix "$prefix" >/dev/null

fail() { echo "install-layout: $*" >&2; exit 1; }
[[ -f "$prefix/share/ciscoflash/models.tsv" ]] || fail "models.tsv not installed"
for data in "$CF_SOURCE_DIR"/data/*; do
  cmp -s "$data" "$prefix/share/ciscoflash/$(basename "$data")" || fail "data/$(basename "$data") not installed"
done
count=0
for tool_dir in "$CF_SOURCE_DIR"/tools/*/; do
  tool=$(basename "$tool_dir")
  [[ -f "$tool_dir/main.cpp" ]] || continue
  count=$((count + 1))
  [[ -x "$prefix/bin/$tool" ]] || fail "$tool not installed in bin/"
  ls "$prefix"/share/man/man[18]/"$tool".[18] >/dev/null 2>&1 || fail "no man page for $tool"
  version=$(env -u CISCOFLASH_DATA "$prefix/bin/$tool" --version) || fail "$tool --version failed"
  [[ "$version" == *ciscoflash* ]] || fail "$tool --version printed '$version'"
done
for page in "$CF_SOURCE_DIR"/man/*.[18]; do
  [[ -e "$page" ]] || continue
  section=${page##*.}
  [[ -f "$prefix/share/man/man$section/$(basename "$page")" ]] || fail "$(basename "$page") not installed"
  if command -v man >/dev/null; then
    MANWIDTH=80 man --warnings -l "$page" 2>&1 >/dev/null | grep -v '^$' && fail "$(basename "$page") has roff warnings"
  fi
done
for unit in cisco-dhcpd cisco-tftpd; do
  file="$prefix/lib/systemd/system/$unit.service"
  [[ -f "$file" ]] || fail "$unit.service not installed"
  grep -q "^ExecStart=$prefix/bin/$unit " "$file" || fail "$unit.service does not start $prefix/bin/$unit"
  if command -v systemd-analyze >/dev/null; then
    # Only the man page lookup may fail: the prefix is not in MANPATH.
    problems=$(systemd-analyze verify "$file" 2>&1 | grep -v "man $unit" || true)
    [[ -z "$problems" ]] || fail "$unit.service: $problems"
  fi
done
echo "install-layout: $count tools, man pages and data installed under a prefix"

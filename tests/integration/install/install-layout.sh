#!/usr/bin/env bash
# `cmake --install` puts every binary and the scripts sccp-to-sip and
# ciscoflash-demo in bin/, their man pages gzipped in share/man/man1 or man8, the
# data in share/ciscoflash, the lab ciscoflash-demo runs in share/ciscoflash/lab,
# a bash completion per command, the copyright and changelog in
# share/doc/ciscoflash, the daemons' systemd units in lib/systemd/system and their
# settings in etc/ciscoflash; an installed binary finds that data without
# CISCOFLASH_DATA, and the installed sccp-to-sip plans with no build tree.
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
  ls "$prefix"/share/man/man[18]/"$tool".[18].gz >/dev/null 2>&1 || fail "no man page for $tool"
  version=$(env -u CISCOFLASH_DATA "$prefix/bin/$tool" --version) || fail "$tool --version failed"
  [[ "$version" == *ciscoflash* ]] || fail "$tool --version printed '$version'"
done
for page in "$CF_SOURCE_DIR"/man/*.[18]; do
  [[ -e "$page" ]] || continue
  section=${page##*.}
  installed="$prefix/share/man/man$section/$(basename "$page").gz"
  [[ -f "$installed" ]] || fail "$(basename "$page") not installed (gzipped)"
  gzip -dc "$installed" | cmp -s - "$page" || fail "$installed is not $(basename "$page")"
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
for script in sccp-to-sip ciscoflash-demo; do
  [[ -x "$prefix/bin/$script" ]] || fail "$script not installed in bin/"
  [[ -f "$prefix/share/man/man1/$script.1.gz" ]] || fail "no man page for $script"
done
for part in demo lab make-firmware phonesim/phonesim phonesim/phonesimlib/cli.py; do
  [[ -f "$prefix/share/ciscoflash/lab/$part" ]] || fail "share/ciscoflash/lab/$part not installed"
done
for command in cisco-dhcpd cisco-tftpd cnfgen fwunpack upgrade-path sccp-to-sip ciscoflash-demo; do
  cmp -s "$CF_SOURCE_DIR/completions/ciscoflash" "$prefix/share/bash-completion/completions/$command" ||
    fail "no bash completion for $command"
done
[[ -f "$prefix/share/doc/ciscoflash/copyright" ]] || fail "no copyright"
gzip -t "$prefix/share/doc/ciscoflash/changelog.gz" || fail "no gzipped changelog"
for conf in cisco-dhcpd.conf cisco-tftpd.conf; do
  cmp -s "$CF_SOURCE_DIR/packaging/$conf" "$prefix/etc/ciscoflash/$conf" || fail "etc/ciscoflash/$conf not installed"
done

# The installed sccp-to-sip, with nothing of the source or build tree in reach:
# its data from share/ciscoflash, the tools from bin/.
work=$(mktemp -d)
trap 'rm -rf "$prefix" "$work"' EXIT
mkdir -p "$work/root"
for f in SCCP41.8-5-2S SIP41.9-4-2SR3-1S; do
  printf '%s\n' "$f.bin" >"$work/root/$f.loads"; printf x >"$work/root/$f.bin"
done
printf '001E4A000001\t7961\t201\tsecret1\tOne\n' >"$work/phones.tsv"
: >"$work/events.jsonl"
if command -v jq >/dev/null; then
  plan=$(cd "$work" && env -i HOME="$work" PATH="$prefix/bin:/usr/bin:/bin" "$prefix/bin/sccp-to-sip" \
           --root "$work/root" --events "$work/events.jsonl" --asterisk 127.0.0.1 \
           --phones "$work/phones.tsv" --discover-seconds 0 --dry-run 2>&1) ||
    fail "installed sccp-to-sip --dry-run failed: $plan"
  [[ "$plan" == *"SCCP41.8-5-2S -> SIP41.9-4-2SR3-1S"* ]] || fail "installed sccp-to-sip planned: $plan"
fi
echo "install-layout: $count tools, scripts, man pages, completions and data installed under a prefix"

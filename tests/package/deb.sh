#!/usr/bin/env bash
# The Debian package end to end, on this machine (ctest label `package`, not run
# by default: it installs and purges a package; .ci/run runs it):
#   1. `cmake --workflow --preset package` (README's first command) builds the .deb
#      from a Release build; its binaries are stripped, its Depends come from them;
#   2. lintian: no error, and every warning is explained in packaging/README.md;
#   3. `apt-get install ./ciscoflash_*.deb` (README's second command);
#   4. with nothing of the source or build tree in reach: the installed fwunpack
#      fills a root from archives the installed make-firmware wrote, and the
#      installed sccp-to-sip --dry-run plans every phone to SIP from it;
#      ciscoflash-demo migrates its simulated phones; the units pass
#      `systemd-analyze verify` and score <= 2.5 in `systemd-analyze security`;
#      each daemon serves a real client as an unprivileged user holding only its
#      unit's capabilities;
#   5. `apt-get purge` leaves nothing behind (the units' state and log directories
#      and the simulator's byte code included) but what apt installed besides.
# Needs root, apt, lintian and systemd-analyze.
set -euo pipefail
# shellcheck source=../lib/common.sh
source "${CF_SOURCE_DIR}/tests/lib/common.sh"
# shellcheck source=../lib/server.sh
source "${CF_SOURCE_DIR}/tests/lib/server.sh"
# shellcheck source=../lib/netns.sh
source "${CF_SOURCE_DIR}/tests/lib/netns.sh"

((EUID == 0)) || cf_skip "installs a package on this machine: needs root"
for tool in apt-get dpkg-deb lintian systemd-analyze readelf setpriv tftp busybox; do
  command -v "$tool" >/dev/null || cf_fail "$tool not found (apt-get install lintian systemd binutils util-linux tftp-hpa busybox)"
done

start=$SECONDS
work=$(cf_tmpdir)
src=$CF_SOURCE_DIR
export DEBIAN_FRONTEND=noninteractive
apt_get() { apt-get -o DPkg::Lock::Timeout=600 -y -qq "$@"; }
# What an admin's shell has: no CISCOFLASH_DATA, no build/bin, started elsewhere.
installed() { (cd "$work" && env -i HOME="$work" PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 "$@"); }

# Leave the machine as found, whatever happens.
purge_package() {
  if dpkg-query -W -f='${Status}' ciscoflash 2>/dev/null | grep -q "installed\|config-files"; then
    apt_get purge ciscoflash >/dev/null 2>&1 || dpkg --purge ciscoflash >/dev/null 2>&1 || true
  fi
}
if dpkg-query -W -f='${Status}' ciscoflash 2>/dev/null | grep -q "installed\|config-files"; then
  cf_info "ciscoflash is installed already: purging it first"
  purge_package
fi
cf_on_exit purge_package

echo "== 1. the .deb (cmake --workflow --preset package)"
rm -f "$src"/build-package/ciscoflash_*.deb
build_start=$SECONDS
(cd "$src" && cmake --workflow --preset package) >"$work/build.log" 2>&1 ||
  { tail -n 40 "$work/build.log" >&2; cf_fail "cmake --workflow --preset package failed"; }
debs=("$src"/build-package/ciscoflash_*.deb)
((${#debs[@]} == 1)) && [[ -f "${debs[0]}" ]] || cf_fail "expected one build-package/ciscoflash_*.deb, found: ${debs[*]}"
deb=${debs[0]}
echo "   $(basename "$deb"), $(du -k "$deb" | cut -f1) KiB, built in $((SECONDS - build_start)) s"
grep -q '^CMAKE_BUILD_TYPE:STRING=Release$' "$src/build-package/CMakeCache.txt" || cf_fail "build-package is not a Release build"
grep -q '^CMAKE_CXX_FLAGS_RELEASE:STRING=-O2 ' "$src/build-package/CMakeCache.txt" || cf_fail "build-package is not built with -O2"

dpkg-deb -x "$deb" "$work/tree"
dpkg-deb -e "$deb" "$work/control"
for binary in cisco-dhcpd cisco-tftpd cnfgen fwunpack upgrade-path; do
  sections=$(readelf -S --wide "$work/tree/usr/bin/$binary")
  [[ "$sections" != *" .symtab "* && "$sections" != *" .debug_info "* ]] || cf_fail "$binary is not stripped"
done
depends=$(dpkg-deb -f "$deb" Depends)
for library in libc6 libstdc++6 libarchive13 libfmt; do
  [[ "$depends" == *"$library"* ]] || cf_fail "Depends lacks $library (computed from the binaries): $depends"
done
[[ "$depends" == *jq* && "$depends" == *python3* ]] || cf_fail "Depends lacks the scripts' jq or python3: $depends"
cf_assert_eq "$(cat "$src/packaging/debian/conffiles")" "$(cat "$work/control/conffiles")" "conffiles"
for page in "$work"/tree/usr/share/man/man*/*; do
  [[ "$page" == *.gz ]] || cf_fail "man page $(basename "$page") is not gzipped"
done

echo "== 2. lintian"
lintian_out=$(lintian --tag-display-limit 0 "$deb" 2>&1) || true
printf '%s\n' "$lintian_out" | sed 's/^/   /'
if grep -q '^E: ' <<<"$lintian_out"; then
  cf_fail "lintian reports errors"
fi
while read -r tag; do
  [[ -n "$tag" ]] || continue
  grep -q -- "\`$tag\`" "$src/packaging/README.md" || cf_fail "lintian warning $tag is not explained in packaging/README.md"
done < <(sed -n 's/^W: ciscoflash[^:]*: \([a-z0-9-]*\).*/\1/p' <<<"$lintian_out" | sort -u)

echo "== 3. apt-get install ./$(basename "$deb")"
# Everything the purge may not leave behind: a list of what is here before.
# Canonical names only: on a merged-/usr system /lib is a link to /usr/lib.
mapfile -t snapshot_roots < <(for dir in /etc /usr /lib /var/lib /var/log /srv /opt; do
  [[ -e "$dir" ]] && realpath "$dir"; done | sort -u)
snapshot() {
  find "${snapshot_roots[@]}" -xdev \
    \( -path /var/lib/dpkg -o -path /var/lib/apt -o -path /var/cache -o -path /var/log/apt \
       -o -path /var/lib/systemd/deb-systemd-helper-enabled -o -path /var/lib/ucf \
       -o -path /var/log/journal -o -name __pycache__ -path '/usr/lib/*' \) -prune -o -print 2>/dev/null |
    grep -v -e '^/var/log/dpkg.log' -e '^/var/log/alternatives.log' -e '^/var/lib/man-db' | sort
}
snapshot >"$work/before"
dpkg-query -W -f='${Package}\n' | sort >"$work/packages-before"
(cd "$(dirname "$deb")" && apt_get install "./$(basename "$deb")") >"$work/apt.log" 2>&1 ||
  { cat "$work/apt.log" >&2; cf_fail "apt-get install failed"; }
dpkg-query -W -f='${Status}' ciscoflash | grep -q "install ok installed" || cf_fail "ciscoflash is not installed"
dpkg-query -L ciscoflash | sort >"$work/files"

echo "== 4. the installed commands"
for command in cisco-dhcpd cisco-tftpd cnfgen fwunpack upgrade-path sccp-to-sip ciscoflash-demo; do
  cf_assert_eq "/usr/bin/$command" "$(installed bash -c "command -v $command")" "$command in PATH"
  installed man -w "$command" >/dev/null 2>&1 || ! command -v man >/dev/null ||
    cf_fail "man $command finds no page"
  installed bash -c "source /usr/share/bash-completion/completions/$command && complete -p $command" >/dev/null ||
    cf_fail "no bash completion for $command"
done
for tool in cisco-dhcpd cisco-tftpd cnfgen fwunpack upgrade-path; do
  [[ "$(installed "$tool" --version)" == *ciscoflash* ]] || cf_fail "$tool --version"
done

installed /usr/share/ciscoflash/lab/make-firmware -q --scale 0.02 --only good "$work/firmware"
rm -f "$work/firmware/expected.json"
mkdir -p "$work/root"
installed fwunpack "$work"/firmware/* -C "$work/root" >"$work/manifest" ||
  cf_fail "the installed fwunpack failed: $(cat "$work/manifest")"
printf '001E4A007940\t7940\t201\tsecret-7940\n001E4A007960\t7960\t202\tsecret-7960\n001E4A007961\t7961\t203\tsecret-7961\n001E4A007965\t7965\t204\tsecret-7965\n' \
  >"$work/phones.tsv"
: >"$work/tftp.jsonl"
installed sccp-to-sip --root "$work/root" --events "$work/tftp.jsonl" --asterisk 127.0.0.1 \
  --phones "$work/phones.tsv" --discover-seconds 0 --state "$work/state" --dry-run >"$work/plan" 2>&1 ||
  { cat "$work/plan" >&2; cf_fail "the installed sccp-to-sip --dry-run failed"; }
sed 's/^/   /' "$work/plan"
for mac in 001E4A007940 001E4A007960 001E4A007961 001E4A007965; do
  route=$(grep "^$mac " "$work/plan") || cf_fail "no plan for $mac"
  [[ "$route" =~ -\>\ (P0S3|SIP4)[^\ ]*$ ]] || cf_fail "the plan of $mac does not end on a SIP load: $route"
done
[[ ! -e "$work/state" ]] || cf_fail "--dry-run wrote a state file"

demo_start=$SECONDS
installed ciscoflash-demo >"$work/demo.log" 2>&1 || { cat "$work/demo.log" >&2; cf_fail "ciscoflash-demo failed"; }
sed -n '/== what each phone says about itself/,$p' "$work/demo.log" | sed 's/^/   /'
grep -q "set up and build" "$work/demo.log" && cf_fail "the installed demo tried to build"
[[ $(grep -cE '^00:?1E:?4A.*running' "$work/demo.log" || true) -ge 4 ]] ||
  [[ $(sed -n '/says about itself/,$p' "$work/demo.log" | grep -c 'running') -ge 4 ]] ||
  cf_fail "ciscoflash-demo did not end with four phones running"
echo "   ciscoflash-demo passed in $((SECONDS - demo_start)) s"
[[ -z "$(find /usr/share/ciscoflash -name __pycache__)" ]] || cf_fail "the demo left byte code in /usr/share/ciscoflash"

for unit in cisco-dhcpd cisco-tftpd; do
  file=/lib/systemd/system/$unit.service
  [[ -f "$file" ]] || cf_fail "$file not installed"
  problems=$(systemd-analyze verify "$file" 2>&1) || true
  [[ -z "$problems" ]] || cf_fail "systemd-analyze verify $unit: $problems"
  report=$(systemd-analyze security --offline=true "$file" 2>&1) || true
  score=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p' <<<"$report")
  [[ -n "$score" ]] || cf_fail "systemd-analyze security gave no score for $unit: $report"
  echo "   $unit.service: systemd-analyze security exposure $score"
  awk -v s="$score" 'BEGIN { exit !(s <= 2.5) }' || cf_fail "$unit.service exposure $score > 2.5: $report"
  # Its SIGHUP reopens the event file (tests/integration/{tftpd/events,dhcpd/udhcpc}.sh).
  grep -q '^ExecReload=kill -HUP \$MAINPID$' "$file" || cf_fail "$unit.service cannot be reloaded"
done

# The daemons with their units' privileges (no systemd runs here to start the
# units): user nobody holding only the unit's AmbientCapabilities, in namespaces
# of the test's own. cisco-tftpd serves tftp-hpa's tftp on port 69; cisco-dhcpd,
# set up by a file like /etc/ciscoflash/cisco-dhcpd.conf, gives busybox udhcpc a
# lease on port 67 and opens its packet sockets (it warns, and serves less,
# without CAP_NET_RAW).
unit_caps() {
  sed -n 's/^AmbientCapabilities=//p' "/lib/systemd/system/$1.service" | tr 'A-Z ' 'a-z\n' |
    sed -n 's/^cap_\(.*\)/+\1/p' | paste -sd, -
}
as_unit() {
  local caps
  caps=$(unit_caps "$1")
  shift
  [[ -n "$caps" ]] || { echo "no AmbientCapabilities in the unit" >&2; return 1; }
  exec setpriv --reuid=nobody --regid=nogroup --clear-groups --inh-caps="-all,$caps" \
    --ambient-caps="-all,$caps" --bounding-set="-all,$caps" --no-new-privs "$@"
}
mkdir -p "$work/srv/root" "$work/srv/log" "$work/srv/state"
chmod 755 "$work" "$work/srv" "$work/srv/root"
chown nobody "$work/srv/log" "$work/srv/state"
echo "a config file" >"$work/srv/root/SEP001E4A007940.cnf.xml"
chmod 644 "$work/srv/root/SEP001E4A007940.cnf.xml"
cf_netns_create pkg-tftp
cf_server_start tftpd --netns pkg-tftp -- env -i PATH=/usr/bin:/bin \
  bash -c "$(declare -f unit_caps as_unit); as_unit cisco-tftpd /usr/bin/cisco-tftpd \
    --root '$work/srv/root' --listen 127.0.0.1:69 --events '$work/srv/log/tftp.jsonl' --view log"
cf_wait_until 10 grep -q "listening on" "$(cf_server_log tftpd)" ||
  cf_fail "cisco-tftpd did not start as nobody with $(unit_caps cisco-tftpd): $(cat "$(cf_server_log tftpd)")"
(cd "$work/srv" && cf_netns_exec pkg-tftp timeout 20 tftp 127.0.0.1 -m binary -c get SEP001E4A007940.cnf.xml got) ||
  cf_fail "tftp got nothing from the unprivileged cisco-tftpd"
cmp -s "$work/srv/got" "$work/srv/root/SEP001E4A007940.cnf.xml" || cf_fail "tftp got other bytes"
grep -q '"event":"transfer"' "$work/srv/log/tftp.jsonl" || cf_fail "no transfer event from the unprivileged cisco-tftpd"
cf_assert_eq "nobody cisco-tftpd" "$(ps -o user=,comm= -p "$(cf_server_pid tftpd)" | tr -s " ")" "who serves"
cf_server_stop tftpd

cf_netns_pair pkg-dhcps pkg-dhcpc 10.231.77.0/24 s0 c0
printf 'iface = "s0"\npool = "10.231.77.100-10.231.77.120"\ntftp = "10.231.77.1"\n' >"$work/srv/cisco-dhcpd.conf"
chmod 644 "$work/srv/cisco-dhcpd.conf"
cf_server_start dhcpd --netns pkg-dhcps -- env -i PATH=/usr/bin:/bin \
  bash -c "$(declare -f unit_caps as_unit); as_unit cisco-dhcpd /usr/bin/cisco-dhcpd \
    --config '$work/srv/cisco-dhcpd.conf' --leases '$work/srv/state/leases' \
    --events '$work/srv/log/dhcp.jsonl' --probe-time 1"
cf_wait_until 15 grep -q "serving on s0" "$(cf_server_log dhcpd)" ||
  cf_fail "cisco-dhcpd did not start as nobody with $(unit_caps cisco-dhcpd): $(cat "$(cf_server_log dhcpd)")"
cf_netns_exec pkg-dhcpc timeout 30 busybox udhcpc -i c0 -n -q -f -t 5 -T 1 -s /bin/true \
  -V "Cisco Systems, Inc. IP Phone CP-7960G" >"$work/srv/udhcpc.log" 2>&1 ||
  cf_fail "udhcpc got no lease from the unprivileged cisco-dhcpd: $(cat "$work/srv/udhcpc.log")"
cf_wait_until 5 grep -q '"event":"ack"' "$work/srv/log/dhcp.jsonl" || cf_fail "no ack event"
grep -q "packet socket" "$(cf_server_log dhcpd)" &&
  cf_fail "cisco-dhcpd lacks a capability for its packet sockets: $(grep "packet socket" "$(cf_server_log dhcpd)")"
[[ -s "$work/srv/state/leases" ]] || cf_fail "cisco-dhcpd wrote no lease file as nobody"
cf_assert_eq "nobody cisco-dhcpd" "$(ps -o user=,comm= -p "$(cf_server_pid dhcpd)" | tr -s " ")" "who serves"
cf_server_stop dhcpd
echo "   cisco-tftpd ($(unit_caps cisco-tftpd)) and cisco-dhcpd ($(unit_caps cisco-dhcpd)) served as nobody"

echo "== 5. apt-get purge ciscoflash"
# What the units and Python would have made in use: systemd makes a DynamicUser
# unit's StateDirectory/LogsDirectory under private/ with a link beside it (no
# systemd runs here to start them), Python writes byte code beside the simulator
# when run without PYTHONDONTWRITEBYTECODE.
made_private=()
for base in /var/lib /var/log; do
  [[ -d "$base/private" ]] || { made_private+=("$base/private"); install -d -m 0700 "$base/private"; }
done
for unit in cisco-dhcpd cisco-tftpd; do
  for base in /var/lib /var/log; do
    [[ $base == /var/lib && $unit == cisco-tftpd ]] && continue
    mkdir -p "$base/private/$unit"
    touch "$base/private/$unit/$([[ $base == /var/lib ]] && echo cisco-dhcpd.leases || echo events.jsonl)"
    ln -sfn "private/$unit" "$base/$unit"
  done
done
# The installed simulator verifies signatures and identifies loads as in the tree.
installed python3 -c 'import sys; sys.path.insert(0, "/usr/share/ciscoflash/lab/phonesim"); import phonesimlib.cli; from phonesimlib import firmware as f; sys.exit(0 if f.FWSIG and f.GENERATOR else "fwsig.py or make-firmware not found")'
[[ -n "$(find /usr/share/ciscoflash -name __pycache__)" ]] || cf_fail "python3 wrote no byte code (the check below would prove nothing)"
apt_get purge ciscoflash >"$work/purge.log" 2>&1 || { cat "$work/purge.log" >&2; cf_fail "apt-get purge failed"; }
dpkg-query -W -f='${Status}' ciscoflash 2>/dev/null | grep -q "installed\|config-files" && cf_fail "ciscoflash still known to dpkg"
while read -r path; do
  canonical=$(realpath -m "$path")
  [[ -d "$canonical" ]] && grep -qxF "$canonical" "$work/before" && continue
  [[ ! -e "$canonical" && ! -L "$canonical" ]] || cf_fail "$path is left after the purge"
done <"$work/files"
# systemd's private/ parents are systemd's, not the package's: gone only if we made them.
for dir in "${made_private[@]}"; do
  rmdir "$dir" || cf_fail "$dir is not empty after the purge: $(ls -A "$dir")"
done
snapshot >"$work/after"
dpkg-query -W -f='${Package}\n' | sort >"$work/packages-after"
# Files of packages apt installed as dependencies stay, and are theirs.
comm -13 "$work/before" "$work/after" >"$work/new" || true
leftovers=()
while read -r path; do
  [[ -z "$path" ]] && continue
  dpkg-query -S "$path" >/dev/null 2>&1 && continue
  leftovers+=("$path")
done <"$work/new"
((${#leftovers[@]} == 0)) || cf_fail "left behind after the purge: ${leftovers[*]}"
echo "   purged: nothing left; packages apt added as dependencies: $(comm -13 "$work/packages-before" "$work/packages-after" | tr '\n' ' ')"
echo "package: passed in $((SECONDS - start)) s"

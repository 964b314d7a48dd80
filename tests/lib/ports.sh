# shellcheck shell=bash
# tests/lib/ports.sh - free UDP/TCP ports on the loopback for tests.
#
#   source tests/lib/ports.sh
#   port="$(cf_free_port --udp)"            # e.g. 23817
#   read -r p1 p2 < <(cf_free_ports 2 --both | xargs)
#
# How races are kept away:
#   * ports are drawn at random from CF_PORT_RANGE (default 20000-32000),
#     below the kernel's ephemeral range (32768-60999 by default), so the
#     ports the kernel hands to clients (bind to port 0) never collide;
#   * each port handed out is reserved with an atomic mkdir of
#     CF_PORT_LOCK_DIR/PORT (default /tmp/cf-port-locks), owned by the test
#     shell (pid + start time), so parallel tests (ctest -j) using these
#     helpers never get the same port; the reservation is dropped at exit,
#     and reservations of dead tests are taken over;
#   * the port is checked bindable (bind() succeeds) on the host address
#     for the requested protocols at the moment it is handed out.
# What is left: an unrelated program could still bind the port between the
# check and the server's own bind. Servers that can report the port they
# bound (bind to 0) avoid even that; tests/tools/lossy-relay does
# (--listen 127.0.0.1:0 --ready-file FILE).
#
# Inside a network namespace made by netns.sh every port is free; there is no
# need for these helpers.

if [[ -n "${_CF_PORTS_SH_LOADED:-}" ]]; then
  return 0
fi
_CF_PORTS_SH_LOADED=1

# shellcheck source=SCRIPTDIR/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

# cf_free_ports COUNT [--udp | --tcp | --both] [--host ADDR]
# Print COUNT distinct free ports, one a line, each reserved until exit.
# Default: --udp on 127.0.0.1. --both: free for UDP and TCP at once.
cf_free_ports() {
  local count="${1:-}" proto=udp host=127.0.0.1
  if [[ ! "$count" =~ ^[1-9][0-9]*$ ]]; then
    cf_info "usage: cf_free_ports COUNT [--udp|--tcp|--both] [--host ADDR]"
    return 2
  fi
  shift
  while (($#)); do
    case "$1" in
      --udp) proto=udp; shift ;;
      --tcp) proto=tcp; shift ;;
      --both) proto=both; shift ;;
      --host) host="$2"; shift 2 ;;
      *) cf_info "cf_free_ports: unknown option $1"; return 2 ;;
    esac
  done
  local range="${CF_PORT_RANGE:-20000-32000}"
  if [[ ! "$range" =~ ^([0-9]+)-([0-9]+)$ ]]; then
    cf_info "CF_PORT_RANGE must look like 20000-32000 (got ${range})"
    return 2
  fi
  local owner_start output port lock
  owner_start="$(_cf_proc_starttime "${_CF_OWNER_PID}")" || owner_start=0
  output="$(python3 - "$count" "$proto" "$host" "${BASH_REMATCH[1]}" "${BASH_REMATCH[2]}" \
    "${CF_PORT_LOCK_DIR:-/tmp/cf-port-locks}" "${_CF_OWNER_PID}" "$owner_start" <<'PYTHON'
import os, random, shutil, socket, sys, time

count, proto, host, low, high, lock_root, owner_pid, owner_start = sys.argv[1:9]
count, low, high = int(count), int(low), int(high)
if not (1024 <= low <= high <= 65535) or high - low + 1 < count:
    sys.exit("cf_free_ports: bad port range %d-%d" % (low, high))
try:
    os.makedirs(lock_root, exist_ok=True)
    if os.stat(lock_root).st_uid == os.getuid():
        os.chmod(lock_root, 0o1777)
except OSError as error:
    sys.exit("cf_free_ports: cannot use lock directory %s: %s" % (lock_root, error))


def start_time(pid):
    try:
        with open("/proc/%s/stat" % pid) as stat:
            return stat.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def owner_alive(lock):
    try:
        with open(os.path.join(lock, "owner")) as owner:
            pid, start = owner.read().split()
    except (OSError, ValueError):
        # Being written right now, or its writer died: stale once it is old.
        try:
            return time.time() - os.stat(lock).st_mtime < 10
        except OSError:
            return False
    return start_time(pid) == start


def take_lock(port):
    lock = os.path.join(lock_root, str(port))
    try:
        os.mkdir(lock)
    except FileExistsError:
        if owner_alive(lock):
            return None
        stale = "%s.stale.%d.%d" % (lock, os.getpid(), random.getrandbits(32))
        try:
            os.rename(lock, stale)
            shutil.rmtree(stale, ignore_errors=True)
            os.mkdir(lock)
        except OSError:
            return None
    except OSError:
        return None
    with open(os.path.join(lock, "owner"), "w") as owner:
        owner.write("%s %s\n" % (owner_pid, owner_start))
    return lock


def bindable(port):
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    kinds = {"udp": [socket.SOCK_DGRAM], "tcp": [socket.SOCK_STREAM],
             "both": [socket.SOCK_DGRAM, socket.SOCK_STREAM]}[proto]
    for kind in kinds:
        with socket.socket(family, kind) as sock:
            try:
                sock.bind((host, port))
            except OSError:
                return False
    return True


# Drop the reservations of tests that died without cleaning up.
for name in os.listdir(lock_root):
    path = os.path.join(lock_root, name)
    if name.isdigit() and not owner_alive(path):
        shutil.rmtree(path, ignore_errors=True)

rng = random.SystemRandom()
chosen = []
for _ in range(2000):
    if len(chosen) == count:
        break
    port = rng.randint(low, high)
    if any(port == p for p, _ in chosen):
        continue
    lock = take_lock(port)
    if lock is None:
        continue
    if not bindable(port):
        shutil.rmtree(lock, ignore_errors=True)
        continue
    chosen.append((port, lock))
for port, lock in chosen:
    print("%d\t%s" % (port, lock))
if len(chosen) < count:
    sys.exit("cf_free_ports: found only %d of %d free ports in %d-%d" % (len(chosen), count, low, high))
PYTHON
  )" || return 1
  while IFS=$'\t' read -r port lock; do
    [[ -n "$port" ]] || continue
    _cf_journal_add portlock "$lock"
    printf '%s\n' "$port"
  done <<<"$output"
}

# cf_free_port [--udp | --tcp | --both] [--host ADDR] : print one free port.
cf_free_port() {
  cf_free_ports 1 "$@"
}

# cf_release_port PORT : drop the reservation early (normally done at exit).
cf_release_port() {
  local lock="${CF_PORT_LOCK_DIR:-/tmp/cf-port-locks}/$1" owner_pid=""
  read -r owner_pid _ <"${lock}/owner" 2>/dev/null || true
  if [[ "$owner_pid" == "${_CF_OWNER_PID}" ]]; then
    rm -rf -- "$lock"
  fi
}

# shellcheck shell=bash
# Shared setup for the cisco-tftpd tests: helpers, the binary, a server on a
# free loopback port.
set -euo pipefail
source "${CF_SOURCE_DIR:?}/tests/lib/server.sh"
source "${CF_SOURCE_DIR}/tests/lib/ports.sh"
TFTPD="${CF_BIN_DIR:?}/cisco-tftpd"
[[ -x "$TFTPD" ]] || cf_fail "no cisco-tftpd at $TFTPD"
# CF_TFTPD_IO=epoll|uring|auto runs every tftpd test on that I/O backend
# (--io); unset, the server picks (auto).
TFTPD_IO_ARGS=()
[[ -n "${CF_TFTPD_IO:-}" ]] && TFTPD_IO_ARGS=(--io "$CF_TFTPD_IO")

# tftpd_start NAME ARGS... : start cisco-tftpd on 127.0.0.1:<free port> with
# ARGS (at least --root); sets PORT and waits until it is bound.
tftpd_start() {
  local name="$1"
  shift
  PORT="$(cf_free_port --udp)"
  cf_server_start "$name" -- "$TFTPD" --listen "127.0.0.1:${PORT}" --view log --verbose \
    "${TFTPD_IO_ARGS[@]}" "$@"
  cf_server_wait_ready "$name" --udp "$PORT" --timeout 10 || cf_fail "cisco-tftpd did not start"
  # Which backend this run exercises, for whoever reads the test log.
  cf_info "$(grep -o '(io [^,]*' "$(cf_server_log "$name")" | head -1 | tr -d '(')"
}

# need_client CMD PACKAGE : skip unless CMD is installed.
need_client() {
  command -v "$1" >/dev/null || cf_skip "$1 (package $2) is not installed"
}

# random_file PATH BYTES : a file of random bytes.
random_file() {
  head -c "$2" /dev/urandom >"$1"
}

# shellcheck shell=bash
# Shared setup for the fwunpack tests: the helpers, the binary, the fixtures.
set -euo pipefail
source "${CF_SOURCE_DIR:?}/tests/lib/common.sh"
FWUNPACK="${CF_BIN_DIR:?}/fwunpack"
[[ -x "$FWUNPACK" ]] || cf_fail "no fwunpack at $FWUNPACK"
export CISCOFLASH_DATA="${CISCOFLASH_DATA:-${CF_SOURCE_DIR}/data}"

# fw_fixtures [ARGS...] : generate fixtures (scale 0.02 unless ARGS say otherwise), print OUT.
fw_fixtures() {
  local out
  out="$(cf_tmpdir fixtures)/out"
  python3 "${CF_SOURCE_DIR}/tests/fixtures/make-firmware" -q --scale 0.02 "$@" "$out" >&2
  printf '%s\n' "$out"
}

# fw_assert_empty DIR : nothing in DIR (no files, no .fwunpack-* temp dirs) but
# the lock file, which stays (removing a lock file lets two runs lock two files).
fw_assert_empty() {
  local left
  left="$(ls -A "$1" | grep -vx '\.fwunpack\.lock' || true)"
  [[ -z "$left" ]] || cf_fail "$1 is not empty: $left"
}

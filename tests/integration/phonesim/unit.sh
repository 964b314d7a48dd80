#!/usr/bin/env bash
# The phone simulator's own unit tests (parsers, and whole upgrade chains with
# fake DHCP/TFTP), run through ctest.
set -euo pipefail
cd "$CF_SOURCE_DIR/tests/phonesim"
python3 -m unittest -q 2>&1 | tail -5

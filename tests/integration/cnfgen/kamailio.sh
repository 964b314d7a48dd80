#!/usr/bin/env bash
# cnfgen kamailio against the real Kamailio 5.6 (Debian package kamailio): the
# db_text tables it writes are accepted by `kamailio -c`, loaded by a running
# registrar on 127.0.0.1 (own port, runtime dir, pid file), and sipsak, a SIP client
# we did not write, registers with the right password (200, binding in Kamailio's
# own table) and is refused with a wrong one (403). Once against the ha1 column
# (calculate_ha1 0), once against the plain password column (calculate_ha1 1).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=../../lib/server.sh
source "${CF_SOURCE_DIR:-${here}/../../..}/tests/lib/server.sh"
# shellcheck source=../../lib/ports.sh
source "${CF_SOURCE_DIR:-${here}/../../..}/tests/lib/ports.sh"
command -v cnfgen >/dev/null || cf_fail "cnfgen not on PATH"
command -v kamailio >/dev/null || cf_skip "kamailio missing (apt-get install kamailio)"
command -v kamcmd >/dev/null || cf_skip "kamcmd missing (package kamailio)"
command -v sipsak >/dev/null || cf_skip "sipsak missing (apt-get install sipsak)"

work="$(cf_tmpdir kamailio)"
# A 79x1 with ':' in its password (db_text's column separator), a 7960 with the
# 32-character password a real SIP<MAC>.cnf uses, on two line keys.
printf '%s\t%s\t%s\t%s\t%s\n' \
  001a2b3c4d61 7961 1001 'pw:61&x' 'Front Desk' \
  001a2b3c4d60 7960 1002 1ecc835fe9c5f80c018a69d1257df5e3 Lab \
  001a2b3c4d60 7960 1003 second-line Lab2 >"${work}/phones.tsv"
mkdir "${work}/db"
cnfgen kamailio --phones "${work}/phones.tsv" --domain 127.0.0.1 -o "${work}/db"
cf_assert_eq "$(ls "${work}/db" | tr '\n' ' ')" "subscriber version " "db_text files"
cf_assert_eq "$(stat -c %a "${work}/db/subscriber")" 640 "subscriber holds secrets"

registrar() {  # registrar CALCULATE_HA1 PASSWORD_COLUMN
  local calc="$1" column="$2" run="${work}/run-$1" port
  port="$(cf_free_port --both --host 127.0.0.1)"
  mkdir -p "$run"
  sed -e "s|@PORT@|${port}|" -e "s|@DBDIR@|${work}/db|" -e "s|@RUNDIR@|${run}|" \
    -e "s|@CALCULATE_HA1@|${calc}|" -e "s|@PASSWORD_COLUMN@|${column}|" \
    "${here}/kamailio-registrar.cfg" >"${run}/kamailio.cfg"
  kamailio -c -f "${run}/kamailio.cfg" -Y "$run" >"${run}/check.log" 2>&1 \
    || { cat "${run}/check.log" >&2; cf_fail "kamailio -c refused the registrar config"; }

  cf_server_start "kamailio-${calc}" -- kamailio -DD -E -m 32 -M 4 -f "${run}/kamailio.cfg" \
    -Y "$run" -P "${run}/kamailio.pid"
  cf_server_wait_ready "kamailio-${calc}" --timeout 20 --udp "$port" --tcp "$port" \
    || cf_fail "kamailio did not start"

  local rc out
  register() {  # register TRANSPORT USER PASSWORD: sipsak's exit code, output in $out
    rc=0
    out="$(sipsak -U -E "$1" -s "sip:$2@127.0.0.1:${port}" -u "$2" -a "$3" -vv 2>&1)" || rc=$?
  }
  register udp 1001 'pw:61&x'
  cf_assert_eq "$rc" 0 "1001 with its password over UDP (ha1 from ${column}): ${out}"
  register tcp 1002 1ecc835fe9c5f80c018a69d1257df5e3
  cf_assert_eq "$rc" 0 "1002 with its 32-character password over TCP: ${out}"
  register udp 1003 second-line
  cf_assert_eq "$rc" 0 "1003, the 7960's second line: ${out}"
  register udp 1001 'pw:62&x'
  cf_assert_eq "$rc" 1 "1001 with a wrong password"
  cf_assert_contains "$out" "403 Forbidden"
  register tcp 1002 1ecc835fe9c5f80c018a69d1257df5e
  cf_assert_eq "$rc" 1 "1002 with its password cut short"
  cf_assert_contains "$out" "403 Forbidden"

  # The registrar's own view: bindings for exactly the three AoRs that authenticated.
  local dump
  dump="$(kamcmd -s "unix:${run}/kamailio_ctl" ul.dump)"
  cf_assert_eq "$(grep -o 'AoR: [0-9]*' <<<"$dump" | sort | tr '\n' ' ')" \
    "AoR: 1001 AoR: 1002 AoR: 1003 " "registered AoRs (calculate_ha1 ${calc})"
  cf_server_stop "kamailio-${calc}"
}
registrar 0 ha1
registrar 1 password

echo "cnfgen kamailio: Kamailio loads the tables; sipsak 200 with the right password, 403 with a wrong one"

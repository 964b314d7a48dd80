# shellcheck shell=bash
# Shared setup for the registrar tests: the repo's Kamailio config
# (data/kamailio-registrar.cfg) on 127.0.0.1, a free high port, its own runtime
# dir, pid file and control socket, and a db_text directory of subscribers.
set -euo pipefail
source "${CF_SOURCE_DIR:?}/tests/lib/server.sh"
source "${CF_SOURCE_DIR}/tests/lib/ports.sh"
PATH="$PATH:/usr/sbin:/sbin"
REGISTRAR_CFG="$CF_SOURCE_DIR/data/kamailio-registrar.cfg"
command -v kamailio >/dev/null || cf_skip "kamailio (package kamailio) is not installed"
command -v kamcmd >/dev/null || cf_skip "kamcmd (package kamailio) is not installed"

md5() { printf '%s' "$1" | md5sum | cut -d' ' -f1; }

# write_subscribers DIR REALM USER:PASSWORD... : a db_text database with the
# `version` and `subscriber` tables.
# FIXTURE: written here in the layout `cnfgen kamailio` is to produce (columns
# username, domain, password, ha1, ha1b); switch to cnfgen's output once it exists.
write_subscribers() {
  local dir=$1 realm=$2 entry user password
  shift 2
  mkdir -p "$dir"
  printf 'table_name(str) table_version(int)\nsubscriber:7\n' >"$dir/version"
  {
    printf 'username(str) domain(str) password(str) ha1(str) ha1b(str)\n'
    for entry in "$@"; do
      user=${entry%%:*} password=${entry#*:}
      printf '%s:%s:%s:%s:%s\n' "$user" "$realm" "$password" \
        "$(md5 "$user:$realm:$password")" "$(md5 "$user@$realm:$realm:$password")"
    done
  } >"$dir/subscriber.new"
  # db_text re-reads a table when its mtime changes, in whole seconds: move the
  # mtime past the old file's, so a rewrite within the same second is seen.
  if [[ -e "$dir/subscriber" ]]; then
    touch -d "@$(($(stat -c %Y "$dir/subscriber") + 2))" "$dir/subscriber.new"
  fi
  mv "$dir/subscriber.new" "$dir/subscriber"
}

# registrar_start NAME DBDIR [EXTRA -A DEFINES...] : check the config with
# `kamailio -c`, then run it in the foreground on 127.0.0.1:$SIP_PORT (free for
# UDP and TCP); sets SIP_PORT and CTL (for kamcmd -s) and waits until both
# sockets and the control socket are up.
registrar_start() {
  local name=$1 db=$2 run
  shift 2
  run=$(cf_tmpdir "$name-run")
  SIP_PORT=$(cf_free_port --both)
  CTL="unix:$run/kamailio_ctl"
  local -a args=(-f "$REGISTRAR_CFG" -Y "$run" -A "LISTEN_IP=127.0.0.1" -A "SIP_PORT=$SIP_PORT"
                 -A 'REALM="127.0.0.1"' -A "DB_URL=\"text://$db\"" -A "CTL_SOCKET=\"$CTL\""
                 -A "REG_MIN_EXPIRES=2")
  local define
  for define in "$@"; do args+=(-A "$define"); done
  kamailio -c "${args[@]}" >"$run/check.log" 2>&1 || { cat "$run/check.log" >&2; cf_fail "kamailio -c refused the config"; }
  cf_server_start "$name" -- kamailio "${args[@]}" -DD -E -P "$run/kamailio.pid"
  cf_server_wait_ready "$name" --udp "$SIP_PORT" --tcp "$SIP_PORT" --timeout 15 \
    --probe test -S "$run/kamailio_ctl" || cf_fail "kamailio did not start"
}

# registrar_contacts : the live contacts in the registrar's own table (kamcmd
# ul.dump), "AOR CONTACT EXPIRES" a line (as the lab's registrar-dump prints them).
registrar_contacts() {
  kamcmd -s "$CTL" ul.dump | awk '
    $1 == "AoR:" { aor = $2 }
    $1 == "Address:" { contact = $2 }
    $1 == "Expires:" && (($2 ~ /^[0-9]+$/ && $2 > 0) || $2 == "permanent") { print aor, contact, $2 }'
}

# sip_cnf_value FILE KEY : a value of a 7940/7960 SIP .cnf file, quotes removed.
sip_cnf_value() {
  sed -n -E "s/^$2[[:space:]]*:[[:space:]]*\"?([^\";]*)\"?.*/\\1/p" "$1" | head -n 1
}

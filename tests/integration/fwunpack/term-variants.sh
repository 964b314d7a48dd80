#!/usr/bin/env bash
# Issue 16 item 4: fwunpack keeps every term*.default.loads variant under
# ROOT/.term/<LOAD>/ (byte for byte the generator's, one per load it ships with),
# serves none of them (cisco-tftpd refuses the hidden path), lists none as a load
# (manifest, --verify, a root read back as input), and --set-term puts the one
# the migration chose into the root by rename: exit 0 with "term FILE LOAD", 1
# without a kept variant / term file / family match, 2 on usage, 3 when the kept
# variant no longer lists the load's components.
source "$(dirname "$0")/_lib.sh"
source "${CF_SOURCE_DIR}/tests/lib/server.sh"
source "${CF_SOURCE_DIR}/tests/lib/ports.sh"

out="$(fw_fixtures --load SCCP41.8-2-2SR2S --load SCCP41.8-5-2S --load SIP41.8-5-2S --load SIP41.9-4-2SR3-1S)"
tmp="$(cf_tmpdir fwunpack-term)"
root="$tmp/root"; mkdir "$root"

"$FWUNPACK" "$out"/*.zip -C "$root" >"$tmp/manifest.tsv" 2>"$tmp/install.err" ||
  cf_fail "install: $(cat "$tmp/install.err")"
cf_assert_contains "$(cat "$tmp/install.err")" "kept 8 term file variant(s) under $root/.term"
# Today's default stays: the newest load's variant in the root.
cf_assert_eq "$(cf_sha256 "$root/.term/SIP41.9-4-2SR3-1S/term61.default.loads")" \
  "$(cf_sha256 "$root/term61.default.loads")" "the root's term61 is the newest load's"

# Each kept file is the generator's variant for that load, and nothing else is kept.
python3 - "$out/expected.json" "$root" <<'PY'
import hashlib, json, os, sys
expected, root = json.load(open(sys.argv[1])), sys.argv[2]
want = {}
for archive in expected["archives"]:
    for load in archive["loads"]:
        for term in load["term_files"]:
            want[f"{load['load']}/{term['name']}"] = term["sha256"]
got = {}
for load in os.listdir(os.path.join(root, ".term")):
    for name in os.listdir(os.path.join(root, ".term", load)):
        got[f"{load}/{name}"] = hashlib.sha256(open(os.path.join(root, ".term", load, name), "rb").read()).hexdigest()
assert len(want) == 8, want
assert got == want, (sorted(got), sorted(want))
PY

# Not a load anywhere: 4 loads + 2 recovery rows in the manifest and in --verify.
cf_assert_eq 6 "$(grep -vc '^#' "$tmp/manifest.tsv")" "manifest rows"
"$FWUNPACK" --verify "$root" >"$tmp/verify.tsv" 2>"$tmp/verify.err" || cf_fail "--verify: $(cat "$tmp/verify.err")"
cf_assert_eq "$(cat "$tmp/manifest.tsv")" "$(cat "$tmp/verify.tsv")" "--verify lists what the install did"
if grep -q '\.term' "$tmp/verify.tsv" "$tmp/verify.err"; then cf_fail "--verify mentions .term"; fi
"$FWUNPACK" --verify "$root" --json >"$tmp/verify.json" 2>/dev/null || cf_fail "--verify --json"
cf_assert_eq 6 "$(wc -l <"$tmp/verify.json")" "--verify --json rows"
if grep -q '\.term' "$tmp/verify.json"; then cf_fail "--verify --json mentions .term"; fi
# The root read back as an input takes no kept variant along.
"$FWUNPACK" --list "$root" >"$tmp/list.tsv" 2>/dev/null || cf_fail "--list of the root"
cf_assert_eq 1 "$(awk -F'\t' '$1 == "term61.default.loads"' "$tmp/list.tsv" | wc -l)" "term61 listed once"
# A second install changes nothing, .term included.
before="$(cd "$root" && find . -printf '%p %i %s\n' | sort)"
"$FWUNPACK" "$out"/*.zip -C "$root" >/dev/null 2>"$tmp/again.err" || cf_fail "second install: $(cat "$tmp/again.err")"
cf_assert_eq "$before" "$(cd "$root" && find . -printf '%p %i %s\n' | sort)" "second install touched a file"

# cisco-tftpd serves the root's term file, never a kept one.
port="$(cf_free_port --udp)"
cf_server_start tftpd -- "${CF_BIN_DIR}/cisco-tftpd" --listen "127.0.0.1:${port}" --root "$root"
cf_server_wait_ready tftpd --udp "$port" --timeout 10 || cf_fail "cisco-tftpd did not start"
python3 - "$port" <<'PY'
import socket, sys
port = int(sys.argv[1])
def first_packet(name):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(5)
    s.sendto(b"\x00\x01" + name + b"\x00octet\x00", ("127.0.0.1", port))
    data, _ = s.recvfrom(2048)
    return data[:2]
assert first_packet(b"term61.default.loads") == b"\x00\x03", "the root's term file is not served"
for name in (b".term/SCCP41.8-5-2S/term61.default.loads", b"/.term/SIP41.9-4-2SR3-1S/term41.default.loads",
             b".term\\SCCP41.8-5-2S\\term61.default.loads"):
    assert first_packet(name) == b"\x00\x05", f"{name} was not refused"
PY
cf_server_stop tftpd

# --set-term: the kept variant by rename (an open reader keeps the old inode).
ln "$root/term61.default.loads" "$tmp/old-term61"
old_sum="$(cf_sha256 "$tmp/old-term61")"
line="$("$FWUNPACK" --set-term SCCP41.8-5-2S --model 7961 -C "$root")" || cf_fail "--set-term exited $?"
cf_assert_eq $'term\tterm61.default.loads\tSCCP41.8-5-2S' "$line" "--set-term output"
cf_assert_eq "$(cf_sha256 "$root/.term/SCCP41.8-5-2S/term61.default.loads")" "$(cf_sha256 "$root/term61.default.loads")" \
  "term61 is now the 8.5(2) variant"
cf_assert_eq "$old_sum" "$(cf_sha256 "$tmp/old-term61")" "the old inode kept its bytes"
cf_assert_ne "$(stat -c %i "$tmp/old-term61")" "$(stat -c %i "$root/term61.default.loads")"
# The term file of the 7941 is untouched; the manifest now points term61 at 8.5(2).
cf_assert_eq "$(cf_sha256 "$root/.term/SIP41.9-4-2SR3-1S/term41.default.loads")" "$(cf_sha256 "$root/term41.default.loads")"
"$FWUNPACK" --verify "$root" >"$tmp/verify2.tsv" 2>/dev/null || cf_fail "--verify after --set-term"
cf_assert_eq $'SCCP\t7941-7961\t7961\t8.5(2)' "$(awk -F'\t' '$1 == "term61.default" {print $2"\t"$3"\t"$4"\t"$5}' "$tmp/verify2.tsv")" \
  "--verify: term61 names 8.5(2)"
line="$("$FWUNPACK" --set-term SCCP41.8-5-2S --model 7961 -C "$root" --json 2>"$tmp/same.err")" || cf_fail "again"
cf_assert_eq '{"term":"term61.default.loads","load":"SCCP41.8-5-2S"}' "$line" "--set-term --json"
cf_assert_contains "$(cat "$tmp/same.err")" "already names SCCP41.8-5-2S"
left="$(find "$root" -maxdepth 1 -name '.fwunpack-*')"
[[ -z "$left" ]] || cf_fail "staging left behind: $left"

# expect_rc RC MESSAGE ARGS... : fwunpack ARGS exits RC, stderr contains MESSAGE, the root's term files unchanged.
expect_rc() {
  local want="$1" message="$2" rc=0 sums
  shift 2
  sums="$(cf_sha256 "$root/term61.default.loads") $(cf_sha256 "$root/term41.default.loads")"
  "$FWUNPACK" "$@" >"$tmp/rc.out" 2>"$tmp/rc.err" || rc=$?
  [[ "$rc" == "$want" ]] || cf_fail "fwunpack $* exited $rc, expected $want: $(cat "$tmp/rc.err")"
  cf_assert_contains "$(cat "$tmp/rc.err")" "$message"
  [[ ! -s "$tmp/rc.out" ]] || cf_fail "fwunpack $* printed $(cat "$tmp/rc.out")"
  cf_assert_eq "$sums" "$(cf_sha256 "$root/term61.default.loads") $(cf_sha256 "$root/term41.default.loads")" \
    "fwunpack $* changed a term file"
}
expect_rc 1 "the 7960 has no term file" --set-term SCCP41.8-5-2S --model 7960 -C "$root"
expect_rc 1 "is a load of 7940-7960, but the 7961 belongs to 7941-7961" --set-term P00308000900 --model 7961 -C "$root"
expect_rc 1 "not a model in the catalog" --set-term SCCP41.8-5-2S --model 7999 -C "$root"
# A load in the root whose variant was not kept (installed by hand): name the archive.
cp "$root/SCCP41.8-5-2S.loads" "$root/SCCP41.8-5-2SR1S.loads"
expect_rc 1 "unpack cmterm-7941_7961-sccp.8-5-2SR1.zip into $root" --set-term SCCP41.8-5-2SR1S --model 7961 -C "$root"
rm "$root/SCCP41.8-5-2SR1S.loads"
expect_rc 1 "unpack cmterm-7941_7961-sccp.8-4-2.zip into $root" --set-term SCCP41.8-4-2S --model 7961 -C "$root"
# Kept, but the load in the root lost a file: a reset phone must not be sent there.
mv "$root/jar41sccp.8-5-2TH1-9.sbn" "$tmp/"
expect_rc 3 "SCCP41.8-5-2S is not complete in $root (jar41sccp.8-5-2TH1-9.sbn is missing)" \
  --set-term SCCP41.8-5-2S --model 7961 -C "$root"
mv "$tmp/jar41sccp.8-5-2TH1-9.sbn" "$root/"
# A kept variant that lists other components than its load: refused.
cp "$root/.term/SIP41.9-4-2SR3-1S/term61.default.loads" "$tmp/saved"
cp "$root/.term/SCCP41.8-2-2SR2S/term61.default.loads" "$root/.term/SIP41.9-4-2SR3-1S/term61.default.loads"
expect_rc 3 "refusing to install it" --set-term SIP41.9-4-2SR3-1S --model 7961 -C "$root"
cp "$tmp/saved" "$root/.term/SIP41.9-4-2SR3-1S/term61.default.loads"
expect_rc 2 "--set-term requires --model" --set-term SCCP41.8-5-2S -C "$root"
expect_rc 2 "--set-term needs the root" --set-term SCCP41.8-5-2S --model 7961
expect_rc 2 "--set-term takes a load, not input archives" --set-term SCCP41.8-5-2S --model 7961 -C "$root" "$out"/*.zip
expect_rc 2 "excludes" --set-term SCCP41.8-5-2S --model 7961 --verify "$root"
"$FWUNPACK" --set-term SIP41.9-4-2SR3-1S --model 7961 -C "$root" >/dev/null 2>&1 || cf_fail "back to 9.4(2)SR3"
cf_assert_eq "$(cf_sha256 "$tmp/saved")" "$(cf_sha256 "$root/term61.default.loads")" "term61 back to the target's"

# --no-root-term: the variants are kept, the root gets no term file to choose from.
bare="$tmp/bare"; mkdir "$bare"
"$FWUNPACK" --no-root-term "$out"/*.zip -C "$bare" >/dev/null 2>&1 || cf_fail "--no-root-term install"
[[ -z "$(find "$bare" -maxdepth 1 -name 'term*')" ]] || cf_fail "--no-root-term put a term file into the root"
cf_assert_eq 8 "$(find "$bare/.term" -type f | wc -l)" "variants kept with --no-root-term"
"$FWUNPACK" --set-term SCCP41.8-5-2S --model 7961 -C "$bare" >/dev/null || cf_fail "--set-term after --no-root-term"
cf_assert_file_exists "$bare/term61.default.loads"
cf_info "kept variants, served none, --set-term and its refusals checked"

#!/usr/bin/env bash
# Every good fixture archive: installed, manifest checked field by field against
# expected.json, files byte-identical; a second run changes nothing; --verify
# passes, and fails (exit 3) once a file is damaged.
source "$(dirname "$0")/_lib.sh"
out="$(fw_fixtures)"
tmp="$(cf_tmpdir fwunpack)"

python3 - "$out" "$FWUNPACK" "$tmp" <<'PY'
import json, os, subprocess, sys, hashlib
out, fwunpack, tmp = sys.argv[1:]
expected = json.load(open(os.path.join(out, "expected.json")))
good = [a for a in expected["archives"] if a["kind"] == "good"]
assert len(good) >= 30, len(good)
failures = []
for archive in good:
    root = os.path.join(tmp, "root-" + archive["name"].replace("/", "_"))
    os.mkdir(root)
    run = subprocess.run([fwunpack, os.path.join(out, archive["name"]), "-C", root, "--json"],
                         capture_output=True, text=True)
    if run.returncode != 0:
        failures.append(f"{archive['name']}: exit {run.returncode}: {run.stderr}")
        continue
    rows = {r["load"]: r for r in map(json.loads, run.stdout.splitlines())}
    wanted = set()
    for load in archive["loads"]:
        wanted.add(load["load"])
        row = rows.get(load["load"])
        if row is None:
            failures.append(f"{archive['name']}: no manifest row for {load['load']}"); continue
        want = {"protocol": load["protocol"], "family": load["family"],
                "models": ",".join(str(m) for m in load["models"]), "version": load["version"],
                "dir": os.path.realpath(root), "files": len(load["files"]), "bytes": load["bytes"]}
        for field, value in want.items():
            if row[field] != value:
                failures.append(f"{archive['name']}: {load['load']}: {field} is {row[field]!r}, want {value!r}")
        for record in load["files"] + load["term_files"]:
            path = os.path.join(root, record["name"])
            if not os.path.isfile(path):
                failures.append(f"{archive['name']}: {record['name']} not installed"); continue
            if record["role"] != "term" and hashlib.sha256(open(path, "rb").read()).hexdigest() != record["sha256"]:
                failures.append(f"{archive['name']}: {record['name']} differs from the generator's")
        for term in load["term_files"]:
            if not any(r["load"] + ".loads" == term["name"] for r in rows.values()):
                failures.append(f"{archive['name']}: recovery load {term['name']} not reported")
            # a single-load archive installs its own term file, byte for byte
            if len(archive["loads"]) == 1:
                got = hashlib.sha256(open(os.path.join(root, term["name"]), "rb").read()).hexdigest()
                if got != term["sha256"]:
                    failures.append(f"{archive['name']}: {term['name']} differs from the generator's")
    apps = {name for name, r in rows.items() if not name.startswith("term")}
    if apps != wanted:
        failures.append(f"{archive['name']}: loads {sorted(apps)}, want {sorted(wanted)}")
    for extra in archive.get("extra_files", []):
        present = os.path.exists(os.path.join(root, extra["name"]))
        if present != (extra["role"] == "os79xx"):
            failures.append(f"{archive['name']}: {extra['name']} present={present}")
    leftovers = [n for n in os.listdir(root) if n.startswith(".fwunpack-")]
    if leftovers:
        failures.append(f"{archive['name']}: staging left behind: {leftovers}")
if failures:
    print("\n".join(failures)); sys.exit(1)
print(f"{len(good)} archives installed and checked")
PY

# Everything into one root; then the same again changes nothing.
root="$tmp/all"
mkdir "$root"
mapfile -t archives < <(cd "$out" && ls -1 *.zip *.tar *.tar.gz *.tgz *.cop *.cop.sgn | sed "s|^|$out/|")
"$FWUNPACK" "${archives[@]}" -C "$root" >"$tmp/first.tsv" 2>"$tmp/first.err" || cf_fail "first install: $(cat "$tmp/first.err")"
loads="$(grep -vc '^#' "$tmp/first.tsv")"
cf_assert_eq 37 "$loads" "manifest rows (29 loads + 8 recovery loads)"
before="$(cd "$root" && find . -printf '%p %i %s\n' | sort)"
"$FWUNPACK" "${archives[@]}" -C "$root" >"$tmp/second.tsv" 2>"$tmp/second.err" || cf_fail "second install: $(cat "$tmp/second.err")"
after="$(cd "$root" && find . -printf '%p %i %s\n' | sort)"
cf_assert_eq "$before" "$after" "a second install must not touch a file (same inodes)"
cf_assert_contains "$(cat "$tmp/second.err")" "nothing changed"
cf_assert_eq "$(cat "$tmp/first.tsv")" "$(cat "$tmp/second.tsv")" "same manifest both times"

# --verify: whole root passes; a truncated .sbn and a deleted file fail with exit 3.
"$FWUNPACK" --verify "$root" >"$tmp/verify.tsv" || cf_fail "--verify on a good root"
cf_assert_eq "$loads" "$(grep -vc '^#' "$tmp/verify.tsv")" "--verify rows"
sbn="$root/dsp45.9-4-2ES26.sbn"
truncate -s -10 "$sbn"
set +e
"$FWUNPACK" --verify "$root" >/dev/null 2>"$tmp/verify.err"; rc=$?
set -e
cf_assert_eq 3 "$rc" "--verify on a truncated .sbn"
cf_assert_contains "$(cat "$tmp/verify.err")" "SIP45.9-4-2SR3-1S is incomplete: dsp45.9-4-2ES26.sbn is broken"
rm "$root/P00305000500.sb2"
set +e
"$FWUNPACK" --verify "$root" >/dev/null 2>"$tmp/verify.err"; rc=$?
set -e
cf_assert_eq 3 "$rc" "--verify with a file missing"
cf_assert_contains "$(cat "$tmp/verify.err")" "P00305000500 is incomplete: P00305000500.sb2 is missing"
echo "ok"

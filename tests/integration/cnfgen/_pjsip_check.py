#!/usr/bin/env python3
"""A parser of Asterisk pjsip.conf syntax (sections, key=value, ';' comments) and
the checks that make phones register the first time: every endpoint has an auth
and an aor of its own name that exist, auth has username/password, every key is
one pjsip knows for its type. Asterisk is not in Debian here, so this stands in."""
import re
import sys

KNOWN = {
    "transport": {"type", "protocol", "bind"},
    "endpoint": {"type", "transport", "context", "disallow", "allow", "auth", "aors", "callerid",
                 "direct_media", "rtp_symmetric", "force_rport", "rewrite_contact"},
    "auth": {"type", "auth_type", "username", "password"},
    "aor": {"type", "max_contacts", "remove_existing"},
}


def parse(path):
    sections = []  # (name, {key: value}, line)
    current = None
    for number, raw in enumerate(open(path, encoding="utf-8"), 1):
        line = raw.rstrip("\n")
        if line != line.rstrip():
            sys.exit("%s:%d: trailing whitespace" % (path, number))
        text = line.split(";", 1)[0].strip()
        if not text:
            continue
        m = re.fullmatch(r"\[([A-Za-z0-9_.+-]+)\]", text)
        if m:
            current = (m.group(1), {}, number)
            sections.append(current)
            continue
        m = re.fullmatch(r"([a-z_]+)=(.*)", text)
        if not m or current is None:
            sys.exit("%s:%d: not a section or key=value: %r" % (path, number, line))
        if m.group(1) in current[1]:
            sys.exit("%s:%d: %s given twice in [%s]" % (path, number, m.group(1), current[0]))
        current[1][m.group(1)] = m.group(2)
    return sections


def main(path):
    sections = parse(path)
    by_type = {}
    for name, keys, number in sections:
        kind = keys.get("type")
        if kind not in KNOWN:
            sys.exit("%s:%d: [%s] has unknown type %r" % (path, number, name, kind))
        unknown = set(keys) - KNOWN[kind]
        if unknown:
            sys.exit("%s:%d: [%s] unknown keys %s" % (path, number, name, sorted(unknown)))
        if name in by_type.setdefault(kind, {}):
            sys.exit("%s:%d: two %s sections named %s" % (path, number, kind, name))
        by_type[kind][name] = keys
    for name, ep in by_type.get("endpoint", {}).items():
        auth = by_type.get("auth", {}).get(ep.get("auth"))
        if auth is None or not auth.get("username") or not auth.get("password"):
            sys.exit("endpoint %s: no usable auth %r" % (name, ep.get("auth")))
        if auth.get("auth_type") != "userpass":
            sys.exit("endpoint %s: auth_type is not userpass" % name)
        if ep.get("aors") not in by_type.get("aor", {}):
            sys.exit("endpoint %s: aor %r missing" % (name, ep.get("aors")))
        if "transport" in ep and ep["transport"] not in by_type.get("transport", {}):
            sys.exit("endpoint %s: transport %r missing" % (name, ep["transport"]))
        if not re.fullmatch(r'"[^";]*" <[^>;]+>', ep.get("callerid", "")):
            sys.exit("endpoint %s: bad callerid %r" % (name, ep.get("callerid")))
    print("%s: %d endpoints ok" % (path, len(by_type.get("endpoint", {}))))


if __name__ == "__main__":
    main(sys.argv[1])

"""Checks a phone makes on what it downloaded before it "flashes" it.

Layouts: signature header (TLV tag 1 version, tag 2 header length H; ref 1.3 and
tests/fixtures/README.md), CNU_File_Archive_3.0 (big-endian, 0x248-byte header,
20-byte records; ref 1.3), .loads text payload (ref 1.4). Every function takes
bytes and returns (value, None) or (None, reason); nothing here raises on bad input.
"""

import os
import re
import struct

CNU_MAGIC = b"CNU_File_Archive_3.0"
CNU_HEADER = 0x248
CNU_RECORD = 20
GZIP_MAGIC = b"\x1f\x8b\x08"
# ref 1.4: component names a .loads can carry.
_COMPONENT = re.compile(rb"[A-Za-z0-9_.-]+\.(?:sbn|SBN|loads|bin|sb2|zz\.sgn|sgn)")


def signature_header_length(data):
    """H if DATA starts with the TLV signature header (tag 1 at 0, tag 2 at 5), else 0."""
    if len(data) >= 10 and data[0] == 1 and data[5] == 2:
        (len1,) = struct.unpack_from(">H", data, 1)
        (len2,) = struct.unpack_from(">H", data, 6)
        (h,) = struct.unpack_from(">H", data, 8)
        if len1 == 2 and len2 == 2 and 10 <= h <= len(data):
            return h
    return 0


def payload(data):
    """The bytes after the signature header (all of DATA if unsigned)."""
    return data[signature_header_length(data):]


def parse_loads(data):
    """The component file names a .loads / term*.default.loads lists, in order.

    Returns (names, None) or (None, reason). Empty or nameless files are errors:
    a phone cannot install a load that lists nothing.
    """
    if not data:
        return None, "empty file"
    body = payload(data)
    names = []
    for token in _COMPONENT.findall(body):
        name = token.decode("ascii")
        if name not in names:
            names.append(name)
    if not names:
        return None, "lists no component files"
    return names, None


def check_cnu(data):
    """Check that an .sbn's CNU archive fits the file (ref 1.3).

    Returns (summary dict, None) or (None, reason). The archive is found at the
    signature header's H, else by scanning the first 1000 bytes for the magic.
    """
    start = signature_header_length(data)
    if data[start:start + len(CNU_MAGIC)] != CNU_MAGIC:
        start = data.find(CNU_MAGIC, 0, 1000)
        if start < 0:
            return None, "no CNU_File_Archive_3.0 magic"
    arc = data[start:]
    if len(arc) < CNU_HEADER:
        return None, "CNU header truncated (%d of %d bytes)" % (len(arc), CNU_HEADER)
    count, content = struct.unpack_from(">II", arc, 0x30)
    table_end = CNU_HEADER + CNU_RECORD * count
    if count == 0 or count > 100000:
        return None, "implausible file count %d" % count
    if table_end > len(arc):
        return None, "file table (%d records) runs past the end of the file" % count
    if content < table_end or content > len(arc):
        return None, "content offset %d outside the file (%d bytes)" % (content, len(arc))
    total = 0
    names = []
    for i in range(count):
        ftype, flags, size, mtime, name_off = struct.unpack_from(">IIIII", arc, CNU_HEADER + CNU_RECORD * i)
        total += size
        if name_off:
            if not table_end <= name_off < content:
                return None, "record %d: name offset %d outside the name block" % (i, name_off)
            end = arc.find(b"\0", name_off, content)
            if end < 0:
                return None, "record %d: name not NUL-terminated" % i
            names.append(arc[name_off:end].decode("ascii", "replace"))
    if content + total > len(arc):
        return None, "file table promises %d content bytes, the file holds %d" % (total, len(arc) - content)
    return {"files": count, "names": names, "content_bytes": total,
            "trailing": len(arc) - content - total}, None


def _load_fixture_module(module_name, file_name):
    """A module of tests/fixtures, found beside this package in the repository (or
    in the installed lab directory, share/ciscoflash/lab), None when it is absent."""
    import importlib.machinery
    import importlib.util
    here = os.path.dirname(os.path.abspath(__file__))
    for folder in (os.path.join(here, "..", "..", "fixtures"), os.path.join(here, "..", "..")):
        path = os.path.join(folder, file_name)
        if os.path.exists(path):
            loader = importlib.machinery.SourceFileLoader(module_name, path)
            spec = importlib.util.spec_from_file_location(module_name, path, loader=loader)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            return module
    return None


FWSIG = _load_fixture_module("fwsig", "fwsig.py")
# The generator of the synthetic firmware: which component build belongs to which
# load is part of the firmware itself (a real phone reads its load ID from the
# image it installed), so the simulator takes it from the same table.
GENERATOR = _load_fixture_module("make_firmware", "make-firmware")
_JAR = re.compile(r"^[jJ]ar(\d\d)(sccp|sip)\.([A-Za-z0-9-]+)\.sbn$")


def load_of_components(names):
    """The load name a 79x1-class component list installs, from its jar component
    (jar41sccp.8-5-2TH1-9.sbn -> SCCP41.8-5-2S); (name, None) or (None, reason)."""
    jars = [m for m in (_JAR.match(n) for n in names) if m]
    if len(jars) != 1:
        return None, "the list names %d jar components, not one" % len(jars)
    if GENERATOR is None:
        return None, "tests/fixtures/make-firmware is missing: the load cannot be identified"
    code, protocol, build = jars[0].groups()
    by_build = {v[2]: v[0] for v in GENERATOR.CNU_VERSIONS}
    by_build.update({b: v for v, b in GENERATOR.DOCUMENTED_BUILDS.items()})
    return "%s%s.%sS" % (protocol.upper(), code, by_build.get(build, build)), None


def verify_signature(name, data, model):
    """None if the file's signature header, when it has one, is good for MODEL and
    NAME; else why. Bytes changed on the way (netascii), a mixed-up file or a file of
    another model are refused, as real phones refuse them (phone-behaviour.md 6). A
    file with no header at all passes as unsigned (7940/7960 .bin images)."""
    if FWSIG is None:
        return None
    ok, why = FWSIG.verify(data, model, name=name, allow_unsigned=True)
    return None if ok else "signature: %s" % why


def verify_file(name, data, expected_size=None, cnu_phone=False):
    """The phone's check of one downloaded load file. Returns None if good, else reason.

    CNU_PHONE: a 79x1/79x2/79x5/797x phone, whose .sbn files must be CNU archives;
    7940/7960 .bin/.sb2/.sbn are opaque blobs (ref 1.3) and only size-checked.
    """
    if expected_size is not None and len(data) != expected_size:
        return "size %d differs from the announced tsize %d" % (len(data), expected_size)
    if not data:
        return "empty file"
    lower = name.lower()
    if lower.endswith(".loads"):
        _, why = parse_loads(data)
        return why
    if lower.endswith(".sbn") and (cnu_phone or CNU_MAGIC in data[:1000]):
        _, why = check_cnu(data)
        return why
    return None

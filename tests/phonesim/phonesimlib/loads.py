"""Firmware load names as the phone reads them (ref 1.1), and their versions.

A Load is what a phone runs. Versions are tuples of ints compared element-wise;
an SR (service release) number is kept apart and does not change the base version
(UNCERTAIN: the reference gives thresholds only as base versions, ref 5.2).
"""

import re
from dataclasses import dataclass

# 7940/7960 (ref 1.1): third character = protocol (0 SCCP, S SIP, M MGCP).
_P0_APP = re.compile(r"^P0([0SM])3([0-9A-Z]{8})$")          # P00308000900, P0030801SR02, P0S30100xxxx
_P0_DASHED = re.compile(r"^P0([0SM])3-(\d+)-(\d+)-(\d+)$")  # P0S3-8-12-00 (app), P003-8-12-00 (loader)
# CNU phones (ref 1.1): SCCP41.9-4-2SR3-1S, SIP45.8-5-2S, TERM41.7-0-3-05
_CNU = re.compile(r"^(SCCP|SIP|TERM)(\d\d)\.(\d+(?:-\d+)+)((?:SR|ES)\d+)?(-\d+)?(S)?$", re.IGNORECASE)

_PROTOCOL = {"0": "SCCP", "S": "SIP", "M": "MGCP"}


@dataclass(frozen=True)
class Load:
    name: str
    family: str          # "7940-7960" or "cnu"
    platform: str        # CNU platform code ("41"...), "" for 7940/7960
    protocol: str        # "SCCP", "SIP", "MGCP"; "" for a 7940/7960 loader
    kind: str            # "app" or "loader" (the 7940/7960 universal loader P003-x-y-z)
    version: tuple       # (major, minor, rev[, build]) ints
    sr: int = 0          # service release number, 0 if none

    def version_text(self):
        v = self.version
        text = "%d.%d(%s)" % (v[0], v[1], ".".join(str(x) for x in v[2:]) or "0")
        return text + ("SR%d" % self.sr if self.sr else "")


def parse_load(name):
    """The Load for NAME, or None if the phone would not recognise it as a load name."""
    if not isinstance(name, str):
        return None
    name = name.strip()
    m = _P0_DASHED.match(name)
    if m:
        proto, major, minor, build = m.group(1), int(m.group(2)), int(m.group(3)), int(m.group(4))
        if proto == "0":   # P003-8-12-00: the loader shipped with SIP 8.x (ref 1.2, 4.1)
            return Load(name, "7940-7960", "", "", "loader", (major, minor, build))
        return Load(name, "7940-7960", "", _PROTOCOL[proto], "app", (major, minor, build))
    m = _P0_APP.match(name)
    if m:
        proto, rest = m.group(1), m.group(2)
        pairs = [rest[i:i + 2] for i in range(0, 8, 2)]
        nums, sr = [], 0
        for i, p in enumerate(pairs):
            if p.isdigit():
                nums.append(int(p))
            elif p == "SR" and i + 1 < len(pairs) and pairs[i + 1].isdigit():
                sr = int(pairs[i + 1])
                break
            else:
                return None
        while len(nums) < 3:
            nums.append(0)
        if len(nums) == 4 and nums[3] == 0:
            nums = nums[:3]
        return Load(name, "7940-7960", "", _PROTOCOL[proto], "app", tuple(nums), sr)
    m = _CNU.match(name)
    if m:
        proto = m.group(1).upper()
        proto = "SCCP" if proto == "TERM" else proto
        nums = tuple(int(x) for x in m.group(3).split("-"))
        if len(nums) < 3:
            nums = nums + (0,) * (3 - len(nums))
        sr_text = m.group(4) or ""
        sr = int(sr_text[2:]) if sr_text.upper().startswith("SR") else 0
        return Load(name, "cnu", m.group(2), proto, "app", nums, sr)
    return None


def parse_version(text):
    """'8.5(2)' -> (8, 5, 2); '3.1(1.2)' -> (3, 1, 1, 2). None if malformed."""
    m = re.match(r"^(\d+)\.(\d+)\((\d+(?:\.\d+)*)\)", text or "")
    if not m:
        return None
    return (int(m.group(1)), int(m.group(2))) + tuple(int(x) for x in m.group(3).split("."))


def vcmp(a, b):
    """-1, 0, 1 comparing two version tuples, missing trailing parts counting as 0."""
    n = max(len(a), len(b))
    a = tuple(a) + (0,) * (n - len(a))
    b = tuple(b) + (0,) * (n - len(b))
    return (a > b) - (a < b)

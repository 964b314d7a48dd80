"""Parsers for the configuration files a phone fetches over TFTP.

SEP<MAC>.cnf.xml and XMLDefault.cnf.xml (ref 2.1, 2.2), SIPDefault.cnf and
SIP<MAC>.cnf (ref 4.2), OS79XX.TXT (ref 4.1). Each parser takes bytes and returns
(value, None) or (None, reason).
"""

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field


def _text(elem):
    return (elem.text or "").strip() if elem is not None else ""


def _local(tag):
    return tag.rsplit("}", 1)[-1]


def _xml_root(data):
    if not data or not data.strip():
        return None, "empty file"
    if b"<!ENTITY" in data:
        return None, "entity declarations refused"
    try:
        return ET.fromstring(data), None
    except ET.ParseError as e:
        return None, "not well-formed XML: %s" % e


@dataclass
class SipLine:
    button: str = ""
    name: str = ""
    auth_name: str = ""
    auth_password: str = ""
    proxy: str = ""


@dataclass
class XmlConfig:
    root: str = ""                         # "device" or "Default"
    load: str = ""                         # SEP: bare <loadInformation>
    loads_by_id: dict = field(default_factory=dict)  # XMLDefault: device id -> load
    protocol: str = ""                     # <deviceProtocol>
    callmanagers: list = field(default_factory=list)  # processNodeName in member order
    lines: list = field(default_factory=list)         # SipLine, from <sipProfile>

    def load_for(self, device_id):
        """What this file tells a phone of DEVICE_ID to run ("" if nothing)."""
        return self.load or self.loads_by_id.get(device_id, "")

    def proxy(self):
        """The SIP registrar: line 1's <proxy> unless USECALLMANAGER, else the first
        callManager's processNodeName (ref 2.1: SIP phones REGISTER to processNodeName)."""
        for line in self.lines:
            if line.proxy and line.proxy.upper() != "USECALLMANAGER":
                return line.proxy
        return self.callmanagers[0] if self.callmanagers else ""


_LOADINFO_N = re.compile(r"^loadInformation(\d+)$")


def parse_xml_config(data):
    """Parse a SEP<MAC>.cnf.xml (<device>) or XMLDefault.cnf.xml (<Default>)."""
    root, why = _xml_root(data)
    if root is None:
        return None, why
    cfg = XmlConfig(root=_local(root.tag))
    if cfg.root not in ("device", "Default"):
        return None, "root element <%s>, expected <device> or <Default>" % cfg.root
    for elem in root.iter():
        tag = _local(elem.tag)
        if tag == "loadInformation":
            if not cfg.load:
                cfg.load = _text(elem)
        elif _LOADINFO_N.match(tag):
            cfg.loads_by_id.setdefault(int(_LOADINFO_N.match(tag).group(1)), _text(elem))
        elif tag == "deviceProtocol" and not cfg.protocol:
            cfg.protocol = _text(elem)
        elif tag == "processNodeName" and _text(elem):
            cfg.callmanagers.append(_text(elem))
    for profile in (e for e in root.iter() if _local(e.tag) == "sipProfile"):
        for line in (e for e in profile.iter() if _local(e.tag) == "line"):
            fields = {_local(c.tag): _text(c) for c in line}
            cfg.lines.append(SipLine(button=line.get("button", ""), name=fields.get("name", ""),
                                     auth_name=fields.get("authName", ""),
                                     auth_password=fields.get("authPassword", ""),
                                     proxy=fields.get("proxy", "")))
    return cfg, None


def parse_sip_cnf(data):
    """Parse SIPDefault.cnf / SIP<MAC>.cnf: 'name: value ; comment' lines, '#' comments,
    values optionally quoted, optional trailing ';' (ref 4.2). Returns (dict, None)."""
    if data is None:
        return None, "no data"
    try:
        text = data.decode("latin-1")
    except Exception as e:   # latin-1 never fails; kept for clarity
        return None, str(e)
    values = {}
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if ":" not in line:
            return None, "line %d has no 'name: value': %r" % (number, raw[:60])
        key, value = line.split(":", 1)
        key = key.strip()
        if not re.match(r"^[A-Za-z0-9_]+$", key):
            return None, "line %d: bad key %r" % (number, key[:40])
        value = value.strip()
        if value[:1] in ('"', "'"):
            end = value.find(value[0], 1)
            if end < 0:
                return None, "line %d: unterminated quote" % number
            value = value[1:end]
        else:
            value = value.split(";", 1)[0].split("#", 1)[0].strip()
        values[key] = value
    return values, None


def parse_os79xx(data):
    """OS79XX.TXT: one line, an image name without extension (ref 4.1). The line is
    taken as is up to its line end: a trailing space stays, as on the real phone
    (CSCdv19260), which then asks for a file that does not exist."""
    if not data:
        return None, "empty file"
    line = data.decode("latin-1").split("\n", 1)[0].rstrip("\r")
    if not line:
        return None, "first line empty"
    return line, None


@dataclass
class SipSettings:
    image_version: str = ""
    proxy: str = ""
    registered: bool = False
    line_user: str = ""


def sip_settings(default, per_mac):
    """Merge SIPDefault.cnf values with SIP<MAC>.cnf values (per-MAC wins, ref 4.2)."""
    merged = dict(default or {})
    merged.update(per_mac or {})
    s = SipSettings(image_version=merged.get("image_version", ""),
                    proxy=merged.get("proxy1_address", ""))
    for n in range(1, 7):
        name = merged.get("line%d_name" % n, "")
        auth = merged.get("line%d_authname" % n, "") or name
        password = merged.get("line%d_password" % n, "")
        if name and auth and password:
            s.line_user = auth
            break
    # proxy_register: 0 means the phone does not REGISTER at all (ref 4.2 key list).
    s.registered = bool(s.proxy and s.line_user and merged.get("proxy_register", "1") != "0")
    return s

"""SIP registration of a phone that runs a SIP load.

Written from RFC 3261 (10 registrations, 17.1.2 non-INVITE client transaction,
18 transport, 20 header fields, 22 authentication) and RFC 2617 (3.2 digest), not
from ciscoflash's C++. The phone registers with nothing but what it read over
TFTP: SIPDefault.cnf + SIP<MAC>.cnf on 7940/7960, the sipProfile of
SEP<MAC>.cnf.xml (or XMLDefault.cnf.xml) on 79x1 and later.

register_once(account, local_ip) sends one REGISTER (answering a 401/407 with
digest credentials) and returns a Result; keep_registered(...) repeats it at half
the granted Expires, as a powered phone does. Configuration errors come back as a
(None, reason) pair, network and protocol failures as a Result with
registered=False and the reason.
"""

import hashlib
import os
import re
import socket
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass

from . import config

# RFC 3261 17.1.2.2: T1 500 ms, T2 4 s, Timer F = 64*T1.
T1, T2 = 0.5, 4.0
TIMER_F = 64 * T1
DEFAULT_PORT = 5060
# Cisco's default when the config sets no timer (7940 `timer_register_expires`,
# 79x1 `<timerRegisterExpires>`; both 3600 in the files quoted in phone
# provisioning templates).
DEFAULT_EXPIRES = 3600
USER_AGENT = "phonesim (Cisco 79xx simulator)"
MAX_MESSAGE = 65535

# transportLayerProtocol in a 79x1+ sipProfile. Sources (evidence-79xx.md 4 and
# public files): msergiy87/phone_cisco_6921 README "1 = Use device default, 2 = UDP,
# 4 = TCP"; CUCM-generated 8841/79xx files carry 4 while CUCM's default transport is
# TCP; NamoDev's 7942 file, tested against Asterisk over UDP, carries 2. Files that
# comment 1 as "TCP" agree with "device default" on enterprise firmware, whose
# default is TCP. TLS (CUCM secure profiles) is not simulated.
TRANSPORT_LAYER_PROTOCOL = {"1": "tcp", "2": "udp", "4": "tcp"}


@dataclass
class Account:
    """One line's registration, as the phone's configuration gives it."""
    registrar: str          # proxy address (host or IPv4 literal)
    port: int
    transport: str          # "udp" or "tcp"
    user: str               # the line's name: the user part of the AoR
    auth_name: str
    password: str
    expires: int            # Expires the phone asks for
    source: str = ""        # which file(s) it came from

    def aor(self):
        return "sip:%s@%s" % (self.user, self.registrar)

    def registrar_uri(self):
        # RFC 3261 10.2: the Request-URI names the registrar's domain, no user part.
        return "sip:%s" % _hostport(self.registrar, self.port)


@dataclass
class Result:
    registered: bool
    status: int = None      # final status code of the last REGISTER, None if none came
    reason: str = ""        # its reason phrase, or why none came
    expires: int = None     # what the registrar granted (200 only)
    transport: str = ""

    def fields(self):
        """The end-state JSON fields (phonesim --help)."""
        return {"registered": self.registered, "sip_status": self.status,
                "sip_reason": self.reason, "sip_transport": self.transport or None,
                "sip_expires": self.expires}


def _hostport(host, port):
    return host if port == DEFAULT_PORT else "%s:%d" % (host, port)


def _port(value, what):
    value = (value or "").strip()
    if not value:
        return DEFAULT_PORT, None
    if not value.isdigit() or not 0 < int(value) < 65536:
        return None, "%s %r is not a port number" % (what, value[:20])
    return int(value), None


def _expires(value, what):
    value = (value or "").strip()
    if not value:
        return DEFAULT_EXPIRES, None
    if not value.isdigit() or not 0 < int(value) <= 2 ** 31 - 1:
        return None, "%s %r is not a number of seconds" % (what, value[:20])
    return int(value), None


def _check_host(host, what):
    if not host:
        return "no %s" % what
    if host.upper() == "USECALLMANAGER":
        return "%s is USECALLMANAGER and no callManager processNodeName is set" % what
    # Real files name the proxy by address (evidence-79xx.md 3, 4). A name would make
    # the simulator ask a DNS server, and tests never send packets off their network.
    parts = host.split(".")
    if len(parts) != 4 or not all(p.isdigit() and len(p) <= 3 and int(p) < 256 for p in parts):
        return "%s %r is not an IPv4 address (phonesim resolves no names)" % (what, host[:40])
    return None


def _check_token(value, what):
    # The values end up inside SIP headers and quoted strings: refuse what would
    # end them (RFC 3261 25.1 quoted-string, RFC 2617 3.2.2 username).
    if any(c in value for c in '"\\\r\n\0') or any(ord(c) < 0x20 for c in value):
        return "%s contains a quote, backslash or control character" % what
    return None


def account_from_sip_cnf(default_data, per_mac_data):
    """A 7940/7960 SIP load's account: SIPDefault.cnf merged with SIP<MAC>.cnf
    (per-MAC wins), the first line with a name, auth name and password.
    Returns (Account, None), or (None, reason)."""
    merged = {}
    sources = []
    for name, data in (("SIPDefault.cnf", default_data), ("SIP<MAC>.cnf", per_mac_data)):
        if data is None:
            continue
        values, why = config.parse_sip_cnf(data)
        if values is None:
            return None, "%s: %s" % (name, why)
        merged.update(values)
        sources.append(name)
    if merged.get("proxy_register", "1") == "0":
        return None, "proxy_register is 0: the phone does not register"
    registrar = merged.get("proxy1_address", "").strip()
    why = _check_host(registrar, "proxy1_address")
    if why:
        return None, why
    port, why = _port(merged.get("proxy1_port"), "proxy1_port")
    if why:
        return None, why
    expires, why = _expires(merged.get("timer_register_expires"), "timer_register_expires")
    if why:
        return None, why
    for n in range(1, 7):
        name = merged.get("line%d_name" % n, "").strip()
        auth = merged.get("line%d_authname" % n, "").strip() or name
        password = merged.get("line%d_password" % n, "")
        if name and password:
            for value, what in ((name, "line%d_name" % n), (auth, "line%d_authname" % n),
                                (password, "line%d_password" % n)):
                why = _check_token(value, what)
                if why:
                    return None, why
            # No transport key for 7940/7960 appears in any file of the evidence
            # (evidence-79xx.md 3): these loads register over UDP.
            return Account(registrar, port, "udp", name, auth, password, expires,
                           "+".join(sources)), None
    return None, "no line with a name and a password"


def _xml_values(root):
    """What parse_xml_config leaves out: transport, ports and the register timer."""
    out = {"transport": "", "sip_port": "", "line_ports": {}, "expires": "", "register": ""}
    for elem in root.iter():
        tag = elem.tag.rsplit("}", 1)[-1]
        text = (elem.text or "").strip()
        if tag == "transportLayerProtocol" and not out["transport"]:
            out["transport"] = text
        elif tag == "sipPort" and not out["sip_port"]:
            out["sip_port"] = text
        elif tag == "timerRegisterExpires" and not out["expires"]:
            out["expires"] = text
        elif tag == "registerWithProxy" and not out["register"]:
            out["register"] = text
        elif tag == "line":
            for child in elem:
                if child.tag.rsplit("}", 1)[-1] == "port":
                    out["line_ports"][elem.get("button", "")] = (child.text or "").strip()
    return out


def account_from_xml(data):
    """A 79x1+ SIP load's account from SEP<MAC>.cnf.xml (or XMLDefault.cnf.xml): the
    first <line> with a name and password; registrar = its <proxy> unless
    USECALLMANAGER, else the first processNodeName; port = the line's <port>, else
    the callManager's <sipPort>, else 5060. Returns (Account, None) or (None, reason)."""
    cfg, why = config.parse_xml_config(data)
    if cfg is None:
        return None, why
    root = ET.fromstring(data)   # parse_xml_config accepted it, entity check included
    extra = _xml_values(root)
    if extra["register"].lower() == "false":
        return None, "registerWithProxy is false: the phone does not register"
    transport_value = extra["transport"] or "2"
    transport = TRANSPORT_LAYER_PROTOCOL.get(transport_value)
    if transport is None:
        return None, "transportLayerProtocol %r is not 1, 2 or 4" % transport_value[:20]
    registrar = cfg.proxy()
    why = _check_host(registrar, "registrar (line <proxy> / processNodeName)")
    if why:
        return None, why
    expires, why = _expires(extra["expires"], "timerRegisterExpires")
    if why:
        return None, why
    for line in cfg.lines:
        name = line.name or line.auth_name
        if not (name and line.auth_password):
            continue
        port, why = _port(extra["line_ports"].get(line.button) or extra["sip_port"],
                          "line %s <port>" % line.button)
        if why:
            return None, why
        auth = line.auth_name or name
        for value, what in ((name, "<name>"), (auth, "<authName>"),
                            (line.auth_password, "<authPassword>")):
            why = _check_token(value, what)
            if why:
                return None, why
        return Account(registrar, port, transport, name, auth, line.auth_password, expires,
                       cfg.root == "device" and "SEP<MAC>.cnf.xml" or "XMLDefault.cnf.xml"), None
    return None, "no sipProfile line with a name and an authPassword"


def account_from_files(files, mac):
    """FILES maps a config file name to the bytes the phone read in its last boot."""
    sip_default, sip_mac = files.get("SIPDefault.cnf"), files.get("SIP%s.cnf" % mac)
    if sip_default is not None or sip_mac is not None:
        return account_from_sip_cnf(sip_default, sip_mac)
    for name in ("SEP%s.cnf.xml" % mac, "XMLDefault.cnf.xml"):
        if files.get(name) is not None:
            return account_from_xml(files[name])
    return None, "the phone read no SIP configuration"


class ConfigCapture:
    """Keeps the bytes of the configuration files a phone fetched in its current
    boot; wrap() goes around each boot's TFTP client."""

    CONFIG_NAME = re.compile(r"^(SIPDefault\.cnf|SIP[0-9A-F]{12}\.cnf|SEP[0-9A-F]{12}\.cnf\.xml"
                             r"|XMLDefault\.cnf\.xml)$")

    def __init__(self):
        self.files = {}

    def wrap(self, client):
        self.files = {}     # one TFTP client per boot: a new boot reads afresh
        capture = self

        class _Recording:
            def __getattr__(self, attr):
                return getattr(client, attr)

            def get(self, name, progress=None):
                t = client.get(name, progress)
                if t.result == "ok" and capture.CONFIG_NAME.match(name):
                    capture.files[name] = t.data
                return t
        return _Recording()


# --------------------------------------------------------------- digest (RFC 2617)

def _md5(text):
    return hashlib.md5(text.encode("utf-8")).hexdigest()


def digest_response(*, username, realm, password, method, uri, nonce, algorithm="MD5",
                    qop=None, nc=None, cnonce=None):
    """RFC 2617 3.2.2.1: request-digest, for algorithm MD5 or MD5-sess, qop auth or none."""
    ha1 = _md5("%s:%s:%s" % (username, realm, password))
    if algorithm.upper() == "MD5-SESS":
        ha1 = _md5("%s:%s:%s" % (ha1, nonce, cnonce))
    ha2 = _md5("%s:%s" % (method, uri))
    if qop:
        return _md5("%s:%s:%s:%s:%s:%s" % (ha1, nonce, nc, cnonce, qop, ha2))
    return _md5("%s:%s:%s" % (ha1, nonce, ha2))


_PARAM = re.compile(r'\s*([A-Za-z0-9_\-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^\s,"]*)\s*(,|$)')


def parse_challenge(value):
    """A WWW-/Proxy-Authenticate value: ("Digest", {param: value}) or (None, reason)."""
    value = value.strip()
    scheme, _, rest = value.partition(" ")
    if scheme.lower() != "digest":
        return None, "scheme %r is not Digest" % scheme[:20]
    params = {}
    pos = 0
    rest = rest.strip()
    while pos < len(rest):
        m = _PARAM.match(rest, pos)
        if not m or m.end() == pos:
            return None, "unparsable challenge near %r" % rest[pos:pos + 30]
        raw = m.group(2)
        if raw.startswith('"'):
            raw = re.sub(r"\\(.)", r"\1", raw[1:-1])
        params[m.group(1).lower()] = raw
        pos = m.end()
    for need in ("realm", "nonce"):
        if need not in params:
            return None, "challenge without %s" % need
    return ("Digest", params), None


def authorization(challenge, *, username, password, method, uri, nc, cnonce):
    """The Authorization / Proxy-Authorization value answering CHALLENGE (params dict).
    Returns (value, None) or (None, reason) for what this phone cannot do."""
    algorithm = challenge.get("algorithm", "MD5")
    if algorithm.upper() not in ("MD5", "MD5-SESS"):
        return None, "digest algorithm %s not supported" % algorithm[:20]
    qop = None
    if "qop" in challenge:
        offered = [q.strip().lower() for q in challenge["qop"].split(",")]
        if "auth" not in offered:
            return None, "qop %r offers no 'auth'" % challenge["qop"][:30]
        qop = "auth"
    nc_text = "%08x" % nc
    response = digest_response(username=username, realm=challenge["realm"], password=password,
                               method=method, uri=uri, nonce=challenge["nonce"],
                               algorithm=algorithm, qop=qop, nc=nc_text, cnonce=cnonce)
    parts = ['username="%s"' % username, 'realm="%s"' % _quote(challenge["realm"]),
             'nonce="%s"' % _quote(challenge["nonce"]), 'uri="%s"' % uri,
             'response="%s"' % response, "algorithm=%s" % algorithm]
    if qop:
        parts += ['cnonce="%s"' % cnonce, "qop=%s" % qop, "nc=%s" % nc_text]
    if "opaque" in challenge:
        parts.append('opaque="%s"' % _quote(challenge["opaque"]))
    return "Digest " + ", ".join(parts), None


def _quote(text):
    return text.replace("\\", "\\\\").replace('"', '\\"')


# --------------------------------------------------------------- messages

# RFC 3261 7.3.3 compact forms of the headers this client reads.
_COMPACT = {"i": "call-id", "f": "from", "t": "to", "v": "via", "m": "contact",
            "l": "content-length"}


@dataclass
class Response:
    status: int
    reason: str
    headers: list           # (lower-case name, value) in order

    def get(self, name):
        for n, v in self.headers:
            if n == name:
                return v
        return None

    def all(self, name):
        return [v for n, v in self.headers if n == name]


def parse_response(data):
    """Parse one SIP response (bytes, header part with or without body).
    Returns (Response, None) or (None, reason)."""
    if len(data) > MAX_MESSAGE:
        return None, "message larger than %d bytes" % MAX_MESSAGE
    head = data.split(b"\r\n\r\n", 1)[0]
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        return None, "header is not UTF-8"
    lines = text.split("\r\n")
    m = re.match(r"^SIP/2\.0 ([1-6][0-9][0-9]) ?(.*)$", lines[0])
    if not m:
        return None, "not a SIP/2.0 status line: %r" % lines[0][:60]
    headers = []
    for line in lines[1:]:
        if line[:1] in (" ", "\t") and headers:
            # RFC 3261 7.3.1: a line starting with white space continues the previous one.
            name, value = headers[-1]
            headers[-1] = (name, value + " " + line.strip())
            continue
        name, sep, value = line.partition(":")
        if not sep or not name.strip() or " " in name.strip():
            return None, "bad header line %r" % line[:60]
        name = name.strip().lower()
        headers.append((_COMPACT.get(name, name), value.strip()))
    return Response(int(m.group(1)), m.group(2).strip(), headers), None


def split_list(value):
    """Split a header value on commas outside quotes and <...> (RFC 3261 7.3.1)."""
    out, cur, quoted, angle, escaped = [], [], False, False, False
    for c in value:
        if escaped:
            escaped = False
        elif quoted and c == "\\":
            escaped = True
        elif c == '"':
            quoted = not quoted
        elif not quoted and c == "<":
            angle = True
        elif not quoted and c == ">":
            angle = False
        elif c == "," and not quoted and not angle:
            out.append("".join(cur).strip())
            cur = []
            continue
        cur.append(c)
    if "".join(cur).strip():
        out.append("".join(cur).strip())
    return out


def _uri_of(contact):
    m = re.search(r"<([^>]*)>", contact)
    uri = m.group(1) if m else contact.split(";", 1)[0]
    return uri.strip()


def _uri_hostport(uri):
    m = re.match(r"^sips?:(?:[^@;]*@)?([^;?]+)", uri, re.I)
    return m.group(1).lower() if m else ""


def granted_expires(response, contact_uri, asked):
    """RFC 3261 10.2.4: the expiry of our binding in a 200, from its Contact's expires
    parameter, else the Expires header, else what we asked for."""
    ours = _uri_hostport(contact_uri)
    for value in response.all("contact"):
        for contact in split_list(value):
            if _uri_hostport(_uri_of(contact)) != ours:
                continue
            params = contact[contact.find(">") + 1:] if ">" in contact else contact
            m = re.search(r";\s*expires\s*=\s*([0-9]+)", params, re.I)
            if m:
                return int(m.group(1))
    expires = response.get("expires")
    if expires and expires.strip().isdigit():
        return int(expires.strip())
    return asked


def build_register(account, *, local_ip, local_port, call_id, cseq, branch, from_tag,
                   expires, authorization_header=None):
    """One REGISTER (RFC 3261 10.2) as bytes."""
    transport = account.transport.upper()
    contact = "sip:%s@%s:%d" % (account.user, local_ip, local_port)
    if account.transport == "tcp":
        contact += ";transport=tcp"
    lines = [
        "REGISTER %s SIP/2.0" % account.registrar_uri(),
        "Via: SIP/2.0/%s %s:%d;branch=%s;rport" % (transport, local_ip, local_port, branch),
        "Max-Forwards: 70",
        "From: <%s>;tag=%s" % (account.aor(), from_tag),
        "To: <%s>" % account.aor(),
        "Call-ID: %s" % call_id,
        "CSeq: %d REGISTER" % cseq,
        "Contact: <%s>" % contact,
        "Expires: %d" % expires,
        "User-Agent: %s" % USER_AGENT,
    ]
    if authorization_header:
        lines.append(authorization_header)
    lines.append("Content-Length: 0")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8"), contact


def _random_token(n=8):
    return os.urandom(n).hex()


# --------------------------------------------------------------- transport

class TransportError(Exception):
    pass


class _Udp:
    """A connected UDP socket: ICMP port unreachable surfaces as ECONNREFUSED."""

    def __init__(self, account, local_ip, local_port=0):
        self.reliable = False
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            self.sock.bind((local_ip, local_port))
            self.sock.connect((account.registrar, account.port))
        except OSError as e:
            self.sock.close()
            raise TransportError("udp %s:%d: %s" % (account.registrar, account.port, e.strerror))
        self.local_port = self.sock.getsockname()[1]

    def send(self, data):
        try:
            self.sock.send(data)
        except OSError as e:
            raise TransportError("udp send: %s" % e.strerror)

    def receive(self, timeout):
        self.sock.settimeout(max(timeout, 0.001))
        try:
            return self.sock.recv(MAX_MESSAGE + 1)
        except socket.timeout:
            return None
        except OSError as e:
            raise TransportError("udp: %s" % e.strerror)

    def close(self):
        self.sock.close()


class _Tcp:
    """One TCP connection, kept for re-registrations (RFC 3261 18.1.1 reuse)."""

    def __init__(self, account, local_ip, local_port=0):
        self.reliable = True
        self.buffer = b""
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            self.sock.bind((local_ip, local_port))
            self.sock.settimeout(TIMER_F)
            self.sock.connect((account.registrar, account.port))
        except OSError as e:
            self.sock.close()
            raise TransportError("tcp %s:%d: %s" % (account.registrar, account.port,
                                                    e.strerror or str(e)))
        self.local_port = self.sock.getsockname()[1]

    def send(self, data):
        try:
            self.sock.sendall(data)
        except OSError as e:
            raise TransportError("tcp send: %s" % (e.strerror or str(e)))

    def receive(self, timeout):
        """The next whole message, framed by Content-Length (RFC 3261 18.3)."""
        deadline = time.monotonic() + timeout
        while True:
            message = self._take_message()
            if message is not None:
                return message
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                return None
            except OSError as e:
                raise TransportError("tcp: %s" % (e.strerror or str(e)))
            if not chunk:
                raise TransportError("tcp: the registrar closed the connection")
            self.buffer += chunk
            if len(self.buffer) > 4 * MAX_MESSAGE:
                raise TransportError("tcp: no message end in %d bytes" % len(self.buffer))

    def _take_message(self):
        # Keep-alive CRLFs between messages (RFC 5626 4.4.1) are skipped.
        self.buffer = self.buffer.lstrip(b"\r\n")
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            return None
        head = self.buffer[:end]
        m = re.search(rb"(?im)^(?:content-length|l)[ \t]*:[ \t]*([0-9]+)[ \t]*$", head)
        if not m:
            raise TransportError("tcp: message without Content-Length")
        total = end + 4 + int(m.group(1))
        if len(self.buffer) < total:
            return None
        message, self.buffer = self.buffer[:total], self.buffer[total:]
        return message

    def close(self):
        self.sock.close()


# --------------------------------------------------------------- registration

class Registration:
    """One line's registration: a Call-ID kept across refreshes (RFC 3261 10.2.4),
    CSeq counting up, one connection for TCP."""

    def __init__(self, account, local_ip, *, local_port=0, transaction_timeout=TIMER_F,
                 log=None):
        self.account, self.local_ip, self.local_port = account, local_ip, local_port
        self.transaction_timeout = transaction_timeout
        self.log = log or (lambda msg: None)
        self.call_id = "%s@%s" % (_random_token(), local_ip)
        self.from_tag = _random_token(4)
        self.cseq = 0
        self.contact = ""
        self.journal = self.last_result = None
        self.transport = None

    def close(self):
        if self.transport:
            self.transport.close()
            self.transport = None

    def _connect(self):
        if self.transport is None:
            cls = _Tcp if self.account.transport == "tcp" else _Udp
            self.transport = cls(self.account, self.local_ip, self.local_port)

    def register(self, expires=None):
        """One registration: REGISTER, answering up to two challenges (a second only
        when the first nonce was stale) and one 423. Returns a Result."""
        expires = self.account.expires if expires is None else expires
        result = self._register(expires)
        if self.transport is not None and not result.registered and self.account.transport == "tcp":
            self.close()    # a refused or broken TCP registration starts afresh next time
        return result

    def _register(self, expires):
        header = None
        challenges = 0
        interval_retried = False
        while True:
            try:
                self._connect()
                response = self._transaction(expires, header)
            except TransportError as e:
                self.close()
                return self._result(False, None, str(e))
            if response is None:
                self.close()
                return self._result(False, None, "no final response within %.0f s"
                                    % self.transaction_timeout)
            status = response.status
            if 200 <= status < 300:
                granted = granted_expires(response, self.contact, expires)
                return self._result(granted > 0, status, response.reason, granted)
            if status in (401, 407):
                name = "www-authenticate" if status == 401 else "proxy-authenticate"
                challenge, why = self._pick_challenge(response.all(name))
                if challenge is None:
                    return self._result(False, status, "%s (%s)" % (response.reason, why))
                stale = challenge.get("stale", "").lower() == "true"
                if challenges and not stale:
                    # RFC 3261 22.2: the same credentials were refused; asking again
                    # would only repeat that.
                    return self._result(False, status, response.reason + " (credentials refused)")
                if challenges >= 2:
                    return self._result(False, status, response.reason + " (challenged again)")
                challenges += 1
                # Every challenge brings a fresh nonce, used once: nc is 1 (RFC 2617 3.2.2).
                value, why = authorization(challenge, username=self.account.auth_name,
                                           password=self.account.password, method="REGISTER",
                                           uri=self.account.registrar_uri(), nc=1,
                                           cnonce=_random_token())
                if value is None:
                    return self._result(False, status, "%s (%s)" % (response.reason, why))
                header = ("Authorization: " if status == 401 else "Proxy-Authorization: ") + value
                continue
            if status == 423 and not interval_retried:
                # RFC 3261 10.2.8: retry with at least Min-Expires.
                minimum = (response.get("min-expires") or "").strip()
                if minimum.isdigit() and int(minimum) > expires:
                    interval_retried = True
                    expires = int(minimum)
                    continue
            return self._result(False, status, response.reason)

    @staticmethod
    def _pick_challenge(values):
        why = "no challenge"
        for value in values:
            parsed, why = parse_challenge(value)
            if parsed is None:
                continue
            algorithm = parsed[1].get("algorithm", "MD5").upper()
            if algorithm in ("MD5", "MD5-SESS"):
                return parsed[1], None
            why = "digest algorithm %s not supported" % algorithm
        return None, why

    def _result(self, ok, status, reason, expires=None):
        r = Result(ok, status, reason, expires if ok else None, self.account.transport)
        self.log("REGISTER %s via %s %s:%d: %s %s" % (self.account.aor(), self.account.transport,
                                                     self.account.registrar, self.account.port,
                                                     status if status is not None else "-", reason))
        return r

    def _transaction(self, expires, authorization_header):
        """RFC 3261 17.1.2: send, retransmit over UDP (Timer E), wait for the final
        response of this transaction until Timer F. Returns a Response or None."""
        self.cseq += 1
        branch = "z9hG4bK" + _random_token()
        data, self.contact = build_register(
            self.account, local_ip=self.local_ip, local_port=self.transport.local_port,
            call_id=self.call_id, cseq=self.cseq, branch=branch, from_tag=self.from_tag,
            expires=expires, authorization_header=authorization_header)
        self.transport.send(data)
        start = time.monotonic()
        deadline = start + self.transaction_timeout
        interval = T1
        next_send = start + interval
        while True:
            now = time.monotonic()
            if now >= deadline:
                return None
            wait = deadline - now if self.transport.reliable else min(deadline, next_send) - now
            message = self.transport.receive(wait)
            if message is None:
                if not self.transport.reliable and time.monotonic() >= next_send:
                    self.transport.send(data)
                    interval = min(interval * 2, T2)
                    next_send = time.monotonic() + interval
                continue
            response, why = parse_response(message)
            if response is None:
                self.log("ignored a message from the registrar: %s" % why)
                continue
            if not self._matches(response, branch):
                continue
            if response.status < 200:
                # RFC 3261 17.1.2.2: after a provisional response retransmit at T2.
                interval = T2
                continue
            return response

    def _matches(self, response, branch):
        # RFC 3261 17.1.3: the top Via's branch and the CSeq method.
        via = response.get("via") or ""
        cseq = (response.get("cseq") or "").split()
        return ("branch=%s" % branch) in via and cseq[-1:] == ["REGISTER"] and \
            cseq[:1] == [str(self.cseq)]


def register_once(account, local_ip, **kwargs):
    """Register ACCOUNT once from LOCAL_IP; returns (Result, Registration). Keep the
    Registration for refreshes (same Call-ID, rising CSeq), close it when done."""
    registration = Registration(account, local_ip, **kwargs)
    return registration.register(), registration


def refresh_delay(result, retry_seconds):
    """When to send the next REGISTER: half the granted Expires after a 200 (a phone
    refreshes well before expiry), RETRY_SECONDS after a failure."""
    if result.registered and result.expires:
        return max(result.expires / 2.0, 1.0)
    return retry_seconds


def keep_registered(registration, first, *, on_result, should_stop, sleep=time.sleep,
                    retry_seconds=30.0, rounds=None):
    """Re-register for as long as SHOULD_STOP() is false (or ROUNDS more times),
    starting from the FIRST result; ON_RESULT(result) sees every attempt."""
    result = first
    done = 0
    while rounds is None or done < rounds:
        delay = refresh_delay(result, retry_seconds)
        step = 0.2
        waited = 0.0
        while waited < delay:
            if should_stop():
                return result
            sleep(min(step, delay - waited))
            waited += step
        if should_stop():
            return result
        result = registration.register()
        on_result(result)
        done += 1
    return result


# --------------------------------------------------------------- phonesim hook

NOT_SENT = {"registered": False, "sip_status": None, "sip_reason": None,
            "sip_transport": None, "sip_expires": None}


def register_phone(end_state, files, mac, state_dir, log, transaction_timeout=TIMER_F):
    """Called by phonesim once the phone has its end state: a phone running a SIP
    load registers with what it read over TFTP (FILES: ConfigCapture.files).
    Returns (fields for the end-state JSON, Registration or None); every REGISTER's
    outcome is appended to STATE_DIR/sip.jsonl."""
    if end_state.get("state") != "running" or end_state.get("protocol") != "SIP":
        return dict(NOT_SENT), None
    account, why = account_from_files(files, mac)
    if account is None:
        log("no SIP registration: %s" % why)
        return dict(NOT_SENT, sip_reason=why), None
    local_ip = end_state.get("ip")
    if not local_ip:
        return dict(NOT_SENT, sip_reason="the phone has no address"), None
    registration = Registration(account, local_ip, transaction_timeout=transaction_timeout,
                                log=log)
    journal = SipJournal(state_dir, account)
    result = registration.register()
    journal.write(result)
    registration.journal, registration.last_result = journal, result
    return result.fields(), registration


class SipJournal:
    """STATE_DIR/sip.jsonl: one JSON object per REGISTER transaction outcome."""

    def __init__(self, state_dir, account):
        self.path = os.path.join(state_dir, "sip.jsonl")
        self.account = account

    def write(self, result):
        import json
        record = {"ts": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "event": "register",
                  "aor": self.account.aor(),
                  "registrar": "%s:%d" % (self.account.registrar, self.account.port)}
        record.update(result.fields())
        with open(self.path, "a") as f:
            f.write(json.dumps(record) + "\n")


def keep_registered_in_background(registration, retry_seconds=30.0):
    """phonesim --stay-up: refresh the registration from a daemon thread (the main
    thread keeps announcing) until the process ends."""
    import threading
    journal = registration.journal
    thread = threading.Thread(
        target=keep_registered, args=(registration, registration.last_result), daemon=True,
        kwargs={"on_result": journal.write, "should_stop": lambda: False,
                "retry_seconds": retry_seconds})
    thread.start()
    return thread


def main(argv=None):
    """Register from config files given on the command line (for tests and by hand):
      python3 -m phonesimlib.sip --local-ip IP [--rounds N] FILE...
    FILE: SIPDefault.cnf / SIP<MAC>.cnf, or one SEP<MAC>.cnf.xml / XMLDefault.cnf.xml.
    Prints one JSON line per REGISTER (the end-state fields plus "aor" and "round");
    exit 0 if the last one was registered, 1 if not, 2 for an unusable config."""
    import argparse
    import json
    import sys
    p = argparse.ArgumentParser(prog="python3 -m phonesimlib.sip")
    p.add_argument("--local-ip", required=True)
    p.add_argument("--rounds", type=int, default=0, metavar="N",
                   help="re-register N more times at half the granted Expires")
    p.add_argument("--retry-seconds", type=float, default=30.0)
    p.add_argument("--timeout", type=float, default=TIMER_F, help="per transaction")
    p.add_argument("files", nargs="+")
    args = p.parse_args(argv)
    files = {}
    for path in args.files:
        with open(path, "rb") as f:
            files[os.path.basename(path)] = f.read()
    names = list(files)
    sip_names = [n for n in names if n.endswith(".cnf")]
    if sip_names:
        default = files.get("SIPDefault.cnf")
        per_mac = next((files[n] for n in sip_names if n != "SIPDefault.cnf"), None)
        account, why = account_from_sip_cnf(default, per_mac)
    elif len(names) == 1:
        account, why = account_from_xml(files[names[0]])
    else:
        account, why = None, "give SIP .cnf files or one .cnf.xml"
    if account is None:
        print("sip: %s" % why, file=sys.stderr)
        return 2

    def show(result, n):
        print(json.dumps(dict(result.fields(), aor=account.aor(), round=n)), flush=True)

    result, registration = register_once(account, args.local_ip,
                                         transaction_timeout=args.timeout)
    show(result, 0)
    counter = iter(range(1, args.rounds + 1))
    try:
        result = keep_registered(registration, result, rounds=args.rounds,
                                 retry_seconds=args.retry_seconds,
                                 on_result=lambda r: show(r, next(counter)),
                                 should_stop=lambda: False)
    finally:
        registration.close()
    return 0 if result.registered else 1


if __name__ == "__main__":
    raise SystemExit(main())

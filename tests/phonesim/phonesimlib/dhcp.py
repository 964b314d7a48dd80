"""DHCP client side of a phone: message codec (RFC 2131/2132) and a raw-socket client.

The codec is pure. The client sends and receives whole Ethernet frames on an
AF_PACKET socket, because a phone without an address must see offers that servers
send either broadcast or unicast to chaddr/yiaddr (RFC 2131 4.1).
"""

import ipaddress
import os
import select
import socket
import struct
import time
from dataclasses import dataclass, field

MAGIC = b"\x63\x82\x53\x63"
DISCOVER, OFFER, REQUEST, DECLINE, ACK, NAK, RELEASE, INFORM = 1, 2, 3, 4, 5, 6, 7, 8
TYPE_NAMES = {1: "DISCOVER", 2: "OFFER", 3: "REQUEST", 4: "DECLINE", 5: "ACK", 6: "NAK",
              7: "RELEASE", 8: "INFORM"}
OPT_SUBNET, OPT_ROUTER, OPT_DNS, OPT_REQUESTED_IP, OPT_LEASE = 1, 3, 6, 50, 51
OPT_MSG_TYPE, OPT_SERVER_ID, OPT_PARAMS, OPT_VENDOR_CLASS = 53, 54, 55, 60
OPT_TFTP_NAME, OPT_TFTP_SERVERS = 66, 150
# The parameter list a phone asks for (issue 8; ref 6 found no capture of it).
PHONE_PARAMS = bytes([OPT_SUBNET, OPT_ROUTER, OPT_DNS, OPT_TFTP_NAME, OPT_TFTP_SERVERS])


def mac_bytes(mac):
    raw = bytes.fromhex(mac.replace(":", "").replace("-", "").replace(".", ""))
    if len(raw) != 6:
        raise ValueError("MAC must have 6 bytes: %r" % mac)
    return raw


@dataclass
class Message:
    op: int = 1
    xid: int = 0
    secs: int = 0
    flags: int = 0
    ciaddr: str = "0.0.0.0"
    yiaddr: str = "0.0.0.0"
    siaddr: str = "0.0.0.0"
    giaddr: str = "0.0.0.0"
    chaddr: bytes = b"\0" * 6
    sname: bytes = b""
    file: bytes = b""
    options: dict = field(default_factory=dict)   # code -> bytes (concatenated if repeated)

    @property
    def type(self):
        v = self.options.get(OPT_MSG_TYPE, b"")
        return v[0] if len(v) == 1 else None

    def ip_option(self, code):
        v = self.options.get(code, b"")
        return str(ipaddress.IPv4Address(v[:4])) if len(v) >= 4 else None

    def tftp_servers(self):
        """Option 150: one or more IPv4 addresses, network byte order (DESIGN)."""
        v = self.options.get(OPT_TFTP_SERVERS, b"")
        return [str(ipaddress.IPv4Address(v[i:i + 4])) for i in range(0, len(v) - len(v) % 4, 4)]

    def tftp_name(self):
        v = self.options.get(OPT_TFTP_NAME, b"")
        return v.split(b"\0", 1)[0].decode("latin-1").strip()


def encode(msg):
    """The BOOTP/DHCP payload for MSG (options in insertion order, then END, min 300 bytes)."""
    out = bytearray(struct.pack("!BBBBIHH4s4s4s4s16s64s128s", msg.op, 1, 6, 0, msg.xid, msg.secs,
                                msg.flags, socket.inet_aton(msg.ciaddr), socket.inet_aton(msg.yiaddr),
                                socket.inet_aton(msg.siaddr), socket.inet_aton(msg.giaddr),
                                msg.chaddr.ljust(16, b"\0"), msg.sname, msg.file))
    out += MAGIC
    for code, value in msg.options.items():
        for i in range(0, max(len(value), 1), 255):    # RFC 3396 splitting of long options
            chunk = value[i:i + 255]
            out += bytes([code, len(chunk)]) + chunk
    out.append(255)
    if len(out) < 300:
        out += b"\0" * (300 - len(out))
    return bytes(out)


def decode(data):
    """(Message, None) or (None, reason) for a BOOTP/DHCP payload."""
    if len(data) < 240:
        return None, "short message (%d bytes)" % len(data)
    (op, htype, hlen, _hops, xid, secs, flags, ci, yi, si, gi, chaddr, sname, bootfile
     ) = struct.unpack_from("!BBBBIHH4s4s4s4s16s64s128s", data, 0)
    if data[236:240] != MAGIC:
        return None, "no DHCP magic cookie"
    if hlen > 16:
        return None, "bad hlen %d" % hlen
    msg = Message(op=op, xid=xid, secs=secs, flags=flags, ciaddr=socket.inet_ntoa(ci),
                  yiaddr=socket.inet_ntoa(yi), siaddr=socket.inet_ntoa(si), giaddr=socket.inet_ntoa(gi),
                  chaddr=chaddr[:hlen], sname=sname.split(b"\0", 1)[0], file=bootfile.split(b"\0", 1)[0])
    i = 240
    while i < len(data):
        code = data[i]
        if code == 0:
            i += 1
            continue
        if code == 255:
            break
        if i + 1 >= len(data):
            return None, "option %d truncated" % code
        length = data[i + 1]
        if i + 2 + length > len(data):
            return None, "option %d runs past the end" % code
        msg.options[code] = msg.options.get(code, b"") + data[i + 2:i + 2 + length]
        i += 2 + length
    return msg, None


def client_message(kind, xid, mac, vendor_class, requested=None, server_id=None, secs=0):
    """A DISCOVER or REQUEST as a phone sends it: option 53, 50/54 for REQUEST, 55, 60."""
    opts = {OPT_MSG_TYPE: bytes([kind])}
    if requested:
        opts[OPT_REQUESTED_IP] = socket.inet_aton(requested)
    if server_id:
        opts[OPT_SERVER_ID] = socket.inet_aton(server_id)
    opts[OPT_PARAMS] = PHONE_PARAMS
    opts[OPT_VENDOR_CLASS] = vendor_class.encode("latin-1")
    return Message(op=1, xid=xid, secs=secs, chaddr=mac_bytes(mac), options=opts)


# ---------------------------------------------------------------- frames

def _checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def build_frame(src_mac, payload, src_ip="0.0.0.0", dst_ip="255.255.255.255", dst_mac=b"\xff" * 6):
    """Ethernet + IPv4 + UDP 68->67 frame carrying PAYLOAD."""
    udp_len = 8 + len(payload)
    src, dst = socket.inet_aton(src_ip), socket.inet_aton(dst_ip)
    pseudo = src + dst + struct.pack("!BBH", 0, 17, udp_len)
    udp = struct.pack("!HHHH", 68, 67, udp_len, 0) + payload
    csum = _checksum(pseudo + udp) or 0xFFFF
    udp = udp[:6] + struct.pack("!H", csum) + udp[8:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + udp_len, 0, 0, 64, 17, 0, src, dst)
    ip = ip[:10] + struct.pack("!H", _checksum(ip)) + ip[12:]
    return dst_mac + src_mac + b"\x08\x00" + ip + udp


def parse_frame(frame):
    """The UDP payload of an IPv4/UDP frame to port 68, else None."""
    if len(frame) < 14 + 20 + 8 or frame[12:14] != b"\x08\x00":
        return None
    ip = frame[14:]
    ihl = (ip[0] & 0x0F) * 4
    if ip[0] >> 4 != 4 or ip[9] != 17 or len(ip) < ihl + 8:
        return None
    total = struct.unpack_from("!H", ip, 2)[0]
    sport, dport, ulen = struct.unpack_from("!HHH", ip, ihl)
    if dport != 68 or ulen < 8:
        return None
    return ip[ihl + 8:min(ihl + ulen, total)]


@dataclass
class Lease:
    address: str
    prefixlen: int
    server_id: str
    siaddr: str
    tftp_servers: list
    tftp_name: str
    router: str
    offer: Message


class DhcpTimeout(Exception):
    pass


class RawClient:
    """DISCOVER/OFFER/REQUEST/ACK on IFACE through an AF_PACKET socket."""

    def __init__(self, iface, mac, vendor_class, log=lambda msg: None):
        self.iface, self.mac, self.vendor_class, self.log = iface, mac, vendor_class, log
        self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0800))
        self.sock.bind((iface, 0))

    def close(self):
        self.sock.close()

    def _send(self, msg):
        self.sock.send(build_frame(mac_bytes(self.mac), encode(msg)))

    def _wait(self, xid, want, deadline):
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            ready, _, _ = select.select([self.sock], [], [], left)
            if not ready:
                return None
            frame = self.sock.recv(65535)
            body = parse_frame(frame)
            if body is None:
                continue
            msg, _ = decode(body)
            if msg is None or msg.op != 2 or msg.xid != xid or msg.chaddr != mac_bytes(self.mac):
                continue
            if msg.type in want:
                return msg

    def obtain(self, timeout, retransmit=2.0):
        """Run DORA until an ACK; raise DhcpTimeout after TIMEOUT seconds."""
        deadline = time.monotonic() + timeout
        start = time.monotonic()
        while time.monotonic() < deadline:
            xid = int.from_bytes(os.urandom(4), "big")
            secs = int(time.monotonic() - start)
            self._send(client_message(DISCOVER, xid, self.mac, self.vendor_class, secs=secs))
            self.log("dhcp: DISCOVER xid=%08x vendor-class=%r" % (xid, self.vendor_class))
            offer = self._wait(xid, (OFFER,), min(deadline, time.monotonic() + retransmit))
            if offer is None:
                continue
            server_id = offer.ip_option(OPT_SERVER_ID) or offer.siaddr
            self.log("dhcp: OFFER %s from %s" % (offer.yiaddr, server_id))
            for _attempt in range(3):
                self._send(client_message(REQUEST, xid, self.mac, self.vendor_class,
                                          requested=offer.yiaddr, server_id=server_id, secs=secs))
                reply = self._wait(xid, (ACK, NAK), min(deadline, time.monotonic() + retransmit))
                if reply is not None:
                    break
            else:
                continue
            if reply.type == NAK:
                self.log("dhcp: NAK from %s" % server_id)
                continue
            mask = reply.ip_option(OPT_SUBNET) or "255.255.255.0"
            prefixlen = ipaddress.IPv4Network("0.0.0.0/" + mask).prefixlen
            self.log("dhcp: ACK %s/%d option150=%s option66=%r siaddr=%s" % (
                reply.yiaddr, prefixlen, reply.tftp_servers(), reply.tftp_name(), reply.siaddr))
            return Lease(reply.yiaddr, prefixlen, server_id, reply.siaddr, reply.tftp_servers(),
                         reply.tftp_name(), reply.ip_option(OPT_ROUTER) or "", reply)
        raise DhcpTimeout("no DHCP ACK within %.0f s" % timeout)

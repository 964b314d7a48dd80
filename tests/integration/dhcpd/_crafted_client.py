#!/usr/bin/env python3
"""Hand-made DHCP packets against cisco-dhcpd (python3 socket/struct only),
run inside a client namespace by crafted-packets.sh. Each case prints PASS or
raises. Cases: relay (giaddr, option 82), inform, decline, broadcast flag,
garbage (after which a normal exchange must still work)."""
import os
import random
import socket
import struct
import sys

SERVER = sys.argv[1]
CASE = sys.argv[2]
IP_PKTINFO = 8


def options(*pairs):
    out = b""
    for code, value in pairs:
        out += bytes([code, len(value)]) + value
    return out + b"\xff"


PHONE_VENDOR = b"Cisco Systems, Inc. IP Phone CP-7960G\0"


def packet(msg_type, mac, xid, flags=0, ciaddr="0.0.0.0", giaddr="0.0.0.0", extra=(),
           vendor=PHONE_VENDOR):
    header = struct.pack("!BBBBIHH4s4s4s4s16s64s128s", 1, 1, 6, 0, xid, 0, flags,
                         socket.inet_aton(ciaddr), b"\0" * 4, b"\0" * 4, socket.inet_aton(giaddr),
                         mac + b"\0" * 10, b"", b"")
    opts = [(53, bytes([msg_type])), (60, vendor),
            (55, bytes([1, 3, 150, 66]))] + list(extra)
    return header + b"\x63\x82\x53\x63" + options(*opts)


def parse(data):
    if len(data) < 240 or data[236:240] != b"\x63\x82\x53\x63":
        raise AssertionError("reply is not DHCP")
    fields = struct.unpack("!BBBBIHH4s4s4s4s", data[:28])
    opts, i = {}, 240
    while i < len(data) and data[i] != 255:
        if data[i] == 0:
            i += 1
            continue
        code, length = data[i], data[i + 1]
        opts[code] = opts.get(code, b"") + data[i + 2:i + 2 + length]
        i += 2 + length
    return {"op": fields[0], "xid": fields[4], "flags": fields[6],
            "ciaddr": socket.inet_ntoa(fields[7]), "yiaddr": socket.inet_ntoa(fields[8]),
            "giaddr": socket.inet_ntoa(fields[10]), "opts": opts}


def udp_socket(port, bind="0.0.0.0"):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
    s.setsockopt(socket.IPPROTO_IP, IP_PKTINFO, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, b"eth0")  # no default route here
    s.settimeout(3)
    s.bind((bind, port))
    return s


def receive(s, xid):
    """The next DHCP reply with this xid, and the IP destination it was sent to."""
    while True:
        data, ancillary, _flags, peer = s.recvmsg(4096, socket.CMSG_SPACE(12))
        destination = None
        for level, kind, value in ancillary:
            if level == socket.IPPROTO_IP and kind == IP_PKTINFO:
                destination = socket.inet_ntoa(value[8:12])
        reply = parse(data)
        if reply["xid"] == xid:
            reply["destination"] = destination
            reply["peer"] = peer
            return reply


def ip_opt(reply, code):
    return socket.inet_ntoa(reply["opts"][code][:4])


def dora(s, mac, target=("255.255.255.255", 67), giaddr="0.0.0.0", extra=()):
    xid = random.getrandbits(32)
    s.sendto(packet(1, mac, xid, flags=0x8000, giaddr=giaddr, extra=extra), target)
    offer = receive(s, xid)
    assert offer["opts"][53] == b"\x02", offer
    server_id = offer["opts"][54]
    s.sendto(packet(3, mac, xid, flags=0x8000, giaddr=giaddr,
                    extra=[(54, server_id), (50, socket.inet_aton(offer["yiaddr"]))] + list(extra)), target)
    ack = receive(s, xid)
    assert ack["opts"][53] == b"\x05", ack
    return offer, ack


def case_broadcast():
    s = udp_socket(68)
    offer, ack = dora(s, os.urandom(6))
    assert offer["destination"] == "255.255.255.255", offer["destination"]
    assert ack["destination"] == "255.255.255.255", ack["destination"]
    assert ack["flags"] & 0x8000
    assert ack["opts"][150] == socket.inet_aton(SERVER), ack["opts"].get(150)
    print("PASS broadcast flag: OFFER and ACK to 255.255.255.255, option 150 =", SERVER)


def case_relay():
    # This namespace plays the relay agent for 10.99.0.0/24 (giaddr 10.99.0.1).
    s = udp_socket(67)
    agent = b"\x01\x04port\x02\x03sw1"
    offer, ack = dora(s, os.urandom(6), target=(SERVER, 67), giaddr="10.99.0.1",
                      extra=[(82, agent)])
    for reply in (offer, ack):
        assert reply["yiaddr"].startswith("10.99.0."), reply["yiaddr"]
        assert reply["giaddr"] == "10.99.0.1"
        assert reply["opts"].get(82) == agent, reply["opts"].get(82)
        assert reply["destination"] == "10.99.0.1", reply["destination"]
        assert reply["peer"][1] == 67
        assert ip_opt(reply, 3) == "10.99.0.1"
        assert reply["opts"][1] == socket.inet_aton("255.255.255.0")
    print("PASS relay: address", ack["yiaddr"], "from the relay's pool, option 82 echoed")


def case_inform(own_address):
    s = udp_socket(68)
    xid = random.getrandbits(32)
    s.sendto(packet(8, os.urandom(6), xid, ciaddr=own_address), (SERVER, 67))
    reply = receive(s, xid)
    assert reply["opts"][53] == b"\x05"
    assert reply["yiaddr"] == "0.0.0.0"
    assert 51 not in reply["opts"], "INFORM reply must not carry a lease time"
    assert reply["destination"] == own_address, reply["destination"]
    assert reply["opts"][150] == socket.inet_aton(SERVER)
    print("PASS inform: ACK unicast to", own_address, "with option 150 and no lease")


def case_decline():
    s = udp_socket(68)
    mac = os.urandom(6)
    _offer, ack = dora(s, mac)
    declined = ack["yiaddr"]
    s.sendto(packet(4, mac, random.getrandbits(32), extra=[(50, socket.inet_aton(declined)),
                                                          (54, ack["opts"][54])]),
             ("255.255.255.255", 67))
    for _ in range(3):
        _offer, other = dora(s, os.urandom(6))
        assert other["yiaddr"] != declined, "a declined address was handed out again"
    _offer, again = dora(s, mac)
    assert again["yiaddr"] != declined, "the decliner got its declined address back"
    print("PASS decline:", declined, "quarantined")


def case_garbage():
    target = (SERVER, 67)
    s = udp_socket(68)
    good = packet(1, os.urandom(6), 7)
    samples = [b"", b"\x01", os.urandom(100), good[:239],                         # truncated
               good[:236] + b"\x00\x00\x00\x00" + good[240:],                    # no cookie
               good[:240] + b"\x35\x01\x01\x3c\xf0abc",                          # length past the end
               good[:240] + b"\x35\x01\x01",                                     # no END
               good[:240] + b"\x35\x01\x01\x34\x01\x03\xff",                     # overload, fields empty
               good[:108] + b"\x34\x01\x03\xff" + good[112:240] + b"\x35\x01\x01\x34\x01\x01\xff",  # loop
               good[:240] + b"\x34\x01\x09\xff",                                 # bad overload value
               good[:2] + b"\x20" + good[3:]]                                    # hlen 32
    samples += [good[:240] + os.urandom(random.randint(0, 300)) for _ in range(200)]
    for sample in samples:
        s.sendto(sample, target)
    _offer, ack = dora(s, os.urandom(6), target=("255.255.255.255", 67))
    print("PASS garbage:", len(samples), "malformed packets, then a normal client got", ack["yiaddr"])


FORGED = b"\ncisco-dhcpd: error: FORGED\x1b[2J\x1b]0;title\x07"


def case_forge():
    """Hostname and vendor class carrying a newline and ESC sequences; the shell
    side checks that the server's stderr shows them escaped."""
    s = udp_socket(68)
    _offer, ack = dora(s, os.urandom(6), extra=[(12, b"SEP00112233" + FORGED)])
    xid = random.getrandbits(32)
    s.sendto(packet(1, os.urandom(6), xid, flags=0x8000, vendor=b"PC" + FORGED), ("255.255.255.255", 67))
    print("PASS forge: a phone with a forged hostname got", ack["yiaddr"])


if CASE == "forge":
    case_forge()
elif CASE == "broadcast":
    case_broadcast()
elif CASE == "relay":
    case_relay()
elif CASE == "inform":
    case_inform(sys.argv[3])
elif CASE == "decline":
    case_decline()
elif CASE == "garbage":
    case_garbage()
else:
    sys.exit(f"unknown case {CASE}")

#!/usr/bin/env python3
"""DORA load for crash-safety.sh: one new random MAC per exchange, broadcast
flag set; every ACK seen is appended to OUT as "mac ip" before the next
exchange. Runs until killed. Usage: _load_client.py OUT"""
import os
import random
import socket
import struct
import sys


def packet(msg_type, mac, xid, extra=b""):
    header = struct.pack("!BBBBIHH16s16s64s128s", 1, 1, 6, 0, xid, 0, 0x8000, b"\0" * 16,
                         mac + b"\0" * 10, b"", b"")
    return header + b"\x63\x82\x53\x63" + bytes([53, 1, msg_type]) + extra + b"\xff"


def wait_for(s, xid, kind):
    while True:
        data = s.recv(4096)
        if len(data) < 240 or struct.unpack("!I", data[4:8])[0] != xid:
            continue
        opts, i = {}, 240
        while i + 1 < len(data) and data[i] != 255:
            if data[i] == 0:
                i += 1
                continue
            opts[data[i]] = data[i + 2:i + 2 + data[i + 1]]
            i += 2 + data[i + 1]
        if opts.get(53) == bytes([kind]):
            return socket.inet_ntoa(data[16:20]), opts


s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, b"eth0")
s.bind(("0.0.0.0", 68))
s.settimeout(0.5)
out = open(sys.argv[1], "a", buffering=1)
target = ("255.255.255.255", 67)
while True:
    mac = bytes([0x02]) + os.urandom(5)
    xid = random.getrandbits(32)
    try:
        s.sendto(packet(1, mac, xid), target)
        offered, opts = wait_for(s, xid, 2)
        s.sendto(packet(3, mac, xid, bytes([54, 4]) + opts[54] + bytes([50, 4]) + socket.inet_aton(offered)),
                 target)
        acked, _ = wait_for(s, xid, 5)
        out.write("%s %s\n" % (":".join("%02x" % b for b in mac), acked))
    except socket.timeout:
        continue

#!/usr/bin/env python3
"""A bounded DISCOVER flood for soak.sh: DISCOVERs from random MACs, never
answered, RATE a second (or as many as the machine manages) for SECONDS; every
8th packet also a CDP frame of a made-up phone (random SEP<MAC>) on IFACE, so
the announcement table is flooded too. Prints how many it sent.
Usage: _flood_client.py IFACE SECONDS RATE"""
import os
import random
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.join(os.environ.get("CF_SOURCE_DIR", "."), "tests", "phonesim"))
from phonesimlib import cdp  # noqa: E402

iface, seconds, rate = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])


def discover(mac, xid):
    header = struct.pack("!BBBBIHH16s16s64s128s", 1, 1, 6, 0, xid, 0, 0x8000, b"\0" * 16,
                         mac + b"\0" * 10, b"", b"")
    return header + b"\x63\x82\x53\x63" + bytes([53, 1, 1]) + \
        bytes([60, 37]) + b"Cisco Systems, Inc. IP Phone CP-7960G" + bytes([55, 3, 1, 3, 150]) + b"\xff"


udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
udp.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
udp.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, iface.encode())
raw = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
raw.bind((iface, 0))
start = time.monotonic()
deadline = start + seconds
sent = frames = 0
while time.monotonic() < deadline:
    ahead = sent / rate - (time.monotonic() - start)
    if ahead > 0:
        time.sleep(ahead)
    mac = bytes([0x02]) + os.urandom(5)
    try:
        udp.sendto(discover(mac, random.getrandbits(32)), ("255.255.255.255", 67))
    except OSError:
        time.sleep(0.001)  # the queue is full: let it drain
        continue
    sent += 1
    if sent % 8 == 0:
        text = mac.hex(":")
        raw.send(cdp.build_cdp_frame(text, cdp.device_id(text), "P00308000900", "Cisco IP Phone 7960",
                                     "10.231.10.%d" % random.randint(2, 254)))
        frames += 1
print("sent %d DISCOVERs and %d CDP frames" % (sent, frames))

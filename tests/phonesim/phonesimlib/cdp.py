"""What a phone announces on its link: CDPv2 and LLDP-MED frames.

Written from the protocol layouts, not from ciscoflash's C++:
* CDP: IEEE 802.3 frame to 01:00:0c:cc:cc:cc, LLC DSAP/SSAP 0xAA 0xAA control
  0x03, SNAP OUI 00:00:0c protocol 0x2000; then version (2), TTL (a phone: 180 s),
  a 16-bit checksum, and TLVs of (type, length including the 4-byte header, value):
  1 Device-ID ("SEP" + MAC, upper-case hex), 2 Addresses, 3 Port-ID, 4 Capabilities,
  5 Software version (the running load), 6 Platform ("Cisco IP Phone 7960").
  Reference evidence-79xx.md 7 (a switch's `show cdp neighbors detail` of phones).
  The checksum is the Internet checksum (RFC 1071) over the CDP header and TLVs, with
  Cisco's rule for an odd length: the last byte is the low byte of the last word,
  sign-extended when its top bit is set (as Wireshark's CDP dissector describes).
* LLDP (IEEE 802.1AB): ethertype 0x88cc to 01:80:c2:00:00:0e; TLV header = 7-bit
  type, 9-bit length. Chassis ID, Port ID, TTL first, End last. LLDP-MED (ANSI/TIA-1057)
  TLVs are organisationally specific (type 127) with OUI 00:12:bb: subtype 1
  capabilities, 5 hardware revision, 6 firmware revision, 7 software revision,
  8 serial number, 9 manufacturer, 10 model name.

Real 79xx send CDPv2 every 60 s with TTL 180; 79x1 and later also LLDP-MED
(evidence 7: "the exact strings are unverified"; the load as software revision is
this simulator's choice).
"""

import socket
import struct

CDP_MULTICAST = bytes.fromhex("01000ccccccc")
LLDP_MULTICAST = bytes.fromhex("0180c200000e")
LLDP_ETHERTYPE = 0x88CC
CDP_SNAP = bytes([0xAA, 0xAA, 0x03, 0x00, 0x00, 0x0C, 0x20, 0x00])
CDP_TTL = 180
CDP_INTERVAL = 60

CDP_DEVICE_ID, CDP_ADDRESSES, CDP_PORT_ID, CDP_CAPABILITIES = 1, 2, 3, 4
CDP_SOFTWARE, CDP_PLATFORM = 5, 6
CDP_CAP_HOST, CDP_CAP_PHONE = 0x10, 0x400

MED_OUI = bytes([0x00, 0x12, 0xBB])
MED_CAPABILITIES, MED_HW_REV, MED_FW_REV, MED_SW_REV = 1, 5, 6, 7
MED_SERIAL, MED_MANUFACTURER, MED_MODEL = 8, 9, 10


def mac_bytes(mac):
    raw = bytes.fromhex(mac.replace(":", "").replace("-", "").replace(".", ""))
    if len(raw) != 6:
        raise ValueError("MAC must have 6 bytes: %r" % mac)
    return raw


def device_id(mac):
    """The CDP Device-ID / LLDP system name of a phone: SEP + MAC in upper-case hex."""
    return "SEP" + mac_bytes(mac).hex().upper()


def cdp_checksum(data):
    """RFC 1071 sum over DATA; an odd last byte enters as Cisco devices add it."""
    total = 0
    even = len(data) - len(data) % 2
    for i in range(0, even, 2):
        total += (data[i] << 8) | data[i + 1]
    if len(data) % 2:
        last = data[-1]
        total += (0xFF00 | last) if last & 0x80 else last
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def _cdp_tlv(kind, value):
    return struct.pack("!HH", kind, len(value) + 4) + value


def _text(value):
    return value.encode("ascii") if isinstance(value, str) else bytes(value)


def build_cdp_frame(src_mac, device_id, load, platform, ip, port="Port 1", ttl=CDP_TTL):
    """A whole CDPv2 Ethernet frame (no FCS), as a phone sends it."""
    tlvs = _cdp_tlv(CDP_DEVICE_ID, _text(device_id))
    if ip:
        # One address: protocol type 1 (NLPID), length 1, protocol 0xCC (IP), 4 bytes.
        tlvs += _cdp_tlv(CDP_ADDRESSES, struct.pack("!IBBBH", 1, 1, 1, 0xCC, 4) + socket.inet_aton(ip))
    tlvs += _cdp_tlv(CDP_PORT_ID, _text(port))
    tlvs += _cdp_tlv(CDP_CAPABILITIES, struct.pack("!I", CDP_CAP_HOST | CDP_CAP_PHONE))
    tlvs += _cdp_tlv(CDP_SOFTWARE, _text(load))
    tlvs += _cdp_tlv(CDP_PLATFORM, _text(platform))
    pdu = bytearray(struct.pack("!BBH", 2, ttl, 0) + tlvs)
    struct.pack_into("!H", pdu, 2, cdp_checksum(pdu))
    llc = CDP_SNAP + bytes(pdu)
    frame = CDP_MULTICAST + mac_bytes(src_mac) + struct.pack("!H", len(llc)) + llc
    return frame.ljust(60, b"\0")


def _lldp_tlv(kind, value):
    if len(value) > 511:
        raise ValueError("LLDP TLV value longer than 511 bytes")
    return struct.pack("!H", (kind << 9) | len(value)) + value


def _med(subtype, value):
    return _lldp_tlv(127, MED_OUI + bytes([subtype]) + value)


def build_lldp_med_frame(src_mac, load, model, ip, ttl=CDP_TTL, serial="FCH0000SIM",
                         manufacturer="Cisco Systems, Inc."):
    """A whole LLDP-MED Ethernet frame: chassis id the phone's IP (network address),
    port id "<MAC>:P1", system name SEP<MAC>, management address, MED capabilities
    and inventory (software revision = the running load, model name)."""
    raw_mac = mac_bytes(src_mac)
    if ip:
        chassis = bytes([5, 1]) + socket.inet_aton(ip)   # network address, IANA family 1
    else:
        chassis = bytes([4]) + raw_mac                   # MAC address
    tlvs = _lldp_tlv(1, chassis)
    tlvs += _lldp_tlv(2, bytes([7]) + (raw_mac.hex().upper() + ":P1").encode())  # locally assigned
    tlvs += _lldp_tlv(3, struct.pack("!H", ttl))
    tlvs += _lldp_tlv(5, device_id(src_mac).encode())
    if ip:
        # address string length 5 (subtype + 4), subtype 1 IPv4, ifIndex numbering 2, if 0, no OID
        tlvs += _lldp_tlv(8, bytes([5, 1]) + socket.inet_aton(ip) + bytes([2]) + struct.pack("!I", 0) + b"\0")
    # capabilities: LLDP-MED caps, network policy, inventory; class III endpoint
    tlvs += _med(MED_CAPABILITIES, struct.pack("!HB", 0x0001 | 0x0002 | 0x0020, 3))
    tlvs += _med(MED_SW_REV, _text(load))
    tlvs += _med(MED_SERIAL, _text(serial))
    tlvs += _med(MED_MANUFACTURER, _text(manufacturer))
    tlvs += _med(MED_MODEL, _text(model))
    tlvs += _lldp_tlv(0, b"")
    frame = LLDP_MULTICAST + raw_mac + struct.pack("!H", LLDP_ETHERTYPE) + tlvs
    return frame.ljust(60, b"\0")


def send_frame(ifname, frame):
    """Sends one whole Ethernet frame out of IFNAME (AF_PACKET; needs CAP_NET_RAW)."""
    with socket.socket(socket.AF_PACKET, socket.SOCK_RAW) as s:
        s.bind((ifname, 0))
        s.send(frame)


LLDP_MODELS = frozenset({"7906", "7911", "7931", "7941", "7942", "7945", "7961", "7962", "7965",
                         "7970", "7971", "7975"})


def speaks_lldp(model):
    """79x1, 79x2, 79x5 and 797x (and the 7906/7911/7931 of the same firmware
    generation) send LLDP-MED besides CDP, from their 8.x loads on (evidence 7);
    7940/7960, 7905/7912 do not. MODEL: "7965", "7941G-GE", "CP-7965G"."""
    name = str(model).upper()
    if name.startswith("CP-"):
        name = name[3:]
    return name[:4] in LLDP_MODELS

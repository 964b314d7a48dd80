"""Sends phone announcements built with scapy's own CDP and LLDP layers (not ours).

Run inside a test namespace by tests/integration/dhcpd/announce.sh:
  _scapy_announce.py IFACE cdp MAC LOAD PLATFORM IP [COUNT]
  _scapy_announce.py IFACE lldp MAC LOAD MODEL IP [COUNT]
  _scapy_announce.py IFACE garbage
COUNT copies are sent (a phone repeats itself; the server must report it once).
"""

import sys

from scapy.all import Dot3, Ether, LLC, SNAP, Raw, sendp, conf
from scapy.contrib import cdp, lldp

conf.verb = 0


def device_id(mac):
    return "SEP" + mac.replace(":", "").upper()


def cdp_frame(mac, load, platform, ip):
    pdu = cdp.CDPv2_HDR(vers=2, ttl=180, msg=[
        cdp.CDPMsgDeviceID(val=device_id(mac)),
        cdp.CDPMsgAddr(addr=[cdp.CDPAddrRecordIPv4(addr=ip)]),
        cdp.CDPMsgPortID(iface="Port 1"),
        cdp.CDPMsgCapabilities(cap=0x410),
        cdp.CDPMsgSoftwareVersion(val=load),
        cdp.CDPMsgPlatform(val=platform),
    ])
    # Dot3: an 802.3 frame with a length field, as CDP is; scapy fills the length and the CDP checksum.
    return Dot3(dst="01:00:0c:cc:cc:cc", src=mac) / LLC(dsap=0xAA, ssap=0xAA, ctrl=3) / \
        SNAP(OUI=0x00000C, code=0x2000) / pdu


def med(subtype, text):
    return lldp.LLDPDUGenericOrganisationSpecific(org_code=0x0012BB, subtype=subtype,
                                                  data=text.encode())


def lldp_frame(mac, load, model, ip):
    return Ether(dst=lldp.LLDP_NEAREST_BRIDGE_MAC, src=mac) / \
        lldp.LLDPDUChassisID(subtype=lldp.LLDPDUChassisID.SUBTYPE_MAC_ADDRESS, id=mac) / \
        lldp.LLDPDUPortID(subtype=lldp.LLDPDUPortID.SUBTYPE_LOCALLY_ASSIGNED,
                          id=mac.replace(":", "").upper() + ":P1") / \
        lldp.LLDPDUTimeToLive(ttl=180) / \
        lldp.LLDPDUSystemName(system_name=device_id(mac)) / \
        lldp.LLDPDUManagementAddress(
            management_address_subtype=lldp.LLDPDUManagementAddress.SUBTYPE_MANAGEMENT_ADDRESS_IPV4,
            management_address=bytes(int(x) for x in ip.split(".")),
            interface_numbering_subtype=lldp.LLDPDUManagementAddress.SUBTYPE_INTERFACE_NUMBER_IF_INDEX,
            interface_number=1) / \
        med(7, load) / med(10, model) / med(8, "FCH1234TEST") / \
        lldp.LLDPDUEndOfLLDPDU()


def main(argv):
    iface, kind = argv[1], argv[2]
    if kind == "garbage":
        # A CDP frame whose Device-ID TLV claims more bytes than the frame holds, and
        # an LLDP frame cut inside its chassis id: each must be refused, not crash.
        frames = [Dot3(dst="01:00:0c:cc:cc:cc", src="02:00:00:00:00:66") /
                  LLC(dsap=0xAA, ssap=0xAA, ctrl=3) / SNAP(OUI=0x00000C, code=0x2000) /
                  Raw(b"\x02\xb4\x00\x00\x00\x01\x7f\xff" + b"SEP0200000000" + b"6" * 3),
                  Ether(dst=lldp.LLDP_NEAREST_BRIDGE_MAC, src="02:00:00:00:00:66", type=0x88CC) /
                  Raw(b"\x02\x07\x04\x02\x00")]
    elif kind == "cdp":
        frames = [cdp_frame(*argv[3:7])]
    elif kind == "lldp":
        frames = [lldp_frame(*argv[3:7])]
    else:
        raise SystemExit("unknown kind " + kind)
    count = int(argv[7]) if len(argv) > 7 else 1
    for frame in frames:
        sendp(frame, iface=iface, count=count)


if __name__ == "__main__":
    main(sys.argv)

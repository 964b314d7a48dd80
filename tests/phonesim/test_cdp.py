"""Unit tests of the phone's CDP / LLDP-MED frames: python3 -m unittest (from tests/phonesim).

The frames are walked here field by field from the layouts (802.3 + SNAP for CDP,
802.1AB TLVs for LLDP), so a wrong length, checksum or order fails."""

import struct
import unittest

from phonesimlib import cdp

MAC = "00:1e:4a:12:34:56"


def cdp_tlvs(frame):
    """(version, ttl, checksum, {type: value}, pdu) of a CDP frame, checking the headers."""
    assert frame[:6] == cdp.CDP_MULTICAST
    length = struct.unpack("!H", frame[12:14])[0]
    assert length <= 1500, "802.3 length field"
    llc = frame[14:14 + length]
    assert len(llc) == length
    assert llc[:8] == cdp.CDP_SNAP
    pdu = llc[8:]
    version, ttl, checksum = struct.unpack("!BBH", pdu[:4])
    tlvs, at = {}, 4
    while at < len(pdu):
        kind, size = struct.unpack("!HH", pdu[at:at + 4])
        assert size >= 4 and at + size <= len(pdu), "TLV %d length %d" % (kind, size)
        tlvs.setdefault(kind, pdu[at + 4:at + size])
        at += size
    assert at == len(pdu)
    return version, ttl, checksum, tlvs, pdu


def ones_complement_holds(pdu):
    """The checksum field makes the (Cisco odd-byte) sum 0xFFFF."""
    total = 0
    for i in range(0, len(pdu) - len(pdu) % 2, 2):
        total += (pdu[i] << 8) | pdu[i + 1]
    if len(pdu) % 2:
        total += (0xFF00 | pdu[-1]) if pdu[-1] & 0x80 else pdu[-1]
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return total == 0xFFFF


def lldp_tlvs(frame):
    assert frame[:6] == cdp.LLDP_MULTICAST
    assert struct.unpack("!H", frame[12:14])[0] == 0x88CC
    out, at = [], 14
    while True:
        header = struct.unpack("!H", frame[at:at + 2])[0]
        kind, size = header >> 9, header & 0x1FF
        assert at + 2 + size <= len(frame)
        out.append((kind, frame[at + 2:at + 2 + size]))
        at += 2 + size
        if kind == 0:
            return out


class CdpFrameTest(unittest.TestCase):
    def test_fields_lengths_and_checksum(self):
        frame = cdp.build_cdp_frame(MAC, cdp.device_id(MAC), "P00308000900", "Cisco IP Phone 7960",
                                    "10.1.2.3")
        self.assertEqual(frame[6:12], bytes.fromhex("001e4a123456"))
        version, ttl, checksum, tlvs, pdu = cdp_tlvs(frame)
        self.assertEqual((version, ttl), (2, 180))
        self.assertNotEqual(checksum, 0)
        self.assertTrue(ones_complement_holds(pdu))
        self.assertEqual(tlvs[cdp.CDP_DEVICE_ID], b"SEP001E4A123456")
        self.assertEqual(tlvs[cdp.CDP_SOFTWARE], b"P00308000900")
        self.assertEqual(tlvs[cdp.CDP_PLATFORM], b"Cisco IP Phone 7960")
        self.assertEqual(tlvs[cdp.CDP_PORT_ID], b"Port 1")
        self.assertEqual(tlvs[cdp.CDP_ADDRESSES], bytes.fromhex("00000001" "01" "01" "cc" "0004" "0a010203"))

    def test_odd_length_with_high_last_byte(self):
        # A platform ending in a byte >= 0x80 on an odd PDU exercises Cisco's sign-extended rule.
        for platform in ("Cisco IP Phone 7965\xe9", "Cisco IP Phone 7965\xe9x"):
            frame = cdp.build_cdp_frame(MAC, "SEP001E4A123456", "SCCP45.9-4-2SR3-1S",
                                        platform.encode("latin-1"), "10.1.2.3")
            _, _, _, _, pdu = cdp_tlvs(frame)
            self.assertTrue(ones_complement_holds(pdu), len(pdu))

    def test_checksum_of_a_known_sum(self):
        # 0x0102 + 0x0304 = 0x0406 -> ~ = 0xFBF9; odd 0x05 -> 0x0406 + 0x05 = 0x040B -> 0xFBF4
        self.assertEqual(cdp.cdp_checksum(bytes([1, 2, 3, 4])), 0xFBF9)
        self.assertEqual(cdp.cdp_checksum(bytes([1, 2, 3, 4, 5])), 0xFBF4)
        self.assertEqual(cdp.cdp_checksum(bytes([1, 2, 3, 4, 0x85])), (~(0x0406 + 0xFF85 - 0xFFFF)) & 0xFFFF)


class LldpFrameTest(unittest.TestCase):
    def test_tlv_order_and_inventory(self):
        frame = cdp.build_lldp_med_frame(MAC, "SCCP45.9-4-2SR3-1S", "CP-7965G", "10.1.2.9")
        tlvs = lldp_tlvs(frame)
        self.assertEqual([k for k, _ in tlvs[:3]], [1, 2, 3])
        self.assertEqual(tlvs[-1], (0, b""))
        self.assertEqual(tlvs[0][1], bytes([5, 1, 10, 1, 2, 9]))
        self.assertEqual(tlvs[2][1], struct.pack("!H", 180))
        names = [v for k, v in tlvs if k == 5]
        self.assertEqual(names, [b"SEP001E4A123456"])
        med = {v[3]: v[4:] for k, v in tlvs if k == 127 and v[:3] == cdp.MED_OUI}
        self.assertEqual(med[cdp.MED_SW_REV], b"SCCP45.9-4-2SR3-1S")
        self.assertEqual(med[cdp.MED_MODEL], b"CP-7965G")
        mgmt = [v for k, v in tlvs if k == 8][0]
        self.assertEqual(mgmt[:6], bytes([5, 1, 10, 1, 2, 9]))

    def test_which_models_speak_lldp(self):
        self.assertTrue(cdp.speaks_lldp("7965"))
        self.assertTrue(cdp.speaks_lldp("7941G-GE"))
        self.assertTrue(cdp.speaks_lldp("CP-7975G"))
        self.assertFalse(cdp.speaks_lldp("7960"))
        self.assertFalse(cdp.speaks_lldp("7940"))
        self.assertFalse(cdp.speaks_lldp("7912"))


if __name__ == "__main__":
    unittest.main()

"""Unit tests of the phone simulator's parsers: python3 -m unittest (from tests/phonesim)."""

import struct
import unittest

from phonesimlib import config, dhcp, firmware, loads, tftp


def sig_header(h=220):
    """A signature header of H bytes in the layout of tests/fixtures/README.md."""
    body = b"\x01\x00\x02\x00\x01" + b"\x02\x00\x02" + struct.pack(">H", h)
    return body + b"\x0b" + struct.pack(">H", h - len(body) - 3) + b"\xaa" * (h - len(body) - 3)


def cnu(files, trailing=b""):
    """A CNU archive holding FILES [(name, bytes)] (ref 1.3 layout)."""
    names = b"".join(n.encode() + b"\0" for n, _ in files)
    table_end = 0x248 + 20 * len(files)
    content = table_end + len(names)
    head = bytearray(0x248)
    head[0:20] = firmware.CNU_MAGIC
    struct.pack_into(">II", head, 0x30, len(files), content)
    head[0x38:0x4C] = firmware.CNU_MAGIC
    table, off = b"", table_end
    for name, data in files:
        table += struct.pack(">IIIII", 7, 2, len(data), 1230768000, off)
        off += len(name) + 1
    return bytes(head) + table + names + b"".join(d for _, d in files) + trailing


class LoadNames(unittest.TestCase):
    def test_7940_names(self):
        l = loads.parse_load("P00303010102")
        self.assertEqual((l.family, l.protocol, l.kind, l.version), ("7940-7960", "SCCP", "app", (3, 1, 1, 2)))
        self.assertEqual(loads.parse_load("P00308000900").version, (8, 0, 9))
        self.assertEqual(loads.parse_load("P0S3-8-12-00").protocol, "SIP")
        self.assertEqual(loads.parse_load("P003-8-12-00").kind, "loader")

    def test_cnu_names(self):
        l = loads.parse_load("SIP45.9-4-2SR3-1S")
        self.assertEqual((l.platform, l.protocol, l.version, l.sr), ("45", "SIP", (9, 4, 2), 3))
        self.assertEqual(loads.parse_load("TERM41.7-0-3-05").protocol, "SCCP")
        self.assertIsNone(loads.parse_load("apps41.9-4-2ES26.sbn"))
        self.assertIsNone(loads.parse_load(""))

    def test_vcmp(self):
        self.assertEqual(loads.vcmp((8, 2, 2), (8, 3, 3)), -1)
        self.assertEqual(loads.vcmp((8, 5, 2), (8, 5, 2, 0)), 0)
        self.assertEqual(loads.vcmp((9, 4, 2), (8, 5, 2)), 1)


class XmlConfig(unittest.TestCase):
    SEP = b"""<?xml version="1.0"?><device><deviceProtocol>SIP</deviceProtocol>
      <devicePool><callManagerGroup><members><member priority="0"><callManager>
      <processNodeName>10.0.0.1</processNodeName></callManager></member></members>
      </callManagerGroup></devicePool>
      <sipProfile><sipLines><line button="1"><proxy>USECALLMANAGER</proxy><name>201</name>
      <authName>201</authName><authPassword>pw</authPassword></line></sipLines></sipProfile>
      <loadInformation>SIP45.9-4-2SR3-1S</loadInformation></device>"""

    def test_sep(self):
        cfg, why = config.parse_xml_config(self.SEP)
        self.assertIsNone(why)
        self.assertEqual(cfg.load_for(436), "SIP45.9-4-2SR3-1S")
        self.assertEqual(cfg.proxy(), "10.0.0.1")
        self.assertEqual((cfg.lines[0].auth_name, cfg.lines[0].auth_password), ("201", "pw"))

    def test_line_proxy_wins(self):
        cfg, _ = config.parse_xml_config(self.SEP.replace(b"USECALLMANAGER", b"10.9.9.9"))
        self.assertEqual(cfg.proxy(), "10.9.9.9")

    def test_xmldefault_by_device_id(self):
        data = b"""<Default><callManagerGroup/><loadInformation7 model="IP Phone 7960">P0S3-8-12-00
          </loadInformation7><loadInformation436 model="Cisco 7965">SIP45.9-4-2SR3-1S</loadInformation436>
          </Default>"""
        cfg, why = config.parse_xml_config(data)
        self.assertIsNone(why)
        self.assertEqual(cfg.load_for(7), "P0S3-8-12-00")
        self.assertEqual(cfg.load_for(436), "SIP45.9-4-2SR3-1S")
        self.assertEqual(cfg.load_for(8), "")

    def test_bad_xml(self):
        for data in (b"", b"   ", b"<device>", b"<html/>",
                     b'<!DOCTYPE d [<!ENTITY a "x">]><device>&a;</device>'):
            cfg, why = config.parse_xml_config(data)
            self.assertIsNone(cfg)
            self.assertTrue(why)


class SipCnf(unittest.TestCase):
    def test_syntax(self):
        d, why = config.parse_sip_cnf(b'# comment\nimage_version: "P0S3-8-12-00" ; the load\n'
                                      b'proxy1_address: 10.0.0.1;\n\nline1_name: 201 # x\n')
        self.assertIsNone(why)
        self.assertEqual(d, {"image_version": "P0S3-8-12-00", "proxy1_address": "10.0.0.1", "line1_name": "201"})

    def test_errors(self):
        self.assertIsNone(config.parse_sip_cnf(b"no colon here\n")[0])
        self.assertIsNone(config.parse_sip_cnf(b'a: "open\n')[0])

    def test_merge_and_registered(self):
        d = {"image_version": "P0S3-8-12-00", "proxy1_address": "10.0.0.1"}
        s = config.sip_settings(d, {"line1_name": "203", "line1_password": "x"})
        self.assertTrue(s.registered)
        self.assertEqual((s.proxy, s.line_user), ("10.0.0.1", "203"))
        self.assertFalse(config.sip_settings(d, {"line1_name": "203"}).registered)
        self.assertFalse(config.sip_settings(d, {"line1_name": "2", "line1_password": "x",
                                                 "proxy_register": "0"}).registered)
        self.assertEqual(config.sip_settings(d, {"image_version": "P0S3-9"}).image_version, "P0S3-9")

    def test_os79xx_keeps_trailing_space(self):
        self.assertEqual(config.parse_os79xx(b"P003-8-12-00\n")[0], "P003-8-12-00")
        self.assertEqual(config.parse_os79xx(b"P003-8-12-00 \r\n")[0], "P003-8-12-00 ")
        self.assertIsNone(config.parse_os79xx(b"")[0])


class Firmware(unittest.TestCase):
    def test_loads(self):
        data = sig_header() + b"apps41.9-4-2ES26.sbn\ncnu41.9-4-2ES26.sbn\nJar41sip.8-3-3TH1-2.sbn\n"
        names, why = firmware.parse_loads(data)
        self.assertIsNone(why)
        self.assertEqual(names, ["apps41.9-4-2ES26.sbn", "cnu41.9-4-2ES26.sbn", "Jar41sip.8-3-3TH1-2.sbn"])
        self.assertEqual(firmware.parse_loads(b"")[1], "empty file")
        self.assertEqual(firmware.parse_loads(sig_header() + b"nothing useful\n")[1], "lists no component files")

    def test_signature_header(self):
        self.assertEqual(firmware.signature_header_length(sig_header(300) + b"x"), 300)
        self.assertEqual(firmware.signature_header_length(b"\x01\x00\x02\x00\x01\x02\x00\x02\xff\xff"), 0)

    def test_cnu_fits(self):
        good = sig_header() + cnu([("usr/bin/app", b"a" * 100), ("etc/init.tab", b"b" * 50)])
        info, why = firmware.check_cnu(good)
        self.assertIsNone(why)
        self.assertEqual((info["files"], info["names"], info["content_bytes"]), (2, ["usr/bin/app", "etc/init.tab"], 150))
        self.assertIsNone(firmware.verify_file("apps41.x.sbn", good, len(good), cnu_phone=True))

    def test_cnu_truncated(self):
        good = sig_header() + cnu([("usr/bin/app", b"a" * 100), ("etc/init.tab", b"b" * 50)])
        _, why = firmware.check_cnu(good[:-25])
        self.assertIn("promises 150", why)
        self.assertIn("runs past", firmware.check_cnu(good[:220 + 0x248 + 10])[1])   # cut in the table
        self.assertIsNotNone(firmware.check_cnu(good[:100])[1])
        self.assertIsNotNone(firmware.verify_file("apps41.x.sbn", sig_header() + b"\0" * 900, None, cnu_phone=True))

    def test_size_against_tsize(self):
        self.assertIn("tsize", firmware.verify_file("P0S3-8-12-00.sb2", b"x" * 10, 11))
        self.assertIsNone(firmware.verify_file("P0S3-8-12-00.sb2", b"x" * 10, 10))
        self.assertEqual(firmware.verify_file("P0S3-8-12-00.sb2", b"", None), "empty file")


class Dhcp(unittest.TestCase):
    def test_discover_roundtrip(self):
        vci = "Cisco Systems, Inc. IP Phone CP-7960G\0"
        msg = dhcp.client_message(dhcp.DISCOVER, 0x1234, "00:1E:4A:00:00:01", vci)
        raw = dhcp.encode(msg)
        self.assertGreaterEqual(len(raw), 300)
        back, why = dhcp.decode(raw)
        self.assertIsNone(why)
        self.assertEqual(back.type, dhcp.DISCOVER)
        self.assertEqual(back.options[60], vci.encode())
        self.assertEqual(list(back.options[55]), [1, 3, 6, 66, 150])
        self.assertEqual(back.chaddr, bytes.fromhex("001E4A000001"))

    def test_offer_options(self):
        msg = dhcp.Message(op=2, xid=7, yiaddr="10.0.0.5", siaddr="10.0.0.2",
                           options={53: b"\x02", 150: bytes([192, 168, 1, 1, 10, 0, 0, 9]),
                                    66: b"tftp.example\0", 1: bytes([255, 255, 255, 0])})
        back, _ = dhcp.decode(dhcp.encode(msg))
        self.assertEqual(back.tftp_servers(), ["192.168.1.1", "10.0.0.9"])   # DESIGN: C0 A8 01 01
        self.assertEqual(back.tftp_name(), "tftp.example")
        self.assertEqual(back.ip_option(1), "255.255.255.0")

    def test_bad_messages(self):
        self.assertIsNotNone(dhcp.decode(b"\0" * 100)[1])
        raw = bytearray(dhcp.encode(dhcp.Message()))
        raw[236] = 0
        self.assertIn("cookie", dhcp.decode(bytes(raw))[1])
        raw = dhcp.encode(dhcp.Message())[:240] + b"\x35\x05\x01"
        self.assertIn("past the end", dhcp.decode(raw)[1])

    def test_frame(self):
        payload = dhcp.encode(dhcp.client_message(dhcp.DISCOVER, 1, "00:1e:4a:00:00:01", "x"))
        frame = dhcp.build_frame(bytes(6), payload)
        self.assertEqual(frame[:6], b"\xff" * 6)
        ip = frame[14:34]
        self.assertEqual(dhcp._checksum(ip), 0)        # header checksum verifies
        reply = bytearray(frame)
        reply[14 + 20 + 2:14 + 20 + 4] = struct.pack("!H", 68)   # make it look like a reply
        self.assertEqual(dhcp.parse_frame(bytes(reply)), payload)
        self.assertIsNone(dhcp.parse_frame(frame))      # to port 67, not ours


class TftpPackets(unittest.TestCase):
    def test_rrq(self):
        pkt = tftp.rrq("SEP001E4A000001.cnf.xml", {"tsize": "0", "blksize": "512"})
        op, (name, mode, opts) = tftp.decode(pkt)
        self.assertEqual((op, name, mode, opts), (tftp.RRQ, "SEP001E4A000001.cnf.xml", "octet",
                                                  {"tsize": "0", "blksize": "512"}))

    def test_server_packets(self):
        self.assertEqual(tftp.decode(b"\x00\x03\x00\x07abc"), (tftp.DATA, (7, b"abc")))
        self.assertEqual(tftp.decode(b"\x00\x05\x00\x01No such file\x00"), (tftp.ERROR, (1, "No such file")))
        self.assertEqual(tftp.decode(b"\x00\x06tsize\x00123\x00BLKSIZE\x001024\x00"),
                         (tftp.OACK, {"tsize": "123", "blksize": "1024"}))
        self.assertEqual(tftp.ack(65536 + 3), b"\x00\x04\x00\x03")

    def test_bad_packets(self):
        for pkt in (b"", b"\x00", b"\x00\x03\x00", b"\x00\x05\x00\x01oops", b"\x00\x06tsize\x00",
                    b"\x00\x09xx", b"\x00\x04\x00"):
            with self.assertRaises(tftp.TftpPacketError):
                tftp.decode(pkt)


if __name__ == "__main__":
    unittest.main()

"""The phone state machine driven through its seams (fake DHCP, in-memory TFTP root)."""

import json
import os
import shutil
import struct
import tempfile
import unittest

from phonesimlib import dhcp, firmware, tftp
from phonesimlib.models import MODELS, OLD_VCI
from phonesimlib.phone import EndState, Phone
from test_parsers import cnu, sig_header

MAC = "001E4A0000AA"


def sign(data, family, name):
    """DATA with a good synthetic signature for FAMILY and NAME (tests/fixtures/fwsig.py:
    a FILENAME record, then the digest at the start of the SIGNATURE record) when it
    starts with a signature header; else unchanged. The header keeps its length."""
    fw = firmware.FWSIG
    parsed, _ = fw.parse_header(data)
    if parsed is None:
        return data
    total = parsed[0]
    head = b"\x01\x00\x02\x00\x01" + b"\x02\x00\x02" + struct.pack(">H", total)
    head += bytes([fw.TAG_FILENAME]) + struct.pack(">H", len(name)) + name.encode()
    at = len(head) + 3
    head += bytes([fw.TAG_SIGNATURE]) + struct.pack(">H", total - at) + b"\0" * (total - at)
    signed = head + bytes(data[total:])
    digest = fw.digest_for(family, signed, total, at)
    return signed[:at] + digest + signed[at + len(digest):]


class FakeTftp:
    def __init__(self, root, server, family=None):
        self.server = server
        # Files are signed for the phone's family as make-firmware signs them; a
        # name starting with "!" stays as given (a file of another model, say).
        self.root = {n.lstrip("!"): (d if n.startswith("!") or family is None else sign(d, family, n))
                     for n, d in root.items()}

    def get(self, name, progress=None):
        if name not in self.root:
            return tftp.Transfer(name, "not-found", server=self.server, detail="code 1: not found")
        data = self.root[name]
        tsize = len(data) if not name.endswith(".short") else len(data) + 1
        if progress:
            try:
                progress(len(data) // 2 + 1, tsize)
            except tftp.Abort as e:
                return tftp.Transfer(name, "aborted", data[:len(data) // 2], tsize, server=self.server, detail=str(e))
        return tftp.Transfer(name, "ok", data, tsize, server=self.server)


def loads_file(names):
    return sig_header() + "".join(n + "\n" for n in names).encode()


def root_7940():
    r = {}
    for load in ("P00303010102", "P00305000500", "P00308000400", "P00308000900",
                 "P00308010100", "P00308010200"):
        r[load + ".loads"] = loads_file([load + ".bin", load + ".sb2", load + ".sbn"])
        for ext in (".bin", ".sb2", ".sbn"):
            r[load + ext] = b"x" * 700
    r["P0S3-8-12-00.loads"] = loads_file(["P003-8-12-00.bin", "P0S3-8-12-00.sb2", "P003-8-12-00.sbn"])
    for n in ("P003-8-12-00.bin", "P0S3-8-12-00.sb2", "P003-8-12-00.sbn"):
        r[n] = b"y" * 900
    return r


def root_cnu(load, pp):
    comps = ["apps%s.b.sbn" % pp, "cnu%s.b.sbn" % pp, "jar%ssip.b.sbn" % pp]
    r = {load + ".loads": loads_file(comps)}
    for c in comps:
        r[c] = sig_header() + cnu([("usr/bin/app", b"a" * 300)])
    return r


class PhoneTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp()
        self.vcis = []
        self.option150 = ["10.0.0.1"]

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def run_phone(self, model, root, load=None, **kw):
        def fake_dhcp(vci):
            self.vcis.append(vci)
            return dhcp.Lease("10.0.0.50", 24, "10.0.0.1", "10.0.0.1", list(self.option150), "", "", None)
        family = firmware.FWSIG.family_of(model)
        phone = Phone(MODELS[model], MAC, self.dir, fake_dhcp, lambda s: FakeTftp(root, s, family),
                      sleep=lambda s: None, **kw)
        try:
            phone.run(load)
        except EndState as e:
            return phone.result_for(e)
        self.fail("no end state")

    def requests(self):
        with open(os.path.join(self.dir, "tftp.jsonl")) as f:
            return [(e["file"], e["result"]) for e in map(json.loads, f)]

    def test_7960_full_chain_to_sip(self):
        root = root_7940()
        root["XMLDefault.cnf.xml"] = b"<Default><loadInformation7>P00305000500</loadInformation7></Default>"
        r = self.run_phone("7960", root, "P00303010102")
        self.assertEqual((r["state"], r["load"]), ("running", "P00305000500"))
        self.assertEqual(self.vcis[0], OLD_VCI)                     # pre-UAL image (ref 5.1)
        self.assertEqual(self.requests()[0], ("OS79XX.TXT", "not-found"))
        root["XMLDefault.cnf.xml"] = b"<Default><loadInformation7>P00308000400</loadInformation7></Default>"
        self.run_phone("7960", root)
        root["SEP%s.cnf.xml" % MAC] = b"<device><loadInformation>P0S3-8-12-00</loadInformation></device>"
        root["SIPDefault.cnf"] = b"image_version: P0S3-8-12-00\nproxy1_address: 10.0.0.1\n"
        root["SIP%s.cnf" % MAC] = b"line1_name: 100\nline1_password: pw\n"
        r = self.run_phone("7960", root)
        self.assertEqual((r["state"], r["load"], r["protocol"], r["registered"], r["proxy"]),
                         ("running", "P0S3-8-12-00", "SIP", True, "10.0.0.1"))
        self.assertEqual(r["loads"], ["P00305000500", "P00308000400", "P003-8-12-00", "P0S3-8-12-00"])
        self.assertEqual((r["loader"], r["app"]), ("P003-8-12-00", "P0S3-8-12-00"))
        self.assertEqual(self.vcis[-1], MODELS["7960"].vendor_class)
        ok = [f for f, res in self.requests() if res == "ok"]
        i = ok.index("P003-8-12-00.bin")
        self.assertEqual(ok[i:i + 2], ["P003-8-12-00.bin", "P003-8-12-00.sbn"])   # stage 1: loader only
        self.assertIn("P0S3-8-12-00.sb2", ok[i + 2:])                            # stage 2: application

    def test_7960_skipping_stone_refused(self):
        root = root_7940()
        root["SEP%s.cnf.xml" % MAC] = b"<device><loadInformation>P00308000900</loadInformation></device>"
        r = self.run_phone("7960", root, "P00303010102")
        self.assertEqual((r["state"], r["load"]), ("refused", "P00303010102"))
        self.assertIn("an SCCP 5.x load", r["reason"])

    def test_7960_any_sccp_8x_load_is_the_universal_loader(self):
        root = root_7940()
        root["P0030801SR02.loads"] = loads_file(["P0030801SR02.bin", "P0030801SR02.sb2"])
        root["P0030801SR02.bin"] = root["P0030801SR02.sb2"] = b"z" * 700
        root["SEP%s.cnf.xml" % MAC] = b"<device><loadInformation>P0030801SR02</loadInformation></device>"
        self.assertEqual(self.run_phone("7960", root, "P00308000400")["load"], "P0030801SR02")
        root["SEP%s.cnf.xml" % MAC] = b"<device><loadInformation>P0S3-8-12-00</loadInformation></device>"
        root["SIPDefault.cnf"] = b"image_version: P0S3-8-12-00\n"
        self.assertEqual(self.run_phone("7960", root)["load"], "P0S3-8-12-00")

    def test_7960_old_sip_is_staged_and_signed_never_goes_back(self):
        root = root_7940()
        for load in ("P0S3-04-1-00", "P0S3-04-4-00", "P0S3-07-4-00"):
            root[load + ".loads"] = loads_file([load + ".sb2"])
            root[load + ".sb2"] = b"s" * 500
        root["SIPDefault.cnf"] = b"image_version: P0S3-07-4-00\n"
        r = self.run_phone("7960", root, "P0S3-04-1-00")
        self.assertEqual((r["state"], r["load"]), ("refused", "P0S3-04-1-00"))
        self.assertIn("SIP 4.4", r["reason"])
        shutil.rmtree(self.dir, ignore_errors=True)
        root["SIPDefault.cnf"] = b"image_version: P0S3-04-4-00\n"
        r = self.run_phone("7960", root, "P0S3-8-12-00")
        self.assertEqual((r["state"], r["load"]), ("auth-fail", "P0S3-8-12-00"))

    def test_announces_its_running_load_at_every_boot(self):
        root = root_7940()
        root["SEP%s.cnf.xml" % MAC] = b"<device><loadInformation>P00308000400</loadInformation></device>"
        heard = []
        r = self.run_phone("7960", root, "P00305000500", announce=lambda load, ip: heard.append((load, ip)))
        self.assertEqual(r["load"], "P00308000400")
        self.assertEqual(heard, [("P00305000500", "10.0.0.50"), ("P00308000400", "10.0.0.50")])

    def test_power_cut_while_flashing(self):
        """The image counts only once written: killed inside the window, a 79x1
        phone is back on its previous load, a 7940/7960 no longer boots."""
        class PowerCut(Exception):
            pass

        def cut(_seconds):
            raise PowerCut()

        for model, load, root, target, outcome in (
                ("7961", "SCCP41.8-5-2S", root_cnu("SIP41.9-4-2SR3-1S", "41"), "SIP41.9-4-2SR3-1S", "previous"),
                ("7960", "P00305000500", root_7940(), "P00308000400", "stuck")):
            root["SEP%s.cnf.xml" % MAC] = b"<device><loadInformation>%s</loadInformation></device>" % target.encode()
            phone = Phone(MODELS[model], MAC, self.dir, lambda vci: dhcp.Lease(
                "10.0.0.50", 24, "10.0.0.1", "10.0.0.1", ["10.0.0.1"], "", "", None),
                lambda s: FakeTftp(root, s, firmware.FWSIG.family_of(model)), sleep=cut)
            with self.assertRaises(PowerCut):
                phone.run(load)
            r = self.run_phone(model, root)
            with open(os.path.join(self.dir, "state.json")) as f:
                st = json.load(f)
            self.assertEqual(st["flash_interruptions"][0]["outcome"], outcome)
            if outcome == "previous":
                self.assertEqual((r["state"], r["load"]), ("running", target))  # takes it again
                self.assertEqual(st["flash_interruptions"][0]["load"], load)
            else:
                self.assertEqual((r["state"], r["load"]), ("flash-corrupt", load))
            shutil.rmtree(self.dir)

    def test_loader_without_option150_is_pai(self):
        root = root_7940()
        root["SEP%s.cnf.xml" % MAC] = b"<device><loadInformation>P0S3-8-12-00</loadInformation></device>"
        r = self.run_phone("7940", root, "P00308000900", max_boots=1)
        self.assertEqual((r["state"], r["load"]), ("rebooting", "P003-8-12-00"))
        self.option150 = []
        r = self.run_phone("7940", root)
        self.assertEqual(r["state"], "protocol-application-invalid")
        self.option150 = ["10.0.0.1"]
        r = self.run_phone("7940", root)
        self.assertEqual((r["state"], r["load"]), ("running", "P0S3-8-12-00"))

    def test_cnu_jump_reboot_loop_and_legal_step(self):
        root = root_cnu("SIP41.9-4-2SR3-1S", "41")
        root.update(root_cnu("SCCP41.8-5-2S", "41"))
        root["SEP%s.cnf.xml" % MAC] = b"<device><loadInformation>SIP41.9-4-2SR3-1S</loadInformation></device>"
        r = self.run_phone("7961", root, "SCCP41.8-3-2S")
        # An old-key load cannot verify a new-key one: Auth Fail, checked from the
        # .loads before any component is fetched (phone-behaviour.md 3).
        self.assertEqual((r["state"], r["load"]), ("auth-fail", "SCCP41.8-3-2S"))
        self.assertNotIn(("apps41.b.sbn", "ok"), self.requests())
        root["SEP%s.cnf.xml" % MAC] = b"<device><loadInformation>SCCP41.8-5-2S</loadInformation></device>"
        self.assertEqual(self.run_phone("7961", root)["load"], "SCCP41.8-5-2S")
        root["SEP%s.cnf.xml" % MAC] = b"<device><loadInformation>SIP41.9-4-2SR3-1S</loadInformation></device>"
        r = self.run_phone("7961", root)
        self.assertEqual((r["state"], r["load"], r["registered"]), ("running", "SIP41.9-4-2SR3-1S", False))

    def test_signing_keys_compare_with_the_service_release(self):
        """8.5(2) knows both keys; 8.5(2)SR1 only the new one; which loads before
        8.5(1) know both is disputed (key-window)."""
        root = root_cnu("SCCP41.8-5-2SR1S", "41")
        root.update(root_cnu("SCCP41.8-3-2S", "41"))
        root.update(root_cnu("SCCP41.8-4-2S", "41"))
        cases = [("SCCP41.8-5-2S", "SCCP41.8-5-2SR1S", {}, "running"),
                 ("SCCP41.8-4-2S", "SCCP41.8-5-2SR1S", {}, "running"),
                 ("SCCP41.8-4-2S", "SCCP41.8-5-2SR1S", {"key-window": "narrow"}, "auth-fail"),
                 ("SCCP41.8-5-2SR1S", "SCCP41.8-3-2S", {}, "auth-fail"),
                 ("SCCP41.8-5-2SR1S", "SCCP41.8-3-2S", {"auth-fail-mode": "loop"}, "reboot-loop")]
        for start, target, faults, state in cases:
            shutil.rmtree(self.dir, ignore_errors=True)
            root["SEP%s.cnf.xml" % MAC] = ("<device><loadInformation>%s</loadInformation></device>" % target).encode()
            r = self.run_phone("7961", root, start, faults=faults)
            self.assertEqual(r["state"], state, (start, target, faults))
            self.assertEqual(r["load"], target if state == "running" else start)

    def test_image_signatures_refuse_changed_or_foreign_files(self):
        """phone-behaviour.md 6: a file signed for another model, or changed on the
        way (netascii), is refused and the phone keeps its load."""
        good = root_cnu("SIP41.9-4-2SR3-1S", "41")
        good["SEP%s.cnf.xml" % MAC] = b"<device><loadInformation>SIP41.9-4-2SR3-1S</loadInformation></device>"
        self.assertEqual(self.run_phone("7961", dict(good), "SCCP41.8-5-2S")["load"], "SIP41.9-4-2SR3-1S")
        for name, bad in (("apps41.b.sbn", sign(good["apps41.b.sbn"], "7945-7965", "apps41.b.sbn")),
                          ("cnu41.b.sbn", sign(good["cnu41.b.sbn"], "7941-7961", "x").replace(b"\n", b"\r\n"))):
            shutil.rmtree(self.dir, ignore_errors=True)
            root = {n: d for n, d in good.items() if n != name}
            root["!" + name] = bad
            r = self.run_phone("7961", root, "SCCP41.8-5-2S")
            self.assertEqual((r["state"], r["load"]), ("retrying", "SCCP41.8-5-2S"), name)
            self.assertIn("signature", r["reason"])

    def test_7960_auth_error_edges(self):
        """phone-behaviour.md 5: 5.x takes 8.0(4) but not 8.0(5) or later; 8.1(2)
        needs 8.1(1) first. A refusal keeps the running load."""
        root = root_7940()
        for start, target, state in (("P00305000500", "P00308000900", "auth-fail"),
                                     ("P00305000500", "P00308000400", "running"),
                                     ("P00308000900", "P00308010200", "auth-fail"),
                                     ("P00308000900", "P00308010100", "running"),
                                     ("P00308010100", "P00308010200", "running")):
            shutil.rmtree(self.dir, ignore_errors=True)
            root["SEP%s.cnf.xml" % MAC] = ("<device><loadInformation>%s</loadInformation></device>" % target).encode()
            r = self.run_phone("7960", root, start)
            self.assertEqual((r["state"], r["load"]), (state, target if state == "running" else start),
                             (start, target))
            if state == "auth-fail":
                self.assertNotIn((target + ".sb2", "ok"), self.requests())

    def test_refused_second_stage_boots_the_resident_application(self):
        """A SIP 7960 sent to SCCP 8.0(5)+: the loader updates, the SIP application
        in flash boots with no error (phone-behaviour.md 5); the load says so."""
        root = root_7940()
        for target, state, load, loader in (("P00308000900", "running", "P0S3-8-12-00", "P00308000900"),
                                            ("P00308000400", "running", "P00308000400", "P00308000400")):
            shutil.rmtree(self.dir, ignore_errors=True)
            root["SIPDefault.cnf"] = ("image_version: %s\n" % target).encode()
            root["SEP%s.cnf.xml" % MAC] = ("<device><loadInformation>%s</loadInformation></device>" % target).encode()
            r = self.run_phone("7960", root, "P0S3-8-12-00")
            self.assertEqual((r["state"], r["load"], r["loader"]), (state, load, loader), target)
            with open(os.path.join(self.dir, "state.json")) as f:
                st = json.load(f)
            self.assertEqual((st["app"], st["loader"]), (load, loader))
        # An application file that fails verification in stage 2: the same fallback.
        shutil.rmtree(self.dir, ignore_errors=True)
        root["!P00308000400.sb2"] = sign(sig_header() + b"x" * 700, "7941-7961", "P00308000400.sb2")
        del root["P00308000400.sb2"]
        root["SIPDefault.cnf"] = b"image_version: P00308000400\n"
        r = self.run_phone("7960", root, "P0S3-8-12-00")
        self.assertEqual((r["state"], r["load"], r["loader"]), ("running", "P0S3-8-12-00", "P00308000400"))

    def test_factory_reset_installs_what_the_term_file_names(self):
        """phone-behaviour.md 4: a reset phone asks for term<NN>.default.loads before
        any config and installs its load; the signing-key limits apply."""
        def term_root(load, build, proto):
            comps = ["apps41.%s.sbn" % build, "cnu41.%s.sbn" % build, "jar41%s.%s.sbn" % (proto, build)]
            r = {"term61.default.loads": loads_file(comps), load + ".loads": loads_file(comps)}
            for c in comps:
                r[c] = sig_header() + cnu([("usr/bin/app", b"a" * 300)])
            return r
        root = term_root("SCCP41.8-5-2S", "8-5-2TH1-9", "sccp")
        root["SEP%s.cnf.xml" % MAC] = b"<device><loadInformation>SCCP41.8-5-2S</loadInformation></device>"
        # The reset also erased the trust list: the unsigned config is taken.
        r = self.run_phone("7961", root, "SCCP41.8-3-3S", faults={"factory-reset": True, "itl": True})
        self.assertEqual((r["state"], r["load"], r["factory_resets"]), ("running", "SCCP41.8-5-2S", 1))
        self.assertEqual(r["loads"], ["SCCP41.8-5-2S"])
        self.assertEqual(self.requests()[0], ("term61.default.loads", "ok"))
        # Fires once per phone: the next start does not ask again.
        self.run_phone("7961", root, faults={"factory-reset": True})
        self.assertEqual(sum(1 for f, _ in self.requests() if f == "term61.default.loads"), 1)
        # A new-key load named to an old-key phone: Auth Fail, load unchanged.
        shutil.rmtree(self.dir, ignore_errors=True)
        root = term_root("SIP41.9-4-2SR3-1S", "9-4-2ES26", "sip")
        r = self.run_phone("7961", root, "SCCP41.8-3-2S", faults={"factory-reset": True})
        self.assertEqual((r["state"], r["load"]), ("auth-fail", "SCCP41.8-3-2S"))
        # No term file: the phone retries (with persist, until the time runs out).
        shutil.rmtree(self.dir, ignore_errors=True)
        r = self.run_phone("7961", {}, "SCCP41.8-5-2S", faults={"factory-reset": True})
        self.assertEqual((r["state"], r["file"]), ("retrying", "term61.default.loads"))

    def test_persist_keeps_retrying(self):
        """phone-behaviour.md 8: real phones never give up; with persist a missing
        file means DHCP again and the same requests, not an end state."""
        rounds = []

        def stop_after_three(_seconds):
            rounds.append(1)
            if len(rounds) >= 9:
                raise KeyboardInterrupt()
        root = root_cnu("SIP45.9-4-2SR3-1S", "45")
        root["SEP%s.cnf.xml" % MAC] = b"<device><loadInformation>SIP45.9-4-2SR3-1S</loadInformation></device>"
        del root["jar45sip.b.sbn"]
        phone = Phone(MODELS["7965"], MAC, self.dir, lambda vci: dhcp.Lease(
            "10.0.0.50", 24, "10.0.0.1", "10.0.0.1", ["10.0.0.1"], "", "", None),
            lambda s: FakeTftp(root, s, firmware.FWSIG.family_of("7965")), sleep=stop_after_three,
            persist=True)
        with self.assertRaises(KeyboardInterrupt):
            phone.run("SCCP45.8-5-2S")
        self.assertGreaterEqual(phone.st["retry_cycles"], 2)
        self.assertEqual(phone.last_retry.extra["file"], "jar45sip.b.sbn")
        self.assertEqual(phone.st["boots"], 1)
        self.assertGreater(self.requests().count(("jar45sip.b.sbn", "not-found")), 3)

    def test_ual_7940_loops_on_a_missing_ctl_file(self):
        root = root_7940()
        root["SEP%s.cnf.xml" % MAC] = b"<device><loadInformation>P00308000900</loadInformation></device>"
        r = self.run_phone("7960", root, "P00308000900", faults={"ctl-loop": True})
        self.assertEqual((r["state"], r["file"]), ("retrying", "CTLSEP%s.tlv" % MAC))
        root["CTLSEP%s.tlv" % MAC] = b""
        self.assertEqual(self.run_phone("7960", root)["state"], "running")

    def test_missing_and_truncated_files_retry(self):
        root = root_cnu("SIP45.9-4-2SR3-1S", "45")
        root["XMLDefault.cnf.xml"] = b"<Default><loadInformation436>SIP45.9-4-2SR3-1S</loadInformation436></Default>"
        del root["jar45sip.b.sbn"]
        r = self.run_phone("7965", root, "SCCP45.8-5-2S", file_tries=3)
        self.assertEqual((r["state"], r["file"], r["load"]), ("retrying", "jar45sip.b.sbn", "SCCP45.8-5-2S"))
        self.assertEqual(self.requests().count(("jar45sip.b.sbn", "not-found")), 3)
        root["jar45sip.b.sbn"] = root["apps45.b.sbn"][:-10]            # CNU table promises more
        r = self.run_phone("7965", root)
        self.assertEqual((r["state"], r["file"]), ("retrying", "jar45sip.b.sbn"))
        self.assertIn(("jar45sip.b.sbn", "invalid"), self.requests())

    def test_wrong_family_load_refused(self):
        root = {"SEP%s.cnf.xml" % MAC: b"<device><loadInformation>SIP41.9-4-2SR3-1S</loadInformation></device>"}
        r = self.run_phone("7965", root, "SCCP45.8-5-2S")
        self.assertEqual(r["state"], "refused")

    def test_power_loss_resumes(self):
        root = root_cnu("SIP45.9-4-2SR3-1S", "45")
        root["SEP%s.cnf.xml" % MAC] = b"<device><loadInformation>SIP45.9-4-2SR3-1S</loadInformation></device>"
        faults = {"power-loss-during": "cnu45.b.sbn"}
        r = self.run_phone("7945", root, "SCCP45.8-5-2S", faults=faults)
        self.assertEqual((r["state"], r["file"], r["load"]), ("power-lost", "cnu45.b.sbn", "SCCP45.8-5-2S"))
        r = self.run_phone("7945", root, faults=faults)
        self.assertEqual((r["state"], r["load"]), ("running", "SIP45.9-4-2SR3-1S"))


if __name__ == "__main__":
    unittest.main()

"""One simulated phone: boot, fetch config, decide, download, flash, reboot.

Behaviour from ref 3 (request order), 4 (SIP files), 5 (upgrade rules, Protocol
Application Invalid), 6 (DHCP) and DESIGN.md's domain facts. The I/O is behind two
small seams (a DHCP function and a TFTP-client factory) so unit tests can drive the
whole state machine without a network.
"""

import hashlib
import json
import os
import time

from . import config, firmware
from .loads import parse_load, vcmp
from .tftp import Abort

# What a 7940/7960 refuses, as classes of loads (evidence-79xx.md 5 and 6, DESIGN):
# (running protocol, running below, target protocol or None for any, target from,
# the class it must load first). A refusal keeps the running load.
GATES_7940 = [
    ("SCCP", (3, 1, 1, 2), None, (4, 0, 0), "an SCCP 3.x load from 3.1(1.2) (DESIGN)"),
    ("SCCP", (5, 0, 0), "SIP", (0, 0, 0), "an SCCP 5.x load (CME: SCCP must be 5.x before SIP)"),
    ("SCCP", (5, 0, 0), "SCCP", (6, 0, 0), "an SCCP 5.x load (DESIGN)"),
    ("SIP", (4, 4, 0), "SIP", (5, 0, 0), "SIP 4.4 (CME upgrade sequence)"),
    ("SIP", (5, 3, 0), "SIP", (6, 0, 0), "SIP 5.3 (CME upgrade sequence)"),
    ("SIP", (6, 0, 0), "SIP", (7, 0, 0), "a SIP 6.x load (CME upgrade sequence)"),
    ("SIP", (7, 0, 0), "SIP", (8, 0, 0), "a SIP 7.x load (CME sequence, then the 8.x loader)"),
    ("SIP", (7, 0, 0), "SCCP", (0, 0, 0), "a SIP 7.x load (CME: to downgrade, first upgrade to 7.x)"),
]
# "Auth error" edges admins report (phone-behaviour.md 5): (running protocol,
# running below, target protocol, target from, the load it must run first). The
# phone keeps its load. Both are single reports; data/upgrade-rules has them as
# uncertain rules 7940-sccp-804 and 7940-sccp-812.
AUTH_GATES_7940 = [
    ("SCCP", (8, 0, 4), "SCCP", (8, 0, 5), "8.0(4)"),   # 7960G forum: 5.x -> 8.0(5) Auth error
    ("SCCP", (8, 1, 1), "SCCP", (8, 1, 2), "8.1(1)"),   # "File auth error": 8.1(2) needs 8.1(1)
]
# 7960G forum: "from SIP image 8.12 to SCCP 8.0(5) it will update the loader, then
# it will boot the (still resident) SIP application!" (rules: 7940-sip-sccp805).
RESIDENT_SIP_REFUSES_SCCP_FROM = (8, 0, 5)
# Without the universal application loader of an SCCP 8.x load, SCCP cannot take
# SIP 7.x or later (BLOG-2005, VOIPINFO-1STEP); CME's own path is SCCP 5.x -> SIP 6.x.
UAL_7940 = (8, 0, 0)
# CME: "Signed load starts from SIP v5.x ... you cannot downgrade the firmware to an
# unsigned load"; SCCP 8.x images are signed .sbn images too (reference 5.1).
SIGNED_SIP_7940 = (5, 0, 0)
# What an interrupted flash leaves (phone-behaviour.md; CNU-FPU: 79x1-class phones
# fall back to the previous good image; a 7940/7960 keeps one application image).
INTERRUPTED_FLASH_DEFAULT = {"7940-7960": "stuck", "cnu": "previous"}
# ref 5.2: below 8.3(3) straight to later than 8.5(2) -> reboot loop.
CNU_MIN_FOR_JUMP = (8, 3, 3)
CNU_JUMP_LIMIT = (8, 5, 2)
# phone-behaviour.md 3: the firmware signing key changed. Loads up to 8.3(2) know
# only the old key, 8.3(3) to 8.5(2) both, 8.5(2)SR1 and later only the new one;
# one source has the window start at 8.5(1) (fault key-window=narrow). Versions
# compare with their SR part here.
KEY_WINDOW = {"wide": ((8, 3, 3), 0), "narrow": ((8, 5, 1), 0)}
NEW_KEY_ONLY_FROM = ((8, 5, 2), 1)
# ref 3.1 / 5.1 (choice, UNCERTAIN): images before the UAL era (SCCP < 6.0, SIP < 7.0)
# ask for OS79XX.TXT first and send the bare vendor class.
PRE_UAL = {"SCCP": (6, 0, 0), "SIP": (7, 0, 0), "MGCP": (6, 0, 0)}


class EndState(Exception):
    """The phone stops in a state the caller sees (printed as the JSON line)."""

    def __init__(self, state, **extra):
        super().__init__(state)
        self.state, self.extra = state, extra


class Reboot(Exception):
    pass


def sr_cmp(load, edge):
    """-1, 0, 1 comparing LOAD's version with its SR to EDGE = (version, sr)."""
    version, sr = edge
    c = vcmp(load.version, version)
    return c if c else (load.sr > sr) - (load.sr < sr)


def very_old_load(model):
    return "P00302010200" if model.is_7940 else "SCCP%s.8-2-2S" % model.platform


def unknown_load(model, mac):
    """A load the caller did not choose, picked from the MAC (fault unknown-load)."""
    if model.is_7940:
        choices = ["P00302010200", "P00303010102", "P00305000500", "P00308000900"]
    else:
        choices = ["SCCP%s.%s" % (model.platform, v) for v in ("8-2-2S", "8-3-3S", "8-5-2S")]
    return choices[hashlib.sha256(mac.encode()).digest()[0] % len(choices)]


class Phone:
    def __init__(self, model, mac, state_dir, dhcp, tftp_factory, *, file_tries=3,
                 faults=(), max_boots=20, log=lambda m: None, sleep=time.sleep, retry_pause=0.5,
                 flash_seconds=0.0, announce=None, persist=False, persist_pause=10.0):
        self.model, self.mac = model, mac.replace(":", "").replace("-", "").upper()
        self.state_dir = state_dir
        self.dhcp, self.tftp_factory = dhcp, tftp_factory
        self.file_tries, self.max_boots = file_tries, max_boots
        self.faults = dict(faults)
        self.log, self.sleep, self.retry_pause = log, sleep, retry_pause
        # Writing flash takes real phones minutes (NICK-SCRIPT, ref 5.4 note); the
        # servers and scripts must not rely on the phone coming back at once.
        self.flash_seconds = flash_seconds
        # announce(load, ip): CDP (and LLDP-MED) frames naming the running load, sent
        # at every boot once the phone has an address (evidence-79xx.md 7).
        self.announce = announce
        # Real phones never give up (phone-behaviour.md 8: "loop 3 times, then drop
        # its IP and re-request it from DHCP before trying again ... forever").
        self.persist, self.persist_pause = persist, persist_pause
        self.last_retry = None
        self.st = None
        self.client = None
        self.lease = None
        self.result = {}

    # ------------------------------------------------------------ persistence

    @property
    def state_file(self):
        return os.path.join(self.state_dir, "state.json")

    @property
    def tftp_log(self):
        return os.path.join(self.state_dir, "tftp.jsonl")

    def load_state(self, initial_load):
        if os.path.exists(self.state_file):
            with open(self.state_file) as f:
                self.st = json.load(f)
            if self.st.get("mac") != self.mac or self.st.get("model") != self.model.name:
                raise ValueError("state dir %s belongs to %s %s" % (self.state_dir, self.st.get("model"),
                                                                   self.st.get("mac")))
            if self.st.get("flashing"):
                self.power_lost_while_flashing()
            self.maybe_factory_reset()
            return
        if initial_load is None:
            raise ValueError("no --load and no saved state in %s" % self.state_dir)
        parsed = parse_load(initial_load)
        self.st = {"mac": self.mac, "model": self.model.name, "initial_load": initial_load,
                   "load": initial_load, "kind": parsed.kind if parsed else "app",
                   "protocol": parsed.protocol if parsed else "SCCP", "previous_protocol": "",
                   "settings": {}, "boots": 0, "loads": [], "faults_fired": []}
        # Start states real phones come with (phone-behaviour.md 1 and 7): a trust
        # list from a CUCM 8+ cluster (79x1 and later only: no source shows one on a
        # 7940/7960), an Alternate TFTP server set by hand.
        if self.faults.get("itl") and not self.model.is_7940:
            self.st["trust_list"] = "cluster"
        if self.faults.get("alt-tftp"):
            self.st["settings"]["alt_tftp"] = self.faults["alt-tftp"]
        self.maybe_factory_reset()
        self.save()

    def maybe_factory_reset(self):
        """Fault factory-reset (once per phone) or --factory-reset (each start): the
        phone forgets its settings and trust list and, at its next boot, asks for its
        term<NN>.default.loads and installs what that names (phone-behaviour.md 4)."""
        once = self.faults.get("factory-reset") and "factory-reset" not in self.st["faults_fired"]
        if not (once or self.faults.get("factory-reset-now")):
            return
        if once:
            self.st["faults_fired"].append("factory-reset")
        self.st["settings"] = {}
        self.st.pop("trust_list", None)
        self.st["factory_reset"] = True
        self.st["factory_resets"] = self.st.get("factory_resets", 0) + 1
        self.save()

    def save(self):
        os.makedirs(self.state_dir, exist_ok=True)
        tmp = self.state_file + ".tmp"
        with open(tmp, "w") as f:
            json.dump(self.st, f, indent=1, sort_keys=True)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.state_file)

    def record(self, transfer, result=None, detail=None):
        entry = {"boot": self.st["boots"], "file": transfer.file, "server": transfer.server,
                 "result": result or transfer.result, "bytes": len(transfer.data),
                 "tsize": transfer.tsize, "blksize": transfer.blksize,
                 "load": self.st["load"]}
        if detail or transfer.detail:
            entry["detail"] = detail or transfer.detail
        with open(self.tftp_log, "a") as f:
            f.write(json.dumps(entry) + "\n")
        self.log("tftp: %s -> %s%s" % (transfer.file, entry["result"],
                                       " (%s)" % entry["detail"] if "detail" in entry else ""))

    def power_lost_while_flashing(self):
        """The power went while the phone wrote an image (the process was killed
        inside its flash window): what real phones are left with, never the new load."""
        flashing = self.st.pop("flashing")
        outcome = self.faults.get("interrupted-flash") or INTERRUPTED_FLASH_DEFAULT[
            "7940-7960" if self.model.is_7940 else "cnu"]
        self.st.setdefault("flash_interruptions", []).append(
            {"target": flashing["target"], "load": self.st["load"], "outcome": outcome})
        if outcome == "stuck":
            self.st["corrupt"] = flashing["target"]
        self.save()

    # ------------------------------------------------------------ helpers

    def running(self):
        return parse_load(self.st["load"])

    def pre_ual(self):
        cur = self.running()
        if not self.model.is_7940 or cur is None or cur.kind != "app":
            return False
        return vcmp(cur.version, PRE_UAL.get(cur.protocol, (6, 0, 0))) < 0

    def vendor_class(self):
        from .models import OLD_VCI
        return OLD_VCI if self.pre_ual() else self.model.vendor_class

    def fetch(self, name, tries=1, progress_fault=True):
        """Fetch NAME up to TRIES times; returns the Transfer of the last attempt."""
        t = None
        for attempt in range(tries):
            progress = self._power_fault(name) if progress_fault else None
            t = self.client.get(name, progress)
            if t.result == "aborted":
                self.record(t, "power-lost")
                raise EndState("power-lost", file=name)
            if t.result == "ok":
                return t
            self.record(t)
            if t.result == "not-found" and tries == 1:
                return t
            if attempt + 1 < tries:
                self.sleep(self.retry_pause)
        return t

    def _power_fault(self, name):
        target = self.faults.get("power-loss-during")
        if target != name or ("power-loss-during=" + name) in self.st["faults_fired"]:
            return None

        def progress(done, tsize):
            if done >= (tsize or 1024) // 2:
                self.st["faults_fired"].append("power-loss-during=" + name)
                self.save()
                raise Abort("power lost after %d bytes" % done)
        return progress

    def fetch_config(self, name):
        """A config file: one try; returns bytes or None (not found / failed)."""
        t = self.fetch(name)
        if t.result == "ok":
            self.record(t)
            return t.data
        return None

    # ------------------------------------------------------------ boot

    def run(self, initial_load=None):
        """Boot until an end state; returns the result dict."""
        self.load_state(initial_load)
        boots_this_run = 0
        while True:
            if boots_this_run >= self.max_boots:
                raise EndState("rebooting", detail="stopped after %d boots (--max-boots)" % boots_this_run)
            boots_this_run += 1
            try:
                self.boot()
            except Reboot:
                self.last_retry = None
                continue
            except EndState as end:
                if not (self.persist and end.state == "retrying"):
                    raise
                # Not a reboot: the phone drops its address and starts over from DHCP.
                self.last_retry = end
                self.st["retry_cycles"] = self.st.get("retry_cycles", 0) + 1
                self.save()
                boots_this_run -= 1
                self.log("retrying %s (cycle %d): DHCP again in %.0f s" % (
                    end.extra.get("file"), self.st["retry_cycles"], self.persist_pause))
                self.sleep(self.persist_pause)

    def boot(self):
        if self.last_retry is None:
            self.st["boots"] += 1
            self.save()
        if self.st.get("corrupt"):
            raise EndState("flash-corrupt", target=self.st["corrupt"],
                           reason="the power went while %s was written to flash; the phone no "
                                  "longer boots (factory reset needed)" % self.st["corrupt"])
        self.log("boot %d: %s %s running %s" % (self.st["boots"], self.model.name, self.mac, self.st["load"]))
        self.lease = self.dhcp(self.vendor_class())
        if self.announce is not None:
            self.announce(self.st["load"], self.lease.address)
        server = self.choose_tftp_server()
        self.client = self.tftp_factory(server)
        cur = self.running()
        if self.model.is_7940:
            if self.st["kind"] == "loader":
                return self.boot_7940_loader()
            if self.pre_ual():
                self.check_os79xx()
            if cur is not None and cur.protocol == "SIP":
                return self.boot_7940_sip()
            return self.boot_xml_config(cnu=False)
        if self.st.get("factory_reset"):
            self.install_term_default()
        return self.boot_xml_config(cnu=True)

    @property
    def term_file(self):
        return "term%s.default.loads" % self.model.name[-2:]

    def install_term_default(self):
        """After a factory reset: term<NN>.default.loads names the load the phone
        installs, whatever any config says (crimsonsilo, itwurx: phone-behaviour.md
        4). Missing -> the phone retries; the signing-key and jump limits apply."""
        name = self.term_file
        t = self.fetch(name, tries=self.file_tries)
        if t.result != "ok":
            raise EndState("retrying", file=name, reason="factory reset: %s" % (t.detail or t.result))
        names, why = firmware.parse_loads(t.data)
        why = why or firmware.verify_file(name, t.data, t.tsize) or \
            firmware.verify_signature(name, t.data, self.model.name)
        target = None
        if not why:
            target, why = firmware.load_of_components(names)
        self.record(t, "ok" if why is None else "invalid", why)
        if why:
            raise EndState("retrying", file=name, reason="factory reset: %s" % why)
        self.log("factory reset: %s names %s" % (name, target))
        self.st.pop("factory_reset", None)
        self.save()
        if target != self.st["load"]:
            self.install(target, names)

    def choose_tftp_server(self):
        """Option 150 (first address), else 66, else siaddr (ref 6: order UNCERTAIN),
        else the server remembered in the phone's settings (gone after a wipe)."""
        lease = self.lease
        server = None
        # After stage 1 wiped the settings, the 7940/7960 loader needs the TFTP server
        # from DHCP option 150 (DESIGN domain facts, ref 5.3); it does not fall back
        # to siaddr (choice: no source shows Cisco phones using siaddr, ref 6).
        wiped = self.model.is_7940 and self.st["kind"] == "loader"
        alternate = self.st["settings"].get("alt_tftp")
        if alternate:
            # "Alternate TFTP: Yes" with its own TFTP Server 1: DHCP's options are
            # ignored until someone clears the setting (phone-behaviour.md 7).
            self.log("tftp server %s (Alternate TFTP; DHCP option 150 ignored)" % alternate)
            return alternate
        if lease.tftp_servers:
            server = lease.tftp_servers[0]
        elif lease.tftp_name:
            from .netif import resolve
            server = resolve(lease.tftp_name)
        if not server and not wiped and lease.siaddr and lease.siaddr != "0.0.0.0":
            server = lease.siaddr
        if not server and not wiped:
            server = self.st["settings"].get("tftp_server")
        if not server:
            if wiped:
                # ref 5.3 / DESIGN: settings wiped by stage 1, no option 150 from DHCP.
                raise EndState("protocol-application-invalid",
                               reason="no TFTP server: DHCP gave no option 150 (or 66) and the "
                                      "loader stage wiped the phone's settings; give option 150")
            raise EndState("no-tftp-server", reason="DHCP gave no option 150/66/siaddr")
        self.st["settings"]["tftp_server"] = server
        self.save()
        self.log("tftp server %s" % server)
        return server

    # 7940/7960 ------------------------------------------------------------

    def check_os79xx(self):
        """Pre-UAL images: OS79XX.TXT first; a name whose first four characters differ
        from the running image is loaded (ref 3.1, MATRIX)."""
        data = self.fetch_config("OS79XX.TXT")
        if data is None:
            return
        name, why = config.parse_os79xx(data)
        if name is None:
            self.log("OS79XX.TXT ignored: %s" % why)
            return
        if name[:4] == self.st["load"][:4]:
            return
        self.check_7940_stones(name)
        t = self.fetch(name + ".bin", tries=self.file_tries)
        if t.result != "ok":
            raise EndState("retrying", file=name + ".bin", reason=t.detail or t.result)
        why = firmware.verify_file(t.file, t.data, t.tsize)
        self.record(t, "ok" if why is None else "invalid", why)
        if why:
            raise EndState("retrying", file=t.file, reason=why)
        self.flash_7940_image(name)

    def write_flash(self, target):
        """Writing an image takes flash_seconds; the new load counts only once it is
        written. A power cut inside the window (the process killed) is found at the
        next start by load_state."""
        self.st["flashing"] = {"target": target}
        self.save()
        self.log("writing %s to flash (%.0f s)" % (target, self.flash_seconds))
        self.sleep(self.flash_seconds)
        self.st.pop("flashing", None)

    def flash_7940_image(self, name, loader=False):
        """LOADER: stage 1 of a protocol change, whose loader files carry the name of
        an SCCP load (P00308000400.bin) or of a P003- loader."""
        self.write_flash(name)
        parsed = parse_load(name)
        if loader or (parsed is not None and parsed.kind == "loader"):
            self.st["previous_protocol"] = self.st["protocol"] or self.st["previous_protocol"]
            if self.st["kind"] == "app":
                self.st["app"] = self.st["load"]   # still in flash: the resident application
            self.st.update(load=name, kind="loader", loader=name, protocol="", settings={})
        else:
            self.st.update(load=name, kind="app", protocol=parsed.protocol if parsed else "SCCP")
        self.st["loads"].append(name)
        self.save()
        self.log("flashed %s, rebooting" % name)
        raise Reboot()

    def boot_7940_loader(self):
        """After stage 1: the loader finds the application through the config the
        previous protocol used (BLOG-2005 via ref 3.1); none -> Protocol Application Invalid."""
        target = ""
        if self.st.get("previous_protocol") == "SIP":
            values = self.sip_values()
            target = values.image_version
        else:
            cfg = self.xml_config(cnu=False)
            target = cfg.load_for(self.model.device_id) if cfg else ""
        if not target:
            raise EndState("protocol-application-invalid",
                           reason="the loader found no load name in the configuration")
        self.upgrade(target)

    def sip_values(self):
        default = self.fetch_config("SIPDefault.cnf")
        per_mac = self.fetch_config("SIP%s.cnf" % self.mac)
        d, why = config.parse_sip_cnf(default) if default is not None else ({}, None)
        if d is None:
            self.log("SIPDefault.cnf unreadable: %s" % why)
            d = {}
        m, why = config.parse_sip_cnf(per_mac) if per_mac is not None else ({}, None)
        if m is None:
            self.log("SIP%s.cnf unreadable: %s" % (self.mac, why))
            m = {}
        return config.sip_settings(d, m)

    def boot_7940_sip(self):
        s = self.sip_values()
        if s.image_version and s.image_version != self.st["load"]:
            self.upgrade(s.image_version)
        raise EndState("running", protocol="SIP", proxy=s.proxy or None, registered=s.registered)

    # all models: XML config ------------------------------------------------

    def xml_config(self, cnu):
        """CTL/ITL, then SEP<MAC>.cnf.xml, else XMLDefault.cnf.xml (ref 3.1, 3.2)."""
        ctl = "CTLSEP%s.tlv" % self.mac
        if self.fetch_config(ctl) is None and self.faults.get("ctl-loop") and not cnu and not self.pre_ual():
            # phone-behaviour.md 10 (VOIPINFO-FW): a UAL-era 7940/7960 asks for its CTL
            # file again and again until one (even empty) exists.
            for _ in range(2):
                self.sleep(self.retry_pause)
                if self.fetch_config(ctl) is not None:
                    break
            else:
                raise EndState("retrying", file=ctl, reason="no %s: a UAL 7940/7960 loops on it "
                                                            "until the file exists (an empty one will do)" % ctl)
        if cnu and self.fetch_config("ITLSEP%s.tlv" % self.mac) is None:
            self.fetch_config("ITLFile.tlv")
        if self.st.get("trust_list") not in (None, "none", "empty"):
            # phone-behaviour.md 1: with a CTL/ITL the phone asks for the signed file
            # and refuses an unsigned one; an unsigned or empty ITL from another
            # server does not replace the stored one.
            signed = self.fetch_config("SEP%s.cnf.xml.sgn" % self.mac)
            raise EndState("untrusted-config", file="SEP%s.cnf.xml.sgn" % self.mac,
                           reason="the phone holds an ITL from cluster %s and %s; it keeps its "
                                  "last configuration and load until the ITL is erased "
                                  "(Settings > Security > Trust List > ITL File, **#, Erase) or "
                                  "the phone is factory reset" % (
                                      self.st["trust_list"],
                                      "no signed SEP%s.cnf.xml.sgn was found" % self.mac
                                      if signed is None else "the .sgn is not signed by a trusted signer"))
        for name in ("SEP%s.cnf.xml" % self.mac, "XMLDefault.cnf.xml"):
            data = self.fetch_config(name)
            if data is None:
                continue
            cfg, why = config.parse_xml_config(data)
            if cfg is None:
                self.log("%s unusable: %s" % (name, why))
                # ref 3.1 (VOIPINFO-FW): an empty SEP file is not skipped over.
                return None
            return cfg
        return None

    def boot_xml_config(self, cnu):
        cfg = self.xml_config(cnu)
        if cfg is None:
            raise EndState("retrying", file="SEP%s.cnf.xml" % self.mac,
                           reason="no usable SEP%s.cnf.xml or XMLDefault.cnf.xml" % self.mac)
        target = cfg.load_for(self.model.device_id)
        if target and target != self.st["load"]:
            self.upgrade(target)
        proto = self.st["protocol"]
        if proto == "SIP":
            proxy = cfg.proxy()
            registered = bool(proxy and any(l.auth_name and l.auth_password for l in cfg.lines))
            raise EndState("running", protocol="SIP", proxy=proxy or None, registered=registered)
        raise EndState("running", protocol=proto, proxy=None, registered=False,
                       callmanager=cfg.callmanagers[0] if cfg.callmanagers else None)

    # upgrade ----------------------------------------------------------------

    def check_7940_stones(self, target_name):
        cur, tgt = self.running(), parse_load(target_name)
        if cur is None or tgt is None or cur.kind != "app" or tgt.kind != "app":
            return

        def refuse(why):
            raise EndState("refused", target=target_name,
                           reason="%s cannot go to %s: %s" % (self.st["load"], target_name, why))

        for protocol, below, to_protocol, to_from, first in GATES_7940:
            if (cur.protocol == protocol and vcmp(cur.version, below) < 0
                    and (to_protocol is None or tgt.protocol == to_protocol)
                    and vcmp(tgt.version, to_from) >= 0):
                refuse("it must load %s first" % first)
        for protocol, below, to_protocol, to_from, first in AUTH_GATES_7940:
            if (cur.protocol == protocol and vcmp(cur.version, below) < 0
                    and tgt.protocol == to_protocol and vcmp(tgt.version, to_from) >= 0):
                raise EndState("auth-fail", target=target_name,
                               reason="Auth error: %s does not take %s; it must run %s first" % (
                                   self.st["load"], target_name, first))
        signed = ((cur.protocol == "SIP" and vcmp(cur.version, SIGNED_SIP_7940) >= 0) or
                  (cur.protocol == "SCCP" and vcmp(cur.version, UAL_7940) >= 0))
        if signed and tgt.protocol == "SIP" and vcmp(tgt.version, SIGNED_SIP_7940) < 0:
            raise EndState("auth-fail", target=target_name,
                           reason="%s is signed; the unsigned %s is refused" % (self.st["load"], target_name))
        if (cur.protocol == "SCCP" and tgt.protocol == "SIP" and vcmp(cur.version, UAL_7940) < 0
                and not (vcmp(cur.version, (5, 0, 0)) >= 0 and vcmp(cur.version, (6, 0, 0)) < 0
                         and vcmp(tgt.version, (6, 0, 0)) >= 0 and vcmp(tgt.version, (7, 0, 0)) < 0)):
            refuse("SIP needs the universal application loader of an SCCP 8.x load first")

    def upgrade(self, target):
        tgt, cur = parse_load(target), self.running()
        if tgt is not None:
            wrong = (tgt.family != self.model.family or
                     (tgt.family == "cnu" and tgt.platform != self.model.platform))
            if wrong or tgt.kind == "loader":
                raise EndState("refused", target=target,
                               reason="%s is not an application load for a %s" % (target, self.model.name))
        self.log("config names %s, running %s: upgrading" % (target, self.st["load"]))
        t = self.fetch(target + ".loads", tries=self.file_tries)
        names, why = (None, t.detail or t.result) if t.result != "ok" else firmware.parse_loads(t.data)
        if t.result == "ok":
            if why is None:
                why = firmware.verify_file(t.file, t.data, t.tsize)
            self.record(t, "ok" if why is None else "invalid", why)
        if names is None or why:
            raise EndState("retrying", file=target + ".loads", reason=why)
        self.install(target, names)

    def install(self, target, names):
        """Check, download, flash and reboot into TARGET, whose files are NAMES."""
        tgt, cur = parse_load(target), self.running()
        two_stage = (self.model.is_7940 and self.st["kind"] == "app" and tgt is not None
                     and cur is not None and tgt.protocol != cur.protocol)
        if self.model.is_7940 and self.st["kind"] == "app":
            self.check_7940_stones(target)
        if not self.model.is_7940 and cur is not None and tgt is not None:
            self.check_signing_key(cur, tgt, target)  # from the .loads, before its files
        if two_stage:
            stage = [n for n in names if n.lower().endswith((".bin", ".sbn"))]
        elif self.st["kind"] == "loader":
            stage = [n for n in names if not n.lower().endswith((".bin", ".sbn"))] or names
            self.check_resident_accepts(target)
        else:
            stage = names
        for name in stage:
            self.download_component(name)
        if (not self.model.is_7940 and cur is not None and tgt is not None
                and vcmp(cur.version, CNU_MIN_FOR_JUMP) < 0 and vcmp(tgt.version, CNU_JUMP_LIMIT) > 0):
            # ref 5.2: the new load does not come up; the phone loops and (CNU-FPU)
            # eventually falls back to the old load, which is what stays saved here.
            self.st["boots"] += 1
            self.save()
            raise EndState("reboot-loop", target=target,
                           reason="%s is below 8.3(3); %s is later than 8.5(2): go through 8.5(2) first"
                                  % (self.st["load"], target))
        if two_stage:
            loader = os.path.splitext(stage[0])[0] if stage else target
            self.st["pending"] = target
            self.flash_7940_image(loader, loader=True)
        self.write_flash(target)
        self.st["previous_protocol"] = self.st["protocol"] or self.st.get("previous_protocol", "")
        self.st.update(load=target, kind="app", protocol=tgt.protocol if tgt else self.st["protocol"] or "SCCP")
        if self.model.is_7940:
            self.st["app"] = target
        self.st.pop("pending", None)
        self.st["loads"].append(target)
        self.save()
        self.log("flashed %s, rebooting" % target)
        raise Reboot()

    def check_resident_accepts(self, target):
        """Stage 2 of a 7940/7960 protocol change: the new loader asks for the
        application; a refused one leaves the resident application running."""
        resident, tgt = parse_load(self.st.get("app") or ""), parse_load(target)
        if (resident is not None and tgt is not None and resident.protocol == "SIP"
                and tgt.protocol == "SCCP" and vcmp(tgt.version, RESIDENT_SIP_REFUSES_SCCP_FROM) >= 0):
            self.boot_resident(target, "the SIP application in flash refuses SCCP %s" % target)

    def boot_resident(self, target, why):
        """phone-behaviour.md 5: new loader, old application, no error on screen. The
        phone looks alive; only the load it runs shows the upgrade failed."""
        app, loader = self.st.get("app"), self.st["load"]
        if not app:
            raise EndState("protocol-application-invalid", target=target, reason=why)
        resident = parse_load(app)
        self.st.update(load=app, kind="app", loader=loader,
                       protocol=resident.protocol if resident else "SCCP")
        self.st.pop("pending", None)
        self.save()
        self.log("stage 2 refused (%s): booting the resident %s" % (why, app))
        raise EndState("running", protocol=self.st["protocol"], loader=loader, app=app, target=target,
                       detail="stage 2 refused (%s); the new loader %s booted the resident "
                              "application %s" % (why, loader, app))

    def keys_known(self, load):
        """The signing keys a running load can verify: {"old"}, {"old", "new"} or {"new"}."""
        start, start_sr = KEY_WINDOW[self.faults.get("key-window", "wide")]
        if sr_cmp(load, NEW_KEY_ONLY_FROM) >= 0:
            return {"new"}
        return {"old", "new"} if sr_cmp(load, (start, start_sr)) >= 0 else {"old"}

    @staticmethod
    def signed_with(load):
        return "new" if sr_cmp(load, NEW_KEY_ONLY_FROM) >= 0 else "old"

    def check_signing_key(self, cur, tgt, target):
        """A load signed with a key the running one cannot verify: "auth fail", the
        phone keeps its load (phone-behaviour.md 3)."""
        if self.signed_with(tgt) not in self.keys_known(cur):
            # Both are reported: "Auth Fail" on the old load, or a reboot loop.
            state = "reboot-loop" if self.faults.get("auth-fail-mode") == "loop" else "auth-fail"
            raise EndState(state, target=target,
                           reason="%s is signed with the %s key, which %s cannot verify" % (
                               target, self.signed_with(tgt), self.st["load"]))

    def download_component(self, name):
        for attempt in range(self.file_tries):
            t = self.fetch(name, tries=1)
            if t.result == "ok":
                why = (firmware.verify_file(name, t.data, t.tsize, cnu_phone=not self.model.is_7940)
                       or firmware.verify_signature(name, t.data, self.model.name))
                self.record(t, "ok" if why is None else "invalid", why)
                if why is None:
                    return
            else:
                why = t.detail or t.result
            if attempt + 1 < self.file_tries:
                self.sleep(self.retry_pause)
        if self.model.is_7940 and self.st["kind"] == "loader" and t.result == "ok":
            # 7960G forum: "say it is verifying ... fetch the .sb2 file again, then it
            # boots the application in flash ... without reporting any errors".
            self.boot_resident(self.st.get("pending") or name, "%s: %s" % (name, why))
        raise EndState("retrying", file=name, reason=why)

    # ------------------------------------------------------------ result

    def result_for(self, end):
        st = self.st
        out = {"mac": ":".join(self.mac[i:i + 2] for i in range(0, 12, 2)), "model": self.model.name,
               "state": end.state, "load": st["load"] if st else None,
               "protocol": (st.get("protocol") or None) if st else None}
        out.update({"proxy": None, "registered": False})
        out.update(end.extra)
        if st:
            out.update(boots=st["boots"], loads=list(st["loads"]), initial_load=st["initial_load"])
        if self.lease is not None:
            out["ip"] = self.lease.address
        if st and self.model.is_7940:
            out.setdefault("loader", st.get("loader"))
            out.setdefault("app", st.get("app") or (st["load"] if st.get("kind") == "app" else None))
        if st and st.get("retry_cycles"):
            out["retry_cycles"] = st["retry_cycles"]
        if st and st.get("factory_resets"):
            out["factory_resets"] = st["factory_resets"]
        if st and st["settings"].get("tftp_server"):
            out["tftp_server"] = st["settings"]["tftp_server"]
        return out

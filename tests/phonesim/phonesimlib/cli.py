"""Command line of the phone simulator (see --help and README.md)."""

import argparse
import json
import os
import re
import signal
import sys
import time

from . import cdp, dhcp, netif, sip, tftp
from .models import MODELS, find_model
from .phone import EndState, Phone, unknown_load, very_old_load

EPILOG = """\
what it does:
  Boots like a Cisco 79xx phone on IFACE: DHCP (option 60 = the model's vendor
  class, option 55 asking for 1,3,6,66,150), takes the TFTP server from option 150
  (first address), else 66, else siaddr, else the one it remembers (a 7940/7960
  whose settings the loader stage wiped uses only 150 or 66); then fetches over
  TFTP, in the reference's order:
    7940/7960 SCCP:  [OS79XX.TXT on pre-6.0 images] CTLSEP<MAC>.tlv SEP<MAC>.cnf.xml
                     [XMLDefault.cnf.xml]
    7940/7960 SIP:   SIPDefault.cnf SIP<MAC>.cnf   (image_version selects the load)
    79x1/2/5, 797x:  CTLSEP<MAC>.tlv ITLSEP<MAC>.tlv [ITLFile.tlv] SEP<MAC>.cnf.xml
                     [XMLDefault.cnf.xml]
  If the config names another load it fetches <LOAD>.loads and every file listed,
  checks each (size = announced tsize, CNU table fits, .loads lists files, the
  synthetic signature of tests/fixtures/fwsig.py: model, name, bytes unchanged),
  "flashes", reboots and boots again. 7940/7960 changing protocol go in two stages
  (loader P003-..., settings wiped, then the application).

end state (one JSON line on stdout):
  {"mac": ..., "model": ..., "state": S, "load": ..., "protocol": ..., "proxy": ...,
   "registered": bool, "sip_status": N|null, "sip_reason": ..., "sip_transport": ...,
   "sip_expires": N|null, "boots": N, "loads": [flashed loads in order],
   "initial_load": ..., "ip": ..., "tftp_server": ...,
   ["file", "target", "reason", "detail", "callmanager"]}
  S is one of: running, protocol-application-invalid, reboot-loop, refused,
  untrusted-config (an ITL refusing the unsigned config),
  auth-fail (a signed load refusing an unsigned one), flash-corrupt (the power
  went while an image was written and the phone no longer boots), retrying (with
  "file"), power-lost (with "file"), no-dhcp, no-tftp-server, rebooting
  (--max-boots reached), timeout, error.
SIP registration (phonesimlib/sip.py, RFC 3261 / RFC 2617):
  a phone running a SIP load sends REGISTER with only what it read over TFTP in
  its last boot: 7940/7960 SIPDefault.cnf + SIP<MAC>.cnf (proxy1_address,
  proxy1_port, line<N>_name/_authname/_password, timer_register_expires;
  UDP), 79x1+ SEP<MAC>.cnf.xml else XMLDefault.cnf.xml (line <proxy> unless
  USECALLMANAGER, else processNodeName; line <port>, else <sipPort>; <name>,
  <authName>, <authPassword>; transportLayerProtocol 2 = UDP (default), 1 or
  4 = TCP; <timerRegisterExpires>). It answers a 401/407 with MD5 digest (qop
  auth or none). "registered" is true only if a 200 came back; "sip_status" is
  the final status code (null: none sent or no answer), "sip_reason" its phrase
  or why nothing was sent, "sip_expires" the Expires granted. With --stay-up it
  re-registers at half the granted Expires (30 s after a failure); every
  REGISTER's outcome goes to sip.jsonl in the state dir.
announcements (evidence-79xx.md 7):
  at every boot, once it has an address, the phone sends a CDPv2 frame (Device-ID
  SEP<MAC>, software version = its running load, platform, its IP); 79x1 and
  later also an LLDP-MED frame. With --stay-up a phone in state running keeps
  sending them every --announce-interval seconds until it is killed, as a
  powered phone does. --no-announce sends none (a switch that eats CDP).

state dir (--state-dir, default ./phonesim-<MAC>):
  state.json   the phone's flash: running load, settings, boots, loads flashed;
               a rerun resumes from it (--load is then ignored)
  tftp.jsonl   one JSON object per TFTP request: boot, file, server, result
               (ok, not-found, error, timeout, size-mismatch, invalid, power-lost),
               bytes, tsize, blksize, load (running at the time), detail
  phone.log    human-readable trace (also on stderr with -v)
  sip.jsonl    one JSON object per REGISTER: ts, event "register", aor,
               registrar (ip:port), and the sip fields of the end state

faults (--fault, repeatable):
  power-loss-during=FILE  cut the power halfway through FILE's first transfer
                          (the phone keeps its old load; rerun to power it on)
  itl                     start with a trust list (ITL) from a CUCM 8+ cluster
                          (79x1 and later): asks for SEP<MAC>.cnf.xml.sgn and
                          refuses the unsigned config: state untrusted-config,
                          load unchanged, on every boot (phone-behaviour.md 1)
  alt-tftp=ADDR           "Alternate TFTP" set to ADDR: DHCP's option 150 is
                          ignored, the phone asks ADDR (phone-behaviour.md 7)
  old-rrq                 an old image's read requests: no options, a trailing
                          NUL after the mode, no retry without options
  ctl-loop                a UAL-era 7940/7960 that loops on a missing
                          CTLSEP<MAC>.tlv until the file exists (empty will do)
  key-window=wide|narrow  which loads know both firmware signing keys: 8.3(3) to
                          8.5(2) (wide, default) or 8.5(1) to 8.5(2) (narrow), as
                          the two sources of phone-behaviour.md 3 say; 8.5(2)SR1
                          and later know only the new key. A load signed with a
                          key the running one cannot verify: state auth-fail
                          (auth-fail-mode=loop: reboot-loop instead).
  interrupted-flash=previous|stuck
                          what a power cut while an image is written leaves
                          (the process killed inside --flash-seconds): back on the
                          previous load, or flash-corrupt until a factory reset.
                          Default: stuck for 7940/7960, previous for the others.
                          Every interruption is recorded in state.json
                          ("flash_interruptions").
  very-old-load           start at a very old load (7940/7960 P00302010200,
                          others SCCPnn.8-2-2S) instead of --load
  unknown-load            start at a load picked from the MAC that the caller did
                          not choose; it is reported as "initial_load" at the end
  factory-reset           (79x1 and later) the phone was factory reset before its
                          first start: settings and trust list gone; it asks for
                          term<NN>.default.loads (NN: 41 for a 7941, 61 for a 7961,
                          ...) and installs the load it lists before any config
                          (signing-key and 8.3(3)/8.5(2) limits apply; missing or
                          bad: retrying). Fires once per state dir; --factory-reset
                          resets a saved phone again (phone-behaviour.md 4)
7940/7960 Auth error (phone-behaviour.md 5):
  SCCP below 8.0(4) refuses SCCP 8.0(5) or later, SCCP below 8.1(1) refuses 8.1(2)
  or later: state auth-fail, load unchanged. A protocol change whose second stage
  is refused (a SIP application asked for SCCP 8.0(5) or later, or an application
  file that fails verification) boots the resident application under the new
  loader: state running, "load"/"app" the old application, "loader" the new one.

exit status: 0 state running, 1 any other end state, 2 usage error.
Needs root (AF_PACKET, ip addr) inside the phone's own network namespace.
"""


def parse_args(argv):
    p = argparse.ArgumentParser(prog="phonesim", description="Simulate one Cisco 79xx phone "
                                "booting, upgrading and reaching its final state.",
                                formatter_class=argparse.RawDescriptionHelpFormatter, epilog=EPILOG)
    p.add_argument("--model", required=True, help="one of " + ", ".join(MODELS))
    p.add_argument("--mac", required=True, help="the phone's MAC, e.g. 00:1E:4A:12:34:56")
    p.add_argument("--load", help="the load the phone runs at first start, e.g. P00303010102 "
                   "or SCCP45.8-5-2S (not needed with a saved state or a start-load fault)")
    p.add_argument("--iface", help="the phone's interface (default: the only one besides lo)")
    p.add_argument("--state-dir", help="where the phone keeps its flash and logs")
    p.add_argument("--fault", action="append", default=[], metavar="FAULT",
                   help="power-loss-during=FILE | very-old-load | unknown-load | itl | "
                        "alt-tftp=ADDR | old-rrq | interrupted-flash=previous|stuck")
    p.add_argument("--max-boots", type=int, default=20, metavar="N",
                   help="stop with state 'rebooting' before boot N+1 of this run (default 20)")
    p.add_argument("--timeout", type=float, default=300, metavar="SECONDS",
                   help="give up the whole run after this long: state 'timeout' (default 300)")
    p.add_argument("--dhcp-timeout", type=float, default=20, metavar="SECONDS",
                   help="per boot: no DHCP ACK by then -> state 'no-dhcp' (default 20)")
    p.add_argument("--blksize", type=int, default=512, metavar="N",
                   help="TFTP blksize to ask for, 8..65464; 0 = do not ask (default 512)")
    p.add_argument("--tftp-timeout", type=float, default=1.0, metavar="SECONDS",
                   help="TFTP retransmission timeout (default 1)")
    p.add_argument("--tftp-retries", type=int, default=5, metavar="N",
                   help="TFTP retransmissions before a transfer fails (default 5)")
    p.add_argument("--file-tries", type=int, default=3, metavar="N",
                   help="attempts per load file before state 'retrying' (default 3)")
    p.add_argument("--flash-seconds", type=float, default=0.0, metavar="SECONDS",
                   help="time spent writing a load to flash before the reboot (default 0; "
                        "real phones take minutes)")
    p.add_argument("--stay-up", action="store_true",
                   help="in state running, stay powered and keep announcing until killed")
    p.add_argument("--announce-interval", type=float, default=60, metavar="SECONDS",
                   help="CDP/LLDP-MED period with --stay-up (default 60, as real phones)")
    p.add_argument("--no-announce", action="store_true", help="send no CDP/LLDP-MED frames")
    p.add_argument("--persist", action="store_true",
                   help="a phone that cannot get a file keeps retrying (DHCP again, then the "
                        "same requests) until --timeout, as real phones do, instead of "
                        "ending in state retrying")
    p.add_argument("--persist-pause", type=float, default=10.0, metavar="SECONDS",
                   help="with --persist, the pause before a failed round starts again from "
                        "DHCP (default 10; choice: no source gives the real interval)")
    p.add_argument("--factory-reset", action="store_true",
                   help="factory-reset the phone (its saved state) before it starts: settings "
                        "and trust list gone, it asks for term<NN>.default.loads")
    p.add_argument("-v", "--verbose", action="store_true", help="trace on stderr")
    args = p.parse_args(argv)
    model = find_model(args.model)
    if model is None:
        p.error("unknown model %r (simulated: %s)" % (args.model, ", ".join(MODELS)))
    args.model = model
    if not re.match(r"^([0-9A-Fa-f]{2}[:-]?){5}[0-9A-Fa-f]{2}$", args.mac):
        p.error("bad MAC %r" % args.mac)
    args.mac = re.sub(r"[:-]", "", args.mac).upper()
    if int(args.mac[:2], 16) & 1:
        p.error("MAC %s is a multicast address" % args.mac)
    faults = {}
    for f in args.fault:
        key, _, value = f.partition("=")
        if key == "power-loss-during" and value:
            faults[key] = value
        elif key in ("very-old-load", "unknown-load") and not value:
            faults[key] = True
        elif key == "interrupted-flash" and value in ("previous", "stuck"):
            faults[key] = value
        elif (key == "key-window" and value in ("wide", "narrow")) or \
                (key == "auth-fail-mode" and value in ("stay", "loop")):
            faults[key] = value
        elif key in ("itl", "old-rrq", "ctl-loop", "factory-reset") and not value:
            faults[key] = True
        elif key == "alt-tftp" and re.match(r"^\d{1,3}(\.\d{1,3}){3}$", value):
            faults[key] = value
        else:
            p.error("unknown fault %r" % f)
    if "factory-reset" in faults and model.is_7940:
        p.error("fault factory-reset is modelled for the 79x1 generation and later: no "
                "term40/term60.default.loads ships for 7940/7960 (ref 1.2)")
    if args.factory_reset:
        if model.is_7940:
            p.error("--factory-reset: see fault factory-reset (79x1 and later only)")
        faults["factory-reset-now"] = True
    args.faults = faults
    if args.blksize and not 8 <= args.blksize <= 65464:
        p.error("--blksize must be 0 or 8..65464")
    if args.file_tries < 1 or args.max_boots < 1:
        p.error("--file-tries and --max-boots must be at least 1")
    if not args.state_dir:
        args.state_dir = os.path.abspath("phonesim-" + args.mac)
    has_state = os.path.exists(os.path.join(args.state_dir, "state.json"))
    if "very-old-load" in faults:
        args.load = very_old_load(model)
    elif "unknown-load" in faults:
        args.load = unknown_load(model, args.mac)
    elif not args.load and not has_state:
        p.error("--load is required for a phone without saved state")
    return args


class _Timeout(Exception):
    pass


class _Stopped(Exception):
    """SIGTERM while registering: the boot's end state is known and still printed."""


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    os.makedirs(args.state_dir, exist_ok=True)
    logf = open(os.path.join(args.state_dir, "phone.log"), "a")

    def log(msg):
        line = "%s phonesim %s: %s" % (time.strftime("%H:%M:%S"), args.mac, msg)
        logf.write(line + "\n")
        logf.flush()
        if args.verbose:
            print(line, file=sys.stderr)

    started = time.monotonic()
    raw = None
    try:
        iface = args.iface or netif.default_iface()
        netif.prepare(iface, args.mac)
        raw = dhcp.RawClient(iface, args.mac, "", log)
    except (netif.NetError, OSError) as e:
        print("phonesim: error: cannot use the network: %s" % e, file=sys.stderr)
        print(json.dumps({"mac": args.mac, "model": args.model.name, "state": "error",
                          "reason": str(e)}))
        return 1

    def do_dhcp(vendor_class):
        netif.flush(iface)
        raw.vendor_class = vendor_class
        left = args.timeout - (time.monotonic() - started)
        try:
            lease = raw.obtain(max(1.0, min(args.dhcp_timeout, left)))
        except dhcp.DhcpTimeout as e:
            raise EndState("no-dhcp", reason=str(e))
        netif.configure(iface, lease.address, lease.prefixlen)
        return lease

    # What the phone reads over TFTP in its last boot is all sip.py registers with.
    sip_config = sip.ConfigCapture()

    def tftp_factory(server):
        return sip_config.wrap(tftp.Client(server, blksize=args.blksize,
                                           timeout=args.tftp_timeout, retries=args.tftp_retries,
                                           old_rrq=bool(args.faults.get("old-rrq"))))

    def announce(load, ip):
        if args.no_announce:
            return
        try:
            for frame in announcement_frames(args.model, args.mac, load, ip):
                cdp.send_frame(iface, frame)
            log("announced %s at %s" % (load, ip))
        except OSError as e:
            log("announcement failed: %s" % e)

    def on_alarm(_sig, _frame):
        raise _Timeout()

    phone = Phone(args.model, args.mac, args.state_dir, do_dhcp, tftp_factory,
                  file_tries=args.file_tries, faults=args.faults, max_boots=args.max_boots, log=log,
                  flash_seconds=args.flash_seconds, announce=announce, persist=args.persist,
                  persist_pause=args.persist_pause)
    signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, args.timeout)
    try:
        phone.run(args.load)
        end = EndState("error", reason="boot loop ended without a state")
    except EndState as e:
        end = e
    except _Timeout:
        end = EndState("timeout", reason="no end state within %.0f s" % args.timeout)
        if phone.last_retry is not None:
            # --persist: still retrying when the time ran out.
            end = phone.last_retry
    except (ValueError, OSError, netif.NetError) as e:
        end = EndState("error", reason=str(e))
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        raw.close()
    result = phone.result_for(end)
    # SIP registration: "registered" is true only when the registrar answered 200.
    # It may wait for a registrar up to 32 s (Timer F) after the phone has
    # announced its load, and whoever runs the phone may stop it then (the lab
    # ends once the migration has seen the announcement): the end state of the
    # boot is printed all the same, as not registered.
    stopping = {"registering": True, "asked": False}

    def on_term(_sig, _frame):
        stopping["asked"] = True
        if stopping["registering"]:
            raise _Stopped()

    signal.signal(signal.SIGTERM, on_term)
    try:
        sip_fields, registration = sip.register_phone(result, sip_config.files, args.mac,
                                                      args.state_dir, log)
    except _Stopped:
        sip_fields, registration = dict(sip.NOT_SENT, sip_reason="stopped while registering"), None
    stopping["registering"] = False
    result.update(sip_fields)
    log("end state: %s" % json.dumps(result))
    print(json.dumps(result), flush=True)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if stopping["asked"]:
        os.kill(os.getpid(), signal.SIGTERM)
    if registration is not None:
        if args.stay_up:
            sip.keep_registered_in_background(registration)
        else:
            registration.close()
    if end.state == "running" and args.stay_up:
        while True:
            time.sleep(args.announce_interval)
            announce(phone.st["load"], result.get("ip"))
    return 0 if end.state == "running" else 1


def announcement_frames(model, mac, load, ip):
    """CDPv2 for every model; LLDP-MED too from the 79x1 generation on."""
    frames = [cdp.build_cdp_frame(mac, "SEP" + mac, load, "Cisco IP Phone " + model.name, ip)]
    if not model.is_7940:
        frames.append(cdp.build_lldp_med_frame(mac, load, "CP-%sG" % model.name, ip))
    return frames

"""The phone's one network interface, driven with iproute2 (inside the phone's namespace)."""

import ipaddress
import os
import socket
import subprocess


class NetError(Exception):
    pass


def _ip(*args):
    proc = subprocess.run(["ip", *args], capture_output=True, text=True)
    if proc.returncode != 0:
        raise NetError("ip %s: %s" % (" ".join(args), proc.stderr.strip()))
    return proc.stdout


def default_iface():
    """The only interface besides lo, or raise NetError."""
    names = sorted(n for n in os.listdir("/sys/class/net") if n != "lo")
    if len(names) != 1:
        raise NetError("cannot choose an interface among %s; give --iface" % (names or "none"))
    return names[0]


def hw_address(iface):
    with open("/sys/class/net/%s/address" % iface) as f:
        return f.read().strip().upper()


def prepare(iface, mac):
    """Give IFACE the phone's MAC (it is the phone's NIC) and bring it up, no addresses."""
    hexdigits = mac.replace(":", "").replace("-", "").lower()
    mac = ":".join(hexdigits[i:i + 2] for i in range(0, 12, 2))
    if hw_address(iface).lower() != mac:
        try:
            _ip("link", "set", "dev", iface, "address", mac)
        except NetError:
            _ip("link", "set", "dev", iface, "down")
            _ip("link", "set", "dev", iface, "address", mac)
    _ip("link", "set", "dev", iface, "up")
    flush(iface)


def flush(iface):
    """A rebooting phone forgets its address."""
    _ip("-4", "addr", "flush", "dev", iface)


def configure(iface, address, prefixlen):
    _ip("addr", "replace", "%s/%d" % (address, prefixlen), "dev", iface)


def resolve(name):
    """Option 66 may be an address or a name (ref 6); None if it does not resolve."""
    try:
        return str(ipaddress.IPv4Address(name))
    except ValueError:
        pass
    try:
        return socket.gethostbyname(name)
    except OSError:
        return None

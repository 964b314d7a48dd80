"""The phone's own TFTP client: RFC 1350 with options (RFC 2347), blksize (RFC 2348)
and tsize (RFC 2349). Codec functions are pure; Client.get does the I/O.
"""

import select
import socket
import struct
import time
from dataclasses import dataclass

RRQ, WRQ, DATA, ACK, ERROR, OACK = 1, 2, 3, 4, 5, 6
ERR_NOT_FOUND, ERR_UNKNOWN_TID, ERR_OPTION = 1, 5, 8
MAX_FILE = 256 * 1024 * 1024


class TftpPacketError(ValueError):
    pass


def rrq(filename, options=None, trailing_nul=False):
    """RRQ 'octet' with OPTIONS (an ordered dict of str -> str). TRAILING_NUL: one more
    NUL after the mode, as some old phone images send (phone-behaviour.md 2)."""
    out = struct.pack("!H", RRQ) + filename.encode("latin-1") + b"\0octet\0"
    for k, v in (options or {}).items():
        out += k.encode("ascii") + b"\0" + str(v).encode("ascii") + b"\0"
    return out + (b"\0" if trailing_nul else b"")


def ack(block):
    return struct.pack("!HH", ACK, block & 0xFFFF)


def error(code, message):
    return struct.pack("!HH", ERROR, code) + message.encode("latin-1") + b"\0"


def decode(packet):
    """(opcode, fields) for a packet a client may receive:
    DATA -> (block, bytes); ERROR -> (code, message); OACK -> {name: value};
    ACK -> block; RRQ/WRQ -> (filename, mode, options). Raises TftpPacketError."""
    if len(packet) < 2:
        raise TftpPacketError("packet shorter than an opcode")
    (op,) = struct.unpack_from("!H", packet)
    body = packet[2:]
    if op == DATA:
        if len(body) < 2:
            raise TftpPacketError("DATA without block number")
        return op, (struct.unpack_from("!H", body)[0], body[2:])
    if op == ACK:
        if len(body) != 2:
            raise TftpPacketError("ACK of %d bytes" % len(packet))
        return op, struct.unpack_from("!H", body)[0]
    if op == ERROR:
        if len(body) < 3 or not body.endswith(b"\0"):
            raise TftpPacketError("ERROR not NUL-terminated")
        return op, (struct.unpack_from("!H", body)[0], body[2:-1].decode("latin-1"))
    if op in (OACK, RRQ, WRQ):
        if body and not body.endswith(b"\0"):
            raise TftpPacketError("strings not NUL-terminated")
        parts = [p.decode("latin-1") for p in body[:-1].split(b"\0")] if body else []
        if op == OACK:
            if len(parts) % 2:
                raise TftpPacketError("OACK with an option lacking its value")
            return op, {parts[i].lower(): parts[i + 1] for i in range(0, len(parts), 2)}
        if len(parts) < 2 or len(parts) % 2:
            raise TftpPacketError("malformed request")
        opts = {parts[i].lower(): parts[i + 1] for i in range(2, len(parts), 2)}
        return op, (parts[0], parts[1], opts)
    raise TftpPacketError("unknown opcode %d" % op)


@dataclass
class Transfer:
    file: str
    result: str            # ok | not-found | error | timeout | size-mismatch | aborted
    data: bytes = b""
    tsize: int = None      # what the server announced in its OACK, if it did
    blksize: int = 512
    detail: str = ""
    server: str = ""


class Abort(Exception):
    """Raised by a progress callback to stop a transfer (e.g. the power is cut)."""


class Client:
    def __init__(self, server, port=69, blksize=512, timeout=1.0, retries=5, local_ip="",
                 old_rrq=False):
        self.server, self.port = server, port
        self.blksize, self.timeout, self.retries = blksize, timeout, retries
        self.local_ip = local_ip
        # An old image's request: no options, a trailing NUL after the mode, and no
        # second try without options when the server answers ERROR 8.
        self.old_rrq = old_rrq

    def get(self, filename, progress=None):
        """Download FILENAME; PROGRESS(bytes_so_far, tsize) may raise Abort."""
        if self.old_rrq:
            return self._get(filename, {}, progress)
        options = {"tsize": "0"}
        if self.blksize:
            options["blksize"] = str(self.blksize)
        result = self._get(filename, options, progress)
        if result.result == "error" and result.detail.startswith("code 8"):
            result = self._get(filename, {}, progress)   # RFC 2347: retry without options
        return result

    def _get(self, filename, options, progress):
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            sock.bind((self.local_ip, 0))
            return self._run(sock, filename, options, progress)
        finally:
            sock.close()

    def _run(self, sock, filename, options, progress):
        t = Transfer(filename, "timeout", server=self.server)
        last_packet = rrq(filename, options, trailing_nul=self.old_rrq)
        dest = (self.server, self.port)
        tid = None
        expected = 1
        data = bytearray()
        sock.sendto(last_packet, dest)
        tries = 0
        while True:
            ready, _, _ = select.select([sock], [], [], self.timeout)
            if not ready:
                tries += 1
                if tries > self.retries:
                    t.detail = "no answer after %d retransmissions" % self.retries
                    t.data = bytes(data)
                    return t
                sock.sendto(last_packet, tid or dest)
                continue
            packet, peer = sock.recvfrom(65536)
            if peer[0] != self.server:
                continue
            if tid is None:
                tid = peer
            elif peer != tid:
                sock.sendto(error(ERR_UNKNOWN_TID, "unknown transfer id"), peer)
                continue
            try:
                op, fields = decode(packet)
            except TftpPacketError as e:
                sock.sendto(error(4, "illegal packet"), tid)
                t.result, t.detail = "error", "bad packet: %s" % e
                return t
            if op == ERROR:
                code, message = fields
                t.result = "not-found" if code == ERR_NOT_FOUND else "error"
                t.detail = "code %d: %s" % (code, message)
                return t
            if op == OACK:
                if expected != 1 or data:
                    continue   # a duplicate OACK; our ACK 0 will be re-sent on timeout
                unknown = set(fields) - set(options)
                if unknown:
                    sock.sendto(error(ERR_OPTION, "unrequested option"), tid)
                    t.result, t.detail = "error", "OACK has unrequested options %s" % sorted(unknown)
                    return t
                if "blksize" in fields:
                    b = int(fields["blksize"]) if fields["blksize"].isdigit() else 0
                    if not 8 <= b <= int(options.get("blksize", 512)):
                        sock.sendto(error(ERR_OPTION, "bad blksize"), tid)
                        t.result, t.detail = "error", "OACK blksize %r out of range" % fields["blksize"]
                        return t
                    t.blksize = b
                if "tsize" in fields:
                    if not fields["tsize"].isdigit():
                        t.result, t.detail = "error", "OACK tsize %r not a number" % fields["tsize"]
                        return t
                    t.tsize = int(fields["tsize"])
                last_packet = ack(0)
                sock.sendto(last_packet, tid)
                tries = 0
                continue
            if op != DATA:
                continue
            block, chunk = fields
            if block == (expected - 1) & 0xFFFF and block != expected & 0xFFFF:
                sock.sendto(ack(block), tid)     # duplicate: the server missed our ACK
                continue
            if block != expected & 0xFFFF:
                continue
            if len(chunk) > t.blksize:
                sock.sendto(error(4, "block larger than blksize"), tid)
                t.result, t.detail = "error", "DATA block %d of %d bytes > blksize %d" % (
                    block, len(chunk), t.blksize)
                return t
            data += chunk
            if len(data) > MAX_FILE:
                sock.sendto(error(3, "file too large"), tid)
                t.result, t.detail = "error", "file larger than %d bytes" % MAX_FILE
                return t
            last_packet = ack(block)
            tries = 0
            if progress is not None:
                try:
                    progress(len(data), t.tsize)
                except Abort as e:
                    t.result, t.detail, t.data = "aborted", str(e), bytes(data)
                    return t
            sock.sendto(last_packet, tid)
            expected += 1
            if len(chunk) < t.blksize:
                t.data = bytes(data)
                if t.tsize is not None and t.tsize != len(data):
                    t.result = "size-mismatch"
                    t.detail = "received %d bytes, server announced tsize %d" % (len(data), t.tsize)
                else:
                    t.result = "ok"
                return t

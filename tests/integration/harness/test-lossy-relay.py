#!/usr/bin/env python3
"""Self-test of tests/tools/lossy-relay (loopback only, no root needed).

Checks that with no impairment every datagram (0 to 65507 bytes) arrives
intact, once and in order for several concurrent clients; that drop, dup and
reorder rates for a fixed seed are near the requested ones and exactly
reproducible; that TFTP-style transfer IDs (a server answering from a new
port) are followed, including --tftp mode; --drop-nth; idle expiry; signals
and --stats; throughput; command line errors.

    python3 tests/integration/harness/test-lossy-relay.py   # exit 0 pass, 1 fail
"""

import collections
import json
import os
import selectors
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
# Cleanups of everything still alive (relay processes, temporary
# directories, sockets), run by main() even when interrupted.
LIVE = {}


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C so that unittest does not swallow it."""


def on_sigterm(_signum, _frame):
    raise Terminated()
RELAY = os.path.normpath(os.path.join(HERE, "..", "..", "tools", "lossy-relay"))
LOCALHOST = "127.0.0.1"


class Relay:
    """A lossy-relay process listening on a free loopback port."""

    def __init__(self, upstream_port, *args):
        self.process = None
        self.dir = tempfile.mkdtemp(prefix="cf-relay-test.")
        self.stats_path = os.path.join(self.dir, "stats.json")
        ready = os.path.join(self.dir, "ready")
        self.stderr_path = os.path.join(self.dir, "stderr")
        self.stderr_file = open(self.stderr_path, "w+")
        command = [sys.executable, RELAY, "--listen", "%s:0" % LOCALHOST, "--ready-file", ready,
                   "--upstream", "%s:%d" % (LOCALHOST, upstream_port), "--stats", self.stats_path]
        command += [str(arg) for arg in args]
        try:
            self.process = subprocess.Popen(command, stderr=self.stderr_file, stdin=subprocess.DEVNULL)
            deadline = time.monotonic() + 15
            while not os.path.exists(ready):
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError("relay did not start: %s" % self.stderr())
                time.sleep(0.02)
            with open(ready) as handle:
                self.port = int(handle.read().split()[1])
        except BaseException:
            self.close()
            raise
        self.address = (LOCALHOST, self.port)

    def stderr(self):
        self.stderr_file.flush()
        with open(self.stderr_path) as handle:
            return handle.read()

    def read_stats(self):
        with open(self.stats_path) as handle:
            return json.load(handle)

    def snapshot(self):
        """Stats while running, through SIGUSR1."""
        if os.path.exists(self.stats_path):
            os.unlink(self.stats_path)
        self.process.send_signal(signal.SIGUSR1)
        deadline = time.monotonic() + 5
        while not os.path.exists(self.stats_path):
            if time.monotonic() > deadline:
                raise AssertionError("no stats after SIGUSR1")
            time.sleep(0.02)
        return self.read_stats()

    def stop(self, sig=signal.SIGTERM):
        """Stop the relay; return (exit status, stats)."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            status = self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            status = self.process.wait()
            raise AssertionError("relay ignored signal %s" % sig)
        stats = self.read_stats() if os.path.exists(self.stats_path) else None
        return status, stats

    def close(self):
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.stderr_file.close()
        shutil.rmtree(self.dir, ignore_errors=True)


class TidServer:
    """UDP server that, like a TFTP server, answers each new client from a
    new port (its transfer ID). Modes:
      echo  echo each datagram back from the client's TID socket;
            migrate_after=N: from the N-th datagram on, answer from yet
            another new port;
      tftp  on RRQ open a new TID and send DATA block 1 from it (one per RRQ,
            so a duplicated RRQ makes two transfers), record what each TID gets.
    """

    def __init__(self, mode="echo", migrate_after=None):
        self.mode = mode
        self.migrate_after = migrate_after
        self.selector = selectors.DefaultSelector()
        self.main = self._socket()
        self.port = self.main.getsockname()[1]
        self.lock = threading.Lock()
        self.main_log = []              # (client, data) that arrived at the main port
        self.tid_log = collections.defaultdict(list)   # tid port -> [(client, data)]
        self.client_tid = {}            # client -> current reply socket
        self.client_count = collections.Counter()
        self.tftp_transfers = []        # TID sockets in creation order
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _socket(self):
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        sock.bind((LOCALHOST, 0))
        sock.setblocking(False)
        self.selector.register(sock, selectors.EVENT_READ)
        return sock

    def _run(self):
        while not self.stopping.is_set():
            for key, _ in self.selector.select(0.05):
                sock = key.fileobj
                while True:
                    try:
                        data, client = sock.recvfrom(65535)
                    except BlockingIOError:
                        break
                    with self.lock:
                        self._handle(sock, data, client)

    def _handle(self, sock, data, client):
        if sock is self.main:
            self.main_log.append((client, data))
        else:
            self.tid_log[sock.getsockname()[1]].append((client, data))
        if self.mode == "tftp":
            if sock is self.main and data[:2] == b"\x00\x01":
                tid = self._socket()
                self.tftp_transfers.append(tid)
                tid.sendto(struct.pack("!HH", 3, 1) + b"hello", client)
            return
        self.client_count[client] += 1
        reply_sock = self.client_tid.get(client)
        if reply_sock is None:
            reply_sock = self.client_tid[client] = self._socket()
        elif self.migrate_after and self.client_count[client] == self.migrate_after:
            reply_sock = self.client_tid[client] = self._socket()
        reply_sock.sendto(data, client)

    def tid_ports(self):
        with self.lock:
            return [s.getsockname()[1] for s in self.tftp_transfers]

    def close(self):
        self.stopping.set()
        self.thread.join(5)
        for key in list(self.selector.get_map().values()):
            key.fileobj.close()
        self.selector.close()


def client_socket():
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    sock.bind((LOCALHOST, 0))
    return sock


def receive_all(sock, quiet_seconds):
    """Datagrams until none arrived for quiet_seconds: [(data, source)]."""
    result = []
    sock.settimeout(quiet_seconds)
    while True:
        try:
            result.append(sock.recvfrom(65535))
        except socket.timeout:
            return result


def send_sequence(sock, target, count, burst=20, pause=0.002):
    for seq in range(count):
        sock.sendto(struct.pack("!I", seq) + b"x" * 60, target)
        if seq % burst == burst - 1:
            time.sleep(pause)


def sequences(datagrams):
    return [struct.unpack("!I", data[:4])[0] for data, _ in datagrams]


class RelayTestCase(unittest.TestCase):
    def setUp(self):
        self.cleanups = []

    def tearDown(self):
        while self.cleanups:
            cleanup = self.cleanups.pop()
            LIVE.pop(id(cleanup), None)
            cleanup()

    def addLive(self, cleanup):
        self.cleanups.append(cleanup)
        LIVE[id(cleanup)] = cleanup

    def server(self, *args, **kwargs):
        server = TidServer(*args, **kwargs)
        self.addLive(server.close)
        return server

    def relay(self, server, *args):
        relay = Relay(server.port, *args)
        self.addLive(relay.close)
        return relay

    def client(self):
        sock = client_socket()
        self.addLive(sock.close)
        return sock

    def assertNear(self, value, expected, tolerance, what):
        self.assertTrue(abs(value - expected) <= tolerance,
                        "%s: %.4f is not within %.4f of %.4f" % (what, value, tolerance, expected))


class ZeroLossTest(RelayTestCase):
    def test_every_datagram_arrives_intact_once_in_order(self):
        server = self.server()
        relay = self.relay(server)
        clients = [self.client() for _ in range(3)]
        sizes = [0, 1, 3, 4, 511, 512, 516, 1400, 1472, 4096, 8192, 32768, 65507]
        rounds = 150
        expected_total = 0
        for number in range(rounds):
            size = sizes[number % len(sizes)]
            payloads = [os.urandom(size) for _ in clients]
            for sock, payload in zip(clients, payloads):
                sock.sendto(payload, relay.address)
            for index, (sock, payload) in enumerate(zip(clients, payloads)):
                sock.settimeout(3)
                data, source = sock.recvfrom(65535)
                self.assertEqual(source, relay.address, "reply must come from the relay's port")
                self.assertEqual(len(data), len(payload), "client %d round %d size" % (index, number))
                self.assertEqual(data, payload, "client %d round %d content" % (index, number))
            expected_total += len(clients)
        for sock in clients:
            self.assertEqual(receive_all(sock, 0.3), [], "no extra datagrams")
        # TID routing: only each session's first datagram reached the main port.
        self.assertEqual(len(server.main_log), len(clients))
        self.assertEqual(len({client for client, _ in server.main_log}), len(clients))
        self.assertEqual(sum(len(v) for v in server.tid_log.values()), expected_total - len(clients))
        status, stats = relay.stop()
        self.assertEqual(status, 0)
        self.assertEqual(stats["packets_in"], 2 * expected_total)
        self.assertEqual(stats["packets_out"], 2 * expected_total)
        self.assertEqual(stats["dropped"] + stats["duplicated"] + stats["reordered"], 0)
        self.assertEqual(stats["sessions"], 3)
        self.assertEqual(stats["send_errors"], 0)


class RatesTest(RelayTestCase):
    COUNT = 3000
    OPTIONS = ("--drop", 0.3, "--dup", 0.1, "--reorder", 0.1, "--delay-ms", "0-2", "--seed", 42)

    def run_once(self, *options):
        server = self.server()
        relay = self.relay(server, *options)
        sock = self.client()
        received = []
        receiver = threading.Thread(target=lambda: received.extend(receive_all(sock, 1.0)))
        receiver.start()
        send_sequence(sock, relay.address, self.COUNT)
        receiver.join()
        status, stats = relay.stop()
        self.assertEqual(status, 0)
        return stats, sequences(received)

    def test_rates_near_requested_and_reproducible(self):
        stats, seqs = self.run_once(*self.OPTIONS)
        for direction in ("c2s", "s2c"):
            counters = stats[direction]
            passed = counters["in"] - counters["dropped"]
            self.assertNear(counters["dropped"] / counters["in"], 0.3, 0.04, direction + " drop rate")
            self.assertNear(counters["duplicated"] / passed, 0.1, 0.03, direction + " dup rate")
            held = counters["reordered"] + counters["reorder_timeouts"]
            self.assertNear(held / passed, 0.1 / 1.1, 0.03, direction + " reorder rate")
            self.assertGreater(counters["reordered"], 0, direction + " reordered")
            self.assertEqual(counters["out"], passed + counters["duplicated"],
                             direction + ": out = in - dropped + duplicated")
        self.assertEqual(stats["c2s"]["in"], self.COUNT)
        self.assertEqual(stats["s2c"]["in"], stats["c2s"]["out"], "server echoed all it got")
        self.assertEqual(len(seqs), stats["s2c"]["out"])
        # What the client saw: about 0.7 * (0.9 * 0.7 + 0.1 * (1 - 0.3 ** 2)) of the
        # sequence numbers, some twice, some out of order.
        distinct = set(seqs)
        self.assertNear(len(distinct) / self.COUNT, 0.7 * (0.9 * 0.7 + 0.1 * 0.91), 0.04,
                        "fraction of sequence numbers delivered")
        self.assertGreater(len(seqs) - len(distinct), 0, "duplicates seen by the client")
        out_of_order = sum(1 for before, after in zip(seqs, seqs[1:]) if after < before)
        self.assertGreater(out_of_order, 0, "reordering seen by the client")
        print("\n  rates: c2s %s\n         s2c %s\n         delivered %d/%d distinct, %d dups, %d inversions"
              % (stats["c2s"], stats["s2c"], len(distinct), self.COUNT, len(seqs) - len(distinct),
                 out_of_order), file=sys.stderr)

        # Same seed: the counts are exactly the same (each datagram's fate only
        # depends on its position); another seed gives other counts.
        again, _ = self.run_once(*self.OPTIONS)
        keys = ("in", "out", "dropped", "duplicated")
        for direction in ("c2s", "s2c"):
            self.assertEqual({k: again[direction][k] for k in keys},
                             {k: stats[direction][k] for k in keys}, direction + " reproducible")
        other, _ = self.run_once(*(self.OPTIONS[:-1] + (43,)))
        self.assertNotEqual(other["c2s"]["dropped"], stats["c2s"]["dropped"])

    def run_whole(self, *options):
        """run_once, again (at most 3 times) when a datagram was lost outside the
        relay (a socket buffer of a starved process on a loaded machine): the relay's
        fate for each datagram depends on its position, which such a loss shifts."""
        for _ in range(3):
            stats, seqs = self.run_once(*options)
            if (stats["c2s"]["in"] == self.COUNT and stats["s2c"]["in"] == stats["c2s"]["out"]
                    and len(seqs) == stats["s2c"]["out"]):
                return stats, seqs
        self.fail("datagrams were lost outside the relay in 3 runs: %s" % stats)

    def test_same_seed_same_datagrams(self):
        # Without reordering the order is fixed, so the delivered multiset is too.
        options = ("--drop", 0.25, "--dup", 0.1, "--delay-ms", "0-1", "--seed", 7)
        first_stats, first = self.run_whole(*options)
        second_stats, second = self.run_whole(*options)
        self.assertEqual(collections.Counter(first), collections.Counter(second))
        self.assertEqual(first, second, "same order too")
        self.assertEqual(first_stats["c2s"], second_stats["c2s"])
        self.assertEqual(first_stats["s2c"], second_stats["s2c"])
        _, third = self.run_once(*(options[:-1] + (8,)))
        self.assertNotEqual(collections.Counter(first), collections.Counter(third))


class TransferIdTest(RelayTestCase):
    def test_follows_latest_reply_address(self):
        server = self.server(migrate_after=3)
        relay = self.relay(server)
        sock = self.client()
        sock.settimeout(3)
        for number in range(10):
            payload = b"packet %d" % number
            sock.sendto(payload, relay.address)
            data, source = sock.recvfrom(65535)
            self.assertEqual((data, source), (payload, relay.address))
        self.assertEqual([d for _, d in server.main_log], [b"packet 0"])
        ports = sorted(server.tid_log, key=lambda p: server.tid_log[p][0][1])
        self.assertEqual(len(ports), 2, "server answered from two TIDs")
        self.assertEqual([d for _, d in server.tid_log[ports[0]]], [b"packet 1", b"packet 2"])
        self.assertEqual([d for _, d in server.tid_log[ports[1]]], [b"packet %d" % n for n in range(3, 10)])

    def tftp_exchange(self, relay, sock):
        sock.settimeout(3)
        sock.sendto(b"\x00\x01file\x00octet\x00", relay.address)
        data, source = sock.recvfrom(65535)
        self.assertEqual(source, relay.address)
        self.assertEqual(data, struct.pack("!HH", 3, 1) + b"hello")
        sock.sendto(struct.pack("!HH", 4, 1), relay.address)
        return receive_all(sock, 0.5)

    def test_tftp_mode_locks_first_tid_and_rejects_others(self):
        server = self.server(mode="tftp")
        relay = self.relay(server, "--tftp", "--dup", "c2s=1")
        sock = self.client()
        extra = self.tftp_exchange(relay, sock)
        self.assertEqual(extra, [], "the second transfer's DATA must not reach the client")
        time.sleep(0.2)
        first, second = server.tid_ports()
        # The duplicated RRQ started two transfers; the first TID got the ACK
        # (twice: c2s is all duplicated), the second got ERROR 5 from the relay.
        self.assertEqual([d for _, d in server.tid_log[first]], [struct.pack("!HH", 4, 1)] * 2)
        self.assertEqual(len(server.tid_log[second]), 1)
        self.assertEqual(server.tid_log[second][0][1][:4], struct.pack("!HH", 5, 5))
        # A new RRQ from the same client port is a new transfer at the main port.
        self.tftp_exchange(relay, sock)
        self.assertEqual(len(server.main_log), 4)
        status, stats = relay.stop()
        self.assertEqual(stats["foreign_tid"], 2)

    def test_default_mode_sends_later_datagrams_to_latest_tid(self):
        server = self.server(mode="tftp")
        relay = self.relay(server)
        sock = self.client()
        self.tftp_exchange(relay, sock)
        time.sleep(0.2)
        # Without --tftp a second RRQ follows the session to the TID.
        sock.sendto(b"\x00\x01file\x00octet\x00", relay.address)
        time.sleep(0.3)
        self.assertEqual(len(server.main_log), 1)
        tid = server.tid_ports()[0]
        self.assertEqual(server.tid_log[tid][-1][1][:2], b"\x00\x01")


class OptionsTest(RelayTestCase):
    def test_drop_nth(self):
        server = self.server()
        relay = self.relay(server, "--drop-nth", "c2s:2,s2c:3")
        sock = self.client()
        got = []
        for number in range(1, 6):
            sock.sendto(b"%d" % number, relay.address)
            got += [d for d, _ in receive_all(sock, 0.3)]
        # c2s #2 (datagram 2) dropped; the server answers 1,3,4,5 and the
        # 3rd answer (to 4) is dropped.
        self.assertEqual(got, [b"1", b"3", b"5"])

    def test_idle_sessions_are_forgotten(self):
        server = self.server()
        relay = self.relay(server, "--idle-timeout", 0.5)
        sock = self.client()
        sock.settimeout(3)
        sock.sendto(b"one", relay.address)
        self.assertEqual(sock.recvfrom(100)[0], b"one")
        time.sleep(1.6)
        stats = relay.snapshot()
        self.assertEqual((stats["sessions"], stats["sessions_expired"], stats["active_sessions"]), (1, 1, 0))
        sock.sendto(b"two", relay.address)
        self.assertEqual(sock.recvfrom(100)[0], b"two")
        self.assertEqual([d for _, d in server.main_log], [b"one", b"two"],
                         "a forgotten session starts again at the upstream address")

    def test_signals_and_stats(self):
        server = self.server()
        for sig in (signal.SIGTERM, signal.SIGINT):
            relay = self.relay(server, "--seed", 5)
            sock = self.client()
            sock.sendto(b"ping", relay.address)
            sock.settimeout(3)
            sock.recvfrom(100)
            snapshot = relay.snapshot()
            self.assertEqual(snapshot["packets_in"], 2)
            status, stats = relay.stop(sig)
            self.assertEqual(status, 0, "clean exit on %s" % sig)
            self.assertEqual(stats["packets_out"], 2)
            self.assertEqual(stats["seed"], "5")
            self.assertIn("lossy-relay: stats: packets_in=2 packets_out=2 dropped=0", relay.stderr())

    def test_throughput(self):
        server = self.server()
        relay = self.relay(server)
        sock = self.client()
        sock.settimeout(3)
        count, window = 5000, 64
        started = time.monotonic()
        in_flight = sent = received = 0
        while received < count:
            while in_flight < window and sent < count:
                sock.sendto(b"y" * 100, relay.address)
                sent += 1
                in_flight += 1
            sock.recvfrom(200)
            received += 1
            in_flight -= 1
        elapsed = time.monotonic() - started
        rate = 2 * count / elapsed
        print("\n  throughput: %d datagrams relayed in %.2fs = %.0f/s" % (2 * count, elapsed, rate),
              file=sys.stderr)
        self.assertGreater(rate, 2000)

    def test_command_line(self):
        help_run = subprocess.run([sys.executable, RELAY, "--help"], capture_output=True, text=True)
        self.assertEqual(help_run.returncode, 0)
        for word in ("--drop", "--dup", "--reorder", "--delay-ms", "--seed", "--stats", "--tftp"):
            self.assertIn(word, help_run.stdout)
        for bad in (["--upstream", "10.1.2.3:69"], ["--upstream", "127.0.0.1:69", "--drop", "1.5"],
                    ["--upstream", "127.0.0.1:69", "--delay-ms", "5-1"]):
            run = subprocess.run([sys.executable, RELAY, "--listen", "127.0.0.1:0"] + bad,
                                 capture_output=True, text=True)
            self.assertEqual(run.returncode, 2, "%s: %s" % (bad, run.stderr))


def main():
    signal.signal(signal.SIGTERM, on_sigterm)
    try:
        result = unittest.main(exit=False, verbosity=2).result
    except KeyboardInterrupt as interrupt:
        print("\ninterrupted, cleaning up", file=sys.stderr)
        return 143 if isinstance(interrupt, Terminated) else 130
    finally:
        for cleanup in list(LIVE.values()):
            try:
                cleanup()
            except Exception as error:  # keep cleaning up
                print("cleanup failed: %s" % error, file=sys.stderr)
    failed = len(result.failures) + len(result.errors)
    skipped = len(result.skipped)
    print("%d passed, %d failed, %d skipped" % (result.testsRun - failed - skipped, failed, skipped))
    return 0 if result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())

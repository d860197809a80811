#!/usr/bin/env python3
"""twowayd under a flood of garbage and stalled connections: a good client (twoway ... true from
127.0.0.1) still authenticates promptly, measured against its unloaded latency in the same run; the
flood comes from other loopback addresses (127.0.0.2, ...: the whole 127/8 is loopback on Linux), so
PerSourceMaxStartups and PerSourcePenalties single it out. Also: PerSourcePenaltyExemptList spares a
listed source, and a penalised source is refused at accept with its own log line."""

import os
import re
import socket
import statistics
import threading
import time

from twoway_env import World, check, public_key_line, run_tests

ATTACKER = "127.0.0.2"


def trusted_world(name, extra):
    w = World(name, extra_config=extra)
    with open(w.known_hosts, "w") as f:
        f.write(f"[127.0.0.1]:{w.port} {public_key_line(w.host_key + '.pub')}\n")
    return w


def connect_from(source, port, timeout=5):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.bind((source, 0))
    s.connect(("127.0.0.1", port))
    return s


def timed_login(w):
    # -N: connect, authenticate both ways, exit, with no session. The claim is about the daemon's
    # handshake under flood; a command would add the account's shell start-up (root's bash reads
    # .bashrc, ~1 s here and more under load), whose noise alone once took a good login past the bound
    # (a clean-clone ASan run: max 3.32 s against 3.31 s, at a flood ratio of 1.57).
    t0 = time.monotonic()
    r = w.twoway("-N", "127.0.0.1", timeout=30)
    took = time.monotonic() - t0
    check(r.returncode == 0, f"the good client failed: {r}")
    return took


class Flood:
    """Threads hammering the daemon from one source address until stopped: `garbage` workers send a
    burst of junk and wait for the close, `stall` workers open connections that send two bytes of a
    header and then nothing, keeping up to `max_stalled` of them open."""

    def __init__(self, port, source=ATTACKER, garbage=6, stall=3, max_stalled=300):
        self.port = port
        self.source = source
        self.stop_event = threading.Event()
        self.lock = threading.Lock()
        self.counts = {"garbage": 0, "stalled": 0, "refused": 0}
        self.stalled = []
        self.max_stalled = max_stalled
        self.threads = [threading.Thread(target=self._garbage, daemon=True) for _ in range(garbage)]
        self.threads += [threading.Thread(target=self._stall, daemon=True) for _ in range(stall)]

    def _count(self, what):
        with self.lock:
            self.counts[what] += 1

    def _garbage(self):
        junk = os.urandom(700)
        while not self.stop_event.is_set():
            try:
                s = connect_from(self.source, self.port, timeout=3)
            except OSError:
                self._count("refused")
                continue
            try:
                s.sendall(junk)
                while s.recv(4096):
                    pass
            except OSError:
                pass
            finally:
                s.close()
            self._count("garbage")
            time.sleep(0.002)  # a few thousand a second is plenty, and spares the loopback port range

    def _stall(self):
        while not self.stop_event.is_set():
            try:
                s = connect_from(self.source, self.port, timeout=3)
                s.sendall(b"\x01\x00")
            except OSError:
                self._count("refused")
                continue
            self._count("stalled")
            with self.lock:
                self.stalled.append(s)
                old = self.stalled.pop(0) if len(self.stalled) > self.max_stalled else None
            if old is not None:
                old.close()
            time.sleep(0.05)  # slow enough that a stalled connection outlives LoginGraceTime

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop_event.set()
        for t in self.threads:
            t.join(timeout=15)
        with self.lock:
            for s in self.stalled:
                s.close()
            self.stalled.clear()
        return False

    def total(self):
        with self.lock:
            return self.counts["garbage"] + self.counts["stalled"]


def measure_under_flood(name, extra):
    """The good client's latency unloaded and under a flood from ATTACKER, in one daemon; prints the
    figures, checks the bound and returns the daemon's log."""
    with trusted_world(name, extra) as w:
        timed_login(w)  # warm-up: page cache, first process start
        unloaded = [timed_login(w) for _ in range(5)]
        with Flood(w.port) as flood:
            # Let the flood build up past PerSourceMaxStartups (and into the penalty box).
            began = time.monotonic()
            deadline = began + 20
            while flood.total() < 100 and time.monotonic() < deadline:
                time.sleep(0.05)
            loaded = []
            for _ in range(5):
                loaded.append(timed_login(w))
                time.sleep(0.3)
            # Keep it running until it has made several hundred connections, and for longer than
            # LoginGraceTime (3s), so that stalled connections time out while it runs.
            while (flood.total() < 400 or time.monotonic() - began < 4.5) and time.monotonic() < deadline:
                time.sleep(0.05)
            counts = dict(flood.counts)
        u = statistics.median(unloaded)
        f = statistics.median(loaded)
        print(f"{name}: good client latency unloaded median {u * 1000:.0f} ms (max {max(unloaded) * 1000:.0f} ms), "
              f"under flood median {f * 1000:.0f} ms (max {max(loaded) * 1000:.0f} ms), ratio {f / u:.2f}; "
              f"flood from {ATTACKER}: {counts['garbage']} garbage + {counts['stalled']} stalled connections "
              f"({counts['refused']} connect errors)", flush=True)
        check(counts["garbage"] + counts["stalled"] >= 300, f"the flood was too small: {counts}")
        # 2 s, or 3 times the unloaded median when the machine itself is that slow: a clean-clone CI run,
        # compiling the ASan build beside this test, measured 1.4 and 1.9 s unloaded (a login is ~0.05 s
        # on an idle machine), and the fixed 2 s then failed a daemon that was not slowed by the flood
        # at all (ratios 0.88 and 1.41).
        bound = max(2.0, 3 * u)
        check(max(loaded) < bound, f"the good client took {max(loaded):.2f}s under flood (unloaded {u:.2f}s, "
                                   f"bound {bound:.2f}s)")
        log = w.daemon_log()
        check(len(re.findall(r"Accepted publickey for ", log)) == 11, "not every good login was accepted")
        check("Penalty for 127.0.0.1 " not in log, "the good client's address was penalised")
        return w.port, log


def drop_line(port, what):
    return rf"drop connection #\d+ from \[{re.escape(ATTACKER)}\]:\d+ on \[127\.0\.0\.1\]:{port} {what}"


def test_good_client_is_prompt_under_flood_without_penalties():
    # Only the per-source cap stands between the flood and the daemon: every garbage connection costs a
    # handshake attempt, and the stalled ones cannot hold their slots: each newcomer from the source
    # sheds the source's stalest connection.
    port, log = measure_under_flood("flood-nopenalty", "LoginGraceTime 3\nPerSourceMaxStartups 8\n")
    check(re.search(drop_line(port, "past PerSourceMaxStartups"), log), "no connection shed at PerSourceMaxStartups")
    check("Penalty for" not in log, "penalties are off by default")


def test_good_client_is_prompt_under_flood_with_penalties():
    port, log = measure_under_flood("flood-penalty",
                                    "LoginGraceTime 3\nPerSourceMaxStartups 8\nPerSourcePenalties yes\n")
    check(re.search(rf"Penalty for {re.escape(ATTACKER)} \([a-zA-Z ]+\): new connections refused for \d+s", log),
          "the flooding source was never penalised")
    check(re.search(drop_line(port, "penalty: "), log), "no connection was refused for a penalty")


def test_exempt_source_is_never_penalised():
    extra = ("PerSourcePenalties noauth:5 min:10\n"
             "PerSourcePenaltyExemptList 127.0.0.3,10.0.0.0/8\n")
    with trusted_world("exempt", extra) as w:
        def garbage_from(source, n):
            for _ in range(n):
                s = connect_from(source, w.port)
                s.sendall(b"\xff" * 64)
                try:
                    while s.recv(4096):
                        pass
                except OSError:
                    pass
                s.close()

        garbage_from("127.0.0.3", 6)  # 30s of noauth penalties, were it not exempt
        w.wait_log(r"(?s)(Handshake failed with 127\.0\.0\.3 port \d+.*){6}")
        s = connect_from("127.0.0.3", w.port)
        port3 = s.getsockname()[1]
        w.wait_log(rf"Connection from 127\.0\.0\.3 port {port3} ")
        s.close()
        check("Penalty for 127.0.0.3" not in w.daemon_log(), "an exempt source was penalised")

        garbage_from("127.0.0.4", 3)  # 15s (less the time between them): past min, the penalty starts
        w.wait_log(r"Penalty for 127\.0\.0\.4 \(no authentication\): new connections refused for \d+s")
        s = connect_from("127.0.0.4", w.port)
        port4 = s.getsockname()[1]
        try:
            closed = s.recv(1) == b""
        except ConnectionResetError:
            closed = True
        s.close()
        check(closed, "a penalised source's connection was not closed")
        w.wait_log(rf"drop connection #\d+ from \[127\.0\.0\.4\]:{port4} on \[127\.0\.0\.1\]:{w.port} "
                   r"penalty: no authentication")
        check(f"Connection from 127.0.0.4 port {port4} " not in w.daemon_log(),
              "the penalised connection got past accept")
        r = w.twoway("127.0.0.1", "true")
        check(r.returncode == 0, f"the good client failed next to a penalised source: {r}")


if __name__ == "__main__":
    run_tests(globals())

#!/usr/bin/env python3
"""StealthMode (PROTOCOL.md 4.1.1): twowayd answers only a client_hello that proves knowledge of its host
key. A client with the host in known_hosts proves it without being told; a scanner, a garbage prober and
a first-contact client get no byte back, and the connection closes only at LoginGraceTime."""

import json
import os
import socket
import subprocess
import time

from twoway_env import World, check, closed_within, public_key_line, run_tests

GRACE = 3


def world(name, stealth, trusted=True, extra=""):
    w = World(name, extra_config=f"StealthMode {'yes' if stealth else 'no'}\nLoginGraceTime {GRACE}\n{extra}")
    if trusted:
        with open(w.known_hosts, "w") as f:
            f.write(f"[127.0.0.1]:{w.port} {public_key_line(w.host_key + '.pub')}\n")
    return w


def probe(port, payload):
    """Sends payload; returns (bytes received, seconds until the daemon closed), waiting up to 3 x GRACE."""
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    t0 = time.monotonic()
    s.sendall(payload)
    got = b""
    s.settimeout(GRACE * 3)
    try:
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            got += chunk
    except (socket.timeout, ConnectionResetError):
        pass
    s.close()
    return got, time.monotonic() - t0


# What a scanner might send: an SSH banner, an HTTP request, and a well-formed twoway client_hello
# whose host_key_mac is the random stand-in of a first contact (the success test vector's,
# docs/test-vectors/handshake.json).
def _vector_hello():
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "..", "..", "docs", "test-vectors", "handshake.json")) as f:
        return bytes.fromhex(json.load(f)["success"]["client_hello"])


PLAIN_HELLO = _vector_hello()
PROBES = [b"SSH-2.0-OpenSSH_9.2\r\n", b"GET / HTTP/1.0\r\n\r\n", PLAIN_HELLO]


def test_known_host_gets_in_and_probes_get_silence():
    with world("stealth", True) as w:
        r = w.twoway("-v", "127.0.0.1", "echo inside")
        check(r.returncode == 0 and r.stdout == b"inside\n", f"known host through stealth: {r}")
        check(b"host_key_mac" in r.stderr, r.stderr)
        for payload in PROBES:
            got, held = probe(w.port, payload)
            check(got == b"", f"{payload[:20]!r}: the stealth daemon answered {got[:40]!r}")
            check(held >= GRACE - 0.5, f"{payload[:20]!r}: closed after {held:.2f} s, before LoginGraceTime")
        w.wait_log(r"No proof of the host key from 127\.0\.0\.1 port \d+ .*silent until LoginGraceTime")
        # The daemon still serves after the probes.
        r = w.twoway("127.0.0.1", "true")
        check(r.returncode == 0, f"after probes: {r}")


def test_first_contact_cannot_reach_a_stealth_daemon():
    with world("stealth-unknown", True, trusted=False) as w:
        r = w.twoway("-o", "ConnectTimeout=2", "127.0.0.1", "true", strict="accept-new")
        check(r.returncode == 255, f"an unknown host answered: {r}")
        check(b"timed out" in r.stderr, r.stderr)
        check(not os.path.exists(w.known_hosts) or os.path.getsize(w.known_hosts) == 0,
              "a stealth daemon's key was recorded without an answer")


def test_without_stealth_the_same_probes_are_answered_or_closed_at_once():
    with world("plain", False, trusted=False) as w:
        got, _ = probe(w.port, PLAIN_HELLO)
        check(got[:1] == b"\x02", f"a plain daemon must answer client_hello with server_hello: {got[:8]!r}")
        got, held = probe(w.port, PROBES[0])
        check(got == b"" and held < GRACE - 0.5, f"garbage should be closed at once: {got!r} after {held:.2f} s")
        r = w.twoway("127.0.0.1", "true", strict="accept-new")
        check(r.returncode == 0, f"first contact without stealth: {r}")


def captured_hello(w, known):
    """The client_hello a real twoway sends to a listener of ours, with or without the daemon's key in
    known_hosts for that listener's address."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    port = listener.getsockname()[1]
    with open(w.known_hosts, "w") as f:
        if known:
            f.write(f"[127.0.0.1]:{port} {public_key_line(w.host_key + '.pub')}\n")
    proc = subprocess.Popen(w.argv("-o", "ConnectTimeout=5", "127.0.0.1", "true", port=port),
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env=w.client_env(), start_new_session=True)
    try:
        listener.settimeout(10)
        conn, _ = listener.accept()
        conn.settimeout(5)
        got = b""
        while len(got) < 4 or len(got) < 4 + int.from_bytes(got[1:4], "big"):
            chunk = conn.recv(4096)
            if not chunk:
                break
            got += chunk
        conn.close()
    finally:
        listener.close()
        proc.kill()
        proc.wait()
    return got


def test_first_contact_and_known_host_client_hellos_look_alike():
    # PROTOCOL.md 4.1.1, 10.9: every client_hello ends with host_key_mac (a proof, or random bytes at
    # first contact), so nobody on the path can pick out the connections that have no key to check.
    with world("shape", False, trusted=False) as w:
        first = captured_hello(w, known=False)
        known = captured_hello(w, known=True)
        # 101 bytes (4.1) plus twoway's empty host_keys (4.1.2) and auth_retry (4.1.3) extensions, which
        # it sends in every client_hello whatever its configuration and keys: 109.
        check(len(first) == len(known) == 109, f"sizes {len(first)} and {len(known)}")
        check(first[79:93] == bytes.fromhex("001c00030000000500000002" "0010"), f"extensions {first[79:93].hex()}")
        # Identical but for client_random (10..41), the X25519 share (47..78) and the 16 MAC bytes.
        for lo, hi in ((0, 10), (42, 47), (79, 93)):
            check(first[lo:hi] == known[lo:hi], f"bytes {lo}..{hi}: {first[lo:hi].hex()} vs {known[lo:hi].hex()}")
        check(first[93:] != known[93:], "the stand-in equals the proof")

def _open(port, payload):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    if payload:
        s.sendall(payload)
    time.sleep(0.1)
    return s




# The start of a client_hello (type, a length, some body) that stalls: what a slow honest client looks like.
PARTIAL_HELLO = b"\x01\x00\x00\x61" + bytes(40)


def test_a_full_table_sheds_a_refused_probe_as_a_stalled_client_hello():
    # The review of issue 13: when a refusal made the connection "concluded", a full table shed it before
    # older stalled ones, so a prober could tell refused from still waiting by which of its connections
    # a newcomer sheds.
    with world("stealth-shed", True, extra="MaxStartups 4\n") as w:
        for older, newer in ((PARTIAL_HELLO, PROBES[1]), (PROBES[1], PARTIAL_HELLO), (PARTIAL_HELLO, PLAIN_HELLO)):
            a = _open(w.port, older)
            b = _open(w.port, newer)
            empties = [_open(w.port, b""), _open(w.port, b"")]
            # A login sheds the oldest of the four, whatever it sent.
            r = w.twoway("127.0.0.1", "true")
            check(r.returncode == 0, f"login while {older[:12]!r} and {newer[:12]!r} are held: {r}")
            check(closed_within(a, 3), f"the oldest ({older[:12]!r}) was not the one shed")
            check(not closed_within(b, 0.2), f"the newer ({newer[:12]!r}) was shed before the oldest")
            for s in [a, b] + empties:
                s.close()
            time.sleep(0.3)


def test_a_refused_probe_is_penalised_only_when_it_ends():
    # Penalised at once, a refused probe would be told apart by the next connection being refused.
    extra = "PerSourcePenalties noauth:20s grace-exceeded:20s min:15s\n"
    with world("stealth-penalty", True, extra=extra) as w:
        probe_sock = _open(w.port, PROBES[1])
        r = w.twoway("127.0.0.1", "true")
        check(r.returncode == 0, f"login while a refused probe is held: {r}")
        check("Penalty for 127.0.0.1" not in w.daemon_log(), "a held probe was penalised")
        # Closed by its client, it counts as a stalled client_hello closed early does (noauth).
        probe_sock.close()
        w.wait_log(r"Penalty for 127\.0\.0\.1 \(no authentication\)")
        r = w.twoway("-o", "ConnectTimeout=3", "127.0.0.1", "true")
        check(r.returncode == 255, f"penalised address got in: {r}")

if __name__ == "__main__":
    run_tests(globals())

#!/usr/bin/env python3
"""StealthMode (PROTOCOL.md 4.1.1): twowayd answers only a client_hello that proves knowledge of its host
key. A client with the host in known_hosts proves it without being told; a scanner, a garbage prober and
a first-contact client get no byte back, and the connection closes only at LoginGraceTime."""

import os
import socket
import time

from twoway_env import World, check, public_key_line, run_tests

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
# without host_key_mac (the success test vector's, docs/test-vectors/handshake.json).
PLAIN_HELLO = bytes.fromhex(
    "0100004d010001010001404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f0100010020"
    "675dd574ed7789310b3d2e7681f3790b466c773b1521fecf36577958371ea52f0000")
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


if __name__ == "__main__":
    run_tests(globals())

#!/usr/bin/env python3
"""Dynamic forwarding: twoway -D [bind:]port, a local SOCKS 4, 4a and 5 server whose connections each get a
twoway connection of their own and a direct session to the destination the SOCKS request names, under
twowayd's PermitOpen. curl is the SOCKS client, python3 -m http.server the destination; the SOCKS
refusals are checked byte for byte with a raw socket."""

import hashlib
import os
import re
import signal
import socket
import subprocess
import tempfile
import time

from services import closed_port
from twoway_env import check, run_tests, trusted_world


class HttpServer:
    """python3 -m http.server on 127.0.0.1, serving a directory with one random file."""

    def __enter__(self):
        self.dir = tempfile.TemporaryDirectory(prefix="twoway-socks-http-")
        self.data = os.urandom(300000)
        with open(os.path.join(self.dir.name, "file"), "wb") as f:
            f.write(self.data)
        self.port = closed_port()
        self.proc = subprocess.Popen(["python3", "-m", "http.server", "--bind", "127.0.0.1", str(self.port),
                                      "--directory", self.dir.name],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=5).close()
                break
            except OSError:
                check(time.monotonic() < deadline and self.proc.poll() is None, "http.server did not start")
                time.sleep(0.05)
        return self

    def __exit__(self, *exc):
        self.proc.kill()  # by its PID
        self.proc.wait(timeout=30)
        self.dir.cleanup()


def start_dynamic(w, *args):
    """Starts twoway -N with the given -D (port 0); returns (process, allocated port)."""
    proc = subprocess.Popen(w.argv(*args), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=w.client_env(), start_new_session=True)
    line = proc.stderr.readline().decode()
    m = re.match(r"Allocated port (\d+) for dynamic forward$", line.strip())
    if m is None:
        proc.kill()
        proc.wait(timeout=30)
    check(m is not None, f"unexpected first line from twoway -D: {line!r}")
    return proc, int(m.group(1))


def stop(proc):
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)


def curl(proxy_option, proxy_port, url):
    return subprocess.run(["curl", "-sS", "--max-time", "60", proxy_option, f"127.0.0.1:{proxy_port}", url],
                          stdin=subprocess.DEVNULL, capture_output=True, timeout=120)


def raw(port, data, want):
    """Sends data to the SOCKS port, returns up to `want` bytes of its answer (less if it closes)."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        s.sendall(data)
        got = b""
        while len(got) < want:
            chunk = s.recv(want - len(got))
            if not chunk:
                break
            got += chunk
        return got


def test_socks_through_permit_open():
    with HttpServer() as http:
        digest = hashlib.sha256(http.data).hexdigest()
        allowed = f"PermitOpen localhost:{http.port} 127.0.0.1:{http.port}\n"
        with trusted_world("socks", extra_config=allowed) as w:
            proc, port = start_dynamic(w, "-N", "-D", "0", "127.0.0.1")
            try:
                # SOCKS5 with the name (ATYP 3) and with the address (ATYP 1); SOCKS4a (a name) and SOCKS4.
                for option, host in (("--socks5-hostname", "localhost"), ("--socks5", "127.0.0.1"),
                                     ("--socks4a", "localhost"), ("--socks4", "127.0.0.1")):
                    r = curl(option, port, f"http://{host}:{http.port}/file")
                    check(r.returncode == 0, f"curl {option}: exit {r.returncode}, {r.stderr!r}")
                    check(hashlib.sha256(r.stdout).hexdigest() == digest,
                          f"curl {option}: {len(r.stdout)} bytes, not the file")
                w.wait_log(rf"Starting session: direct connection \(localhost port {http.port}\) for root from ")
                w.wait_log(rf"Starting session: direct connection \(127\.0\.0\.1 port {http.port}\) for root from ")

                # A destination PermitOpen does not list: the SOCKS client is told (curl: 97, a proxy
                # error), twowayd logs the refusal, twoway says why.
                other = closed_port()
                r = curl("--socks5-hostname", port, f"http://localhost:{other}/file")
                check(r.returncode == 97, f"refused destination through SOCKS5: exit {r.returncode}, {r.stderr!r}")
                w.wait_log(rf"Refused direct connection to localhost port {other} .*: not listed in PermitOpen")
                r = curl("--socks4a", port, f"http://localhost:{other}/file")
                check(r.returncode == 97, f"refused destination through SOCKS4a: exit {r.returncode}, {r.stderr!r}")

                # Byte for byte: the refusal is SOCKS5's 02 (not allowed), after the method choice.
                req = bytes([5, 1, 0, 5, 1, 0, 1, 127, 0, 0, 2]) + http.port.to_bytes(2, "big")
                got = raw(port, req, 12)
                check(got == bytes([5, 0, 5, 2, 0, 1, 0, 0, 0, 0, 0, 0]), f"SOCKS5 refusal: {got.hex()}")
                # No "no authentication" method offered: 05 FF; UDP ASSOCIATE: 07; an unknown address
                # type: 08; SOCKS4 BIND: 5B. Then the connection closes.
                check(raw(port, bytes([5, 1, 2]), 3) == bytes([5, 0xff]), "SOCKS5 without method 0")
                got = raw(port, bytes([5, 1, 0, 5, 3, 0, 1, 127, 0, 0, 1, 0, 53]), 13)
                check(got == bytes([5, 0, 5, 7, 0, 1, 0, 0, 0, 0, 0, 0]), f"UDP ASSOCIATE: {got.hex()}")
                got = raw(port, bytes([5, 1, 0, 5, 1, 0, 9, 0, 0]), 13)
                check(got == bytes([5, 0, 5, 8, 0, 1, 0, 0, 0, 0, 0, 0]), f"address type 9: {got.hex()}")
                got = raw(port, bytes([4, 2, 0, 80, 127, 0, 0, 1, 0]), 9)
                check(got == bytes([0, 0x5b, 0, 0, 0, 0, 0, 0]), f"SOCKS4 BIND: {got.hex()}")
                # The request and the data after it in one write: the data reaches the destination.
                req = bytes([5, 1, 0, 5, 1, 0, 3, 9]) + b"localhost" + http.port.to_bytes(2, "big")
                got = raw(port, req + b"GET /file HTTP/1.0\r\n\r\n", 12 + 12)
                check(got[:12] == bytes([5, 0, 5, 0, 0, 1, 0, 0, 0, 0, 0, 0]) and got[12:].startswith(b"HTTP/1.0 200"),
                      f"request and data in one write: {got!r}")
                check(proc.poll() is None, "twoway -D ended")
            finally:
                stop(proc)
            err = proc.stderr.read().decode()
            check(f"-D 0: localhost:{other}: administratively prohibited" in err, f"twoway did not report the refusal: {err!r}")


def test_dynamic_forward_from_the_config_and_cleared():
    with HttpServer() as http:
        with trusted_world("socks-config", extra_config=f"PermitOpen localhost:{http.port}\n") as w:
            # DynamicForward in -o (a config line) listens as -D does.
            port = closed_port()
            proc = subprocess.Popen(w.argv("-N", "-o", f"DynamicForward 127.0.0.1:{port}", "127.0.0.1"),
                                    stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                    env=w.client_env(), start_new_session=True)
            try:
                deadline = time.monotonic() + 30
                while True:
                    r = curl("--socks5-hostname", port, f"http://localhost:{http.port}/file")
                    if r.returncode == 0 or time.monotonic() > deadline or proc.poll() is not None:
                        break
                    time.sleep(0.1)
                check(r.returncode == 0 and r.stdout == http.data, f"DynamicForward: exit {r.returncode} {r.stderr!r}")
            finally:
                stop(proc)
            # ClearAllForwardings drops -D too (nothing listens; the command runs).
            r = subprocess.run(w.argv("-o", "ClearAllForwardings yes", "-D", "0", "-v", "127.0.0.1", "echo ok"),
                               stdin=subprocess.DEVNULL, capture_output=True, env=w.client_env(), timeout=120)
            check(r.returncode == 0 and r.stdout == b"ok\n", f"{r}")
            check(b"ClearAllForwardings: not setting up the -L, -D and -R forwards" in r.stderr, f"{r.stderr!r}")
            check(b"Allocated port" not in r.stderr, f"{r.stderr!r}")


if __name__ == "__main__":
    run_tests(globals())

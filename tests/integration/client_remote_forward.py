#!/usr/bin/env python3
"""Remote forwarding end to end (-R, RemoteForward, ExitOnForwardFailure, ClearAllForwardings; twowayd's
PermitListen, GatewayPorts, permitlisten=, AllowTcpForwarding): twowayd's default refuses (ssh's warning,
and with ExitOnForwardFailure yes its error and exit status 255 before the session starts); with
PermitListen a port opened on the server carries data both ways to a service on the client's side, on
the loopback whatever the client asked (GatewayPorts no), for as long as the client runs; the policy's
refusals (PermitListen entries, port 0, permitlisten=, AllowTcpForwarding local, a privileged port for
an account that is not root), each logged; a local service that is down closes the remote connection at
once; the forms twoway does not do refused before connecting; -G's lines."""

import hashlib
import os
import re
import signal
import socket
import subprocess
import time

from services import EchoServer, closed_port
from twoway_env import Account, World, check, run_tests, trusted_world


def test_refused_listen_is_a_warning():
    with trusted_world("rfwd-warn") as w:
        # -N with -R alone: the listen connection is the only one left, and its refusal ends it. (ssh -N
        # would stay connected with nothing to do; twoway's -N connection has already closed.)
        r = w.twoway("-N", "-R", "8080:127.0.0.1:9", "127.0.0.1", timeout=120)
        check(r.returncode == 0, f"{r}")
        check(b"Warning: remote port forwarding failed for listen port 8080\n" in r.stderr, f"{r.stderr!r}")
        w.wait_log(r"Refused remote forwarding on 8080 for user \S+ 127\.0\.0\.1 port \d+: "
                   r"PermitListen none \(twowayd's default\)")
        # -v says why (the server's REJECT, escaped) and what was asked for.
        r = w.twoway("-v", "-N", "-R", "*:0:[::1]:22", "127.0.0.1", timeout=120)
        check(r.returncode == 0, f"{r}")
        check(b"Remote connections from *:0 forwarded to local address ::1:22" in r.stderr, f"{r.stderr!r}")
        check(b"administratively prohibited: listen address not permitted" in r.stderr, f"{r.stderr!r}")
        check(b"Warning: remote port forwarding failed for listen port 0\n" in r.stderr, f"{r.stderr!r}")
        # -q silences the warning, as ssh's.
        r = w.twoway("-q", "-N", "-R", "8080:127.0.0.1:9", "127.0.0.1", timeout=120)
        check(r.returncode == 0 and r.stderr == b"", f"{r}")


def test_exit_on_forward_failure():
    with trusted_world("rfwd-exit") as w:
        # Every answer comes before the session starts: the command never runs.
        r = w.twoway("-o", "ExitOnForwardFailure yes", "-R", "8080:127.0.0.1:9", "-R", "0:localhost:80",
                     "127.0.0.1", "echo ran", timeout=120)
        check(r.returncode == 255 and r.stdout == b"", f"{r}")
        check(b"Error: remote port forwarding failed for listen port 8080\n" in r.stderr, f"{r.stderr!r}")
        check(b"Error: remote port forwarding failed for listen port 0\n" in r.stderr, f"{r.stderr!r}")
        # RemoteForward from the configuration, the same.
        r = w.twoway("-o", "RemoteForward 127.0.0.1:8081 127.0.0.1:9", "-o", "ExitOnForwardFailure=yes",
                     "127.0.0.1", "echo ran", timeout=120)
        check(r.returncode == 255 and r.stdout == b"", f"{r}")
        check(b"Error: remote port forwarding failed for listen port 8081\n" in r.stderr, f"{r.stderr!r}")
        # ClearAllForwardings drops them: nothing asked, nothing refused, the command runs.
        r = w.twoway("-v", "-o", "ClearAllForwardings yes", "-o", "ExitOnForwardFailure yes", "-o",
                     "RemoteForward 8081 127.0.0.1:9", "-R", "8080:127.0.0.1:9", "127.0.0.1", "echo ran", timeout=120)
        check(r.returncode == 0 and r.stdout == b"ran\n", f"{r}")
        check(b"ClearAllForwardings: not setting up the -L, -D and -R forwards" in r.stderr, f"{r.stderr!r}")
        check(b"remote port forwarding failed" not in r.stderr, f"{r.stderr!r}")
        # Without ExitOnForwardFailure the command runs whatever the answer.
        r = w.twoway("-R", "8080:127.0.0.1:9", "127.0.0.1", "echo ran", timeout=120)
        check(r.returncode == 0 and r.stdout == b"ran\n", f"{r}")


def start_forward(w, *args):
    """twoway -N -R ... as a process; returns (process, allocated port) once the client reports the port."""
    p = subprocess.Popen(w.argv("-N", *args, "127.0.0.1"), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, env=w.client_env(), start_new_session=True)
    line = b""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = p.stderr.readline()
        m = re.match(rb"Allocated port (\d+) for remote forward to ", line)
        if m:
            return p, int(m.group(1))
        if not line and p.poll() is not None:
            break
    p.kill()
    raise AssertionError(f"no allocated port: {line!r} {p.stderr.read()!r}")


def stop(p):
    p.send_signal(signal.SIGTERM)
    try:
        p.wait(timeout=20)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()


def round_trip(port, payload):
    with socket.create_connection(("127.0.0.1", port), timeout=30) as c:
        c.sendall(payload)
        c.shutdown(socket.SHUT_WR)
        got = bytearray()
        while True:
            chunk = c.recv(1 << 16)
            if not chunk:
                return bytes(got)
            got += chunk


def test_remote_forward_served():
    with EchoServer() as echo, trusted_world("rfwd-serve", extra_config="PermitListen any\n") as w:
        # "*": every interface, as the client asks; GatewayPorts no binds the loopback anyway.
        p, port = start_forward(w, "-R", f"*:0:127.0.0.1:{echo.port}")
        try:
            w.wait_log(rf"Starting session: remote forwarding, listening on 127\.0\.0\.1:{port} for ")
            payload = os.urandom(3 << 20)
            back = round_trip(port, payload)
            check(hashlib.sha256(back).hexdigest() == hashlib.sha256(payload).hexdigest(),
                  f"{len(back)} of {len(payload)} bytes came back")
            # several at once, each its own pickup
            for _ in range(3):
                check(round_trip(port, b"x" * 1000) == b"x" * 1000, "a small round trip")
            check(echo.connections == 4, f"{echo.connections} connections reached the echo service")
            w.wait_log(r"Remote forwarding for \S+ on port \d+: connection from 127\.0\.0\.1:\d+")
            w.wait_log(r"Starting session: remote forwarded connection for ")
        finally:
            stop(p)
        # the listener ends with the client
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=5).close()
                time.sleep(0.1)
            except OSError:
                break
        else:
            check(False, "the remote port still accepts after the client ended")


def test_local_service_down_closes_the_remote_connection():
    with trusted_world("rfwd-down", extra_config="PermitListen any\n") as w:
        p, port = start_forward(w, "-R", f"0:127.0.0.1:{closed_port()}")
        try:
            t0 = time.monotonic()
            with socket.create_connection(("127.0.0.1", port), timeout=30) as c:
                end = c.recv(1)
            took = time.monotonic() - t0
            check(end == b"" and took < 15, f"the remote peer waited {took:.1f} s (the pickup timeout is 30 s)")
        finally:
            stop(p)
        err = p.stderr.read()
        check(re.search(rb"connect_to 127\.0\.0\.1 port \d+: failed\.", err) is not None, f"{err!r}")


def test_listen_policy():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        allowed = s.getsockname()[1]
    config = f"PermitListen {allowed} localhost:*\nMatch Address 127.0.0.2\n    PermitListen any\n"
    with trusted_world("rfwd-policy", extra_config=config) as w:
        def listen(spec, *opts):
            return w.twoway("-o", "ExitOnForwardFailure yes", *opts, "-R", spec, "127.0.0.1", "echo ran", timeout=60)

        r = listen(f"{allowed}:127.0.0.1:9")
        check(r.returncode == 0 and r.stdout == b"ran\n", f"a listed port: {r}")
        r = listen(f"localhost:{allowed + 1}:127.0.0.1:9")
        check(r.returncode == 0 and r.stdout == b"ran\n", f"localhost:* admits any port for that host: {r}")
        for spec, why in [(f"{allowed + 1}:127.0.0.1:9", r"not listed in PermitListen \(\S+:\d+\)"),
                          ("0:127.0.0.1:9", r"not listed in PermitListen"),  # port 0 needs a * port
                          (f"127.0.0.1:{allowed + 1}:127.0.0.1:9", r"not listed in PermitListen")]:
            r = listen(spec)
            check(r.returncode == 255 and b"Error: remote port forwarding failed" in r.stderr, f"{spec}: {r}")
            w.wait_log(r"Refused remote forwarding on \S+ for user \S+ 127\.0\.0\.1 port \d+: " + why)
        # a key's permitlisten= narrows PermitListen
        with open(w.authorized_keys) as f:
            key = f.read()
        with open(w.authorized_keys, "w") as f:
            f.write(f'permitlisten="localhost:{allowed + 5}" {key}')
        r = listen(f"{allowed}:127.0.0.1:9")
        check(r.returncode == 255, f"permitlisten=: {r}")
        w.wait_log(r"listen address not in permitlisten= by ")
        with open(w.authorized_keys, "w") as f:
            f.write(f"no-port-forwarding {key}")
        r = listen(f"{allowed}:127.0.0.1:9")
        check(r.returncode == 255, f"no-port-forwarding: {r}")
        w.wait_log(r"remote forwarding is not permitted by \S+ \(restrict or no-port-forwarding\)")
        with open(w.authorized_keys, "w") as f:
            f.write(key)
    with trusted_world("rfwd-local-only", extra_config="PermitListen any\nAllowTcpForwarding local\n") as w:
        r = w.twoway("-o", "ExitOnForwardFailure yes", "-R", "0:127.0.0.1:9", "127.0.0.1", "echo ran", timeout=60)
        check(r.returncode == 255, f"AllowTcpForwarding local: {r}")
        w.wait_log(r"Refused remote forwarding on 0 for user \S+ .*: AllowTcpForwarding \(")


def test_privileged_port_needs_root():
    with trusted_world("rfwd-priv", extra_config="PermitListen any\n") as w:
        with Account(w.dir) as a:
            r = w.twoway("-o", "ExitOnForwardFailure yes", "-R", "80:127.0.0.1:9", f"{a.name}@127.0.0.1", "echo ran",
                         timeout=60)
            check(r.returncode == 255 and r.stdout == b"", f"{r}")
            w.wait_log(rf"Refused remote forwarding on 80 for user {a.name} .*: port 80 is privileged")
            # an unprivileged port is the account's to open
            r = w.twoway("-o", "ExitOnForwardFailure yes", "-R", "0:127.0.0.1:9", f"{a.name}@127.0.0.1", "echo ran",
                         timeout=60)
            check(r.returncode == 0 and r.stdout == b"ran\n", f"{r}")


def test_forms_twoway_does_not_do():
    with trusted_world("rfwd-forms") as w:
        for spec, why in [("8080", b"twoway has no remote dynamic (SOCKS) forwarding"),
                          ("localhost:8080", b"twoway has no remote dynamic (SOCKS) forwarding"),
                          ("8080:/run/app.sock", b"twoway does not forward Unix-domain sockets"),
                          ("/tmp/l.sock:localhost:80", b"twoway does not forward Unix-domain sockets"),
                          ("8080:localhost:x", b"bad port")]:
            r = w.twoway("-R", spec, "127.0.0.1", "echo ran", timeout=60)
            check(r.returncode == 255 and r.stdout == b"", f"{spec}: {r}")
            check(b"twoway: Bad remote forwarding specification" in r.stderr and why in r.stderr, f"{spec}: {r.stderr!r}")
        r = w.twoway("-o", "RemoteForward 8080", "127.0.0.1", "echo ran", timeout=60)
        check(r.returncode == 255 and b"RemoteForward: Bad remote forwarding specification" in r.stderr, f"{r}")
        r = w.twoway("-W", "127.0.0.1:9", "-R", "8080:localhost:80", "127.0.0.1", timeout=60)
        check(r.returncode == 255 and b"-W cannot be combined with -L, -D or -R" in r.stderr, f"{r}")
        check("Refused remote forwarding" not in w.daemon_log(), "a refused form reached the daemon")


def test_print_config():
    w = World("rfwd-G", start=False)
    try:
        r = subprocess.run(w.argv("-G", "-R", ":8080:localhost:80", "-o", "RemoteForward [::1]:0 [::1]:22", "-o",
                                  "ExitOnForwardFailure yes", "h", port=22),
                           capture_output=True, env=w.client_env(), timeout=60)
        check(r.returncode == 0, f"{r}")
        out = r.stdout.decode()
        check("remoteforward []:8080 [localhost]:80\nremoteforward [::1]:0 [::1]:22\n" in out, out)
        check("exitonforwardfailure yes\n" in out, out)
        r = subprocess.run(w.argv("-G", "-R", "8080:localhost:80", "-o", "ClearAllForwardings yes", "h", port=22),
                           capture_output=True, env=w.client_env(), timeout=60)
        check(r.returncode == 0 and b"remoteforward" not in r.stdout, f"{r}")
    finally:
        w.close()


if __name__ == "__main__":
    run_tests(globals())

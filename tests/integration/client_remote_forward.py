#!/usr/bin/env python3
"""Remote forwarding, the client's side (-R, RemoteForward, ExitOnForwardFailure, ClearAllForwardings)
against a twowayd that refuses every listen request (until the daemon serves them): ssh's warning, and
with ExitOnForwardFailure yes its error and exit status 255 before the session starts; the forms twoway
does not do refused before connecting; -G's lines. The forwarding itself is tested once twowayd serves it."""

import os
import subprocess

from twoway_env import World, check, public_key_line, run_tests


def trusted_world(name, **kw):
    w = World(name, **kw)
    with open(w.known_hosts, "w") as f:
        f.write(f"[127.0.0.1]:{w.port} {public_key_line(w.host_key + '.pub')}\n")
    os.chmod(w.known_hosts, 0o600)
    return w


def test_refused_listen_is_a_warning():
    with trusted_world("rfwd-warn") as w:
        # -N with -R alone: the listen connection is the only one left, and its refusal ends it. (ssh -N
        # would stay connected with nothing to do; twoway's -N connection has already closed.)
        r = w.twoway("-N", "-R", "8080:127.0.0.1:9", "127.0.0.1", timeout=120)
        check(r.returncode == 0, f"{r}")
        check(b"Warning: remote port forwarding failed for listen port 8080\n" in r.stderr, f"{r.stderr!r}")
        w.wait_log(r"Refused remote forwarding request from user \S+ 127\.0\.0\.1 port \d+: not supported")
        # -v says why (the server's REJECT, escaped) and what was asked for.
        r = w.twoway("-v", "-N", "-R", "*:0:[::1]:22", "127.0.0.1", timeout=120)
        check(r.returncode == 0, f"{r}")
        check(b"Remote connections from *:0 forwarded to local address ::1:22" in r.stderr, f"{r.stderr!r}")
        check(b"administratively prohibited: remote forwarding is not supported" in r.stderr, f"{r.stderr!r}")
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

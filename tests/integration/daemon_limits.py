#!/usr/bin/env python3
"""twowayd's pre-authentication limits against stalled connections: MaxStartups closes a connection
over the limit at once (before any byte is read), PerSourceMaxStartups does the same per address,
LoginGraceTime closes a connection that has not authenticated in time, and an authenticated session
neither counts against MaxStartups nor is cut by LoginGraceTime."""

import socket
import subprocess
import time

from twoway_env import World, check, public_key_line, run_tests


def trusted_world(name, extra):
    w = World(name, extra_config=extra)
    with open(w.known_hosts, "w") as f:
        f.write(f"[127.0.0.1]:{w.port} {public_key_line(w.host_key + '.pub')}\n")
    return w


def connect(port):
    return socket.create_connection(("127.0.0.1", port), timeout=10)


def closed_within(sock, seconds):
    """True if the daemon closes the connection (EOF or reset) within `seconds`."""
    sock.settimeout(seconds)
    try:
        return sock.recv(1) == b""
    except socket.timeout:
        return False
    except ConnectionResetError:
        return True


def test_max_startups_drops_the_connection_over_the_limit():
    with trusted_world("maxstartups", "MaxStartups 1\nLoginGraceTime 3\n") as w:
        stalled = connect(w.port)
        stalled_port = stalled.getsockname()[1]
        time.sleep(0.3)  # accepted and counted
        t0 = time.monotonic()
        over = connect(w.port)
        over_port = over.getsockname()[1]
        check(closed_within(over, 2), "the connection over MaxStartups was not closed")
        check(time.monotonic() - t0 < 2, "dropping took too long")
        w.wait_log(r"error: beginning MaxStartups throttling")
        w.wait_log(rf"drop connection #1 from \[127\.0\.0\.1\]:{over_port} on \[127\.0\.0\.1\]:{w.port} past MaxStartups")
        # A login while the slot is taken is refused the same way (the client sees the close) ...
        r = w.twoway("127.0.0.1", "true")
        check(r.returncode == 255, f"a login got past MaxStartups 1: {r}")
        # ... until the stalled connection runs out of LoginGraceTime and frees it.
        check(closed_within(stalled, 10), "the stalled connection outlived LoginGraceTime")
        w.wait_log(rf"Timeout before authentication for 127\.0\.0\.1 port {stalled_port}")
        w.wait_log(r"exited MaxStartups throttling after \d\d:\d\d:\d\d, \d+ connections dropped")
        r = w.twoway("127.0.0.1", "echo back")
        check(r.returncode == 0 and r.stdout == b"back\n", f"login after the slot was freed: {r}")


def test_per_source_limit():
    with trusted_world("persource", "PerSourceMaxStartups 2\nLoginGraceTime 30\n") as w:
        held = [connect(w.port), connect(w.port)]
        time.sleep(0.3)
        third = connect(w.port)
        third_port = third.getsockname()[1]
        check(closed_within(third, 2), "the third connection from one address was not closed")
        w.wait_log(rf"drop connection #\d+ from \[127\.0\.0\.1\]:{third_port} on \[127\.0\.0\.1\]:{w.port} "
                   r"past PerSourceMaxStartups")
        for s in held:
            check(not closed_within(s, 0.2), "a connection under the limit was closed")
            s.close()
        w.wait_log(r"Connection closed by 127\.0\.0\.1 port \d+ \[preauth\]")
        time.sleep(0.3)
        r = w.twoway("127.0.0.1", "true")
        check(r.returncode == 0, f"login once the address is under its limit again: {r}")


def test_login_grace_time_closes_a_stalled_handshake():
    with trusted_world("grace", "LoginGraceTime 1\n") as w:
        s = connect(w.port)
        port = s.getsockname()[1]
        s.sendall(b"\x01\x00")  # the start of a handshake message, never finished
        t0 = time.monotonic()
        check(closed_within(s, 10), "a stalled handshake was never closed")
        took = time.monotonic() - t0
        check(0.5 < took < 5, f"closed after {took:.1f}s with LoginGraceTime 1")
        w.wait_log(rf"Timeout before authentication for 127\.0\.0\.1 port {port}\b")


def test_authenticated_sessions_are_not_limited():
    with trusted_world("authed", "MaxStartups 1\nLoginGraceTime 1\n") as w:
        # A session running longer than LoginGraceTime is not cut, and while it runs another login
        # still fits under MaxStartups 1: only unauthenticated connections count.
        long_run = subprocess.Popen(w.argv("127.0.0.1", "sleep 2.5; echo done"), stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, env=w.client_env(),
                                    start_new_session=True)
        try:
            w.wait_log(r"Starting session: command for root")
            r = w.twoway("127.0.0.1", "echo second")
            check(r.returncode == 0 and r.stdout == b"second\n", f"second login during a session: {r}")
            out, err = long_run.communicate(timeout=20)
            check(long_run.returncode == 0 and out == b"done\n", f"long session: {long_run.returncode} {out!r} {err!r}")
        finally:
            if long_run.poll() is None:
                long_run.kill()
                long_run.wait(timeout=10)


if __name__ == "__main__":
    run_tests(globals())

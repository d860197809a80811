#!/usr/bin/env python3
"""twowayd's pre-authentication limits against stalled connections: at MaxStartups a new connection is
admitted and the stalest one is shed (closed without a byte, logged as sshd's drop line naming the shed
connection, never penalised), PerSourceMaxStartups does the same within one address, LoginGraceTime
closes a connection that has not authenticated in time, and an authenticated session neither counts
against MaxStartups nor is cut by LoginGraceTime."""

import socket
import subprocess
import time

from twoway_env import World, check, closed_within, public_key_line, run_tests


def trusted_world(name, extra):
    w = World(name, extra_config=extra)
    with open(w.known_hosts, "w") as f:
        f.write(f"[127.0.0.1]:{w.port} {public_key_line(w.host_key + '.pub')}\n")
    return w


def connect(port):
    return socket.create_connection(("127.0.0.1", port), timeout=10)






def test_max_startups_sheds_the_stalest_not_the_newcomer():
    with trusted_world("maxstartups", "MaxStartups 1\nLoginGraceTime 3\n") as w:
        stalled = connect(w.port)
        stalled_port = stalled.getsockname()[1]
        w.wait_log(rf"Connection from 127\.0\.0\.1 port {stalled_port} ")
        t0 = time.monotonic()
        newer = connect(w.port)
        newer_port = newer.getsockname()[1]
        # The table is full: the newcomer is admitted, the stalled connection makes room.
        check(closed_within(stalled, 2), "the stalest connection was not shed")
        check(time.monotonic() - t0 < 2, "shedding took too long")
        check(not closed_within(newer, 0.3), "the newcomer was refused")
        w.wait_log(r"error: beginning MaxStartups throttling")
        w.wait_log(rf"drop connection #1 from \[127\.0\.0\.1\]:{stalled_port} on \[127\.0\.0\.1\]:{w.port} "
                   r"past MaxStartups")
        # A login while the table is full of a stalled connection gets in: it sheds that one.
        r = w.twoway("127.0.0.1", "echo in")
        check(r.returncode == 0 and r.stdout == b"in\n", f"a login could not get past a full MaxStartups 1: {r}")
        check(closed_within(newer, 2), "the stalled newcomer was not shed by the login")
        w.wait_log(r"exited MaxStartups throttling after \d\d:\d\d:\d\d, 2 connections dropped")
        log = w.daemon_log()
        for port in (stalled_port, newer_port):
            check(f"port {port} [preauth]" not in log and f"for 127.0.0.1 port {port}" not in log,
                  f"a shed connection was logged as something else than the drop:\n{log}")


def test_per_source_limit_sheds_within_the_source_without_penalty():
    # Penalties on, and sensitive: a shed counted as "noauth" would lock 127.0.0.1 out after two.
    extra = "PerSourceMaxStartups 2\nLoginGraceTime 30\nPerSourcePenalties noauth:10s min:15s\n"
    with trusted_world("persource", extra) as w:
        held = [connect(w.port), connect(w.port)]
        first_port = held[0].getsockname()[1]
        w.wait_log(rf"Connection from 127\.0\.0\.1 port {held[1].getsockname()[1]} ")
        third = connect(w.port)
        check(closed_within(held[0], 2), "the source's stalest connection was not shed")
        w.wait_log(rf"drop connection #\d+ from \[127\.0\.0\.1\]:{first_port} on \[127\.0\.0\.1\]:{w.port} "
                   r"past PerSourceMaxStartups")
        check(not closed_within(held[1], 0.2) and not closed_within(third, 0.2), "a newer connection was closed")
        # A good client behind the same address gets in, shedding the source's stalest again.
        r = w.twoway("127.0.0.1", "true")
        check(r.returncode == 0, f"login from the address at its limit: {r}")
        check(closed_within(held[1], 2), "the login did not shed the source's stalest connection")
        r = w.twoway("127.0.0.1", "true")
        check(r.returncode == 0, f"second login: {r}")
        log = w.daemon_log()
        check("Penalty for 127.0.0.1" not in log, f"a shed was penalised:\n{log}")
        third.close()


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

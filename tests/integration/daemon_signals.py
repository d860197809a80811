#!/usr/bin/env python3
"""twowayd's signals: SIGHUP re-reads the configuration (new connections get it, running sessions keep
going, a broken file keeps the old configuration and says why with file:line); SIGTERM stops listening,
hangs up the sessions' processes, reports their end to the clients and exits 0."""

import os
import re
import signal
import socket
import subprocess
import time

from twoway_env import check, keygen, public_key_line, run_tests, trusted_world


def rewrite_config(w, authorized_keys, extra=""):
    with open(w.config, "w") as f:
        f.write("\n".join([
            "ListenAddress 127.0.0.1",
            f"HostKey {w.host_key}",
            f"AuthorizedKeysFile {authorized_keys}",
            "StrictModes no",
            "LogLevel VERBOSE",
        ]) + "\n" + extra)


def reload(w, count):
    """SIGHUP, then wait until the daemon has handled it (the count-th reload message)."""
    w.daemon.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        log = w.daemon_log()
        if log.count("Received SIGHUP") >= count and (
                log.count("Configuration reloaded.") + log.count("configuration not reloaded")) >= count:
            return log
        time.sleep(0.05)
    raise AssertionError(f"reload {count} not handled:\n{w.daemon_log()}")


def wait_count(w, pattern, n, timeout=20):
    """Waits until the log has n lines matching pattern."""
    rx = re.compile(pattern, re.M)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if len(rx.findall(w.daemon_log())) >= n:
            return
        time.sleep(0.05)
    raise AssertionError(f"fewer than {n} log lines match {pattern!r}:\n{w.daemon_log()}")


def background(w, command):
    return subprocess.Popen(w.argv("127.0.0.1", command), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL, env=w.client_env(), start_new_session=True)


def test_sighup_reloads_for_new_connections():
    with trusted_world("hup") as w:
        other = os.path.join(w.dir, "other")
        keygen(other, "other")
        other_keys = os.path.join(w.etc, "other_keys")
        with open(other_keys, "w") as f:
            f.write(public_key_line(other + ".pub") + "\n")
        check(w.twoway("127.0.0.1", "true").returncode == 0, "first login")

        # A session that spans the reload keeps running.
        session = background(w, "sleep 1.5; echo survived")
        wait_count(w, r"^Starting session: command for root", 2)

        rewrite_config(w, other_keys)
        reload(w, 1)
        r = w.twoway("127.0.0.1", "true")
        check(r.returncode == 255 and b"Permission denied" in r.stderr, f"old key still accepted: {r}")
        r = w.twoway("-i", other, "127.0.0.1", "echo other")
        check(r.returncode == 0 and r.stdout == b"other\n", f"new key refused: {r}")

        out, err = session.communicate(timeout=20)
        check(session.returncode == 0 and out == b"survived\n", f"session across reload: {out!r} {err!r}")

        # A broken file: the problems are logged with file:line, and the previous configuration stays.
        rewrite_config(w, w.authorized_keys, "MaxStartups banana\n")
        log = reload(w, 2)
        check(f"{w.config}:6: " in log and "MaxStartups" in log, f"the problem was not logged with file:line:\n{log}")
        check("configuration not reloaded: keeping the current one" in log, log)
        r = w.twoway("-i", other, "127.0.0.1", "true")
        check(r.returncode == 0, f"the kept configuration no longer works: {r}")
        r = w.twoway("127.0.0.1", "true")
        check(r.returncode == 255, f"the broken file was applied after all: {r}")


def test_sighup_changes_listen_addresses():
    with trusted_world("hup-listen") as w:
        # Bind a free port ourselves, release it, and ask the daemon to listen there instead.
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        new_port = s.getsockname()[1]
        s.close()
        rewrite_config(w, w.authorized_keys, f"ListenAddress 127.0.0.1:{new_port}\n")
        # "ListenAddress 127.0.0.1" (from the -p 0 of the harness) stays; the new one is added.
        log = reload(w, 1)
        check(f"Server listening on 127.0.0.1 port {new_port}." in log, log)
        with open(w.known_hosts, "a") as f:
            f.write(f"[127.0.0.1]:{new_port} {public_key_line(w.host_key + '.pub')}\n")
        r = w.twoway("127.0.0.1", "echo moved", port=new_port)
        check(r.returncode == 0 and r.stdout == b"moved\n", f"login on the new port: {r}")
        r = w.twoway("127.0.0.1", "echo still")
        check(r.returncode == 0, f"login on the old port: {r}")


def test_sigterm_ends_sessions_and_exits():
    with trusted_world("term") as w:
        session = background(w, "echo started; exec sleep 60")
        w.wait_log(r"Starting session: command for root")
        check(session.stdout.readline() == b"started\n", "the session did not start")
        stalled = socket.create_connection(("127.0.0.1", w.port), timeout=10)
        time.sleep(0.2)
        t0 = time.monotonic()
        w.daemon.send_signal(signal.SIGTERM)
        status = w.daemon.wait(timeout=20)
        took = time.monotonic() - t0
        check(status == 0, f"twowayd exited {status}:\n{w.daemon_log()}")
        check(took < 5, f"shutdown took {took:.1f}s")
        out, err = session.communicate(timeout=20)
        # The child got SIGHUP and the client was told so, then the session closed cleanly.
        check(session.returncode == 255 and b"signal HUP" in err, f"client: {session.returncode} {out!r} {err!r}")
        stalled.settimeout(5)
        check(stalled.recv(1) == b"", "a pre-auth connection was left open")
        log = w.daemon_log()
        for expected in ("Received signal 15; terminating.", "Disconnected from user root 127.0.0.1 port",
                         "twowayd exiting."):
            check(expected in log, f"missing {expected!r}:\n{log}")
        refused = socket.socket()
        check(refused.connect_ex(("127.0.0.1", w.port)) != 0, "still listening after SIGTERM")
        refused.close()


def test_sigterm_with_a_child_that_ignores_sighup():
    with trusted_world("term-stubborn") as w:
        session = background(w, "trap '' HUP; echo $$; sleep 60")
        line = session.stdout.readline()
        check(line.strip().isdigit(), f"the session did not start: {line!r}")
        leader = int(line)
        t0 = time.monotonic()
        w.daemon.send_signal(signal.SIGTERM)
        status = w.daemon.wait(timeout=30)
        took = time.monotonic() - t0
        check(status == 0, f"twowayd exited {status}:\n{w.daemon_log()}")
        check(took < 10, f"shutdown took {took:.1f}s")
        try:
            session.communicate(timeout=20)
            check(session.returncode == 255, f"client exit {session.returncode}")
            check("closing 1 connections that did not end in time" not in w.daemon_log(),
                  "the session was not ended before the daemon's own deadline")
        finally:
            # twowayd leaves such processes running, as sshd does; the test cleans up after itself.
            try:
                os.killpg(leader, signal.SIGKILL)
            except ProcessLookupError:
                pass


if __name__ == "__main__":
    run_tests(globals())

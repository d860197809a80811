#!/usr/bin/env python3
"""twowayd at its descriptor limit: it raises its soft RLIMIT_NOFILE to the hard limit at start (and
gives session programs the original one back); when the limit is reached anyway, the accept loop closes
the connections it cannot serve (with its spare descriptor) instead of spinning on accept() errors,
its log stays small, and once descriptors are free again it serves as before."""

import os
import resource
import socket
import time

from twoway_env import World, check, closed_within, descriptors, public_key_line, run_tests

CLK_TCK = os.sysconf("SC_CLK_TCK")


def trusted_world(name, extra="", start=True):
    w = World(name, extra_config=extra, start=start)
    if start:
        trust(w)
    return w


def trust(w):
    with open(w.known_hosts, "w") as f:
        f.write(f"[127.0.0.1]:{w.port} {public_key_line(w.host_key + '.pub')}\n")


def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime, stime




def nofile_limits(pid):
    for line in open(f"/proc/{pid}/limits"):
        if line.startswith("Max open files"):
            soft, hard = line.split()[3:5]
            return int(soft), int(hard)
    raise AssertionError("no 'Max open files' in /proc/PID/limits")




def test_soft_limit_raised_and_sessions_get_the_original():
    with trusted_world("nofile-raise", start=False) as w:
        w.start_daemon(nofile=(256, 4096))
        trust(w)
        check(nofile_limits(w.daemon.pid) == (4096, 4096),
              f"twowayd's limits: {nofile_limits(w.daemon.pid)}, expected the soft limit raised to 4096")
        r = w.twoway("127.0.0.1", "ulimit -Sn; ulimit -Hn")
        check(r.returncode == 0 and r.stdout.split() == [b"256", b"4096"],
              f"a session's program should run with the original soft limit 256 (hard 4096): {r}")


def serves_again(w):
    """Once the held connections are closed: the daemon's descriptors go back down and a login works."""
    w.wait_log(r"Connection closed by 127\.0\.0\.1 port \d+ \[preauth\]")
    deadline = time.monotonic() + 10
    while descriptors(w.daemon.pid) > 20 and time.monotonic() < deadline:
        time.sleep(0.1)
    r = w.twoway("127.0.0.1", "echo back")
    check(r.returncode == 0 and r.stdout == b"back\n", f"login once descriptors were free again: {r}")


def lower_limit_after_start(w, limit):
    """Starts twowayd with room for a large table (MaxStartups is sized to the limit found at start),
    then lowers its descriptor limit under it, as an administrator's prlimit would: the only way left
    for connections to run the daemon out of descriptors."""
    w.start_daemon(nofile=(4096, 4096))
    trust(w)
    resource.prlimit(w.daemon.pid, resource.RLIMIT_NOFILE, (limit, limit))


def test_max_startups_is_sized_to_the_descriptor_limit():
    # The review of issue 13: at the default MaxStartups 1000 under a limit of 1024, the table and the
    # shed connections held before their close took every descriptor, and every login was closed at
    # accept (0 of 10). The table is lowered to what the limit serves, and the log says so.
    with trusted_world("nofile-size", "LoginGraceTime 30\n", start=False) as w:
        w.start_daemon(nofile=(1024, 1024))
        trust(w)
        pid = w.daemon.pid
        w.wait_log(r"MaxStartups 1000 lowered to 120: the descriptor limit \(1024\) serves no more")
        held = []
        for _ in range(1000):
            held.append(socket.create_connection(("127.0.0.1", w.port), timeout=10))
        time.sleep(0.5)
        fds = descriptors(pid)
        ok = sum(1 for _ in range(5) if w.twoway("127.0.0.1", "true").returncode == 0)
        print(f"1000 stalled connections under a limit of 1024: {fds} descriptors open in twowayd, "
              f"{ok}/5 logins", flush=True)
        check(ok == 5, f"only {ok} of 5 logins got in past 1000 stalled connections")
        check(fds < 1024 - 64, f"{fds} descriptors open: the table and hold are not bounded by the limit")
        errors = [l for l in w.daemon_log().splitlines() if l.startswith("error: accept: ")]
        check(not errors, f"descriptors ran out: {errors[:3]}")
        for s in held:
            s.close()


def test_accept_at_the_descriptor_limit_closes_instead_of_spinning():
    limit = 64
    with trusted_world("nofile-accept", "MaxStartups 1000\nLoginGraceTime 30\n", start=False) as w:
        lower_limit_after_start(w, limit)
        pid = w.daemon.pid
        check(nofile_limits(pid) == (limit, limit), f"limits {nofile_limits(pid)}")
        log_before = len(w.daemon_log().splitlines())
        cpu_before = cpu_seconds(pid)
        t0 = time.monotonic()
        # Fill every descriptor with stalled connections: accepted ones stay open (LoginGraceTime 30),
        # the last few already meet the limit.
        held = [socket.create_connection(("127.0.0.1", w.port), timeout=10) for _ in range(limit)]
        time.sleep(0.5)
        # Beyond the limit: each of these must be closed by the daemon, not left in the backlog.
        over = [socket.create_connection(("127.0.0.1", w.port), timeout=10) for _ in range(40)]
        closed = sum(1 for s in over if closed_within(s, 3))
        time.sleep(max(0.0, 4 - (time.monotonic() - t0)))
        cpu = cpu_seconds(pid) - cpu_before
        wall = time.monotonic() - t0
        lines = w.daemon_log().splitlines()[log_before:]
        errors = [l for l in lines if l.startswith("error: accept: ")]
        fds = descriptors(pid)
        print(f"descriptor limit {limit}: {fds} open in twowayd; {closed}/40 connections beyond it closed; "
              f"{len(lines)} log lines and {cpu:.2f} s of CPU in {wall:.1f} s", flush=True)
        check(closed == 40, f"only {closed} of 40 connections beyond the limit were closed")
        check(errors and "Too many open files" in errors[0], f"no accept error logged: {lines[:20]}")
        check(len(lines) < 100, f"the log grew by {len(lines)} lines at the limit: {lines[:20]}")
        check(cpu < 0.5 * wall, f"twowayd used {cpu:.2f} s of CPU in {wall:.1f} s at the limit (spinning)")
        # Descriptors back: the daemon serves again.
        for s in held + over:
            s.close()
        serves_again(w)


def test_failed_account_lookup_is_not_an_invalid_user():
    limit = 48
    with trusted_world("nofile-lookup", "MaxStartups 1000\nLoginGraceTime 30\n", start=False) as w:
        lower_limit_after_start(w, limit)
        pid = w.daemon.pid
        # Stalled connections until one descriptor is left: the good client's connection takes it, and
        # nothing is left for the account lookup.
        held = []
        while (n := descriptors(pid)) < limit - 1 and len(held) < limit:
            held.append(socket.create_connection(("127.0.0.1", w.port), timeout=10))
            deadline = time.monotonic() + 5
            while descriptors(pid) == n and time.monotonic() < deadline:
                time.sleep(0.01)
        check(descriptors(pid) == limit - 1, f"{descriptors(pid)} descriptors open, wanted {limit - 1}")
        r = w.twoway("127.0.0.1", "true")
        check(r.returncode == 255 and r.stderr == b"Permission denied (publickey).\n", f"login at the limit: {r}")
        line = w.wait_log(r"error: Cannot check user root from 127\.0\.0\.1 port \d+: account lookup failed: "
                          r"Too many open files").group(0)
        log = w.daemon_log()
        check("Invalid user root" not in log and "Failed publickey for root" not in log,
              f"a failed lookup was logged as a refused user:\n{log}")
        print(f"logged: {line}", flush=True)
        for s in held:
            s.close()
        serves_again(w)


if __name__ == "__main__":
    run_tests(globals())

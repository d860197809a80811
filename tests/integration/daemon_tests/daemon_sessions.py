#!/usr/bin/env python3
"""One authenticated account must not lock everyone out (issue 13): twowayd with a low descriptor limit,
a throwaway account opening forwarded sessions that never read (handshake_loop --hog: one
service that sends without end, one that never reads), and another throwaway account that must still
log in, and be logged as itself. Checks PerUserMaxSessions and MaxSessionsTotal (refused with REJECT
resource_shortage and one log line), MaxSessionsTotal lowered to what the descriptor limit serves,
PerSessionMaxBuffer (what a session that does not read costs the daemon) and MaxBufferTotal (sessions
together; each keeps a floor, so a good session still moves data).

    daemon_sessions.py [HANDSHAKE_LOOP] [test names...]
Needs root (useradd, and the daemon switching to the accounts).
"""

import os
import re
import socket
import subprocess
import sys
import threading
import time

from twoway_env import Account, TWOWAYD, World, check, descriptors, public_key_line, run_tests, status_kib

HANDSHAKE_LOOP = os.environ.get("HANDSHAKE_LOOP", "handshake_loop")
if len(sys.argv) > 1 and os.path.sep in sys.argv[1]:
    HANDSHAKE_LOOP = sys.argv.pop(1)


def sanitized():
    """True for an AddressSanitizer build of twowayd, whose quarantine makes RSS figures meaningless."""
    out = subprocess.run(["ldd", TWOWAYD], capture_output=True, text=True).stdout
    return "libasan" in out






class Service(threading.Thread):
    """A local TCP service: 'firehose' sends zeros to every connection until it breaks; 'blackhole'
    accepts and never reads."""

    def __init__(self, kind):
        super().__init__(daemon=True)
        self.kind = kind
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(128)
        self.port = self.sock.getsockname()[1]
        self.held = []
        self.stopped = threading.Event()

    def run(self):
        self.sock.settimeout(0.2)
        while not self.stopped.is_set():
            try:
                c, _ = self.sock.accept()
            except OSError:
                continue
            self.held.append(c)
            if self.kind == "firehose":
                threading.Thread(target=self._fire, args=(c,), daemon=True).start()

    def _fire(self, c):
        zeros = bytes(65536)
        try:
            while not self.stopped.is_set():
                c.sendall(zeros)
        except OSError:
            pass

    def stop(self):
        self.stopped.set()
        self.join(timeout=10)
        for c in self.held:
            c.close()
        self.sock.close()


class Hog:
    """handshake_loop --hog: `count` sessions of `account` to service `name` that never read."""

    def __init__(self, w, account, count, target, direction):
        self.p = subprocess.Popen([HANDSHAKE_LOOP, "--hog", str(w.port), w.user_key, w.host_key + ".pub", account,
                                   str(count), target, direction],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.p.stdout.readline()
        if line.strip() != f"hogging {count}":
            self.close()
            raise AssertionError(f"handshake_loop --hog: {line!r} {self.p.stderr.read()}")

    def close(self):
        if self.p.stdin:
            self.p.stdin.close()
        self.p.wait(timeout=60)


def world(name, extra, services, nofile=None):
    w = World(name, start=False, extra_config=extra,
              services={s.kind: s.port for s in services})
    w.start_daemon(nofile=nofile)
    with open(w.known_hosts, "w") as f:
        f.write(f"[127.0.0.1]:{w.port} {public_key_line(w.host_key + '.pub')}\n")
    return w


def count(log, pattern):
    return len(re.findall(pattern, log))


def wait_count(w, pattern, n, timeout=30):
    deadline = time.monotonic() + timeout
    while count(w.daemon_log(), pattern) < n and time.monotonic() < deadline:
        time.sleep(0.05)
    check(count(w.daemon_log(), pattern) >= n, f"expected {n} lines matching {pattern!r}:\n{w.daemon_log()[-3000:]}")


def settled_rss(pid):
    """VmRSS once the sessions' buffers have filled (it stops growing)."""
    last = -1
    for _ in range(40):
        time.sleep(0.25)
        now = status_kib(pid)
        if now == last:
            return now
        last = now
    return last


def test_one_account_cannot_exhaust_sessions_descriptors_or_memory():
    if os.geteuid() != 0:
        print("SKIP: needs root (throwaway accounts)")
        return
    services = [Service("firehose"), Service("blackhole")]
    for s in services:
        s.start()
    limit = 256
    w = None
    try:
        w = world("sessions", "PerUserMaxSessions 20\n", services, nofile=(limit, limit))
        with Account(w.dir, prefix="twh") as hog, Account(w.dir, prefix="twg") as good:
            pid = w.daemon.pid
            # The default MaxSessionsTotal (1024) is more than 256 descriptors can serve.
            fit = (limit - 64) * 3 // 4 // 4
            w.wait_log(rf"MaxSessionsTotal 1024 lowered to {fit}: the descriptor limit \({limit}\)")
            base_rss, base_fds = status_kib(pid), descriptors(pid)

            # 30 forwarded sessions from the hog account to a service that never stops sending, none
            # of them ever reading: 20 start, 10 are refused, each with one line.
            out = Hog(w, hog.name, 30, "service:firehose", "out")
            try:
                wait_count(w, rf"Starting session: service firehose \(127\.0\.0\.1 port \d+\) for {hog.name} ", 20)
                wait_count(w, rf"Refused session for {hog.name} from 127\.0\.0\.1 port \d+: too many sessions for "
                              r"the account \(PerUserMaxSessions 20\)", 10)
                out_rss = settled_rss(pid)
                out_fds = descriptors(pid)
                # Meanwhile another account logs in, and is logged as itself.
                r = w.twoway("-l", good.name, "127.0.0.1", "echo in")
                check(r.returncode == 0 and r.stdout == b"in\n", f"the other account could not log in: {r}")
                # The hog's next session, from the real client, is refused with the reason.
                r = w.twoway("-l", hog.name, "-W", "firehose", "127.0.0.1", timeout=30)
                check(r.returncode == 255 and b"resource shortage: too many sessions" in r.stderr,
                      f"a session over PerUserMaxSessions: {r}")
            finally:
                out.close()
            wait_count(w, rf"Disconnected from user {hog.name} ", 20)
            time.sleep(0.5)
            # Then sessions that send to a service that never reads.
            before_in = status_kib(pid)
            inp = Hog(w, hog.name, 20, "service:blackhole", "in")
            try:
                wait_count(w, rf"Starting session: service blackhole \(127\.0\.0\.1 port \d+\) for {hog.name} ", 20)
                in_rss = settled_rss(pid)
                r = w.twoway("-l", good.name, "127.0.0.1", "echo again")
                check(r.returncode == 0 and r.stdout == b"again\n", f"the other account during input hogs: {r}")
            finally:
                inp.close()
            wait_count(w, rf"Disconnected from user {hog.name} ", 40)
            time.sleep(0.5)
            # And commands that never read their input, from the other account.
            before_cmd = status_kib(pid)
            cmd = Hog(w, good.name, 20, "exec sleep 60", "in")
            try:
                wait_count(w, rf"Starting session: command for {good.name} ", 20)
                cmd_rss = settled_rss(pid)
            finally:
                cmd.close()
            log = w.daemon_log()
            per_out = (out_rss - base_rss) / 20
            per_in = (in_rss - before_in) / 20
            per_cmd = (cmd_rss - before_cmd) / 20
            print(f"descriptor limit {limit}: MaxSessionsTotal lowered to {fit}; 20 forwarded sessions not reading "
                  f"their output: twowayd {base_rss} -> {out_rss} KiB ({per_out:.0f} KiB and "
                  f"{(out_fds - base_fds) / 20:.1f} descriptors a session); 20 sending to a service that does not "
                  f"read: +{per_in:.0f} KiB a session; 20 commands not reading their input: +{per_cmd:.0f} KiB a "
                  f"session; {count(log, 'Refused session for ')} sessions refused", flush=True)
            check(f"Accepted publickey for {good.name} from" in log, "the other account's login was not logged")
            for bad in (f"Invalid user {good.name}", "Cannot check user", "accept: "):
                check(bad not in log, f"{bad!r} in the log:\n{log[-3000:]}")
            # Before the per-session caps these cost ~1.6 MiB (output) and ~2.3 MiB (input) a session.
            if sanitized():
                print("memory not checked: twowayd is built with AddressSanitizer", flush=True)
                return
            check(per_out < 512, f"{per_out:.0f} KiB per session that does not read its output")
            check(per_in < 512, f"{per_in:.0f} KiB per session whose service does not read")
            check(per_cmd < 512, f"{per_cmd:.0f} KiB per session whose command does not read")
    finally:
        if w is not None:
            w.close()
        for s in services:
            s.stop()


def test_authenticated_connections_without_a_request_are_bounded():
    # The review of issue 13: an authenticated connection that never asks for a session left the
    # MaxStartups table and counted against no limit, so one key could hold descriptors without end,
    # beyond LoginGraceTime or with none. It counts against PerUserMaxSessions from authentication; over
    # the limit it waits 10 s at most for the request it is to refuse, and at most 32 refused
    # connections of an account are open at once (more are closed as they authenticate).
    w = world("sessions-norequest", "PerUserMaxSessions 2\nLoginGraceTime 0\n", [])
    try:
        counted = Hog(w, "root", 2, "-", "out")
        try:
            r = w.twoway("127.0.0.1", "echo in")
            check(r.returncode == 255 and b"resource shortage: too many sessions" in r.stderr,
                  f"a third session with two connections of the account held: {r}")
            t0 = time.monotonic()
            pid = w.daemon.pid
            before = descriptors(pid)
            refused = Hog(w, "root", 40, "-", "out")
            try:
                wait_count(w, r"; closed at once \(32 refused connections of the account are open already\)", 8)
                held = descriptors(pid) - before
                wait_count(w, r"Timeout waiting for a session request from user root ", 32, timeout=30)
                took = time.monotonic() - t0
                print(f"40 refused connections without a request: 8 closed at once, {held} descriptors held, "
                      f"the other 32 closed after {took:.1f} s", flush=True)
                check(held <= 33, f"{held} descriptors held for 40 refused connections")
                check(8 <= took < 20, f"the refused connections were closed after {took:.1f} s (10 s expected)")
            finally:
                refused.close()
            r = w.twoway("127.0.0.1", "echo in")
            check(r.returncode == 255 and b"resource shortage: too many sessions" in r.stderr,
                  f"a session while two connections without a request still count: {r}")
        finally:
            counted.close()
        wait_count(w, r"Disconnected from user root ", 35)
        r = w.twoway("127.0.0.1", "echo in")
        check(r.returncode == 0 and r.stdout == b"in\n", f"a session once the held connections ended: {r}")
    finally:
        w.close()


def test_max_sessions_total():
    if os.geteuid() != 0:
        print("SKIP: needs root (throwaway accounts)")
        return
    services = [Service("blackhole")]
    services[0].start()
    w = None
    try:
        w = world("sessions-total", "MaxSessionsTotal 5\nPerUserMaxSessions none\n", services)
        with Account(w.dir, prefix="twh") as hog, Account(w.dir, prefix="twg") as good:
            hold = Hog(w, hog.name, 5, "service:blackhole", "out")
            try:
                wait_count(w, rf"Starting session: service blackhole .* for {hog.name} ", 5)
                r = w.twoway("-l", good.name, "127.0.0.1", "echo in")
                check(r.returncode == 255 and b"resource shortage: too many sessions" in r.stderr,
                      f"a sixth session with MaxSessionsTotal 5: {r}")
                w.wait_log(rf"Refused session for {good.name} from 127\.0\.0\.1 port \d+: too many sessions "
                           r"\(MaxSessionsTotal 5\)")
            finally:
                hold.close()
            wait_count(w, rf"Disconnected from user {hog.name} ", 5)
            r = w.twoway("-l", good.name, "127.0.0.1", "echo in")
            check(r.returncode == 0 and r.stdout == b"in\n", f"a session once the others ended: {r}")
    finally:
        if w is not None:
            w.close()
        services[0].stop()


def test_max_buffer_total_keeps_a_floor_for_every_session():
    services = [Service("firehose")]
    services[0].start()
    w = None
    try:
        account = __import__("pwd").getpwuid(os.geteuid()).pw_name
        # A pool of 64K for every session together: 40 sessions not reading fill it at once. Another
        # session must still move data: each keeps a floor whatever the others hold (without it, this
        # one would wait for the pool for ever, and time out).
        w = world("buffers-total", "MaxBufferTotal 64K\n", services)
        hold = Hog(w, account, 40, "service:firehose", "out")
        try:
            wait_count(w, r"Starting session: service firehose .* for ", 40)
            settled_rss(w.daemon.pid)
            t0 = time.monotonic()
            r = w.twoway("127.0.0.1", "head -c 3000000 /dev/zero | wc -c", timeout=60)
            took = time.monotonic() - t0
            check(r.returncode == 0 and r.stdout.strip() == b"3000000", f"a session under a full pool: {r}")
        finally:
            hold.close()
        print(f"MaxBufferTotal 64K held by 40 sessions not reading: another session moved 3 MB in {took:.2f} s",
              flush=True)
    finally:
        if w is not None:
            w.close()
        services[0].stop()


if __name__ == "__main__":
    run_tests(globals())

#!/usr/bin/env python3
"""Keep-alives on the session protocol's PING/PONG (docs/PROTOCOL.md, "Keep-alive"): twowayd's
ClientAliveInterval / ClientAliveCountMax drop a client that stopped answering (SIGSTOP: its TCP
connection stays open, nothing comes back) with sshd's log line, and leave a client that is merely idle,
or busy, alone; twoway's ServerAliveInterval / ServerAliveCountMax give up on a stopped twowayd, and on a
path that stopped forwarding (a relay that freezes both ways, as a dead NAT entry), with
ssh's message and exit status 255, and not on a live one."""

import os
import re
import select
import signal
import socket
import subprocess
import threading
import time

from twoway_env import World, check, public_key_line, run_tests, TWOWAYD

TIMEOUT_LINE = r"Timeout, client not responding from user (\S+) 127\.0\.0\.1 port (\d+)"


def trusted_world(name, extra="", log_level="VERBOSE"):
    w = World(name, extra_config=extra, log_level=log_level)
    with open(w.known_hosts, "w") as f:
        f.write(f"[127.0.0.1]:{w.port} {public_key_line(w.host_key + '.pub')}\n")
    os.chmod(w.known_hosts, 0o600)
    return w


def spawn(w, *args, stdin=subprocess.DEVNULL):
    return subprocess.Popen(w.argv(*args), stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=w.client_env(), start_new_session=True)


def finish(p, timeout):
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
        raise AssertionError(f"twoway did not end within {timeout} s: {err!r}")
    return p.returncode, out, err


def test_client_alive_drops_a_stopped_client():
    with trusted_world("clientalive-stop", "ClientAliveInterval 1\nClientAliveCountMax 2\n") as w:
        # -T prints the values as sshd -T does.
        t = subprocess.run([TWOWAYD, "-T", "-f", w.config, "-p", "2345"], capture_output=True, text=True, timeout=30)
        check("clientaliveinterval 1\n" in t.stdout and "clientalivecountmax 2\n" in t.stdout, t.stdout)
        p = spawn(w, "127.0.0.1", "sleep 30")
        try:
            w.wait_log(r"Starting session: command for \S+ from 127\.0\.0\.1 port \d+")
            time.sleep(0.5)
            os.kill(p.pid, signal.SIGSTOP)
            t0 = time.monotonic()
            m = w.wait_log(TIMEOUT_LINE, timeout=15)
            elapsed = time.monotonic() - t0
            # Pings at 1 s and 2 s of silence unanswered; the third silent second ends it.
            check(1.5 <= elapsed <= 5, f"dropped after {elapsed:.1f} s, expected ~3 s:\n{w.daemon_log()}")
            check(m.group(1) == "root" or m.group(1) == os.environ.get("USER", m.group(1)), m.group(0))
            w.wait_log(rf"Disconnected from user \S+ 127\.0\.0\.1 port {m.group(2)}")
        finally:
            os.kill(p.pid, signal.SIGCONT)
        status, _, err = finish(p, 20)
        # The connection was cut under it: no exit status came, so 255.
        check(status == 255, f"resumed client: {status} {err!r}")


def test_client_alive_leaves_idle_and_busy_clients_alone():
    with trusted_world("clientalive-live", "ClientAliveInterval 1\nClientAliveCountMax 2\n", log_level="DEBUG1") as w:
        # Idle but alive: the command sends nothing for 5 s, the client nothing either (stdin is /dev/null);
        # only its PONGs show it is there.
        r = w.twoway("127.0.0.1", "sleep 5; echo slept", timeout=30)
        check(r.returncode == 0 and r.stdout == b"slept\n", f"idle client: {r}")
        check(re.search(r"keep-alive PING to 127\.0\.0\.1 port \d+", w.daemon_log()),
              f"no PING was sent to the idle client:\n{w.daemon_log()}")
        # Busy: input every half second for 4 s, echoed back.
        p = spawn(w, "127.0.0.1", "cat", stdin=subprocess.PIPE)
        for i in range(8):
            p.stdin.write(b"line %d\n" % i)
            p.stdin.flush()
            time.sleep(0.5)
        status, out, err = finish(p, 20)  # closes its stdin: the end of the input
        check(status == 0 and out == b"".join(b"line %d\n" % i for i in range(8)), f"busy client: {status} {out!r} {err!r}")
        check(not re.search(TIMEOUT_LINE, w.daemon_log()), f"a live client was dropped:\n{w.daemon_log()}")


def test_client_alive_keeps_a_client_whose_output_is_blocked():
    # Nobody reads twoway's stdout for 5 s (a pager the person reads): its local writes block, but it
    # goes on reading the connection and answering PINGs, so it is not taken for a stopped client.
    with trusted_world("clientalive-blocked", "ClientAliveInterval 1\nClientAliveCountMax 2\n") as w:
        size = 8 << 20
        p = spawn(w, "127.0.0.1", f"head -c {size} /dev/zero")
        time.sleep(5)
        status, out, err = finish(p, 60)
        check(status == 0 and len(out) == size, f"{status} {len(out)} bytes of {size}, {err!r}")
        check(not re.search(TIMEOUT_LINE, w.daemon_log()), f"a blocked client was dropped:\n{w.daemon_log()}")


def test_client_alive_count_max_0_never_drops():
    # sshd since 8.2: ClientAliveCountMax 0 keeps sending keep-alives and never ends the connection.
    with trusted_world("clientalive-zero", "ClientAliveInterval 1\nClientAliveCountMax 0\n") as w:
        p = spawn(w, "127.0.0.1", "sleep 4; echo done")
        try:
            w.wait_log(r"Starting session: command")
            os.kill(p.pid, signal.SIGSTOP)
            time.sleep(3)
            check(not re.search(TIMEOUT_LINE, w.daemon_log()), f"CountMax 0 dropped the client:\n{w.daemon_log()}")
        finally:
            os.kill(p.pid, signal.SIGCONT)
        status, out, err = finish(p, 20)
        check(status == 0 and out == b"done\n", f"{status} {out!r} {err!r}")


def test_server_alive_gives_up_on_a_stopped_server():
    # A World of its own: the whole (private) daemon is stopped.
    with trusted_world("serveralive-stop") as w:
        r = w.twoway("-G", "-o", "ServerAliveInterval=1", "-o", "ServerAliveCountMax=2", "127.0.0.1")
        check(b"serveraliveinterval 1\n" in r.stdout and b"serveralivecountmax 2\n" in r.stdout, f"{r}")
        p = spawn(w, "-o", "ServerAliveInterval=1", "-o", "ServerAliveCountMax=2", "127.0.0.1", "sleep 30")
        try:
            w.wait_log(r"Starting session: command")
            time.sleep(0.3)
            os.kill(w.daemon.pid, signal.SIGSTOP)
            t0 = time.monotonic()
            status, _, err = finish(p, 15)
            elapsed = time.monotonic() - t0
        finally:
            os.kill(w.daemon.pid, signal.SIGCONT)
        check(status == 255, f"exit status {status}, stderr {err!r}")
        check(err == b"Timeout, server 127.0.0.1 not responding.\n", f"stderr {err!r}")
        check(1.5 <= elapsed <= 5, f"gave up after {elapsed:.1f} s, expected ~3 s")


def test_server_alive_gives_up_while_nobody_reads_its_output():
    # The server stops while twoway's stdout is blocked (nobody reads it): the timeout still ends twoway,
    # which does not wait on the blocked write.
    with trusted_world("serveralive-blocked") as w:
        p = spawn(w, "-o", "ServerAliveInterval=1", "-o", "ServerAliveCountMax=2", "127.0.0.1",
                  f"head -c {8 << 20} /dev/zero; sleep 30")
        try:
            w.wait_log(r"Starting session: command")
            time.sleep(1)
            os.kill(w.daemon.pid, signal.SIGSTOP)
            t0 = time.monotonic()
            try:
                p.wait(timeout=15)  # stdout unread all along
            except subprocess.TimeoutExpired:
                pass
            elapsed = time.monotonic() - t0
            status, _, err = finish(p, 5)
        finally:
            os.kill(w.daemon.pid, signal.SIGCONT)
        check(status == 255 and err.endswith(b"Timeout, server 127.0.0.1 not responding.\n"), f"{status} {err!r}")
        check(elapsed <= 6, f"gave up after {elapsed:.1f} s, expected ~3 s")


class FreezableRelay:
    """A TCP relay on 127.0.0.1 to the daemon that can stop forwarding, both ways, while keeping both
    connections open: a NAT path that died (issue 18), where neither end sees a close or a reset."""

    def __init__(self, target_port):
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.target_port = target_port
        self.frozen = threading.Event()
        self.stop = threading.Event()
        self.sockets = []
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        self.listener.settimeout(0.2)
        while not self.stop.is_set():
            try:
                a, _ = self.listener.accept()
            except socket.timeout:
                continue
            b = socket.create_connection(("127.0.0.1", self.target_port))
            self.sockets += [a, b]
            threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, a, b):
        peer = {a: b, b: a}
        while not self.stop.is_set():
            if self.frozen.is_set():
                time.sleep(0.05)  # nothing read, nothing written, nothing closed
                continue
            ready, _, _ = select.select([a, b], [], [], 0.1)
            for s in ready:
                if self.frozen.is_set():
                    break
                data = s.recv(65536)
                if not data:
                    return
                peer[s].sendall(data)

    def close(self):
        self.stop.set()
        self.thread.join(timeout=5)
        for s in self.sockets + [self.listener]:
            s.close()


def test_server_alive_ends_a_session_whose_path_froze():
    # Neither end stops: the path between them does. twowayd stays up and reachable directly.
    with trusted_world("serveralive-path") as w:
        relay = FreezableRelay(w.port)
        try:
            with open(w.known_hosts, "a") as f:
                f.write(f"[127.0.0.1]:{relay.port} {public_key_line(w.host_key + '.pub')}\n")
            p = subprocess.Popen(w.argv("-o", "ServerAliveInterval=1", "-o", "ServerAliveCountMax=2", "127.0.0.1",
                                        "sleep 30", port=relay.port),
                                 stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 env=w.client_env(), start_new_session=True)
            w.wait_log(r"Starting session: command")
            time.sleep(1.5)  # a keep-alive or two answered through the relay first
            relay.frozen.set()
            t0 = time.monotonic()
            status, _, err = finish(p, 15)
            elapsed = time.monotonic() - t0
        finally:
            relay.close()
        check(status == 255 and err == b"Timeout, server 127.0.0.1 not responding.\n", f"{status} {err!r}")
        check(1.5 <= elapsed <= 5, f"gave up after {elapsed:.1f} s, expected ~3 s")
        # Without keep-alives the same frozen path would hold the session: twoway is still waiting after 4 s.
        relay = FreezableRelay(w.port)
        try:
            with open(w.known_hosts, "a") as f:
                f.write(f"[127.0.0.1]:{relay.port} {public_key_line(w.host_key + '.pub')}\n")
            p = subprocess.Popen(w.argv("127.0.0.1", "sleep 30", port=relay.port),
                                 stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 env=w.client_env(), start_new_session=True)
            w.wait_log(r"Starting session: command[^\n]*\n(.|\n)*Starting session: command")
            relay.frozen.set()
            time.sleep(4)
            check(p.poll() is None, "without ServerAliveInterval twoway ended on its own")
            p.kill()
            p.wait(timeout=10)
        finally:
            relay.close()


def test_server_alive_keeps_a_live_server():
    with trusted_world("serveralive-live") as w:
        # The command is silent for 4 s; the server's PONGs keep the client from giving up.
        r = w.twoway("-o", "ServerAliveInterval=1", "-o", "ServerAliveCountMax=1", "-v", "127.0.0.1",
                     "sleep 4; echo done", timeout=30)
        check(r.returncode == 0 and r.stdout == b"done\n", f"{r}")
        check(b"keep-alive PING to the server" in r.stderr, f"no PING was sent: {r.stderr!r}")
        check(b"not responding" not in r.stderr, f"{r.stderr!r}")


if __name__ == "__main__":
    run_tests(globals())

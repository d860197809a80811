#!/usr/bin/env python3
"""systemd's notification protocol (sd_notify(3)): twowayd started with $NOTIFY_SOCKET says READY=1 (with
its PID) once it listens, RELOADING=1 and READY=1 around a SIGHUP reload (a failed reload included),
STOPPING=1 on SIGTERM; the socket is a path or an abstract name; sessions do not inherit the variable."""

import os
import re
import signal
import socket
import subprocess
import tempfile
import time

from twoway_env import World, check, public_key_line, run_tests, TWOWAYD, CLEAN_PATH


class NotifySocket:
    """The service manager's end: an AF_UNIX datagram socket the test reads."""

    def __init__(self, abstract=False):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        if abstract:
            self.name = f"@twoway-notify-test-{os.getpid()}-{time.monotonic_ns()}"
            self.sock.bind("\0" + self.name[1:])
        else:
            self.dir = tempfile.mkdtemp(prefix="twoway-notify-")
            self.name = os.path.join(self.dir, "notify")
            self.sock.bind(self.name)
        self.sock.settimeout(20)

    def next(self):
        data = self.sock.recv(4096).decode()
        return dict(line.split("=", 1) for line in data.split("\n") if "=" in line)

    def close(self):
        self.sock.close()


def start(w, notify):
    log = open(w.log_path, "ab")
    p = subprocess.Popen([TWOWAYD, "-D", "-e", "-f", w.config, "-p", "0"], stdin=subprocess.DEVNULL, stdout=log,
                         stderr=subprocess.STDOUT, env={"PATH": CLEAN_PATH, "LANG": "C", "NOTIFY_SOCKET": notify.name})
    log.close()
    m = w.wait_log(r"Server listening on 127\.0\.0\.1 port (\d+)\.")
    w.port = int(m.group(1))
    return p


def test_ready_reloading_stopping():
    for abstract in (False, True):
        notify = NotifySocket(abstract)
        with World("notify", start=False) as w:
            p = start(w, notify)
            try:
                ready = notify.next()
                check(ready.get("READY") == "1" and ready.get("MAINPID") == str(p.pid), f"READY: {ready}")
                # A session does not see NOTIFY_SOCKET (it was taken out of the daemon's environment).
                with open(w.known_hosts, "w") as f:
                    f.write(f"[127.0.0.1]:{w.port} {public_key_line(w.host_key + '.pub')}\n")
                os.chmod(w.known_hosts, 0o600)
                r = w.twoway("127.0.0.1", "echo \"[${NOTIFY_SOCKET-unset}]\"")
                check(r.returncode == 0 and r.stdout == b"[unset]\n", f"session environment: {r}")
                # SIGHUP: RELOADING=1 (with the monotonic time), then READY=1 when it is done.
                p.send_signal(signal.SIGHUP)
                reloading = notify.next()
                check(reloading.get("RELOADING") == "1" and reloading.get("MONOTONIC_USEC", "").isdigit(),
                      f"RELOADING: {reloading}")
                again = notify.next()
                check(again.get("READY") == "1" and "reloaded" in again.get("STATUS", ""), f"READY after reload: {again}")
                # A configuration that does not load: the old one stays, and READY=1 still ends the reload.
                with open(w.config, "a") as f:
                    f.write("NoSuchKeyword yes\n")
                p.send_signal(signal.SIGHUP)
                check(notify.next().get("RELOADING") == "1", "RELOADING for the failed reload")
                failed = notify.next()
                check(failed.get("READY") == "1" and "not reloaded" in failed.get("STATUS", ""), f"{failed}")
                p.send_signal(signal.SIGTERM)
                stopping = notify.next()
                check(stopping.get("STOPPING") == "1", f"STOPPING: {stopping}")
                p.wait(timeout=20)
            finally:
                if p.poll() is None:
                    p.kill()
                    p.wait(timeout=10)
                notify.close()


def test_no_notify_socket_no_datagram():
    # Without NOTIFY_SOCKET nothing is sent anywhere (and the daemon runs as always): World's own start.
    with World("notify-none") as w:
        check(w.daemon.poll() is None, "twowayd runs without NOTIFY_SOCKET")


if __name__ == "__main__":
    run_tests(globals())

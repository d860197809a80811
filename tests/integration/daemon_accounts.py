#!/usr/bin/env python3
"""The account checks of "UsePAM no" against the real twowayd and twoway, on throwaway accounts: a
locked account (usermod -L) and an expired one (usermod --expiredate 1) are refused, as is a shell not in
/etc/shells; an account whose shell is nologin gets nologin's message and exit status and is refused
every service; /etc/nologin keeps out everyone but root; and sessions get login.defs' UMASK whatever
umask twowayd was started under. Each refusal is the generic denial on the wire and one line in the log.

Needs root (useradd, usermod, /etc/nologin). /etc/nologin is created only when absent and removed in a
finally: while it exists, no other account can log in, so meson runs this test alone (is_parallel).
"""

import os
import re
import shutil
import socket
import subprocess
import threading

from twoway_env import (DENIED, Account, CLEAN_PATH, PtyProcess, World, check, check_logs_in, check_refused,
                        log_count, needs_root, public_key_line, run_tests, trust_host, usermod)

def world(name, **kw):
    return trust_host(World(name, **kw))


class EchoService:
    """A TCP service on 127.0.0.1 that answers each connection with what it reads."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            with c:
                while True:
                    data = c.recv(4096)
                    if not data:
                        break
                    c.sendall(data)

    def close(self):
        self.sock.close()


def test_locked_account_is_refused():
    if needs_root():
        return
    with world("locked") as w, Account(w.dir) as a:
        check_logs_in(w, a)
        usermod("-L", a.name)  # "!" before the password field
        check_refused(w, a, "account is locked")
        usermod("-U", a.name)
        check_logs_in(w, a)
    # useradd without a password writes "!": that account is locked too (sshd with UsePAM no agrees).
    with world("locked-new") as w, Account(w.dir, password="!") as a:
        check_refused(w, a, "account is locked")


def test_expired_account_is_refused():
    if needs_root():
        return
    with world("expired") as w, Account(w.dir) as a:
        usermod("--expiredate", "1", a.name)  # 1970-01-02
        check_refused(w, a, "account has expired")
        usermod("--expiredate", "", a.name)  # no expiry
        check_logs_in(w, a)
        usermod("--expiredate", "2999-01-01", a.name)
        check_logs_in(w, a)


def test_shell_not_in_etc_shells_is_refused():
    if needs_root():
        return
    with world("shells") as w:
        bindir = os.path.join(w.dir, "bin")
        os.makedirs(bindir, mode=0o755)
        other = os.path.join(bindir, "othersh")
        shutil.copy("/bin/sh", other)
        os.chmod(other, 0o755)
        with open("/etc/shells") as f:
            check(other not in f.read().split(), "the test shell is in /etc/shells")
        with Account(w.dir, shell=other) as a:
            check_refused(w, a, f"shell {other} is not in /etc/shells")
        missing = os.path.join(bindir, "missing")
        with Account(w.dir, shell=missing) as a:
            check_refused(w, a, f"shell {missing} does not exist")
        os.chmod(other, 0o644)
        with Account(w.dir, shell=other) as a:
            check_refused(w, a, f"shell {other} is not executable")


def test_nologin_shell_runs_and_reaches_no_service():
    if needs_root():
        return
    svc = EchoService()
    try:
        with world("nologin", services={"echo": svc.port}) as w:
            nologin = "/usr/sbin/nologin"
            expected = subprocess.run([nologin], capture_output=True, timeout=30)
            check(expected.returncode != 0 and expected.stdout + expected.stderr,
                  f"nologin said nothing: {expected}")
            with Account(w.dir, shell=nologin) as a, Account(w.dir) as b:
                # The account authenticates and its shell runs, saying no, with its own exit status.
                r = w.twoway("-l", a.name, "127.0.0.1", "echo in")
                check(r.returncode == expected.returncode, f"nologin's exit status: {r}")
                check(expected.stdout + expected.stderr in r.stdout + r.stderr and b"in" not in r.stdout,
                      f"nologin's message: {r}")
                w.wait_log(rf"Accepted publickey for {a.name} from 127\.0\.0\.1 port \d+")
                # No service: refused (REJECT prohibited), the service never sees a connection.
                r = w.twoway("-l", a.name, "-W", "echo", "127.0.0.1", input=b"ping\n", timeout=30)
                check(r.returncode == 255 and r.stdout == b"" and b"prohibited" in r.stderr, f"-W for nologin: {r}")
                w.wait_log(rf"Refused service request from user {a.name} 127\.0\.0\.1 port \d+: shell {nologin} "
                           r"does not permit services")
                # Not even an unknown service name can be probed.
                r = w.twoway("-l", a.name, "-W", "nosuch", "127.0.0.1", input=b"", timeout=30)
                check(r.returncode == 255 and b"prohibited" in r.stderr, f"-W nosuch for nologin: {r}")
                check(svc.connections == 0, "the nologin account reached the service")
                # Another account reaches it.
                r = w.twoway("-l", b.name, "-W", "echo", "127.0.0.1", input=b"ping\n", timeout=30)
                check(r.returncode == 0 and r.stdout == b"ping\n", f"-W for an ordinary account: {r}")
            with Account(w.dir, shell="/bin/false") as c:
                r = w.twoway("-l", c.name, "127.0.0.1", "echo in")
                check(r.returncode == 1 and r.stdout == b"", f"/bin/false: {r}")
                r = w.twoway("-l", c.name, "-W", "echo", "127.0.0.1", input=b"ping\n", timeout=30)
                check(r.returncode == 255 and b"prohibited" in r.stderr, f"-W for /bin/false: {r}")
    finally:
        svc.close()


def test_etc_nologin_keeps_out_everyone_but_root():
    if needs_root():
        return
    path = "/etc/nologin"
    with world("etc-nologin") as w, Account(w.dir) as a:
        check_logs_in(w, a)
        created = False
        try:
            if not os.path.exists(path):
                with open(path, "x") as f:
                    f.write("twoway test: logins are off for a moment\n")
                created = True
            check_refused(w, a, "/etc/nologin exists")
            r = w.twoway("127.0.0.1", "echo root")  # the World's own account is root
            check(r.returncode == 0 and r.stdout == b"root\n", f"root under /etc/nologin: {r}")
        finally:
            if created:
                os.unlink(path)
        if created:
            check_logs_in(w, a)


def login_defs_umask():
    """The first UMASK line of /etc/login.defs, as octal; 0o022 without one."""
    try:
        with open("/etc/login.defs") as f:
            for line in f:
                words = line.split("#", 1)[0].split()
                if words and words[0] == "UMASK":
                    return int(words[1], 8)
    except FileNotFoundError:
        pass
    return 0o022


def test_sessions_get_login_defs_umask():
    mask = login_defs_umask()
    w = World("umask", start=False)
    try:
        w.start_daemon(umask=0)
        trust_host(w)
        out = os.path.join(w.dir, "made")
        r = w.twoway("127.0.0.1", f"umask; touch {out}")
        check(r.returncode == 0, f"{r}")
        check(int(r.stdout.split()[0], 8) == mask, f"the session's umask: {r.stdout!r}, login.defs says {mask:o}")
        mode = os.stat(out).st_mode & 0o777
        check(mode == 0o666 & ~mask, f"a file the session made is {mode:o}, not {0o666 & ~mask:o}")
        # The daemon itself still runs under the umask it was given.
        with open(f"/proc/{w.daemon.pid}/status") as f:
            check("Umask:\t0000" in f.read(), "twowayd's own umask changed")
        print(f"twowayd under umask 000: the session's file is {mode:o} (login.defs UMASK {mask:03o})", flush=True)
        if needs_root():
            return
        with Account(w.dir) as a:
            r = w.twoway("-l", a.name, "127.0.0.1", "umask")
            check(r.returncode == 0 and int(r.stdout.split()[0], 8) == mask, f"{a.name}'s umask: {r}")
    finally:
        w.close()


def motd_first_line():
    with open("/etc/motd", "rb") as f:
        lines = [l.strip() for l in f.read().splitlines() if l.strip()]
    check(lines, "this test needs a non-empty /etc/motd (Debian's base-files ships one)")
    return lines[0].decode("utf-8", "replace")


def pty_output(w, *args):
    """What a PTY login shows up to its prompt's answer to one echo, then exits."""
    p = PtyProcess(w.argv(*args), w.client_env(TERM="dumb"))
    try:
        p.send("echo MARK-$((6*7))\n")
        p.expect(r"MARK-42")
        p.send("exit\n")
        p.wait()
        return p.output()
    finally:
        p.close()


def test_print_motd_for_interactive_logins_only():
    """PrintMotd (sshd's default yes): /etc/motd on an interactive login (a PTY, no command), not with a
    command, not with ~/.hushlogin, not with PrintMotd no."""
    if needs_root():
        return
    first = motd_first_line()
    with world("motd") as w, Account(w.dir) as a:
        out = pty_output(w, "-l", a.name, "127.0.0.1")
        check(first in out, f"no motd on an interactive login:\n{out}")
        p = PtyProcess(w.argv("-t", "-l", a.name, "127.0.0.1", "echo COMMAND-RAN"), w.client_env(TERM="dumb"))
        try:
            p.expect("COMMAND-RAN")
            p.wait()
            check(first not in p.output(), f"motd with a command:\n{p.output()}")
        finally:
            p.close()
        hush = os.path.join(a.home, ".hushlogin")
        open(hush, "w").close()
        out = pty_output(w, "-l", a.name, "127.0.0.1")
        check(first not in out, f"motd despite ~/.hushlogin:\n{out}")
        os.unlink(hush)
    with world("nomotd", extra_config="PrintMotd no\n") as w, Account(w.dir) as a:
        out = pty_output(w, "-l", a.name, "127.0.0.1")
        check(first not in out, f"motd with PrintMotd no:\n{out}")


if __name__ == "__main__":
    run_tests(globals())

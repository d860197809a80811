#!/usr/bin/env python3
"""UsePAM yes against a real PAM stack (Debian's libpam and modules), on throwaway accounts and a
throwaway service file /etc/pam.d/twowayd-test-<random> (PAMServiceName; removed after):

  account  pam_nologin (file= a temporary file, never /etc/nologin), pam_unix (the shadow expiry date),
           pam_access (accessfile= a temporary file), pam_exec;
  session  pam_unix, pam_loginuid, pam_limits (conf= a temporary limits.conf), pam_env (envfile= and
           conffile= temporary files), pam_motd (motd= a temporary file).

What it shows: as under Debian's sshd, `usermod -L` alone does not stop a key login (while twowayd with
UsePAM no refuses it) but `usermod --expiredate 1` does, with the generic denial on the wire and one log
line naming PAM's reason; the nologin file keeps out an account but not root; pam_access sees the
client's address (PAM_RHOST); the session gets pam_env's variables and pam_limits' limits; pam_motd's
text reaches a PTY session and not a command's output; the program's exit status and its death by a
signal reach the client through the session helper, which passes on a signal sent to it; a password that
must be changed (chage -d 0) lets the key in and asks for the change; a session PAM will not open is
rejected and logged; an account module that hangs (pam_exec running sleep) refuses at the 30 s limit, as
the daemon's trouble, while other logins go through.

Needs root (useradd, /etc/pam.d).
"""

import os
import re
import secrets
import shutil
import signal
import subprocess
import tempfile
import time

from twoway_env import (DENIED, Account, CLEAN_PATH, PtyProcess, World, check, check_logs_in, check_refused,
                        log_count, public_key_line, run_tests, usermod)
from twoway_env import needs_root as needs_root_for

MOTD = "twoway-pam-test: the message of the day"


def needs_root():
    return needs_root_for("throwaway accounts and /etc/pam.d")


class PamWorld:
    """A World whose twowayd runs with UsePAM yes and a throwaway PAM service of its own."""

    def __init__(self, name, session_lines=None, use_pam=True, account_lines=()):
        self.service = f"twowayd-test-{secrets.token_hex(6)}"
        self.pam_file = os.path.join("/etc/pam.d", self.service)
        self.w = World(name, start=False,
                       extra_config=(f"UsePAM yes\nPAMServiceName {self.service}\n" if use_pam else "UsePAM no\n"))
        d = self.w.dir
        self.nologin = os.path.join(d, "nologin")  # absent: logins allowed
        self.limits = os.path.join(d, "limits.conf")
        self.envfile = os.path.join(d, "environment")
        self.env_conf = os.path.join(d, "pam_env.conf")
        self.motd = os.path.join(d, "motd")
        with open(self.limits, "w") as f:
            f.write("* soft nofile 321\n* hard nofile 321\n")
        with open(self.envfile, "w") as f:
            f.write("TWT_PAM_ENVFILE=from-envfile\n")
        with open(self.env_conf, "w") as f:
            f.write("TWT_PAM_CONF DEFAULT=from-conffile\n")
        with open(self.motd, "w") as f:
            f.write(MOTD + "\n")
        if session_lines is None:
            session_lines = [
                "session  required  pam_unix.so",
                # Works in the container these tests were written in (root there may write loginuid);
                # Debian's pam_loginuid ignores a container where it cannot.
                "session  required  pam_loginuid.so",
                f"session  required  pam_limits.so conf={self.limits}",
                f"session  required  pam_env.so readenv=1 envfile={self.envfile} conffile={self.env_conf}",
                f"session  optional  pam_motd.so motd={self.motd} noupdate",
            ]
        lines = [
            "# twoway integration test (tests/integration/daemon_pam.py); removed when the test ends",
            f"account  required  pam_nologin.so file={self.nologin}",
            "account  required  pam_unix.so",
            *account_lines,
            *session_lines,
        ]
        with open(self.pam_file, "x") as f:
            f.write("\n".join(lines) + "\n")
        try:
            self.w.start_daemon()
            with open(self.w.known_hosts, "w") as f:
                f.write(f"[127.0.0.1]:{self.w.port} {public_key_line(self.w.host_key + '.pub')}\n")
        except BaseException:
            self.close()
            raise

    def close(self):
        try:
            self.w.close()
        finally:
            try:
                os.unlink(self.pam_file)
            except FileNotFoundError:
                pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


def test_locked_password_does_not_stop_a_key_but_expiry_does():
    if needs_root():
        return
    with PamWorld("pam-locked") as p, World("pam-off-locked") as off, Account(p.w.dir) as a:
        with open(off.known_hosts, "w") as f:
            f.write(f"[127.0.0.1]:{off.port} {public_key_line(off.host_key + '.pub')}\n")
        check_logs_in(p.w, a)
        usermod("-L", a.name)
        # UsePAM yes: pam_unix's account phase does not look at the lock, as under Debian's sshd.
        check_logs_in(p.w, a)
        # UsePAM no (twowayd's default): the locked account is refused.
        check_refused(off, a, "account is locked")
        usermod("-U", a.name)
        usermod("--expiredate", "1", a.name)  # 1970-01-02
        check_refused(p.w, a, "PAM account check failed: User account has expired")
        usermod("--expiredate", "", a.name)
        check_logs_in(p.w, a)


def test_nologin_file_keeps_out_an_account_not_root():
    if needs_root():
        return
    with PamWorld("pam-nologin") as p, Account(p.w.dir) as a:
        check_logs_in(p.w, a)
        with open(p.nologin, "w") as f:
            f.write("twoway test: logins are off for a moment\n")
        check_refused(p.w, a, "PAM account check failed: Authentication failure")
        r = p.w.twoway("127.0.0.1", "echo root")  # the World's own account is root
        check(r.returncode == 0 and r.stdout == b"root\n", f"root under the nologin file: {r}")
        os.unlink(p.nologin)
        check_logs_in(p.w, a)


def test_pam_access_sees_the_client_address():
    if needs_root():
        return
    d = tempfile.mkdtemp(prefix="twoway-it-pam-access-")
    try:
        access = os.path.join(d, "access.conf")
        with open(access, "w") as f:
            f.write("+:ALL:ALL\n")
        with PamWorld("pam-access", account_lines=[f"account  required  pam_access.so accessfile={access}"]) as p, \
                Account(p.w.dir) as a, Account(p.w.dir) as b:
            check_logs_in(p.w, a)
            # PAM_RHOST is the client's address: a rule for 127.0.0.1 refuses a, and only a.
            with open(access, "w") as f:
                f.write(f"-:{a.name}:127.0.0.1\n+:ALL:ALL\n")
            check_refused(p.w, a, "PAM account check failed: Permission denied")
            check_logs_in(p.w, b)
            with open(access, "w") as f:
                f.write(f"-:{a.name}:192.0.2.0/24\n+:ALL:ALL\n")
            check_logs_in(p.w, a)
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_session_gets_pam_environment_limits_and_motd_on_a_terminal_only():
    if needs_root():
        return
    with PamWorld("pam-session") as p, Account(p.w.dir) as a:
        r = p.w.twoway("-l", a.name, "127.0.0.1",
                       'echo "$TWT_PAM_ENVFILE $TWT_PAM_CONF"; ulimit -n; ulimit -Hn; id -un; pwd; '
                       'cat /proc/self/loginuid; echo')
        check(r.returncode == 0, f"{r}\n{p.w.daemon_log()[-3000:]}")
        lines = r.stdout.decode().split("\n")
        check(lines[0] == "from-envfile from-conffile", f"pam_env's variables: {r.stdout!r}")
        check(lines[1] == "321" and lines[2] == "321", f"pam_limits' nofile: {r.stdout!r}")
        check(lines[3] == a.name and lines[4] == a.home, f"the account and its home: {r.stdout!r}")
        # pam_loginuid: the session's audit login id is the account's (unless this container cannot set it).
        check(lines[5] == str(a.uid) or lines[5] == "4294967295", f"pam_loginuid: {r.stdout!r}")
        if lines[5] != str(a.uid):
            print("note: pam_loginuid could not set the login uid here (a container without CAP_AUDIT_CONTROL)")
        check(MOTD.encode() not in r.stdout + r.stderr, f"the motd in a command's output: {r}")
        p.w.wait_log(rf"Starting session: command for {a.name} from 127\.0\.0\.1")

        # A PTY session: the motd comes first, then the program, which has the terminal.
        pt = PtyProcess(p.w.argv("-l", a.name, "-t", "127.0.0.1", "tty; echo env=$TWT_PAM_ENVFILE; exit 3"),
                        p.w.client_env(TERM="dumb"))
        try:
            pt.expect(re.escape(MOTD))
            pt.expect(r"/dev/pts/\d+")
            pt.expect(r"env=from-envfile")
            check(pt.wait() == 3, f"exit status through the PTY: {pt.output()}")
        finally:
            pt.close()
        # Closed as it was opened (the session helper stayed for the program's life); no account's
        # process is left.
        deadline = time.monotonic() + 10
        while subprocess.run(["pgrep", "-u", str(a.uid)], capture_output=True).returncode == 0:
            check(time.monotonic() < deadline, "a process of the account outlived its session")
            time.sleep(0.1)


def test_exit_status_and_signals_reach_the_client():
    if needs_root():
        return
    with PamWorld("pam-exit") as p, Account(p.w.dir) as a:
        r = p.w.twoway("-l", a.name, "127.0.0.1", "echo out; echo err >&2; exit 7")
        check(r.returncode == 7 and r.stdout == b"out\n" and r.stderr == b"err\n", f"exit 7: {r}")
        r = p.w.twoway("-l", a.name, "127.0.0.1", "kill -TERM $$")
        check(r.returncode == 255 and b"killed by signal TERM" in r.stderr, f"killed by TERM: {r}")
        # A signal sent to the session helper itself is passed on to the program.
        session = subprocess.Popen(p.w.argv("-l", a.name, "127.0.0.1", "echo $PPID; exec sleep 60"),
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                                   env=p.w.client_env(), start_new_session=True)
        try:
            helper = int(session.stdout.readline())
            with open(f"/proc/{helper}/status") as f:
                check(re.search(r"(?m)^Uid:\s+0\s", f.read()), "the session helper does not run as root")
            with open(f"/proc/{helper}/cmdline", "rb") as f:
                cmdline = f.read()
            check(b"--pam-session" in cmdline, "the program's parent is not the session helper")
            # The session's environment is not on the helper's command line, which every user can read.
            check(b"HOME=" not in cmdline and b"TWOWAY_CONNECTION=" not in cmdline, f"{cmdline!r}")
            os.kill(helper, signal.SIGUSR1)
            out, err = session.communicate(timeout=30)
            check(session.returncode == 255 and b"killed by signal USR1" in err, f"USR1: {session.returncode} {err!r}")
        finally:
            if session.poll() is None:
                session.kill()
                session.wait(timeout=10)
        # twowayd's SIGTERM hangs up the session's program through the helper, once.
        session = subprocess.Popen(p.w.argv("-l", a.name, "127.0.0.1", "echo started; exec sleep 60"),
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                                   env=p.w.client_env(), start_new_session=True)
        try:
            check(session.stdout.readline() == b"started\n", "the session did not start")
            p.w.daemon.send_signal(signal.SIGTERM)
            check(p.w.daemon.wait(timeout=20) == 0, f"twowayd's exit:\n{p.w.daemon_log()}")
            out, err = session.communicate(timeout=20)
            check(session.returncode == 255 and b"signal HUP" in err, f"SIGTERM: {session.returncode} {err!r}")
        finally:
            if session.poll() is None:
                session.kill()
                session.wait(timeout=10)


def test_expired_password_lets_the_key_in_and_asks_for_a_change():
    if needs_root():
        return
    with PamWorld("pam-chage") as p, World("pam-off-chage") as off, Account(p.w.dir) as a:
        subprocess.run(["chage", "-d", "0", a.name], check=True, timeout=60, capture_output=True,
                       env={"PATH": CLEAN_PATH})
        # UsePAM no: twowayd does not look at password ageing (nor does sshd for a key then).
        with open(off.known_hosts, "w") as f:
            f.write(f"[127.0.0.1]:{off.port} {public_key_line(off.host_key + '.pub')}\n")
        check_logs_in(off, a)
        # As sshd's do_pwchange without a terminal: the program does not run.
        r = p.w.twoway("-l", a.name, "127.0.0.1", "echo in")
        check(r.returncode == 1 and r.stdout == b"", f"{r}")
        check(r.stderr == b"WARNING: Your password has expired.\nPassword change required but no TTY available.\n",
              f"{r}")
        p.w.wait_log(rf"Accepted publickey for {a.name} from 127\.0\.0\.1")
        p.w.wait_log(rf"Password of {a.name} has expired \(PAM\)")
        # With a terminal: passwd runs instead of the command.
        pt = PtyProcess(p.w.argv("-l", a.name, "-t", "127.0.0.1", "echo in"), p.w.client_env(TERM="dumb"))
        try:
            pt.expect(r"You must change your password now and login again!")
            pt.expect(r"(?i)password")  # passwd's prompt (current or new password)
        finally:
            pt.close()


def test_session_pam_refuses_is_rejected_and_logged():
    if needs_root():
        return
    with PamWorld("pam-deny", session_lines=["session  requisite  pam_deny.so"]) as p, Account(p.w.dir) as a:
        r = p.w.twoway("-l", a.name, "127.0.0.1", "echo in")
        check(r.returncode == 255 and r.stdout == b"" and b"cannot start the session" in r.stderr, f"{r}")
        p.w.wait_log(rf"cannot start a session for {a.name}: PAM: pam_open_session\(\): \S")
        check(f"Starting session: command for {a.name}" not in p.w.daemon_log(), "started anyway")


def test_hung_account_module_fails_closed_and_holds_up_no_one_else():
    if needs_root():
        return
    d = tempfile.mkdtemp(prefix="twoway-it-pam-hang-")
    try:
        os.chmod(d, 0o755)
        hang = os.path.join(d, "hang")
        with open(hang, "w") as f:
            f.write('#!/bin/sh\ncase "$PAM_USER" in twh*) exec sleep 1234;; esac\nexit 0\n')
        os.chmod(hang, 0o755)
        with PamWorld("pam-hang", account_lines=[f"account  required  pam_exec.so quiet {hang}"]) as p, \
                Account(p.w.dir, prefix="twh") as a:
            t0 = time.monotonic()
            stuck = subprocess.Popen(p.w.argv("-l", a.name, "127.0.0.1", "echo in"), stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, env=p.w.client_env(),
                                     start_new_session=True)
            try:
                time.sleep(1)
                # Meanwhile another login goes through at once (the helper is waited for off the loop).
                r = p.w.twoway("127.0.0.1", "echo root")
                check(r.returncode == 0 and r.stdout == b"root\n", f"root while another account hangs: {r}")
                check(time.monotonic() - t0 < 15, "another login waited for the hung account phase")
                out, err = stuck.communicate(timeout=60)
                took = time.monotonic() - t0
                check(stuck.returncode == 255 and err == DENIED and out == b"", f"{stuck.returncode} {out!r} {err!r}")
                check(25 < took < 45, f"refused after {took:.1f} s, not at the 30 s limit")
                p.w.wait_log(rf"Cannot check user {a.name} from 127\.0\.0\.1 port \d+: the PAM account helper "
                             r"timed out after 30 s")
                check(f"Accepted publickey for {a.name}" not in p.w.daemon_log(), "accepted")
                # The helper's process group was killed: no sleep is left behind.
                # The helper is gone; pam_exec's own child leads a session of its own (setsid) and outlives
                # it, as it would outlive sshd's process: the test ends it.
                check(subprocess.run(["pgrep", "-x", "twowayd-account"], capture_output=True).returncode != 0,
                      "the PAM account helper lives on")
            finally:
                if stuck.poll() is None:
                    stuck.kill()
                    stuck.wait(timeout=10)
                left = subprocess.run(["pgrep", "-x", "-f", "sleep 1234"], capture_output=True, text=True)
                for pid in left.stdout.split():
                    os.kill(int(pid), signal.SIGKILL)
    finally:
        shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    run_tests(globals())

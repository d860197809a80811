"""Shared machinery for the integration tests: a throwaway world (host key, user key, authorized_keys,
twowayd.conf, an empty client HOME) in a temporary directory, the real twowayd listening on 127.0.0.1
on a port it picks itself (-p 0, read back from its log: no race with another process), the real
twoway run against it, and a pseudo-terminal driver for the interactive tests.

The binaries come from the environment meson sets: TWOWAY, TWOWAYD, TWOWAY_KEYGEN. Every wait has a
timeout; every process is ended by its PID. Set TWOWAY_TEST_KEEP=1 to keep the temporary directory.
"""

import fcntl
import os
import re
import resource
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import termios
import time
import traceback

TWOWAY = os.environ.get("TWOWAY", "twoway")
TWOWAYD = os.environ.get("TWOWAYD", "twowayd")
KEYGEN = os.environ.get("TWOWAY_KEYGEN", "twoway-keygen")
PASSWD = os.environ.get("TWOWAY_PASSWD", "twoway-passwd")
# Argon2id at its cheapest (twoway-passwd --ksf-ops/--ksf-mem, for tests): the tests are about the protocol.
SMALL_KSF = ["--ksf-ops", "1", "--ksf-mem", "64"]

CLEAN_PATH = "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin"


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def keygen(path, comment):
    subprocess.run([KEYGEN, "-q", "-N", "", "-C", comment, "-f", path], check=True, timeout=60,
                   stdout=subprocess.DEVNULL, env={"PATH": CLEAN_PATH})


def fingerprint(pub_path):
    """The key's SHA256 fingerprint, from twoway-keygen -l (what an operator reads out of band)."""
    out = subprocess.run([KEYGEN, "-l", "-f", pub_path], check=True, timeout=30, capture_output=True,
                         text=True, env={"PATH": CLEAN_PATH}).stdout
    m = re.search(r"(SHA256:[A-Za-z0-9+/]{43})", out)
    check(m is not None, f"no fingerprint in twoway-keygen -l output: {out!r}")
    return m.group(1)


def public_key_line(pub_path):
    """'ssh-ed25519 AAAA...' without the comment."""
    with open(pub_path) as f:
        parts = f.read().split()
    return parts[0] + " " + parts[1]


class World:
    """One daemon and one client home. Use as a context manager."""

    def __init__(self, name, services=None, start=True, extra_config="", log_level="VERBOSE"):
        self.dir = tempfile.mkdtemp(prefix=f"twoway-it-{name}-")
        os.chmod(self.dir, 0o755)
        self.etc = os.path.join(self.dir, "etc")
        self.home = os.path.join(self.dir, "home")
        self.dot = os.path.join(self.home, ".twoway")
        os.makedirs(self.etc, mode=0o755)
        os.makedirs(self.dot, mode=0o700)
        self.host_key = os.path.join(self.etc, "host_ed25519_key")
        self.user_key = os.path.join(self.dot, "id_ed25519")
        self.authorized_keys = os.path.join(self.etc, "authorized_keys")
        self.known_hosts = os.path.join(self.dot, "known_hosts")
        self.config = os.path.join(self.etc, "twowayd.conf")
        self.log_path = os.path.join(self.dir, "twowayd.log")
        keygen(self.host_key, "test-host")
        keygen(self.user_key, "test-user")
        shutil.copy(self.user_key + ".pub", self.authorized_keys)
        lines = [
            "ListenAddress 127.0.0.1",
            f"HostKey {self.host_key}",
            f"AuthorizedKeysFile {self.authorized_keys}",
            "StrictModes no",
            f"LogLevel {log_level}",
        ]
        for svc_name, port in (services or {}).items():
            lines.append(f"Service {svc_name} 127.0.0.1:{port}")
        with open(self.config, "w") as f:
            f.write("\n".join(lines) + "\n" + extra_config)
        self.daemon = None
        self.port = None
        if start:
            self.start_daemon()

    # ---- daemon ----------------------------------------------------------------------------------
    def start_daemon(self, nofile=None, umask=None):
        """nofile: (soft, hard) RLIMIT_NOFILE to start twowayd with; umask: the umask to start it under."""
        self.log = open(self.log_path, "ab")

        def prepare():
            if nofile:
                resource.setrlimit(resource.RLIMIT_NOFILE, nofile)
            if umask is not None:
                os.umask(umask)

        self.daemon = subprocess.Popen([TWOWAYD, "-D", "-e", "-f", self.config, "-p", "0"],
                                       stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT,
                                       env={"PATH": CLEAN_PATH, "LANG": "C"},
                                       preexec_fn=prepare if nofile or umask is not None else None)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            m = re.search(r"Server listening on 127\.0\.0\.1 port (\d+)\.", self.daemon_log())
            if m:
                self.port = int(m.group(1))
                return
            if self.daemon.poll() is not None:
                raise AssertionError(f"twowayd exited with {self.daemon.returncode}:\n{self.daemon_log()}")
            time.sleep(0.05)
        raise AssertionError(f"twowayd did not start listening in time:\n{self.daemon_log()}")

    def stop_daemon(self):
        if self.daemon is None:
            return
        if self.daemon.poll() is None:
            self.daemon.send_signal(signal.SIGTERM)
            try:
                self.daemon.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.daemon.kill()
                self.daemon.wait(timeout=10)
        self.log.close()
        self.daemon = None

    def daemon_log(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def wait_log(self, pattern, timeout=20):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            m = re.search(pattern, self.daemon_log())
            if m:
                return m
            time.sleep(0.05)
        raise AssertionError(f"twowayd log never matched {pattern!r}:\n{self.daemon_log()}")

    # ---- client ----------------------------------------------------------------------------------
    def client_env(self, **extra):
        env = {"PATH": CLEAN_PATH, "HOME": self.home, "LANG": "C"}
        env.update(extra)
        return env

    def argv(self, *args, strict=None, port=None):
        """twoway -p PORT [-o StrictHostKeyChecking=strict] args... (args end with host [command])."""
        a = [TWOWAY, "-p", str(port if port is not None else self.port)]
        if strict is not None:
            a += ["-o", f"StrictHostKeyChecking={strict}"]
        return a + list(args)

    def twoway(self, *args, strict=None, port=None, input=None, timeout=60, env=None):
        """Runs twoway to completion without a terminal; returns CompletedProcess (bytes)."""
        return subprocess.run(self.argv(*args, strict=strict, port=port), input=input, capture_output=True,
                              timeout=timeout, env=env or self.client_env(), start_new_session=True,
                              stdin=None if input is not None else subprocess.DEVNULL)

    def host_fingerprint(self):
        return fingerprint(self.host_key + ".pub")

    def user_fingerprint(self):
        return fingerprint(self.user_key + ".pub")

    def close(self):
        self.stop_daemon()
        if os.environ.get("TWOWAY_TEST_KEEP"):
            print(f"kept {self.dir}")
        else:
            shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False



def trusted_world(name, extra_config="", **kw):
    """A World whose client already knows the host (its key in known_hosts under [127.0.0.1]:port), so
    that stderr carries only what the test is about."""
    w = World(name, extra_config=extra_config, **kw)
    with open(w.known_hosts, "w") as f:
        f.write(f"[127.0.0.1]:{w.port} {public_key_line(w.host_key + '.pub')}\n")
    os.chmod(w.known_hosts, 0o600)
    return w

class Account:
    """A throwaway local account (useradd; removed with userdel on exit), its home under `parent`, owned
    by it. Needs root. Use as a context manager.

    Its password field is "*" (no password works, but the account is not locked): useradd without -p
    writes "!", a locked account, which twowayd refuses as sshd with UsePAM no does."""

    def __init__(self, parent, shell="/bin/sh", prefix="twt", password="*"):
        self.name = f"{prefix}{os.getpid() % 100000}{len(os.listdir(parent))}"
        self.home = os.path.join(parent, "home-" + self.name)
        self.shell = shell
        subprocess.run(["useradd", "-M", "-d", self.home, "-s", shell, "-p", password, self.name], check=True,
                       timeout=60, capture_output=True, env={"PATH": CLEAN_PATH})
        os.makedirs(self.home, mode=0o755)
        pw = subprocess.run(["id", "-u", self.name], check=True, capture_output=True, text=True).stdout
        self.uid = int(pw)
        os.chown(self.home, self.uid, -1)

    def close(self):
        # Processes still running as the account (a session the daemon had not reaped yet) make userdel
        # refuse, which used to leave the account behind: end them first, and insist.
        for _ in range(10):
            subprocess.run(["pkill", "-KILL", "-U", str(self.uid)], timeout=60, capture_output=True,
                           env={"PATH": CLEAN_PATH})
            r = subprocess.run(["userdel", "-f", self.name], timeout=60, capture_output=True,
                               env={"PATH": CLEAN_PATH})
            if r.returncode in (0, 6):  # 6: no such user (already gone)
                return
            time.sleep(0.2)
        print(f"warning: could not remove the throwaway account {self.name}: {r.stderr.decode(errors='replace')}",
              file=sys.stderr)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


class PtyProcess:
    """A process whose controlling terminal is a fresh pseudo-terminal driven from the test."""

    def __init__(self, argv, env, rows=24, cols=80):
        self.master, self.slave = os.openpty()
        self.set_size(rows, cols)
        # The terminal's settings before the process could change them (read after the start, they may
        # already be the raw mode twoway sets).
        self.initial_attrs = termios.tcgetattr(self.slave)
        self.proc = subprocess.Popen(argv, stdin=self.slave, stdout=self.slave, stderr=self.slave, env=env,
                                     start_new_session=True,
                                     preexec_fn=lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0))
        self.buf = b""
        self.pos = 0  # expect() searches from here

    def set_size(self, rows, cols):
        # On the slave: the kernel then sends SIGWINCH to the terminal's foreground process group.
        fcntl.ioctl(self.slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))

    def attrs(self):
        return termios.tcgetattr(self.slave)

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        os.write(self.master, data)

    def _fill(self, timeout):
        r, _, _ = select.select([self.master], [], [], timeout)
        if not r:
            return False
        try:
            chunk = os.read(self.master, 65536)
        except OSError:
            return False
        self.buf += chunk
        return bool(chunk)

    def expect(self, pattern, timeout=20):
        """Waits for a regex (bytes or str) in the output after the last match; returns the match."""
        if isinstance(pattern, str):
            pattern = pattern.encode()
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while True:
            m = rx.search(self.buf, self.pos)
            if m:
                self.pos = m.end()
                return m
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"timed out waiting for {pattern!r}; output so far:\n"
                                     f"{self.buf.decode('utf-8', 'replace')}")
            self._fill(min(left, 0.5))

    def output(self):
        return self.buf.decode("utf-8", "replace")

    def wait(self, timeout=30):
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None:
            if time.monotonic() > deadline:
                raise AssertionError(f"process did not exit in time; output:\n{self.output()}")
            self._fill(0.1)
        while self._fill(0.05):  # what it wrote last
            pass
        return self.proc.returncode

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        for fd in (self.master, self.slave):
            try:
                os.close(fd)
            except OSError:
                pass


# ---- accounts and refusals, shared by the daemon's account, PAM and chroot tests ------------------

DENIED = b"Permission denied (publickey).\n"


def needs_root(what="throwaway accounts"):
    """True (after printing a SKIP line) when the test cannot run: it needs root for `what`."""
    if os.geteuid() != 0:
        print(f"SKIP: needs root ({what})")
        return True
    return False


def register_password(config, account, password, small=True):
    """twoway-passwd -f config --local account, the password typed twice on a pseudo-terminal; small: the
    cheapest Argon2id (else the default cost, that of the daemon's fake response)."""
    p = PtyProcess([PASSWD, "-f", config, "--local", account] + (SMALL_KSF if small else []),
                   {"PATH": CLEAN_PATH, "TERM": "dumb"})
    try:
        for prompt in (r"New password for \S+: ", r"Retype new password: "):
            p.expect(prompt)
            p.send(password + "\r")
        rc = p.wait(timeout=120)
        check(rc == 0, f"twoway-passwd --local {account}: exit {rc}: {p.output()}")
    finally:
        p.close()


def trust_host(w):
    """Makes the client's known_hosts hold w's host key; returns w."""
    with open(w.known_hosts, "w") as f:
        f.write(f"[127.0.0.1]:{w.port} {public_key_line(w.host_key + '.pub')}\n")
    return w


def usermod(*args):
    subprocess.run(["usermod", *args], check=True, timeout=60, capture_output=True, env={"PATH": CLEAN_PATH})


def log_count(w, pattern):
    """How many times the regex `pattern` occurs in w's daemon log."""
    return len(re.findall(pattern, w.daemon_log()))


def check_refused(w, account, reason):
    """The generic denial on the wire, one line "User U from A not allowed because REASON" in the log (the
    form the fail2ban filter counts), and no "Accepted publickey"."""
    line = re.escape(f"User {account.name} from 127.0.0.1 not allowed because {reason}")
    accepted = re.escape(f"Accepted publickey for {account.name} ")
    before, accepted_before = log_count(w, line), log_count(w, accepted)
    r = w.twoway("-l", account.name, "127.0.0.1", "echo in")
    check(r.returncode == 255 and r.stderr == DENIED and r.stdout == b"", f"{account.name}: {r}")
    w.wait_log(line)
    check(log_count(w, line) == before + 1, f"expected one more {line!r}:\n{w.daemon_log()[-3000:]}")
    check(log_count(w, accepted) == accepted_before, f"accepted as well:\n{w.daemon_log()[-3000:]}")


def check_logs_in(w, account):
    r = w.twoway("-l", account.name, "127.0.0.1", "echo in")
    check(r.returncode == 0 and r.stdout == b"in\n", f"{account.name} could not log in: {r}\n{w.daemon_log()[-3000:]}")


def closed_within(sock, seconds):
    """True if the peer closes the connection (end of file or reset) within `seconds` having sent nothing
    more; False if it is still open then, or sent a byte."""
    sock.settimeout(seconds)
    try:
        return sock.recv(1) == b""
    except socket.timeout:
        return False
    except (ConnectionResetError, ConnectionAbortedError):
        return True


def status_kib(pid, field="VmRSS"):
    """A field of /proc/PID/status in KiB (VmRSS by default)."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise AssertionError(f"no {field} for {pid}")


def descriptors(pid):
    """How many descriptors process PID holds open."""
    return len(os.listdir(f"/proc/{pid}/fd"))


def run_tests(module_globals):
    """Runs every test_* function of the calling module; exit status 1 if any failed."""
    names = sorted(n for n, f in module_globals.items() if n.startswith("test_") and callable(f))
    only = sys.argv[1:]
    failed = 0
    for n in names:
        if only and n not in only:
            continue
        start = time.monotonic()
        try:
            module_globals[n]()
            print(f"PASS {n} ({time.monotonic() - start:.1f}s)", flush=True)
        except Exception:
            failed += 1
            print(f"FAIL {n} ({time.monotonic() - start:.1f}s)", flush=True)
            traceback.print_exc()
            sys.stdout.flush()
    print(f"{len(names) - failed if not only else len(only) - failed} passed, {failed} failed")
    sys.exit(1 if failed else 0)

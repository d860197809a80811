#!/usr/bin/env python3
"""ChrootDirectory and the service connection made as the account, against the real twowayd and twoway,
on throwaway accounts.

ChrootDirectory: a throwaway jail (dash as /bin/sh, ls, the libraries ldd lists and the loader) under a
root-owned directory outside /tmp (which is world-writable, so never a chroot component); the session's
command sees the jail as / (`pwd; ls /`), starts in the home directory when the jail has it and in /
otherwise (silently, as sshd); a jail or a component of its path that is group- or world-writable or not
owned by root refuses the session with sshd's log line; %u and %h; Match User ... ChrootDirectory for one
account only; a chrooted account still reaches its services (sshd still forwards for one).

Services: the daemon connects to the service as the account, not as root. The test's service looks up
the connecting socket's owner in /proc/net/tcp (the client side's entry, its uid column).

Needs root (useradd, chroot).
"""

import os
import pwd
import re
import shutil
import socket
import stat
import subprocess
import tempfile
import threading
import time

from twoway_env import Account, World, check, public_key_line, run_tests, trust_host
from twoway_env import needs_root as needs_root_for


def needs_root():
    return needs_root_for("throwaway accounts, chroot")


def world(name, **kw):
    return trust_host(World(name, **kw))


def chain_is_safe(path):
    """sshd's rule for every component of a chroot path: root-owned, not group- or world-writable."""
    parts = [p for p in path.split("/") if p]
    for i in range(len(parts) + 1):
        st = os.stat("/" + "/".join(parts[:i]))
        if st.st_uid != 0 or st.st_mode & 0o022:
            return False
    return True


class JailParent:
    """A root-owned 0755 temporary directory on a path sshd's rule accepts, on a file system that lets
    programs run; removed on exit."""

    def __init__(self):
        self.path = None
        for base in ("/run", "/srv", "/var/lib", "/opt"):
            try:
                if not chain_is_safe(base) or os.statvfs(base).f_flag & os.ST_NOEXEC:
                    continue
                self.path = tempfile.mkdtemp(prefix="twoway-chroot-", dir=base)
                break
            except OSError:
                continue
        check(self.path is not None, "no root-owned, executable place for a throwaway chroot")
        os.chmod(self.path, 0o755)

    def close(self):
        shutil.rmtree(self.path, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


def copy_into(jail, path, as_path=None):
    dest = jail + (as_path or path)
    os.makedirs(os.path.dirname(dest), mode=0o755, exist_ok=True)
    shutil.copy2(os.path.realpath(path), dest)


def copy_program(jail, program, as_path=None):
    """The program and what ldd lists for it (libraries and the loader), at their paths."""
    copy_into(jail, program, as_path)
    out = subprocess.run(["ldd", program], check=True, capture_output=True, text=True).stdout
    for line in out.splitlines():
        m = re.search(r"(/\S+) \(0x", line)
        if m:
            copy_into(jail, m.group(1))


def make_jail(path):
    """A minimal root-owned jail: /bin/sh (dash) and /bin/ls."""
    os.makedirs(path, mode=0o755, exist_ok=True)
    os.chmod(path, 0o755)
    copy_program(path, "/bin/dash", "/bin/sh")
    copy_program(path, "/bin/ls")
    return path


def listing(path):
    return sorted(os.listdir(path))


def run(w, account, command):
    return w.twoway("-l", account.name, "127.0.0.1", command)


def restart(w):
    """Restarts w's daemon on its (changed) configuration, with a fresh log (start_daemon reads the port
    from the log's first "Server listening" line)."""
    w.stop_daemon()
    open(w.log_path, "w").close()
    w.start_daemon()
    trust_host(w)


def check_refused(w, account, message):
    """No session, one more `message` (sshd's) in the log, and no chroot."""
    line = re.escape(message) + re.escape(f" (ChrootDirectory for user {account.name} from 127.0.0.1 port ")
    before = len(re.findall(line, w.daemon_log()))
    changed = w.daemon_log().count("Changed root directory")
    r = run(w, account, "pwd")
    check(r.returncode != 0 and r.stdout == b"", f"{account.name}: a session ran: {r}")
    w.wait_log(line)
    log = w.daemon_log()
    check(len(re.findall(line, log)) == before + 1, log[-3000:])
    check(log.count("Changed root directory") == changed, log[-3000:])


def test_session_runs_inside_the_chroot():
    if needs_root():
        return
    with JailParent() as jp:
        jail = make_jail(os.path.join(jp.path, "jail"))
        with world("chroot", extra_config=f"ChrootDirectory {jail}\n") as w, Account(w.dir) as a:
            r = run(w, a, "pwd; ls /")
            # The home directory is not in the jail: the session starts in /, and nothing is said.
            want = "/\n" + "".join(n + "\n" for n in listing(jail))
            check(r.returncode == 0 and r.stdout.decode() == want and r.stderr == b"", f"{r}\nwanted {want!r}")
            w.wait_log(re.escape(f'Changed root directory to "{jail}"'))
            # The home directory inside the jail, when it is there: the session starts in it.
            inner = jail + a.home
            os.makedirs(inner, mode=0o755)
            os.chown(inner, a.uid, -1)
            r = run(w, a, "pwd; echo $HOME")
            check(r.returncode == 0 and r.stdout.decode() == f"{a.home}\n{a.home}\n", f"{r}")
            # The account, not root: it cannot write the jail's root, only its home there.
            r = run(w, a, "echo x > /owned-by-root; echo x > ./mine && ls")
            check(r.returncode == 0 and r.stdout == b"mine\n" and b"Permission denied" in r.stderr, f"{r}")
            check(not os.path.exists(os.path.join(jail, "owned-by-root")), "wrote into the jail's root")
            check(os.stat(os.path.join(inner, "mine")).st_uid == a.uid, "the file is not the account's")


def test_unsafe_chroot_paths_are_refused_with_sshds_message():
    if needs_root():
        return
    with JailParent() as jp:
        parent = os.path.join(jp.path, "parent")
        os.makedirs(parent, mode=0o755)
        os.chmod(parent, 0o755)
        jail = make_jail(os.path.join(parent, "jail"))
        with world("chroot-modes", extra_config=f"ChrootDirectory {jail}\n") as w, Account(w.dir) as a:
            r = run(w, a, "pwd")
            check(r.returncode == 0 and r.stdout == b"/\n", f"{r}")
            for mode in (0o775, 0o757):
                os.chmod(jail, mode)
                check_refused(w, a, f'bad ownership or modes for chroot directory "{jail}"')
            os.chmod(jail, 0o755)
            os.chmod(parent, 0o775)
            check_refused(w, a, f'bad ownership or modes for chroot directory component "{parent}/"')
            os.chmod(parent, 0o755)
            os.chown(parent, a.uid, -1)
            check_refused(w, a, f'bad ownership or modes for chroot directory component "{parent}/"')
            os.chown(parent, 0, -1)
            os.chown(jail, a.uid, -1)
            check_refused(w, a, f'bad ownership or modes for chroot directory "{jail}"')
            os.chown(jail, 0, -1)
            missing = os.path.join(parent, "missing")
            r = run_with(w, a, f"ChrootDirectory {missing}\n", "pwd")
            check(r.returncode != 0 and r.stdout == b"", f"{r}")
            w.wait_log(re.escape(f'stat("{missing}"): No such file or directory'))
            # Fixed again: the session runs.
            r = run_with(w, a, f"ChrootDirectory {jail}\n", "pwd")
            check(r.returncode == 0 and r.stdout == b"/\n", f"{r}")


def run_with(w, account, extra, command):
    """Restarts w's daemon with the base configuration and `extra` in place of what followed it."""
    with open(w.config) as f:
        lines = [line for line in f.read().splitlines(keepends=True) if not line.startswith(("ChrootDirectory", "Match", " "))]
    with open(w.config, "w") as f:
        f.write("".join(lines) + extra)
    restart(w)
    return run(w, account, command)


def test_tokens_u_and_h():
    if needs_root():
        return
    # The account's home under the jail parent: %h must pass sshd's checks (a home under /tmp cannot).
    with JailParent() as jp, world("chroot-tokens", start=False) as w, Account(jp.path) as a, Account(w.dir) as b:
        # %u: one jail per account.
        jail = make_jail(os.path.join(jp.path, "jails", a.name))
        os.chmod(os.path.join(jp.path, "jails"), 0o755)
        open(os.path.join(jail, "this-is-" + a.name), "w").close()
        r = run_with(w, a, f"ChrootDirectory {jp.path}/jails/%u\n", "ls /")
        check(r.returncode == 0 and f"this-is-{a.name}\n".encode() in r.stdout, f"{r}")
        w.wait_log(re.escape(f'Changed root directory to "{jail}"'))
        # %h (and ~): the home directory is the jail, so it must be root's.
        home_jail = make_jail(a.home)
        os.chown(home_jail, 0, 0)
        open(os.path.join(home_jail, "home-jail"), "w").close()
        for value in ("%h", "~"):
            r = run_with(w, a, f"ChrootDirectory {value}\n", "ls /")
            check(r.returncode == 0 and b"home-jail\n" in r.stdout, f"{value}: {r}")
        # The other account's home is under /tmp, which everyone may write: refused, naming /tmp/.
        r = run(w, b, "ls /")
        check(r.returncode != 0 and r.stdout == b"", f"{r}")
        w.wait_log(re.escape(f'bad ownership or modes for chroot directory component "/tmp/" '
                             f'(ChrootDirectory for user {b.name} '))
        # %U: the numeric uid.
        uid_jail = make_jail(os.path.join(jp.path, "by-uid", str(a.uid)))
        os.chmod(os.path.join(jp.path, "by-uid"), 0o755)
        open(os.path.join(uid_jail, "uid-jail"), "w").close()
        r = run_with(w, a, f"ChrootDirectory {jp.path}/by-uid/%U\n", "ls /")
        check(r.returncode == 0 and b"uid-jail\n" in r.stdout, f"{r}")


def test_match_user_chroot_applies_to_that_account_only():
    if needs_root():
        return
    with JailParent() as jp:
        jail = make_jail(os.path.join(jp.path, "jail"))
        with world("chroot-match", start=False) as w, Account(w.dir) as a, Account(w.dir) as b:
            r = run_with(w, a, f"Match User {a.name}\n ChrootDirectory {jail}\n", "pwd; ls /")
            want = "/\n" + "".join(n + "\n" for n in listing(jail))
            check(r.returncode == 0 and r.stdout.decode() == want, f"{r}")
            r = run(w, b, "pwd; ls /")
            real = "".join(n + "\n" for n in listing("/") if not n.startswith("."))
            check(r.returncode == 0 and r.stdout.decode() == f"{b.home}\n{real}", f"{b.name} was confined: {r}")
            # -T -C shows the value for the one account.
            t = subprocess.run([os.environ["TWOWAYD"], "-T", "-f", w.config, "-C",
                                f"user={a.name},addr=127.0.0.1"], capture_output=True, text=True, timeout=60)
            check(f"chrootdirectory {jail}\n" in t.stdout, t.stdout + t.stderr)


class UidService:
    """A TCP service on 127.0.0.1 that answers each connection with the uid that owns the connecting
    socket, from the client side's entry in /proc/net/tcp."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.uids = []
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    @staticmethod
    def address(ip, port):
        return "%08X:%04X" % (int.from_bytes(socket.inet_aton(ip), "little"), port)

    def owner(self, peer):
        # The connecting socket is the entry whose local end is the peer and whose remote end is this
        # service, in any state but TIME_WAIT (06): the client's EOF may have half-closed it already.
        # Matching the local end alone could find a TIME_WAIT entry of an earlier connection from the
        # same ephemeral port, and those list uid 0.
        local = self.address(*peer)
        remote = self.address("127.0.0.1", self.port)
        with open("/proc/net/tcp") as f:
            for line in f.readlines()[1:]:
                fields = line.split()
                if fields[1] == local and fields[2] == remote and fields[3] != "06":
                    return int(fields[7])
        return None

    def serve(self):
        while True:
            try:
                c, peer = self.sock.accept()
            except OSError:
                return
            with c:
                uid = self.owner(peer)
                self.uids.append(uid)
                c.sendall(f"uid {uid}\n".encode())

    def close(self):
        self.sock.close()


def test_service_connection_is_made_as_the_account():
    if needs_root():
        return
    svc = UidService()
    try:
        with world("svc-uid", services={"whoami": svc.port}) as w, Account(w.dir) as a:
            r = w.twoway("-l", a.name, "-W", "whoami", "127.0.0.1", input=b"")
            check(r.returncode == 0 and r.stdout == f"uid {a.uid}\n".encode(), f"{r}")
            check(svc.uids == [a.uid] and a.uid != 0, f"{svc.uids}")
            w.wait_log(re.escape(f"Starting session: service whoami (127.0.0.1 port {svc.port}) for {a.name}"))
            # A refused connection: the account's child reports connect's error, as before.
            closed = socket.socket()
            closed.bind(("127.0.0.1", 0))
            port = closed.getsockname()[1]
            closed.close()
            with open(w.config, "a") as f:
                f.write(f"Service gone 127.0.0.1:{port}\n")
            restart(w)
            r = w.twoway("-l", a.name, "-W", "gone", "127.0.0.1", input=b"")
            check(r.returncode != 0, f"{r}")
            w.wait_log(re.escape(f"service gone: connect to 127.0.0.1 port {port} failed: Connection refused"))
            # The connecting children are reaped: none is left as the account.
            left = subprocess.run(["pgrep", "-U", str(a.uid)], capture_output=True, text=True).stdout
            check(left == "", f"processes left as {a.name}: {left}")
    finally:
        svc.close()


def test_service_connect_timeout_kills_and_reaps_the_connecting_child():
    if needs_root():
        return
    # A listener whose accept queue is full: Linux drops further SYNs, so a connect to it hangs.
    full = socket.socket()
    full.bind(("127.0.0.1", 0))
    full.listen(0)
    port = full.getsockname()[1]
    fillers = []
    try:
        for _ in range(3):
            c = socket.socket()
            c.setblocking(False)
            c.connect_ex(("127.0.0.1", port))
            fillers.append(c)
        with world("svc-timeout", services={"stuck": port}) as w, Account(w.dir) as a:
            r = w.twoway("-l", a.name, "-W", "stuck", "127.0.0.1", input=b"", timeout=60)
            check(r.returncode != 0 and r.stdout == b"", f"{r}")
            w.wait_log(re.escape(f"service stuck: connect to 127.0.0.1 port {port} failed: timed out"))
            # Killed at the timeout and reaped: nothing runs as the account, not even a zombie.
            for _ in range(100):
                left = subprocess.run(["pgrep", "-U", str(a.uid)], capture_output=True, text=True).stdout
                if left == "":
                    break
                time.sleep(0.05)
            check(left == "", f"processes left as {a.name}: {left}")
            # The daemon still serves.
            r = w.twoway("-l", a.name, "127.0.0.1", "echo alive")
            check(r.returncode == 0 and r.stdout == b"alive\n", f"{r}")
    finally:
        for c in fillers:
            c.close()
        full.close()


def test_chrooted_account_still_reaches_its_services():
    if needs_root():
        return
    svc = UidService()
    try:
        with JailParent() as jp:
            jail = make_jail(os.path.join(jp.path, "jail"))
            with world("chroot-svc", services={"whoami": svc.port}, extra_config=f"ChrootDirectory {jail}\n") as w, \
                    Account(w.dir) as a:
                r = w.twoway("-l", a.name, "-W", "whoami", "127.0.0.1", input=b"")
                check(r.returncode == 0 and r.stdout == f"uid {a.uid}\n".encode(), f"{r}")
    finally:
        svc.close()


def test_daemon_not_root_refuses_chroot_and_connects_itself():
    """An ordinary user's twowayd (here a throwaway account's) cannot chroot: it refuses the session
    rather than run it unconfined. It connects to services itself, as that account."""
    if needs_root() or not shutil.which("setpriv"):
        print("SKIP: needs root and setpriv")
        return
    svc = UidService()
    try:
        with JailParent() as jp:
            jail = make_jail(os.path.join(jp.path, "jail"))
            with World("chroot-user", start=False, services={"whoami": svc.port}) as w, Account(w.dir) as a:
                for path in (w.host_key, w.host_key + ".pub", w.authorized_keys, w.config):
                    os.chown(path, a.uid, -1)
                os.chmod(w.host_key, 0o600)
                with open(w.config, "a") as f:
                    f.write(f"ChrootDirectory {jail}\n")
                log = open(w.log_path, "wb")
                daemon = subprocess.Popen(
                    ["setpriv", f"--reuid={a.uid}", f"--regid={pwd.getpwnam(a.name).pw_gid}", "--clear-groups", os.environ["TWOWAYD"], "-D",
                     "-e", "-f", w.config, "-p", "0"],
                    stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env={"PATH": "/usr/bin:/bin", "LANG": "C"})
                try:
                    w.port = int(w.wait_log(r"Server listening on 127\.0\.0\.1 port (\d+)\.").group(1))
                    trust_host(w)
                    r = run(w, a, "pwd")
                    check(r.returncode != 0 and r.stdout == b"", f"{r}")
                    w.wait_log(re.escape(f"cannot chroot: twowayd is not running as root (ChrootDirectory for user "
                                         f"{a.name} from 127.0.0.1 port "))
                    r = w.twoway("-l", a.name, "-W", "whoami", "127.0.0.1", input=b"")
                    check(r.returncode == 0 and r.stdout == f"uid {a.uid}\n".encode(), f"{r}")
                finally:
                    daemon.terminate()
                    daemon.wait(timeout=20)
                    log.close()
    finally:
        svc.close()


if __name__ == "__main__":
    run_tests(globals())

#!/usr/bin/env python3
"""AuthorizedKeysCommand against a real directory: a throwaway OpenLDAP slapd started here on a free
127.0.0.1 port (mdb database in a temporary directory, an openssh-lpk style sshPublicKey attribute),
a user's key added with ldapadd and printed by a root-owned script that runs ldapsearch.

- the key in LDAP logs in; the command ran as AuthorizedKeysCommandUser with sshd's %-tokens;
- removing the key from LDAP (ldapmodify) refuses the next login;
- a frozen slapd (SIGSTOP) fails the login closed within AuthorizedKeysCommandTimeout, while another
  account's login goes through meanwhile (the command does not hold the event loop);
- a stopped slapd (killed) fails closed at once; a command that prints too much, or that is not
  root-owned, refuses;
- with the key in an authorized_keys file the command is not run (sshd's order);
- AuthorizedKeysCommandUser none (the default) or an account that does not exist: nothing is run, the
  key is refused, and the log says why.

Needs root (a throwaway account, slapd, a script under /run owned by root in root-owned directories:
twowayd refuses a command that anyone else could replace, and /tmp is world-writable).
"""

import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time

from twoway_env import Account, CLEAN_PATH, World, check, keygen, public_key_line, run_tests

DENIED = b"Permission denied (publickey).\n"
SUFFIX = "dc=twoway,dc=test"
ADMIN = f"cn=admin,{SUFFIX}"
ADMIN_PW = "throwaway"

# Our own rendering of the openssh-lpk attribute and class (same OIDs, so a real directory's entries match).
SCHEMA = """attributetype ( 1.3.6.1.4.1.24552.500.1.1.1.13 NAME 'sshPublicKey'
\tDESC 'An OpenSSH public key line'
\tEQUALITY octetStringMatch
\tSYNTAX 1.3.6.1.4.1.1466.115.121.1.40 )
objectclass ( 1.3.6.1.4.1.24552.500.1.1.2.0 NAME 'ldapPublicKey' SUP top AUXILIARY
\tDESC 'An account with OpenSSH public keys'
\tMUST uid
\tMAY sshPublicKey )
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Slapd:
    """A private slapd: its own config, database and port; stopped by PID."""

    def __init__(self, parent):
        self.dir = os.path.join(parent, "ldap")
        os.makedirs(os.path.join(self.dir, "db"))
        with open(os.path.join(self.dir, "lpk.schema"), "w") as f:
            f.write(SCHEMA)
        conf = os.path.join(self.dir, "slapd.conf")
        with open(conf, "w") as f:
            f.write("\n".join([
                "include /etc/ldap/schema/core.schema",
                "include /etc/ldap/schema/cosine.schema",
                f"include {self.dir}/lpk.schema",
                f"pidfile {self.dir}/slapd.pid",
                "modulepath /usr/lib/ldap",
                "moduleload back_mdb",
                "database mdb",
                "maxsize 10485760",
                f'suffix "{SUFFIX}"',
                f'rootdn "{ADMIN}"',
                f"rootpw {ADMIN_PW}",
                f"directory {self.dir}/db",
            ]) + "\n")
        self.port = free_port()
        self.url = f"ldap://127.0.0.1:{self.port}"
        self.log = open(os.path.join(self.dir, "slapd.log"), "wb")
        self.proc = subprocess.Popen(["slapd", "-f", conf, "-h", self.url + "/", "-d", "0"],
                                     stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT,
                                     env={"PATH": CLEAN_PATH})
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                if self.proc.poll() is not None:
                    raise AssertionError(f"slapd exited with {self.proc.returncode}")
                time.sleep(0.05)
        raise AssertionError("slapd did not listen in time")

    def ldif(self, tool, text):
        r = subprocess.run([tool, "-x", "-D", ADMIN, "-w", ADMIN_PW, "-H", self.url], input=text.encode(),
                           capture_output=True, timeout=30, env={"PATH": CLEAN_PATH})
        check(r.returncode == 0, f"{tool}: {r.stderr.decode(errors='replace')}")

    def add_user(self, name, key_line):
        self.ldif("ldapadd", f"dn: uid={name},ou=people,{SUFFIX}\nobjectClass: account\n"
                             f"objectClass: ldapPublicKey\nuid: {name}\nsshPublicKey: {key_line}\n")

    def remove_keys(self, name):
        self.ldif("ldapmodify", f"dn: uid={name},ou=people,{SUFFIX}\nchangetype: modify\ndelete: sshPublicKey\n")

    def close(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)
            self.proc.kill()
            self.proc.wait(timeout=20)
        self.log.close()


class Fixture:
    """A world whose daemon asks the directory, an account known only to the directory, and its key."""

    def __init__(self, timeout_s=3, command_args="%u", extra="", command_user="nobody"):
        self.stack = []
        # The script lives under /run (root-owned all the way up): twowayd refuses a command in /tmp.
        self.script_dir = tempfile.mkdtemp(prefix="twoway-it-akc-", dir="/run")
        os.chmod(self.script_dir, 0o755)
        self.world = None
        try:
            self.tmp = tempfile.mkdtemp(prefix="twoway-it-ldap-")
            os.chmod(self.tmp, 0o755)
            self.slapd = Slapd(self.tmp)
            self.slapd.ldif("ldapadd", f"dn: {SUFFIX}\nobjectClass: dcObject\nobjectClass: organization\n"
                                       f"o: twoway test\ndc: twoway\n\n"
                                       f"dn: ou=people,{SUFFIX}\nobjectClass: organizationalUnit\nou: people\n")
            self.script = os.path.join(self.script_dir, "ldap-keys")
            self.calls = os.path.join(self.script_dir, "calls")
            with open(self.calls, "w"):
                pass
            os.chmod(self.calls, 0o666)  # the command user appends to it
            with open(self.script, "w") as f:
                f.write("#!/bin/sh\n"
                        f'echo "$(id -un) $*" >> {self.calls}\n'
                        f"ldapsearch -x -LLL -o ldif-wrap=no -H {self.slapd.url} -b ou=people,{SUFFIX} "
                        '"(uid=$1)" sshPublicKey | sed -n "s/^sshPublicKey: //p"\n')
            os.chmod(self.script, 0o755)
            config = (f"AuthorizedKeysCommand {self.script} {command_args}\n"
                      f"AuthorizedKeysCommandUser {command_user}\n"
                      f"AuthorizedKeysCommandTimeout {timeout_s}\n" + extra)
            self.world = World("keys-command", extra_config=config, log_level="DEBUG1")
            with open(self.world.known_hosts, "w") as f:
                f.write(f"[127.0.0.1]:{self.world.port} {public_key_line(self.world.host_key + '.pub')}\n")
            self.account = Account(self.tmp)
            self.key = os.path.join(self.tmp, "ldap_key")
            keygen(self.key, "ldap-user")
        except BaseException:
            self.close()
            raise

    def login(self, *extra, timeout=60):
        return self.world.twoway("-i", self.key, "-l", self.account.name, *extra, "127.0.0.1", "echo in-ldap",
                                 timeout=timeout)

    def calls_text(self):
        with open(self.calls) as f:
            return f.read()

    def close(self):
        for closer in (getattr(self, "account", None), self.world, getattr(self, "slapd", None)):
            if closer is not None:
                try:
                    closer.close()
                except Exception as e:  # keep closing the rest
                    print(f"warning: cleanup: {e}")
        shutil.rmtree(self.script_dir, ignore_errors=True)
        if getattr(self, "tmp", None):
            shutil.rmtree(self.tmp, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


def skip():
    if os.geteuid() != 0 or not all(shutil.which(t) for t in ("slapd", "ldapadd", "ldapsearch", "useradd")):
        print("SKIP: needs root, slapd, ldap-utils and useradd")
        return True
    return False


def test_directory_key_logs_in_and_removal_refuses():
    if skip():
        return
    with Fixture() as fx:
        r = fx.login()
        check(r.returncode == 255 and r.stderr == DENIED, f"no key in LDAP yet: {r}")
        fx.slapd.add_user(fx.account.name, public_key_line(fx.key + ".pub"))
        r = fx.login()
        check(r.returncode == 0 and r.stdout == b"in-ldap\n", f"key in LDAP: {r}")
        # Run as the command user, with the user name as the one argument (sshd's default).
        check(f"nobody {fx.account.name}\n" in fx.calls_text(), fx.calls_text())
        fx.world.wait_log(re.escape(f"Accepted publickey for {fx.account.name} from 127.0.0.1"))
        fx.world.wait_log(r"matching key found: AuthorizedKeysCommand")
        fx.slapd.remove_keys(fx.account.name)
        r = fx.login()
        check(r.returncode == 255 and r.stderr == DENIED, f"key removed from LDAP: {r}")


def test_tokens():
    if skip():
        return
    with Fixture(command_args="%u %U %h %t %f %k %%") as fx:
        fx.slapd.add_user(fx.account.name, public_key_line(fx.key + ".pub"))
        r = fx.login()
        check(r.returncode == 0, f"{r}")
        blob = public_key_line(fx.key + ".pub").split()[1]
        fp = subprocess.run(["ssh-keygen", "-lf", fx.key + ".pub"], capture_output=True, text=True,
                            check=True).stdout.split()[1]
        want = f"nobody {fx.account.name} {fx.account.uid} {fx.account.home} ssh-ed25519 {fp} {blob} %\n"
        check(want in fx.calls_text(), f"{want!r} not in {fx.calls_text()!r}")


def test_frozen_directory_fails_closed_within_timeout_others_go_on():
    if skip():
        return
    # A timeout long enough that another login, root's shell start-up included (~1 s here, more under
    # load), is plainly over before it: that login must not wait for the frozen directory.
    with Fixture(timeout_s=8) as fx:
        fx.slapd.add_user(fx.account.name, public_key_line(fx.key + ".pub"))
        check(fx.login().returncode == 0, "login before the freeze")
        os.kill(fx.slapd.proc.pid, signal.SIGSTOP)
        try:
            result = {}

            def frozen_login():
                start = time.monotonic()
                result["r"] = fx.login()
                result["end"] = time.monotonic()
                result["t"] = result["end"] - start

            t = threading.Thread(target=frozen_login)
            t.start()
            time.sleep(0.5)  # the frozen login is waiting on its command now
            start = time.monotonic()
            other = fx.world.twoway("127.0.0.1", "echo other")  # root, by authorized_keys file
            other_end = time.monotonic()
            other_t = other_end - start
            t.join(timeout=60)
            check(other.returncode == 0 and other.stdout == b"other\n", f"other login: {other}")
            # It did not wait for the frozen directory: it was done before the frozen login's 8 s ran out.
            check(other_end < result["end"] - 2.0,
                  f"another account's login ({other_t:.2f}s) ended after the frozen one was refused")
            r = result["r"]
            check(r.returncode == 255 and r.stderr == DENIED, f"frozen directory: {r}")
            check(7.5 <= result["t"] < 15, f"refused after {result['t']:.2f}s, want about the 8 s timeout")
            fx.world.wait_log(r"AuthorizedKeysCommand .* timed out after 8 s")
        finally:
            os.kill(fx.slapd.proc.pid, signal.SIGCONT)


def test_stopped_directory_fails_closed():
    if skip():
        return
    with Fixture() as fx:
        fx.slapd.add_user(fx.account.name, public_key_line(fx.key + ".pub"))
        check(fx.login().returncode == 0, "login before the stop")
        fx.slapd.close()
        start = time.monotonic()
        r = fx.login()
        check(r.returncode == 255 and r.stderr == DENIED, f"stopped directory: {r}")
        check(time.monotonic() - start < 3, "a refused connection should fail at once")


def test_unsafe_or_noisy_command_refused():
    if skip():
        return
    with Fixture() as fx:
        fx.slapd.add_user(fx.account.name, public_key_line(fx.key + ".pub"))
        os.chown(fx.script, fx.account.uid, -1)  # the account could now rewrite who may log in
        r = fx.login()
        check(r.returncode == 255 and r.stderr == DENIED, f"user-owned command: {r}")
        fx.world.wait_log(r"unsafe AuthorizedKeysCommand: bad ownership or modes for file")
        os.chown(fx.script, 0, -1)
        with open(fx.script, "a") as f:  # after its keys, 2 MiB of noise: over the 1 MiB cap
            f.write("head -c 2097152 /dev/zero | tr '\\0' '#'\n")
        r = fx.login()
        check(r.returncode == 255 and r.stderr == DENIED, f"noisy command: {r}")
        fx.world.wait_log(r"AuthorizedKeysCommand .* printed more than 1048576 bytes")


def test_file_first_then_command():
    if skip():
        return
    with Fixture() as fx:
        before = fx.calls_text()
        r = fx.world.twoway("127.0.0.1", "echo by-file")  # root's key is in the authorized_keys file
        check(r.returncode == 0 and r.stdout == b"by-file\n", f"{r}")
        check(fx.calls_text() == before, "the command ran although a file had authorized the key")


def test_command_user_none_or_unknown_runs_nothing():
    if skip():
        return
    for user, why in (("none", r"AuthorizedKeysCommand \S+ is set without AuthorizedKeysCommandUser: not run"),
                      ("twnosuchuser", r"AuthorizedKeysCommandUser twnosuchuser: no such user")):
        with Fixture(command_user=user) as fx:
            fx.slapd.add_user(fx.account.name, public_key_line(fx.key + ".pub"))
            r = fx.login()
            check(r.returncode == 255 and r.stderr == DENIED, f"AuthorizedKeysCommandUser {user}: {r}")
            fx.world.wait_log(why)
            check(fx.calls_text() == "", f"the command ran with AuthorizedKeysCommandUser {user}: {fx.calls_text()!r}")


if __name__ == "__main__":
    run_tests(globals())

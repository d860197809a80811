#!/usr/bin/env python3
"""Which home twoway and twoway-keygen trust (issue 13, "the client trusts $HOME"): $HOME only when that
directory belongs to the effective user, else the password database's home, as ssh uses; and no
known_hosts file owned by another user (not root) is used or rewritten.

Run as root: two throwaway accounts are made for the test (useradd, removed at the end), each with a
home in the test's temporary directory, so nothing outside it is read or written (not /root). The
"planter" owns a home whose known_hosts trusts the daemon's key; the "runner" runs twoway (setpriv) with
HOME pointing there, as sudo -E leaves a user's HOME to a more privileged program."""

import os
import pwd
import secrets
import shutil
import subprocess

from twoway_env import CLEAN_PATH, KEYGEN, TWOWAY, World, check, public_key_line, run_tests


class Account:
    """A throwaway account with its home directory at `home` (made here, owned by the account)."""

    def __init__(self, role, home):
        self.name = f"tw{role}{secrets.token_hex(4)}"
        self.home = home
        # Password field "*": useradd's default "!" is a locked account, which twowayd refuses.
        subprocess.run(["useradd", "-M", "-d", home, "-s", "/bin/sh", "-p", "*", self.name], check=True,
                       timeout=60, capture_output=True)
        pw = pwd.getpwnam(self.name)
        self.uid, self.gid = pw.pw_uid, pw.pw_gid
        os.makedirs(os.path.join(home, ".twoway"))
        for d in (home, os.path.join(home, ".twoway")):
            os.chown(d, self.uid, self.gid)

    def own(self, path, mode):
        os.chown(path, self.uid, self.gid)
        os.chmod(path, mode)

    def remove(self):
        subprocess.run(["userdel", self.name], timeout=60, capture_output=True)
        try:  # USERGROUPS_ENAB: userdel removes the group too; this is only in case it did not
            subprocess.run(["groupdel", self.name], timeout=60, capture_output=True)
        except OSError:
            pass

    def run(self, argv, home, timeout=60):
        """argv as this account, with HOME=home and nothing else of ours in the environment."""
        return subprocess.run(["setpriv", f"--reuid={self.uid}", f"--regid={self.gid}", "--clear-groups",
                               "env", "-i", f"PATH={CLEAN_PATH}", "LANG=C", f"HOME={home}"] + argv,
                              capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL, start_new_session=True)


def needs_root():
    if os.geteuid() != 0 or not all(shutil.which(t) for t in ("useradd", "userdel", "setpriv")):
        print("SKIP: needs root, useradd, userdel and setpriv to make throwaway accounts")
        return True
    return False


def read(path):
    with open(path) as f:
        return f.read()


def test_a_home_owned_by_another_user_is_ignored():
    if needs_root():
        return
    with World("home") as w:
        planter = Account("p", os.path.join(w.dir, "planter"))
        runner = Account("r", os.path.join(w.dir, "runner"))
        try:
            label = f"[127.0.0.1]:{w.port}"
            line = f"{label} {public_key_line(w.host_key + '.pub')}\n"
            # The planter's known_hosts vouches for the daemon's key, readable by all, so only the rule
            # (not the file's mode) can keep the runner from trusting it.
            planted = os.path.join(planter.home, ".twoway", "known_hosts")
            with open(planted, "w") as f:
                f.write(line)
            planter.own(planted, 0o644)
            os.chmod(planter.home, 0o755)
            os.chmod(os.path.join(planter.home, ".twoway"), 0o755)
            # The runner's own identity, in its password-database home.
            key = os.path.join(runner.home, ".twoway", "id_ed25519")
            shutil.copy(w.user_key, key)
            runner.own(key, 0o600)
            base = [TWOWAY, "-v", "-p", str(w.port)]

            # HOME is the planter's: ignored, with a debug line; the runner's own (empty) known_hosts
            # decides, so strict checking refuses the host.
            r = runner.run(base + ["-o", "StrictHostKeyChecking=yes", "-N", "127.0.0.1"], planter.home)
            err = r.stderr.decode()
            check(r.returncode == 255, f"the planted known_hosts was trusted: {r}")
            check(f"debug1: $HOME ({planter.home}) belongs to uid {planter.uid}, not to uid {runner.uid}: ignored; "
                  f"using {runner.home} from the password database\n" in err, err)
            check(f"No ED25519 host key is known for {label} and you have requested strict checking." in err, err)
            check(f"Reading configuration data {runner.home}/.twoway/config\n" in err and
                  f"Will offer public key: {runner.home}/.twoway/id_ed25519 " in err,
                  f"config and identity not from the runner's home:\n{err}")

            # accept-new records the host in the runner's own known_hosts, never in the planter's.
            r = runner.run(base + ["-o", "StrictHostKeyChecking=accept-new", "-N", "127.0.0.1"], planter.home)
            check(r.returncode == 0, f"accept-new: {r}")
            mine = os.path.join(runner.home, ".twoway", "known_hosts")
            check(read(mine) == line, f"not recorded in the runner's home: {read(mine)!r}")
            st = os.stat(mine)
            check(st.st_uid == runner.uid and st.st_mode & 0o777 == 0o600, "the runner's known_hosts")
            check(read(planted) == line and os.stat(planted).st_uid == planter.uid, "the planted file changed")

            # twoway-keygen follows the same rule: -F looks in the runner's file (found there now), and
            # with that file gone it does not find the planted line.
            r = runner.run([KEYGEN, "-F", label], planter.home)
            check(r.returncode == 0 and r.stdout.decode().endswith(line), f"-F: {r}")
            os.remove(mine)
            r = runner.run([KEYGEN, "-F", label], planter.home)
            check(r.returncode == 1 and r.stdout == b"", f"-F read the planted file: {r}")

            # A HOME of the runner's own is honoured (as for a throwaway home in tests).
            own = os.path.join(w.dir, "runner-own")
            os.makedirs(os.path.join(own, ".twoway"))
            for d in (own, os.path.join(own, ".twoway")):
                runner.own(d, 0o700)
            shutil.copy(key, os.path.join(own, ".twoway", "id_ed25519"))
            runner.own(os.path.join(own, ".twoway", "id_ed25519"), 0o600)
            r = runner.run(base + ["-o", "StrictHostKeyChecking=accept-new", "-N", "127.0.0.1"], own)
            check(r.returncode == 0 and "$HOME" not in r.stderr.decode(), f"own HOME: {r}")
            check(read(os.path.join(own, ".twoway", "known_hosts")) == line, "not recorded in the runner's HOME")
        finally:
            runner.remove()
            planter.remove()


def test_a_known_hosts_file_owned_by_another_user_is_not_used_nor_rewritten():
    if needs_root():
        return
    with World("khowner") as w:
        planter = Account("p", os.path.join(w.dir, "planter"))
        runner = Account("r", os.path.join(w.dir, "runner"))
        try:
            label = f"[127.0.0.1]:{w.port}"
            line = f"{label} {public_key_line(w.host_key + '.pub')}\n"
            key = os.path.join(runner.home, ".twoway", "id_ed25519")
            shutil.copy(w.user_key, key)
            runner.own(key, 0o600)
            # In the runner's own home, a known_hosts the planter owns (and could rewrite at will).
            planted = os.path.join(runner.home, ".twoway", "known_hosts")
            with open(planted, "w") as f:
                f.write(line)
            planter.own(planted, 0o644)
            base = [TWOWAY, "-p", str(w.port), "-N", "127.0.0.1"]
            for strict in ("yes", "accept-new", "no"):
                r = runner.run(base[:3] + ["-o", f"StrictHostKeyChecking={strict}"] + base[3:], runner.home)
                err = r.stderr.decode()
                check(r.returncode == 255, f"{strict}: a known_hosts of another user was used: {r}")
                check(f"Bad owner for known_hosts file {planted} (uid {planter.uid}, not yours or root's): not used."
                      in err, f"{strict}:\n{err}")
                check(err.endswith("Host key verification failed.\n"), f"{strict}:\n{err}")
                check(read(planted) == line and os.stat(planted).st_uid == planter.uid, f"{strict}: rewritten")
            # Owned by root (the administrator's), it is used.
            os.chown(planted, 0, 0)
            r = runner.run(base[:3] + ["-o", "StrictHostKeyChecking=yes"] + base[3:], runner.home)
            check(r.returncode == 0, f"a root-owned known_hosts: {r}")
            # twoway-keygen -R does not rewrite another user's file either.
            planter.own(planted, 0o666)
            r = runner.run([KEYGEN, "-R", label], runner.home)
            check(r.returncode == 1 and b"not rewritten" in r.stderr, f"-R: {r}")
            check(read(planted) == line and os.stat(planted).st_uid == planter.uid, "-R rewrote it")
        finally:
            runner.remove()
            planter.remove()


if __name__ == "__main__":
    run_tests(globals())

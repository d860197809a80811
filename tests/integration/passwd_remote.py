#!/usr/bin/env python3
"""Remote registration (issue 17, PROTOCOL.md 16): the real twoway-passwd starts the real twoway, which
logs in to the real twowayd by key and asks for the subsystem twoway-passwd; the password is typed on a
pseudo-terminal.

- registering from nothing (the default Argon2id cost), then a password login with it; changing it (the
  cost kept, the old password refused, the new one logs in); removing it (the password no longer logs in);
- the record is for the account the session authenticated, holds no form of the password, mode 0600;
- refusals: PasswordAuthentication no for the account (a Match block), root without PermitRootLogin yes,
  a key restricted by command= (the forced command runs instead, as for any subsystem: no record), a
  client whose key the server does not accept (twoway's own failure, exit 255), removing what is not there.
"""
import os
import re
import stat

from password_login import password_login, password_world
from twoway_env import (PASSWD, Account, PtyProcess, check, keygen, needs_root, public_key_line, register_password,
                        run_tests, trust_host)

TWOWAY = os.environ.get("TWOWAY", "twoway")
FIRST = "first remote password"
SECOND = "second remote password"


def remote_passwd(w, destination, password=None, *options, remove=False):
    """twoway-passwd -S twoway -p PORT [options] [--remove] DESTINATION on a PTY, typing password twice
    when it asks; returns (exit status, output)."""
    argv = [PASSWD, "-S", TWOWAY, "-p", str(w.port), *options] + (["--remove"] if remove else []) + [destination]
    p = PtyProcess(argv, w.client_env(TERM="dumb"))
    try:
        if password is not None:
            p.expect(r"New twoway password for \S+: ", timeout=60)
            p.send(password + "\r")
            p.expect(r"Retype new twoway password: ", timeout=60)
            p.send(password + "\r")
        rc = p.wait(timeout=180)
        return rc, p.output()
    finally:
        p.close()


def record_path(w, account):
    return os.path.join(w.etc, "opaque", account)


def record_text(w, account):
    with open(record_path(w, account)) as f:
        return f.read()


def test_register_change_remove():
    if needs_root():
        return
    with password_world("pw-remote") as w, Account(w.dir, prefix="tpr") as acct:
        trust_host(w)
        rc, out = remote_passwd(w, f"{acct.name}@127.0.0.1", FIRST)
        check(rc == 0 and f"Registered a password for {acct.name} on 127.0.0.1" in out,
              f"register: exit {rc}: {out!r}\n{w.daemon_log()[-3000:]}")
        check(FIRST not in out, "the password was echoed")
        w.wait_log(re.escape(f"Registered a password for {acct.name} from 127.0.0.1 port ") + r"\d+ \(twoway-passwd\)")
        st = os.stat(record_path(w, acct.name))
        check(stat.S_IMODE(st.st_mode) == 0o600 and st.st_uid == 0, f"record mode {oct(st.st_mode)} uid {st.st_uid}")
        text = record_text(w, acct.name)
        # The default cost (no record before), and nothing of the password in it.
        check(" ops=3 mem=262144 " in text, f"record: {text!r}")
        check(FIRST not in text and FIRST.encode().hex() not in text, "the record holds the password")

        rc, out, _ = password_login(w, acct.name, FIRST)
        check(rc == 0 and out.splitlines()[-1:] == ["in"], f"login with the registered password: exit {rc}: {out!r}")

        # A cheaper record set by root (--local) keeps its cost through a remote change.
        os.unlink(record_path(w, acct.name))
        register_password(w.config, acct.name, FIRST, small=True)
        rc, out = remote_passwd(w, f"{acct.name}@127.0.0.1", SECOND)
        check(rc == 0 and f"Changed the password of {acct.name} on 127.0.0.1" in out, f"change: exit {rc}: {out!r}")
        check(" ops=1 mem=64 " in record_text(w, acct.name), f"the cost was not kept: {record_text(w, acct.name)!r}")
        w.wait_log(re.escape(f"Changed the password of {acct.name} from 127.0.0.1 port "))
        rc, out, _ = password_login(w, acct.name, FIRST)
        check(rc == 255, f"the old password still logs in: exit {rc}: {out!r}")
        rc, out, _ = password_login(w, acct.name, SECOND)
        check(rc == 0 and out.splitlines()[-1:] == ["in"], f"login with the new password: exit {rc}: {out!r}")

        rc, out = remote_passwd(w, f"{acct.name}@127.0.0.1", remove=True)
        check(rc == 0 and f"Removed the password of the account on 127.0.0.1" in out, f"remove: exit {rc}: {out!r}")
        check(not os.path.exists(record_path(w, acct.name)), "the record is still there")
        w.wait_log(re.escape(f"Removed the password of {acct.name} from 127.0.0.1 port "))
        rc, out, _ = password_login(w, acct.name, SECOND)
        check(rc == 255, f"a removed password logs in: exit {rc}: {out!r}")
        rc, out = remote_passwd(w, f"{acct.name}@127.0.0.1", remove=True)
        check(rc == 1 and "no password to remove for this account on 127.0.0.1" in out, f"remove again: {rc}: {out!r}")


def test_refusals():
    if needs_root():
        return
    with password_world("pw-remote-no") as w, Account(w.dir, prefix="tpo") as off, \
            Account(w.dir, prefix="tpk") as forced:
        with open(w.config, "a") as f:
            f.write(f"Match User {off.name}\n    PasswordAuthentication no\n")
        w.stop_daemon()
        os.truncate(w.log_path, 0)  # the harness reads the port from the log's first "listening" line
        w.start_daemon()
        trust_host(w)

        rc, out = remote_passwd(w, f"{off.name}@127.0.0.1", FIRST)
        check(rc == 1 and "refused: password login is off for this account (PasswordAuthentication)" in out,
              f"mode off: exit {rc}: {out!r}")
        check(not os.path.exists(record_path(w, off.name)), "a record was written with the mode off")
        w.wait_log(re.escape(f"Refused twoway-passwd for {off.name} from 127.0.0.1 port "))

        # Root: the world's authorized_keys serves every account, and PermitRootLogin is
        # prohibit-password by default (a key may log in, a password may not, so none may be set).
        rc, out = remote_passwd(w, "root@127.0.0.1", FIRST)
        check(rc == 1 and "root may not log in by password there (PermitRootLogin)" in out, f"root: exit {rc}: {out!r}")
        check(not os.path.exists(record_path(w, "root")), "a record was written for root")

        # A key restricted by command=: the forced command runs instead of any subsystem, as in sshd; here
        # there is no Subsystem line of that name, so the request is refused before anything runs.
        restricted = os.path.join(w.dir, "restricted_key")
        keygen(restricted, "restricted")
        with open(w.authorized_keys, "a") as f:
            f.write(f'command="echo forced" {public_key_line(restricted + ".pub")}\n')
        rc, out = remote_passwd(w, f"{forced.name}@127.0.0.1", FIRST, "-i", restricted)
        check(rc != 0 and "Registered" not in out, f"restricted key: exit {rc}: {out!r}")
        check(not os.path.exists(record_path(w, forced.name)), "a command= key set a password")
        w.wait_log(re.escape(f"Accepted publickey for {forced.name} from 127.0.0.1 port "))
        w.wait_log(re.escape(f"subsystem request for twoway-passwd by user {forced.name} from 127.0.0.1 port ") +
                   r"\d+ failed, subsystem not found")

        # A client the server does not let in (by key only: twoway would otherwise ask for a password): twoway
        # says why, its exit status is ours.
        stranger = os.path.join(w.dir, "stranger_key")
        keygen(stranger, "stranger")
        rc, out = remote_passwd(w, f"{forced.name}@127.0.0.1", FIRST, "-i", stranger,
                                "-o", "PreferredAuthentications=publickey")
        check(rc == 255 and "twoway" in out, f"unknown key: exit {rc}: {out!r}")
        check(not os.path.exists(record_path(w, forced.name)), "an unauthenticated client set a password")


if __name__ == "__main__":
    run_tests(globals())

#!/usr/bin/env python3
"""twoway-passwd --local and --delete (docs/twoway-passwd.md), run as root for a throwaway account, with the
password typed on a pseudo-terminal: the record is written with mode 0600 in a 0700 directory, holds
neither the password nor any fast hash or re-encoding of it, a mismatched second entry (and an empty
password) changes nothing, registering again replaces the record, and --delete removes it.

Argon2id runs with --ksf-ops 1 --ksf-mem 64 (documented for tests) so that the test stays fast. The files
live in a temporary directory named through a throwaway twowayd.conf (-f), never in /etc/twoway."""
import base64
import hashlib
import os
import re
import stat
import subprocess
import tempfile

from twoway_env import CLEAN_PATH, PASSWD, SMALL_KSF, Account, PtyProcess, check, needs_root, run_tests

SMALL = SMALL_KSF


class World:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="twoway-passwd-")
        self.key = os.path.join(self.dir, "opaque_key")
        self.records = os.path.join(self.dir, "opaque")
        self.conf = os.path.join(self.dir, "twowayd.conf")
        with open(self.conf, "w") as f:
            f.write(f"# throwaway\nOpaqueKey {self.key}\nOpaqueRecords {self.records}\n")

    def record(self, name):
        return os.path.join(self.records, name)


def env():
    return {"PATH": CLEAN_PATH, "TERM": "dumb"}


def run_pty(w, args, answers, expect_prompts=None):
    """Runs twoway-passwd on a PTY, answering each prompt with the next of `answers`; returns (exit status,
    output)."""
    p = PtyProcess([PASSWD, "-f", w.conf] + args, env())
    try:
        prompts = expect_prompts or [r"New password for \S+: ", r"Retype new password: "][:len(answers)]
        for prompt, answer in zip(prompts, answers):
            p.expect(prompt)
            p.send(answer + "\r")
        rc = p.wait(timeout=60)
        return rc, p.output()
    finally:
        p.close()


def forms_of(password):
    """Every encoding of the password, and of its fast hashes, that must not appear in the record."""
    pw = password.encode()
    raw = [pw, password.encode("utf-16-le"), password.encode("utf-16-be"), password.encode("utf-32-le"),
           password.encode("utf-32-be")]
    digests = []
    for data in raw[:3]:
        for h in (hashlib.md5, hashlib.sha1, hashlib.sha256, hashlib.sha512, hashlib.sha3_256, hashlib.blake2b):
            digests.append(h(data).digest())
    forms = list(raw)
    for d in digests:
        forms += [d, d.hex().encode(), d.hex().upper().encode(), base64.b64encode(d),
                  base64.b64encode(d).rstrip(b"="), base64.urlsafe_b64encode(d).rstrip(b"=")]
    for data in raw:
        forms += [data.hex().encode(), base64.b64encode(data), base64.b64encode(data).rstrip(b"=")]
    return forms


def read_bytes(path):
    with open(path, "rb") as f:
        return f.read()


def test_register_mismatch_change_delete():
    if needs_root():
        return
    w = World()
    with Account(w.dir, prefix="tw") as acct:
        password = "Tr0ub4dor&3 horse"
        rc, out = run_pty(w, ["--local", acct.name] + SMALL, [password, password])
        check(rc == 0, f"exit {rc}: {out}")
        check(f"Registered a password for {acct.name}" in out, out)
        check(password not in out, "the password was echoed:\n" + out)
        path = w.record(acct.name)
        st = os.stat(path)
        check(stat.S_IMODE(st.st_mode) == 0o600 and st.st_uid == 0, f"record mode {oct(st.st_mode)} uid {st.st_uid}")
        check(stat.S_IMODE(os.stat(w.records).st_mode) == 0o700, "records directory is not 0700")
        check(stat.S_IMODE(os.stat(w.key).st_mode) == 0o600, "OPAQUE key is not 0600")
        text = read_bytes(path)
        check(re.fullmatch(rb"twoway-opaque-v1 argon2id13 ops=1 mem=64 [A-Za-z0-9+/]{256}\n", text) is not None,
              f"record: {text!r}")
        for form in forms_of(password):
            check(form not in text, f"the record holds a form of the password: {form!r}")
        key_text = read_bytes(w.key)
        for form in forms_of(password):
            check(form not in key_text, f"the key file holds a form of the password: {form!r}")

        # A mismatched second entry changes nothing.
        rc, out = run_pty(w, ["--local", acct.name] + SMALL, ["new password", "new passwore"])
        check(rc == 1 and "twoway-passwd: passwords do not match; nothing changed" in out, f"exit {rc}: {out}")
        check(read_bytes(path) == text, "a mismatched entry changed the record")
        # ... nor does an empty one (asked once).
        rc, out = run_pty(w, ["--local", acct.name] + SMALL, [""])
        check(rc == 1 and "twoway-passwd: empty password refused; nothing changed" in out, f"exit {rc}: {out}")
        check(read_bytes(path) == text, "an empty entry changed the record")

        # The terminal's echo is back after the program (it turns it off to read).
        p = PtyProcess([PASSWD, "-f", w.conf, "--local", acct.name] + SMALL, env())
        try:
            p.expect(r"New password for \S+: ")
            check(not (p.attrs()[3] & 0o10), "echo is on while the password is read")  # termios.ECHO
            p.send("\x03")  # Ctrl-C: SIGINT
            p.wait(timeout=30)
            check(p.attrs()[3] & 0o10, "echo stayed off after Ctrl-C")
        finally:
            p.close()
        check(read_bytes(path) == text, "Ctrl-C changed the record")

        # Registering again replaces the record: a password change.
        rc, out = run_pty(w, ["--local", acct.name] + SMALL, ["another one", "another one"])
        check(rc == 0 and f"Changed the password of {acct.name}" in out, f"exit {rc}: {out}")
        changed = read_bytes(path)
        check(changed != text and changed.startswith(b"twoway-opaque-v1 "), "the record was not replaced")
        check(sorted(os.listdir(w.records)) == [acct.name], f"left behind: {os.listdir(w.records)}")

        r = subprocess.run([PASSWD, "-f", w.conf, "--delete", acct.name], capture_output=True, env=env(), timeout=60)
        check(r.returncode == 0 and not os.path.exists(path), f"{r}")
        r = subprocess.run([PASSWD, "-f", w.conf, "--delete", acct.name], capture_output=True, env=env(), timeout=60)
        check(r.returncode == 1 and b"no password record for" in r.stderr, f"{r}")


def test_refusals():
    if needs_root():
        return
    w = World()
    for args, message in [
        (["--local", "twnosuchaccount9"], b"twoway-passwd: no such account: \"twnosuchaccount9\"\n"),
        (["--local", "../etc"], b"twoway-passwd: invalid account name"),
        (["--delete", ".."], b"twoway-passwd: invalid account name"),
        (["--local", "root", "--ksf-ops", "0"], b"twoway-passwd: --ksf-ops must be 1..16"),
        ([], b"twoway-passwd: give [user@]host, --local USER or --delete USER"),
    ]:
        r = subprocess.run([PASSWD, "-f", w.conf] + args, capture_output=True, env=env(), timeout=60,
                           stdin=subprocess.DEVNULL)
        check(r.returncode == 1 and r.stderr.startswith(message), f"{args}: {r}")
    # Without a terminal there is nobody to ask: refused, nothing written.
    r = subprocess.run([PASSWD, "-f", w.conf, "--local", "root"] + SMALL, capture_output=True, env=env(),
                       timeout=60, stdin=subprocess.DEVNULL, start_new_session=True)
    check(r.returncode == 1 and b"a terminal is needed" in r.stderr, f"{r}")
    check(not os.path.exists(w.records), "a record directory was made without a password")
    # A configuration that names a relative path is refused as twowayd refuses it.
    with open(w.conf, "w") as f:
        f.write("OpaqueKey opaque_key\n")
    r = subprocess.run([PASSWD, "-f", w.conf, "--delete", "root"], capture_output=True, env=env(), timeout=60)
    check(r.returncode == 1 and b"OpaqueKey: must be an absolute path" in r.stderr, f"{r}")
    # An OPAQUE key that others may read is refused, never replaced.
    with open(w.conf, "w") as f:
        f.write(f"OpaqueKey {w.key}\nOpaqueRecords {w.records}\n")
    with open(w.key, "w") as f:
        f.write("not a key\n")
    os.chmod(w.key, 0o644)
    with Account(w.dir, prefix="tw") as acct:
        rc, out = run_pty(w, ["--local", acct.name] + SMALL, ["pw", "pw"])
        check(rc == 1 and f"twoway-passwd: {w.key}: permissions or owner are unsafe" in out, f"exit {rc}: {out}")
        check(read_bytes(w.key) == b"not a key\n", "the refused key file was replaced")
        check(not os.path.exists(w.record(acct.name)), "a record was written under a refused key")


if __name__ == "__main__":
    run_tests(globals())

#!/usr/bin/env python3
"""twoway's password login (issue 17), client side, against the real twowayd WITHOUT password mode (a
password-enabled twowayd is tested end to end elsewhere): a password that cannot be asked for (BatchMode,
no terminal, PasswordAuthentication no) fails at once, before connecting, with one line and 255; -G prints
the keywords; at a terminal the prompt is ssh's, a refused password is asked again up to
NumberOfPasswordPrompts times with ssh's lines, a denied key falls back to the password, and a failed
password login to an unknown host writes nothing to known_hosts."""

import os
import re
import subprocess
import time

from twoway_env import PtyProcess, World, check, keygen, public_key_line, run_tests, trust_host


def connections(w):
    return len(re.findall(r"Connection from 127\.0\.0\.1", w.daemon_log()))


def test_batch_mode_with_only_the_password_fails_at_once():
    with World("pw-batch") as w:
        trust_host(w)
        before = connections(w)
        start = time.monotonic()
        r = w.twoway("-o", "PreferredAuthentications=password", "-o", "BatchMode=yes", "-l", "alice",
                     "127.0.0.1", "true", timeout=20)
        took = time.monotonic() - start
        check(r.returncode == 255, f"{r}")
        check(r.stderr == b"twoway: no authentication method left for alice@127.0.0.1 (password: BatchMode is set)\n",
              f"{r.stderr!r}")
        check(took < 10, f"took {took:.1f}s")
        time.sleep(0.3)
        check(connections(w) == before, "the client connected although it could not log in")


def test_no_terminal_and_password_off_fail_at_once_too():
    with World("pw-noterm") as w:
        trust_host(w)
        # start_new_session: no controlling terminal, so no /dev/tty to ask on.
        r = w.twoway("-o", "PreferredAuthentications=password", "-l", "alice", "127.0.0.1", "true", timeout=20)
        check(r.returncode == 255, f"{r}")
        check(r.stderr == b"twoway: no authentication method left for alice@127.0.0.1 "
                          b"(password: no terminal to ask for it on)\n", f"{r.stderr!r}")
        r = w.twoway("-o", "PreferredAuthentications=password", "-o", "PasswordAuthentication=no", "-l", "alice",
                     "127.0.0.1", "true", timeout=20)
        check(r.returncode == 255 and r.stderr == b"twoway: no authentication method left for alice@127.0.0.1 "
              b"(password: PasswordAuthentication is no)\n", f"{r}")
        # No key either: both reasons, still one line.
        os.rename(w.user_key, w.user_key + ".away")
        r = w.twoway("-o", "BatchMode=yes", "-l", "alice", "127.0.0.1", "true", timeout=20)
        check(r.returncode == 255 and r.stderr == b"twoway: no authentication method left for alice@127.0.0.1 "
              b"(publickey: no identity key (tried " + w.user_key.encode() + b", " +
              os.path.join(w.home, ".ssh", "id_ed25519").encode() + b"); create one with twoway-keygen; "
              b"password: BatchMode is set)\n", f"{r}")
        # Only names twoway does not know.
        os.rename(w.user_key + ".away", w.user_key)
        r = w.twoway("-o", "PreferredAuthentications=hostbased", "-l", "alice", "127.0.0.1", "true", timeout=20)
        check(r.returncode == 255 and r.stderr == b"twoway: no authentication method left for alice@127.0.0.1 "
              b"(PreferredAuthentications names no method twoway knows)\n", f"{r}")
        # The key alone still logs in as before, without a word about the password.
        r = w.twoway("-o", "BatchMode=yes", "127.0.0.1", "true", timeout=20)
        check(r.returncode == 0 and r.stderr == b"", f"{r}")


def test_print_config():
    with World("pw-config", start=False) as w:
        w.port = 4422
        r = w.twoway("-G", "127.0.0.1")
        out = r.stdout.decode()
        for line in ("passwordauthentication yes", "preferredauthentications publickey,password",
                     "numberofpasswordprompts 3", "updatehostkeysbypassword no"):
            check(f"\n{line}\n" in out, f"{line!r} missing:\n{out}")
        r = w.twoway("-o", "PreferredAuthentications=password,foo,publickey", "-o", "PasswordAuthentication=no",
                     "-o", "NumberOfPasswordPrompts=1", "-o", "UpdateHostKeysByPassword=yes", "-G", "127.0.0.1")
        out = r.stdout.decode()
        for line in ("passwordauthentication no", "preferredauthentications password,publickey",
                     "numberofpasswordprompts 1", "updatehostkeysbypassword yes"):
            check(f"\n{line}\n" in out, f"{line!r} missing:\n{out}")


def pty_client(w, *args):
    argv = w.argv(*args)
    return PtyProcess(argv, w.client_env())


def test_prompt_and_retries_at_a_terminal():
    # twowayd without PasswordAuthentication answers every password login with its generic denial: to
    # the client, a wrong password.
    with World("pw-retry") as w:
        trust_host(w)
        p = pty_client(w, "-o", "PreferredAuthentications=password", "-o", "NumberOfPasswordPrompts=2",
                       "-l", "alice", "127.0.0.1", "true")
        try:
            p.expect(r"alice@127\.0\.0\.1's password: ")
            p.send("not the password\n")
            p.expect(r"Permission denied, please try again\.\r?\n")
            p.expect(r"alice@127\.0\.0\.1's password: ")
            p.send("still not\n")
            p.expect(r"alice@127\.0\.0\.1: Permission denied \(password\)\.\r?\n")
            check(p.wait() == 255, p.output())
            check("not the password" not in p.output(), "the password was echoed")
        finally:
            p.close()


def test_unknown_host_failed_password_writes_nothing():
    with World("pw-unknown") as w:
        if os.path.exists(w.known_hosts):
            os.remove(w.known_hosts)
        p = pty_client(w, "-o", "PreferredAuthentications=password", "-o", "NumberOfPasswordPrompts=1",
                       "-l", "alice", "127.0.0.1", "true")
        try:
            # No first-contact challenge: the prompt comes at once, the password is to prove the host.
            p.expect(r"alice@127\.0\.0\.1's password: ")
            p.send("guess\n")
            p.expect(r"alice@127\.0\.0\.1: Permission denied \(password\)\.\r?\n")
            check(p.wait() == 255, p.output())
            check("authenticity" not in p.output() and "challenge" not in p.output().lower(), p.output())
        finally:
            p.close()
        check(not os.path.exists(w.known_hosts) or open(w.known_hosts).read() == "",
              "known_hosts was written after a failed login")


def test_changed_key_is_refused_before_any_prompt():
    with World("pw-changed") as w:
        other = os.path.join(w.dir, "other_host_key")
        keygen(other, "other")
        with open(w.known_hosts, "w") as f:
            f.write(f"[127.0.0.1]:{w.port} {public_key_line(other + '.pub')}\n")
        p = pty_client(w, "-o", "PreferredAuthentications=password", "-l", "alice", "127.0.0.1", "true")
        try:
            p.expect(r"REMOTE HOST IDENTIFICATION HAS CHANGED")
            p.expect(r"Host key verification failed\.")
            check(p.wait() == 255, p.output())
            check("password: " not in p.output(), f"asked for the password:\n{p.output()}")
        finally:
            p.close()


def test_denied_key_falls_back_to_the_password():
    with World("pw-fallback") as w:
        trust_host(w)
        with open(w.authorized_keys, "w") as f:
            f.write("")  # the key is refused
        p = pty_client(w, "-v", "-o", "NumberOfPasswordPrompts=1", "-l", "root", "127.0.0.1", "true")
        try:
            p.expect(r"debug1: Next authentication method: password")
            p.expect(r"root@127\.0\.0\.1's password: ")
            p.send("x\n")
            p.expect(r"root@127\.0\.0\.1: Permission denied \(publickey,password\)\.\r?\n")
            check(p.wait() == 255, p.output())
            check("Permission denied (publickey).\r\n" not in p.output(), p.output())
        finally:
            p.close()


def test_password_first_then_the_key():
    with World("pw-order") as w:
        trust_host(w)
        p = pty_client(w, "-v", "-o", "PreferredAuthentications=password,publickey", "-o", "NumberOfPasswordPrompts=1",
                       "-l", "root", "127.0.0.1", "echo logged-in")
        try:
            p.expect(r"root@127\.0\.0\.1's password: ")
            p.send("x\n")
            p.expect(r"debug1: Next authentication method: publickey")
            p.expect(r"logged-in")
            check(p.wait() == 0, p.output())
        finally:
            p.close()


class PasswordServer:
    """tests/integration/password_server: a handshake-only server with alice's password record."""

    def __init__(self, password, seed):
        self.proc = subprocess.Popen([os.environ["TWOWAY_PASSWORD_SERVER"], "alice", password, str(seed)],
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.port = int(self.proc.stdout.readline().split()[1])
        self.host_key_line = self.proc.stdout.readline().split(" ", 1)[1].strip()

    def close(self):
        self.proc.kill()
        self.proc.wait(timeout=10)


def login(w, server, *options):
    p = PtyProcess(w.argv(*options, "-N", "-l", "alice", "127.0.0.1", port=server.port), w.client_env())
    try:
        p.expect(r"alice@127\.0\.0\.1's password: ")
        p.send("sesame\n")
        status = p.wait()
        return status, p.output()
    finally:
        p.close()


def test_first_contact_by_password_records_the_key():
    with World("pw-first", start=False) as w:
        server = PasswordServer("sesame", 7)
        try:
            label = f"[127.0.0.1]:{server.port}"
            status, out = login(w, server, "-o", "PreferredAuthentications=password")
            check(status == 0, out)
            check(re.search(r"twoway: the host key for \[127\.0\.0\.1\]:\d+ \(ED25519 SHA256:[A-Za-z0-9+/]+\) was "
                            r"proven by the password of alice and added to " + re.escape(w.known_hosts), out), out)
            check("authenticity" not in out, out)
            text = open(w.known_hosts).read()
            today = time.strftime("%Y-%m-%d", time.gmtime())
            check(text == f"{label} {server.host_key_line} proven by password for alice {today}\n", text)
            # Known now: the next login says nothing about the key and writes nothing.
            status, out = login(w, server, "-o", "PreferredAuthentications=password")
            check(status == 0 and "proven" not in out, out)
            check(open(w.known_hosts).read() == text, "known_hosts changed")
        finally:
            server.close()


def test_changed_key_replaced_only_with_update_host_keys_by_password():
    with World("pw-update", start=False) as w:
        server = PasswordServer("sesame", 9)
        try:
            label = f"[127.0.0.1]:{server.port}"
            other = os.path.join(w.dir, "old_key")
            keygen(other, "old")
            old_line = f"{label} {public_key_line(other + '.pub')}\n"
            with open(w.known_hosts, "w") as f:
                f.write("other.example " + public_key_line(other + ".pub") + "\n" + old_line)
            p = PtyProcess(w.argv("-o", "PreferredAuthentications=password", "-N", "-l", "alice", "127.0.0.1",
                                  port=server.port), w.client_env())
            try:
                p.expect(r"REMOTE HOST IDENTIFICATION HAS CHANGED")
                check(p.wait() == 255, p.output())
            finally:
                p.close()
            status, out = login(w, server, "-o", "PreferredAuthentications=password", "-o",
                                "UpdateHostKeysByPassword=yes")
            check(status == 0, out)
            check("UpdateHostKeysByPassword is set, so the password is to prove the new key." in out, out)
            check(re.search(r"was proven by the password of alice and replaces the old key in " +
                            re.escape(w.known_hosts), out), out)
            lines = open(w.known_hosts).read().splitlines()
            check(len(lines) == 2 and lines[0].startswith("other.example ") and
                  lines[1].startswith(f"{label} {server.host_key_line} proven by password for alice "), lines)
        finally:
            server.close()


if __name__ == "__main__":
    run_tests(globals())

#!/usr/bin/env python3
"""Host key rotation (ssh's UpdateHostKeys; PROTOCOL.md 15, docs/twowayd.md "Rotating a host key"): a
twowayd holding HostKey old and HostKey new announces both with their proofs; a client that knows only
old learns new into its known_hosts (said at -v as ssh's "Learned new hostkey"); the daemon restarted
with only new is then met under StrictHostKeyChecking yes without a warning or a prompt. And the
conditions: UpdateHostKeys no learns nothing; a host trusted only through the global file, or through a
UserKnownHostsFile the user set (ssh's default rule), learns nothing; a daemon with one key adds nothing.
UpdateHostKeys ask, driven through a real pseudo-terminal: the keys are listed and the question asked on
the terminal, "no" leaves known_hosts as it was, "yes" adds the key; with no terminal to ask on (none at
all, BatchMode, or a PTY session holding the terminal in raw mode) nothing is asked and nothing learned
(docs/CONFIG.md, UpdateHostKeys)."""

import os
import re
import subprocess
import time

from twoway_env import CLEAN_PATH, TWOWAYD, PtyProcess, World, check, fingerprint, keygen, public_key_line, run_tests


def read(path):
    with open(path) as f:
        return f.read()


def set_host_keys(w, *keys):
    """Rewrites twowayd.conf so that its HostKey lines are exactly `keys`, in order."""
    lines = [line for line in read(w.config).splitlines() if not line.startswith("HostKey ")]
    lines[1:1] = [f"HostKey {k}" for k in keys]
    with open(w.config, "w") as f:
        f.write("\n".join(lines) + "\n")


def restart_on_same_port(w):
    """Stops twowayd and starts it again on the port it had (known_hosts names [127.0.0.1]:port)."""
    port = w.port
    w.stop_daemon()
    listening = f"Server listening on 127.0.0.1 port {port}."
    before = w.daemon_log().count(listening)
    w.log = open(w.log_path, "ab")
    w.daemon = subprocess.Popen([TWOWAYD, "-D", "-e", "-f", w.config, "-p", str(port)],
                                stdin=subprocess.DEVNULL, stdout=w.log, stderr=subprocess.STDOUT,
                                env={"PATH": CLEAN_PATH, "LANG": "C"})
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if w.daemon_log().count(listening) > before:
            return
        if w.daemon.poll() is not None:
            raise AssertionError(f"twowayd exited with {w.daemon.returncode}:\n{w.daemon_log()}")
        time.sleep(0.05)
    raise AssertionError(f"twowayd did not listen again on {port}:\n{w.daemon_log()}")


def known_line(w, pub):
    return f"[127.0.0.1]:{w.port} {public_key_line(pub)}"


def rotation_world(name):
    """A World whose daemon holds the original key (old) first and a second one (new); the client knows
    only old. Returns (w, new_key_path)."""
    w = World(name, start=False)
    new = os.path.join(w.etc, "host_ed25519_key_new")
    keygen(new, "test-host-new")
    set_host_keys(w, w.host_key, new)
    w.start_daemon()
    with open(w.known_hosts, "w") as f:
        f.write(known_line(w, w.host_key + ".pub") + "\n")
    os.chmod(w.known_hosts, 0o600)
    return w, new


def test_the_client_learns_the_new_key_and_meets_the_rotated_daemon_without_a_warning():
    w, new = rotation_world("rotation")
    with w:
        w.wait_log(r"Host key " + re.escape(new) + r" \(ED25519 SHA256:\S+\) is announced to clients")
        old_line = known_line(w, w.host_key + ".pub")
        new_line = known_line(w, new + ".pub")
        r = w.twoway("-v", "127.0.0.1", "echo one", strict="yes")
        check(r.returncode == 0 and r.stdout == b"one\n", f"{r}")
        err = r.stderr.decode()
        check(f"Learned new hostkey: ED25519 {fingerprint(new + '.pub')}" in err, f"stderr:\n{err}")
        check("WARNING" not in err and "Permanently added" not in err, f"stderr:\n{err}")
        check(read(w.known_hosts) == old_line + "\n" + new_line + "\n", f"known_hosts:\n{read(w.known_hosts)}")
        # Again: nothing more to learn, nothing written.
        r = w.twoway("-v", "127.0.0.1", "echo two", strict="yes")
        check(r.returncode == 0 and r.stdout == b"two\n", f"{r}")
        check("Learned new hostkey" not in r.stderr.decode(), f"{r.stderr!r}")
        check(read(w.known_hosts) == old_line + "\n" + new_line + "\n", "known_hosts changed")
        # The operator retires old: the daemon holds only new. No warning, no prompt, strict checking.
        set_host_keys(w, new)
        restart_on_same_port(w)
        r = w.twoway("127.0.0.1", "echo three", strict="yes")
        check(r.returncode == 0 and r.stdout == b"three\n", f"{r}")
        check(r.stderr == b"", f"stderr {r.stderr!r}")


def test_without_update_the_rotated_daemon_is_a_changed_key():
    """The control: UpdateHostKeys no learns nothing, and the rotated daemon is refused as changed."""
    w, new = rotation_world("norotation")
    with w:
        before = read(w.known_hosts)
        r = w.twoway("-v", "-o", "UpdateHostKeys=no", "127.0.0.1", "echo one", strict="yes")
        check(r.returncode == 0 and r.stdout == b"one\n", f"{r}")
        check("Learned new hostkey" not in r.stderr.decode(), f"{r.stderr!r}")
        check(read(w.known_hosts) == before, "known_hosts changed with UpdateHostKeys no")
        set_host_keys(w, new)
        restart_on_same_port(w)
        r = w.twoway("127.0.0.1", "echo three", strict="yes")
        check(r.returncode == 255 and r.stdout == b"", f"{r}")
        check(b"REMOTE HOST IDENTIFICATION HAS CHANGED" in r.stderr, f"{r.stderr!r}")


def test_a_user_known_hosts_file_set_by_the_user_turns_it_off_by_default():
    """ssh's default: UpdateHostKeys is on unless UserKnownHostsFile was set; then explicit yes turns it on."""
    w, new = rotation_world("ukhf")
    with w:
        other = os.path.join(w.dot, "other_known_hosts")
        os.rename(w.known_hosts, other)
        before = read(other)
        r = w.twoway("-v", "-o", f"UserKnownHostsFile={other}", "127.0.0.1", "echo one", strict="yes")
        check(r.returncode == 0 and r.stdout == b"one\n", f"{r}")
        check(read(other) == before, "known_hosts changed although UserKnownHostsFile was set")
        r = w.twoway("-v", "-o", f"UserKnownHostsFile={other}", "-o", "UpdateHostKeys=yes", "127.0.0.1", "echo two",
                     strict="yes")
        check(r.returncode == 0 and r.stdout == b"two\n", f"{r}")
        check(read(other) == before + known_line(w, new + ".pub") + "\n", f"known_hosts:\n{read(other)}")


def test_a_host_trusted_through_another_file_learns_nothing():
    """Only the first user file is updated, and only for a host it trusts itself (not a later file, as
    ssh skips a host trusted through the global file)."""
    w, new = rotation_world("otherfile")
    with w:
        second = os.path.join(w.dot, "second_known_hosts")
        os.rename(w.known_hosts, second)
        open(w.known_hosts, "w").close()
        os.chmod(w.known_hosts, 0o600)
        files = f"{w.known_hosts} {second}"
        r = w.twoway("-v", "-o", f"UserKnownHostsFile={files}", "-o", "UpdateHostKeys=yes", "127.0.0.1", "echo one",
                     strict="yes")
        check(r.returncode == 0 and r.stdout == b"one\n", f"{r}")
        check("UpdateHostKeys skipped" in r.stderr.decode(), f"{r.stderr!r}")
        check(read(w.known_hosts) == "", f"first file written:\n{read(w.known_hosts)}")


def test_one_host_key_adds_nothing():
    with World("onekey") as w:
        line = known_line(w, w.host_key + ".pub") + "\n"
        with open(w.known_hosts, "w") as f:
            f.write(line)
        r = w.twoway("-v", "127.0.0.1", "echo one", strict="yes")
        check(r.returncode == 0 and r.stdout == b"one\n", f"{r}")
        check("Learned new hostkey" not in r.stderr.decode(), f"{r.stderr!r}")
        check(read(w.known_hosts) == line, "known_hosts changed")


ASK_PROMPT = "Accept updated hostkeys? (yes/no): "


def ask_at_terminal(w, new, answer):
    """twoway -o UpdateHostKeys=ask at a terminal: waits for the new key (the private key file `new`) to
    be listed and the question, answers, and returns the whole terminal output once `echo asked` has run
    and twoway has exited 0."""
    p = PtyProcess(w.argv("-o", "UpdateHostKeys=ask", "127.0.0.1", "echo asked", strict="yes"), w.client_env())
    try:
        p.expect(re.escape(f"Learned new hostkey: ED25519 {fingerprint(new + '.pub')}"))
        p.expect(re.escape(ASK_PROMPT))
        p.send(answer + "\r")
        p.expect(r"asked\r\n")
        rc = p.wait()
        check(rc == 0, f"exit status {rc}:\n{p.output()}")
        return p.output()
    finally:
        p.close()


def test_ask_at_a_terminal_no_leaves_known_hosts_and_yes_adds_the_key():
    w, new = rotation_world("ask")
    with w:
        w.wait_log(r"Host key " + re.escape(new) + r" \(ED25519 SHA256:\S+\) is announced to clients")
        before = read(w.known_hosts)
        out = ask_at_terminal(w, new, "no")
        check(f"Skipped updating known_hosts for [127.0.0.1]:{w.port}" in out, out)
        check(read(w.known_hosts) == before, f"known_hosts changed after 'no':\n{read(w.known_hosts)}")
        out = ask_at_terminal(w, new, "yes")
        check("Skipped updating" not in out, out)
        check(read(w.known_hosts) == before + known_line(w, new + ".pub") + "\n",
              f"known_hosts after 'yes':\n{read(w.known_hosts)}")
        # Nothing left to learn: no question.
        p = PtyProcess(w.argv("-o", "UpdateHostKeys=ask", "127.0.0.1", "echo again", strict="yes"), w.client_env())
        try:
            p.expect(r"again\r\n")
            check(p.wait() == 0, p.output())
            check(ASK_PROMPT not in p.output() and "Learned new hostkey" not in p.output(), p.output())
        finally:
            p.close()
        # The rotated daemon is now met without a warning.
        set_host_keys(w, new)
        restart_on_same_port(w)
        r = w.twoway("127.0.0.1", "echo rotated", strict="yes")
        check(r.returncode == 0 and r.stdout == b"rotated\n" and r.stderr == b"", f"{r}")


def test_ask_without_a_terminal_to_ask_on_learns_nothing():
    """docs/CONFIG.md: ask says which keys it would learn, and learns nothing without a terminal to ask
    on: none at all, BatchMode, or a PTY session holding the terminal in raw mode."""
    w, new = rotation_world("askbatch")
    with w:
        w.wait_log(r"Host key " + re.escape(new) + r" \(ED25519 SHA256:\S+\) is announced to clients")
        before = read(w.known_hosts)
        learned = f"Learned new hostkey: ED25519 {fingerprint(new + '.pub')}"
        # No controlling terminal at all (World.twoway starts a new session).
        r = w.twoway("-v", "-o", "UpdateHostKeys=ask", "127.0.0.1", "echo one", strict="yes")
        err = r.stderr.decode()
        check(r.returncode == 0 and r.stdout == b"one\n", f"{r}")
        check(learned in err and "no terminal to ask on" in err and ASK_PROMPT not in err, f"stderr:\n{err}")
        check(read(w.known_hosts) == before, "known_hosts changed without a terminal")
        # A terminal, but BatchMode: not asked.
        p = PtyProcess(w.argv("-v", "-o", "BatchMode=yes", "-o", "UpdateHostKeys=ask", "127.0.0.1", "echo two",
                              strict="yes"), w.client_env())
        try:
            p.expect(r"two\r\n")
            check(p.wait() == 0, p.output())
            out = p.output()
            check(learned in out and "no terminal to ask on" in out and ASK_PROMPT not in out, out)
        finally:
            p.close()
        check(read(w.known_hosts) == before, "known_hosts changed in BatchMode")
        # A PTY session (-t): the terminal is in raw mode for the session, so it is not asked on.
        p = PtyProcess(w.argv("-v", "-t", "-o", "UpdateHostKeys=ask", "127.0.0.1", "echo three", strict="yes"),
                       w.client_env(TERM="dumb"))
        try:
            p.expect(r"three\r\n")
            check(p.wait() == 0, p.output())
            out = p.output()
            check(learned in out and "no terminal to ask on" in out and ASK_PROMPT not in out, out)
        finally:
            p.close()
        check(read(w.known_hosts) == before, "known_hosts changed from a raw-mode session")


if __name__ == "__main__":
    run_tests(globals())

#!/usr/bin/env python3
"""Password mode end to end (issue 17): the real twowayd with PasswordAuthentication yes, a throwaway
account whose password the real twoway-passwd --local registers (typed on a pseudo-terminal), and the
real twoway typing it at its prompt on a pseudo-terminal:

- a known host: the password logs in and a command runs; the daemon logs sshd's "Accepted password";
- a wrong password and an account without a record (and one that does not exist) are refused with the
  same words, and none in less than half the time of a wrong password (the client runs Argon2id either
  way: the server's fake response looks like a real one); the server's timing is daemon_password.py's;
- first contact: with an empty known_hosts the password proves the host, the key is recorded with a
  comment that says so, and the next connection, by key under StrictHostKeyChecking=yes, asks nothing;
- a changed host key is refused even with the password, unless UpdateHostKeysByPassword=yes;
- the record file holds no form of the password.

The password registered for the timing check uses the default Argon2id parameters (those of the fake
response): with others, an unknown account would be told apart by its parameters (PROTOCOL.md 10.15)."""
import os
import re
import statistics
import time

from twoway_env import (Account, PtyProcess, World, check, keygen, needs_root, public_key_line, register_password,
                        run_tests, trust_host)

TWOWAY = os.environ.get("TWOWAY", "twoway")
PASSWORD = "correct horse battery staple"
ROUNDS = 5  # of each refusal, interleaved


def password_world(name, extra=""):
    w = World(name, start=False)
    extra_config = (f"PasswordAuthentication yes\nOpaqueKey {w.etc}/opaque_key\n"
                    f"OpaqueRecords {w.etc}/opaque\n{extra}")
    with open(w.config, "a") as f:
        f.write(extra_config)
    w.start_daemon()
    return w


def password_login(w, account, password, *options, command="echo in", prompts=1, host="127.0.0.1"):
    """twoway -o PreferredAuthentications=password on a PTY, typing `password` at each prompt; returns
    (exit status, output, seconds from the last password typed to the exit)."""
    argv = [TWOWAY, "-p", str(w.port), "-o", "PreferredAuthentications=password",
            "-o", f"NumberOfPasswordPrompts={prompts}", *options, "-l", account, host, command]
    p = PtyProcess(argv, w.client_env(TERM="dumb"))
    try:
        typed = None
        for _ in range(prompts):
            p.expect(re.escape(f"{account}@{host}'s password: "), timeout=60)
            p.send(password + "\r")
            typed = time.monotonic()
        rc = p.wait(timeout=120)
        return rc, p.output(), time.monotonic() - typed
    finally:
        p.close()


def without(text, *names):
    for n in names:
        text = text.replace(n, "NAME")
    return text


def test_login_refusals_and_timing():
    if needs_root():
        return
    with password_world("pw-login") as w, Account(w.dir, prefix="tpw") as acct, \
            Account(w.dir, prefix="tpn") as norecord:
        trust_host(w)
        register_password(w.config, acct.name, PASSWORD, small=False)
        rc, out, _ = password_login(w, acct.name, PASSWORD)
        check(rc == 0 and out.splitlines()[-1:] == ["in"],
              f"password login: exit {rc}: {out!r}\n{w.daemon_log()[-3000:]}")
        check(PASSWORD not in out, "the password was echoed")
        w.wait_log(re.escape(f"Accepted password for {acct.name} from 127.0.0.1 port "))

        wrong, unknown, invalid = [], [], []
        outs = {}
        for _ in range(ROUNDS):
            rc, out, t = password_login(w, acct.name, PASSWORD + "!")
            check(rc == 255, f"wrong password: exit {rc}: {out!r}")
            wrong.append(t)
            outs["wrong"] = without(out, acct.name)
            rc, out, t = password_login(w, norecord.name, PASSWORD)
            check(rc == 255, f"account without a record: exit {rc}: {out!r}")
            unknown.append(t)
            outs["unknown"] = without(out, norecord.name)
            rc, out, t = password_login(w, "nosuchuser-tw", PASSWORD)
            check(rc == 255, f"no such account: exit {rc}: {out!r}")
            invalid.append(t)
            outs["invalid"] = without(out, "nosuchuser-tw")
        check(outs["wrong"] == outs["unknown"] == outs["invalid"], f"the refusals differ: {outs!r}")
        # What the person sees: the client runs Argon2id whichever the case (the server's fake response
        # looks real), so none is refused much sooner. Only that is asserted here: these times are the
        # client's Argon2id (256 MiB), and the fastest of five moved by 15 % between kinds on a loaded
        # 2-core machine (a CI run). What the server's timing tells is daemon_password.py's
        # test_password_answers_take_the_same_time_for_every_account (300 rounds each, paired).
        mw, mu, mi = min(wrong), min(unknown), min(invalid)
        med = [statistics.median(x) * 1000 for x in (wrong, unknown, invalid)]
        print(f"refusal after the password, fastest of {ROUNDS} (median): wrong password {mw * 1000:.0f} ms "
              f"({med[0]:.0f}), account without a record {mu * 1000:.0f} ms ({med[1]:.0f}), no such account "
              f"{mi * 1000:.0f} ms ({med[2]:.0f})", flush=True)
        for name, m in (("account without a record", mu), ("no such account", mi)):
            check(m >= 0.5 * mw, f"{name} took {m:.3f} s, a wrong password {mw:.3f} s: refused before Argon2id?")
        w.wait_log(re.escape(f"Failed password for {acct.name} from 127.0.0.1 port "))
        w.wait_log(re.escape("Failed password for invalid user nosuchuser-tw from 127.0.0.1 port "))


def test_first_contact_by_password():
    if needs_root():
        return
    with password_world("pw-first") as w, Account(w.dir, prefix="tpf") as acct:
        register_password(w.config, acct.name, PASSWORD)
        check(not os.path.exists(w.known_hosts), "known_hosts exists before the first contact")
        rc, out, _ = password_login(w, acct.name, PASSWORD)
        check(rc == 0, f"first contact: exit {rc}: {out!r}\n{w.daemon_log()[-3000:]}")
        check(len(re.findall(r"proven by (?:the )?password", out)) == 1, f"one line saying so: {out!r}")
        with open(w.known_hosts) as f:
            lines = [l for l in f.read().splitlines() if l.strip()]
        key = public_key_line(w.host_key + ".pub").split()[1]
        check(len(lines) == 1 and key in lines[0] and f"proven by password for {acct.name}" in lines[0],
              f"known_hosts: {lines!r}")
        # The next connection, by key, asks nothing even under StrictHostKeyChecking=yes.
        r = w.twoway("-o", "BatchMode=yes", "-l", acct.name, "127.0.0.1", "echo by-key", strict="yes")
        check(r.returncode == 0 and r.stdout == b"by-key\n", f"by key after first contact: {r}")


def test_changed_key_needs_consent():
    if needs_root():
        return
    with password_world("pw-changed") as w, Account(w.dir, prefix="tpc") as acct:
        register_password(w.config, acct.name, PASSWORD)
        old = os.path.join(w.dir, "old_host_key")
        keygen(old, "old-host")
        with open(w.known_hosts, "w") as f:
            f.write(f"[127.0.0.1]:{w.port} {public_key_line(old + '.pub')}\n")
        argv = [TWOWAY, "-p", str(w.port), "-o", "PreferredAuthentications=password", "-l", acct.name,
                "127.0.0.1", "echo in"]
        p = PtyProcess(argv, w.client_env(TERM="dumb"))
        try:
            rc = p.wait(timeout=60)
            out = p.output()
        finally:
            p.close()
        check(rc == 255 and "password:" not in out, f"changed key without consent: exit {rc}: {out!r}")
        rc, out, _ = password_login(w, acct.name, PASSWORD, "-o", "UpdateHostKeysByPassword=yes")
        check(rc == 0, f"changed key with UpdateHostKeysByPassword=yes: exit {rc}: {out!r}")
        with open(w.known_hosts) as f:
            text = f.read()
        check(public_key_line(w.host_key + ".pub").split()[1] in text and
              public_key_line(old + ".pub").split()[1] not in text, f"known_hosts: {text!r}")


if __name__ == "__main__":
    run_tests(globals())

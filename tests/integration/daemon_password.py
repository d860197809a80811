#!/usr/bin/env python3
"""twowayd with PasswordAuthentication yes (issue 17): password logins against the real daemon.

Root is needed (throwaway accounts, root-owned records). A throwaway account gets a password registered
with the real twoway-passwd --local, typed on a pseudo-terminal (small --ksf-ops/--ksf-mem, documented
for tests); the OPAQUE key and the records live in the test's directory, named in its twowayd.conf. The
password client is handshake_loop --password (the sans-I/O ClientHandshake, since the twoway client
does not speak password mode here yet). Checked: the right password logs in and runs a command; a wrong
one is refused, and so is an unknown account, alike on the wire, with "Failed password for [invalid
user] U" in the log (lines the shipped fail2ban filter counts); root with the default PermitRootLogin,
DenyUsers and PasswordAuthentication no refuse; the record does not hold the password; an OPAQUE key
with bad permissions stops -t and a reload.
"""
import os
import re
import signal
import statistics
import subprocess
import sys
import time

from daemon_fail2ban import failregexes, matches
from passwd_local import forms_of
from twoway_env import CLEAN_PATH, TWOWAYD, Account, World, check, needs_root, register_password, run_tests

LOOP = sys.argv[1] if len(sys.argv) > 1 and not sys.argv[1].startswith("test_") else None
if LOOP:
    del sys.argv[1]

PASSWORD = "correct horse battery"


def login(w, name, password, command="echo in"):
    """handshake_loop --password: its output (accepted... or denied: ...)."""
    r = subprocess.run([LOOP, "--password", str(w.port), w.host_key + ".pub", name, command],
                       input=(password + "\n").encode(), capture_output=True, timeout=120,
                       env={"PATH": CLEAN_PATH})
    check(r.returncode == 0, f"handshake_loop --password: {r}")
    return r.stdout.decode()


def reload(w, config_text):
    with open(w.config, "w") as f:
        f.write(config_text)
    before = w.daemon_log().count("Received SIGHUP")
    w.daemon.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        log = w.daemon_log()
        if log.count("Received SIGHUP") > before and re.search(
                r"(Configuration reloaded\.|configuration not reloaded)", log.split("Received SIGHUP")[-1]):
            return log.split("Received SIGHUP")[-1]
        time.sleep(0.05)
    raise AssertionError(f"no reload:\n{w.daemon_log()}")


def counted_by_filter(line, user):
    for mode in ("normal", "ddos", "aggressive"):
        found = matches(failregexes(mode), line)
        check(len(found) == 1, f"mode {mode}: {line!r} matched {len(found)} failregexes")
        m = found[0][1]
        check(m.group("ip4") == "127.0.0.1" and m.group("user") == user, f"{line!r}: {m.groupdict()}")


class PasswordWorld:
    """A World with password mode on, and one throwaway account with a registered password."""

    def __enter__(self):
        self.w = World("pw", start=False)
        with open(self.w.config) as f:
            self.base = f.read()
        self.key = os.path.join(self.w.etc, "opaque_key")
        self.records = os.path.join(self.w.etc, "opaque")
        self.password_config = (f"PasswordAuthentication yes\nOpaqueKey {self.key}\nOpaqueRecords {self.records}\n")
        with open(self.w.config, "w") as f:
            f.write(self.base + self.password_config)
        self.w.start_daemon()
        self.acct = Account(self.w.dir, prefix="twp")
        register_password(self.w.config, self.acct.name, PASSWORD)
        return self

    def __exit__(self, *exc):
        self.acct.close()
        self.w.close()
        return False


def test_password_logins():
    if needs_root() or LOOP is None:
        return
    with PasswordWorld() as pw:
        w, name = pw.w, pw.acct.name
        check(stat_mode(pw.key) == 0o600, "the OPAQUE key the daemon created is not 0600")
        check(re.search(rf"OpaqueKey {re.escape(pw.key)}: created a new OPAQUE key", w.daemon_log()),
              "the key's creation was not logged")

        # The right password: in, and a command runs as the account.
        out = login(w, name, PASSWORD, "id -un")
        check(out == f"accepted\n{name}\nexit 0\n", f"right password: {out!r}\n{w.daemon_log()[-3000:]}")
        line = w.wait_log(rf"Accepted password for {name} from 127\.0\.0\.1 port \d+\n").group(0).strip()
        check(line.startswith("Accepted password for"), line)

        # A wrong password: the client finds it itself and stops; the daemon logs the guess.
        wrong = login(w, name, "correct horse battery!")
        check(wrong.startswith("denied: ") and "after-finish" not in wrong, f"wrong password: {wrong!r}")
        failed = w.wait_log(rf"Failed password for {name} from 127\.0\.0\.1 port \d+\n").group(0).strip()
        counted_by_filter(failed, name)

        # An unknown account: the same on the wire, "invalid user" in the log.
        unknown = login(w, "twpnosuchaccount", PASSWORD)
        check(unknown == wrong, f"unknown account {unknown!r} differs from a wrong password {wrong!r}")
        invalid = w.wait_log(r"Failed password for invalid user twpnosuchaccount from 127\.0\.0\.1 port \d+\n")
        counted_by_filter(invalid.group(0).strip(), "twpnosuchaccount")
        # A name no record can have: the same again (and escaped in the log).
        odd = login(w, "-x y", PASSWORD)
        check(odd == wrong, f"odd name {odd!r}")
        w.wait_log(r"Failed password for invalid user -x\\x20y from 127\.0\.0\.1 port \d+\n")
        check("Accepted password for twpnosuch" not in w.daemon_log(), "an unknown account got in")

        # The record holds no form of the password.
        with open(os.path.join(pw.records, name), "rb") as f:
            record = f.read()
        for form in forms_of(PASSWORD):
            check(form not in record, f"the record holds a form of the password: {form!r}")

        # Root: a registered password, the right one, and the default PermitRootLogin refuses.
        register_password(w.config, "root", "root password here")
        out = login(w, "root", "root password here")
        check(out.startswith("denied: ") and out.endswith("after-finish\n"), f"root: {out!r}")
        w.wait_log(r"ROOT LOGIN REFUSED FROM 127\.0\.0\.1 port \d+: PermitRootLogin prohibit-password \(password\)")
        w.wait_log(r"Failed password for root from 127\.0\.0\.1 port \d+\n")
        check("Accepted password for root" not in w.daemon_log(), "root got in")

        # DenyUsers: the right password, refused by the account policy.
        tail = reload(w, pw.base + pw.password_config + f"DenyUsers {name}\n")
        check("Configuration reloaded." in tail, tail)
        out = login(w, name, PASSWORD)
        check(out.startswith("denied: ") and out.endswith("after-finish\n"), f"DenyUsers: {out!r}")
        w.wait_log(rf"User {name} from 127\.0\.0\.1 not allowed because listed in DenyUsers")

        # A Match block turns password mode off for the account: the fake response, as for no record,
        # so the client learns nothing about the password (and the log says why).
        tail = reload(w, pw.base + pw.password_config + f"Match User {name}\n PasswordAuthentication no\n")
        check("Configuration reloaded." in tail, tail)
        before = w.daemon_log().count(f"Failed password for {name} from")
        out = login(w, name, PASSWORD)
        check(out == wrong, f"Match PasswordAuthentication no: {out!r}")
        w.wait_log(rf"PasswordAuthentication is no for {name} from 127\.0\.0\.1 port \d+: the fake response")
        deadline = time.monotonic() + 20
        while w.daemon_log().count(f"Failed password for {name} from") == before and time.monotonic() < deadline:
            time.sleep(0.05)
        check(w.daemon_log().count(f"Failed password for {name} from") == before + 1, w.daemon_log()[-2000:])
        # ... and a Match block turns it on where the global value is no.
        tail = reload(w, pw.base + f"OpaqueKey {pw.key}\nOpaqueRecords {pw.records}\nPasswordAuthentication no\n"
                      f"Match User {name}\n PasswordAuthentication yes\n")
        check("Configuration reloaded." in tail, tail)
        out = login(w, name, PASSWORD, "echo in")
        check(out == "accepted\nin\nexit 0\n", f"Match PasswordAuthentication yes: {out!r}")
        out = login(w, "root", "root password here")
        check(out == wrong, f"root outside the Match block: {out!r}")
        tail = reload(w, pw.base + pw.password_config + f"DenyUsers {name}\n")
        check("Configuration reloaded." in tail, tail)

        # A key file others may read: the reload is refused with one line, the old settings stay.
        os.chmod(pw.key, 0o644)
        tail = reload(w, pw.base + pw.password_config)
        check("configuration not reloaded" in tail and
              re.search(rf"OpaqueKey {re.escape(pw.key)}: permissions 0644 are too open", tail), tail)
        r = subprocess.run([TWOWAYD, "-t", "-f", w.config], capture_output=True, timeout=60, env={"PATH": CLEAN_PATH})
        check(r.returncode != 0 and f"OpaqueKey {pw.key}: permissions 0644".encode() in r.stderr, f"-t: {r}")
        os.chmod(pw.key, 0o600)
        r = subprocess.run([TWOWAYD, "-t", "-f", w.config], capture_output=True, timeout=60, env={"PATH": CLEAN_PATH})
        check(r.returncode == 0, f"-t with a good key: {r}")
        out = login(w, name, PASSWORD)  # still DenyUsers: the reload was refused
        check(out.startswith("denied: "), f"after the refused reload: {out!r}")

        # PasswordAuthentication no: refused before any record is looked at.
        tail = reload(w, pw.base + f"OpaqueKey {pw.key}\nOpaqueRecords {pw.records}\n")
        check("Configuration reloaded." in tail, tail)
        out = login(w, name, PASSWORD)
        check(out.startswith("denied: ") and "after-finish" not in out, f"PasswordAuthentication no: {out!r}")
        w.wait_log(r"Password login refused for 127\.0\.0\.1 port \d+: PasswordAuthentication is no")

        # And back on: in again.
        tail = reload(w, pw.base + pw.password_config)
        check("Configuration reloaded." in tail, tail)
        out = login(w, name, PASSWORD, "echo in")
        check(out == "accepted\nin\nexit 0\n", f"back on: {out!r}")


def test_per_user_lockout():
    """PerUserMaxPasswordFailures 2 60: two wrong passwords for one name lock its password logins (the
    right password too, refused at once without a guess), logged once; other names are not affected;
    a made-up name is counted alike."""
    if needs_root() or LOOP is None:
        return
    with PasswordWorld() as pw:
        w, name = pw.w, pw.acct.name
        tail = reload(w, pw.base + pw.password_config + "PerUserMaxPasswordFailures 2 60\n")
        check("Configuration reloaded." in tail, tail)
        wrong = login(w, name, "nope 1")
        check(wrong.startswith("denied: ") and "after-finish" not in wrong, wrong)
        w.wait_log(rf"Failed password for {name} from ")
        login(w, name, "nope 2")
        w.wait_log(rf"Password logins for {name} refused for up to 60s: 2 failed passwords within 60s "
                   r"\(PerUserMaxPasswordFailures\)")
        locked = login(w, name, PASSWORD)
        check(locked.startswith("denied: ") and "after-finish" not in locked, f"locked: {locked!r}")
        w.wait_log(rf"Password login for {name} from 127\.0\.0\.1 port \d+ refused: too many failed passwords")
        check(w.daemon_log().count(f"Password logins for {name} refused") == 1, "the lockout was logged more than once")
        check(f"Accepted password for {name}" not in w.daemon_log(), "a locked account got in")
        # A made-up name is counted and locked alike, so a lockout tells nothing about which accounts exist.
        for i in range(2):
            login(w, "twpnobody", f"guess {i}")
        w.wait_log(r"Password logins for twpnobody refused for up to 60s")
        # Other names go on; with the limit off (none), the locked name is let in at once.
        tail = reload(w, pw.base + pw.password_config + "PerUserMaxPasswordFailures none\n")
        check("Configuration reloaded." in tail, tail)
        out = login(w, name, PASSWORD, "echo in")
        check(out == "accepted\nin\nexit 0\n", f"limit off: {out!r}")


def test_missing_key_is_created_not_by_check():
    if needs_root():
        return
    w = World("pwt", start=False)
    try:
        key = os.path.join(w.etc, "opaque_key")
        with open(w.config, "a") as f:
            f.write(f"PasswordAuthentication yes\nOpaqueKey {key}\n")
        r = subprocess.run([TWOWAYD, "-t", "-f", w.config], capture_output=True, timeout=60, env={"PATH": CLEAN_PATH})
        check(r.returncode == 0 and b"does not exist yet" in r.stderr, f"-t: {r}")
        check(not os.path.exists(key), "-t created the OPAQUE key")
        with open(key, "w") as f:
            f.write("not a key\n")
        os.chmod(key, 0o600)
        r = subprocess.run([TWOWAYD, "-t", "-f", w.config], capture_output=True, timeout=60, env={"PATH": CLEAN_PATH})
        check(r.returncode != 0 and f"OpaqueKey {key}: cannot load the OPAQUE key".encode() in r.stderr, f"-t: {r}")
    finally:
        w.close()


FLIGHTS = int(os.environ.get("TWOWAY_PASSWORD_TIMING_TRIES", "300"))
PACE_US = 10000  # DenialPace::floor
# 1 % of the pace. The pace sets when every answer leaves, so what is left between names is the timer's
# wake-up: Linux lets a normal process's timer fire up to 50 us late (timer slack), and a clean-clone CI
# run (a build and another test beside it) saw a paired median of -35.8 us with the pace on. Unpaced,
# the leak was 92-118 us, and then the 10th percentiles (about 0.6 ms) fail the pace check anyway.
PAIRED_LIMIT_US = 100


def test_password_answers_take_the_same_time_for_every_account():
    """What an attacker can time without the password: client_password (KE1, naming the account) out,
    server_password (KE2, from the record or the fake one) back. An account with a record, one
    without, and a name no account has, FLIGHTS rounds each, interleaved (handshake_loop
    --password-timing). Every answer leaves at the denial pace after client_password (PROTOCOL.md
    10.16): without it, a name no account has was answered 92 us sooner than an existing account, in
    every round (twowayd looks an existing account up further: Match, its groups).

    Checked: every account's 10th percentile is at least 95 % of the pace, and the median over rounds of
    each round's difference from the account with a record is within 1 % of the pace (PAIRED_LIMIT_US). Medians of the times
    themselves are not compared: unpaced, a round here took ~95 us or ~210 us (whether the daemon and
    the client shared a core) and which of the two held the median flipped between runs under load,
    while the paired median stayed within 2 us."""
    if needs_root() or LOOP is None:
        return
    with PasswordWorld() as pw, Account(pw.w.dir, prefix="twn") as norecord:
        w = pw.w
        # Every round is a failed guess: without this, PerUserMaxPasswordFailures would refuse all three
        # names at once after 10 rounds (at the denial pace, the same for every name: nothing to compare).
        tail = reload(w, pw.base + pw.password_config + "PerUserMaxPasswordFailures none\n")
        check("Configuration reloaded." in tail, tail)
        names = [pw.acct.name, norecord.name, "twpnosuchtiming"]
        r = subprocess.run([LOOP, "--password-timing", str(w.port), w.host_key + ".pub", str(FLIGHTS), *names],
                           capture_output=True, text=True, timeout=120 + FLIGHTS * 0.2, env={"PATH": CLEAN_PATH})
        check(r.returncode == 0, f"handshake_loop --password-timing: {r.stderr.strip()}\n{w.daemon_log()[-2000:]}")
        rows = [[float(x) for x in line.split()] for line in r.stdout.splitlines()]
        check(len(rows) == FLIGHTS and all(len(row) == 3 for row in rows), f"{len(rows)} rounds of {FLIGHTS}")
        p10 = [sorted(col)[FLIGHTS // 10] for col in zip(*rows)]
        paired = [statistics.median(row[j] - row[0] for row in rows) for j in (1, 2)]
        print(f"password answer, {FLIGHTS} rounds, 10th percentile: with a record {p10[0]:.1f} us, without "
              f"{p10[1]:.1f} us, no such account {p10[2]:.1f} us; paired median difference: without a record "
              f"{paired[0]:+.1f} us, no such account {paired[1]:+.1f} us", flush=True)
        check("PerUserMaxPasswordFailures" not in tail + w.daemon_log().split("Configuration reloaded.")[-1],
              "a lockout refused some rounds")
        check(min(p10) >= 0.95 * PACE_US, f"answers left before the pace ({PACE_US} us): {p10}")
        for label, d in (("without a record", paired[0]), ("no such account", paired[1])):
            check(abs(d) <= PAIRED_LIMIT_US, f"an account {label}: {d:+.1f} us per round against one with a record")


def stat_mode(path):
    return os.stat(path).st_mode & 0o7777


if __name__ == "__main__":
    run_tests(globals())

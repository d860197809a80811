#!/usr/bin/env python3
"""Denial timing tells nothing about which accounts exist (issue 13; PROTOCOL.md 10.10): a key that is not
authorized for an existing account (root) and the same key for an unknown name, 1,000 tries each,
interleaved (handshake_loop --denials, which times each from our client_auth leaving to the denial
arriving). Their medians must be within 5% of each other, and at least twowayd's pace (10 ms): every
denial leaves at one deadline after the proof. Successful logins are not paced: 200 full handshakes
take less than 200 paces. A locked account (refused by the account checks, before its keys are read)
and an unknown name take the same time too.

    daemon_denial_timing.py [HANDSHAKE_LOOP] [test names...]
TWOWAY_DENIAL_TRIES changes the 1,000.
"""

import os
import statistics
import subprocess
import sys
import time

from twoway_env import Account, World, check, keygen, run_tests

HANDSHAKE_LOOP = os.environ.get("HANDSHAKE_LOOP", "handshake_loop")
if len(sys.argv) > 1 and os.path.sep in sys.argv[1]:
    HANDSHAKE_LOOP = sys.argv.pop(1)
TRIES = int(os.environ.get("TWOWAY_DENIAL_TRIES", "1000"))
PACE_MS = 10  # DenialPace::floor


def test_denials_for_existing_and_unknown_accounts_take_the_same_time():
    existing = __import__("pwd").getpwuid(os.geteuid()).pw_name
    unknown = "no-such-user-timing"
    with World("denial-timing", log_level="INFO") as w:
        stranger = os.path.join(w.dir, "stranger")
        keygen(stranger, "stranger")
        r = subprocess.run([HANDSHAKE_LOOP, "--denials", str(w.port), stranger, w.host_key + ".pub", existing, unknown,
                            str(TRIES)], capture_output=True, text=True, timeout=120 + TRIES * 0.2)
        check(r.returncode == 0, f"handshake_loop --denials: {r.stderr.strip()}")
        rows = [tuple(float(x) for x in line.split()) for line in r.stdout.splitlines()]
        check(len(rows) == TRIES, f"{len(rows)} rounds of {TRIES}")
        a = [x / 1000 for x, _ in rows]
        b = [y / 1000 for _, y in rows]
        ma, mb = statistics.median(a), statistics.median(b)
        q = lambda v, p: sorted(v)[int(p * (len(v) - 1))]  # noqa: E731
        diff = abs(ma - mb) / min(ma, mb) * 100
        print(f"{TRIES} denials each, interleaved: existing account ({existing}, key not authorized) median "
              f"{ma:.3f} ms (p10 {q(a, 0.1):.3f}, p90 {q(a, 0.9):.3f}); unknown name median {mb:.3f} ms "
              f"(p10 {q(b, 0.1):.3f}, p90 {q(b, 0.9):.3f}); difference {diff:.2f}%", flush=True)
        log = w.daemon_log()
        check(log.count(f"Failed publickey for {existing} from") == TRIES, "not every refused key was logged")
        check(log.count(f"Invalid user {unknown} from") == TRIES, "not every unknown name was logged")
        check(diff <= 5.0, f"the medians differ by {diff:.2f}% (existing {ma:.3f} ms, unknown {mb:.3f} ms)")
        # The client starts its clock when its write returns, a little after the daemon may have read it.
        check(min(ma, mb) >= 0.95 * PACE_MS, f"denials answered before the pace ({ma:.3f} / {mb:.3f} ms)")

        # Successful logins are not paced.
        r = subprocess.run([HANDSHAKE_LOOP, str(w.port), w.user_key, w.host_key + ".pub", existing, "200"],
                           capture_output=True, text=True, timeout=120)
        check(r.returncode == 0, f"handshake_loop: {r.stderr.strip()}")
        took = float(r.stdout.split()[2])
        print(f"200 successful handshakes in {took:.2f} s ({took / 200 * 1000:.2f} ms each, whole handshake)",
              flush=True)
        check(took < 200 * PACE_MS / 1000, f"200 successful handshakes took {took:.2f} s: paced like denials?")


def test_denials_for_a_locked_account_and_an_unknown_name_take_the_same_time():
    # The account checks (UsePAM no) refuse before the key is looked at: a locked account must not answer
    # sooner (or later) than a name with no account, or the timing would tell which accounts are locked.
    # The key is authorized (the World's authorized_keys serves every account): only the lock refuses it.
    if os.geteuid() != 0:
        print("SKIP: needs root (a throwaway account)")
        return
    unknown = "no-such-user-timing"
    with World("denial-locked", log_level="INFO") as w, Account(w.dir, password="!") as locked:
        r = subprocess.run([HANDSHAKE_LOOP, "--denials", str(w.port), w.user_key, w.host_key + ".pub", locked.name,
                            unknown, str(TRIES)], capture_output=True, text=True, timeout=120 + TRIES * 0.2)
        check(r.returncode == 0, f"handshake_loop --denials: {r.stderr.strip()}")
        rows = [tuple(float(x) for x in line.split()) for line in r.stdout.splitlines()]
        check(len(rows) == TRIES, f"{len(rows)} rounds of {TRIES}")
        ma = statistics.median(x / 1000 for x, _ in rows)
        mb = statistics.median(y / 1000 for _, y in rows)
        diff = abs(ma - mb) / min(ma, mb) * 100
        print(f"{TRIES} denials each, interleaved: locked account median {ma:.3f} ms; unknown name median "
              f"{mb:.3f} ms; difference {diff:.2f}%", flush=True)
        log = w.daemon_log()
        check(log.count(f"User {locked.name} from 127.0.0.1 not allowed because account is locked") == TRIES,
              "not every locked-account refusal was logged")
        check(f"Accepted publickey for {locked.name} " not in log, "the locked account was let in")
        check(diff <= 5.0, f"the medians differ by {diff:.2f}% (locked {ma:.3f} ms, unknown {mb:.3f} ms)")
        check(min(ma, mb) >= 0.95 * PACE_MS, f"denials answered before the pace ({ma:.3f} / {mb:.3f} ms)")


if __name__ == "__main__":
    run_tests(globals())

#!/usr/bin/env python3
"""The hostile-peer matrix (issue 5): starts the real twowayd with throwaway keys and short pre-auth
limits (tests/integration/twoway_env.World), trusts it in the client HOME's known_hosts, and runs the
C++ adversary (tests/adversary/adversary.cpp) against it and against the real twoway client. The
adversary prints the matrix (case | expected | observed | result) and exits non-zero if a case failed.

Set TWOWAY_ADVERSARY_MATRIX=path to also write the table there (the table in docs/SECURITY.md is made so, then pasted).
Arguments are passed on to the adversary (e.g. `--only daemon`).
"""

import os
import pwd
import subprocess
import sys
import tempfile
import time

from twoway_env import World, public_key_line, register_password

ADVERSARY = os.environ.get("TWOWAY_ADVERSARY", "adversary")
# The adversary's account gets this password (password mode's rows, issue 17), registered with the
# real twoway-passwd --local at the small Argon2id costs documented for tests.
PASSWORD = "adversary horse battery"

# Short limits so the slowloris cases finish quickly; MaxStartups well above what the sequential cases
# hold at once, so only the half-open case fills it. LoginGraceTime must still outlast the identity
# splicing rows, which hold session A open across two other rows and their "then served" logins: since
# sessions carry SSH_CLIENT, Debian's bash reads the account's ~/.bashrc for `twoway host true` (as it
# does under sshd), and root's here takes about a second, so 2 s timed A out.
GRACE = 5
PER_SOURCE = 3
STARTUPS = 20
CONFIG = (f"LoginGraceTime {GRACE}\n"
          f"PerSourceMaxStartups {PER_SOURCE}\n"
          f"MaxStartups {STARTUPS}\n")


def main():
    account = pwd.getpwuid(os.geteuid()).pw_name
    start = time.monotonic()
    # Password mode on, with its key and records in the World's directory; no per-name lockout (the
    # password rows fail on purpose a few hundred times); root by password only with PermitRootLogin yes.
    config = CONFIG + ("PasswordAuthentication yes\nPerUserMaxPasswordFailures none\n"
                       + ("PermitRootLogin yes\n" if os.geteuid() == 0 else ""))
    with World("adversary", start=False) as w, tempfile.TemporaryDirectory(prefix="twoway-adv-") as scratch:
        with open(w.config, "a") as f:
            f.write(config + f"OpaqueKey {os.path.join(w.etc, 'opaque_key')}\n"
                    f"OpaqueRecords {os.path.join(w.etc, 'opaque')}\n")
        w.start_daemon()
        password_args = ["--password", PASSWORD]
        try:
            register_password(w.config, account, PASSWORD)
        except Exception as e:  # noqa: BLE001 (as root it must work: fail; otherwise say so and go on)
            if os.geteuid() == 0:
                raise
            print(f"password rows skipped: cannot register a password for {account} without root: {e}")
            password_args = []
        with open(w.known_hosts, "w") as f:
            f.write(f"[127.0.0.1]:{w.port} {public_key_line(w.host_key + '.pub')}\n")
        argv = [ADVERSARY, "--port", str(w.port), "--account", account, "--twoway",
                os.environ.get("TWOWAY", "twoway"), "--home", w.home, "--scratch", scratch,
                "--host-key", w.host_key, "--user-key", w.user_key, "--log", w.log_path,
                "--grace", str(GRACE), "--per-source", str(PER_SOURCE),
                "--startups", str(STARTUPS)] + password_args + sys.argv[1:]
        try:
            r = subprocess.run(argv, capture_output=True, text=True, timeout=240)
        except subprocess.TimeoutExpired as e:
            print(e.stdout or "", e.stderr or "", sep="\n")
            print("FAIL: the adversary did not finish in 240 s")
            return 1
        sys.stdout.write(r.stdout)
        sys.stderr.write(r.stderr)
        alive = w.daemon.poll() is None
        out_path = os.environ.get("TWOWAY_ADVERSARY_MATRIX")
        if out_path:
            with open(out_path, "w") as f:
                f.write(r.stdout)
        w.stop_daemon()
        # A sanitizer build of twowayd reports into its log (stderr): any report fails the run.
        log = w.daemon_log()
        reports = [line for line in log.splitlines()
                   if "ERROR: AddressSanitizer" in line or "runtime error:" in line or "ERROR: LeakSanitizer" in line]
        print(f"adversary exit {r.returncode}; twowayd {'still running' if alive else 'DIED'} until stopped; "
              f"{len(reports)} sanitizer reports in its log; {time.monotonic() - start:.1f} s")
        if not alive or reports:
            print(log[-4000:])
            return 1
        return 0 if r.returncode == 0 else 1


if __name__ == "__main__":
    sys.exit(main())

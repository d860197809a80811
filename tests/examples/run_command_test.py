#!/usr/bin/env python3
"""examples/run_command against the real twowayd on 127.0.0.1 (tests/integration/twoway_env.py's World:
throwaway host and user keys, the daemon on a port it picks itself, commands run as the test's user).

The example links only libtwoway.so and includes only <twoway/...>: that it runs commands at all shows
the public session API (and its exports) is enough to do what `twoway host command` does.

The example comes from the environment: RUN_COMMAND (meson sets it, with TWOWAYD and TWOWAY_KEYGEN).
"""

import os
import re
import subprocess

from twoway_env import World, check, keygen, run_tests

RUN_COMMAND = os.environ["RUN_COMMAND"]


def run(w, *command, host_key=None, key=None):
    argv = [RUN_COMMAND, "--key", key or w.user_key, "--host-key", host_key or (w.host_key + ".pub"),
            "--port", str(w.port), "127.0.0.1", *command]
    env = {"PATH": "/usr/bin:/bin", "LANG": "C"}
    if "LD_LIBRARY_PATH" in os.environ:  # the consumer test's build loads the installed library
        env["LD_LIBRARY_PATH"] = os.environ["LD_LIBRARY_PATH"]
    return subprocess.run(argv, capture_output=True, timeout=60, stdin=subprocess.DEVNULL, env=env)


def accepted_count(w):
    return len(re.findall(r"Accepted publickey for ", w.daemon_log()))


def test_output_and_exit_status():
    with World("example-run") as w:
        r = run(w, "echo", "hello")
        check(r.returncode == 0, f"echo hello: exit {r.returncode}, stderr {r.stderr!r}")
        check(r.stdout == b"hello\n" and r.stderr == b"", f"echo hello: {r}")

        r = run(w, "exit 3")
        check(r.returncode == 3 and r.stdout == b"" and r.stderr == b"", f"exit 3: {r}")

        # Both streams, each to its own.
        r = run(w, "echo out; echo err >&2; exit 7")
        check(r.returncode == 7, f"exit {r.returncode}, stderr {r.stderr!r}")
        check(r.stdout == b"out\n" and r.stderr == b"err\n", f"streams: {r}")

        # More than one 2 MiB window: the server goes on only as the example reports output consumed.
        size = 5 * 1024 * 1024 + 3
        r = run(w, f"head -c {size} /dev/zero")
        check(r.returncode == 0, f"bulk: exit {r.returncode}, stderr {r.stderr!r}")
        check(len(r.stdout) == size and r.stdout.count(b"\0") == size, f"bulk: {len(r.stdout)} of {size} bytes")


def test_wrong_host_key_fails_before_authenticating():
    with World("example-hostkey") as w:
        other = os.path.join(w.dir, "other_host_key")
        keygen(other, "not-the-host")
        before = accepted_count(w)
        r = run(w, "echo", "hello", host_key=other + ".pub")
        check(r.returncode == 255, f"exit {r.returncode}: {r}")
        check(r.stdout == b"", f"stdout {r.stdout!r}")
        lines = r.stderr.decode(errors="replace").splitlines()
        check(len(lines) == 1 and "Host key verification failed" in lines[0], f"stderr {r.stderr!r}")
        # The client refuses the server before it proves (or names) its own key: never authenticated.
        check(accepted_count(w) == before, f"the daemon accepted the client:\n{w.daemon_log()}")
        # The right key still works on the same daemon.
        r = run(w, "true")
        check(r.returncode == 0 and accepted_count(w) == before + 1, f"{r}")


def test_unauthorized_key_is_denied():
    with World("example-denied") as w:
        stranger = os.path.join(w.dir, "stranger")
        keygen(stranger, "stranger")
        r = run(w, "echo", "hello", key=stranger)
        check(r.returncode == 255 and r.stdout == b"", f"{r}")
        check(r.stderr == b"run_command: Permission denied (publickey).\n", f"stderr {r.stderr!r}")


if __name__ == "__main__":
    run_tests(globals())

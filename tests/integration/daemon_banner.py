#!/usr/bin/env python3
"""Banner (sshd's; PROTOCOL.md 4.3): twowayd reads the file at start and on SIGHUP and sends it in
server_auth, signed by its host key; twoway prints it on stderr once the host key is accepted, escaped as
all server-supplied text (an escape sequence in the file arrives harmless), and not with -q nor for a
host it refuses. A missing file sends no banner and says so; Banner inside Match has no effect, and says
so."""

import os
import signal
import subprocess

from twoway_env import TWOWAYD, World, check, run_tests, trust_host

HOSTILE = b"Authorized use only.\r\n\x1b]0;pwned\x07\x1b[2J\x1b[31mred\xc2\x9b\n"
# The same, as twoway prints it in the C locale: the line breaks kept (the CR before one dropped), every
# control byte a visible escape, and every non-ASCII character too (U+009B, the C1 CSI, as \u009b).
SHOWN = b"Authorized use only.\n\\x1b]0;pwned\\x07\\x1b[2J\\x1b[31mred\\u009b\n"


def world(name, banner=HOSTILE, extra=""):
    w = World(name, start=False)
    path = os.path.join(w.etc, "banner")
    if banner is not None:
        with open(path, "wb") as f:
            f.write(banner)
    with open(w.config, "a") as f:
        f.write(f"Banner {path}\n{extra}")
    w.start_daemon()
    w.banner_path = path
    return w


def test_banner_shown_escaped_after_host_accepted():
    with world("banner") as w:
        trust_host(w)
        r = w.twoway("127.0.0.1", "echo", "ok", strict="yes")
        check(r.returncode == 0, f"exit {r.returncode}: {r.stderr!r}")
        check(r.stdout == b"ok\n", f"stdout {r.stdout!r}")
        check(SHOWN in r.stderr, f"banner not shown as expected: {r.stderr!r}")
        check(b"\x1b" not in r.stderr and b"\x07" not in r.stderr and b"\x9b" not in r.stderr,
              f"a raw control byte reached stderr: {r.stderr!r}")


def test_quiet_hides_banner():
    with world("banner-quiet") as w:
        trust_host(w)
        r = w.twoway("-q", "127.0.0.1", "echo", "ok", strict="yes")
        check(r.returncode == 0, f"exit {r.returncode}: {r.stderr!r}")
        check(b"Authorized use only" not in r.stderr, f"-q showed the banner: {r.stderr!r}")


def test_refused_host_shows_no_banner():
    with world("banner-refused") as w:
        # No known_hosts entry, StrictHostKeyChecking yes: the host is refused before anything is shown.
        r = w.twoway("127.0.0.1", "true", strict="yes")
        check(r.returncode == 255, f"exit {r.returncode}: {r.stderr!r}")
        check(b"Host key verification failed." in r.stderr, f"stderr {r.stderr!r}")
        check(b"Authorized use only" not in r.stderr, f"banner of a refused host shown: {r.stderr!r}")


def test_banner_reread_on_sighup():
    with world("banner-hup", banner=b"first banner\n") as w:
        trust_host(w)
        r = w.twoway("127.0.0.1", "true", strict="yes")
        check(b"first banner\n" in r.stderr, f"stderr {r.stderr!r}")
        with open(w.banner_path, "wb") as f:
            f.write(b"second banner\n")
        before = w.daemon_log().count("Received SIGHUP")
        w.daemon.send_signal(signal.SIGHUP)
        w.wait_log(r"(?s)" + r"Received SIGHUP.*" * (before + 1))
        r = w.twoway("127.0.0.1", "true", strict="yes")
        check(b"second banner\n" in r.stderr and b"first banner" not in r.stderr, f"stderr {r.stderr!r}")


def test_missing_banner_file_sends_none_and_says_why():
    with world("banner-missing", banner=None) as w:
        trust_host(w)
        w.wait_log(r"Banner .*banner: No such file or directory \(no banner is sent until this is fixed\)")
        r = w.twoway("127.0.0.1", "echo", "ok", strict="yes")
        check(r.returncode == 0 and r.stdout == b"ok\n", f"exit {r.returncode}: {r.stderr!r}")
        # -t fails on it, as on every file the daemon would run without.
        t = subprocess.run([TWOWAYD, "-t", "-f", w.config], capture_output=True, timeout=60)
        check(t.returncode != 0, f"twowayd -t passed with a missing Banner file: {t.stderr!r}")
        check(b"No such file or directory" in t.stderr, f"-t stderr {t.stderr!r}")


def test_oversized_banner_file_sends_none():
    with world("banner-large", banner=b"x" * 8193) as w:
        trust_host(w)
        w.wait_log(r"larger than 8192 bytes")
        r = w.twoway("127.0.0.1", "echo", "ok", strict="yes")
        check(r.returncode == 0 and b"xxxx" not in r.stderr, f"exit {r.returncode}: {r.stderr!r}")


def test_banner_inside_match_has_no_effect_and_says_so():
    with World("banner-match", start=False) as w:
        other = os.path.join(w.etc, "other")
        with open(other, "wb") as f:
            f.write(b"match banner\n")
        with open(w.config, "a") as f:
            f.write(f"Match User {os.environ.get('USER', 'root')},root\n    Banner {other}\n")
        w.start_daemon()
        trust_host(w)
        w.wait_log(r"Banner inside Match has no effect")
        r = w.twoway("127.0.0.1", "echo", "ok", strict="yes")
        check(r.returncode == 0 and b"match banner" not in r.stderr, f"exit {r.returncode}: {r.stderr!r}")


if __name__ == "__main__":
    run_tests(globals())

#!/usr/bin/env python3
"""The client config's files (issue 18): the real twoway reads Debian's stock /etc/ssh/ssh_config with
-F (Include of an empty ssh_config.d, Host *, SendEnv, HashKnownHosts, GSSAPIAuthentication) and prints
the result with -G; Include through glob(3) relative to ~/.twoway, with the main file's owner and
permission check; Match exec through /bin/sh, its tokens expanded, and -G after Match."""

import os
import subprocess
import tempfile

from twoway_env import CLEAN_PATH, TWOWAY, World, check, public_key_line, run_tests, trust_host

# Debian 12's /etc/ssh/ssh_config without its comments, for a machine whose own file differs.
DEBIAN_SSH_CONFIG = """
Include {confd}/*.conf

Host *
#   ForwardAgent no
    SendEnv LANG LC_*
    HashKnownHosts yes
    GSSAPIAuthentication yes
"""


def twoway(home, *args):
    env = {"PATH": CLEAN_PATH, "HOME": home, "LANG": "C"}
    return subprocess.run([TWOWAY, *args], env=env, capture_output=True, timeout=60)


def write(path, text, mode=0o644):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)


def check_debian_output(r, what):
    check(r.returncode == 0, f"{what}: {r}")
    lines = r.stdout.decode().splitlines()
    for want in ("host somehost", "hashknownhosts yes", "sendenv LANG", "sendenv LC_*"):
        check(want in lines, f"{what}: no {want!r} in {lines}")


def test_debian_stock_ssh_config():
    with tempfile.TemporaryDirectory() as home:
        # The machine's own file, when there is one (Debian's, on Debian 12).
        if os.path.exists("/etc/ssh/ssh_config"):
            r = twoway(home, "-F", "/etc/ssh/ssh_config", "-G", "somehost")
            check_debian_output(r, "/etc/ssh/ssh_config")
        # And Debian's text itself, with an empty ssh_config.d.
        confd = os.path.join(home, "ssh_config.d")
        os.makedirs(confd)
        write(os.path.join(home, "ssh_config"), DEBIAN_SSH_CONFIG.format(confd=confd))
        r = twoway(home, "-v", "-F", os.path.join(home, "ssh_config"), "-G", "somehost")
        check_debian_output(r, "Debian's text")
        check(b"matched no files" in r.stderr and b"GSSAPIAuthentication: ignored" in r.stderr, f"-v: {r.stderr}")


def test_include_and_match_exec():
    with tempfile.TemporaryDirectory() as home:
        marker = os.path.join(home, "ran")
        write(os.path.join(home, ".twoway", "config"),
              "Include conf.d/*.conf\n"
              "Host *\n"
              "  User fallback\n", 0o600)
        write(os.path.join(home, ".twoway", "conf.d", "10-match.conf"),
              f"Match originalhost target exec \"echo %h:%p:%n >> {marker}; test %n = target\"\n"
              "  Port 2222\n"
              "  User matched\n")
        write(os.path.join(home, ".twoway", "conf.d", "20-other.conf"), "Match !exec true\n  Port 1\n")
        r = twoway(home, "-G", "target")
        check(r.returncode == 0, f"{r}")
        lines = r.stdout.decode().splitlines()
        check("port 2222" in lines and "user matched" in lines, f"-G after Match: {lines}")
        with open(marker) as f:
            check(f.read() == "target:4422:target\n", "the exec command's tokens")
        # Another host: exec is not run (originalhost failed first), the Host * block applies.
        os.unlink(marker)
        r = twoway(home, "-G", "other")
        check(r.returncode == 0 and b"user fallback" in r.stdout and b"port 4422" in r.stdout, f"{r}")
        check(not os.path.exists(marker), "exec ran although an earlier criterion failed")

        # An included file others may write is refused as the main file is.
        os.chmod(os.path.join(home, ".twoway", "conf.d", "20-other.conf"), 0o666)
        r = twoway(home, "-G", "target")
        check(r.returncode == 255 and b"20-other.conf: Bad owner or permissions" in r.stderr, f"{r}")


def test_host_key_alias():
    """HostKeyAlias: known_hosts is consulted and written under the alias alone (no "[alias]:port")."""
    with World("hostkeyalias") as w:
        with open(w.known_hosts, "w") as f:
            f.write(f"cluster.alias {public_key_line(w.host_key + '.pub')}\n")
        r = w.twoway("127.0.0.1", "echo in", strict="yes")
        check(r.returncode == 255, f"without the alias the host is unknown: {r}")
        r = w.twoway("-o", "HostKeyAlias=cluster.alias", "127.0.0.1", "echo in", strict="yes")
        check(r.returncode == 0 and r.stdout == b"in\n", f"with the alias: {r}")
        # A new alias is recorded as such.
        r = w.twoway("-o", "HostKeyAlias=other.alias", "127.0.0.1", "true", strict="accept-new")
        check(r.returncode == 0, f"accept-new under an alias: {r}")
        with open(w.known_hosts) as f:
            lines = f.read().splitlines()
        check(len(lines) == 2 and lines[1].startswith("other.alias ssh-ed25519 "), f"recorded: {lines}")


def test_set_env():
    """SetEnv's variables reach the session as SendEnv's do (twowayd's default AcceptEnv LANG LC_*), and
    a name in both is sent with SetEnv's value."""
    with World("setenv") as w:
        trust_host(w)
        env = w.client_env(LC_BOTH="local")
        r = w.twoway("-o", "SetEnv=LC_ONE=1 \"LC_TWO=two words\" LC_BOTH=config", "-o", "SendEnv=LC_BOTH",
                     "127.0.0.1", "echo \"$LC_ONE|$LC_TWO|$LC_BOTH\"", env=env)
        check(r.returncode == 0 and r.stdout == b"1|two words|config\n", f"{r}")
        r = w.twoway("-G", "-o", "SetEnv=LC_ONE=1", "127.0.0.1")
        check(b"setenv LC_ONE=1\n" in r.stdout, f"-G: {r}")


def test_connection_attempts():
    """ConnectionAttempts: that many rounds over the addresses, a second apart, then the last error."""
    with World("attempts", start=False) as w:
        import socket
        with socket.socket() as s:  # a port nobody listens on: bound, never listening
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
            r = w.twoway("-v", "-o", "ConnectionAttempts=2", "127.0.0.1", "true", port=port)
        check(r.returncode == 255, f"{r}")
        check(r.stderr.count(b"Connecting to 127.0.0.1") == 2 and b"Trying again..." in r.stderr, f"{r.stderr}")


def test_log_level():
    """LogLevel maps onto -v/-q when neither is given; -v and -q win."""
    with tempfile.TemporaryDirectory() as home:
        write(os.path.join(home, ".twoway", "config"), "LogLevel DEBUG2\n", 0o600)
        r = twoway(home, "-G", "h")
        check(r.returncode == 0 and b"loglevel DEBUG2\n" in r.stdout, f"{r}")
        r = twoway(home, "-o", "ConnectTimeout=1", "-p", "1", "127.0.0.1", "true")
        check(b"debug2: " in r.stderr or b"debug1: " in r.stderr, f"LogLevel DEBUG2: {r.stderr}")
        r = twoway(home, "-q", "-o", "ConnectTimeout=1", "-p", "1", "127.0.0.1", "true")
        check(b"debug1: " not in r.stderr, f"-q wins: {r.stderr}")


if __name__ == "__main__":
    run_tests(globals())

#!/usr/bin/env python3
"""The shipped fail2ban filter (contrib/fail2ban/twowayd.conf) against twowayd's real log.

A real daemon (-D -e: its log on stderr, one message per line with no syslog prefix, which is what
fail2ban's prefregex leaves as <F-CONTENT>) sees an accepted login, a refused key, an unknown account, a
connection closed before authentication, a handshake with garbage, a stalled connection timing out and a
connection shed at PerSourceMaxStartups. The test reads the filter the way fail2ban does, without fail2ban
(adding a dependency for a test needs more reason than this): the file is parsed with configparser,
which resolves %(name)s as fail2ban does; the <mdre-<mode>> tag is resolved by hand; <HOST> becomes
fail2ban's own host regex (R_HOST in fail2ban/server/failregex.py, with IPAddr.IP_4_RE and IP_6_RE from
fail2ban/server/ipdns.py) and <F-USER>...</F-USER> the named group fail2ban makes of it. Each failregex
must match the line it is written for, extract 127.0.0.1 (and the user), and no other line.
"""

import configparser
import os
import re
import socket
import time

from twoway_env import World, check, keygen, public_key_line, run_tests

FILTER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "contrib", "fail2ban", "twowayd.conf")

# fail2ban's <HOST>: an IPv4 address (optionally IPv4-mapped), an IPv6 address, either in optional
# brackets, or a DNS name.
IP_4_RE = r"(?:\d{1,3}\.){3}\d{1,3}"
IP_6_RE = r"(?:[0-9a-fA-F]{1,4}::?|::){1,7}(?:[0-9a-fA-F]{1,4}|(?<=:):)"
HOST_RE = r"(?:\[?(?:(?:::f{4,6}:)?(?P<ip4>%s)|(?P<ip6>%s))\]?|(?P<dns>[\w\-.^_]*\w))" % (IP_4_RE, IP_6_RE)


def failregexes(mode):
    """[(source line, compiled regex)] for the filter in the given mode."""
    cp = configparser.ConfigParser(interpolation=configparser.BasicInterpolation())
    cp.optionxform = str
    with open(FILTER) as f:
        cp.read_file(f)
    d = cp["Definition"]
    text = d.get("failregex").replace("<mode>", mode)
    text = re.sub(r"<(mdre-[a-z]+)>", lambda m: d.get(m.group(1)), text)
    out = []
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        rx = line.replace("<HOST>", HOST_RE).replace("<F-USER>", "(?P<user>").replace("</F-USER>", ")")
        check("<" not in rx.replace("(?P<", "").replace("(?<=", "").replace("(?<!", ""),
              f"an unresolved tag is left in {line!r}")
        out.append((line, re.compile(rx)))
    return out


def matches(regexes, line):
    return [(src, m) for src, rx in regexes for m in [rx.search(line)] if m]


def one_line(log, pattern):
    found = [l for l in log.splitlines() if re.search(pattern, l)]
    check(len(found) == 1, f"expected one log line matching {pattern!r}, found {found}\n{log}")
    return found[0]


def produce_log():
    extra = "LoginGraceTime 2\nPerSourceMaxStartups 3\n"
    with World("f2b", extra_config=extra) as w:
        with open(w.known_hosts, "w") as f:
            f.write(f"[127.0.0.1]:{w.port} {public_key_line(w.host_key + '.pub')}\n")
        # Accepted.
        r = w.twoway("127.0.0.1", "true")
        check(r.returncode == 0, f"login failed: {r}")
        # Failed: a key the account does not list.
        stranger = os.path.join(w.dir, "stranger")
        keygen(stranger, "stranger")
        r = w.twoway("-i", stranger, "127.0.0.1", "true")
        check(r.returncode == 255 and b"Permission denied (publickey)." in r.stderr, f"stranger: {r}")
        # Invalid user.
        r = w.twoway("-l", "nosuchuser-f2b", "127.0.0.1", "true")
        check(r.returncode == 255 and b"Permission denied (publickey)." in r.stderr, f"invalid user: {r}")
        # Closed before authentication, and garbage instead of a handshake.
        s = socket.create_connection(("127.0.0.1", w.port), timeout=10)
        closed_port = s.getsockname()[1]
        s.close()
        w.wait_log(rf"Connection closed by 127\.0\.0\.1 port {closed_port} \[preauth\]")
        s = socket.create_connection(("127.0.0.1", w.port), timeout=10)
        garbage_port = s.getsockname()[1]
        s.sendall(b"SSH-2.0-OpenSSH_9.2\r\n" + b"\x00" * 64)
        w.wait_log(rf"Handshake failed with 127\.0\.0\.1 port {garbage_port}: ")
        s.close()
        # Stalled connections: the fourth from one address is over PerSourceMaxStartups and sheds the
        # first (the drop line names the shed one), and the others time out after LoginGraceTime.
        stalled = [socket.create_connection(("127.0.0.1", w.port), timeout=10) for _ in range(3)]
        time.sleep(0.3)
        extra_conn = socket.create_connection(("127.0.0.1", w.port), timeout=10)
        dropped_port = stalled[0].getsockname()[1]
        w.wait_log(rf"drop connection #\d+ from \[127\.0\.0\.1\]:{dropped_port} on \[127\.0\.0\.1\]:{w.port} "
                   r"past PerSourceMaxStartups")
        timed_port = stalled[1].getsockname()[1]
        w.wait_log(rf"Timeout before authentication for 127\.0\.0\.1 port {timed_port}", timeout=10)
        for s in stalled + [extra_conn]:
            s.close()
        return w.daemon_log(), w.user_fingerprint(), closed_port, garbage_port, dropped_port, timed_port


LOG = None


def log():
    global LOG
    if LOG is None:
        LOG = produce_log()
    return LOG


def expect_match(mode, line, regex_start, user=None):
    found = matches(failregexes(mode), line)
    check(len(found) == 1, f"mode {mode}: {line!r} matched {len(found)} regexes: {[s for s, _ in found]}")
    src, m = found[0]
    check(src.startswith(regex_start), f"mode {mode}: {line!r} matched {src!r}, expected {regex_start!r}...")
    check(m.group("ip4") == "127.0.0.1", f"extracted host {m.groupdict()} from {line!r}")
    if user is not None:
        check(m.group("user") == user, f"extracted user {m.group('user')!r} from {line!r}")


def expect_no_match(mode, line):
    found = matches(failregexes(mode), line)
    check(not found, f"mode {mode}: {line!r} must not count as a failure, matched {[s for s, _ in found]}")


def test_failed_publickey_counts_in_every_mode():
    text, fp, *_ = log()
    line = one_line(text, r"^Failed publickey for root from 127\.0\.0\.1 port \d+: ED25519 SHA256:")
    check(fp not in line, "the refused line shows the stranger's key, not the authorized one")
    for mode in ("normal", "ddos", "aggressive"):
        expect_match(mode, line, "^Failed publickey", user="root")


def test_invalid_user_counts_once():
    text, *_ = log()
    line = one_line(text, r"^Invalid user nosuchuser-f2b from 127\.0\.0\.1 port \d+$")
    for mode in ("normal", "ddos", "aggressive"):
        expect_match(mode, line, "^Invalid user", user="nosuchuser-f2b")
    # The World logs at VERBOSE: the key of the invalid user is logged too, and must not count again.
    verbose = one_line(text, r"^Failed publickey for invalid user nosuchuser-f2b from 127\.0\.0\.1 port")
    for mode in ("normal", "ddos", "aggressive"):
        expect_no_match(mode, verbose)


def test_preauth_close_counts_only_when_aggressive():
    text, _, closed_port, *_ = log()
    line = one_line(text, rf"^Connection closed by 127\.0\.0\.1 port {closed_port} \[preauth\]$")
    expect_no_match("normal", line)
    expect_no_match("ddos", line)
    expect_match("aggressive", line, "^Connection closed by")


def test_ddos_lines():
    text, _, _, garbage_port, dropped_port, timed_port = log()
    timeout = one_line(text, rf"^Timeout before authentication for 127\.0\.0\.1 port {timed_port}$")
    garbage = one_line(text, rf"^Handshake failed with 127\.0\.0\.1 port {garbage_port}: .* \[preauth\]$")
    dropped = one_line(text, rf"^drop connection #\d+ from \[127\.0\.0\.1\]:{dropped_port} on ")
    for line, start in ((timeout, "^Timeout before"), (garbage, "^Handshake failed"), (dropped, "^drop connection")):
        expect_no_match("normal", line)
        expect_match("ddos", line, start)
        expect_match("aggressive", line, start)


def test_successful_sessions_never_count():
    text, *_ = log()
    ok = [l for l in text.splitlines()
          if re.match(r"^(Accepted publickey|Starting session|Disconnected from user|Server listening|Host key)", l)]
    check(len(ok) >= 5, f"expected the accepted session's lines: {ok}")
    for line in ok:
        for mode in ("normal", "ddos", "aggressive"):
            expect_no_match(mode, line)


def test_forged_names_cannot_plant_another_address():
    # The daemon escapes spaces in client-chosen names (unit-tested in [daemon]); the filter's anchors
    # are the second line of defence: an unescaped forged name would still yield the real address.
    for mode in ("normal", "aggressive"):
        forged = "Invalid user x from 10.9.9.9 port 1 from 127.0.0.1 port 40000"
        check(not matches(failregexes(mode), forged), f"{mode}: a name with spaces matched: {forged!r}")
        escaped = "Invalid user x\\x20from\\x2010.9.9.9\\x20port\\x201 from 127.0.0.1 port 40000"
        expect_match(mode, escaped, "^Invalid user", user="x\\x20from\\x2010.9.9.9\\x20port\\x201")


def test_shell_not_allowed_line():
    # The one refusal this test cannot provoke without creating an account (a login shell that is not
    # executable); the line is built exactly as daemon/connection.cpp writes it.
    line = "User alice from 127.0.0.1 not allowed because shell /bin/nonexistent is not executable"
    expect_match("normal", line, "^User ", user="alice")
    # The account checks' other refusals (integration-daemon_accounts provokes them) count the same way.
    for reason in ("account is locked", "account has expired", "shell /x/sh is not in /etc/shells",
                   "shell /x/sh does not exist", "/etc/nologin exists"):
        expect_match("normal", f"User alice from 127.0.0.1 not allowed because {reason}", "^User ", user="alice")


def test_failed_password_lines():
    # PasswordAuthentication yes (integration-daemon_password provokes the real lines and checks them
    # against this filter too); built here exactly as daemon/connection.cpp writes them.
    for mode in ("normal", "ddos", "aggressive"):
        expect_match(mode, "Failed password for alice from 127.0.0.1 port 40000", "^Failed password", user="alice")
        expect_match(mode, "Failed password for invalid user bob from 127.0.0.1 port 40000", "^Failed password",
                     user="bob")
        # A forged name cannot plant another address: names are escaped, and the regex is anchored.
        expect_match(mode, "Failed password for invalid user x\\x20from\\x2010.9.9.9 from 127.0.0.1 port 1",
                     "^Failed password", user="x\\x20from\\x2010.9.9.9")
        check(not matches(failregexes(mode), "Failed password for x from 10.9.9.9 port 1 from 127.0.0.1 port 2"),
              "a name with spaces matched")
        # A successful password login never counts.
        expect_no_match(mode, "Accepted password for alice from 127.0.0.1 port 40000")


def test_failed_account_lookup_never_counts():
    # A lookup that failed (no descriptor, NSS down) says nothing about the client: it must not count
    # in any mode (integration-daemon_descriptors provokes the real line; it is built here as
    # daemon/connection.cpp writes it, after the "error: " prefix that syslog does not show).
    line = "Cannot check user alice from 127.0.0.1 port 40000: account lookup failed: Too many open files"
    for mode in ("normal", "ddos", "aggressive"):
        expect_no_match(mode, line)


if __name__ == "__main__":
    run_tests(globals())

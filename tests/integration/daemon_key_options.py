#!/usr/bin/env python3
"""authorized_keys options on a real session (sshd(8) AUTHORIZED_KEYS FILE FORMAT): from= and
expiry-time= refusing the key with the generic denial and one log line naming path:line; command=
running instead of the request, the original in TWOWAY_ORIGINAL_COMMAND; no-pty; restrict and
no-port-forwarding refusing services; permit-service= limiting them; an unknown option making just its
line unusable."""

import re

from services import EchoServer
from twoway_env import World, check, public_key_line, run_tests

DENIED = b"Permission denied (publickey).\n"


def trusted_world(name, options, **kw):
    """A World whose authorized_keys holds the user key behind options (None: text is given whole)."""
    w = World(name, **kw)
    with open(w.known_hosts, "w") as f:
        f.write(f"[127.0.0.1]:{w.port} {public_key_line(w.host_key + '.pub')}\n")
    if options is not None:
        write_keys(w, options)
    return w


def write_keys(w, *options):
    """authorized_keys: one line per options field ("" for none), each with the user key."""
    key = public_key_line(w.user_key + ".pub")
    with open(w.authorized_keys, "w") as f:
        for o in options:
            f.write((o + " " if o else "") + key + "\n")


def test_from_mismatch_refused_and_match_allowed():
    with trusted_world("from", 'from="10.0.0.0/8"') as w:
        r = w.twoway("127.0.0.1", "echo ran")
        check(r.returncode == 255 and r.stderr == DENIED and r.stdout == b"", f"from= mismatch: {r}")
        w.wait_log(rf"Key refused by authorized_keys options for root from 127\.0\.0\.1 port \d+: "
                   rf"{re.escape(w.authorized_keys)}:1: from= mismatch: 127\.0\.0\.1 is not in \"10\.0\.0\.0/8\"")
        w.wait_log(r"Failed publickey for root from 127\.0\.0\.1 port \d+")
        write_keys(w, 'from="127.0.0.1"')
        r = w.twoway("127.0.0.1", "echo ran")
        check(r.returncode == 0 and r.stdout == b"ran\n", f"from= match: {r}")
        # A malformed list fails closed.
        write_keys(w, 'from="127.0.0.1/99"')
        r = w.twoway("127.0.0.1", "echo ran")
        check(r.returncode == 255 and r.stderr == DENIED, f"bad from= list: {r}")
        w.wait_log(rf"{re.escape(w.authorized_keys)}:1: from= list cannot be read")


def test_expiry_time_past_refused_future_allowed():
    with trusted_world("expiry", 'expiry-time="20200101"') as w:
        r = w.twoway("127.0.0.1", "echo ran")
        check(r.returncode == 255 and r.stderr == DENIED, f"expired: {r}")
        w.wait_log(rf"{re.escape(w.authorized_keys)}:1: expiry-time passed \(2020-01-01 00:00:00\)")
        write_keys(w, 'expiry-time="20991231235959Z"')
        r = w.twoway("127.0.0.1", "echo ran")
        check(r.returncode == 0 and r.stdout == b"ran\n", f"not yet expired: {r}")


def test_refusing_line_does_not_end_the_search():
    # As sshd: a line whose options refuse is passed over; a later line with the key decides.
    with trusted_world("search", None) as w:
        write_keys(w, 'from="10.0.0.0/8",command="echo first"', 'command="echo second"')
        r = w.twoway("127.0.0.1", "echo asked")
        check(r.returncode == 0 and r.stdout == b"second\n", f"second line: {r}")
        w.wait_log(rf"{re.escape(w.authorized_keys)}:1: from= mismatch")
        w.wait_log(rf"Forced command from {re.escape(w.authorized_keys)}:2 ")


def test_forced_command_and_original_command():
    cmd = r'command="echo \"forced [${TWOWAY_ORIGINAL_COMMAND-unset}]\""'
    with trusted_world("command", cmd) as w:
        r = w.twoway("127.0.0.1", "echo asked; touch /nonexistent/should-not-run")
        check(r.returncode == 0, f"{r}")
        check(r.stdout == b"forced [echo asked; touch /nonexistent/should-not-run]\n", f"exec: {r.stdout!r}")
        # A shell request asked for no command: the variable is unset, and the forced command still runs.
        r = w.twoway("127.0.0.1", input=b"echo typed\n")
        check(r.returncode == 0 and r.stdout == b"forced [unset]\n", f"shell: {r}")
        w.wait_log(rf"Forced command from {re.escape(w.authorized_keys)}:1 for root")


def test_no_pty_runs_without_one():
    with trusted_world("nopty", "") as w:
        r = w.twoway("-tt", "127.0.0.1", "tty")
        check(r.returncode == 0 and r.stdout.startswith(b"/dev/pts/"), f"PTY without options: {r}")
        for options in ("no-pty", "restrict", "pty,restrict"):
            write_keys(w, options)
            r = w.twoway("-tt", "127.0.0.1", "tty")
            check(r.stdout.startswith(b"not a tty"), f"{options}: {r}")
            w.wait_log(rf"PTY not permitted by {re.escape(w.authorized_keys)}:1 for root")
        # restrict, then pty: permitted again.
        write_keys(w, "restrict,pty")
        r = w.twoway("-tt", "127.0.0.1", "tty")
        check(r.returncode == 0 and r.stdout.startswith(b"/dev/pts/"), f"restrict,pty: {r}")


def test_restrict_and_no_port_forwarding_refuse_services():
    with EchoServer() as echo, trusted_world("restrict", "restrict", services={"echo": echo.port}) as w:
        for options in ("restrict", "no-port-forwarding", "restrict,pty,command=\"true\""):
            write_keys(w, options)
            r = w.twoway("-W", "echo", "127.0.0.1", input=b"hello")
            check(r.returncode == 255 and b"administratively prohibited" in r.stderr and r.stdout == b"",
                  f"{options}: {r}")
            w.wait_log(rf"Refused request for service echo from user root 127\.0\.0\.1 port \d+: services are not "
                       rf"permitted by {re.escape(w.authorized_keys)}:1")
        check(echo.connections == 0, f"the service was reached {echo.connections} times")
        # restrict, then port-forwarding: services again (and still no PTY).
        write_keys(w, "restrict,port-forwarding")
        r = w.twoway("-W", "echo", "127.0.0.1", input=b"hello")
        check(r.returncode == 0 and r.stdout == b"hello", f"restrict,port-forwarding: {r}")


def test_permit_service_limits_services():
    with EchoServer() as echo, trusted_world("permit", 'permit-service="echo"',
                                             services={"echo": echo.port, "other": echo.port}) as w:
        r = w.twoway("-W", "echo", "127.0.0.1", input=b"hello")
        check(r.returncode == 0 and r.stdout == b"hello", f"permitted service: {r}")
        r = w.twoway("-W", "other", "127.0.0.1", input=b"hello")
        check(r.returncode == 255 and b"administratively prohibited" in r.stderr, f"other service: {r}")
        w.wait_log(rf"Refused request for service other from user root 127\.0\.0\.1 port \d+: service not in "
                   rf"permit-service= by {re.escape(w.authorized_keys)}:1")
        # Commands are not services: they still run.
        r = w.twoway("127.0.0.1", "echo ran")
        check(r.returncode == 0 and r.stdout == b"ran\n", f"command: {r}")


def test_unknown_option_makes_only_its_line_unusable():
    with trusted_world("unknown", "frobnicate") as w:
        r = w.twoway("127.0.0.1", "echo ran")
        check(r.returncode == 255 and r.stderr == DENIED, f"only an unusable line: {r}")
        w.wait_log(rf"{re.escape(w.authorized_keys)}:1: bad options: unknown option \"frobnicate\"")
        write_keys(w, "frobnicate", "verify-required", "no-pty")
        r = w.twoway("127.0.0.1", "echo ran")
        check(r.returncode == 0 and r.stdout == b"ran\n", f"the usable third line: {r}")
        w.wait_log(rf"{re.escape(w.authorized_keys)}:2: bad options: verify-required cannot be honoured")


def test_environment_is_ignored_with_a_log_line():
    with trusted_world("env", 'environment="FROM_KEY=yes"') as w:
        r = w.twoway("127.0.0.1", "echo \"[${FROM_KEY-unset}]\"")
        check(r.returncode == 0 and r.stdout == b"[unset]\n", f"{r}")
        w.wait_log(rf"{re.escape(w.authorized_keys)}:1: environment= ignored \(PermitUserEnvironment is no\)")


if __name__ == "__main__":
    run_tests(globals())

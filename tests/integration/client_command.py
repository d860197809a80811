#!/usr/bin/env python3
"""twoway running commands against the real twowayd: output, stderr and exit status come back; the
command line is parsed as ssh parses it; failures of twoway itself exit 255 with one line on stderr."""

import os
import re
import socket
import subprocess
import threading
import time

from twoway_env import TWOWAY, World, check, fingerprint, keygen, run_tests, trusted_world


def test_output_stderr_and_exit_status():
    with trusted_world("status") as w:
        r = w.twoway("127.0.0.1", "echo out; echo err >&2; exit 3")
        check(r.returncode == 3, f"exit status {r.returncode}, stderr {r.stderr!r}")
        check(r.stdout == b"out\n", f"stdout {r.stdout!r}")
        check(r.stderr == b"err\n", f"stderr {r.stderr!r}")
        r = w.twoway("127.0.0.1", "true")
        check(r.returncode == 0 and r.stdout == b"" and r.stderr == b"", f"true: {r}")
        r = w.twoway("127.0.0.1", "exit 255")
        check(r.returncode == 255 and r.stderr == b"", f"remote 255: {r}")
        # The account's identity, as the daemon accepted it, is in its log in sshd's words.
        w.wait_log(r"Accepted publickey for root from 127\.0\.0\.1 port \d+: ED25519 " + re.escape(w.user_fingerprint()))


def test_command_words_joined_with_spaces():
    with trusted_world("words") as w:
        # As ssh: the words are joined with single spaces and the remote shell splits them again.
        r = w.twoway("127.0.0.1", "printf", "%s,", "a", "b c", "d")
        check(r.returncode == 0, f"{r}")
        check(r.stdout == b"a,b,c,d,", f"stdout {r.stdout!r}")
        # Options after the destination are still options (ssh's getopt restarts after the host) ...
        r = w.twoway("127.0.0.1", "-q", "echo", "-v")
        check(r.returncode == 0 and r.stdout == b"-v\n" and r.stderr == b"", f"{r}")
        # ... until the first word of the command; "--" ends them too.
        r = w.twoway("127.0.0.1", "--", "echo", "-q")
        check(r.returncode == 0 and r.stdout == b"-q\n", f"{r}")


def test_stdin_reaches_the_command():
    with trusted_world("stdin") as w:
        data = os.urandom(300000)
        r = w.twoway("127.0.0.1", "cat; echo done >&2", input=data)
        check(r.returncode == 0, f"{r.returncode} {r.stderr!r}")
        check(r.stdout == data, f"{len(r.stdout)} bytes back of {len(data)}")
        check(r.stderr == b"done\n", f"{r.stderr!r}")
        # -n: stdin from /dev/null, even when there is input.
        r = w.twoway("-n", "127.0.0.1", "wc -c", input=b"ignored")
        check(r.stdout.strip() == b"0", f"-n: {r.stdout!r}")


def test_closed_stdout_ends_the_session():
    with trusted_world("sigpipe") as w:
        # `twoway host yes | head -1`: once nobody reads, the session ends (it does not run forever).
        proc = subprocess.Popen(w.argv("127.0.0.1", "yes"), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, env=w.client_env(), start_new_session=True)
        try:
            check(proc.stdout.readline() == b"y\n", "no output")
            proc.stdout.close()
            rc = proc.wait(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        check(rc == 255, f"exit status {rc}")
        w.wait_log(r"Disconnected from user root")


def test_remote_signal_exits_255():
    with trusted_world("signal") as w:
        r = w.twoway("127.0.0.1", "kill -TERM $$")
        check(r.returncode == 255, f"exit status {r.returncode}")
        check(b"killed by signal TERM" in r.stderr, f"stderr {r.stderr!r}")


def test_connection_refused():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # bound, not listening: connections are refused
        with World("refused", start=False) as w:
            r = w.twoway("127.0.0.1", "true", port=port)
    check(r.returncode == 255, f"exit status {r.returncode}")
    check(r.stderr == f"twoway: connect to host 127.0.0.1 port {port}: Connection refused\n".encode(),
          f"stderr {r.stderr!r}")


def test_silent_or_closing_server():
    with World("silent", start=False) as w, socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(4)  # the kernel completes the TCP handshake; nobody ever answers
        port = s.getsockname()[1]
        start = time.monotonic()
        r = w.twoway("-o", "ConnectTimeout=1", "127.0.0.1", "true", port=port, timeout=30)
        took = time.monotonic() - start
        check(r.returncode == 255, f"exit status {r.returncode}")
        check(r.stderr == f"Connection timed out during the handshake with 127.0.0.1 port {port}\n".encode(),
              f"stderr {r.stderr!r}")
        check(took < 10, f"ConnectTimeout=1 took {took:.1f} s")

    # A server that closes at once: ssh's "Connection closed by".
    with World("closing", start=False) as w, socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(4)
        port = s.getsockname()[1]

        def close_one():
            conn, _ = s.accept()
            conn.recv(65536)  # the client's first flight: read, so closing sends FIN rather than RST
            conn.close()

        t = threading.Thread(target=close_one, daemon=True)
        t.start()
        r = w.twoway("127.0.0.1", "true", port=port, timeout=30)
        t.join(timeout=10)
        check(r.returncode == 255, f"exit status {r.returncode}")
        check(r.stderr == f"Connection closed by 127.0.0.1 port {port}\n".encode(), f"stderr {r.stderr!r}")


def test_unknown_client_key_is_denied():
    with trusted_world("denied") as w:
        stranger = os.path.join(w.dir, "stranger")
        keygen(stranger, "stranger")
        r = w.twoway("-i", stranger, "127.0.0.1", "echo should-not-run")
        check(r.returncode == 255, f"exit status {r.returncode}")
        check(r.stdout == b"", f"stdout {r.stdout!r}")
        check(r.stderr == b"Permission denied (publickey).\n", f"stderr {r.stderr!r}")
        w.wait_log(r"Failed publickey for root from 127\.0\.0\.1 port \d+: ED25519 " +
                   re.escape(fingerprint(stranger + ".pub")))
        # The command went out as early data behind client_auth; the denial still decides, the command
        # never ran (the daemon logs no session for it), and every other mode says the same.
        check("Starting session" not in w.daemon_log(), w.daemon_log())
        for args in (["-N"], ["-W", "echo"], ["-v"]):
            r = w.twoway("-i", stranger, *args, "127.0.0.1", *([] if args != ["-v"] else ["true"]))
            check(r.returncode == 255, f"{args}: exit status {r.returncode}")
            check(r.stderr.decode().endswith("Permission denied (publickey).\n"), f"{args}: {r.stderr!r}")


def test_unprotected_key_is_refused():
    with trusted_world("perms") as w:
        os.chmod(w.user_key, 0o644)
        r = w.twoway("127.0.0.1", "true")
        check(r.returncode == 255, f"exit status {r.returncode}")
        err = r.stderr.decode()
        check("WARNING: UNPROTECTED PRIVATE KEY FILE!" in err, err)
        check(f"Permissions 0644 for '{w.user_key}' are too open." in err, err)
        check(f'Load key "{w.user_key}": bad permissions' in err, err)


def test_missing_identity():
    with trusted_world("noid") as w:
        os.unlink(w.user_key)
        r = w.twoway("127.0.0.1", "true")
        check(r.returncode == 255, f"exit status {r.returncode}")
        check(r.stderr.count(b"\n") == 1 and b"no identity key" in r.stderr, f"{r.stderr!r}")


def test_config_file_host_block():
    with trusted_world("config") as w:
        with open(os.path.join(w.dot, "config"), "w") as f:
            f.write("# test config\n"
                    "Host box\n"
                    "    HostName 127.0.0.1\n"
                    f"    Port {w.port}\n"
                    "    User root\n"
                    "    StrictHostKeyChecking yes\n"
                    "Host *\n"
                    "    ConnectTimeout 7\n")
        os.chmod(os.path.join(w.dot, "config"), 0o600)
        env = w.client_env()
        r = subprocess.run([TWOWAY, "box", "echo via-config"], capture_output=True, timeout=60, env=env,
                           stdin=subprocess.DEVNULL)
        check(r.returncode == 0 and r.stdout == b"via-config\n", f"{r}")
        # -G prints the effective settings; the command line goes before the file (first value wins).
        r = subprocess.run([TWOWAY, "-G", "-p", "2222", "-l", "alice", "box"], capture_output=True, timeout=30,
                           env=env, stdin=subprocess.DEVNULL)
        out = r.stdout.decode()
        check(r.returncode == 0, f"-G: {r}")
        for expected in ("hostname 127.0.0.1", "port 2222", "user alice", "connecttimeout 7",
                         "stricthostkeychecking true", f"identityfile {w.user_key}",
                         f"userknownhostsfile {w.known_hosts}"):
            check(expected + "\n" in out, f"-G lacks {expected!r}:\n{out}")
        # user@host and -l: the first one given wins, as in ssh.
        r = subprocess.run([TWOWAY, "-G", "bob@box", "-l", "carol"], capture_output=True, timeout=30, env=env,
                           stdin=subprocess.DEVNULL)
        check("user bob\n" in r.stdout.decode(), r.stdout.decode())


def test_bad_config_is_reported_with_its_line():
    with trusted_world("badconfig") as w:
        path = os.path.join(w.dot, "config")
        with open(path, "w") as f:
            f.write("Host *\n  Port 99999\n")
        os.chmod(path, 0o600)
        r = w.twoway("127.0.0.1", "true")
        check(r.returncode == 255, f"exit status {r.returncode}")
        check(f"{path}:2:".encode() in r.stderr, f"{r.stderr!r}")
        r = w.twoway("-o", "NoSuchOption=1", "127.0.0.1", "true")
        check(r.returncode == 255 and b"NoSuchOption" in r.stderr, f"{r}")


def test_usage_errors():
    with World("usage", start=False) as w:
        for args in (["-X", "host"], [], ["-p"], ["-p", "0", "host"], ["-L", "nonsense", "host"]):
            r = subprocess.run([TWOWAY] + args, capture_output=True, timeout=30, env=w.client_env(),
                               stdin=subprocess.DEVNULL)
            check(r.returncode == 255, f"{args}: exit status {r.returncode}")
            check(b"usage: twoway" in r.stderr, f"{args}: {r.stderr!r}")
        r = subprocess.run([TWOWAY, "-V"], capture_output=True, timeout=30, stdin=subprocess.DEVNULL)
        check(r.returncode == 0 and r.stderr.startswith(b"twoway "), f"-V: {r}")


def test_verbose_debug_lines():
    with trusted_world("verbose") as w:
        r = w.twoway("-v", "127.0.0.1", "true")
        err = r.stderr.decode()
        check(r.returncode == 0, err)
        for line in ("debug1: Connecting to 127.0.0.1 [127.0.0.1] port",
                     "debug1: Server host key: ssh-ed25519 " + w.host_fingerprint(),
                     "debug1: Host '[127.0.0.1]:%d' is known and matches the ED25519 host key." % w.port,
                     f"debug1: Found key in {w.known_hosts}:1",
                     "debug1: Server key accepted; the session request follows client_auth (early data).",
                     'debug1: Authenticated to 127.0.0.1 ([127.0.0.1]:%d) using "publickey".' % w.port,
                     "debug1: Exit status 0"):
            check(line in err, f"missing {line!r} in:\n{err}")


def test_check_only_with_N():
    # The empty session (PROTOCOL.md 15, "Closing"): the client closes the channel without a REQUEST;
    # a clean end on both sides, nothing started, no error logged.
    with trusted_world("checkonly") as w:
        r = w.twoway("-N", "127.0.0.1")
        check(r.returncode == 0 and r.stdout == b"" and r.stderr == b"", f"{r}")
        w.wait_log(r"Disconnected from user \S+ 127\.0\.0\.1 port \d+")
        log = w.daemon_log()
        for bad in ("without an authenticated close", "Protocol error", "Bad record", "Timeout waiting"):
            check(bad not in log, f"the empty session was logged as a failure ({bad!r}):\n{log}")


if __name__ == "__main__":
    run_tests(globals())

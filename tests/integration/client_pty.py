#!/usr/bin/env python3
"""twoway at a terminal, driven through a real pseudo-terminal: the interactive PTY session (raw mode,
window size changes, the shell's exit status, escapes), the terminal put back on every way out, the
first-contact challenge and the passphrase prompt."""

import fcntl
import os
import re
import signal
import subprocess
import termios
import time

from twoway_env import PtyProcess, World, check, public_key_line, run_tests, trusted_world


def shell_ready(p, n):
    """Waits until the remote shell runs commands: types an arithmetic echo, waits for its result
    (which the echoed command line itself does not contain)."""
    p.send(f"echo READY$(({n}+1))\r")
    p.expect(f"READY{n + 1}", timeout=30)


def same_terminal_settings(a, b):
    # iflag, oflag, cflag, lflag and the control characters (speeds may read back differently).
    return a[0:4] == b[0:4] and a[6] == b[6]


def test_interactive_session_resize_and_exit_status():
    with trusted_world("pty") as w:
        p = PtyProcess(w.argv("127.0.0.1"), w.client_env(TERM="xterm"), rows=30, cols=100)
        try:
            before = p.initial_attrs
            shell_ready(p, 1)
            # Our terminal is raw while the session runs: no local echo, no line editing, no signals.
            raw = p.attrs()
            check(raw[3] & (termios.ECHO | termios.ICANON | termios.ISIG) == 0, "local terminal not in raw mode")
            check(raw[1] & termios.OPOST == 0, "output post-processing still on")
            p.send("stty size; echo SIZE$((2*3))\r")
            m = p.expect(r"(\d+) (\d+)\r\nSIZE6")
            check(m.group(1, 2) == (b"30", b"100"), f"remote PTY size {m.group(1, 2)}, expected 30 100")
            check(p.output().count("SIZE6") >= 1, p.output())
            # A resize of our terminal reaches the remote PTY (SIGWINCH -> window change).
            p.set_size(40, 120)
            for attempt in range(10):
                time.sleep(0.2)
                p.send(f"stty size; echo AFTER$((10+{attempt}))\r")
                m = p.expect(rf"(\d+) (\d+)\r\nAFTER{10 + attempt}")
                if m.group(1, 2) == (b"40", b"120"):
                    break
            check(m.group(1, 2) == (b"40", b"120"), f"remote PTY size after resize {m.group(1, 2)}")
            # The TERM we have is the TERM the remote side gets.
            p.send("echo T=$TERM.\r")
            p.expect(r"T=xterm\.")
            p.send("exit 7\r")
            rc = p.wait()
            check(rc == 7, f"exit status {rc}, output:\n{p.output()}")
            check("Connection to 127.0.0.1 closed." in p.output(), p.output())
            check(same_terminal_settings(p.attrs(), before), "terminal settings not restored")
            check(fcntl.fcntl(p.slave, fcntl.F_GETFL) & os.O_NONBLOCK == 0, "terminal left non-blocking")
        finally:
            p.close()


def test_escapes():
    with trusted_world("escape") as w:
        p = PtyProcess(w.argv("127.0.0.1"), w.client_env(TERM="dumb"))
        try:
            before = p.initial_attrs
            shell_ready(p, 2)
            # ~? lists the escapes (at the start of a line only); ~~ sends one ~.
            p.send("\r~?")
            p.expect(r"Supported escape sequences:")
            p.expect(r"~\.   - terminate connection")
            p.send("echo X~~Y\r")  # not at a line start: no escape
            p.expect(r"X~~Y\r\n")
            p.send("\r~~; echo TILDE$((1+1))\r")  # at a line start: ~~ sends one ~, a harmless command
            p.expect(r"TILDE2")
            p.send("\r~.")
            rc = p.wait()
            check(rc == 255, f"exit status after ~. {rc}")
            check("Connection to 127.0.0.1 closed." in p.output(), p.output())
            check(same_terminal_settings(p.attrs(), before), "terminal settings not restored after ~.")
        finally:
            p.close()
        w.wait_log(r"Disconnected from user root")


def test_terminal_restored_when_killed():
    with trusted_world("killed") as w:
        for n, sig in enumerate((signal.SIGTERM, signal.SIGHUP, signal.SIGINT)):
            p = PtyProcess(w.argv("127.0.0.1"), w.client_env(TERM="dumb"))
            try:
                before = p.initial_attrs
                flags = fcntl.fcntl(p.slave, fcntl.F_GETFL)
                shell_ready(p, 10 + n)
                check(p.attrs()[3] & termios.ECHO == 0, "not in raw mode")
                p.proc.send_signal(sig)
                rc = p.wait()
                check(rc == 255, f"{sig.name}: exit status {rc}")
                check(same_terminal_settings(p.attrs(), before), f"{sig.name}: terminal settings not restored")
                check(fcntl.fcntl(p.slave, fcntl.F_GETFL) == flags, f"{sig.name}: descriptor flags not restored")
            finally:
                p.close()


def test_command_with_forced_tty():
    with trusted_world("ttt") as w:
        # -t with a command: a PTY (so `tty` names one); without: none.
        p = PtyProcess(w.argv("-t", "127.0.0.1", "tty; exit 4"), w.client_env(TERM="dumb"))
        try:
            p.expect(r"/dev/pts/\d+")
            check(p.wait() == 4, p.output())
        finally:
            p.close()
        r = w.twoway("-tt", "127.0.0.1", "tty")
        check(r.returncode == 0 and r.stdout.startswith(b"/dev/pts/"), f"-tt without a terminal: {r}")
        r = w.twoway("-t", "127.0.0.1", "tty")
        check(r.returncode == 1 and b"not a tty" in r.stdout, f"-t without a terminal: {r}")
        check(b"Pseudo-terminal will not be allocated because stdin is not a terminal." in r.stderr, r.stderr)


def test_session_environment_as_sshd_sets_it():
    # Scripts and shells test sshd's names: SSH_CONNECTION, SSH_CLIENT, SSH_TTY (with a PTY),
    # SSH_ORIGINAL_COMMAND (under a forced command); twowayd sets them beside its TWOWAY_ ones.
    # Even a daemon that accepts every such name from clients gives the session its own values.
    with trusted_world("sshenv", extra_config="AcceptEnv LANG SSH_* TWOWAY_*\n") as w:
        spoof = w.client_env(SSH_CONNECTION="1.2.3.4 1 5.6.7.8 2", SSH_ORIGINAL_COMMAND="rm -rf /",
                             TWOWAY_CLIENT="1.2.3.4 1 2", SSH_TTY="/dev/spoofed")
        sendenv = ["-o", "SendEnv=SSH_* TWOWAY_*"]
        show = 'echo "C=$SSH_CONNECTION=$TWOWAY_CONNECTION."; echo "K=$SSH_CLIENT=$TWOWAY_CLIENT."; ' \
               'echo "T=${SSH_TTY-unset}=${TWOWAY_TTY-unset}."; echo "O=${SSH_ORIGINAL_COMMAND-unset}."'
        r = w.twoway(*sendenv, "127.0.0.1", show, env=spoof)
        check(r.returncode == 0, f"{r}")
        out = r.stdout.decode()
        m = re.search(r"C=127\.0\.0\.1 (\d+) 127\.0\.0\.1 (\d+)=127\.0\.0\.1 \1 127\.0\.0\.1 \2\.\n", out)
        check(m is not None and int(m.group(2)) == w.port, f"SSH_CONNECTION: {out!r}")
        check(f"K=127.0.0.1 {m.group(1)} {w.port}=127.0.0.1 {m.group(1)} {w.port}.\n" in out, f"SSH_CLIENT: {out!r}")
        check("T=unset=unset.\n" in out and "O=unset.\n" in out, f"no PTY, no forced command: {out!r}")
        r = w.twoway(*sendenv, "-tt", "127.0.0.1", show, env=spoof)
        out = r.stdout.decode()
        m = re.search(r"T=(/dev/pts/\d+)=(/dev/pts/\d+)\.", out)
        check(r.returncode == 0 and m is not None and m.group(1) == m.group(2), f"SSH_TTY with a PTY: {r}")
        # A forced command (the key's command="..."): what the client asked for, under both names.
        with open(w.user_key + ".pub") as f:
            key = f.read().strip()
        with open(w.authorized_keys, "w") as f:
            f.write(f'command="echo O=$SSH_ORIGINAL_COMMAND=$TWOWAY_ORIGINAL_COMMAND." {key}\n')
        r = w.twoway(*sendenv, "127.0.0.1", "asked", "for", env=spoof)
        check(r.returncode == 0 and r.stdout == b"O=asked for=asked for.\n", f"SSH_ORIGINAL_COMMAND: {r}")


def test_pty_drained_after_the_command_exits():
    # With a PTY the child's exit may be reported before its last output has been read from the
    # terminal, and a background job that ignores SIGHUP keeps the terminal open: twowayd delivers what
    # is in flight, then ends the session at the first pause in output instead of waiting for the job.
    with trusted_world("drain") as w:
        t0 = time.monotonic()
        r = w.twoway("-tt", "127.0.0.1", "(trap '' HUP; exec sleep 40) & echo bg=$!; seq 1 20000; exit 5",
                     timeout=90)
        took = time.monotonic() - t0
        m = re.search(rb"bg=(\d+)", r.stdout)
        try:
            check(m is not None, f"no background job: {r}")
            check(r.returncode == 5, f"exit status {r.returncode}: {r.stderr!r}")
            lines = r.stdout.split(b"\r\n")
            check(lines[-2:] == [b"20000", b""], f"output cut short: ...{r.stdout[-40:]!r}")
            check(took < 20, f"the session waited for the background job: {took:.1f}s")
        finally:
            if m is not None:
                try:
                    os.kill(int(m.group(1)), signal.SIGKILL)
                except ProcessLookupError:
                    pass


def challenge_positions(p):
    m = p.expect(r"positions ([\d, and]+) after \"SHA256:\"")
    return [int(x) for x in re.findall(rb"\d+", m.group(1))]


def test_first_contact_challenge():
    with World("challenge") as w:
        fp = w.host_fingerprint()
        body = fp[len("SHA256:"):]
        p = PtyProcess(w.argv("127.0.0.1", "echo connected"), w.client_env())
        try:
            p.expect(rf"The authenticity of host '\[127\.0\.0\.1\]:{w.port}' can't be established\.")
            masked = p.expect(rb"SHA256:[A-Za-z0-9+/_]{43}").group(0).decode()
            p.expect(r"\+----\[SHA256\]-----\+")  # the randomart
            positions = challenge_positions(p)
            check(len(positions) == 5 and len(set(positions)) == 5, f"positions {positions}")
            # The asked characters are hidden; the others are those of the real fingerprint.
            for i, c in enumerate(masked[len("SHA256:"):], start=1):
                check(c == ("_" if i in positions else body[i - 1]), f"masked fingerprint {masked} vs {fp}")
            check(fp not in p.output(), "the full fingerprint was shown")
            p.expect(r"\(or no\): ")
            # A reflexive "yes" does not pass, and says what to do instead.
            p.send("yes\r")
            p.expect(r"\"yes\" is not enough")
            p.expect(r"\(or no\): ")
            answer = "".join(body[i - 1] for i in positions)
            p.send(" ".join(answer) + "\r")  # blanks between the characters are fine
            p.expect(r"connected")
            rc = p.wait()
            check(rc == 0, f"exit status {rc}:\n{p.output()}")
            check(f"Warning: Permanently added '[127.0.0.1]:{w.port}' (ED25519) to the list of known hosts."
                  in p.output(), p.output())
        finally:
            p.close()
        with open(w.known_hosts) as f:
            check(f.read() == f"[127.0.0.1]:{w.port} {public_key_line(w.host_key + '.pub')}\n", "known_hosts")


def test_first_contact_by_pasted_fingerprint():
    # As ssh takes it at its question: the whole fingerprint, pasted from the person's copy, answers the
    # challenge (it is the full comparison); another key's whole fingerprint is said to be another.
    with World("challengepaste") as w:
        fp = w.host_fingerprint()
        p = PtyProcess(w.argv("127.0.0.1", "echo connected"), w.client_env())
        try:
            p.expect(r"or paste the whole fingerprint from that copy\.")
            p.expect(r"\(or no\): ")
            other = fp[:-1] + ("A" if fp[-1] != "A" else "B")
            p.send(other + "\r")
            p.expect(r"That fingerprint is not the one of the key this host presented\.")
            p.expect(r"\(or no\): ")
            p.send(fp + "\r")
            p.expect(r"connected")
            check(p.wait() == 0, p.output())
        finally:
            p.close()
        with open(w.known_hosts) as f:
            check(f.read() == f"[127.0.0.1]:{w.port} {public_key_line(w.host_key + '.pub')}\n", "known_hosts")


def test_challenge_says_when_known_hosts_could_not_be_read():
    # A known_hosts file that cannot be read may hold another key for the host: the person meeting the
    # challenge is told so, and why, before it (not only with -v).
    with World("challengeunread") as w:
        os.makedirs(w.known_hosts)  # a directory where the file should be: it cannot be read
        p = PtyProcess(w.argv("127.0.0.1", "true"), w.client_env())
        try:
            p.expect(r"Cannot read known_hosts file " + re.escape(w.known_hosts) + ": ")
            p.expect(r"may be known with another key: check the fingerprint with particular care\.")
            p.expect(r"\(or no\): ")
            p.send("no\r")
            p.expect(r"Host key verification failed\.")
            check(p.wait() == 255, p.output())
        finally:
            p.close()


def test_challenge_refuses_wrong_answers():
    with World("challengebad") as w:
        fp = w.host_fingerprint()[len("SHA256:"):]
        p = PtyProcess(w.argv("127.0.0.1", "echo should-not-run"), w.client_env())
        try:
            positions = challenge_positions(p)
            right = "".join(fp[i - 1] for i in positions)
            wrong = right[:-1] + ("A" if right[-1] != "A" else "B")  # one character off
            for attempt in range(3):
                p.expect(r"\(or no\): ")
                p.send(wrong.swapcase() if attempt == 1 else wrong)  # case matters
                p.send("\r")
                if attempt < 2:
                    p.expect(r"do not match")
            p.expect(r"Host key verification failed\.")
            check(p.wait() == 255, p.output())
            check("should-not-run" not in p.output().replace("echo should-not-run", ""), p.output())
        finally:
            p.close()
        check(not os.path.exists(w.known_hosts), "known_hosts written after a failed challenge")
        # "no" refuses at once.
        p = PtyProcess(w.argv("127.0.0.1", "true"), w.client_env())
        try:
            p.expect(r"\(or no\): ")
            p.send("no\r")
            p.expect(r"Host key verification failed\.")
            check(p.wait() == 255, p.output())
        finally:
            p.close()
        check("Accepted publickey" not in w.daemon_log(), "authenticated to an unverified host")


def test_passphrase_prompt():
    with trusted_world("passphrase") as w:
        key = os.path.join(w.dot, "id_locked")
        subprocess.run([os.environ["TWOWAY_KEYGEN"], "-q", "-N", "open sesame", "-C", "locked", "-f", key],
                       check=True, timeout=60, stdout=subprocess.DEVNULL)
        with open(w.authorized_keys, "a") as f, open(key + ".pub") as pub:
            f.write(pub.read())
        p = PtyProcess(w.argv("-i", key, "127.0.0.1", "echo unlocked"), w.client_env())
        try:
            p.expect(rf"Enter passphrase for key '{re.escape(key)}': ")
            p.send("wrong\r")
            p.expect(rf"Enter passphrase for key '{re.escape(key)}': ")
            check(b"wrong" not in p.buf, "the passphrase was echoed")
            p.send("open sesame\r")
            p.expect(r"unlocked")
            check(p.wait() == 0, p.output())
        finally:
            p.close()
        # Without a terminal an encrypted key cannot be used: nothing is asked, twoway fails cleanly.
        r = w.twoway("-i", key, "127.0.0.1", "true")
        check(r.returncode == 255 and b"no usable identity key" in r.stderr, f"{r}")


if __name__ == "__main__":
    run_tests(globals())

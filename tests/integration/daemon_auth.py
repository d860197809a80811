#!/usr/bin/env python3
"""Who may log in, as twowayd decides it: the same generic denial for an unknown account and for a
refused key (no user enumeration) with the reason only in the log; StrictModes refusing an
authorized_keys file others could have written; bad authorized_keys lines logged as path:line; RevokedKeys
refusing a listed key whatever authorized_keys says, and every key when the list cannot be used; and a
daemon running as an ordinary user serving that account only."""

import os
import pwd
import re
import shutil
import subprocess
import tempfile

from twoway_env import CLEAN_PATH, KEYGEN, TWOWAYD, World, check, fingerprint, keygen, public_key_line, run_tests, trusted_world


def test_unknown_account_and_refused_key_look_the_same():
    with trusted_world("deny") as w:
        stranger = os.path.join(w.dir, "stranger")
        keygen(stranger, "stranger")
        unknown = w.twoway("-l", "nosuchuser-auth", "127.0.0.1", "true")
        refused = w.twoway("-i", stranger, "127.0.0.1", "true")
        check(unknown.returncode == 255 and refused.returncode == 255, f"{unknown} {refused}")
        check(unknown.stderr == refused.stderr == b"Permission denied (publickey).\n",
              f"the two denials differ: {unknown.stderr!r} vs {refused.stderr!r}")
        w.wait_log(r"Invalid user nosuchuser-auth from 127\.0\.0\.1 port \d+")
        w.wait_log(r"Failed publickey for root from 127\.0\.0\.1 port \d+: ED25519 SHA256:")


def test_bad_authorized_keys_lines_are_logged_with_path_and_line():
    with trusted_world("lines") as w:
        good = public_key_line(w.user_key + ".pub")
        with open(w.authorized_keys, "w") as f:
            f.write("# keys\nssh-ed25519 not-base64!\n" + good + "\n")
        r = w.twoway("127.0.0.1", "true")
        check(r.returncode == 0, f"login with a bad line before the key: {r}")
        # After a success the skipped line is shown at VERBOSE (the World's LogLevel), as path:line.
        w.wait_log(rf"{w.authorized_keys}:2: ")
        w.wait_log(r"Accepted publickey for root from 127\.0\.0\.1 port \d+")


def restart(w):
    """Restarts the World's daemon on its (changed) config. The log starts afresh: the harness reads the
    port from the first "Server listening" line of the log file."""
    w.stop_daemon()
    os.truncate(w.log_path, 0)
    w.start_daemon()
    with open(w.known_hosts, "w") as f:
        f.write(f"[127.0.0.1]:{w.port} {public_key_line(w.host_key + '.pub')}\n")


def clean_chain(path):
    """True when no directory from path up to / is writable by group or others (StrictModes' test)."""
    path = os.path.realpath(path)
    while True:
        st = os.stat(path)
        if st.st_mode & 0o022 or (st.st_uid not in (0, os.geteuid())):
            return False
        if path == "/":
            return True
        path = os.path.dirname(path)


def test_strict_modes():
    with trusted_world("strict") as w:
        # A file under the world-writable temporary directory: the walk up reaches /tmp and refuses.
        conf_lines = open(w.config).read().replace("StrictModes no", "StrictModes yes")
        with open(w.config, "w") as f:
            f.write(conf_lines)
        restart(w)
        r = w.twoway("127.0.0.1", "true")
        tmp_parent = os.path.dirname(os.path.realpath(w.dir))
        if os.stat(tmp_parent).st_mode & 0o002:
            check(r.returncode == 255, f"StrictModes let a key under {tmp_parent} through: {r}")
            w.wait_log(r"Authentication refused: bad ownership or modes for directory " + tmp_parent)

        # A clean chain (outside the world-writable temporary directory, when the build directory is
        # one), then the same file made group-writable.
        base = os.getcwd()
        if not clean_chain(base):
            print(f"SKIP (part): no clean directory chain at {base}")
            return
        safe = tempfile.mkdtemp(prefix="twowayd-strict-", dir=base)
        try:
            os.chmod(safe, 0o755)
            keys = os.path.join(safe, "authorized_keys")
            shutil.copy(w.user_key + ".pub", keys)
            os.chmod(keys, 0o644)
            conf_lines = open(w.config).read().replace(f"AuthorizedKeysFile {w.authorized_keys}",
                                                       f"AuthorizedKeysFile {keys}")
            with open(w.config, "w") as f:
                f.write(conf_lines)
            restart(w)
            r = w.twoway("127.0.0.1", "true")
            check(r.returncode == 0, f"StrictModes refused a clean file: {r}\n{w.daemon_log()}")
            os.chmod(keys, 0o664)
            r = w.twoway("127.0.0.1", "true")
            check(r.returncode == 255, f"StrictModes accepted a group-writable file: {r}")
            w.wait_log(r"Authentication refused: bad ownership or modes for file " + os.path.realpath(keys))
            os.chmod(keys, 0o644)
            os.chmod(safe, 0o777)
            r = w.twoway("127.0.0.1", "true")
            check(r.returncode == 255, f"StrictModes accepted a world-writable directory: {r}")
            w.wait_log(r"Authentication refused: bad ownership or modes for directory " + os.path.realpath(safe))
        finally:
            shutil.rmtree(safe, ignore_errors=True)


def test_revoked_keys():
    with World("revoked", start=False) as w:
        revoked = os.path.join(w.etc, "revoked_keys")
        stranger = os.path.join(w.dir, "stranger")
        keygen(stranger, "stranger")
        # Another revoked key, and a key of a type twowayd ignores (a list shared with sshd).
        with open(revoked, "w") as f:
            f.write("# revoked keys\n" + public_key_line(stranger + ".pub") + "\n"
                    "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQC7 old-rsa\n")
        with open(w.config, "a") as f:
            f.write(f"RevokedKeys {revoked}\n")
        t = subprocess.run([TWOWAYD, "-t", "-f", w.config], capture_output=True, text=True,
                           env={"PATH": CLEAN_PATH, "LANG": "C"})
        check(t.returncode == 0 and t.stderr == "", f"-t on a usable list: {t}")
        w.start_daemon()
        with open(w.known_hosts, "w") as f:
            f.write(f"[127.0.0.1]:{w.port} {public_key_line(w.host_key + '.pub')}\n")
        r = w.twoway("127.0.0.1", "true")
        check(r.returncode == 0, f"a key not in the list was refused: {r}\n{w.daemon_log()}")

        # The user's own key revoked: refused although authorized_keys lists it. The list is read at
        # each authentication, so no reload is needed.
        with open(revoked, "a") as f:
            f.write(public_key_line(w.user_key + ".pub") + "\n")
        r = w.twoway("127.0.0.1", "true")
        check(r.returncode == 255 and r.stderr == b"Permission denied (publickey).\n", f"revoked key: {r}")
        w.wait_log(r"Authentication key ED25519 SHA256:\S+ revoked by file " + re.escape(revoked) + r", line 4")
        w.wait_log(r"Failed publickey for root from 127\.0\.0\.1 port \d+: ED25519 SHA256:")

        # A list twowayd cannot use refuses every key (fail closed, as sshd), and -t says why.
        with open(revoked, "w") as f:
            f.write(public_key_line(stranger + ".pub") + " \nssh-ed25519 AAAAC3-not-base64 typo\n")
        r = w.twoway("127.0.0.1", "true")
        check(r.returncode == 255, f"a broken list let a key through: {r}")
        w.wait_log(r"Error checking authentication key ED25519 SHA256:\S+ in revoked keys file " +
                   re.escape(revoked) + r":2: invalid ssh-ed25519 key data")
        os.unlink(revoked)
        r = w.twoway("127.0.0.1", "true")
        check(r.returncode == 255, f"a missing list let a key through: {r}")
        w.wait_log(r"in revoked keys file " + re.escape(revoked) + r": cannot read: No such file or directory")
        t = subprocess.run([TWOWAYD, "-t", "-f", w.config], capture_output=True, text=True,
                           env={"PATH": CLEAN_PATH, "LANG": "C"})
        check(t.returncode == 1 and f"RevokedKeys {revoked}: cannot read: " in t.stderr, f"-t on a missing list: {t}")

        # Fixed: the good key logs in again, without a restart.
        with open(revoked, "w") as f:
            f.write(public_key_line(stranger + ".pub") + "\n")
        r = w.twoway("127.0.0.1", "true")
        check(r.returncode == 0, f"after the list was fixed: {r}")


def test_revoked_keys_krl():
    # RevokedKeys as an OpenSSH KRL (issue 16), written by twoway-keygen -k: it revokes what it lists and
    # nothing else, is read again at each authentication, and fails closed when it cannot be parsed.
    with World("revokedkrl", start=False) as w:
        krl = os.path.join(w.etc, "revoked.krl")
        stranger = os.path.join(w.dir, "stranger")
        keygen(stranger, "stranger")
        spec = os.path.join(w.dir, "spec")
        with open(spec, "w") as f:
            f.write("sha256: " + public_key_line(stranger + ".pub") + "\n")
        subprocess.run([KEYGEN, "-q", "-k", "-f", krl, spec], check=True, capture_output=True, timeout=60)
        with open(w.config, "a") as f:
            f.write(f"RevokedKeys {krl}\n")
        t = subprocess.run([TWOWAYD, "-t", "-f", w.config], capture_output=True, text=True,
                           env={"PATH": CLEAN_PATH, "LANG": "C"})
        check(t.returncode == 0 and t.stderr == "", f"-t on a usable KRL: {t}")
        w.start_daemon()
        with open(w.known_hosts, "w") as f:
            f.write(f"[127.0.0.1]:{w.port} {public_key_line(w.host_key + '.pub')}\n")
        r = w.twoway("127.0.0.1", "echo not-revoked")
        check(r.returncode == 0 and r.stdout == b"not-revoked\n", f"a key the KRL does not revoke was refused: {r}\n{w.daemon_log()}")

        # The user's key added to the KRL (-u): refused, and the log names the KRL entry.
        with open(spec, "w") as f:
            f.write("key: " + public_key_line(w.user_key + ".pub") + "\n")
        subprocess.run([KEYGEN, "-q", "-k", "-u", "-f", krl, spec], check=True, capture_output=True, timeout=60)
        r = w.twoway("127.0.0.1", "true")
        check(r.returncode == 255 and r.stderr == b"Permission denied (publickey).\n", f"revoked key: {r}")
        fp = fingerprint(w.user_key + ".pub")
        w.wait_log(r"Authentication key ED25519 " + re.escape(fp) + r" revoked by file " + re.escape(krl) +
                   r": key " + re.escape(fp))

        # The same from a KRL ssh-keygen wrote (by the key's SHA-256 hash).
        if shutil.which("ssh-keygen"):
            with open(spec, "w") as f:
                f.write("sha256: " + public_key_line(w.user_key + ".pub") + "\n")
            subprocess.run(["ssh-keygen", "-q", "-k", "-f", krl, spec], check=True, capture_output=True, timeout=60)
            r = w.twoway("127.0.0.1", "true")
            check(r.returncode == 255, f"a key an ssh-keygen KRL revokes: {r}")
            w.wait_log(r"revoked by file " + re.escape(krl) + r": hash " + re.escape(fp))

        # A KRL twowayd cannot parse refuses every key, and -t says why.
        with open(krl, "rb") as f:
            data = f.read()
        with open(krl, "wb") as f:
            f.write(data[:-5])
        r = w.twoway("127.0.0.1", "true")
        check(r.returncode == 255, f"a broken KRL let a key through: {r}")
        w.wait_log(r"Error checking authentication key ED25519 SHA256:\S+ in revoked keys file " +
                   re.escape(krl) + r": an OpenSSH KRL twoway cannot use: ")
        t = subprocess.run([TWOWAYD, "-t", "-f", w.config], capture_output=True, text=True,
                           env={"PATH": CLEAN_PATH, "LANG": "C"})
        check(t.returncode == 1 and f"RevokedKeys {krl}: an OpenSSH KRL twoway cannot use: " in t.stderr,
              f"-t on a broken KRL: {t}")

        # A fresh KRL without the user's key: logs in again, without a restart.
        with open(spec, "w") as f:
            f.write("sha256: " + public_key_line(stranger + ".pub") + "\n")
        subprocess.run([KEYGEN, "-q", "-k", "-f", krl, spec], check=True, capture_output=True, timeout=60)
        r = w.twoway("127.0.0.1", "echo back")
        check(r.returncode == 0 and r.stdout == b"back\n", f"after the KRL was fixed: {r}")


def test_ordinary_user_serves_its_own_account_only():
    if os.geteuid() != 0 or not shutil.which("setpriv"):
        print("SKIP: needs root and setpriv to start the daemon as another user")
        return
    try:
        nobody = pwd.getpwnam("nobody")
    except KeyError:
        print("SKIP: no 'nobody' account")
        return
    with World("ordinary", start=False) as w:
        # The daemon's files belong to nobody, as they would to a user running their own twowayd.
        for path in (w.host_key, w.host_key + ".pub", w.authorized_keys, w.config):
            os.chown(path, nobody.pw_uid, nobody.pw_gid)
        os.chmod(w.host_key, 0o600)
        log_path = os.path.join(w.dir, "ordinary.log")
        log = open(log_path, "wb")
        daemon = subprocess.Popen(
            ["setpriv", f"--reuid={nobody.pw_uid}", f"--regid={nobody.pw_gid}", "--clear-groups", TWOWAYD, "-D", "-e",
             "-f", w.config, "-p", "0"],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env={"PATH": CLEAN_PATH, "LANG": "C"})
        try:
            w.log_path = log_path
            m = w.wait_log(r"Server listening on 127\.0\.0\.1 port (\d+)\.")
            port = int(m.group(1))
            # The daemon made itself non-dumpable (no core file, no ptrace by its own user): the kernel
            # then gives its /proc files to root, although it runs as nobody.
            status = open(f"/proc/{daemon.pid}/status").read()
            check(f"Uid:\t{nobody.pw_uid}\t" in status, status)
            check(os.stat(f"/proc/{daemon.pid}/environ").st_uid == 0, "twowayd is dumpable")
            with open(w.known_hosts, "w") as f:
                f.write(f"[127.0.0.1]:{port} {public_key_line(w.host_key + '.pub')}\n")
            # Another account: the generic denial, logged as an invalid user.
            r = w.twoway("-l", "root", "127.0.0.1", "true", port=port)
            check(r.returncode == 255 and r.stderr == b"Permission denied (publickey).\n", f"root: {r}")
            w.wait_log(r"Invalid user root from 127\.0\.0\.1 port \d+")
            # Its own account is served, without any change of identity: the session runs the account's
            # shell (nologin, for nobody), so the login shows in the log and the shell's refusal reaches us.
            r = w.twoway("-l", "nobody", "127.0.0.1", "id -u", port=port)
            w.wait_log(r"Accepted publickey for nobody from 127\.0\.0\.1 port \d+")
            shell = nobody.pw_shell or "/bin/sh"
            if os.path.basename(shell) in ("sh", "bash", "dash"):
                check(r.returncode == 0 and r.stdout.strip() == str(nobody.pw_uid).encode(), f"nobody: {r}")
            else:
                w.wait_log(r"Starting session: command for nobody")
        finally:
            daemon.terminate()
            daemon.wait(timeout=20)
            log.close()


if __name__ == "__main__":
    run_tests(globals())

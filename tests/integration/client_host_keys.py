#!/usr/bin/env python3
"""Host key verification against the real daemon: StrictHostKeyChecking yes / accept-new / no / ask
(without a terminal), the known_hosts line written for a non-default port, the refusal of a changed
host key (in every mode) with the warning naming file:line and both fingerprints, and of a key marked
@revoked (in every mode, whatever host the line names) or listed in a RevokedHostKeys file (every key
refused when that list cannot be used), OpenSSH's host patterns (* ? !), hashed names (a line from
ssh-keygen -H makes the host known, another key under a hashed name is a changed key, HashKnownHosts
yes records a line ssh-keygen -F finds), and lines twoway cannot read (a malformed hashed name, a bad
name, another key type): never a new host, so an impostor is never recorded."""

import base64
import hashlib
import hmac
import os
import re
import shutil
import subprocess

from twoway_env import KEYGEN, World, check, fingerprint, keygen, public_key_line, run_tests


def read(path):
    with open(path) as f:
        return f.read()


def write_known_hosts(w, *lines):
    """Writes the lines as the user's known_hosts (0600); returns the file's text."""
    with open(w.known_hosts, "w") as f:
        f.write("".join(line + "\n" for line in lines))
    os.chmod(w.known_hosts, 0o600)
    return read(w.known_hosts)


def refusals_in_every_mode(w):
    """Connects once per StrictHostKeyChecking mode; each must exit 255 with nothing on stdout.
    Yields (mode, stderr) for the caller's checks."""
    for strict in ("ask", "yes", "accept-new", "no"):
        r = w.twoway("127.0.0.1", "echo should-not-run", strict=strict)
        check(r.returncode == 255, f"{strict}: exit status {r.returncode}")
        check(r.stdout == b"", f"{strict}: stdout {r.stdout!r}")
        yield strict, r.stderr.decode()


def test_accept_new_records_the_host():
    with World("acceptnew") as w:
        check(not os.path.exists(w.known_hosts), "known_hosts exists before the first connection")
        r = w.twoway("127.0.0.1", "echo hi", strict="accept-new")
        check(r.returncode == 0 and r.stdout == b"hi\n", f"{r}")
        label = f"[127.0.0.1]:{w.port}"
        check(r.stderr == f"Warning: Permanently added '{label}' (ED25519) to the list of known hosts.\n".encode(),
              f"stderr {r.stderr!r}")
        expected = f"{label} {public_key_line(w.host_key + '.pub')}\n"
        check(read(w.known_hosts) == expected, f"known_hosts:\n{read(w.known_hosts)!r}\nexpected {expected!r}")
        check(os.stat(w.known_hosts).st_mode & 0o777 == 0o600, "known_hosts is not 0600")
        # The next connection finds it, with strict checking and without a word.
        r = w.twoway("127.0.0.1", "echo again", strict="yes")
        check(r.returncode == 0 and r.stdout == b"again\n" and r.stderr == b"", f"{r}")
        check(read(w.known_hosts) == expected, "known_hosts changed on the second connection")


def test_strict_yes_refuses_an_unknown_host():
    with World("strictyes") as w:
        r = w.twoway("127.0.0.1", "echo should-not-run", strict="yes")
        check(r.returncode == 255, f"exit status {r.returncode}")
        check(r.stdout == b"", f"stdout {r.stdout!r}")
        err = r.stderr.decode()
        check(err.endswith("Host key verification failed.\n"), err)
        check(f"No ED25519 host key is known for [127.0.0.1]:{w.port} and you have requested strict checking."
              in err, err)
        check(not os.path.exists(w.known_hosts), "known_hosts was written")
        # The client never authenticated: the daemon saw the connection end before authentication.
        check("Accepted publickey" not in w.daemon_log(), w.daemon_log())


def test_ask_without_a_terminal_refuses():
    with World("asknotty") as w:
        # The default (ask) with no terminal behaves like yes; BatchMode too.
        for extra in ([], ["-o", "BatchMode=yes"]):
            r = w.twoway(*extra, "127.0.0.1", "echo should-not-run")
            check(r.returncode == 255, f"{extra}: exit status {r.returncode}")
            err = r.stderr.decode()
            check(err.endswith("Host key verification failed.\n"), err)
            check("there is no terminal to verify it on" in err, err)
            check(not os.path.exists(w.known_hosts), "known_hosts was written")


def test_strict_no_adds_unknown_hosts():
    with World("strictno") as w:
        r = w.twoway("127.0.0.1", "echo ok", strict="no")
        check(r.returncode == 0 and r.stdout == b"ok\n", f"{r}")
        check(public_key_line(w.host_key + ".pub") in read(w.known_hosts), read(w.known_hosts))


def test_changed_host_key_is_refused_in_every_mode():
    with World("changed") as w:
        old = os.path.join(w.dir, "old_host_key")
        keygen(old, "old-host")
        label = f"[127.0.0.1]:{w.port}"
        # The recorded key is on line 3, behind a comment and another host's entry.
        before = write_known_hosts(w, "# hosts I trust", f"[127.0.0.1]:1 {public_key_line(w.user_key + '.pub')}",
                                   f"{label} {public_key_line(old + '.pub')}")
        for strict, err in refusals_in_every_mode(w):
            check("@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @" in err, err)
            check("IT IS POSSIBLE THAT SOMEONE IS DOING SOMETHING NASTY!" in err, err)
            check(w.host_fingerprint() in err, f"new fingerprint missing:\n{err}")
            check(fingerprint(old + ".pub") in err, f"old fingerprint missing:\n{err}")
            check(f"Offending ED25519 key in {w.known_hosts}:3\n" in err, f"file:line missing:\n{err}")
            check(f'  remove with:\n  twoway-keygen -f "{w.known_hosts}" -R "{label}"\n' in err, err)
            check(err.endswith("Host key verification failed.\n"), err)
            # The new key is shown as the one "sent by the remote host", the old as the recorded one.
            new_at = err.index(w.host_fingerprint())
            old_at = err.index(fingerprint(old + ".pub"))
            check(err.rfind("sent by the remote host", 0, new_at) != -1, err)
            check(err.rfind("recorded for " + label, 0, old_at) != -1, err)
            check(read(w.known_hosts) == before, f"{strict}: known_hosts was modified")
        check("Accepted publickey" not in w.daemon_log(), "the client authenticated to a changed host")
        # The command the warning suggests removes the old line, and the host can be met anew.
        r = subprocess.run([KEYGEN, "-f", w.known_hosts, "-R", label], capture_output=True, timeout=30)
        check(r.returncode == 0 and r.stdout == f"# Host {label} found: line 3\n{w.known_hosts} updated.\n"
              f"Original contents retained as {w.known_hosts}.old\n".encode(), f"{r}")
        check(read(w.known_hosts + ".old") == before, "the .old copy is not the old file")
        r = w.twoway("127.0.0.1", "echo met-again", strict="accept-new")
        check(r.returncode == 0 and r.stdout == b"met-again\n", f"{r}")


def test_revoked_host_key_is_refused_in_every_mode():
    with World("revoked") as w:
        label = f"[127.0.0.1]:{w.port}"
        # The key is trusted for this host on line 1 and revoked on line 3, by patterns that do not
        # name [127.0.0.1]:port, which does not matter: a revoked key is refused for every host.
        before = write_known_hosts(w, f"{label} {public_key_line(w.host_key + '.pub')}", "# compromised keys",
                                   f"@revoked *.example.com,127.0.0.* {public_key_line(w.host_key + '.pub')}")
        for strict, err in refusals_in_every_mode(w):
            check("@       WARNING: REVOKED HOST KEY DETECTED!               @\n" in err, err)
            check(f"The ED25519 host key for {label} is marked as revoked.\n" in err, err)
            check(w.host_fingerprint() in err, f"fingerprint missing:\n{err}")
            check(f"Revoked ED25519 key in {w.known_hosts}:3\n" in err, f"file:line missing:\n{err}")
            check(err.endswith("Host key verification failed.\n"), err)
            check(read(w.known_hosts) == before, f"{strict}: known_hosts was modified")
        # Revoked in a second file of its own with the host unknown otherwise: still refused, never
        # added to the first file (where accept-new would record it).
        os.remove(w.known_hosts)
        revoked = os.path.join(w.dir, "revoked_hosts")
        with open(revoked, "w") as f:
            f.write(f"@revoked * {public_key_line(w.host_key + '.pub')}\n")
        r = w.twoway("-o", f"UserKnownHostsFile={w.known_hosts} {revoked}", "127.0.0.1", "true",
                     strict="accept-new")
        check(r.returncode == 255 and b"REVOKED HOST KEY DETECTED" in r.stderr, f"{r}")
        check(not os.path.exists(w.known_hosts), "a revoked key was recorded")
        check("Accepted publickey" not in w.daemon_log(), "the client authenticated to a revoked host key")
        # The same files without the @revoked line: the host is known again (the refusal was the marker's).
        r = w.twoway("127.0.0.1", "echo fine", strict="accept-new")
        check(r.returncode == 0 and r.stdout == b"fine\n", f"{r}")


def test_revoked_host_keys_file():
    with World("revokedfile") as w:
        key = public_key_line(w.host_key + ".pub")
        label = f"[127.0.0.1]:{w.port}"
        before = write_known_hosts(w, f"{label} {key}")
        listed = os.path.join(w.dir, "revoked_host_keys")
        other = os.path.join(w.dir, "other_key")
        keygen(other, "other")
        with open(listed, "w") as f:
            f.write("# retired host keys\n" + public_key_line(other + ".pub") + "\n")
        option = f"RevokedHostKeys={listed}"
        r = w.twoway("-o", option, "127.0.0.1", "echo listed-other", strict="yes")
        check(r.returncode == 0 and r.stdout == b"listed-other\n", f"a key not in the list: {r}")
        # The host's key in the list: refused in every mode although known_hosts trusts it.
        with open(listed, "a") as f:
            f.write(key + "\n")
        for strict in ("ask", "yes", "accept-new", "no"):
            r = w.twoway("-o", option, "127.0.0.1", "echo should-not-run", strict=strict)
            err = r.stderr.decode()
            check(r.returncode == 255 and r.stdout == b"", f"{strict}: {r}")
            check("WARNING: REVOKED HOST KEY DETECTED!" in err and f"Revoked ED25519 key in {listed}:3\n" in err, err)
            check(read(w.known_hosts) == before, f"{strict}: known_hosts was modified")
        # A list that cannot be used refuses every host key (as ssh): missing, or with a bad line.
        os.remove(listed)
        r = w.twoway("-o", option, "127.0.0.1", "true", strict="no")
        check(r.returncode == 255 and f"in revoked keys file {listed}: cannot read: No such file or directory"
              in r.stderr.decode() and r.stderr.endswith(b"Host key verification failed.\n"), f"missing list: {r}")
        with open(listed, "w") as f:
            f.write("ssh-ed25519 AAAAC3-typo\n")
        r = w.twoway("-o", option, "127.0.0.1", "true", strict="no")
        check(r.returncode == 255 and f"{listed}:1: invalid ssh-ed25519 key data" in r.stderr.decode(),
              f"broken list: {r}")
        # -G shows the setting.
        r = w.twoway("-G", "-o", option, "127.0.0.1")
        check(f"revokedhostkeys {listed}\n".encode() in r.stdout, f"-G: {r}")


def test_revoked_host_keys_krl():
    # RevokedHostKeys as an OpenSSH KRL (issue 16), from ssh-keygen -k and from twoway-keygen -k: the host
    # key it revokes is refused in every mode though known_hosts trusts it, another key is not, and a KRL
    # that cannot be parsed refuses every host key.
    with World("revokedkrl") as w:
        key = public_key_line(w.host_key + ".pub")
        label = f"[127.0.0.1]:{w.port}"
        before = write_known_hosts(w, f"{label} {key}")
        other = os.path.join(w.dir, "other_key")
        keygen(other, "other")
        krl = os.path.join(w.dir, "revoked.krl")
        spec = os.path.join(w.dir, "spec")
        option = f"RevokedHostKeys={krl}"
        with open(spec, "w") as f:
            f.write("key: " + public_key_line(other + ".pub") + "\n")
        subprocess.run([KEYGEN, "-q", "-k", "-f", krl, spec], check=True, capture_output=True, timeout=60)
        r = w.twoway("-o", option, "127.0.0.1", "echo not-revoked", strict="yes")
        check(r.returncode == 0 and r.stdout == b"not-revoked\n", f"a key the KRL does not revoke: {r}")

        accepted = w.daemon_log().count("Accepted publickey")
        fp = w.host_fingerprint()
        makers = [("twoway-keygen -k (sha256:)", [KEYGEN, "-q", "-k", "-f", krl, spec],
                   "sha256: " + key, f"hash {fp}")]
        if shutil.which("ssh-keygen"):
            makers.append(("ssh-keygen -k (hash:)", ["ssh-keygen", "-q", "-k", "-f", krl, spec], "hash: " + fp,
                           f"hash {fp}"))
            makers.append(("ssh-keygen -k (plain key line)", ["ssh-keygen", "-q", "-k", "-f", krl, spec], key,
                           f"key {fp}"))
        for what, command, line, detail in makers:
            with open(spec, "w") as f:
                f.write(line + "\n")
            subprocess.run(command, check=True, capture_output=True, timeout=60)
            for strict, err in refusals_with(w, option):
                check("WARNING: REVOKED HOST KEY DETECTED!" in err, f"{what}, {strict}: {err}")
                check(f"Revoked ED25519 key in {krl} ({detail})\n" in err, f"{what}, {strict}: {err}")
                check(err.endswith("Host key verification failed.\n"), err)
                check(read(w.known_hosts) == before, f"{what}, {strict}: known_hosts was modified")
        check(w.daemon_log().count("Accepted publickey") == accepted, "the client authenticated to a revoked host key")

        # A KRL twoway cannot parse: every host key refused, with the reason.
        with open(krl, "rb") as f:
            data = f.read()
        with open(krl, "wb") as f:
            f.write(data[:-1])
        for strict, err in refusals_with(w, option):
            check(f"in revoked keys file {krl}: an OpenSSH KRL twoway cannot use: " in err, f"{strict}: {err}")
            check(err.endswith("Host key verification failed.\n"), err)


def refusals_with(w, option):
    """As refusals_in_every_mode, with one -o option."""
    for strict in ("ask", "yes", "accept-new", "no"):
        r = w.twoway("-o", option, "127.0.0.1", "echo should-not-run", strict=strict)
        check(r.returncode == 255, f"{strict}: exit status {r.returncode}: {r}")
        check(r.stdout == b"", f"{strict}: stdout {r.stdout!r}")
        yield strict, r.stderr.decode()


def host_certificate(w):
    """An OpenSSH host certificate for the daemon's key, made by ssh-keygen with a throwaway CA: the
    -cert.pub line."""
    ca = os.path.join(w.dir, "host_ca")
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", ca], check=True, capture_output=True)
    pub = os.path.join(w.dir, "hostkey_for_cert.pub")
    shutil.copy(w.host_key + ".pub", pub)
    subprocess.run(["ssh-keygen", "-q", "-s", ca, "-I", "host", "-h", "-n", "127.0.0.1", pub], check=True,
                   capture_output=True)
    with open(os.path.join(w.dir, "hostkey_for_cert-cert.pub")) as f:
        return f.read().strip()


def test_a_revoked_certificate_revokes_its_key():
    # OpenSSH compares a revoked certificate with a plain key by the key it certifies
    # (sshkey_equal_public), so revoking the certificate revokes the key: in known_hosts (@revoked) and
    # in a RevokedHostKeys list alike.
    with World("revokedcert") as w:
        cert = host_certificate(w)
        check(cert.startswith("ssh-ed25519-cert-v01@openssh.com "), cert)
        label = f"[127.0.0.1]:{w.port}"
        before = write_known_hosts(w, f"{label} {public_key_line(w.host_key + '.pub')}", f"@revoked * {cert}")
        for strict, err in refusals_in_every_mode(w):
            check("REVOKED HOST KEY DETECTED" in err and f"Revoked ED25519 key in {w.known_hosts}:2\n" in err,
                  f"{strict}: {err}")
            check(read(w.known_hosts) == before, f"{strict}: known_hosts was modified")
        write_known_hosts(w, f"{label} {public_key_line(w.host_key + '.pub')}")
        listed = os.path.join(w.dir, "revoked_host_keys")
        with open(listed, "w") as f:
            f.write(cert + "\n")
        r = w.twoway("-o", f"RevokedHostKeys={listed}", "127.0.0.1", "echo should-not-run", strict="no")
        check(r.returncode == 255 and f"Revoked ED25519 key in {listed}:1\n" in r.stderr.decode(), f"{r}")
        check("Accepted publickey" not in w.daemon_log(), "the client authenticated to a revoked host key")


def test_host_patterns():
    with World("patterns") as w:
        key = public_key_line(w.host_key + ".pub")
        label = f"[127.0.0.1]:{w.port}"
        # A wildcard names the host: known, silently, with strict checking.
        write_known_hosts(w, f"[localhost]:*,[127.0.0.?]:{w.port} {key}")
        r = w.twoway("127.0.0.1", "echo wild", strict="yes")
        check(r.returncode == 0 and r.stdout == b"wild\n" and r.stderr == b"", f"wildcard: {r}")
        # A negation takes the host out of the line, whatever else on it matches: unknown, so refused.
        write_known_hosts(w, f"*,!{label} {key}")
        r = w.twoway("127.0.0.1", "echo should-not-run", strict="yes")
        check(r.returncode == 255 and re.search(rb"No ED25519 host key is known", r.stderr), f"negated: {r}")
        # Patterns match the whole "[host]:port" name, as in OpenSSH: "127.0.0.*" names the default port only.
        write_known_hosts(w, f"127.0.0.* {key}")
        r = w.twoway("127.0.0.1", "true", strict="yes")
        check(r.returncode == 255, f"a default-port pattern matched another port: {r}")
        # A pattern line with another key for the host is a changed key, refused in every mode.
        old = os.path.join(w.dir, "old_host_key")
        keygen(old, "old-host")
        before = write_known_hosts(w, f"* {public_key_line(old + '.pub')}")
        for strict, err in refusals_in_every_mode(w):
            check("WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!" in err, err)
            check(f"Offending ED25519 key in {w.known_hosts}:1\n" in err, f"{strict}: file:line missing:\n{err}")
            check(read(w.known_hosts) == before, f"{strict}: known_hosts was modified")
        # The advice (twoway-keygen -R) removes the pattern line that matched, as ssh-keygen -R does.
        r = subprocess.run([KEYGEN, "-f", w.known_hosts, "-R", label], capture_output=True, timeout=30)
        check(r.returncode == 0 and read(w.known_hosts) == "", f"-R {label}: {r} {read(w.known_hosts)!r}")
        write_known_hosts(w, f"* {key}")
        r = w.twoway("127.0.0.1", "echo star", strict="yes")
        check(r.returncode == 0 and r.stdout == b"star\n", f"*: {r}")


def hash_known_hosts_line(line, work_dir):
    """The line with its host name hashed as OpenSSH's HashKnownHosts writes it (|1|salt|hash): by
    ssh-keygen -H itself when it is installed, else the same HMAC-SHA1 computed here."""
    if shutil.which("ssh-keygen"):
        path = os.path.join(work_dir, "to_hash")
        with open(path, "w") as f:
            f.write(line + "\n")
        subprocess.run(["ssh-keygen", "-q", "-H", "-f", path], check=True, timeout=30, capture_output=True)
        with open(path) as f:
            hashed = f.read().strip()
        os.remove(path)
        os.remove(path + ".old")
    else:
        host, rest = line.split(" ", 1)
        salt = os.urandom(20)
        mac = hmac.new(salt, host.encode(), hashlib.sha1).digest()
        hashed = f"|1|{base64.b64encode(salt).decode()}|{base64.b64encode(mac).decode()} {rest}"
    check(hashed.startswith("|1|"), f"not a hashed line: {hashed!r}")
    return hashed


def test_hashed_known_hosts_lines():
    """Issue 16: hashed names as Debian's ssh writes them. A line from ssh-keygen -H makes the host known;
    HashKnownHosts yes records the host hashed, in a line ssh-keygen -F finds and twoway-keygen -F and -R
    handle."""
    with World("hashed") as w:
        label = f"[127.0.0.1]:{w.port}"
        key_b = public_key_line(w.host_key + ".pub")
        hashed_b = hash_known_hosts_line(f"{label} {key_b}", w.dir)
        write_known_hosts(w, "# written by ssh with HashKnownHosts yes", hashed_b)
        r = w.twoway("127.0.0.1", "echo hashed", strict="yes")
        check(r.returncode == 0 and r.stdout == b"hashed\n" and r.stderr == b"", f"known through a hashed line: {r}")
        # twoway-keygen -F finds it as ssh-keygen -F does.
        r = subprocess.run([KEYGEN, "-f", w.known_hosts, "-F", label], capture_output=True, timeout=30)
        check(r.returncode == 0 and r.stdout.decode() == f"# Host {label} found: line 2 \n{hashed_b}\n", f"-F: {r}")

        # HashKnownHosts yes: a new host is recorded hashed; the name is nowhere in the file.
        os.remove(w.known_hosts)
        r = w.twoway("-o", "HashKnownHosts=yes", "127.0.0.1", "echo new", strict="accept-new")
        check(r.returncode == 0 and r.stdout == b"new\n", f"{r}")
        check(f"Permanently added '{label}' (ED25519)".encode() in r.stderr, f"{r.stderr!r}")
        text = read(w.known_hosts)
        check(re.fullmatch(r"\|1\|[A-Za-z0-9+/]{27}=\|[A-Za-z0-9+/]{27}= " + re.escape(key_b) + "\n", text) is not None,
              f"not one hashed line: {text!r}")
        check("127.0.0.1" not in text, text)
        check(os.stat(w.known_hosts).st_mode & 0o777 == 0o600, "known_hosts is not 0600")
        # ssh-keygen -F finds twoway's hashed line (and twoway finds it again, without a word).
        if shutil.which("ssh-keygen"):
            r = subprocess.run(["ssh-keygen", "-f", w.known_hosts, "-F", label], capture_output=True, timeout=30)
            check(r.returncode == 0 and r.stdout.decode() == f"# Host {label} found: line 1 \n{text}",
                  f"ssh-keygen -F: {r}")
        r = w.twoway("-o", "HashKnownHosts=yes", "127.0.0.1", "echo again", strict="yes")
        check(r.returncode == 0 and r.stdout == b"again\n" and r.stderr == b"", f"{r}")
        check(read(w.known_hosts) == text, "known_hosts changed on the second connection")
        # -G shows the setting; the default is no.
        r = w.twoway("-G", "127.0.0.1")
        check(b"hashknownhosts no\n" in r.stdout, f"-G: {r.stdout!r}")
        # twoway-keygen -R removes the hashed line, keeping FILE.old.
        r = subprocess.run([KEYGEN, "-f", w.known_hosts, "-R", label], capture_output=True, timeout=30)
        check(r.returncode == 0 and f"# Host {label} found: line 1\n".encode() in r.stdout, f"-R: {r}")
        check(read(w.known_hosts) == "" and read(w.known_hosts + ".old") == text, "-R did not remove the line")


def test_unreadable_known_hosts_lines_never_make_an_impostor_new():
    """Issue 13: a line with one name twoway refuses used to be skipped, so the host looked new and
    accept-new/no recorded an impostor's key. Issue 16: a hashed line is read now, so the impostor's key
    under it is a changed key; one whose hash field is malformed still makes the host uncertain."""
    with World("uncertain") as w:
        # The daemon is the impostor (its key B); the user recorded the real host's key A.
        real = os.path.join(w.dir, "real_host_key")
        keygen(real, "real-host")
        label = f"[127.0.0.1]:{w.port}"
        key_a = public_key_line(real + ".pub")
        key_b = public_key_line(w.host_key + ".pub")
        hashed_a = hash_known_hosts_line(f"{label} {key_a}", w.dir)

        def refused_uncertain(file_text, line_no, reason):
            for strict, err in refusals_in_every_mode(w):
                check(f"The authenticity of host '{label}' can't be established: known_hosts lines twoway cannot\n"
                      "read may name it, with this key or another, so twoway neither trusts nor records a key "
                      "for it:\n" in err, f"{strict}:\n{err}")
                check(f"  {w.known_hosts}:{line_no}: {reason}" in err, f"{strict}: file:line and why missing:\n{err}")
                check(w.host_fingerprint() in err, f"{strict}: fingerprint missing:\n{err}")
                check(f'twoway-keygen -f "{w.known_hosts}" -F "{label}"' in err, f"{strict}: advice missing:\n{err}")
                check(err.endswith("Host key verification failed.\n"), err)
                check("Permanently added" not in err, err)
                check(read(w.known_hosts) == file_text, f"{strict}: known_hosts was modified")
            check("Accepted publickey" not in w.daemon_log(), "the client authenticated to the impostor")

        # A hashed line (from ssh-keygen -H) with the real key: the impostor's key is a changed key.
        before = write_known_hosts(w, "# written by ssh with HashKnownHosts yes", hashed_a)
        for strict, err in refusals_in_every_mode(w):
            check("WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!" in err, f"{strict}:\n{err}")
            check(f"Offending ED25519 key in {w.known_hosts}:2\n" in err, f"{strict}:\n{err}")
            check(read(w.known_hosts) == before, f"{strict}: known_hosts was modified")
        # The same line with its hash field damaged (padding lost): it may name any host, so uncertain.
        field, rest = hashed_a.split(" ", 1)
        broken = f"{field.rstrip('=')} {rest}"
        before = write_known_hosts(w, "# written by ssh with HashKnownHosts yes", broken)
        reason = "malformed hashed host name (not |1|salt|hash with a 20-byte salt and hash): it may name any host"
        refused_uncertain(before, 2, reason)
        # twoway-keygen -F shows the line it cannot check, without calling it a match (exit status 1).
        r = subprocess.run([KEYGEN, "-f", w.known_hosts, "-F", label], capture_output=True, timeout=30)
        check(r.returncode == 1 and r.stdout.decode() ==
              f"# Host {label} may be named by line 2, which twoway cannot check: {reason}\n{broken}\n", f"-F: {r}")

        # One name twoway refuses on a line whose other name is the host: the good name counts, and the
        # impostor's key is a changed key (as ssh reports it), not a new host.
        before = write_known_hosts(w, f"{label},legacy-host:{w.port} {key_a}")
        for strict, err in refusals_in_every_mode(w):
            check("WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!" in err, f"{strict}:\n{err}")
            check(f"Offending ED25519 key in {w.known_hosts}:1\n" in err, err)
            check(read(w.known_hosts) == before, f"{strict}: known_hosts was modified")

        # The host written "host:port" without brackets (a name twoway refuses, meant as [host]:port).
        before = write_known_hosts(w, f"127.0.0.1:{w.port} {key_a}")
        refused_uncertain(before, 1, "a host name on this line cannot be read and may mean this host")

        # A key of another type recorded for the host: a changed key, as OpenSSH decides.
        rsa = os.path.join(w.dir, "rsa_host_key")
        if shutil.which("ssh-keygen"):
            subprocess.run(["ssh-keygen", "-q", "-t", "rsa", "-b", "2048", "-N", "", "-f", rsa], check=True,
                           timeout=60, capture_output=True)
            before = write_known_hosts(w, f"{label} {public_key_line(rsa + '.pub')}")
            for strict, err in refusals_in_every_mode(w):
                check("WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!" in err, f"{strict}:\n{err}")
                check(f"Offending ssh-rsa key in {w.known_hosts}:1\n" in err, f"{strict}:\n{err}")
                check(read(w.known_hosts) == before, f"{strict}: known_hosts was modified")

        # A readable line with the key the host presents: known, whatever the hashed line says.
        write_known_hosts(w, hashed_a, f"{label} {key_b}")
        r = w.twoway("127.0.0.1", "echo known", strict="yes")
        check(r.returncode == 0 and r.stdout == b"known\n" and r.stderr == b"", f"known beside a hashed line: {r}")


def test_known_host_with_another_name_is_still_unknown():
    with World("othername") as w:
        # A key recorded for the default port (bare name) does not vouch for another port.
        with open(w.known_hosts, "w") as f:
            f.write(f"127.0.0.1 {public_key_line(w.host_key + '.pub')}\n")
        os.chmod(w.known_hosts, 0o600)
        r = w.twoway("127.0.0.1", "true", strict="yes")
        check(r.returncode == 255 and re.search(rb"No ED25519 host key is known", r.stderr), f"{r}")


def test_user_known_hosts_file_option():
    with World("ukhf") as w:
        other = os.path.join(w.dir, "elsewhere_known_hosts")
        r = w.twoway("-o", f"UserKnownHostsFile={other}", "127.0.0.1", "true", strict="accept-new")
        check(r.returncode == 0, f"{r}")
        check(os.path.exists(other) and not os.path.exists(w.known_hosts), "recorded in the wrong file")
        # UserKnownHostsFile none: trusted for this connection only, nothing written.
        r = w.twoway("-o", "UserKnownHostsFile=none", "127.0.0.1", "true", strict="accept-new")
        check(r.returncode == 0 and not os.path.exists(w.known_hosts), f"{r}")


if __name__ == "__main__":
    run_tests(globals())

#!/usr/bin/env python3
"""Several identities on one connection (PROTOCOL.md 4.1.3) and OpenSSH's ssh-agent: every -i key is
offered in turn until one is accepted, up to twowayd's MaxAuthTries; ~/.ssh/id_ed25519 is in the default
list; keys held by a real ssh-agent (loaded with ssh-add, an encrypted OpenSSH key among them) are used
with no -i and no passphrase prompt, and so is a certificate ssh-add loaded beside its key; IdentitiesOnly,
IdentityAgent none and AddKeysToAgent behave as ssh's."""

import os
import re
import shutil
import signal
import subprocess
import tempfile
import time

from twoway_env import KEYGEN, PtyProcess, World, check, public_key_line, run_tests

SSH_KEYGEN = shutil.which("ssh-keygen") or "/usr/bin/ssh-keygen"
SSH_AGENT = shutil.which("ssh-agent") or "/usr/bin/ssh-agent"
SSH_ADD = shutil.which("ssh-add") or "/usr/bin/ssh-add"


def trusted(w):
    with open(w.known_hosts, "w") as f:
        f.write(f"[127.0.0.1]:{w.port} {public_key_line(w.host_key + '.pub')}\n")
    os.chmod(w.known_hosts, 0o600)


def openssh_key(path, passphrase=""):
    subprocess.run([SSH_KEYGEN, "-q", "-t", "ed25519", "-N", passphrase, "-C", os.path.basename(path), "-f", path],
                   check=True, timeout=60, stdin=subprocess.DEVNULL)
    return path


def ssh_fingerprint(pub):
    out = subprocess.run([SSH_KEYGEN, "-l", "-f", pub], check=True, timeout=30, capture_output=True, text=True).stdout
    return out.split()[1]


def authorize(w, *pubs):
    with open(w.authorized_keys, "w") as f:
        for p in pubs:
            f.write(public_key_line(p) + "\n")


def accepted_and_failed(w, since):
    log = w.daemon_log()[since:]
    return (re.findall(r"Accepted publickey for \S+ from 127\.0\.0\.1 port (\d+): ED25519 (SHA256:\S+)", log),
            re.findall(r"Failed publickey for \S+ from 127\.0\.0\.1 port (\d+): ED25519 (SHA256:\S+)", log))


class Agent:
    """A private ssh-agent (-D, killed by its PID) with its socket in a temporary directory."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="twoway-agent-")
        self.sock = os.path.join(self.dir, "agent.sock")
        self.proc = subprocess.Popen([SSH_AGENT, "-D", "-a", self.sock], stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while not os.path.exists(self.sock):
            check(time.monotonic() < deadline and self.proc.poll() is None, "ssh-agent did not start")
            time.sleep(0.02)

    def add(self, key, passphrase=None):
        env = {"PATH": "/usr/bin:/bin", "SSH_AUTH_SOCK": self.sock}
        if passphrase is not None:
            askpass = os.path.join(self.dir, "askpass")
            with open(askpass, "w") as f:
                f.write(f"#!/bin/sh\necho '{passphrase}'\n")
            os.chmod(askpass, 0o700)
            env.update({"SSH_ASKPASS": askpass, "SSH_ASKPASS_REQUIRE": "force", "DISPLAY": ":0"})
        subprocess.run([SSH_ADD, "-q", key], check=True, timeout=30, env=env, stdin=subprocess.DEVNULL,
                       capture_output=True)

    def listed(self):
        r = subprocess.run([SSH_ADD, "-L"], timeout=30, env={"PATH": "/usr/bin:/bin", "SSH_AUTH_SOCK": self.sock},
                           capture_output=True, text=True)
        return [" ".join(line.split()[:2]) for line in r.stdout.splitlines() if line.startswith("ssh-")]

    def close(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=10)
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def test_every_i_key_in_turn_on_one_connection():
    with World("ids-order") as w:
        trusted(w)
        wrong = openssh_key(os.path.join(w.dot, "wrong"))
        since = len(w.daemon_log())
        r = w.twoway("-v", "-i", wrong, "-i", w.user_key, "127.0.0.1", "echo in")
        check(r.returncode == 0 and r.stdout == b"in\n", f"two -i keys, the second authorized: {r}")
        err = r.stderr.decode()
        offers = re.findall(r"Offering public key: (\S+)", err)
        check(offers == [wrong, w.user_key], f"offered in order: {offers}\n{err}")
        accepted, failed = accepted_and_failed(w, since)
        check(len(accepted) == 1 and len(failed) == 1, f"one failure then one acceptance: {accepted} {failed}")
        # One connection: the same client port in both lines (sshd's MaxAuthTries counts per connection).
        check(accepted[0][0] == failed[0][0], f"one connection: {accepted} {failed}")
        check(failed[0][1] == ssh_fingerprint(wrong + ".pub") and accepted[0][1] == w.user_fingerprint(),
              f"the keys in the log: {accepted} {failed}")
        # The refused one alone: denied, as before.
        r = w.twoway("-i", wrong, "127.0.0.1", "true")
        check(r.returncode == 255 and b"Permission denied (publickey" in r.stderr, f"the wrong key alone: {r}")


def test_a_later_keys_passphrase_is_not_under_connect_timeout():
    # The second key's passphrase is asked mid-handshake; the person's time must not count against
    # ConnectTimeout (1 s here, the answer comes after 2.5 s).
    with World("ids-slow-pass") as w:
        trusted(w)
        wrong = openssh_key(os.path.join(w.dot, "wrong"))
        locked = os.path.join(w.dot, "locked")
        subprocess.run([KEYGEN, "-q", "-a", "1", "-N", "pass words", "-C", "locked", "-f", locked], check=True,
                       timeout=60, stdout=subprocess.DEVNULL)
        with open(w.authorized_keys, "a") as f, open(locked + ".pub") as pub:
            f.write(pub.read())
        p = PtyProcess(w.argv("-o", "ConnectTimeout=1", "-i", wrong, "-i", locked, "127.0.0.1", "echo in"),
                       w.client_env())
        try:
            p.expect("Enter passphrase for key")
            time.sleep(2.5)
            p.send("pass words\n")
            p.expect("in")
            rc = p.wait()
            check(rc == 0 and "timed out" not in p.output(), f"rc {rc}: {p.output()!r}")
        finally:
            p.close()


def test_max_auth_tries_bounds_the_keys_per_connection():
    with World("ids-tries", extra_config="MaxAuthTries 2\n") as w:
        trusted(w)
        wrong1 = openssh_key(os.path.join(w.dot, "wrong1"))
        wrong2 = openssh_key(os.path.join(w.dot, "wrong2"))
        since = len(w.daemon_log())
        r = w.twoway("-i", wrong1, "-i", wrong2, "-i", w.user_key, "127.0.0.1", "true")
        check(r.returncode == 255 and b"Permission denied" in r.stderr, f"third key beyond MaxAuthTries 2: {r}")
        accepted, failed = accepted_and_failed(w, since)
        check(not accepted and len(failed) == 2, f"two tries only: {accepted} {failed}")
        r = w.twoway("-i", wrong1, "-i", w.user_key, "127.0.0.1", "true")
        check(r.returncode == 0, f"second key within MaxAuthTries 2: {r}")


def test_ssh_id_ed25519_is_in_the_default_list():
    with World("ids-default") as w:
        trusted(w)
        os.remove(w.user_key)
        os.remove(w.user_key + ".pub")
        ssh_dir = os.path.join(w.home, ".ssh")
        os.makedirs(ssh_dir, mode=0o700)
        key = openssh_key(os.path.join(ssh_dir, "id_ed25519"))
        authorize(w, key + ".pub")
        r = w.twoway("-v", "127.0.0.1", "echo ok")
        check(r.returncode == 0 and r.stdout == b"ok\n", f"~/.ssh/id_ed25519 by default: {r}")
        check(f"Offering public key: {key}".encode() in r.stderr, f"{r.stderr!r}")


def test_agent_keys_with_no_i_and_no_passphrase():
    with World("ids-agent") as w, Agent() as agent:
        trusted(w)
        os.remove(w.user_key)  # no key file at all: only the agent's
        os.remove(w.user_key + ".pub")
        keys = tempfile.mkdtemp(prefix="twoway-agent-keys-", dir=w.dir)
        other = openssh_key(os.path.join(keys, "other"))
        locked = openssh_key(os.path.join(keys, "locked"), passphrase="correct horse")
        agent.add(other)
        agent.add(locked, passphrase="correct horse")
        authorize(w, locked + ".pub")
        env = w.client_env(SSH_AUTH_SOCK=agent.sock)
        since = len(w.daemon_log())
        r = w.twoway("-v", "127.0.0.1", "echo agent", env=env)
        check(r.returncode == 0 and r.stdout == b"agent\n", f"the encrypted key, through the agent: {r}")
        check(b"passphrase" not in r.stderr.lower(), f"no passphrase asked: {r.stderr!r}")
        accepted, failed = accepted_and_failed(w, since)
        check([a[1] for a in accepted] == [ssh_fingerprint(locked + ".pub")] and
              [f[1] for f in failed] == [ssh_fingerprint(other + ".pub")],
              f"the agent's keys in its order on one connection: {accepted} {failed}")
        # IdentityAgent none: no agent, no key: refused before connecting.
        r = w.twoway("-o", "IdentityAgent=none", "-o", "PasswordAuthentication=no", "127.0.0.1", "true", env=env)
        check(r.returncode == 255 and b"no identity key" in r.stderr, f"IdentityAgent none: {r}")
        # IdentitiesOnly: only the agent keys that are an IdentityFile (here the public half of "other").
        shutil.copy(other, os.path.join(w.dot, "only"))
        os.chmod(os.path.join(w.dot, "only"), 0o600)
        since = len(w.daemon_log())
        r = w.twoway("-o", "IdentitiesOnly=yes", "-i", os.path.join(w.dot, "only"), "127.0.0.1", "true", env=env)
        check(r.returncode == 255, f"IdentitiesOnly leaves the authorized agent key out: {r}")
        accepted, failed = accepted_and_failed(w, since)
        check(not accepted and [f[1] for f in failed] == [ssh_fingerprint(other + ".pub")],
              f"IdentitiesOnly offered: {failed}")
        # IdentityAgent naming the socket, with SSH_AUTH_SOCK unset.
        r = w.twoway("-o", f"IdentityAgent={agent.sock}", "127.0.0.1", "true", env=w.client_env())
        check(r.returncode == 0, f"IdentityAgent path: {r}")


def test_agent_held_certificate():
    """ssh-add loads a certificate found beside its key (OpenSSH's ssh-keygen -s made both): twoway offers
    it from the agent as ssh does, the agent signing for it, and twowayd accepts it through its CA alone."""
    cas = tempfile.mkdtemp(prefix="twoway-agent-ca-")
    try:
        ca = openssh_key(os.path.join(cas, "user_ca"))
        with World("ids-agent-cert", extra_config=f"TrustedUserCAKeys {ca}.pub\n") as w, Agent() as agent:
            trusted(w)
            os.remove(w.user_key)  # the world's authorized key is gone: only the agent's certificate can log in
            os.remove(w.user_key + ".pub")
            keys = tempfile.mkdtemp(prefix="twoway-agent-keys-", dir=w.dir)
            key = openssh_key(os.path.join(keys, "certified"), passphrase="correct horse")
            subprocess.run([SSH_KEYGEN, "-q", "-s", ca, "-I", "agent-held", "-n", "root", "-z", "7", key + ".pub"],
                           check=True, timeout=60, stdin=subprocess.DEVNULL, capture_output=True)
            agent.add(key, passphrase="correct horse")
            listed = agent.listed()
            check(any(line.startswith("ssh-ed25519-cert-v01@openssh.com ") for line in listed),
                  f"ssh-add loaded the certificate beside the key: {listed}")
            env = w.client_env(SSH_AUTH_SOCK=agent.sock)
            r = w.twoway("-v", "127.0.0.1", "echo certified", env=env)
            check(r.returncode == 0 and r.stdout == b"certified\n", f"the agent's certificate logs in: {r}")
            check(b'Will offer certificate: agent: ' in r.stderr and b'ID "agent-held" serial 7' in r.stderr,
                  f"offered as a certificate from the agent: {r.stderr!r}")
            w.wait_log(r'Accepted certificate ID "agent-held" \(serial 7\) signed by ED25519 CA SHA256:\S+ via '
                       + re.escape(ca) + r"\.pub:1")
            # IdentitiesOnly with another IdentityFile: the certificate's key is not one, so it is not offered.
            other = openssh_key(os.path.join(keys, "other"))
            r = w.twoway("-v", "-o", "IdentitiesOnly=yes", "-i", other, "127.0.0.1", "true", env=env)
            check(r.returncode == 255 and b"Will offer certificate" not in r.stderr,
                  f"IdentitiesOnly leaves the agent's certificate out: {r}")
            # ... and with the certified key's file named, it is.
            r = w.twoway("-o", "IdentitiesOnly=yes", "-i", key, "127.0.0.1", "echo named", env=env)
            check(r.returncode == 0 and r.stdout == b"named\n" and b"passphrase" not in r.stderr.lower(),
                  f"IdentitiesOnly with the certified key's file: {r}")
    finally:
        shutil.rmtree(cas, ignore_errors=True)


def test_add_keys_to_agent():
    with World("ids-add") as w, Agent() as agent:
        trusted(w)
        env = w.client_env(SSH_AUTH_SOCK=agent.sock)
        check(agent.listed() == [], "an empty agent")
        r = w.twoway("127.0.0.1", "true", env=env)
        check(r.returncode == 0 and agent.listed() == [], f"AddKeysToAgent no (the default): {r}")
        r = w.twoway("-o", "AddKeysToAgent=yes", "127.0.0.1", "true", env=env)
        check(r.returncode == 0, f"{r}")
        check(agent.listed() == [public_key_line(w.user_key + ".pub")], f"added: {agent.listed()}")
        # From now on the agent's copy is the one used: the file may go.
        os.remove(w.user_key)
        r = w.twoway("127.0.0.1", "echo again", env=env)
        check(r.returncode == 0 and r.stdout == b"again\n", f"through the added key: {r}")
        r = w.twoway("-o", "AddKeysToAgent=ask", "127.0.0.1", "true", env=env)
        check(r.returncode == 255 and b"AddKeysToAgent" in r.stderr, f"ask refused: {r}")


if __name__ == "__main__":
    run_tests(globals())

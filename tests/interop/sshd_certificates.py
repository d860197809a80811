"""Certificates written by twoway-keygen, used by OpenSSH itself: a private sshd (127.0.0.1, a free port,
throwaway host key, `TrustedUserCAKeys` = a twoway CA, `AuthorizedKeysFile none`) lets a throwaway
account log in with `ssh` and a user certificate from `twoway-keygen -s`, and refuses certificates
issued for another principal, expired, or signed by another CA; force-command is honoured. The other
direction: ssh trusts that sshd through an `@cert-authority` line once it presents a host certificate
from `twoway-keygen -s -h`. And a KRL from `twoway-keygen -k` as sshd's RevokedKeys revokes what it
lists (by serial, key id and key), as `ssh-keygen -Q` says too.

Needs root (a throwaway account, removed after), sshd and ssh; otherwise the test is skipped (77).
Usage: sshd_certificates.py path/to/twoway-keygen (PYTHONPATH: tests/integration, for Account).
"""

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

from twoway_env import Account, check, run_tests

KEYGEN = os.path.abspath(sys.argv.pop(1)) if len(sys.argv) > 1 else "twoway-keygen"
SSHD = shutil.which("sshd", path="/usr/sbin:/usr/bin:/sbin:/bin")
SSH = shutil.which("ssh")
SSH_KEYGEN = shutil.which("ssh-keygen")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(*argv, check_ok=True, timeout=60):
    r = subprocess.run(list(argv), capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    if check_ok and r.returncode != 0:
        raise AssertionError(f"{argv} failed ({r.returncode}): {r.stderr}")
    return r


class World:
    """A temporary directory with a twoway CA, an OpenSSH user key, an account and a private sshd."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="tw-sshd-cert-")
        os.chmod(self.dir, 0o755)
        self.account = Account(self.dir)
        self.sshd = None
        p = self.path
        run(KEYGEN, "-q", "-N", "", "-C", "twoway user ca", "-f", p("ca"))
        run(KEYGEN, "-q", "-N", "", "-C", "another ca", "-f", p("other_ca"))
        run(SSH_KEYGEN, "-q", "-t", "ed25519", "-N", "", "-f", p("host_key"))
        run(SSH_KEYGEN, "-q", "-t", "ed25519", "-N", "", "-C", "user", "-f", p("user"))
        self.port = free_port()
        self.log = p("sshd.log")

    def path(self, name):
        return os.path.join(self.dir, name)

    def start_sshd(self, *extra):
        conf = self.path("sshd_config")
        with open(conf, "w") as f:
            f.write("\n".join([
                f"ListenAddress 127.0.0.1:{self.port}", f"HostKey {self.path('host_key')}",
                f"TrustedUserCAKeys {self.path('ca.pub')}", "AuthorizedKeysFile none", "StrictModes no",
                "UsePAM no", "PasswordAuthentication no", "KbdInteractiveAuthentication no", "PidFile none",
                "LogLevel VERBOSE", *extra, ""]))
        # sshd's privilege separation directory: made by the ssh service when it starts, which it never
        # did on a machine where openssh-server was installed under a policy-rc.d (bench/run does the same).
        os.makedirs("/run/sshd", mode=0o755, exist_ok=True)
        with open(self.log, "ab") as log:
            self.sshd = subprocess.Popen([SSHD, "-D", "-e", "-f", conf], stdout=log, stderr=log,
                                         stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            check(self.sshd.poll() is None, f"sshd exited: {self.sshd_log()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    break
            except OSError:
                time.sleep(0.05)
        time.sleep(0.3)

    def stop_sshd(self):
        if self.sshd is not None and self.sshd.poll() is None:
            self.sshd.terminate()
            try:
                self.sshd.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.sshd.kill()
                self.sshd.wait()
        self.sshd = None

    def sshd_log(self):
        with open(self.log, errors="replace") as f:
            return f.read()

    def sign_user(self, *args, ca="ca"):
        cert = self.path("user-cert.pub")
        if os.path.exists(cert):
            os.unlink(cert)
        run(KEYGEN, "-q", "-s", self.path(ca), *args, self.path("user.pub"))
        return cert

    def ssh(self, *command, known_hosts_line=None):
        kh = self.path("known_hosts")
        if known_hosts_line is not None:
            with open(kh, "w") as f:
                f.write(known_hosts_line + "\n")
        strict = "yes" if known_hosts_line is not None else "no"
        return run(SSH, "-F", "/dev/null", "-i", self.path("user"), "-o", "IdentitiesOnly=yes",
                   "-o", f"UserKnownHostsFile={kh}", "-o", "GlobalKnownHostsFile=/dev/null",
                   "-o", f"StrictHostKeyChecking={strict}", "-o", "BatchMode=yes", "-o", "ConnectTimeout=20",
                   "-p", str(self.port), f"{self.account.name}@127.0.0.1", *command, check_ok=False)

    def close(self):
        self.stop_sshd()
        self.account.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


def test_user_certificates_in_sshd():
    with World() as w:
        w.start_sshd()
        name = w.account.name

        w.sign_user("-I", "good cert", "-n", f"someone,{name}", "-z", "17", "-V", "-5m:+1h")
        r = w.ssh("echo", "logged in")
        check(r.returncode == 0 and r.stdout == "logged in\n", f"certificate login refused: {r.stderr}\n{w.sshd_log()}")
        check('ID good cert (serial 17) CA ED25519' in w.sshd_log(), "sshd did not log the certificate's id and serial")

        w.sign_user("-I", "wrong principal", "-n", "someone-else")
        r = w.ssh("true")
        check(r.returncode == 255, f"a certificate for another principal logged in: {r.stdout}")
        check("name is not a listed principal" in w.sshd_log(), "sshd did not say why it refused the principal")

        w.sign_user("-I", "expired", "-n", name, "-V", "20200101Z:20200102Z")
        r = w.ssh("true")
        check(r.returncode == 255, "an expired certificate logged in")
        check("Certificate invalid: expired" in w.sshd_log(), "sshd did not call the certificate expired")

        w.sign_user("-I", "other ca", "-n", name, ca="other_ca")
        r = w.ssh("true")
        check(r.returncode == 255, "a certificate from an untrusted CA logged in")

        w.sign_user("-I", "forced", "-n", name, "-O", "force-command=echo forced")
        r = w.ssh("echo", "not forced")
        check(r.returncode == 0 and r.stdout == "forced\n", f"force-command not honoured: {r.stdout!r} {r.stderr}")

        w.sign_user("-I", "from elsewhere", "-n", name, "-O", "source-address=192.0.2.0/24")
        r = w.ssh("true")
        check(r.returncode == 255, "a certificate for another source address logged in")


def test_twoway_keygen_krl_in_sshd():
    # A KRL written by twoway-keygen -k as sshd's RevokedKeys (issue 16): sshd refuses a user certificate
    # revoked by serial, by key id, and by its plain key, and lets an unrevoked one in; it reads the KRL
    # at each authentication, and ssh-keygen -Q agrees with twoway-keygen -Q on every file.
    with World() as w:
        name = w.account.name
        krl, spec = w.path("revoked.krl"), w.path("krl.spec")

        def revoke(line, update=True):
            with open(spec, "w") as f:
                f.write(line + "\n")
            run(KEYGEN, "-q", "-k", *(["-u"] if update else []), "-f", krl, "-s", w.path("ca.pub"), spec)

        revoke("serial: 17", update=False)
        w.start_sshd(f"RevokedKeys {krl}")
        w.sign_user("-I", "revoked by serial", "-n", name, "-z", "17")
        r = w.ssh("true")
        check(r.returncode == 255, f"sshd accepted a certificate revoked by serial: {r.stdout}")
        check("revoked by file " + krl in w.sshd_log(), f"sshd did not say the key was revoked:\n{w.sshd_log()}")

        cert = w.sign_user("-I", "not revoked", "-n", name, "-z", "18")
        r = w.ssh("echo", "in")
        check(r.returncode == 0 and r.stdout == "in\n", f"sshd refused a certificate the KRL does not revoke: {r.stderr}")
        for tool in (SSH_KEYGEN, KEYGEN):
            q = run(tool, "-Q", "-f", krl, cert, check_ok=False)
            check(q.returncode == 0 and q.stdout == f"{cert} (user): ok\n", f"{tool} -Q: {q}")

        w.sign_user("-I", "mallory", "-n", name, "-z", "19")
        revoke("id: mallory")
        r = w.ssh("true")
        check(r.returncode == 255, f"sshd accepted a certificate revoked by key id: {r.stdout}")

        cert = w.sign_user("-I", "its key is revoked", "-n", name, "-z", "20")
        revoke("key: " + open(w.path("user.pub")).read().strip())
        r = w.ssh("true")
        check(r.returncode == 255, f"sshd accepted a certificate whose key is revoked: {r.stdout}")
        files = [w.path("user.pub"), cert, w.path("ca.pub"), w.path("other_ca.pub")]
        ours = run(KEYGEN, "-Q", "-f", krl, *files, check_ok=False)
        theirs = run(SSH_KEYGEN, "-Q", "-f", krl, *files, check_ok=False)
        check(ours.returncode == theirs.returncode == 1 and ours.stdout == theirs.stdout,
              f"-Q differs:\ntwoway-keygen {ours}\nssh-keygen {theirs}")
        check(ours.stdout.count("REVOKED") == 2, f"-Q: {ours.stdout}")


def test_host_certificate_trusted_by_ssh():
    with World() as w:
        # The host certificate names the address ssh connects to; ssh checks it against the CA line.
        run(KEYGEN, "-q", "-s", w.path("ca"), "-I", "host", "-h", "-n", "127.0.0.1", w.path("host_key.pub"))
        w.start_sshd(f"HostCertificate {w.path('host_key-cert.pub')}")
        w.sign_user("-I", "user", "-n", w.account.name)
        with open(w.path("ca.pub")) as f:
            ca_line = " ".join(f.read().split()[:2])
        r = w.ssh("echo", "trusted", known_hosts_line=f"@cert-authority [127.0.0.1]:{w.port} {ca_line}")
        check(r.returncode == 0 and r.stdout == "trusted\n", f"ssh did not trust the host certificate: {r.stderr}")
        with open(w.path("other_ca.pub")) as f:
            other_line = " ".join(f.read().split()[:2])
        r = w.ssh("true", known_hosts_line=f"@cert-authority [127.0.0.1]:{w.port} {other_line}")
        check(r.returncode == 255, "ssh trusted a host certificate from a CA it was not given")


if __name__ == "__main__":
    if os.geteuid() != 0 or not (SSHD and SSH and SSH_KEYGEN):
        print("skipped: needs root, sshd, ssh and ssh-keygen")
        sys.exit(77)
    run_tests(globals())

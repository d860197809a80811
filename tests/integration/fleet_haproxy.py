#!/usr/bin/env python3
"""A fleet (issue 16): three twowayd instances that share nothing but a host CA and a user CA, behind
HAProxy (Debian's, TCP mode, round robin) on 127.0.0.1. A client whose known_hosts holds only an
@cert-authority line connects 30 times through the balancer, lands on all three and is never asked
about a host key (StrictHostKeyChecking yes, BatchMode); its user certificate logs in on all three with
no authorized_keys at all; a KRL pushed to the three revokes it on every one."""

import os
import shutil
import signal
import socket
import subprocess
import time

from twoway_env import CLEAN_PATH, KEYGEN, World, check, keygen, public_key_line, run_tests

HAPROXY = shutil.which("haproxy", path=CLEAN_PATH)


def sign(ca, pub, *args):
    """twoway-keygen -s, replacing the certificate beside pub."""
    cert = pub[:-len(".pub")] + "-cert.pub"
    if os.path.exists(cert):
        os.unlink(cert)
    r = subprocess.run([KEYGEN, "-q", "-s", ca, *args, pub], capture_output=True, timeout=60, env={"PATH": CLEAN_PATH})
    check(r.returncode == 0, f"twoway-keygen -s {args}: {r}")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Balancer:
    """HAProxy in TCP mode in front of the given ports, started on a free port, stopped by PID."""

    def __init__(self, directory, ports):
        self.port = free_port()
        self.config = os.path.join(directory, "haproxy.cfg")
        servers = "".join(f"    server node{i} 127.0.0.1:{p}\n" for i, p in enumerate(ports, 1))
        with open(self.config, "w") as f:
            f.write("global\n    maxconn 256\n"
                    "defaults\n    mode tcp\n    timeout connect 5s\n    timeout client 60s\n    timeout server 60s\n"
                    f"frontend fleet\n    bind 127.0.0.1:{self.port}\n    default_backend nodes\n"
                    f"backend nodes\n    balance roundrobin\n{servers}")
        self.log = open(os.path.join(directory, "haproxy.log"), "wb")
        self.proc = subprocess.Popen([HAPROXY, "-db", "-f", self.config], stdin=subprocess.DEVNULL, stdout=self.log,
                                     stderr=subprocess.STDOUT, env={"PATH": CLEAN_PATH})
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            check(self.proc.poll() is None, f"haproxy exited: {open(self.log.name).read()}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.05)
        raise AssertionError("haproxy did not listen in time")

    def close(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.log.close()


def test_fleet_behind_haproxy():
    if HAPROXY is None:
        print("SKIP: haproxy is not installed (scripts/install-deps installs it)")
        return
    nodes = []
    balancer = None
    try:
        for i in range(3):
            nodes.append(World(f"fleet{i + 1}", start=False))
        client = nodes[0]  # its HOME is the client's; its user key the one that gets a certificate
        host_ca = os.path.join(client.dir, "host_ca")
        user_ca = os.path.join(client.dir, "user_ca")
        keygen(host_ca, "host-ca")
        keygen(user_ca, "user-ca")
        krl = os.path.join(client.dir, "fleet.krl")
        open(krl, "wb").close()  # pushed later
        for i, w in enumerate(nodes, 1):
            # Each node: its own host key, certified by the host CA; the user CA only; a marker variable.
            sign(host_ca, w.host_key + ".pub", "-I", f"node{i}", "-h", "-n", "127.0.0.1")
            with open(w.config) as f:
                conf = f.read().replace(f"AuthorizedKeysFile {w.authorized_keys}", "AuthorizedKeysFile none")
            node_krl = os.path.join(w.dir, "revoked.krl")
            shutil.copy(krl, node_krl)
            with open(w.config, "w") as f:
                f.write(conf + f"HostCertificate {w.host_key}-cert.pub\nTrustedUserCAKeys {user_ca}.pub\n"
                        f"RevokedKeys {node_krl}\nSetEnv FLEET_NODE=node{i}\n")
            w.start_daemon()
        balancer = Balancer(client.dir, [w.port for w in nodes])
        with open(client.known_hosts, "w") as f:
            f.write(f"@cert-authority * {public_key_line(host_ca + '.pub')}\n")
        sign(user_ca, client.user_key + ".pub", "-I", "fleet-user", "-n", "root", "-z", "1001")

        seen = {}
        for _ in range(30):
            r = client.twoway("-o", "BatchMode=yes", "127.0.0.1", "echo $FLEET_NODE", strict="yes",
                              port=balancer.port)
            check(r.returncode == 0, f"through the balancer: {r}")
            node = r.stdout.decode().strip()
            seen[node] = seen.get(node, 0) + 1
            check(b"authenticity" not in r.stderr and b"Warning" not in r.stderr, f"a prompt or warning: {r.stderr!r}")
        check(sorted(seen) == ["node1", "node2", "node3"], f"did not land on all three: {seen}")
        with open(client.known_hosts) as f:
            check(f.read().count("\n") == 1, "the client recorded a host key")

        # Revoke the user certificate: the KRL reaches every node (RevokedKeys is read at each login).
        spec = os.path.join(client.dir, "spec")
        with open(spec, "w") as f:
            f.write("serial: 1001\n")
        subprocess.run([KEYGEN, "-q", "-k", "-f", krl, "-s", user_ca + ".pub", spec], check=True,
                       capture_output=True, timeout=60, env={"PATH": CLEAN_PATH})
        for w in nodes:
            shutil.copy(krl, os.path.join(w.dir, "revoked.krl"))
        for _ in range(6):
            r = client.twoway("-o", "BatchMode=yes", "127.0.0.1", "echo $FLEET_NODE", strict="yes",
                              port=balancer.port)
            check(r.returncode == 255 and r.stdout == b"", f"a revoked certificate got in: {r}")
        for w in nodes:
            w.wait_log(r"revoked by file ")
    finally:
        if balancer:
            balancer.close()
        for w in nodes:
            w.close()


if __name__ == "__main__":
    run_tests(globals())

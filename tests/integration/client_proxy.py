#!/usr/bin/env python3
"""ProxyJump / -J and ProxyCommand (ssh's): a jump daemon whose PermitOpen lets it reach a second
daemon, the client's connection to the second one carried by a command (twoway -W through the first,
or a small Python relay), each host's key checked against the client's known_hosts."""

import os
import re
import signal
import subprocess
import sys
import time

from client_forward import echo_through
from services import EchoServer
from twoway_env import World, check, public_key_line, run_tests

RELAY = r"""
import os, select, socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
fds = {0: s.fileno(), s.fileno(): 1}
while fds:
    r, _, _ = select.select(list(fds), [], [])
    for fd in r:
        data = os.read(fd, 65536)
        if not data:
            if fd == 0:
                s.shutdown(socket.SHUT_WR)
            else:
                sys.exit(0)
            del fds[fd]
            continue
        out = fds[fd]
        while data:
            data = data[os.write(out, data):]
"""


class Pair:
    """A jump daemon (PermitOpen 127.0.0.1:*) and a target daemon; the client lives in the jump
    world's home, its key authorized on both, both host keys in its known_hosts unless told otherwise."""

    def __init__(self, name, trust_jump=True, trust_target=True, services=None):
        self.jump = World(name + "-jump", extra_config="PermitOpen 127.0.0.1:*\n")
        self.target = World(name + "-target", services=services)
        with open(self.jump.user_key + ".pub") as f, open(self.target.authorized_keys, "a") as out:
            out.write(f.read())
        lines = []
        if trust_jump:
            lines.append(f"[127.0.0.1]:{self.jump.port} {public_key_line(self.jump.host_key + '.pub')}\n")
        if trust_target:
            lines.append(f"[127.0.0.1]:{self.target.port} {public_key_line(self.target.host_key + '.pub')}\n")
        with open(self.jump.known_hosts, "w") as f:
            f.writelines(lines)
        os.chmod(self.jump.known_hosts, 0o600)
        self.relay = os.path.join(self.jump.dir, "relay.py")
        with open(self.relay, "w") as f:
            f.write(RELAY)

    def run(self, *args, timeout=60):
        """twoway -p TARGET_PORT args... in the jump world's home (no terminal)."""
        return self.jump.twoway(*args, port=self.target.port, timeout=timeout)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.target.close()
        self.jump.close()
        return False


def no_processes_left(p):
    """Neither the relay nor an inner twoway outlives the client (they were reaped: no zombie either)."""
    out = subprocess.run(["ps", "-eo", "pid,ppid,stat,args"], capture_output=True, text=True).stdout
    left = [line for line in out.splitlines() if p.jump.dir in line and "twowayd" not in line]
    check(not left, f"processes left behind: {left}")


def test_jump_runs_a_command_on_the_second_host():
    with Pair("J") as p:
        r = p.run("-J", f"127.0.0.1:{p.jump.port}", "127.0.0.1", "echo via-$((6*7))")
        check(r.returncode == 0, f"twoway -J failed ({r.returncode}): {r.stderr.decode()}")
        check(r.stdout == b"via-42\n", f"unexpected output {r.stdout!r}")
        # The jump daemon made the direct connection; the target saw the login.
        p.jump.wait_log(rf"direct connection \(127\.0\.0\.1 port {p.target.port}\)")
        no_processes_left(p)


def test_jump_from_the_config_and_verbose_passes_on():
    with Pair("Jcfg") as p:
        cfg = os.path.join(p.jump.dot, "config")
        with open(cfg, "w") as f:
            f.write(f"Host target\n  HostName 127.0.0.1\n  ProxyJump 127.0.0.1:{p.jump.port}\n")
        os.chmod(cfg, 0o600)
        r = p.run("-v", "target", "echo ok")
        err = r.stderr.decode()
        check(r.returncode == 0 and r.stdout == b"ok\n", f"ProxyJump from the config failed: {err}")
        check(f"-v -W '[127.0.0.1]:{p.target.port}' 127.0.0.1" in err, f"no implicit ProxyCommand line: {err}")
        check("Authenticated to 127.0.0.1 (via proxy)" in err, err)
        # -G shows it as ssh -G does.
        g = p.run("-G", "target")
        check(f"proxyjump 127.0.0.1:{p.jump.port}\n" in g.stdout.decode(), g.stdout.decode())
        # -J on the command line beats the config: a jump host that does not exist fails.
        bad = p.run("-J", "127.0.0.1:1", "target", "true")
        check(bad.returncode == 255, f"-J did not win over the config: {bad.returncode}")


def test_unknown_jump_host_key_fails():
    with Pair("Jnokey", trust_jump=False) as p:
        r = p.run("-o", "BatchMode=yes", "-J", f"127.0.0.1:{p.jump.port}", "127.0.0.1", "echo reached")
        err = r.stderr.decode()
        check(r.returncode == 255, f"exit {r.returncode}, expected 255: {err}")
        check(r.stdout == b"", f"the command ran: {r.stdout!r}")
        check("Host key verification failed." in err, err)
        check("ProxyJump for 127.0.0.1 port" in err and "during the handshake" in err, err)
        no_processes_left(p)


def test_wrong_target_key_fails_through_the_jump():
    with Pair("Jwrong") as p:
        # The target's line holds the jump host's key: a changed key, refused in every mode.
        with open(p.jump.known_hosts, "w") as f:
            f.write(f"[127.0.0.1]:{p.jump.port} {public_key_line(p.jump.host_key + '.pub')}\n")
            f.write(f"[127.0.0.1]:{p.target.port} {public_key_line(p.jump.host_key + '.pub')}\n")
        r = p.run("-J", f"127.0.0.1:{p.jump.port}", "127.0.0.1", "echo reached")
        err = r.stderr.decode()
        check(r.returncode == 255 and r.stdout == b"", f"exit {r.returncode}: {err}")
        check("REMOTE HOST IDENTIFICATION HAS CHANGED" in err, err)


def test_proxy_command_relay():
    with Pair("PC") as p:
        r = p.run("-o", f"ProxyCommand={sys.executable} {p.relay} %p", "127.0.0.1", "echo relayed")
        check(r.returncode == 0 and r.stdout == b"relayed\n", f"ProxyCommand failed ({r.returncode}): {r.stderr.decode()}")
        # ssh's "first one wins": a ProxyJump after a ProxyCommand changes nothing.
        r = p.run("-o", f"ProxyCommand={sys.executable} {p.relay} %p", "-o", "ProxyJump=127.0.0.1:1",
                  "127.0.0.1", "echo first")
        check(r.returncode == 0 and r.stdout == b"first\n", f"ProxyCommand did not win: {r.stderr.decode()}")
        r = p.run("-o", "ProxyCommand=none", "127.0.0.1", "echo direct")
        check(r.returncode == 0 and r.stdout == b"direct\n", f"ProxyCommand none: {r.stderr.decode()}")
        no_processes_left(p)


def test_proxy_command_twoway_w_through_the_jump():
    with Pair("PCW") as p:
        inner = f"{os.environ.get('TWOWAY', 'twoway')} -p {p.jump.port} -W %h:%p 127.0.0.1"
        r = p.run("-o", f"ProxyCommand={inner}", "127.0.0.1", "echo nested")
        check(r.returncode == 0 and r.stdout == b"nested\n", f"exit {r.returncode}: {r.stderr.decode()}")


def test_proxy_command_that_exits_at_once():
    with Pair("PCexit") as p:
        r = p.run("-o", "ProxyCommand=false", "127.0.0.1", "echo never")
        err = r.stderr.decode()
        check(r.returncode == 255 and r.stdout == b"", f"exit {r.returncode}: {err}")
        check(err == f"twoway: ProxyCommand for 127.0.0.1 port {p.target.port} exited with status 1 during the handshake\n",
              f"unexpected message: {err!r}")
        # A command that cannot be found: the shell says so, twoway adds its one line.
        r = p.run("-o", "ProxyCommand=/nonexistent/proxy %h", "127.0.0.1", "true")
        err = r.stderr.decode()
        check(r.returncode == 255 and "exited with status 127 during the handshake" in err, err)


def test_connect_timeout_bounds_a_silent_proxy():
    with Pair("PCtimeout") as p:
        marker = os.path.join(p.jump.dir, "silent")
        start = time.monotonic()
        # The command reads nothing and says nothing: only ConnectTimeout ends the handshake.
        r = p.run("-o", "ConnectTimeout=1", "-o", f"ProxyCommand={sys.executable} -c 'import time; time.sleep(30)' {marker}", "127.0.0.1", "true")
        err = r.stderr.decode()
        check(r.returncode == 255, f"exit {r.returncode}: {err}")
        check(time.monotonic() - start < 10, "ConnectTimeout did not bound the handshake")
        check(err == f"Connection timed out during the handshake with 127.0.0.1 port {p.target.port} (via ProxyCommand)\n",
              f"unexpected message: {err!r}")
        no_processes_left(p)


def test_two_jump_hosts():
    # -J a,b: the outer twoway runs "twoway -J a -W [target]:port b", which runs "twoway -W [b]:port a".
    with Pair("J2") as p, World("J2-middle", extra_config="PermitOpen 127.0.0.1:*\n") as middle:
        with open(p.jump.user_key + ".pub") as f, open(middle.authorized_keys, "a") as out:
            out.write(f.read())
        with open(p.jump.known_hosts, "a") as f:
            f.write(f"[127.0.0.1]:{middle.port} {public_key_line(middle.host_key + '.pub')}\n")
        r = p.run("-J", f"127.0.0.1:{p.jump.port},ssh://127.0.0.1:{middle.port}", "127.0.0.1", "echo two-hops")
        check(r.returncode == 0 and r.stdout == b"two-hops\n", f"exit {r.returncode}: {r.stderr.decode()}")
        p.jump.wait_log(rf"direct connection \(127\.0\.0\.1 port {middle.port}\)")
        middle.wait_log(rf"direct connection \(127\.0\.0\.1 port {p.target.port}\)")
        no_processes_left(p)


def test_a_jump_loop_in_the_configuration_ends():
    # ssh would start processes without end; twoway stops at 32 nested jumps.
    with Pair("Jloop") as p:
        cfg = os.path.join(p.jump.dot, "config")
        with open(cfg, "w") as f:
            f.write("Host a\n  HostName 127.0.0.1\n  ProxyJump b\nHost b\n  HostName 127.0.0.1\n  ProxyJump a\n")
        os.chmod(cfg, 0o600)
        r = p.run("a", "true", timeout=120)
        err = r.stderr.decode()
        check(r.returncode == 255, f"exit {r.returncode}: {err}")
        check("twoway: too many nested ProxyJump hops (32): a ProxyJump loop in the configuration?\n" in err, err)
        no_processes_left(p)


def test_local_forward_through_a_jump_host():
    # -L opens a connection per accepted connection: each starts its own inner twoway, reaped when done.
    with EchoServer() as echo, Pair("JL", services={"echo": echo.port}) as p:
        proc = subprocess.Popen(p.jump.argv("-N", "-J", f"127.0.0.1:{p.jump.port}", "-L", "0:echo", "127.0.0.1",
                                            port=p.target.port),
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                env=p.jump.client_env(), start_new_session=True)
        try:
            line = proc.stderr.readline().decode()
            m = re.match(r"Allocated port (\d+) for local forward to service echo", line)
            check(m is not None, f"unexpected first line: {line!r}")
            for _ in range(2):
                data = os.urandom(100000)
                check(echo_through(int(m.group(1)), data) == data, "the forward through the jump host lost data")
            deadline = time.monotonic() + 15
            while True:
                children = subprocess.run(["ps", "--ppid", str(proc.pid), "-o", "pid=,stat="], capture_output=True,
                                          text=True).stdout.split()
                if not children or time.monotonic() > deadline:
                    break
                time.sleep(0.1)
            check(children == [], f"the forwards' proxies were not reaped: {children}")
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)
        no_processes_left(p)


def test_bad_jump_specifications():
    with Pair("Jbad") as p:
        for spec, why in [("a,,b", "empty jump host"), ("host:99999", "bad port"), ("@host", "invalid user name"),
                          ("ssh://h/path", "a path in an ssh:// URI")]:
            r = p.run("-J", spec, "127.0.0.1", "true")
            err = r.stderr.decode()
            check(r.returncode == 255 and "Invalid -J argument" in err and why in err, f"{spec}: {err}")
        r = p.run("-J", "a", "-J", "b", "127.0.0.1", "true")
        check(r.returncode == 255 and "Only a single -J option is permitted" in r.stderr.decode(), r.stderr.decode())
        r = p.run("-o", "ProxyCommand=nc %h %p", "-J", "a", "127.0.0.1", "true")
        check(r.returncode == 255 and "Cannot specify -J with ProxyCommand" in r.stderr.decode(), r.stderr.decode())


if __name__ == "__main__":
    run_tests(globals())

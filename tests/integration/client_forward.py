#!/usr/bin/env python3
"""Service forwarding: -W (stdio to a named service, as a ProxyCommand would use it),
-L [bind:]port:service (a local listener, one twoway connection per accepted connection), and ~C's
-L and -KL during an interactive session (ssh's escape command line)."""

import hashlib
import os
import re
import signal
import socket
import subprocess
import threading
import time

from services import DigestServer, EchoServer, closed_port
from twoway_env import PtyProcess, check, run_tests, trusted_world


def echo_through(port, data, timeout=30):
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        got = bytearray()

        def send():
            s.sendall(data)
            s.shutdown(socket.SHUT_WR)

        t = threading.Thread(target=send, daemon=True)
        t.start()
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            got += chunk
        t.join(timeout=timeout)
        return bytes(got)


def start_forwarder(w, *args):
    """Starts twoway with -L ...:0:service; returns (process, allocated port)."""
    proc = subprocess.Popen(w.argv(*args), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=w.client_env(), start_new_session=True)
    line = proc.stderr.readline().decode()
    m = re.match(r"Allocated port (\d+) for local forward to (?:service )?(\S+)", line)
    check(m is not None, f"unexpected first line from twoway -L: {line!r}")
    return proc, int(m.group(1))


def test_escape_command_line_adds_and_cancels_a_forward():
    # ~C, as ssh's: a command line on the local terminal, read in raw mode; -L adds a forward that works at
    # once, -KL closes it (connections already forwarded are not touched), -D and -KD the same for a SOCKS
    # listener, -h lists the commands, -R asks the server (refused for now), anything else is an invalid command.
    with EchoServer() as echo, trusted_world("escC", services={"echo": echo.port}) as w:
        port = closed_port()
        p = PtyProcess(w.argv("127.0.0.1"), w.client_env(TERM="dumb"))
        try:
            p.send("echo READY$((40+2))\r")
            p.expect("READY42", timeout=30)

            def command(text, answer):
                p.send("\r~C")
                p.expect(r"twoway> ")
                p.send(text + "\r")
                return p.expect(answer, timeout=30)

            command("-h", r"-KL\[bind_address:\]port +Cancel local forward")
            command("-h", r"-KD\[bind_address:\]port +Cancel dynamic forward")
            command("-h", r"-KR\[bind_address:\]port +Cancel remote forward")
            # -R asks the server (which refuses it: twowayd does not serve listen requests yet); the answer
            # comes as ssh's warning; -KR then finds nothing to cancel.
            command("-R 9:x:9", r"Forwarding port\.")
            p.expect(r"Warning: remote port forwarding failed for listen port 9", timeout=30)
            command("-KR 9", r"Unknown port forwarding\.")
            command("-R 9", r"Bad forwarding specification\.")
            command("-D a:b:c", r"Bad forwarding specification\.")
            # -D and -KD: a SOCKS listener opened and closed (its SOCKS5 greeting answered meanwhile).
            socks_port = closed_port()
            command(f"-D {socks_port}", r"Forwarding port\.")
            with socket.create_connection(("127.0.0.1", socks_port), timeout=30) as s:
                s.sendall(bytes([5, 1, 0]))
                check(s.recv(2) == bytes([5, 0]), "the -D added with ~C does not answer SOCKS5")
            command(f"-KD {socks_port}", r"Canceled forwarding\.")
            try:
                socket.create_connection(("127.0.0.1", socks_port), timeout=5).close()
                check(False, "the cancelled -D still accepts")
            except ConnectionRefusedError:
                pass
            command("bogus", r"Invalid command\.")
            command("-L nonsense", r"Bad forwarding specification\.")
            command(f"-L {port}:echo", r"Forwarding port\.")
            data = os.urandom(50000)
            check(echo_through(port, data) == data, "the forward added with ~C does not carry data")
            command(f"-KL {port}", r"Canceled forwarding\.")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=5).close()
                check(False, "the cancelled forward still accepts")
            except ConnectionRefusedError:
                pass
            command(f"-KL {port}", r"Unknown port forwarding\.")
            # Nothing typed on the command lines reached the remote shell.
            p.send("\recho TYPED$((1+1))\r")
            p.expect("TYPED2")
            p.send("\r~.")
            check(p.wait() == 255, p.output())
            # Nothing typed on the command lines reached the remote shell (it would say "not found").
            check("not found" not in p.output(), p.output())
        finally:
            p.close()
        # EnableEscapeCommandline no: ssh's words, nothing opened; EscapeChar from the config.
        p = PtyProcess(w.argv("-o", "EnableEscapeCommandline=no", "-o", "EscapeChar=%", "127.0.0.1"),
                       w.client_env(TERM="dumb"))
        try:
            p.send("echo READY$((40+3))\r")
            p.expect("READY43", timeout=30)
            p.send("\r%C")
            p.expect(r"commandline disabled")
            check("twoway> " not in p.output(), p.output())
            p.send("\r%.")
            check(p.wait() == 255, p.output())
        finally:
            p.close()
        try:
            socket.create_connection(("127.0.0.1", port), timeout=5).close()
            check(False, "a forward was opened with the command line disabled")
        except ConnectionRefusedError:
            pass


def test_direct_connections_under_permit_open():
    # ssh's -W host:port and -L port:host:hostport: a connection from the daemon to that destination, only
    # where PermitOpen allows it (twowayd's default: none), and where the key's permitopen= does too.
    with EchoServer() as echo:
        dest = f"127.0.0.1:{echo.port}"
        data = os.urandom(70000)
        with trusted_world("direct-closed") as w:
            r = w.twoway("-W", dest, "127.0.0.1", input=b"x")
            check(r.returncode == 255 and b"prohibited" in r.stderr, f"PermitOpen's default let it through: {r}")
            w.wait_log(rf"Refused direct connection to 127\.0\.0\.1 port {echo.port} from user root "
                       rf"127\.0\.0\.1 port \d+: PermitOpen none \(twowayd's default\)")
        other = closed_port()
        with trusted_world("direct", extra_config=f"PermitOpen {dest} 127.0.0.2:*\n") as w:
            r = w.twoway("-W", dest, "127.0.0.1", input=data)
            check(r.returncode == 0 and r.stdout == data, f"-W {dest}: exit {r.returncode}, {r.stderr!r}")
            w.wait_log(rf"Starting session: direct connection \(127\.0\.0\.1 port {echo.port}\) for root from ")
            # Another port, and the same address by another name: not listed (compared as written, as sshd).
            for refused in (f"127.0.0.1:{other}", f"localhost:{echo.port}"):
                r = w.twoway("-W", refused, "127.0.0.1", input=b"x")
                check(r.returncode == 255 and b"prohibited" in r.stderr, f"-W {refused}: {r}")
            w.wait_log(rf"Refused direct connection to localhost port {echo.port} .*: not listed in PermitOpen "
                       rf"\({re.escape(w.config)}:\d+\)")
            # A listed destination where nothing listens: the connection fails, said as such.
            r = w.twoway("-W", f"127.0.0.2:{other}", "127.0.0.1", input=b"x")
            check(r.returncode == 255 and b"could not start: cannot connect" in r.stderr, f"nothing listening: {r}")
            w.wait_log(rf"direct connection: connect to 127\.0\.0\.2 port {other} failed: ")
            # -L port:host:hostport, one connection per accepted one.
            proc, port = start_forwarder(w, "-N", "-L", f"0:{dest}", "127.0.0.1")
            try:
                check(echo_through(port, data) == data, "-L port:host:hostport does not carry data")
            finally:
                proc.terminate()
                proc.wait(timeout=30)
            # The same from the configuration: ssh's LocalForward, its two arguments.
            cfg = os.path.join(w.dot, "forward.conf")
            with open(cfg, "w") as f:
                f.write(f"Host 127.0.0.1\n  LocalForward 0 {dest}\n")
            os.chmod(cfg, 0o600)
            r = w.twoway("-F", cfg, "-G", "127.0.0.1")
            check(r.returncode == 0 and f"localforward 0 {dest}\n".encode() in r.stdout, f"-G: {r}")
            proc, port = start_forwarder(w, "-F", cfg, "-N", "127.0.0.1")
            try:
                check(echo_through(port, data) == data, "LocalForward does not carry data")
            finally:
                proc.terminate()
                proc.wait(timeout=30)
            # The key's permitopen= narrows PermitOpen further, and restrict closes it.
            with open(w.user_key + ".pub") as f:
                key = f.read().strip()
            with open(w.authorized_keys, "w") as f:
                f.write(f'permitopen="127.0.0.1:{other}" {key}\n')
            r = w.twoway("-W", dest, "127.0.0.1", input=b"x")
            check(r.returncode == 255 and b"prohibited" in r.stderr, f"permitopen= ignored: {r}")
            w.wait_log(rf"Refused direct connection to 127\.0\.0\.1 port {echo.port} .*: destination not in "
                       rf"permitopen= by {re.escape(w.authorized_keys)}:1")
            with open(w.authorized_keys, "w") as f:
                f.write(f'restrict {key}\n')
            r = w.twoway("-W", dest, "127.0.0.1", input=b"x")
            check(r.returncode == 255 and b"prohibited" in r.stderr, f"restrict ignored: {r}")
            w.wait_log(r"direct connections are not permitted by .*\(restrict or no-port-forwarding\)")


def test_stdio_forwarding():
    with EchoServer() as echo, trusted_world("W", services={"echo": echo.port}) as w:
        data = os.urandom(100000)
        r = w.twoway("-W", "echo", "127.0.0.1", input=data)
        check(r.returncode == 0, f"exit status {r.returncode}: {r.stderr!r}")
        check(r.stdout == data and r.stderr == b"", f"{len(r.stdout)} bytes back, stderr {r.stderr!r}")
        w.wait_log(r"Starting session: service echo")


def test_stdio_forwarding_half_close():
    # The client's EOF reaches the service as a half-close (twowayd shuts down its write side only): the
    # service answers after it, and the session ends once that answer has come back.
    with DigestServer() as digest, trusted_world("Whalf", services={"digest": digest.port}) as w:
        for data in (b"", os.urandom(300000)):
            r = w.twoway("-W", "digest", "127.0.0.1", input=data)
            want = hashlib.sha256(data).hexdigest().encode() + b"\n"
            check(r.returncode == 0, f"exit status {r.returncode}: {r.stderr!r}")
            check(r.stdout == want and r.stderr == b"", f"answer {r.stdout!r}, stderr {r.stderr!r}")
        check(digest.connections == 2, f"digest service saw {digest.connections} connections")


def test_stdio_forwarding_failures():
    with trusted_world("Wbad", services={"down": closed_port()}) as w:
        r = w.twoway("-W", "nosuch", "127.0.0.1", input=b"x")
        check(r.returncode == 255, f"unknown service: exit status {r.returncode}")
        check(r.stderr == b"twoway: stdio forwarding to service 'nosuch' failed: unknown service: no such service\n",
              f"{r.stderr!r}")
        r = w.twoway("-W", "down", "127.0.0.1", input=b"x")
        check(r.returncode == 255 and r.stderr.count(b"\n") == 1 and b"failed: could not start" in r.stderr,
              f"service down: {r}")
        r = w.twoway("-W", "echo", "127.0.0.1", "some", "command")
        check(r.returncode == 255 and b"-W cannot be combined with a remote command" in r.stderr, f"{r}")


def test_local_forwarding_many_connections():
    with EchoServer() as echo, trusted_world("L", services={"echo": echo.port}) as w:
        proc, port = start_forwarder(w, "-N", "-L", "0:echo", "127.0.0.1")
        try:
            payloads = [os.urandom(n) for n in (1, 1000, 300000, 2 << 20)]
            results = [None] * len(payloads)

            def one(i):
                results[i] = echo_through(port, payloads[i])

            threads = [threading.Thread(target=one, args=(i,)) for i in range(len(payloads))]
            for t in threads:
                t.start()
            for t in threads:
                t.join(timeout=120)
            for i, p in enumerate(payloads):
                check(results[i] == p, f"connection {i}: {len(results[i] or b'')} bytes back of {len(p)}")
            # Each local connection had its own authenticated twoway connection (and the first one
            # checked the login before listening began).
            accepted = len(re.findall(r"Accepted publickey for root", w.daemon_log()))
            check(accepted >= 1 + len(payloads), f"{accepted} logins for {len(payloads)} forwarded connections")
            check(echo.connections == len(payloads), f"echo service saw {echo.connections} connections")
            check(proc.poll() is None, "twoway -L exited")
        finally:
            proc.send_signal(signal.SIGTERM)
            rc = proc.wait(timeout=30)
        check(rc == 255, f"exit status after SIGTERM {rc}")


def test_local_forwarding_alongside_a_command():
    with EchoServer() as echo, trusted_world("Lcmd", services={"echo": echo.port}) as w:
        # The forward works while the command runs; the command's status is twoway's.
        proc, port = start_forwarder(w, "-L", "127.0.0.1:0:echo", "127.0.0.1", "sleep 2; exit 5")
        try:
            check(echo_through(port, b"ping") == b"ping", "no echo through -L")
            rc = proc.wait(timeout=60)
            check(rc == 5, f"exit status {rc}")
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def test_local_forwarding_needs_a_working_login():
    with EchoServer() as echo, trusted_world("Lfail", services={"echo": echo.port}) as w:
        os.unlink(w.authorized_keys)
        open(w.authorized_keys, "w").close()
        proc = subprocess.Popen(w.argv("-N", "-L", "0:echo", "127.0.0.1"), stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=w.client_env(),
                                start_new_session=True)
        try:
            _, err = proc.communicate(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
        check(proc.returncode == 255, f"exit status {proc.returncode}")
        check(err.decode().endswith("Permission denied (publickey).\n"), err)


if __name__ == "__main__":
    run_tests(globals())

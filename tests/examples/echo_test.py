#!/usr/bin/env python3
"""End-to-end test of examples/echo_server and examples/echo_client as separate processes on 127.0.0.1.

usage: echo_test.py ECHO_SERVER ECHO_CLIENT

Checks: small and 3 MiB echoes come back intact; a client whose key is not in the server's allow-list is
refused (exit 255, "Permission denied (publickey)."); a client that expects another server key refuses
the server (exit 255, "Host key verification failed."); the server logs each outcome and keeps serving.
"""
import os
import subprocess
import sys
import tempfile
import time

TIMEOUT = 60


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def run_client(client, key, known, port, data, account=None):
    args = [client, "--key", key, "--known-hosts", known, "--port", str(port)]
    if account:
        args += ["--account", account]
    return subprocess.run(args, input=data, capture_output=True, timeout=TIMEOUT)


def wait_for(predicate, what):
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    fail("timed out waiting for " + what)


def main():
    server_exe, client_exe = sys.argv[1], sys.argv[2]
    with tempfile.TemporaryDirectory(prefix="twoway-echo-") as tmp:
        path = lambda name: os.path.join(tmp, name)
        for name, exe in (("host", server_exe), ("alice", client_exe), ("mallory", client_exe)):
            r = subprocess.run([exe, "--generate-key", path(name)], capture_output=True, timeout=TIMEOUT)
            if r.returncode != 0:
                fail("key generation failed: " + r.stderr.decode(errors="replace"))
        with open(path("authorized"), "w") as f:
            f.write("# the only client allowed\n")
            f.write(open(path("alice.pub")).read())

        log = open(path("server.log"), "w+")
        # The server binds port 0 itself and reports the port through a file it renames into place, so
        # no other process can take the port between choosing and binding it.
        server = subprocess.Popen([server_exe, "--key", path("host"), "--allow", path("authorized"),
                                   "--port", "0", "--port-file", path("port")], stdout=log, stderr=log)
        try:
            def read_port():
                if server.poll() is not None:
                    fail("server exited early with %d" % server.returncode)
                try:
                    return int(open(path("port")).read())
                except (FileNotFoundError, ValueError):
                    return None

            port = wait_for(read_port, "the server's port")

            # 1. The echo, small and large (several records, both directions busy at once).
            for size in (5, 3 * 1024 * 1024 + 17):
                data = os.urandom(size)
                r = run_client(client_exe, path("alice"), path("host.pub"), port, data)
                if r.returncode != 0:
                    fail("echo of %d bytes: exit %d: %s" % (size, r.returncode, r.stderr.decode(errors="replace")))
                if r.stdout != data:
                    fail("echo of %d bytes came back as %d different bytes" % (size, len(r.stdout)))

            # 2. A client key the server does not allow.
            r = run_client(client_exe, path("mallory"), path("host.pub"), port, b"let me in")
            if r.returncode != 255 or b"Permission denied (publickey)." not in r.stderr or r.stdout:
                fail("unauthorized client: exit %d, stderr %r, stdout %r" % (r.returncode, r.stderr, r.stdout))

            # 3. A client expecting a different server key.
            r = run_client(client_exe, path("alice"), path("mallory.pub"), port, b"who are you")
            if r.returncode != 255 or b"Host key verification failed." not in r.stderr or r.stdout:
                fail("wrong server key: exit %d, stderr %r, stdout %r" % (r.returncode, r.stderr, r.stdout))

            # 4. The server is still serving after the refusals.
            r = run_client(client_exe, path("alice"), path("host.pub"), port, b"still there?")
            if r.returncode != 0 or r.stdout != b"still there?":
                fail("echo after refusals: exit %d, stdout %r" % (r.returncode, r.stdout))

            needles = ("accepted SHA256:", "refused 127.0.0.1", "permission denied",
                       "after echoing %d bytes" % (3 * 1024 * 1024 + 17), "after echoing 12 bytes")

            def server_log():
                log.seek(0)
                text = log.read()
                return text if all(n in text for n in needles) else None

            deadline = time.monotonic() + TIMEOUT
            while server_log() is None:
                if time.monotonic() > deadline:
                    log.seek(0)
                    fail("server log lacks one of %r:\n%s" % (needles, log.read()))
                time.sleep(0.05)
        finally:
            server.terminate()
            try:
                server.wait(timeout=TIMEOUT)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        if server.returncode != 0:
            fail("server exit status %d after SIGTERM" % server.returncode)
    print("ok")


if __name__ == "__main__":
    main()

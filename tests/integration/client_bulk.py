#!/usr/bin/env python3
"""Bulk data through twoway, checked byte for byte: 1 GiB of random bytes through `-W` to an echo
service and back (SHA-256 of what was sent against SHA-256 of what came back), and 256 MiB into a
remote command that hashes what it receives. Prints the throughput observed.

TWOWAY_BULK_MIB overrides the size of the -W transfer (in MiB)."""

import hashlib
import os
import subprocess
import threading
import time

from services import EchoServer
from twoway_env import check, run_tests, trusted_world

MIB = 1 << 20
CHUNK = MIB


def pump(argv, env, total_mib, collect_output=True):
    """Feeds total_mib MiB of random bytes to argv's stdin while hashing its stdout. Returns (sent
    digest, received digest, bytes received, stderr, exit status, seconds)."""
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                            start_new_session=True)
    sent = hashlib.sha256()
    errors = []
    err_chunks = []

    def feed():
        try:
            for _ in range(total_mib):
                chunk = os.urandom(CHUNK)
                sent.update(chunk)
                proc.stdin.write(chunk)
            proc.stdin.close()
        except Exception as e:  # reported by the main thread
            errors.append(e)

    def drain_stderr():
        err_chunks.append(proc.stderr.read())

    start = time.monotonic()
    feeder = threading.Thread(target=feed, daemon=True)
    feeder.start()
    err_reader = threading.Thread(target=drain_stderr, daemon=True)
    err_reader.start()
    received = hashlib.sha256()
    count = 0
    out = bytearray()
    fd = proc.stdout.fileno()
    while True:
        chunk = os.read(fd, CHUNK)
        if not chunk:
            break
        count += len(chunk)
        if collect_output:
            received.update(chunk)
        else:
            out += chunk
    feeder.join(timeout=600)
    # wait4 for the CPU time twoway itself used: a figure that does not depend on how busy the machine is.
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    rc = proc.returncode
    elapsed = time.monotonic() - start
    pump.cpu_seconds = usage.ru_utime + usage.ru_stime
    err_reader.join(timeout=60)
    check(not errors, f"feeding stdin failed: {errors}")
    return sent.hexdigest(), (received.hexdigest() if collect_output else bytes(out)), count, b"".join(err_chunks), \
        rc, elapsed


def test_one_gib_through_stdio_forwarding():
    mib = int(os.environ.get("TWOWAY_BULK_MIB", "1024"))
    with EchoServer() as echo, trusted_world("bulk", services={"echo": echo.port}) as w:
        sent, received, count, err, rc, elapsed = pump(w.argv("-W", "echo", "127.0.0.1"), w.client_env(), mib)
        check(rc == 0, f"exit status {rc}: {err!r}")
        check(count == mib * MIB, f"received {count} bytes of {mib * MIB}")
        check(sent == received, f"SHA-256 differs: sent {sent}, received {received}")
        check(err == b"", f"stderr {err!r}")
        rate = mib / elapsed
        print(f"-W echo: {mib} MiB each way in {elapsed:.1f} s: {rate:.0f} MiB/s each way "
              f"({2 * rate:.0f} MiB/s through the daemon), SHA-256 {sent[:16]}... identical; twoway used "
              f"{pump.cpu_seconds:.1f} s of CPU ({2 * mib / max(pump.cpu_seconds, 0.001):.0f} MiB per CPU second)",
              flush=True)


def test_command_receives_every_byte():
    mib = 256
    with trusted_world("bulkcmd") as w:
        sent, out, count, err, rc, elapsed = pump(w.argv("127.0.0.1", "sha256sum"), w.client_env(), mib,
                                                  collect_output=False)
        check(rc == 0, f"exit status {rc}: {err!r}")
        remote = out.split()[0].decode()
        check(remote == sent, f"remote SHA-256 {remote}, sent {sent}")
        print(f"command stdin: {mib} MiB in {elapsed:.1f} s: {mib / elapsed:.0f} MiB/s, SHA-256 identical; twoway "
              f"used {pump.cpu_seconds:.1f} s of CPU", flush=True)


if __name__ == "__main__":
    run_tests(globals())

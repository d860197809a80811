#!/usr/bin/env python3
"""twowayd's memory stays flat over many handshakes: N sequential authenticated handshakes against one
daemon (handshake_loop, a C++ client on the sans-I/O core), with the daemon's VmRSS sampled from
/proc/PID/status after a warm-up and at the end; the end must be within +-5% of the warm-up figure.

    daemon_rss.py [HANDSHAKE_LOOP] [test names...]
N comes from TWOWAY_RSS_HANDSHAKES (default 10000; the issue's figure is 10^5, run by hand)."""

import os
import pwd
import subprocess
import sys
import time

from twoway_env import World, check, run_tests

HANDSHAKE_LOOP = os.environ.get("HANDSHAKE_LOOP", "handshake_loop")
if len(sys.argv) > 1 and os.path.sep in sys.argv[1]:
    HANDSHAKE_LOOP = sys.argv.pop(1)
COUNT = int(os.environ.get("TWOWAY_RSS_HANDSHAKES", "10000"))
WARMUP = 1000


def vm_rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError(f"no VmRSS for {pid}")


def run_loop(w, count):
    account = pwd.getpwuid(os.geteuid()).pw_name
    # A generous timeout: at worst a few ms per handshake on a busy machine.
    r = subprocess.run([HANDSHAKE_LOOP, str(w.port), w.user_key, w.host_key + ".pub", account, str(count)],
                       capture_output=True, text=True, timeout=60 + count * 0.05)
    check(r.returncode == 0, f"handshake_loop failed: {r.stderr.strip()}")
    fields = r.stdout.split()
    check(len(fields) == 3 and fields[0] == "ok" and int(fields[1]) == count, f"handshake_loop said {r.stdout!r}")
    return float(fields[2])


def settle_rss(pid):
    """The daemon finishes each connection's teardown after the client saw its close: wait a moment."""
    time.sleep(0.5)
    return vm_rss_kib(pid)


def test_rss_is_flat_over_many_handshakes():
    # The log (a few lines per handshake) goes to a file, not into the daemon's memory.
    with World("rss", extra_config="LoginGraceTime 30\n") as w:
        pid = w.daemon.pid
        start = vm_rss_kib(pid)
        run_loop(w, WARMUP)
        warm = settle_rss(pid)
        took = run_loop(w, COUNT)
        end = settle_rss(pid)
        change = (end - warm) / warm * 100
        print(f"twowayd VmRSS: {start} KiB at start, {warm} KiB after {WARMUP} handshakes, {end} KiB after "
              f"{COUNT} more ({change:+.2f}%); {COUNT} handshakes in {took:.1f}s ({COUNT / took:.0f}/s)",
              flush=True)
        check(w.daemon.poll() is None, "twowayd exited during the run")
        accepted = w.daemon_log().count("Accepted publickey for ")
        check(accepted == WARMUP + COUNT, f"{accepted} handshakes accepted, expected {WARMUP + COUNT}")
        check(abs(change) <= 5.0, f"VmRSS moved {change:+.2f}% ({warm} -> {end} KiB) over {COUNT} handshakes")


if __name__ == "__main__":
    run_tests(globals())

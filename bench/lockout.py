"""bench/run's `lockout` row (issue 13): one source holds 150 stalled connections (TCP connected, nothing
sent) and reopens each one that closes, while a good client from the same address and one from
another address each log in 20 times (`twoway host true`, `ssh host true`). Run against twowayd at its
defaults, twowayd with a small table (MaxStartups 20, PerSourceMaxStartups 10, so that shedding is
exercised) and sshd at its own defaults (MaxStartups 10:30:100), each a fresh daemon with the same
keys as the other rows. Target: >= 19/20 good logins from each address, median <= 3x unloaded.

The attacker and the first good client use 127.0.0.1; the second good client 127.0.0.3 (ssh -b; twoway,
which has no BindAddress option, through tests/integration/daemon_tests/bind_source.so).
"""

import os
import re
import selectors
import socket
import statistics
import subprocess
import threading
import time

ATTACKER = "127.0.0.1"
OTHER = "127.0.0.3"
STALLED = 150
LOGINS = 20
UNLOADED = 5


class Holder:
    """Holds `count` stalled connections from `source` to port from one thread, reopening each one the
    server closes, until stopped."""

    def __init__(self, port, source=ATTACKER, count=STALLED):
        self.port, self.source, self.count = port, source, count
        self.reopened = self.failures = 0
        self.stop_event = threading.Event()
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _open(self, sel):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            s.bind((self.source, 0))
            s.settimeout(5)
            s.connect(("127.0.0.1", self.port))
            s.setblocking(False)
            sel.register(s, selectors.EVENT_READ)
        except OSError:
            self.failures += 1
            s.close()

    def _run(self):
        sel = selectors.DefaultSelector()
        for _ in range(self.count):
            self._open(sel)
        self.ready.set()
        while not self.stop_event.is_set():
            for key, _ in sel.select(timeout=0.1):
                s = key.fileobj
                try:
                    data = s.recv(4096)
                except (BlockingIOError, InterruptedError):
                    continue
                except OSError:
                    data = b""
                if data:
                    continue  # sshd's banner: stay, say nothing
                sel.unregister(s)
                s.close()
                self.reopened += 1
                self._open(sel)
            while len(sel.get_map()) < self.count and not self.stop_event.is_set():
                self._open(sel)
        for key in list(sel.get_map().values()):
            key.fileobj.close()
        sel.close()

    def __enter__(self):
        self.thread.start()
        self.ready.wait(timeout=60)
        return self

    def __exit__(self, *exc):
        self.stop_event.set()
        self.thread.join(timeout=60)
        return False


def _login(argv, env):
    t0 = time.monotonic()
    r = subprocess.run(argv, env=env, capture_output=True, timeout=60, stdin=subprocess.DEVNULL)
    return r.returncode == 0, time.monotonic() - t0


def _measure(port, login, log):
    """login(source) -> (ok, seconds). Unloaded logins, then LOGINS per address under the attack."""
    for source in (ATTACKER, OTHER):
        ok, _ = login(source)
        if not ok:
            raise RuntimeError(f"lockout: an unloaded login from {source} failed")
    unloaded = {ATTACKER: [], OTHER: []}
    for _ in range(UNLOADED):
        for source in (ATTACKER, OTHER):
            ok, took = login(source)
            if not ok:
                raise RuntimeError(f"lockout: an unloaded login from {source} failed")
            unloaded[source].append(took)
    loaded = {ATTACKER: [], OTHER: []}
    with Holder(port) as attack:
        began = time.monotonic()
        time.sleep(1.0)  # the connections in place; whatever the server does with them, going on
        for _ in range(LOGINS):
            for source in (ATTACKER, OTHER):
                ok, took = login(source)
                if ok:
                    loaded[source].append(took)
        seconds = time.monotonic() - began
        reopened, failures = attack.reopened, attack.failures
    out = {"reopened_per_s": reopened / seconds, "connect_errors": failures}
    for source in (ATTACKER, OTHER):
        u = statistics.median(unloaded[source])
        m = statistics.median(loaded[source]) if loaded[source] else None
        out[source] = {"ok": len(loaded[source]), "of": LOGINS, "unloaded_ms": u * 1e3,
                       "median_ms": m * 1e3 if m is not None else None,
                       "ratio": m / u if m is not None else None}
    log(f"    {out}")
    return out


def _start_twowayd(w, name, extra):
    etc = w.path("tw-etc")
    conf = os.path.join(etc, f"{name}.conf")
    with open(conf, "w") as f:
        f.write("\n".join(["ListenAddress 127.0.0.1", f"HostKey {w.tw_host_key}",
                           f"AuthorizedKeysFile {etc}/authorized_keys", "StrictModes no", "LogLevel INFO",
                           *extra, ""]))
    d = w.start(name, [w.bin["twowayd"], "-D", "-e", "-f", conf, "-p", "0"])
    deadline = time.monotonic() + 30
    while True:
        with open(w.path(f"{name}.log"), "rb") as f:
            m = re.search(rb"Server listening on 127\.0\.0\.1 port (\d+)\.", f.read())
        if m:
            port = int(m.group(1))
            break
        if d.p.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"{name} did not start: see " + w.path(f"{name}.log"))
        time.sleep(0.05)
    with open(w.tw_host_key + ".pub") as f:
        parts = f.read().split()
    with open(os.path.join(w.tw_home, ".twoway", "known_hosts"), "a") as f:
        f.write(f"[127.0.0.1]:{port} {parts[0]} {parts[1]}\n")
    return d, port


def _start_sshd(w, free_port, wait_port, sshd):
    etc = w.path("ssh-etc")
    port = free_port()
    conf = os.path.join(etc, "sshd_config_defaults")
    with open(conf, "w") as f:
        # sshd's defaults for everything that decides the outcome (MaxStartups 10:30:100, LoginGraceTime
        # 120, no PerSourceMaxStartups); only what a private, key-only sshd on a test port needs is set.
        f.write("\n".join([
            f"ListenAddress 127.0.0.1:{port}", f"HostKey {etc}/ssh_host_ed25519_key",
            f"AuthorizedKeysFile {etc}/authorized_keys", "StrictModes no", "UsePAM no",
            "PasswordAuthentication no", "KbdInteractiveAuthentication no", "PermitRootLogin prohibit-password",
            "PrintMotd no", "PrintLastLog no", "PidFile none", "LogLevel INFO",
            f"SetEnv HOME={w.empty_home}", ""]))
    d = w.start("sshd-defaults", [sshd, "-D", "-e", "-f", conf])
    wait_port(port, d.p, "sshd (defaults)")
    # wait_port's own probe connection is closed again; give sshd a moment to forget it.
    time.sleep(0.5)
    with open(f"{etc}/ssh_host_ed25519_key.pub") as f:
        parts = f.read().split()
    with open(os.path.join(w.ssh_home, "known_hosts"), "a") as f:
        f.write(f"[127.0.0.1]:{port} {parts[0]} {parts[1]}\n")
    return d, port


def run_lockout(w, log, free_port, wait_port, sshd):
    """The row's figures: {'twowayd_defaults': ..., 'twowayd_small': ..., 'sshd_defaults': ...}."""
    shim = os.path.join(w.build, "tests/integration/daemon_tests/bind_source.so")
    if not os.path.exists(shim):
        raise SystemExit(f"bench/run: {shim} missing: ninja -C {w.build} tests/integration/daemon_tests/bind_source.so")
    tw_env = w.client_env(w.tw_home)
    res = {}
    for name, extra in (("twowayd_defaults", []), ("twowayd_small", ["MaxStartups 20", "PerSourceMaxStartups 10"])):
        log(f"  {name} ...")
        d, port = _start_twowayd(w, name.replace("_", "-"), extra)

        def tw_login(source, port=port):
            env = dict(tw_env)
            if source != ATTACKER:
                env.update(LD_PRELOAD=shim, TWOWAY_BIND_SOURCE=source)
            return _login([w.bin["twoway"], "-p", str(port), "-o", "StrictHostKeyChecking=yes",
                           "-o", "ConnectTimeout=10", "127.0.0.1", "true"], env)

        res[name] = _measure(port, tw_login, log)
        d.stop()
    log("  sshd at its defaults ...")
    d, port = _start_sshd(w, free_port, wait_port, sshd)
    ssh_env = w.client_env(w.ssh_home)

    def ssh_login(source):
        return _login(w.ssh_argv("-p", str(port), "-b", source, "-o", "ConnectTimeout=10", "127.0.0.1", "true"), ssh_env)

    res["sshd_defaults"] = _measure(port, ssh_login, log)
    d.stop()
    return res


def report_rows(r, row):
    """Adds the row's lines to bench/run's table."""
    s = r["sshd_defaults"]

    def text(x):
        def one(src):
            v = x[src]
            med = f"{v['median_ms']:.0f} ms ({v['ratio']:.1f}x)" if v["median_ms"] is not None else "-"
            return f"{v['ok']}/{v['of']} {med}"
        return f"same addr {one(ATTACKER)}, other {one(OTHER)}"

    def ok(x):
        return all(x[src]["ok"] >= x[src]["of"] - 1 and x[src]["ratio"] is not None and x[src]["ratio"] <= 3
                   for src in (ATTACKER, OTHER))

    for name, label in (("twowayd_defaults", "7 lock-out: good logins, 150 stalled+reopened (defaults)"),
                        ("twowayd_small", "  ... twowayd MaxStartups 20, PerSourceMaxStartups 10")):
        t = r[name]
        row(label, text(t), "sshd defaults: " + text(s), f"sheds/s {t['reopened_per_s']:.0f}",
            ">= 19/20 each, <= 3x", ok(t))

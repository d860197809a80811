"""bench/run's `lockout` row (issue 13), in two variants of one source's attack, while a good client from
the same address and one from another address each log in 20 times (`twoway host true`, `ssh host
true`):

  stalled   the source holds 150 stalled connections (TCP connected, nothing sent) and reopens each one
            that closes;
  answered  the source holds as many connections as the table has slots (1,000 at twowayd's defaults),
            each of which sent a valid client_hello (a replayed one, which costs nothing: the test
            vector's) and stalled after the server's answer, reopening each one that closes (with a
            client_hello again), and meanwhile opens empty connections without pause (FLOOD_RATE a
            second, each closed by the attacker after 3 s). A table that sheds the least progress first
            (whatever the source) then sheds a good client's fresh connection at the next newcomer,
            unless its client_hello was handled first (the security review of issue 13: 13/20 good
            logins with MaxStartups 20, 11/20 at the defaults).

Run against twowayd at its defaults, twowayd with a small table (stalled: MaxStartups 20,
PerSourceMaxStartups 10, so that shedding is exercised; answered: MaxStartups 20 alone, the reviewer's
configuration) and sshd at its own defaults (MaxStartups 10:30:100), each a fresh daemon with the same
keys as the other rows. Target: >= 19/20 good logins from the other address in every variant, and from
the same address in the stalled variant, median <= 3x unloaded. The same-address figure of the answered
variant is reported as measured (twowayd.md says what such a client can expect).

The attacker and the first good client use 127.0.0.1; the second good client 127.0.0.3 (ssh -b; twoway,
which has no BindAddress option, through tests/integration/daemon_tests/bind_source.so).
"""

import json
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
FLOOD_RATE = 500  # empty connections a second in the answered variant
FLOOD_KEEP = 3.0  # seconds the attacker keeps each before closing it itself


def replayed_hello():
    """A valid client_hello, recorded once and replayed on every connection: the success test vector's
    (docs/test-vectors/handshake.json). A server answers it with a fresh flight each time."""
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "..", "docs", "test-vectors", "handshake.json")) as f:
        return bytes.fromhex(json.load(f)["success"]["client_hello"])


class Holder:
    """Holds `count` stalled connections from `source` to port from one thread, reopening each one the
    server closes, until stopped. With `hello`, each connection sends it on opening and then stalls."""

    def __init__(self, port, source=ATTACKER, count=STALLED, hello=None):
        self.port, self.source, self.count, self.hello = port, source, count, hello
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
            if self.hello:
                s.sendall(self.hello)
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
                    continue  # sshd's banner, twowayd's flight: stay, say nothing more
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


class Flood:
    """Opens empty connections from `source` to port at `rate` a second from one thread (non-blocking
    connects, no pause between them), each closed by us after `keep` seconds, until stopped."""

    def __init__(self, port, source=ATTACKER, rate=FLOOD_RATE, keep=FLOOD_KEEP):
        self.port, self.source, self.rate, self.keep = port, source, rate, keep
        self.opened = self.failures = 0
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        live = []
        interval = 1.0 / self.rate
        due = time.monotonic()
        while not self.stop_event.is_set():
            now = time.monotonic()
            if now < due:
                time.sleep(min(due - now, 0.002))
                continue
            due += interval
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            try:
                s.bind((self.source, 0))
                s.setblocking(False)
                s.connect_ex(("127.0.0.1", self.port))
                live.append((now, s))
                self.opened += 1
            except OSError:
                self.failures += 1
                s.close()
            while live and now - live[0][0] > self.keep:
                live.pop(0)[1].close()
        for _, s in live:
            s.close()

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop_event.set()
        self.thread.join(timeout=60)
        return False


class Attack:
    """One of the two variants (module docstring) as one context manager: `stalled`, or `answered` with
    `slots` held connections (the table's size), each sending `hello` (twowayd: the replayed
    client_hello; sshd: its banner line, after which it waits for our key exchange). reopened:
    connections the holder had to reopen after the server closed them; flooded: empty connections."""

    def __init__(self, port, variant="stalled", slots=STALLED, hello=None):
        self.variant = variant
        if variant == "stalled":
            self.holder, self.flood = Holder(port), None
        elif variant == "answered":
            self.holder = Holder(port, count=slots, hello=hello or replayed_hello())
            self.flood = Flood(port)
        else:
            raise ValueError(variant)

    @property
    def reopened(self):
        return self.holder.reopened

    @property
    def failures(self):
        return self.holder.failures + (self.flood.failures if self.flood else 0)

    @property
    def flooded(self):
        return self.flood.opened if self.flood else 0

    def __enter__(self):
        self.holder.__enter__()
        if self.flood:
            self.flood.__enter__()
        return self

    def __exit__(self, *exc):
        if self.flood:
            self.flood.__exit__(*exc)
        self.holder.__exit__(*exc)
        return False


def _login(argv, env):
    t0 = time.monotonic()
    r = subprocess.run(argv, env=env, capture_output=True, timeout=60, stdin=subprocess.DEVNULL)
    return r.returncode == 0, time.monotonic() - t0


def _measure(port, login, log, attack):
    """login(source) -> (ok, seconds); attack() -> the Attack to run. Unloaded logins, then LOGINS per
    address under the attack."""
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
    with attack() as a:
        began = time.monotonic()
        time.sleep(1.0)  # the connections in place; whatever the server does with them, going on
        for _ in range(LOGINS):
            for source in (ATTACKER, OTHER):
                ok, took = login(source)
                if ok:
                    loaded[source].append(took)
        seconds = time.monotonic() - began
        reopened, failures, flooded = a.reopened, a.failures, a.flooded
    out = {"reopened_per_s": reopened / seconds, "flooded_per_s": flooded / seconds, "connect_errors": failures}
    for source in (ATTACKER, OTHER):
        u = statistics.median(unloaded[source])
        m = statistics.median(loaded[source]) if loaded[source] else None
        out[source] = {"ok": len(loaded[source]), "of": LOGINS, "unloaded_ms": u * 1e3,
                       "median_ms": m * 1e3 if m is not None else None,
                       "ratio": m / u if m is not None else None}
    log(f"    {out}")
    return out


def _start_twowayd(w, name, extra, authorized_keys_file=None):
    etc = w.path("tw-etc")
    conf = os.path.join(etc, f"{name}.conf")
    with open(conf, "w") as f:
        f.write("\n".join(["ListenAddress 127.0.0.1", f"HostKey {w.tw_host_key}",
                           f"AuthorizedKeysFile {authorized_keys_file or etc + '/authorized_keys'}", "StrictModes no",
                           "LogLevel INFO",
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


def _start_sshd(w, free_port, wait_port, sshd, name="sshd-defaults", authorized_keys_file=None):
    etc = w.path("ssh-etc")
    port = free_port()
    conf = os.path.join(etc, f"sshd_config_{name}")
    with open(conf, "w") as f:
        # sshd's defaults for everything that decides the outcome (MaxStartups 10:30:100, LoginGraceTime
        # 120, no PerSourceMaxStartups); only what a private, key-only sshd on a test port needs is set.
        f.write("\n".join([
            f"ListenAddress 127.0.0.1:{port}", f"HostKey {etc}/ssh_host_ed25519_key",
            f"AuthorizedKeysFile {authorized_keys_file or etc + '/authorized_keys'}", "StrictModes no", "UsePAM no",
            "PasswordAuthentication no", "KbdInteractiveAuthentication no", "PermitRootLogin prohibit-password",
            "PrintMotd no", "PrintLastLog no", "PidFile none", "LogLevel INFO",
            f"SetEnv HOME={w.empty_home}", ""]))
    d = w.start(name, [sshd, "-D", "-e", "-f", conf])
    wait_port(port, d.p, "sshd (defaults)")
    # wait_port's own probe connection is closed again; give sshd a moment to forget it.
    time.sleep(0.5)
    with open(f"{etc}/ssh_host_ed25519_key.pub") as f:
        parts = f.read().split()
    with open(os.path.join(w.ssh_home, "known_hosts"), "a") as f:
        f.write(f"[127.0.0.1]:{port} {parts[0]} {parts[1]}\n")
    return d, port


# The rows: (name, twowayd's extra config, variant, held slots). "small" runs the stalled variant with a
# per-source limit (shedding within the source, every time), the answered one without (the reviewer's
# configuration: the whole table is the attacker's to fill).
TWOWAYD_ROWS = (
    ("twowayd_defaults", [], "stalled", STALLED),
    ("twowayd_small", ["MaxStartups 20", "PerSourceMaxStartups 10"], "stalled", STALLED),
    ("twowayd_answered_defaults", [], "answered", 1000),
    ("twowayd_answered_small", ["MaxStartups 20"], "answered", STALLED),
)
SSH_BANNER = b"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n"


def run_lockout(w, log, free_port, wait_port, sshd):
    """The row's figures: {'twowayd_defaults': ..., ..., 'sshd_defaults': ..., 'sshd_answered': ...}."""
    shim = os.path.join(w.build, "tests/integration/daemon_tests/bind_source.so")
    if not os.path.exists(shim):
        raise SystemExit(f"bench/run: {shim} missing: ninja -C {w.build} tests/integration/daemon_tests/bind_source.so")
    tw_env = w.client_env(w.tw_home)
    res = {}
    for name, extra, variant, slots in TWOWAYD_ROWS:
        log(f"  {name} ...")
        d, port = _start_twowayd(w, name.replace("_", "-"), extra)

        def tw_login(source, port=port):
            env = dict(tw_env)
            if source != ATTACKER:
                env.update(LD_PRELOAD=shim, TWOWAY_BIND_SOURCE=source)
            return _login([w.bin["twoway"], "-p", str(port), "-o", "StrictHostKeyChecking=yes",
                           "-o", "ConnectTimeout=10", "127.0.0.1", "true"], env)

        res[name] = _measure(port, tw_login, log, lambda port=port, v=variant, n=slots: Attack(port, v, n))
        d.stop()
    ssh_env = w.client_env(w.ssh_home)
    for name, variant in (("sshd_defaults", "stalled"), ("sshd_answered", "answered")):
        log(f"  sshd at its defaults, {variant} ...")
        d, port = _start_sshd(w, free_port, wait_port, sshd, name.replace("_", "-"))

        def ssh_login(source, port=port):
            return _login(w.ssh_argv("-p", str(port), "-b", source, "-o", "ConnectTimeout=10", "127.0.0.1", "true"),
                          ssh_env)

        res[name] = _measure(port, ssh_login, log,
                             lambda port=port, v=variant: Attack(port, v, STALLED, hello=SSH_BANNER))
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

    def ok(x, sources=(ATTACKER, OTHER)):
        return all(x[src]["ok"] >= x[src]["of"] - 1 and x[src]["ratio"] is not None and x[src]["ratio"] <= 3
                   for src in sources)

    for name, label in (("twowayd_defaults", "7 lock-out: good logins, 150 stalled+reopened (defaults)"),
                        ("twowayd_small", "  ... twowayd MaxStartups 20, PerSourceMaxStartups 10")):
        t = r[name]
        row(label, text(t), "sshd defaults: " + text(s), f"sheds/s {t['reopened_per_s']:.0f}",
            ">= 19/20 each, <= 3x", ok(t))
    # The answered variant: the target is the other address's; the same address's is reported as measured.
    a = r["sshd_answered"]
    for name, label in (("twowayd_answered_defaults", "  answered slots (1,000) + empty flood (defaults)"),
                        ("twowayd_answered_small", "  ... answered (150) + flood, MaxStartups 20")):
        t = r[name]
        row(label, text(t), "sshd defaults: " + text(a),
            f"reopens/s {t['reopened_per_s']:.0f}, flood/s {t['flooded_per_s']:.0f}",
            ">= 19/20 other, <= 3x", ok(t, (OTHER,)))

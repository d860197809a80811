#!/usr/bin/env python3
"""The Debian packages installed on this machine, used, upgraded and purged (issue 19).

Usage: tests/package/install_test.py [deb-dir]       (default: build/package/, where scripts/package
puts them). scripts/test runs it after scripts/package, as its last stage; it is not a meson test because
it installs into the real system: it runs as root only, and only when no twoway package is installed
(exit 77, skipped, otherwise).

With a temporary /usr/sbin/policy-rc.d that forbids starting services (a pre-existing one is put back
afterwards), it:
  1. installs twoway-server, twoway-client and libtwoway0 with apt-get from the .deb files (libtwoway-dev
     is not pulled in);
  2. checks the host key /etc/twoway/host_ed25519_key (0600, root) that the postinst made, the conffile,
     `twowayd -t` on the shipped configuration, `man -w` for every page, `systemd-analyze verify` on the
     installed units;
  3. starts /usr/sbin/twowayd -D -e -p 0 with a throwaway configuration on 127.0.0.1 (the installed host
     key, a throwaway authorized_keys), logs in as root with /usr/bin/twoway (a throwaway user key and
     known_hosts) and runs `echo ok`, then stops the daemon by its PID;
  4. installs libtwoway-dev (README's `apt install ./build/package/*.deb` installs all four): pkg-config
     reports the package's version, examples/echo_server.cpp and echo_client.cpp build with nothing but
     pkg-config's flags, load the packaged libtwoway.so.0, and pass tests/examples/echo_test.py;
  5. reinstalls (dpkg's upgrade path): the host key's fingerprint and the configuration are unchanged;
  6. purges the packages: every path they installed is gone unless it existed before (shared
     directories), /etc/twoway is gone, no systemd enablement is left, dpkg knows none of them.
Whatever fails, it stops its daemon, purges what it installed and puts policy-rc.d back.
"""
import glob
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time

PACKAGES = ["twoway-server", "twoway-client", "libtwoway0"]
ALL_PACKAGES = PACKAGES + ["libtwoway-dev"]
POLICY = "/usr/sbin/policy-rc.d"
HOST_KEY = "/etc/twoway/host_ed25519_key"
SOURCE = os.path.realpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
EXAMPLES = os.path.join(SOURCE, "examples")
ECHO_TEST = os.path.join(SOURCE, "tests", "examples", "echo_test.py")
ENV = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C", "DEBIAN_FRONTEND": "noninteractive"}
# What the postinst and the enabled units leave outside the packages' own file lists.
EXTRA_PATHS = [
    HOST_KEY, HOST_KEY + ".pub", "/etc/twoway",
    "/etc/systemd/system/multi-user.target.wants/twowayd.service",
    "/etc/systemd/system/multi-user.target.wants/twowayd-keygen.service",
    "/var/lib/systemd/deb-systemd-helper-enabled/twowayd.service.dsh-also",
    "/var/lib/systemd/deb-systemd-helper-enabled/twowayd-keygen.service.dsh-also",
    "/var/lib/systemd/deb-systemd-helper-enabled/multi-user.target.wants/twowayd.service",
    "/var/lib/systemd/deb-systemd-helper-enabled/multi-user.target.wants/twowayd-keygen.service",
]

passed = 0


def check(ok, what, detail=""):
    """detail: shown only on failure (command output)."""
    global passed
    if not ok:
        raise AssertionError(f"{what}\n{detail}" if detail else what)
    passed += 1
    print(f"ok: {what}", flush=True)


def run(argv, **kw):
    print("+ " + " ".join(argv), flush=True)
    return subprocess.run(argv, env=ENV, capture_output=True, text=True, timeout=600, **kw)


def dpkg_status(pkg):
    """dpkg's idea of pkg: '' when it knows nothing of it, else e.g. 'install ok installed'."""
    r = subprocess.run(["dpkg-query", "-W", "-f=${Status}", pkg], capture_output=True, text=True, env=ENV)
    if r.returncode != 0 or r.stdout.endswith("not-installed"):
        return ""
    return r.stdout


def exists(path):
    return os.path.lexists(path)


def deb_paths(deb):
    """The paths a .deb installs (dpkg-deb -c), without the leading '.'."""
    out = subprocess.run(["dpkg-deb", "-c", deb], capture_output=True, text=True, check=True, env=ENV).stdout
    paths = []
    for line in out.splitlines():
        name = line.split(None, 5)[5].split(" -> ")[0]
        name = name[1:].rstrip("/") if name.startswith(".") else name.rstrip("/")
        if name:
            paths.append(name)
    return paths


def fingerprint(pub):
    out = run(["/usr/bin/twoway-keygen", "-l", "-f", pub]).stdout
    m = re.search(r"SHA256:[A-Za-z0-9+/]{43}", out)
    return m.group(0) if m else None


class Daemon:
    def __init__(self, tmp):
        self.tmp = tmp
        self.proc = None
        self.log_path = os.path.join(tmp, "twowayd.log")

    def start(self, config):
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(["/usr/sbin/twowayd", "-D", "-e", "-f", config, "-p", "0"],
                                     stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT,
                                     env=ENV)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            m = re.search(r"Server listening on 127\.0\.0\.1 port (\d+)\.", self.text())
            if m:
                return int(m.group(1))
            if self.proc.poll() is not None:
                raise AssertionError(f"twowayd exited with {self.proc.returncode}:\n{self.text()}")
            time.sleep(0.05)
        raise AssertionError(f"twowayd did not start listening in time:\n{self.text()}")

    def text(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def stop(self):
        """SIGTERM to its PID, SIGKILL after 10 s; the exit status (None if it was not running)."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.log.close()
        rc, self.proc = self.proc.returncode, None
        return rc


def test(debs, tmp, daemon):
    deb_files = [debs[p] for p in PACKAGES]
    before = {}
    for deb in debs.values():
        for path in deb_paths(deb):
            before[path] = exists(path)
    for path in EXTRA_PATHS:
        before[path] = exists(path)

    # 1. install
    r = run(["apt-get", "install", "-y", "--no-install-recommends"] + deb_files)
    check(r.returncode == 0, f"apt-get install the .debs: rc {r.returncode}", r.stdout[-3000:] + r.stderr)
    for p in PACKAGES:
        check(dpkg_status(p) == "install ok installed", f"{p} is installed")
    check(dpkg_status("libtwoway-dev") == "", "libtwoway-dev was not pulled in")
    installed = {}
    for p in PACKAGES:
        installed[p] = run(["dpkg", "-L", p]).stdout.split("\n")

    # 2. the installed files
    st = os.stat(HOST_KEY)
    check(stat.S_ISREG(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o600 and st.st_uid == 0 and st.st_size > 0,
          f"the postinst created {HOST_KEY}, mode 0600, owned by root (mode {oct(st.st_mode)}, uid {st.st_uid})")
    check(exists(HOST_KEY + ".pub"), f"{HOST_KEY}.pub beside it")
    fp = fingerprint(HOST_KEY + ".pub")
    check(fp is not None, f"the host key's fingerprint: {fp}")
    conffiles = run(["dpkg-query", "-W", "-f=${Conffiles}", "twoway-server"]).stdout
    check("/etc/twoway/twowayd.conf" in conffiles, f"/etc/twoway/twowayd.conf is a conffile: {conffiles.strip()}")
    r = run(["/usr/sbin/twowayd", "-t"])
    check(r.returncode == 0 and r.stdout + r.stderr == "",
          f"twowayd -t accepts the shipped configuration and host key: rc {r.returncode} {r.stdout}{r.stderr}")
    for prog in ["/usr/bin/twoway", "/usr/bin/twoway-keygen", "/usr/bin/twoway-passwd", "/usr/sbin/twowayd"]:
        check(os.access(prog, os.X_OK), f"{prog} is installed")
    for page in ["twowayd", "twowayd.conf", "twoway", "twoway-keygen", "twoway-passwd", "twoway_config"]:
        r = run(["man", "-w", page])
        check(r.returncode == 0 and r.stdout.startswith("/usr/share/man/"),
              f"man -w {page}: {r.stdout.strip()} {r.stderr.strip()}")
    for unit in ["twowayd.service", "twowayd-keygen.service"]:
        r = run(["systemd-analyze", "verify", f"/lib/systemd/system/{unit}"])
        out = (r.stdout + r.stderr).strip()
        check(r.returncode == 0 and out == "", f"systemd-analyze verify /lib/systemd/system/{unit}: rc {r.returncode} {out!r}")
    check(os.path.islink("/etc/systemd/system/multi-user.target.wants/twowayd.service"),
          "twowayd.service is enabled")
    r = run(["ldd", "/usr/sbin/twowayd"])
    # /lib is /usr/lib on a merged-/usr system (Debian 12): compare the real paths.
    m = re.search(r"libtwoway\.so\.0 => (\S+)", r.stdout)
    lib = [path for path in installed["libtwoway0"] if path.endswith("/libtwoway.so.0")]
    check(m is not None and len(lib) == 1 and os.path.realpath(m.group(1)) == os.path.realpath(lib[0]),
          "twowayd uses the installed libtwoway.so.0", r.stdout)

    # 3. a login through the installed programs
    etc = os.path.join(tmp, "etc")
    home = os.path.join(tmp, "home")
    dot = os.path.join(home, ".twoway")
    os.makedirs(etc, mode=0o755)
    os.makedirs(dot, mode=0o700)
    user_key = os.path.join(dot, "id_ed25519")
    r = run(["/usr/bin/twoway-keygen", "-q", "-N", "", "-C", "install-test", "-f", user_key])
    check(r.returncode == 0, f"twoway-keygen made a throwaway user key: {r.stderr}")
    authorized = os.path.join(etc, "authorized_keys")
    shutil.copy(user_key + ".pub", authorized)
    config = os.path.join(etc, "twowayd.conf")
    with open(config, "w") as f:
        f.write(f"ListenAddress 127.0.0.1\nHostKey {HOST_KEY}\nAuthorizedKeysFile {authorized}\n"
                "StrictModes no\nLogLevel VERBOSE\n")
    port = daemon.start(config)
    check(port > 0, f"/usr/sbin/twowayd listens on 127.0.0.1 port {port}")
    with open(HOST_KEY + ".pub") as f:
        host_pub = " ".join(f.read().split()[:2])
    with open(os.path.join(dot, "known_hosts"), "w") as f:
        f.write(f"[127.0.0.1]:{port} {host_pub}\n")
    client_env = dict(ENV, HOME=home)
    r = subprocess.run(["/usr/bin/twoway", "-p", str(port), "-o", "StrictHostKeyChecking=yes",
                        "root@127.0.0.1", "echo ok"], capture_output=True, text=True, timeout=60,
                       env=client_env, stdin=subprocess.DEVNULL, start_new_session=True)
    check(r.returncode == 0 and r.stdout == "ok\n",
          f"/usr/bin/twoway root@127.0.0.1 echo ok: rc {r.returncode} {r.stdout!r}", r.stderr + daemon.text())
    rc = daemon.stop()
    check(rc == 0, f"twowayd stopped by SIGTERM to its PID, exit {rc}")

    # 4. the -dev package, as README's `apt install ./build/package/*.deb` installs it with the others: a
    # third party's program built from nothing but pkg-config's answer, linked to the packaged library, run.
    r = run(["apt-get", "install", "-y", "--no-install-recommends", debs["libtwoway-dev"]])
    check(r.returncode == 0, f"apt-get install libtwoway-dev: rc {r.returncode}", r.stdout[-3000:] + r.stderr)
    installed["libtwoway-dev"] = run(["dpkg", "-L", "libtwoway-dev"]).stdout.split("\n")
    version = run(["dpkg-query", "-W", "-f=${Version}", "libtwoway-dev"]).stdout.strip()
    r = run(["pkg-config", "--modversion", "twoway"])
    check(r.returncode == 0 and r.stdout.strip() == version,
          f"pkg-config --modversion twoway: {r.stdout.strip()!r} (the package is {version})", r.stderr)
    flags = run(["pkg-config", "--cflags", "--libs", "twoway"]).stdout.split()
    std = run(["pkg-config", "--variable=cxx_std", "twoway"]).stdout.strip()
    exes = {}
    for name in ("echo_server", "echo_client"):
        exes[name] = os.path.join(tmp, name)
        r = run(["g++", f"-std={std}", "-O0", "-Wall", "-Werror", "-pthread",
                 os.path.join(EXAMPLES, name + ".cpp"), "-o", exes[name]] + flags)
        check(r.returncode == 0, f"examples/{name}.cpp builds with pkg-config's flags only ({' '.join(flags)})",
              r.stderr[-3000:])
        r = run(["ldd", exes[name]])
        m = re.search(r"libtwoway\.so\.0 => (\S+)", r.stdout)
        check(m is not None and os.path.realpath(m.group(1)) == os.path.realpath(lib[0]),
              f"{name} loads the packaged libtwoway.so.0", r.stdout)
    r = run([sys.executable, ECHO_TEST, exes["echo_server"], exes["echo_client"]])
    check(r.returncode == 0, "tests/examples/echo_test.py passes with the two (echoes, a refused client key, "
          "a refused server key)", r.stdout[-3000:] + r.stderr[-3000:])

    # 5. reinstall: dpkg's upgrade path (prerm upgrade, postinst configure <version>)
    with open(HOST_KEY, "rb") as f:
        key_bytes = f.read()
    r = run(["apt-get", "install", "-y", "--reinstall", "--no-install-recommends"] + deb_files)
    check(r.returncode == 0, f"apt-get install --reinstall: rc {r.returncode}", r.stdout[-3000:] + r.stderr)
    check(fingerprint(HOST_KEY + ".pub") == fp, "the host key's fingerprint is unchanged by the upgrade")
    with open(HOST_KEY, "rb") as f:
        check(f.read() == key_bytes, "the host key file is unchanged by the upgrade")
    check(stat.S_IMODE(os.stat(HOST_KEY).st_mode) == 0o600, "the host key is still 0600")

    # 6. purge
    r = run(["apt-get", "purge", "-y"] + ALL_PACKAGES)
    check(r.returncode == 0, f"apt-get purge: rc {r.returncode}", r.stdout[-3000:] + r.stderr)
    for p in ALL_PACKAGES:
        check(dpkg_status(p) == "", f"dpkg knows nothing of {p} after the purge (status {dpkg_status(p)!r})")
    listed = {path for p in ALL_PACKAGES for path in installed[p] if path and path != "/."}
    left = sorted(path for path in listed | set(before)
                  if exists(path) and not before.get(path, False))
    check(left == [], f"nothing the packages installed or made is left: {left}")
    check(not exists("/etc/twoway"), "/etc/twoway is gone")


def main():
    if os.geteuid() != 0:
        print("SKIP: needs root (it installs the packages into this system)")
        return 77
    present = [p for p in ALL_PACKAGES if dpkg_status(p)]
    if present:
        print(f"SKIP: already known to dpkg, not touched: {', '.join(present)}")
        return 77
    deb_dir = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else
                              os.path.join(os.path.dirname(__file__), "..", "..", "build", "package"))
    debs = {}
    for p in ALL_PACKAGES:
        found = sorted(glob.glob(os.path.join(deb_dir, f"{p}_*.deb")))
        if len(found) != 1:
            print(f"FAIL: expected one {p}_*.deb in {deb_dir}, found {found} (run scripts/package)")
            return 1
        debs[p] = found[0]
    if exists("/etc/twoway"):
        print("SKIP: /etc/twoway exists already (not made by these packages; not touched)")
        return 77

    tmp = tempfile.mkdtemp(prefix="twoway-install-test-")
    os.chmod(tmp, 0o755)
    daemon = Daemon(tmp)
    saved_policy = None
    if exists(POLICY):
        saved_policy = POLICY + ".twoway-install-test"
        os.rename(POLICY, saved_policy)
    with open(POLICY, "w") as f:
        f.write("#!/bin/sh\n# tests/package/install_test.py: no service starts while it runs\nexit 101\n")
    os.chmod(POLICY, 0o755)
    status = 1
    try:
        test(debs, tmp, daemon)
        status = 0
    except AssertionError as e:
        print(f"FAIL: {e}")
    finally:
        daemon.stop()
        if any(dpkg_status(p) for p in ALL_PACKAGES):
            r = run(["apt-get", "purge", "-y"] + ALL_PACKAGES)
            print(f"cleanup: apt-get purge: rc {r.returncode}")
            if any(dpkg_status(p) for p in ALL_PACKAGES):
                print("cleanup: FAILED to purge the packages; run: apt-get purge " + " ".join(ALL_PACKAGES))
                status = 1
        os.remove(POLICY)
        if saved_policy:
            os.rename(saved_policy, POLICY)
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"install test: {passed} checks passed, {'OK' if status == 0 else 'FAILED'}")
    return status


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""The configuration the Debian package ships (etc/twowayd.conf -> /etc/twoway/twowayd.conf) is safe as
shipped: `twowayd -t -f FILE -h KEY` accepts it with nothing to say, and its effective configuration
(`twowayd -T`) is exactly that of an empty file, so every value it states is twowayd's own default
(key logins only, PermitRootLogin prohibit-password, PermitOpen and PermitListen none). Its HostKey is
the default path, which -h replaces here.

Usage: default_config.py CONF TWOWAYD TWOWAY_KEYGEN
"""
import os
import subprocess
import sys
import tempfile


def main():
    conf, twowayd, keygen = sys.argv[1:4]
    failures = 0

    def check(ok, what):
        nonlocal failures
        print(("ok: " if ok else "FAIL: ") + what)
        failures += 0 if ok else 1

    with tempfile.TemporaryDirectory(prefix="twoway-default-config-") as tmp:
        key = os.path.join(tmp, "host_ed25519_key")
        subprocess.run([keygen, "-q", "-N", "", "-C", "default-config-test", "-f", key], check=True,
                       stdout=subprocess.DEVNULL, timeout=60)
        empty = os.path.join(tmp, "empty.conf")
        open(empty, "w").close()

        r = subprocess.run([twowayd, "-t", "-f", conf, "-h", key], capture_output=True, text=True, timeout=60)
        check(r.returncode == 0 and r.stdout + r.stderr == "",
              f"twowayd -t -f {conf} -h KEY: rc {r.returncode}, output {r.stdout + r.stderr!r}")

        shipped = subprocess.run([twowayd, "-T", "-f", conf, "-h", key], capture_output=True, text=True, timeout=60)
        default = subprocess.run([twowayd, "-T", "-f", empty, "-h", key], capture_output=True, text=True, timeout=60)
        check(shipped.returncode == 0 and default.returncode == 0, "twowayd -T on both files")
        diff = sorted(set(shipped.stdout.splitlines()) ^ set(default.stdout.splitlines()))
        check(shipped.stdout == default.stdout, f"the shipped file means exactly the defaults (differences: {diff})")
        for line in ["permitopen none", "permitlisten none", "passwordauthentication no",
                     "permitrootlogin prohibit-password"]:
            check(line in shipped.stdout.splitlines(), f"twowayd -T says {line!r}")

    with open(conf) as f:
        lines = [ln.split() for ln in f if ln.strip() and not ln.lstrip().startswith("#")]
    hostkeys = [ln[1:] for ln in lines if ln[0].lower() == "hostkey"]
    check(hostkeys == [["/etc/twoway/host_ed25519_key"]],
          f"HostKey is the default /etc/twoway/host_ed25519_key, the key the postinst creates: {hostkeys}")
    with open(conf) as f:
        text = f.read()
    check(len(text.splitlines()) <= 30, "the file is short")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

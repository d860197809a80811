#!/usr/bin/env python3
"""twowayd -t: every problem in the configuration and the host keys is printed with its file (and line),
exit 1; a good configuration prints nothing and exits 0. A daemon asked to start with a bad
configuration refuses to, with the same problems in its log."""

import os
import subprocess

from twoway_env import World, check, keygen, run_tests, TWOWAYD, CLEAN_PATH


def twowayd(*args, timeout=30):
    return subprocess.run([TWOWAYD, *args], capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL, env={"PATH": CLEAN_PATH, "LANG": "C"})


def write(path, text, mode=0o644):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)


def test_good_config_passes_silently():
    with World("t-good", start=False) as w:
        r = twowayd("-t", "-f", w.config)
        check(r.returncode == 0, f"-t on a good config: {r.returncode} {r.stderr!r}")
        check(r.stdout == "" and r.stderr == "", f"-t printed something: {r.stdout!r} {r.stderr!r}")


def test_every_config_error_with_file_and_line():
    with World("t-bad", start=False) as w:
        conf = os.path.join(w.etc, "broken.conf")
        write(conf, "\n".join([
            "# a broken file",
            f"HostKey {w.host_key}",
            "ListenAddress 127.0.0.1",
            "Portt 4422",                  # line 4: unknown keyword
            "MaxStartups 10:0:5",          # line 5: rate 0, start > full
            "LoginGraceTime soon",         # line 6: not a time
            "Service db localhost",        # line 7: no port
            "StrictModes maybe",           # line 8
        ]) + "\n")
        r = twowayd("-t", "-f", conf)
        check(r.returncode == 1, f"exit {r.returncode}, stderr {r.stderr!r}")
        lines = r.stderr.splitlines()
        for n, word in [(4, "Portt"), (5, "MaxStartups"), (6, "LoginGraceTime"), (7, "Service"), (8, "StrictModes")]:
            check(any(l.startswith(f"{conf}:{n}: ") and word in l for l in lines),
                  f"no problem reported for line {n} ({word}): {lines}")
        check(len(lines) == 5, f"expected exactly the 5 problems: {lines}")


def test_host_key_problems_are_reported_by_file():
    with World("t-keys", start=False) as w:
        os.chmod(w.host_key, 0o644)
        missing = os.path.join(w.etc, "no_such_key")
        conf = os.path.join(w.etc, "keys.conf")
        write(conf, f"HostKey {w.host_key}\nHostKey {missing}\n")
        r = twowayd("-t", "-f", conf)
        check(r.returncode == 1, f"exit {r.returncode}: {r.stderr!r}")
        check(f"{w.host_key}: permissions 0644 are too open" in r.stderr, f"{r.stderr!r}")
        check(f"{missing}: no such host key file" in r.stderr, f"{r.stderr!r}")
        # -h replaces the configured HostKey lines, as sshd's -h does.
        good = os.path.join(w.etc, "good_key")
        keygen(good, "other-host")
        r = twowayd("-t", "-f", conf, "-h", good)
        check(r.returncode == 0 and r.stderr == "", f"-h good key: {r.returncode} {r.stderr!r}")


def test_extended_test_prints_the_effective_configuration():
    with World("t-T", start=False) as w:
        r = twowayd("-T", "-f", w.config, "-p", "2345")
        check(r.returncode == 0 and r.stderr == "", f"-T: {r.returncode} {r.stderr!r}")
        lines = r.stdout.splitlines()
        # The file's values, the flags' overrides and the defaults, one lower-case keyword per line.
        for expected in ("port 2345", "listenaddress 127.0.0.1", f"hostkey {w.host_key}",
                         f"authorizedkeysfile {w.authorized_keys}", "strictmodes no", "loglevel VERBOSE",
                         "revokedkeys none", "logingracetime 120", "maxstartups 1000", "maxsessionstotal 1024",
                         "perusermaxsessions 256", "persessionmaxbuffer 256K", "maxbuffertotal 128M"):
            check(expected in lines, f"-T lacks {expected!r}:\n{r.stdout}")
        check(all(l.split(" ", 1)[0].islower() for l in lines), r.stdout)
        # What -T prints is a configuration that means the same: -T on it prints it again.
        again = os.path.join(w.etc, "effective.conf")
        write(again, r.stdout)
        r2 = twowayd("-T", "-f", again)
        check(r2.returncode == 0 and r2.stdout == r.stdout, f"-T on -T's output: {r2.returncode} {r2.stderr!r}\n"
              f"{r2.stdout}\nvs\n{r.stdout}")
        # A bad configuration prints its problems and no configuration.
        write(again, "Port 0\n")
        r3 = twowayd("-T", "-f", again)
        check(r3.returncode == 1 and r3.stdout == "" and f"{again}:1: Port" in r3.stderr, f"{r3}")


def test_missing_config_file():
    with World("t-missing", start=False) as w:
        path = os.path.join(w.etc, "nope.conf")
        r = twowayd("-t", "-f", path)
        check(r.returncode == 1 and path in r.stderr and "cannot read" in r.stderr, f"{r.returncode} {r.stderr!r}")


def test_daemon_refuses_to_start_with_a_bad_config():
    with World("t-start", start=False) as w:
        with open(w.config, "a") as f:
            f.write("NoSuchOption 1\n")
        r = twowayd("-D", "-e", "-f", w.config, "-p", "0", timeout=20)
        check(r.returncode == 1, f"exit {r.returncode}: {r.stderr!r}")
        check(f"{w.config}:" in r.stderr and "NoSuchOption" in r.stderr, f"{r.stderr!r}")
        check("Server listening" not in r.stderr, f"it listened anyway: {r.stderr!r}")


def test_usage_errors():
    r = twowayd("-Q")
    check(r.returncode == 1 and "usage: twowayd" in r.stderr, f"{r.returncode} {r.stderr!r}")
    r = twowayd("-p", "70000", "-t")
    check(r.returncode == 1, f"port 70000 accepted: {r.returncode} {r.stderr!r}")


if __name__ == "__main__":
    run_tests(globals())

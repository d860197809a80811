#!/usr/bin/env python3
"""The systemd units (systemd/): systemd-analyze verify finds nothing wrong with either, each names the
programs meson installs, twowayd.service is Type=notify and reloads with SIGHUP after a config test, and
twowayd-keygen.service creates the host key once (twoway-keygen -A into a throwaway prefix: the key is
0600, a second run keeps it, an empty file is replaced).

systemd-analyze verify also checks that every Exec* program exists. The installed units name
<prefix>/sbin/twowayd, absent before installation, so the test verifies copies whose paths point into the
build tree; the installed files are compared with those copies line by line apart from the paths.

Usage: check_units.py BUILD_UNIT_DIR TWOWAYD TWOWAY_KEYGEN SBINDIR BINDIR
"""
import os
import shutil
import stat
import subprocess
import sys
import tempfile

failures = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        failures.append(what)


def unit_sections(text):
    """{section: {key: [values in order]}}: systemd allows a key more than once (ExecReload twice)."""
    out, section = {}, None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(('#', ';')):
            continue
        if line.startswith('[') and line.endswith(']'):
            section = out.setdefault(line[1:-1], {})
            continue
        key, _, value = line.partition('=')
        section.setdefault(key.strip(), []).append(value.strip())
    return out


def main():
    unit_dir, twowayd, keygen, sbindir, bindir = sys.argv[1:6]
    analyze = shutil.which('systemd-analyze')
    with tempfile.TemporaryDirectory(prefix='twoway-units-') as tmp:
        for name in ('twowayd.service', 'twowayd-keygen.service'):
            with open(os.path.join(unit_dir, name)) as f:
                installed = f.read()
            local = (installed.replace(sbindir + '/twowayd', os.path.abspath(twowayd))
                              .replace(bindir + '/twoway-keygen', os.path.abspath(keygen)))
            check(local != installed, f'{name} names programs under {sbindir} or {bindir}')
            path = os.path.join(tmp, name)
            with open(path, 'w') as f:
                f.write(local)
            if analyze:
                r = subprocess.run([analyze, 'verify', '--man=no', path], capture_output=True, text=True)
                out = (r.stdout + r.stderr).strip()
                check(r.returncode == 0 and out == '', f'systemd-analyze verify {name}: rc {r.returncode} {out!r}')
            else:
                check(False, 'systemd-analyze is missing (systemd is part of Debian\'s base system)')

        with open(os.path.join(unit_dir, 'twowayd.service')) as f:
            d = unit_sections(f.read())
        svc = d['Service']
        check(svc.get('Type') == ['notify'], 'twowayd.service is Type=notify (twowayd sends READY=1)')
        check(svc.get('ExecStart') == [sbindir + '/twowayd -D'], 'ExecStart runs twowayd in the foreground (-D)')
        check(svc.get('ExecReload') == [sbindir + '/twowayd -t', '/bin/kill -HUP $MAINPID'],
              'ExecReload tests the configuration, then sends SIGHUP')
        check(svc.get('KillMode') == ['process'], 'KillMode=process: the daemon hangs up its sessions itself')
        namespaces = [k for k in svc if k.startswith(('Protect', 'Private', 'NoNewPrivileges', 'Restrict'))]
        check(namespaces == [], f'no sandbox directive the sessions would inherit: {namespaces}')
        check('twowayd-keygen.service' in d['Unit'].get('Wants', [''])[0], 'twowayd.service wants the key generation')

        with open(os.path.join(unit_dir, 'twowayd-keygen.service')) as f:
            k = unit_sections(f.read())
        check(k['Service'].get('ExecStart') == [bindir + '/twoway-keygen -A'], 'the keygen unit runs twoway-keygen -A')
        check(k['Unit'].get('ConditionFileNotEmpty') == ['!/etc/twoway/host_ed25519_key'],
              'the keygen unit runs only without a host key')

        # twoway-keygen -A into a prefix: what the unit does at first boot.
        prefix = os.path.join(tmp, 'root')
        os.mkdir(prefix)
        key = os.path.join(prefix, 'etc', 'twoway', 'host_ed25519_key')
        r = subprocess.run([keygen, '-A', '-f', prefix], capture_output=True, text=True)
        check(r.returncode == 0 and 'generating new host keys: ED25519' in r.stdout, f'-A creates the key: {r.stdout!r} {r.stderr!r}')
        check(os.path.exists(key) and stat.S_IMODE(os.stat(key).st_mode) == 0o600, 'the private key is 0600')
        check(os.path.exists(key + '.pub'), 'with its .pub')
        fp = subprocess.run([keygen, '-l', '-f', key + '.pub'], capture_output=True, text=True).stdout
        r = subprocess.run([keygen, '-A', '-f', prefix], capture_output=True, text=True)
        fp2 = subprocess.run([keygen, '-l', '-f', key + '.pub'], capture_output=True, text=True).stdout
        check(r.returncode == 0 and r.stdout == '' and fp == fp2 and fp != '', 'a second -A keeps the key')
        open(key, 'w').close()
        r = subprocess.run([keygen, '-A', '-f', prefix], capture_output=True, text=True)
        fp3 = subprocess.run([keygen, '-l', '-f', key + '.pub'], capture_output=True, text=True).stdout
        check(r.returncode == 0 and os.path.getsize(key) > 0 and fp3 != fp, 'an empty key file is replaced')
        conf = os.path.join(tmp, 'twowayd.conf')
        open(conf, 'w').close()
        r = subprocess.run([twowayd, '-t', '-f', conf, '-h', key], capture_output=True, text=True)
        check(r.returncode == 0, f'twowayd -t takes the generated key: {r.stderr.strip()!r}')
        r = subprocess.run([keygen, '-A', '-f', os.path.join(tmp, 'missing')], capture_output=True, text=True)
        check(r.returncode != 0 and r.stderr.strip() != '', 'a prefix that does not exist is an error, not created')

    print(f'units: {len(failures)} failed')
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())

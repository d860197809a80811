#!/usr/bin/env python3
"""sshd_config's access policy in the real twowayd with the real twoway (issue 15): each PermitRootLogin
value (the tests run as root: the World's own key logs in as root through its AuthorizedKeysFile under
the World's directory, never /root/.twoway), AllowUsers/DenyUsers/AllowGroups/DenyGroups with a
throwaway account, a Match block changing ForceCommand and PermitTTY for one group only, PermitService
and DisableForwarding refusing a service, twowayd -T -C, and Debian's stock sshd_config under -t. Every
refusal is the generic denial on the wire and one log line naming the keyword's file:line."""

import os
import re
import shutil
import subprocess

from twoway_env import Account, CLEAN_PATH, TWOWAYD, World, check, public_key_line, run_tests, trusted_world

DENIED = b"Permission denied (publickey).\n"


def config_line(w, text):
    """The file:line of the first line of the World's twowayd.conf that starts with text."""
    with open(w.config) as f:
        for n, line in enumerate(f, 1):
            if line.strip().startswith(text):
                return f"{w.config}:{n}"
    raise AssertionError(f"{text!r} not in {w.config}")


def refused(r):
    return r.returncode == 255 and r.stderr == DENIED


def test_permit_root_login_each_value():
    cases = [
        ("yes", "", True),
        ("prohibit-password", "", True),
        ("without-password", "", True),
        ("forced-commands-only", "", False),
        ("forced-commands-only", "ForceCommand echo forced\n", True),
        ("no", "", False),
    ]
    for value, more, allowed in cases:
        with trusted_world("root", f"PermitRootLogin {value}\n{more}") as w:
            r = w.twoway("127.0.0.1", "echo ran")
            if allowed:
                check(r.returncode == 0, f"PermitRootLogin {value} {more!r}: root refused: {r}\n{w.daemon_log()}")
                want = b"forced\n" if more else b"ran\n"
                check(r.stdout == want, f"PermitRootLogin {value}: {r.stdout!r}")
                if more:
                    w.wait_log(r"Root login accepted for forced command\.")
            else:
                check(refused(r), f"PermitRootLogin {value}: root not refused: {r}")
                where = re.escape(config_line(w, "PermitRootLogin"))
                w.wait_log(rf"ROOT LOGIN REFUSED FROM 127\.0\.0\.1 port \d+: PermitRootLogin {value} \({where}\)")
                w.wait_log(r"Failed publickey for root from 127\.0\.0\.1 port \d+: ED25519 SHA256:")
    # The default lets root in with a key (sshd's prohibit-password), and -T says so.
    with trusted_world("root-default") as w:
        check(w.twoway("127.0.0.1", "true").returncode == 0, "default: root refused")
        out = subprocess.run([TWOWAYD, "-T", "-f", w.config], capture_output=True, text=True, timeout=60).stdout
        check("permitrootlogin prohibit-password\n" in out, out)


def test_allow_and_deny_users_and_groups():
    with trusted_world("users") as w:
        with Account(w.dir) as a:
            # useradd made the account's own group, of its name; root's is root.
            cases = [
                (f"DenyUsers {a.name}", a.name, "listed in DenyUsers", "root"),
                ("AllowUsers root", a.name, "not listed in AllowUsers", "root"),
                (f"AllowUsers {a.name}@10.0.0.0/8 root@127.0.0.1", a.name, "not listed in AllowUsers", "root"),
                (f"AllowGroups {a.name}", "root", "none of user's groups are listed in AllowGroups", a.name),
                ("DenyGroups root", "root", "a group is listed in DenyGroups", a.name),
            ]
            for line, who, why, other in cases:
                with open(w.config) as f:
                    base = [l for l in f.read().splitlines() if not re.match(r"(Allow|Deny)(Users|Groups) ", l)]
                with open(w.config, "w") as f:
                    f.write("\n".join(base + [line]) + "\n")
                w.stop_daemon()
                os.truncate(w.log_path, 0)
                w.start_daemon()
                with open(w.known_hosts, "w") as f:
                    f.write(f"[127.0.0.1]:{w.port} {public_key_line(w.host_key + '.pub')}\n")
                r = w.twoway("-l", who, "127.0.0.1", "true")
                check(refused(r), f"{line}: {who} not refused: {r}")
                where = re.escape(config_line(w, line.split()[0]))
                w.wait_log(rf"User {who} from 127\.0\.0\.1 not allowed because {re.escape(why)} \({where}\)")
                ok = w.twoway("-l", other, "127.0.0.1", "true")
                check(ok.returncode == 0, f"{line}: {other} refused: {ok}\n{w.daemon_log()}")


def test_match_group_changes_force_command_and_tty_for_that_group_only():
    with trusted_world("match") as w:
        with Account(w.dir) as a:
            with open(w.config, "a") as f:
                f.write(f"Match Group {a.name}\n"
                        "    ForceCommand tty; echo \"original=$TWOWAY_ORIGINAL_COMMAND\"\n"
                        "    PermitTTY no\n")
            w.stop_daemon()
            os.truncate(w.log_path, 0)
            w.start_daemon()
            with open(w.known_hosts, "w") as f:
                f.write(f"[127.0.0.1]:{w.port} {public_key_line(w.host_key + '.pub')}\n")
            # The group's member: the forced command runs instead, with the original in the variable,
            # and without a terminal although one was asked for.
            r = w.twoway("-tt", "-l", a.name, "127.0.0.1", "echo hello")
            out = r.stdout.replace(b"\r\n", b"\n")
            check(b"not a tty\n" in out and b"original=echo hello\n" in out, f"{r}\n{w.daemon_log()}")
            check(b"hello\n" not in out.replace(b"original=echo hello\n", b""), f"the original ran: {out!r}")
            w.wait_log(rf"PTY allocation refused for {a.name} \(PermitTTY no, {re.escape(w.config)}:\d+\)")
            # Everyone else: the command as asked, on a terminal.
            r = w.twoway("-tt", "127.0.0.1", "tty; echo hello")
            out = r.stdout.replace(b"\r\n", b"\n")
            check(r.returncode == 0 and b"/dev/pts/" in out and b"hello\n" in out and b"original=" not in out,
                  f"root: {r}")


def test_set_env():
    # (AcceptEnv with SendEnv: client_transfer.py, test_send_env.)
    with trusted_world("env", "SetEnv GREETING=hello \"TWO=a b\"\n") as w:
        r = w.twoway("127.0.0.1", "echo \"$GREETING/$TWO\"")
        check(r.returncode == 0 and r.stdout == b"hello/a b\n", f"{r}\n{w.daemon_log()}")


def test_services_refused_by_permit_service_and_disable_forwarding():
    # Nothing listens on the service's port: a refusal by policy must come before any connect.
    for extra, why in [("PermitService db\n", "not listed in PermitService"),
                       ("PermitService none\n", "not listed in PermitService"),
                       ("DisableForwarding yes\n", "DisableForwarding yes"),
                       ("AllowTcpForwarding no\n", "AllowTcpForwarding")]:
        w = World("svc", services={"web": 9}, extra_config=extra)
        with w:
            with open(w.known_hosts, "w") as f:
                f.write(f"[127.0.0.1]:{w.port} {public_key_line(w.host_key + '.pub')}\n")
            r = w.twoway("-W", "web", "127.0.0.1", input=b"")
            check(r.returncode != 0, f"{extra}: the service was not refused: {r}")
            where = re.escape(config_line(w, extra.split()[0]))
            w.wait_log(rf"Refused request for service web from user root 127\.0\.0\.1 port \d+: {re.escape(why)}.*\({where}\)")
            check("connect to" not in w.daemon_log(), w.daemon_log())


def test_T_C_prints_the_connection_configuration():
    with trusted_world("tc", "PermitRootLogin no\nMatch Address 127.0.0.0/8 LocalPort 4422\n"
                             "    PermitRootLogin forced-commands-only\n    ForceCommand /bin/backup\n") as w:
        def tc(spec):
            return subprocess.run([TWOWAYD, "-T", "-f", w.config, "-C", spec], capture_output=True, text=True,
                                  timeout=60, env={"PATH": CLEAN_PATH})
        r = tc("user=root,addr=127.0.0.1,laddr=127.0.0.1,lport=4422")
        check(r.returncode == 0, f"{r}")
        check("permitrootlogin forced-commands-only\n" in r.stdout and "forcecommand /bin/backup\n" in r.stdout, r.stdout)
        check("match " not in r.stdout, r.stdout)
        check(f"Match block applies: {w.config}:7" in r.stderr, r.stderr)
        check("access: allowed: Root login accepted for forced command." in r.stderr, r.stderr)
        r = tc("user=root,addr=192.0.2.1,lport=4422")
        check("permitrootlogin no\n" in r.stdout and "forcecommand none\n" in r.stdout, r.stdout)
        check(re.search(rf"access: refused: ROOT LOGIN REFUSED FROM 192\.0\.2\.1 port 0: PermitRootLogin no "
                        rf"\({re.escape(w.config)}:6\)", r.stderr), r.stderr)
        bad = tc("user=root,colour=blue")
        check(bad.returncode != 0 and "Invalid test mode specification" in bad.stderr, f"{bad}")


def test_debian_sshd_config_passes_t():
    path = "/etc/ssh/sshd_config"
    if not os.path.exists(path):
        print(f"SKIP test_debian_sshd_config_passes_t: {path} is absent (openssh-server not installed)")
        return
    with trusted_world("debian") as w:
        def t(conf):
            return subprocess.run([TWOWAYD, "-t", "-f", conf, "-h", w.host_key], capture_output=True, text=True,
                                  timeout=60, env={"PATH": CLEAN_PATH})
        with open(path) as f:
            text = f.read()
        r = t(path)
        # A note, not a problem: without /etc/pam.d/twowayd, PAM reads /etc/pam.d/other.
        no_service = "UsePAM yes: /etc/pam.d/twowayd does not exist, so PAM uses /etc/pam.d/other"
        problems = [l for l in r.stderr.splitlines()
                    if "ignored (" not in l and "accepted, twowayd" not in l and not l.startswith(no_service)]
        # As it is, UsePAM yes included (Debian ships it; twowayd runs PAM's account and session phases).
        check(r.returncode == 0 and problems == [], f"Debian's sshd_config under twowayd -t: {r}")
        if re.search(r"(?m)^\s*UsePAM\s+yes", text):
            check(os.path.exists("/etc/pam.d/twowayd") or no_service in r.stderr, f"no note on the PAM service: {r}")
            tt = subprocess.run([TWOWAYD, "-T", "-f", path, "-h", w.host_key], capture_output=True, text=True,
                                timeout=60, env={"PATH": CLEAN_PATH})
            check(tt.returncode == 0 and "\nusepam yes\n" in tt.stdout and "\npamservicename twowayd\n" in tt.stdout,
                  f"twowayd -T: {tt}")
        check("X11Forwarding: ignored (twoway has no X11 forwarding)" in r.stderr, r.stderr)


if __name__ == "__main__":
    run_tests(globals())

#!/usr/bin/env python3
"""OpenSSH's own file transfer tools over twoway, unchanged: scp -S twoway (SFTP and the legacy -O
protocol, both directions), sftp -S twoway -b batch, rsync -e twoway, and git clone and push over
ssh://host:port/ with GIT_SSH_COMMAND=twoway. twowayd serves sftp with Debian's sftp-server through
its Subsystem keyword; the client gets the flags and -o options these tools pass to their transport."""

import hashlib
import os
import shutil
import subprocess

from twoway_env import World, check, public_key_line, run_tests, TWOWAY

SFTP_SERVER = "/usr/lib/openssh/sftp-server"


def transfer_world(name):
    """A world serving sftp whose client already knows the host."""
    # GIT_PROTOCOL accepted: git's SendEnv then brings protocol v2 along.
    w = World(name, extra_config=f"Subsystem sftp {SFTP_SERVER}\nAcceptEnv LANG LC_* GIT_PROTOCOL XFER_*\n")
    with open(w.known_hosts, "w") as f:
        f.write(f"[127.0.0.1]:{w.port} {public_key_line(w.host_key + '.pub')}\n")
    os.chmod(w.known_hosts, 0o600)
    w.data = os.path.join(w.dir, "data")
    os.makedirs(w.data)
    return w


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def random_file(path, size):
    with open(path, "wb") as f:
        f.write(os.urandom(size))
    return sha256(path)


def run(w, argv, timeout=120, env=None, cwd=None, input=None):
    r = subprocess.run(argv, capture_output=True, timeout=timeout, env=env or w.client_env(), cwd=cwd,
                       input=input, stdin=None if input is not None else subprocess.DEVNULL,
                       start_new_session=True)
    check(r.returncode == 0, f"{argv} exited {r.returncode}: stdout {r.stdout[-2000:]!r} stderr {r.stderr[-2000:]!r}"
                             f"\ntwowayd log:\n{w.daemon_log()[-4000:]}")
    return r


def test_subsystem_request_and_refusal():
    with transfer_world("subsystem") as w:
        # sftp-server answers SSH_FXP_INIT (version 3) with SSH_FXP_VERSION; it exits at the end of its
        # input without writing what is pending, so stdin stays open until the answer is in.
        proc = subprocess.Popen(w.argv("-s", "127.0.0.1", "sftp"), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, env=w.client_env(), start_new_session=True)
        try:
            proc.stdin.write(b"\x00\x00\x00\x05\x01\x00\x00\x00\x03")
            proc.stdin.flush()
            answer = proc.stdout.read(9)
            proc.stdin.close()
            rc = proc.wait(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        check(answer[4:9] == b"\x02\x00\x00\x00\x03", f"no SSH_FXP_VERSION: {answer!r}")
        check(rc == 0, f"exit status {rc}: {proc.stderr.read()!r}")
        w.wait_log(r"Starting session: subsystem 'sftp' for root from 127\.0\.0\.1")
        # A name the daemon does not define: refused, with one line, and logged as sshd logs it.
        r = w.twoway("-s", "127.0.0.1", "nosuch")
        check(r.returncode == 255, f"{r}")
        check(r.stderr.count(b"\n") == 1 and b"subsystem refused by the host" in r.stderr
              and b"no such subsystem" in r.stderr, f"{r.stderr!r}")
        w.wait_log(r"subsystem request for nosuch by user root from 127\.0\.0\.1 port \d+ failed, subsystem not found")
        # An invalid name never leaves the client.
        r = w.twoway("-s", "127.0.0.1", "sf tp")
        check(r.returncode == 255 and b"invalid subsystem name" in r.stderr, f"{r}")


def set_key_options(w, options):
    with open(w.user_key + ".pub") as f:
        key = f.read().strip()
    with open(w.authorized_keys, "w") as f:
        f.write(f"{options} {key}\n")


def test_key_options_and_subsystems():
    with transfer_world("keyopts") as w:
        # As sshd: `restrict` leaves subsystems alone (sftp works) ...
        set_key_options(w, "restrict")
        batch = os.path.join(w.dir, "batch")
        with open(batch, "w") as f:
            f.write(f"ls {w.data}\n")
        run(w, ["sftp", "-P", str(w.port), "-S", TWOWAY, "-b", batch, "127.0.0.1"])
        # ... and command= runs instead, with the subsystem's command line as the original command.
        set_key_options(w, 'command="echo forced:$TWOWAY_ORIGINAL_COMMAND"')
        r = w.twoway("-s", "127.0.0.1", "sftp")
        check(r.returncode == 0 and r.stdout == f"forced:{SFTP_SERVER}\n".encode(), f"{r}")


def test_send_env():
    with transfer_world("sendenv") as w:
        env = w.client_env(XFER_A="one two", XFER_B="b", OTHER="no")
        # "-XFER_B" takes back the earlier XFER_B (ssh's rule); OTHER is sent but not in AcceptEnv; XFER_A
        # passes the daemon's AcceptEnv wildcard XFER_*.
        r = w.twoway("-o", "SendEnv=XFER_A XFER_B OTHER", "-o", "SendEnv=-XFER_B", "127.0.0.1",
                     'echo "$XFER_A|$XFER_B|$OTHER"', env=env)
        check(r.returncode == 0 and r.stdout == b"one two||\n", f"{r}")
        # LANG and LC_* go by default, as Debian's ssh sends them, and twowayd's default AcceptEnv takes
        # them; SendEnv -LC_* takes LC_* back.
        env = w.client_env(LANG="C.UTF-8", LC_TIME="C")
        r = w.twoway("127.0.0.1", 'echo "$LANG|${LC_TIME-unset}"', env=env)
        check(r.returncode == 0 and r.stdout == b"C.UTF-8|C\n", f"LANG and LC_* by default: {r}")
        r = w.twoway("-o", "SendEnv=-LC_*", "127.0.0.1", 'echo "$LANG|${LC_TIME-unset}"', env=env)
        check(r.returncode == 0 and r.stdout == b"C.UTF-8|unset\n", f"SendEnv -LC_*: {r}")


def test_transport_options():
    with transfer_world("options") as w:
        # scp's -oClearAllForwardings=yes drops -L; -oRequestTTY=no, -x, -a, -C change nothing here.
        r = w.twoway("-v", "-x", "-a", "-C", "-oClearAllForwardings=yes", "-oRequestTTY=no", "-oForwardAgent=no",
                     "-oPermitLocalCommand=no", "-oRemoteCommand=none", "-oForwardX11=no", "-oControlMaster=no",
                     "-L", "0:web", "127.0.0.1", "echo ok")
        check(r.returncode == 0 and r.stdout == b"ok\n", f"{r}")
        check(b"ClearAllForwardings: not setting up the -L, -D and -R forwards" in r.stderr, f"{r.stderr!r}")
        check(b"Allocated port" not in r.stderr, f"{r.stderr!r}")
        check(b"debug1: -x: twoway has no X11 forwarding" in r.stderr, f"{r.stderr!r}")
        check(b"debug1: command-line: ForwardAgent: ignored (twoway has no agent forwarding)" in r.stderr,
              f"{r.stderr!r}")
        # A value that would ask for something twoway cannot do is refused, with ssh's exit status.
        r = w.twoway("-oForwardAgent=yes", "127.0.0.1", "true")
        check(r.returncode == 255 and b"ForwardAgent \"yes\": twoway has no agent forwarding" in r.stderr, f"{r}")


def test_sftp_batch():
    with transfer_world("sftp") as w:
        local = os.path.join(w.dir, "local.bin")
        digest = random_file(local, 3 * 1024 * 1024 + 17)
        back = os.path.join(w.dir, "back.bin")
        batch = os.path.join(w.dir, "batch")
        with open(batch, "w") as f:
            f.write(f"put {local} {w.data}/up.bin\nls -l {w.data}\nget {w.data}/up.bin {back}\n")
        r = run(w, ["sftp", "-P", str(w.port), "-S", TWOWAY, "-b", batch, "127.0.0.1"])
        check(b"up.bin" in r.stdout, f"ls: {r.stdout!r}")
        check(sha256(os.path.join(w.data, "up.bin")) == digest, "uploaded file differs")
        check(sha256(back) == digest, "downloaded file differs")


def test_scp_both_ways():
    with transfer_world("scp") as w:
        local = os.path.join(w.dir, "local.bin")
        digest = random_file(local, 4 * 1024 * 1024 + 3)
        scp = ["scp", "-P", str(w.port), "-S", TWOWAY]
        # OpenSSH 9.2's default: the SFTP protocol (the sftp subsystem).
        run(w, scp + [local, f"127.0.0.1:{w.data}/sftp-mode.bin"])
        check(sha256(os.path.join(w.data, "sftp-mode.bin")) == digest, "scp local -> remote differs")
        run(w, scp + [f"127.0.0.1:{w.data}/sftp-mode.bin", os.path.join(w.dir, "back.bin")])
        check(sha256(os.path.join(w.dir, "back.bin")) == digest, "scp remote -> local differs")
        # -O: the legacy protocol, `scp -t` / `scp -f` run as commands.
        run(w, scp + ["-O", local, f"127.0.0.1:{w.data}/legacy.bin"])
        check(sha256(os.path.join(w.data, "legacy.bin")) == digest, "scp -O local -> remote differs")
        run(w, scp + ["-O", f"127.0.0.1:{w.data}/legacy.bin", os.path.join(w.dir, "back-legacy.bin")])
        check(sha256(os.path.join(w.dir, "back-legacy.bin")) == digest, "scp -O remote -> local differs")


def test_rsync():
    if shutil.which("rsync") is None:
        raise AssertionError("rsync is not installed (scripts/install-deps installs it)")
    with transfer_world("rsync") as w:
        src = os.path.join(w.dir, "src")
        os.makedirs(os.path.join(src, "sub"))
        d1 = random_file(os.path.join(src, "a.bin"), 2 * 1024 * 1024)
        d2 = random_file(os.path.join(src, "sub", "b.bin"), 1000)
        transport = f"{TWOWAY} -p {w.port}"
        run(w, ["rsync", "-a", "-e", transport, src + "/", f"127.0.0.1:{w.data}/dst/"])
        check(sha256(os.path.join(w.data, "dst", "a.bin")) == d1, "rsync push differs")
        check(sha256(os.path.join(w.data, "dst", "sub", "b.bin")) == d2, "rsync push differs (sub)")
        run(w, ["rsync", "-a", "-e", transport, f"127.0.0.1:{w.data}/dst/", os.path.join(w.dir, "pulled") + "/"])
        check(sha256(os.path.join(w.dir, "pulled", "a.bin")) == d1, "rsync pull differs")


def test_git_clone_and_push():
    with transfer_world("git") as w:
        bare = os.path.join(w.data, "repo.git")
        git_env = w.client_env(GIT_SSH_COMMAND=TWOWAY, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.org",
                               GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@example.org",
                               GIT_CONFIG_NOSYSTEM="1")
        git_env.pop("GIT_SSH_VARIANT", None)
        run(w, ["git", "init", "-q", "--bare", "-b", "main", bare], env=git_env)
        url = f"ssh://127.0.0.1:{w.port}{bare}"
        work = os.path.join(w.dir, "work")
        run(w, ["git", "clone", "-q", url, work], env=git_env)
        with open(os.path.join(work, "file.txt"), "w") as f:
            f.write("hello over twoway\n")
        run(w, ["git", "-C", work, "checkout", "-q", "-b", "main"], env=git_env)
        run(w, ["git", "-C", work, "add", "file.txt"], env=git_env)
        run(w, ["git", "-C", work, "commit", "-q", "-m", "first"], env=git_env)
        run(w, ["git", "-C", work, "push", "-q", "origin", "main"], env=git_env)
        head = run(w, ["git", "-C", work, "rev-parse", "HEAD"], env=git_env).stdout.strip()
        remote = run(w, ["git", "--git-dir", bare, "rev-parse", "main"], env=git_env).stdout.strip()
        check(head == remote, f"pushed {head!r}, the bare repository has {remote!r}")
        again = os.path.join(w.dir, "again")
        run(w, ["git", "clone", "-q", url, again], env=git_env)
        with open(os.path.join(again, "file.txt")) as f:
            check(f.read() == "hello over twoway\n", "clone of the pushed commit differs")


if __name__ == "__main__":
    run_tests(globals())

#!/usr/bin/env python3
"""A third party's build: install twoway into a temporary folder, build the echo examples from it with
nothing but what pkg-config says, and run them against each other.

usage: consumer_test.py BUILD_DIR EXAMPLES_DIR ECHO_TEST RUN_COMMAND_TEST INTEGRATION_DIR TWOWAYD TWOWAY_KEYGEN

1. `meson install --destdir TMP` of BUILD_DIR (already built: --no-rebuild).
2. g++ compiles EXAMPLES_DIR/echo_server.cpp and echo_client.cpp with the flags of
   `pkg-config --cflags --libs twoway` (PKG_CONFIG_SYSROOT_DIR=TMP, PKG_CONFIG_PATH=TMP/<libdir>/pkgconfig),
   -std= from `pkg-config --variable=cxx_std twoway`, and -pthread for Asio: no -I or -L of the source or
   build tree.
3. Each program's dynamic section names libtwoway.so.0 (readelf -d), and the loader resolves it to the
   installed copy (LD_LIBRARY_PATH=TMP/<libdir> only, replacing the build tree's that meson test sets).
4. ECHO_TEST (tests/examples/echo_test.py) runs the two: echoes, a refused client key, a refused server
   key.
5. examples/run_command.cpp, built the same way and loading the installed library, runs commands on a
   real twowayd (TWOWAYD, keys from TWOWAY_KEYGEN, started by RUN_COMMAND_TEST with INTEGRATION_DIR's
   twoway_env.py): a handshake and a command from a program built from nothing but the install.
6. The same in C: examples/run_command.c compiled by gcc as strict C99 (-Wpedantic -Werror) with the same
   pkg-config flags (no C++ flag, no -std=c++20), on <twoway/twoway.h>; and the Python ctypes version,
   examples/python/run_command.py, loading the installed libtwoway.so.0. RUN_COMMAND_TEST runs each.
A sanitizer build is skipped (exit 77): its library needs the sanitizer runtime loaded first.
"""
import json
import os
import re
import shlex
import subprocess
import sys
import tempfile
import time

SKIP = 77


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def run(args, **kw):
    r = subprocess.run(args, capture_output=True, text=True, **kw)
    if r.returncode != 0:
        fail("%s: exit %d\n%s%s" % (shlex.join(args), r.returncode, r.stdout, r.stderr))
    return r.stdout


def main():
    build_dir, examples, echo_test, run_command_test, integration, twowayd, keygen = (
        os.path.abspath(a) for a in sys.argv[1:8])
    with open(os.path.join(build_dir, "meson-info", "intro-buildoptions.json")) as f:
        opts = {o["name"]: o["value"] for o in json.load(f)}
    if opts.get("b_sanitize", "none") != "none":
        print("skipped: a sanitizer build (b_sanitize=%s)" % opts["b_sanitize"])
        return SKIP
    prefix = opts["prefix"]
    libdir = os.path.join(prefix, opts["libdir"])  # an absolute libdir stays absolute

    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="twoway-consumer-") as tmp:
        dest = os.path.join(tmp, "dest")
        run(["meson", "install", "-C", build_dir, "--no-rebuild", "--quiet", "--destdir", dest])
        dest_libdir = dest + libdir

        env = dict(os.environ)
        for var in ("PKG_CONFIG_LIBDIR", "CPATH", "CPLUS_INCLUDE_PATH", "LIBRARY_PATH"):
            env.pop(var, None)  # nothing but pkg-config's answer may point the compiler anywhere
        env["PKG_CONFIG_SYSROOT_DIR"] = dest
        env["PKG_CONFIG_PATH"] = os.path.join(dest_libdir, "pkgconfig")
        flags = shlex.split(run(["pkg-config", "--cflags", "--libs", "twoway"], env=env))
        std = run(["pkg-config", "--variable=cxx_std", "twoway"], env=env).strip()
        print("pkg-config --cflags --libs twoway: %s" % shlex.join(flags))
        print("pkg-config --variable=cxx_std twoway: %s" % std)
        if std != "c++20":
            fail("cxx_std is %r, expected c++20" % std)
        for flag in flags:
            if flag.startswith(("-I", "-L")) and not flag[2:].startswith(dest):
                fail("pkg-config points outside the install: %s" % flag)

        exes = []
        for name in ("echo_server", "echo_client", "run_command"):
            exe = os.path.join(tmp, name)
            # One compile at a time: meson test already runs tests side by side.
            run(["g++", "-std=" + std, "-O0", "-Wall", "-Wextra", "-Wpedantic", "-Werror", "-pthread",
                 os.path.join(examples, name + ".cpp"), "-o", exe] + flags, env=env)
            needed = re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", run(["readelf", "-d", exe]))
            if "libtwoway.so.0" not in needed:
                fail("%s: readelf -d lists %s, not libtwoway.so.0" % (name, needed))
            exes.append(exe)
        # The C API from C: the header must be C, and the flags must suit a C compiler.
        exe = os.path.join(tmp, "run_command_c")
        run(["gcc", "-std=c99", "-O0", "-Wall", "-Wextra", "-Wpedantic", "-Werror",
             os.path.join(examples, "run_command.c"), "-o", exe] + flags, env=env)
        needed = re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", run(["readelf", "-d", exe]))
        if "libtwoway.so.0" not in needed:
            fail("run_command_c: readelf -d lists %s, not libtwoway.so.0" % needed)
        exes.append(exe)
        print("compiled against the install in %.1f s; each lists libtwoway.so.0" % (time.monotonic() - started))

        run_env = dict(os.environ)
        run_env["LD_LIBRARY_PATH"] = dest_libdir
        ldd = run(["ldd", exes[0]], env=run_env)
        m = re.search(r"libtwoway\.so\.0 => (\S+)", ldd)
        if not m or not os.path.realpath(m.group(1)).startswith(os.path.realpath(dest)):
            fail("libtwoway.so.0 does not resolve to the installed copy:\n" + ldd)
        print("libtwoway.so.0 => %s" % os.path.relpath(m.group(1), dest))

        r = subprocess.run([sys.executable, echo_test] + exes[:2], env=run_env, capture_output=True, text=True)
        sys.stdout.write(r.stdout + r.stderr)
        if r.returncode != 0:
            fail("echo test failed (exit %d)" % r.returncode)

        # A command on the installed daemon, through the consumer-built run_command (C++ and C), and
        # through the Python ctypes example loading the installed library.
        python_example = os.path.join(examples, "python", "run_command.py")
        for label, program in (("C++", exes[2]), ("C", exes[3]), ("Python", python_example)):
            cmd_env = dict(run_env)
            cmd_env["RUN_COMMAND"] = program
            cmd_env["TWOWAYD"] = twowayd
            cmd_env["TWOWAY_KEYGEN"] = keygen
            cmd_env["PYTHONPATH"] = integration
            cmd_env["PYTHONDONTWRITEBYTECODE"] = "1"
            print("run_command (%s) against twowayd:" % label)
            r = subprocess.run([sys.executable, run_command_test], env=cmd_env, capture_output=True, text=True)
            sys.stdout.write(r.stdout + r.stderr)
            if r.returncode != 0:
                fail("run_command (%s) built from the install failed against twowayd (exit %d)" % (label, r.returncode))
    print("ok in %.1f s" % (time.monotonic() - started))
    return 0


if __name__ == "__main__":
    sys.exit(main())

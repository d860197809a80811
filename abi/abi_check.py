#!/usr/bin/env python3
"""libtwoway's ABI against its recorded baseline (docs/LIBRARY.md, "ABI and versioning").

usage: abi_check.py check  --build-dir DIR [--library PATH]   the meson test (suite 'abi')
       abi_check.py record --build-dir DIR                    what scripts/abi-baseline runs
       abi_check.py target --build-dir DIR                    the library's ninja target, for scripts/abi-baseline

The baseline is abi/<SONAME>.abi, written by libabigail's abidw from a debugoptimized build and
restricted to the types declared under lib/include/twoway (internal types do not count). `check` runs
abidiff between it and the freshly built library and fails on any difference: an incompatible one
(abidiff's bit 8: a removed symbol; or a changed function, which is how abidiff reports a public
type whose layout changed) and also a compatible one not yet recorded (bit 4 alone: added symbols).
Only the configuration the baseline comes from is comparable: other builds (ASan, -O0, LTO, no debug
information) skip with exit status 77.
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

SOURCE_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HEADERS = os.path.join(SOURCE_ROOT, "lib", "include", "twoway")
BASELINE_DIR = os.path.join(SOURCE_ROOT, "abi")
RECORD = "scripts/abi-baseline"
SKIP = 77

# One list for both tools: only what lib/include/twoway declares is ABI, and only what the library
# exports. Locations stay in the baseline (abidiff ignores them when comparing, but without them it
# files every type change under "filtered out"); the paths are relative to the build folder.
READ_OPTIONS = ["--drop-private-types", "--exported-interfaces-only"]
ABIDW_OPTIONS = READ_OPTIONS + ["--headers-dir", HEADERS, "--no-corpus-path", "--no-comp-dir-path",
                                "--type-id-style", "hash"]
ABIDIFF_OPTIONS = READ_OPTIONS + ["--hd2", HEADERS, "--no-corpus-path", "--fail-no-debug-info"]

# abidiff's exit status is a bit set (abidiff(1)).
ABIDIFF_ERROR, ABIDIFF_USAGE_ERROR, ABIDIFF_ABI_CHANGE, ABIDIFF_ABI_INCOMPATIBLE_CHANGE = 1, 2, 4, 8


def meson_info(build_dir, name):
    with open(os.path.join(build_dir, "meson-info", "intro-%s.json" % name)) as f:
        return json.load(f)


def library_path(build_dir):
    for t in meson_info(build_dir, "targets"):
        if t["name"] == "twoway" and t["type"] == "shared library":
            return t["filename"][0]
    sys.exit("abi_check: no shared library 'twoway' in %s" % build_dir)


def unsuitable(build_dir):
    """Why this build's ABI cannot be compared with the baseline's, or None."""
    o = {x["name"]: x["value"] for x in meson_info(build_dir, "buildoptions")}
    if o.get("b_sanitize", "none") != "none":
        return "a sanitizer build (b_sanitize=%s) has another ABI" % o["b_sanitize"]
    if o.get("b_lto"):
        return "an LTO build"
    if not o.get("debug"):
        return "no debug information (debug=false): abidiff would see symbols only"
    if o.get("optimization") != "2":
        # At another level the compiler may emit another set of inline members as symbols.
        return "optimization=%s, the baseline is -O2 (buildtype=debugoptimized)" % o.get("optimization")
    return None


def soname(library):
    out = subprocess.run(["readelf", "-d", library], capture_output=True, text=True, check=True).stdout
    m = re.search(r"\(SONAME\)\s+Library soname: \[([^\]]+)\]", out)
    if not m:
        sys.exit("abi_check: %s has no SONAME" % library)
    return m.group(1)


def tool(name):
    path = shutil.which(name)
    if not path:
        print("abi_check: %s not found: install abigail-tools (scripts/install-deps)" % name)
        sys.exit(1)
    return path


def summary_counts(report):
    """(removed, changed, added) over abidiff's function, variable and symbol summary lines."""
    counts = {"Removed": 0, "Changed": 0, "Added": 0}
    for line in report.splitlines():
        if "changes summary:" in line:
            for n, kind in re.findall(r"(\d+) (Removed|Changed|Added)", line):
                counts[kind] += int(n)
    return counts["Removed"], counts["Changed"], counts["Added"]


def check(args):
    library = args.library or library_path(args.build_dir)
    library = os.path.join(args.build_dir, library)  # meson passes it relative to the build folder
    why = unsuitable(args.build_dir)
    if why:
        print("abi_check: skipped: %s; the check runs in build/release (meson setup defaults)" % why)
        return SKIP
    name = soname(library)
    baseline = os.path.join(BASELINE_DIR, name + ".abi")
    rel = os.path.relpath(baseline, SOURCE_ROOT)
    if not os.path.exists(baseline):
        print("abi_check: no baseline %s for SONAME %s. If the soversion was bumped on purpose, record "
              "one with `%s` (and git rm the old one)." % (rel, name, RECORD))
        return 1
    r = subprocess.run([tool("abidiff")] + ABIDIFF_OPTIONS + [baseline, library], capture_output=True, text=True)
    report = r.stdout + r.stderr
    if r.returncode == 0:
        print("abi_check: %s matches %s" % (name, rel))
        return 0
    print(report)
    if r.returncode & (ABIDIFF_ERROR | ABIDIFF_USAGE_ERROR):
        print("abi_check: abidiff failed (exit status %d)" % r.returncode)
        return 1
    removed, changed, added = summary_counts(report)
    if r.returncode & ABIDIFF_ABI_INCOMPATIBLE_CHANGE or removed or changed:
        print("abi_check: INCOMPATIBLE change to %s's ABI (abidiff exit status %d: %d removed, %d changed, "
              "%d added). Undo it, or make it a new ABI: bump soversion in lib/meson.build (docs/LIBRARY.md, "
              "\"ABI and versioning\") and re-record the baseline: %s" % (name, r.returncode, removed, changed,
                                                                          added, RECORD))
    else:
        print("abi_check: compatible change to %s's ABI not recorded (abidiff exit status %d: %d added). "
              "Bump the minor version in meson.build's project() and re-record the baseline: %s"
              % (name, r.returncode, added, RECORD))
    return 1


def record(args):
    library = library_path(args.build_dir)
    why = unsuitable(args.build_dir)
    if why:
        print("abi_check: will not record from %s: %s" % (args.build_dir, why))
        return 1
    name = soname(library)
    baseline = os.path.join(BASELINE_DIR, name + ".abi")
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".abi", dir=BASELINE_DIR)
    os.close(fd)
    try:
        # abidw writes the locations relative to where the library was compiled (the build folder).
        subprocess.run([tool("abidw")] + ABIDW_OPTIONS + ["--out-file", tmp, library], check=True)
        os.chmod(tmp, 0o644)  # mkstemp's 0600 is not what git should record
        if os.path.exists(baseline):
            r = subprocess.run([tool("abidiff"), baseline, tmp], capture_output=True, text=True)
            print(r.stdout.strip() or "no ABI change; the baseline is rewritten (locations may move)")
        os.replace(tmp, baseline)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    print("abi_check: recorded %s from %s; commit it with the change"
          % (os.path.relpath(baseline, SOURCE_ROOT), os.path.relpath(library, SOURCE_ROOT)))
    return 0


def target(args):
    print(os.path.relpath(library_path(args.build_dir), os.path.abspath(args.build_dir)))
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("mode", choices=["check", "record", "target"])
    p.add_argument("--build-dir", required=True)
    p.add_argument("--library", help="the built libtwoway (default: from the build's introspection)")
    args = p.parse_args()
    return {"check": check, "record": record, "target": target}[args.mode](args)


if __name__ == "__main__":
    sys.exit(main())

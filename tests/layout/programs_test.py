#!/usr/bin/env python3
"""The programs are library users (issue 14): nothing under daemon/, client/ or examples/ includes a
header from lib/src (only <twoway/...> and their own headers), none of their meson files uses the
internal dependency, and the installed programs need libtwoway.so.0.

Usage: programs_test.py SOURCE_ROOT [PROGRAM ...]"""
import os
import re
import subprocess
import sys

INCLUDE = re.compile(r'^\s*#\s*include\s*"([^"]+)"', re.M)


def internal_includes(root):
    lib_src = os.path.join(root, "lib", "src")
    found = []
    for top in ("daemon", "client", "examples"):
        for dirpath, _, files in os.walk(os.path.join(root, top)):
            for name in files:
                path = os.path.join(dirpath, name)
                if name == "meson.build":
                    text = open(path, encoding="utf-8").read()
                    if "twoway_internal_dep" in text or "lib_inc" in text:
                        found.append(f"{os.path.relpath(path, root)}: uses the library's internal dependency")
                    continue
                if not name.endswith((".cpp", ".hpp", ".h", ".c")):
                    continue
                text = open(path, encoding="utf-8").read()
                for m in INCLUDE.finditer(text):
                    inc = m.group(1)
                    # A quoted include that the program's own folder does not have but lib/src does.
                    if os.path.exists(os.path.join(dirpath, inc)):
                        continue
                    if os.path.exists(os.path.join(lib_src, inc)) or inc.startswith(("lib/src", "../lib")):
                        line = text.count("\n", 0, m.start()) + 1
                        found.append(f"{os.path.relpath(path, root)}:{line}: includes lib/src's \"{inc}\"")
    return found


def main():
    root = sys.argv[1]
    problems = internal_includes(root)
    for program in sys.argv[2:]:
        out = subprocess.run(["readelf", "-d", program], capture_output=True, text=True, check=True).stdout
        needed = re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", out)
        if "libtwoway.so.0" not in needed:
            problems.append(f"{os.path.basename(program)} does not need libtwoway.so.0 (NEEDED: {', '.join(needed)})")
        else:
            print(f"{os.path.basename(program)}: NEEDED libtwoway.so.0")
    for p in problems:
        print(p)
    print(f"{len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

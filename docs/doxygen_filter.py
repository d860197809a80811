#!/usr/bin/env python3
"""Doxygen input filter for the public headers (docs/Doxyfile.in, FILTER_PATTERNS).

Doxygen 1.9 cannot place a specialization of a std template written with a qualified name,
    template <>
    struct std::is_error_code_enum<twoway::errc> : std::true_type {};
("Internal inconsistency: scope ... not found", a warning that fails the docs test), so this rewrites
it into the form doxygen knows, on the same two lines (line numbers stay right):
    namespace std { template <>
    struct is_error_code_enum<twoway::errc> : std::true_type {}; }
Everything else passes through unchanged. Writing the header that way makes this filter unnecessary.
"""
import re
import sys

lines = open(sys.argv[1], encoding="utf-8").read().split("\n")
for i in range(len(lines) - 1):
    m = re.fullmatch(r"struct std::(.*;)\s*", lines[i + 1])
    if lines[i].strip() == "template <>" and m:
        lines[i] = "namespace std { template <>"
        lines[i + 1] = "struct " + m.group(1) + " }"
sys.stdout.write("\n".join(lines))

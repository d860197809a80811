#!/usr/bin/env python3
"""Checks of the built man pages (tests/man/meson.build registers one test per check and page).

  check_man.py render PAGE          man --warnings=w -l renders it with nothing on standard error
  check_man.py lexgrog PAGE         lexgrog (man-db's whatis parser) recognises its NAME line
  check_man.py mandoc PAGE          mandoc -T lint -W warning finds nothing (two scdoc-made messages aside)
  check_man.py options PROG PAGE    the options PROG lists (its --help, or twoway's usage text) are the
                                    options the page's OPTIONS section documents, both ways
  check_man.py daemon-keywords TWOWAYD TWOWAY_KEYGEN PAGE SOURCE_ROOT
  check_man.py client-keywords TWOWAY PAGE SOURCE_ROOT
                                    the keywords twowayd.conf(5) / twoway_config(5) document are the
                                    keywords the program accepts, both ways (see keyword_check)

How a page is read: the pages are scdoc's roff. A documented name is a term of a definition list (a
line that scdoc follows with `.RS 4`), and within a term each comma-separated piece that starts in bold
(`\\fB-p\\fR \\fIport\\fR`, `\\fBAllowUsers\\fR \\fIpattern\\fR ...`) documents its bold word. Only the
terms of the named section count.
"""
import os
import re
import subprocess
import sys
import tempfile

# The environment every tool runs in: a fixed locale and width, so that the output does not depend on
# the person's terminal.
ENV = dict(os.environ, LC_ALL='C.UTF-8', MANWIDTH='80', LANG='C.UTF-8')
ENV.pop('MANPAGER', None)
ENV.pop('PAGER', None)


def fail(msg):
    print('FAIL: ' + msg)
    sys.exit(1)


def run(args, **kw):
    return subprocess.run(args, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          timeout=60, **kw)


# --- rendering and lint ---------------------------------------------------------------------------

def check_render(page):
    # --warnings=w: every warning category of groff, a superset of man's default (--warnings alone: mac).
    r = run(['man', '--warnings=w', '-l', page])
    if r.returncode != 0 or r.stderr.strip():
        fail(f'man --warnings=w -l {page}: exit {r.returncode}, stderr:\n{r.stderr}')
    if 'NAME' not in r.stdout or len(r.stdout.splitlines()) < 10:
        fail(f'man -l {page} rendered next to nothing:\n{r.stdout}')
    print(f'ok: man --warnings=w -l {page}: {len(r.stdout.splitlines())} lines, no warnings')


def check_lexgrog(page):
    name = os.path.basename(page).rsplit('.', 1)[0]
    r = run(['lexgrog', page])
    # lexgrog prints 'PAGE: "name - description"' and exits 0 when it parsed the NAME section.
    m = re.match(r'^.*: "(\S+) - (.+)"$', r.stdout.strip())
    if r.returncode != 0 or not m or m.group(1) != name:
        fail(f'lexgrog {page}: exit {r.returncode}, output {r.stdout!r} {r.stderr!r} (expected "{name} - ...")')
    print(f'ok: lexgrog {page}: {m.group(1)} - {m.group(2)}')


# scdoc 1.11 writes `.P` after every `.SH` and before every `.RE` of a definition list, which mandoc
# reports as "skipping paragraph macro: PP after SH" and "... PP empty". The scdoc source cannot avoid
# them (they come from the generator, not the text), and they change nothing in the rendering. Exactly
# these two messages are filtered; any other warning fails.
SCDOC_NOISE = re.compile(r'^mandoc: [^:]+:\d+:\d+: WARNING: skipping paragraph macro: PP (after SH|empty)$')


def check_mandoc(page):
    r = run(['mandoc', '-T', 'lint', '-W', 'warning', page])
    lines = [l for l in (r.stdout + r.stderr).splitlines() if l.strip()]
    left = [l for l in lines if not SCDOC_NOISE.match(l)]
    if left:
        fail(f'mandoc -T lint -W warning {page}:\n' + '\n'.join(left))
    print(f'ok: mandoc -T lint -W warning {page}: clean ({len(lines)} scdoc paragraph notes filtered)')


# --- reading a page ---------------------------------------------------------------------------------

def section_terms(page, section):
    """The documented names of SECTION: the bold word starting each comma-separated piece of each term."""
    with open(page, encoding='utf-8') as f:
        lines = f.read().splitlines()
    inside = False
    found = False
    names = []
    for i, line in enumerate(lines):
        if line.startswith('.SH'):
            title = line[3:].strip().strip('"')
            inside = title == section
            found = found or inside
            continue
        if not inside or line.startswith('.') or i + 1 >= len(lines) or lines[i + 1] != '.RS 4':
            continue
        for piece in line.split(', '):
            m = re.match(r'\\fB([^\\]+)\\fR', piece.strip())
            if m:
                names.append(m.group(1))
    if not found:
        fail(f'{page}: no section {section}')
    if not names:
        fail(f'{page}: section {section} documents nothing')
    return names


def compare(what, program_side, page_side, program_label, page_label):
    missing = sorted(program_side - page_side)
    extra = sorted(page_side - program_side)
    if missing or extra:
        msg = f'{what}: the page and the program disagree'
        if missing:
            msg += f'\n  {program_label}, not documented in {page_label}: ' + ' '.join(missing)
        if extra:
            msg += f'\n  documented in {page_label}, not in {program_label}: ' + ' '.join(extra)
        fail(msg)
    print(f'ok: {what}: {len(program_side)} names, the same in {program_label} and {page_label}')


# --- the programs' options --------------------------------------------------------------------------

def twoway_usage_options(prog):
    """twoway prints ssh's usage text (no --help): `[-46aCGNnqsTtVvx]` flags, `[-D arg]` options."""
    r = run([prog])
    text = r.stdout + r.stderr
    if r.returncode != 255 or 'usage: twoway' not in text:
        fail(f'{prog} without arguments: expected the usage text and exit 255, got {r.returncode}:\n{text}')
    opts = set()
    for group in re.findall(r'\[-([A-Za-z0-9]+)\]', text):  # a group of flags without arguments
        opts.update('-' + c for c in group)
    opts.update(re.findall(r'\[(-[A-Za-z0-9]) ', text))     # an option with an argument
    return opts, text


def cli11_help_options(prog):
    """The CLI11 programs' --help: every line of the Options: section that starts with an option."""
    r = run([prog, '--help'])
    if r.returncode != 0 or 'Options:' not in r.stdout:
        fail(f'{prog} --help: exit {r.returncode}:\n{r.stdout}{r.stderr}')
    opts = set()
    inside = False
    for line in r.stdout.splitlines():
        if line.rstrip() == 'Options:':
            inside = True
            continue
        if inside and line and not line.startswith(' '):
            inside = False
        m = re.match(r'^  (-\S+)', line) if inside else None
        if m:
            opts.update(m.group(1).split(','))
    return opts, r.stdout


def check_options(prog, page):
    name = os.path.basename(prog)
    if name == 'twoway':
        opts, text = twoway_usage_options(prog)
    else:
        opts, text = cli11_help_options(prog)
    if len(opts) < 5:
        fail(f'{prog}: found only {sorted(opts)} in its option list, which reads:\n{text}')
    documented = set(section_terms(page, 'OPTIONS'))
    compare(f'{name} options', opts, documented, f'{name}\'s option list', f'{os.path.basename(page)} OPTIONS')


# --- the configuration keywords ---------------------------------------------------------------------

def table_names(path, pattern, at_least):
    """The names of a C++ keyword table, read narrowly: each line matching PATTERN (one entry per line,
    the name the first string literal). A table that moves or changes shape finds fewer than AT_LEAST
    and fails here, rather than passing with nothing to compare."""
    with open(path, encoding='utf-8') as f:
        names = re.findall(pattern, f.read(), re.M)
    if len(names) < at_least:
        fail(f'{path}: found {len(names)} keywords with {pattern!r}, expected at least {at_least}: '
             'has the table changed shape?')
    return set(names)


def unknown_keywords(run_config, keywords, tmp):
    """The keywords the program reports as `Bad configuration option: X`, given each as `X x` in a
    configuration file (in batches, below the programs' limit of 100 errors per file). Match comes last in
    a batch: it opens a block."""
    bad = set()
    ordered = sorted(keywords, key=lambda k: (k.lower() == 'match', k))
    for start in range(0, len(ordered), 30):
        path = os.path.join(tmp, f'batch{start}.conf')
        with open(path, 'w') as f:
            f.writelines(f'{k} x\n' for k in ordered[start:start + 30])
        os.chmod(path, 0o600)
        r = run_config(path)
        bad.update(re.findall(r'Bad configuration option: (\S+)', r.stdout + r.stderr))
    return bad


def keyword_check(what, page, implemented, foreign, main_section, foreign_section, printed, run_config, tmp):
    """Four checks for a configuration page:
    1. the parser's table of implemented keywords = the page's main keyword section;
    2. the tables of sshd/ssh keywords accepted without effect (or refused) = the page's section for them;
    3. what the program itself prints (-T, -G) is in the table (so that the table parse misses nothing);
    4. every keyword the page documents is recognised by the program (never `Bad configuration option`),
       and a made-up one is not (so that check 4 can fail)."""
    page_main = set(section_terms(page, main_section))
    page_foreign = set(section_terms(page, foreign_section))
    compare(f'{what} keywords', implemented, page_main, 'the parser\'s keyword table', main_section)
    compare(f'{what} keywords without effect', foreign, page_foreign, 'the parser\'s foreign keyword tables',
            foreign_section)
    lower = {k.lower() for k in implemented}
    unlisted = sorted(k for k in printed if k not in lower)
    if unlisted:
        fail(f'{what}: the program prints keywords its table (as read here) lacks: {unlisted}')
    print(f'ok: {what}: the {len(printed)} keywords the program prints are all in the table')
    bad = unknown_keywords(run_config, page_main | page_foreign | {'NoSuchKeywordAtAll'}, tmp)
    if bad != {'NoSuchKeywordAtAll'}:
        if 'NoSuchKeywordAtAll' not in bad:
            fail(f'{what}: a made-up keyword was not reported as a bad configuration option: the check is blind')
        fail(f'{what}: keywords the page documents that the program does not know: {sorted(bad - {"NoSuchKeywordAtAll"})}')
    print(f'ok: {what}: the program recognises all {len(page_main | page_foreign)} keywords the page documents')


def check_daemon_keywords(twowayd, keygen, page, root):
    # daemon/config/config_parser.hpp: `Keyword{"Port", Key::port, 1},`, one per line.
    implemented = table_names(os.path.join(root, 'daemon/config/config_parser.hpp'),
                              r'^\s*Keyword\{"([A-Za-z0-9]+)", Key::', 40)
    # daemon/config/sshd_keywords.cpp: `{"AFSTokenPassing", any, false, deprecated},`, one per line.
    foreign = table_names(os.path.join(root, 'daemon/config/sshd_keywords.cpp'),
                          r'^\s*\{"([A-Za-z0-9]+)", (?:any|only_\w+|none_or_zero|publickey), (?:true|false),', 40)
    with tempfile.TemporaryDirectory() as tmp:
        key = os.path.join(tmp, 'host_key')
        r = run([keygen, '-q', '-f', key, '-N', ''])
        if r.returncode != 0:
            fail(f'twoway-keygen: {r.stderr}')
        empty = os.path.join(tmp, 'empty.conf')
        with open(empty, 'w') as f:
            f.write('# nothing: the defaults\n')
        r = run([twowayd, '-T', '-f', empty, '-h', key])
        if r.returncode != 0:
            fail(f'twowayd -T: exit {r.returncode}: {r.stderr}')
        printed = {l.split()[0] for l in r.stdout.splitlines() if l.strip()}
        keyword_check('twowayd.conf', page, implemented, foreign, 'KEYWORDS', 'SSHD_CONFIG KEYWORDS WITHOUT EFFECT',
                      printed, lambda conf: run([twowayd, '-t', '-f', conf, '-h', key]), tmp)


def check_client_keywords(twoway, page, root):
    path = os.path.join(root, 'client/config/client_config.cpp')
    # `Keyword{"HostName", Key::directive, ...},` and the three tables of keywords it does not implement:
    # `ForeignKeyword{"X", ...}`, `RefusedKeyword{"X", ...}`, `AlgorithmKeyword{"X", ...}`, one per line.
    implemented = table_names(path, r'^\s*Keyword\{"([A-Za-z0-9]+)", Key::', 30)
    foreign = (table_names(path, r'^\s*ForeignKeyword\{"([A-Za-z0-9]+)",', 40)
               | table_names(path, r'^\s*RefusedKeyword\{"([A-Za-z0-9]+)",', 3)
               | table_names(path, r'^\s*AlgorithmKeyword\{"([A-Za-z0-9]+)",', 5))
    with tempfile.TemporaryDirectory() as tmp:
        env_home = dict(ENV, HOME=tmp)

        def run_twoway(args):
            return subprocess.run([twoway] + args, env=env_home, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True, timeout=60)

        r = run_twoway(['-G', '-F', 'none', 'somehost'])
        if r.returncode != 0:
            fail(f'twoway -G: exit {r.returncode}: {r.stderr}')
        printed = {l.split()[0] for l in r.stdout.splitlines() if l.strip()}
        keyword_check('twoway_config', page, implemented, foreign, 'KEYWORDS',
                      'SSH_CONFIG KEYWORDS TWOWAY DOES NOT IMPLEMENT', printed,
                      lambda conf: run_twoway(['-G', '-F', conf, 'somehost']), tmp)


def main(argv):
    if len(argv) < 3:
        fail(__doc__)
    mode, args = argv[1], argv[2:]
    checks = {
        'render': (check_render, 1),
        'lexgrog': (check_lexgrog, 1),
        'mandoc': (check_mandoc, 1),
        'options': (check_options, 2),
        'daemon-keywords': (check_daemon_keywords, 4),
        'client-keywords': (check_client_keywords, 3),
    }
    if mode not in checks or len(args) != checks[mode][1]:
        fail(f'usage: {__doc__}')
    checks[mode][0](*args)


if __name__ == '__main__':
    main(sys.argv)

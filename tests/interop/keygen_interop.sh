#!/usr/bin/env bash
# twoway-keygen against OpenSSH's ssh-keygen: fingerprints and randomart byte for byte, .pub files both
# ways, OpenSSH private keys imported and exported, known_hosts found, removed and hashed (-F, -R, -H),
# certificates signed (-s) and printed (-L, -l) by each tool and read by the other, KRLs written (-k),
# tested (-Q) and listed (-Q -l) by each tool, and the tool's refusals.
# Usage: keygen_interop.sh path/to/twoway-keygen [path/to/ssh-keygen]
set -u
tk=$(realpath "$1")
sk=${2:-ssh-keygen}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# Keep every default path (~/.twoway, ~/.ssh) inside the scratch directory.
export HOME=$work/home
mkdir -p "$HOME"
cd "$work" || exit 1
unset TWOWAY_ALLOW_INSECURE_KEY_FILES

passed=0
failed=0
ok() { passed=$((passed + 1)); }
bad() { failed=$((failed + 1)); echo "FAIL: $*"; }

# same NAME EXPECTED ACTUAL: byte-for-byte equal, else show the difference.
same() {
    if [ "$2" == "$3" ]; then ok; else
        bad "$1"
        diff <(printf '%s\n' "$2") <(printf '%s\n' "$3") | sed 's/^/    /'
    fi
}

# refused NAME PATTERN CMD...: the command exits 1 (usage errors: CLI11's own non-zero status), prints
# nothing on stdout and exactly one line on stderr, which matches PATTERN.
refused() {
    local name=$1 pattern=$2
    shift 2
    local out err rc
    out=$("$@" 2>"$work/stderr" </dev/null)
    rc=$?
    err=$(cat "$work/stderr")
    if [ "$rc" -eq 0 ] || { [ "$rc" -ne 1 ] && [[ "$name" != usage* ]]; }; then
        bad "$name: exit status $rc, wanted 1 (stderr: $err)"
        return
    fi
    if [ -n "$out" ]; then bad "$name: unexpected stdout: $out"; return; fi
    if [ "$(printf '%s\n' "$err" | wc -l)" -ne 1 ]; then bad "$name: not one line on stderr: $err"; return; fi
    if ! grep -qE -- "$pattern" <<<"$err"; then bad "$name: stderr '$err' does not match '$pattern'"; return; fi
    ok
}

mode() { stat -c %a "$1"; }

# exact CMD...: everything the command prints, trailing newlines and exit status included, for same().
exact() {
    "$@" 2>&1
    echo "[exit $?]"
}

echo "== fingerprints and randomart of twoway's keys equal ssh-keygen's (30 keys)"
for i in $(seq 1 30); do
    case $((i % 5)) in
        0) c="" ;;
        1) c="user$i@host.example" ;;
        2) c="a comment  with   spaces $i" ;;
        3) c="caf$(printf '\xc3\xa9') $i" ;;
        4) c="x" ;;
    esac
    "$tk" -q -N '' -C "$c" -f "k$i" </dev/null || { bad "generate k$i"; continue; }
    same "k$i -l" "$(exact "$sk" -l -f "k$i.pub")" "$(exact "$tk" -l -f "k$i.pub")"
    same "k$i -lv" "$(exact "$sk" -lv -f "k$i.pub")" "$(exact "$tk" -lv -f "k$i.pub")"
    same "k$i -l -E sha256" "$(exact "$sk" -l -E sha256 -f "k$i.pub")" "$(exact "$tk" -l -E sha256 -f "k$i.pub")"
    # The private file carries the same public key and comment.
    if [ -n "$c" ]; then same "k$i -lv on the private key" "$(exact "$sk" -lv -f "k$i.pub")" "$(exact "$tk" -lv -f "k$i")"; fi
    same "k$i .pub is -y" "$(exact cat "k$i.pub")" "$(exact "$tk" -y -f "k$i")"
done

echo "== fingerprints and randomart of ssh-keygen's keys (30 keys)"
for i in $(seq 1 30); do
    "$sk" -q -t ed25519 -N '' -C "ssh key $i" -f "s$i" || { bad "ssh-keygen s$i"; continue; }
    same "s$i -lv" "$(exact "$sk" -lv -f "s$i.pub")" "$(exact "$tk" -lv -f "s$i.pub")"
    same "s$i -lv on the OpenSSH private key" "$(exact "$sk" -lv -f "s$i.pub")" "$(exact "$tk" -lv -f "s$i")"
    same "s$i -y" "$(exact "$sk" -y -f "s$i")" "$(exact "$tk" -y -f "s$i")"
done

echo "== public key lines with odd comments and several keys"
key=$(cut -d' ' -f1,2 k1.pub)
printf '%s a\tb  \n' "$key" >tab.pub
same "tab and trailing blanks" "$(exact "$sk" -l -f tab.pub)" "$(exact "$tk" -l -f tab.pub)"
printf '%s evil\033[31mred\n' "$key" >esc.pub
same "control characters escaped" "$(exact "$sk" -l -f esc.pub)" "$(exact "$tk" -l -f esc.pub)"
printf '   %s   lead\n' "$key" >lead.pub
printf '%s caf\xc3\xa9 \x80\xff end\n' "$key" >utf8.pub
for loc in C C.UTF-8; do
    same "non-ASCII comment, LC_ALL=$loc" "$(exact env LC_ALL=$loc "$sk" -l -f utf8.pub)" \
        "$(exact env LC_ALL=$loc "$tk" -l -f utf8.pub)"
done
same "leading blanks" "$(exact "$sk" -l -f lead.pub)" "$(exact "$tk" -l -f lead.pub)"
{ echo "# a comment line"; echo; cat k1.pub s1.pub k2.pub; } >several.pub
same "several keys in one file" "$(exact "$sk" -lv -f several.pub)" "$(exact "$tk" -lv -f several.pub)"

echo "== import: ssh-keygen -t ed25519 -N '' keys become twoway keys with the same public key"
for i in 1 2 3 4 5; do
    "$tk" -q -i -f "s$i" -o "imp$i" -N '' </dev/null || { bad "import s$i"; continue; }
    same "imported s$i -y" "$(exact "$sk" -y -f "s$i")" "$(exact "$tk" -y -f "imp$i")"
    same "imported s$i .pub" "$(exact cat "s$i.pub")" "$(exact cat "imp$i.pub")"
    same "imported s$i mode" 600 "$(mode "imp$i")"
done
"$tk" -q -i -f s6 -o imp6 -N 'new pass' -a 1 </dev/null || bad "import with a passphrase"
same "imported with passphrase -y -P" "$(exact "$sk" -y -f s6)" "$(exact "$tk" -y -P 'new pass' -f imp6)"
refused "imported with passphrase, wrong -P" "imp6: incorrect passphrase supplied to decrypt private key" \
    "$tk" -y -P 'old pass' -f imp6
# The default: ~/.ssh/id_ed25519 into ~/.twoway/id_ed25519.
mkdir -p "$HOME/.ssh" && cp s7 "$HOME/.ssh/id_ed25519"
"$tk" -q -i -N '' </dev/null || bad "import with default paths"
same "default import" "$(exact "$sk" -y -f s7)" "$(exact "$tk" -y -f "$HOME/.twoway/id_ed25519")"
same "default import directory mode" 700 "$(mode "$HOME/.twoway")"

echo "== import refuses encrypted OpenSSH keys with advice"
"$sk" -q -t ed25519 -N 'secret' -f enc
refused "encrypted OpenSSH key" "^twoway-keygen: enc: OpenSSH key is passphrase-protected; .*ssh-keygen -p" \
    "$tk" -i -f enc -o never -N ''
[ -e never ] && bad "a file was written for an encrypted key" || ok
"$sk" -q -t rsa -b 1024 -N '' -f rsa
refused "RSA key" "rsa: unsupported key type" "$tk" -i -f rsa -o never -N ''

echo "== export: twoway keys as OpenSSH keys that ssh-keygen reads"
for i in 1 2 3 4; do
    "$tk" -q -e -f "k$i" -o "exp$i" </dev/null || { bad "export k$i"; continue; }
    same "exported k$i: ssh-keygen -y" "$(exact "$tk" -y -f "k$i")" "$(exact "$sk" -y -f "exp$i")"
    same "exported k$i: ssh-keygen -l" "$(exact "$sk" -l -f "k$i.pub")" "$(exact "$sk" -l -f "exp$i.pub")"
    same "exported k$i mode" 600 "$(mode "exp$i")"
done
# Round trip through OpenSSH: export, ssh-keygen adds and removes a passphrase, import again.
{ cp exp1 rt && "$sk" -q -p -N 'pw' -f rt && "$sk" -q -p -P 'pw' -N '' -f rt; } >/dev/null ||
    bad "ssh-keygen -p on an export"
"$tk" -q -i -f rt -o rt.tw -N '' </dev/null || bad "re-import"
same "round trip through ssh-keygen -p" "$(exact "$tk" -y -f k1)" "$(exact "$tk" -y -f rt.tw)"
# An encrypted twoway key exports with its passphrase.
"$tk" -q -N 'pw' -a 1 -C enc2 -f tenc </dev/null
"$tk" -q -e -P pw -f tenc -o tenc.ssh </dev/null || bad "export of an encrypted key"
same "exported encrypted key" "$(exact "$tk" -y -f tenc)" "$(exact "$sk" -y -f tenc.ssh)"
refused "export without -o" "-o" "$tk" -e -f k1

echo "== passphrases"
refused "wrong passphrase" "^twoway-keygen: tenc: incorrect passphrase supplied to decrypt private key$" \
    "$tk" -e -P wrong -f tenc -o x.ssh
refused "passphrase needed, no terminal" "tenc: .*no passphrase" "$tk" -e -f tenc -o x.ssh
same "-y needs no passphrase" "$(exact cat tenc.pub)" "$(exact "$tk" -y -f tenc)"
"$tk" -q -p -P pw -N 'pw2' -a 1 -f tenc </dev/null || bad "change passphrase"
same "-y -P with the new passphrase" "$(exact cat tenc.pub)" "$(exact "$tk" -y -P pw2 -f tenc)"
refused "old passphrase after -p" "incorrect passphrase" "$tk" -y -P pw -f tenc
"$tk" -q -p -P pw2 -N '' -f tenc </dev/null || bad "remove passphrase"
same "-y after removing the passphrase" "$(exact cat tenc.pub)" "$(exact "$tk" -y -f tenc)"
same "mode after -p" 600 "$(mode tenc)"

echo "== refusals"
refused "missing file" "^twoway-keygen: nosuch: No such file or directory$" "$tk" -l -f nosuch
echo "garbage" >garbage && chmod 600 garbage
refused "garbage private key" "^twoway-keygen: garbage: not a key" "$tk" -y -f garbage
refused "garbage public key" "^twoway-keygen: garbage: not a key" "$tk" -l -f garbage
chmod 644 k3
refused "group/world-readable key" "k3: permissions 0644 are too open" "$tk" -y -f k3
same "override with TWOWAY_ALLOW_INSECURE_KEY_FILES=1" "$(exact cat k3.pub)" \
    "$(exact env TWOWAY_ALLOW_INSECURE_KEY_FILES=1 "$tk" -y -f k3)"
chmod 600 k3
before=$(exact cat k4)
refused "no overwrite without a terminal" "k4: already exists" "$tk" -q -N '' -f k4
same "k4 unchanged" "$before" "$(exact cat k4)"
refused "no passphrase and no terminal" "no passphrase given" "$tk" -q -f fresh
[ -e fresh ] && bad "a key was written without a passphrase decision" || ok
refused "other key types" "unsupported key type 'rsa'" "$tk" -t rsa -N '' -f rsakey
refused "usage error" '^twoway-keygen: .*\(see --help\)$' "$tk" -l -y
fresh_home=$work/fresh-home
mkdir -p "$fresh_home"
HOME=$fresh_home "$tk" -q -N '' </dev/null || bad "generate with the default path"
same "default directory mode" 700 "$(mode "$fresh_home/.twoway")"
same "default key mode" 600 "$(mode "$fresh_home/.twoway/id_ed25519")"
same "default public key mode" 644 "$(mode "$fresh_home/.twoway/id_ed25519.pub")"

echo "== prompts on a terminal"
# tty PROMPT ANSWER [PROMPT ANSWER ...] -- CMD...: runs CMD on a pseudo-terminal, answering each prompt
# as it appears; fails if a prompt is missing or an answer is echoed. Exits with CMD's status.
cat >"$work/answer_prompts.py" <<'PY'
import os, pty, select, sys, time
args = sys.argv[1:]
split = args.index("--")
steps, cmd = args[:split], args[split + 1:]
pid, fd = pty.fork()
if pid == 0:
    os.execv(cmd[0], cmd)
seen = b""
def read_some(timeout):
    global seen
    ready, _, _ = select.select([fd], [], [], timeout)
    if not ready:
        return True
    try:
        chunk = os.read(fd, 1024)
    except OSError:
        return False
    seen += chunk
    return bool(chunk)
for prompt, answer in zip(steps[0::2], steps[1::2]):
    prompt = prompt.encode()
    deadline = time.time() + 20
    while prompt not in seen and time.time() < deadline:
        if not read_some(1):
            break
    if prompt not in seen:
        os.kill(pid, 9)
        print("missing prompt %r in %r" % (prompt, seen)); sys.exit(100)
    seen = seen[seen.index(prompt) + len(prompt):]
    os.write(fd, answer.encode() + b"\n")
while read_some(20):
    pass
_, status = os.waitpid(pid, 0)
for secret in steps[1::2]:
    if len(secret) > 3 and secret.encode() in seen:
        print("answer %r was echoed: %r" % (secret, seen)); sys.exit(101)
sys.exit(os.waitstatus_to_exitcode(status))
PY
tty() { python3 "$work/answer_prompts.py" "$@"; }
if python3 -c 'import pty' 2>/dev/null; then
    out=$(tty "Enter passphrase (empty for no passphrase): " "tty secret" \
              "Enter same passphrase again: " "tty secret" -- "$tk" -q -a 1 -C tty -f tty_key) &&
        ok || bad "generate on a terminal: $out"
    same "key made on a terminal opens with its passphrase" "$(exact cat tty_key.pub)" \
        "$(exact "$tk" -y -P 'tty secret' -f tty_key)"
    out=$(tty "Enter passphrase (empty for no passphrase): " "one" "Enter same passphrase again: " "two" \
              "Enter passphrase (empty for no passphrase): " "three" "Enter same passphrase again: " "three" \
              -- "$tk" -q -a 1 -f tty_key2) && ok || bad "mismatched passphrases asked again: $out"
    same "the second, matching passphrase was used" "$(exact cat tty_key2.pub)" "$(exact "$tk" -y -P three -f tty_key2)"
    out=$(tty "Enter passphrase for tty_key: " "tty secret" -- "$tk" -e -f tty_key -o tty_key.ssh) &&
        ok || bad "passphrase asked for an encrypted key: $out"
    same "exported after a prompt" "$(exact "$tk" -y -f tty_key)" "$(exact "$sk" -y -f tty_key.ssh)"
    before=$(exact cat tty_key)
    out=$(tty "Overwrite (y/n)? " "n" -- "$tk" -q -N '' -f tty_key)
    [ $? -eq 1 ] && ok || bad "answering n to Overwrite: $out"
    same "not overwritten after n" "$before" "$(exact cat tty_key)"
    out=$(tty "Overwrite (y/n)? " "y" -- "$tk" -q -N '' -C replaced -f tty_key) && ok || bad "answering y: $out"
    same "overwritten after y" "replaced" "$(cut -d' ' -f3 tty_key.pub)"
else
    echo "(python3 pty module missing: terminal prompts not tested)"
fi

echo "== known_hosts: -F and -R equal ssh-keygen's (output, exit status, files and modes)"
# Plain names, a list, ports, case, a comment, an @revoked line, a CRLF line, no final newline; hashed
# names and @cert-authority lines below.
ka=$(cut -d' ' -f1,2 k1.pub)
kb=$(cut -d' ' -f1,2 k2.pub)
printf '# hosts\nsrv %s\nother,srv %s\n[srv]:2200 %s c\n@revoked srv,old %s\n\nSRV %s\r\nlast %s' \
    "$ka" "$kb" "$ka" "$kb" "$ka" "$kb" >kh.orig
# Hashed names with their random salts and hashes masked, for comparing two tools' -H output.
mask_hashes() { sed -E 's/\|1\|[A-Za-z0-9+\/=]{28}\|[A-Za-z0-9+\/=]{28}/|1|SALT|HASH/g'; }
# Runs one tool on a fresh copy of kh.orig in its own directory; prints everything it did.
edit_kh() {
    local tool=$1 dir=$2
    shift 2
    rm -rf "$dir" && mkdir "$dir" && cp kh.orig "$dir/kh" && chmod 640 "$dir/kh"
    (
        cd "$dir" || exit 1
        "$tool" -f kh "$@" >out 2>err
        echo "[exit $?]"
        cat out
        echo "[stderr]"
        tr -d '\r' <err  # ssh's log() ends its lines with CR LF
        for f in kh kh.old; do [ -e "$f" ] && { echo "[$f $(mode "$f")]"; cat "$f"; }; done
    )
}
for h in srv SRV '[srv]:2200' '[SRV]:2200' other old last nothere '[srv]:2201'; do
    same "-F $h" "$(edit_kh "$sk" ssh_F -F "$h")" "$(edit_kh "$tk" tw_F -F "$h")"
    same "-R $h" "$(edit_kh "$sk" ssh_R -R "$h")" "$(edit_kh "$tk" tw_R -R "$h")"
done
# Patterns: wildcards (* ?), negation (!) anywhere in the list, [pattern]:port, case, an @revoked
# pattern line. A negated match takes the whole line out, whatever else on it matches.
printf '*.example.com,!bad.example.com %s\n[*.example.com]:2222 %s\ndb?.internal %s\nhost,!h* %s\n' \
    "$ka" "$kb" "$ka" "$kb" >kh.orig
printf '@revoked *.Example.COM %s\n!skip.example.net,*.example.net %s c\n* %s\n' "$kb" "$ka" "$kb" >>kh.orig
for h in www.example.com WWW.example.COM bad.example.com '[www.example.com]:2222' '[www.example.com]:2223' \
    db1.internal db12.internal host skip.example.net go.example.net example.com; do
    same "-F $h (patterns)" "$(edit_kh "$sk" ssh_F -F "$h")" "$(edit_kh "$tk" tw_F -F "$h")"
    same "-R $h (patterns)" "$(edit_kh "$sk" ssh_R -R "$h")" "$(edit_kh "$tk" tw_R -R "$h")"
done
# Hashed names (ssh-keygen -H), an @cert-authority line and a key of another type: found, shown and
# removed (the CA line kept) exactly as ssh-keygen does.
printf 'srv %s\n' "$ka" >hashed && "$sk" -q -H -f hashed >/dev/null 2>&1 && rm -f hashed.old
"$sk" -q -t rsa -b 2048 -N '' -f rsa_k >/dev/null 2>&1 || bad "ssh-keygen -t rsa"
rsa=$(cut -d' ' -f1,2 rsa_k.pub)
{ printf '@cert-authority srv %s\n' "$ka"; cat hashed; printf 'srv %s\nsrv %s\n' "$ka" "$rsa"; } >kh.orig
grep -q '^|1|' kh.orig && ok || bad "ssh-keygen -H wrote no hashed line"
for h in srv other; do
    same "-F $h (hashed, CA, RSA)" "$(edit_kh "$sk" ssh_F -F "$h")" "$(edit_kh "$tk" tw_F -F "$h")"
    same "-R $h (hashed, CA, RSA)" "$(edit_kh "$sk" ssh_R -R "$h")" "$(edit_kh "$tk" tw_R -R "$h")"
    same "-H -F $h (hashed, CA, RSA)" "$(edit_kh "$sk" ssh_F -H -F "$h" | mask_hashes)" \
        "$(edit_kh "$tk" tw_F -H -F "$h" | mask_hashes)"
done
# A linked known_hosts stays a link; its target is edited.
mkdir -p linked && cp kh.orig linked/real && ln -sf real linked/kh
(cd linked && "$tk" -f kh -R srv >/dev/null 2>&1)
[ -L linked/kh ] && [ "$(grep -c '^srv ' linked/real)" = 0 ] && [ -e linked/real.old ] && ok ||
    bad "-R through a symbolic link"
mkdir -p hlinked && cp kh.orig hlinked/real && ln -sf real hlinked/kh
(cd hlinked && "$tk" -f kh -H >/dev/null 2>&1)
[ -L hlinked/kh ] && ! grep -q '^srv ' hlinked/real && cmp -s kh.orig hlinked/real.old && ok ||
    bad "-H through a symbolic link"
# Another user's known_hosts is not replaced by -R or -H (that would hand it to us); only root can make one.
if [ "$(id -u)" = 0 ]; then
    cp kh.orig others && chown 65534 others
    refused "-R on another user's file" '^twoway-keygen: others: owned by uid 65534, not by you: not rewritten \(run as its owner\)$' \
        "$tk" -f others -R srv
    refused "-H on another user's file" '^twoway-keygen: others: owned by uid 65534, not by you: not rewritten \(run as its owner\)$' \
        "$tk" -f others -H
    cmp -s kh.orig others && [ ! -e others.old ] && ok || bad "another user's file was rewritten"
fi
refused "-R with a bad host name" 'invalid host "a b"' "$tk" -f kh.orig -R 'a b'
refused "-F on a missing file" 'nofile: No such file or directory' "$tk" -f nofile -F srv
# A hashed field that does not read (padding lost): ssh-keygen -F matches nothing there; twoway shows it
# apart, as a line it cannot check (not "found", not in the exit status), and -R keeps it.
printf '%s %s\n' "$(cut -d' ' -f1 hashed | tr -d '=')" "$ka" >kh.orig
same "-F shows a malformed hashed line apart" \
    "$(printf '[exit 1]\n# Host srv may be named by line 1, which twoway cannot check: malformed hashed host name (not |1|salt|hash with a 20-byte salt and hash): it may name any host\n%s\n[stderr]\n[kh 640]\n%s' "$(cat kh.orig)" "$(cat kh.orig)")" \
    "$(edit_kh "$tk" tw_F -F srv)"
edit_kh "$tk" tw_R -R srv >/dev/null
same "-R keeps a malformed hashed line" "$(exact cat kh.orig)" "$(exact cat tw_R/kh)"
same "-R says which line it kept" "kh:1: may name srv but twoway cannot check it: kept (edit it, or use ssh-keygen -R)" \
    "$(head -n 1 tw_R/err)"

echo "== known_hosts: -H equal to ssh-keygen's, salts aside; each tool finds the other's hashed names"
# Comments, a list, [host]:port, case, a wildcard and a negation (kept, with ssh-keygen's message), an
# @revoked and an @cert-authority line (kept), a line already hashed (kept), an RSA key (hashed), a CRLF
# line, a blank line, no final newline.
printf '# hosts\nHost1,[h2]:2222 %s c1\n*.w %s\n!x,y %s\n@revoked r %s\n@cert-authority *.c %s\n%s\n\nrsa.example %s\nCRLF.example %s\r\nlast %s' \
    "$ka" "$kb" "$ka" "$kb" "$ka" "$(cat hashed)" "$rsa" "$kb" "$ka" >kh.orig
same "-H" "$(edit_kh "$sk" ssh_H -H | mask_hashes)" "$(edit_kh "$tk" tw_H -H | mask_hashes)"
grep -qiE '^(host1|\[h2\]|rsa\.example|crlf\.example|last) ' tw_H/kh && bad "twoway-keygen -H left a name in the clear" || ok
for h in host1 '[h2]:2222' rsa.example crlf.example last srv nothere; do
    # ssh-keygen -F on twoway's hashed file, twoway-keygen -F on ssh-keygen's: the same lines as the
    # tool finds in its own (the header, the line, the exit status).
    same "ssh-keygen -F $h on twoway's -H" "$(cd ssh_H && exact "$sk" -f kh -F "$h" | mask_hashes)" \
        "$(cd tw_H && exact "$sk" -f kh -F "$h" | mask_hashes)"
    same "twoway-keygen -F $h on ssh-keygen's -H" "$(cd ssh_H && exact "$sk" -f kh -F "$h")" \
        "$(cd ssh_H && exact "$tk" -f kh -F "$h")"
done
# Where twoway differs, on purpose: -F and -R lower-case the name before hashing it, as ssh does when it
# connects (and as both tools do for plain names); ssh-keygen hashes the name as given, so
# "ssh-keygen -F HOST1" misses the line ssh itself uses for host1.
same "twoway-keygen -F HOST1 finds host1's hashed line" "$(cd ssh_H && exact "$sk" -f kh -F host1 | sed 's/host1/HOST1/')" \
    "$(cd ssh_H && exact "$tk" -f kh -F HOST1)"
# A line either tool cannot make sense of: the file is left as it is, with ssh-keygen's messages.
printf 'a %s\nbad line\n' "$ka" >kh.orig
same "-H refuses a file with an invalid line" "$(edit_kh "$sk" ssh_H -H)" "$(edit_kh "$tk" tw_H -H)"
# Names twoway refuses are not hashed (twoway's own message): hashed, a name that was meant as
# [host]:port would match nothing, where twoway now takes it as uncertain for the host it may mean.
printf 'h:22 %s\n' "$ka" >kh.orig
same "-H keeps a name twoway refuses" \
    "$(printf '[exit 0]\nkh updated.\nOriginal contents retained as kh.old\n[stderr]\nkh:1: not hashing host names twoway cannot read: h:22\n[kh 640]\n%s\n[kh.old 640]\n%s' "$(cat kh.orig)" "$(cat kh.orig)")" \
    "$(edit_kh "$tk" tw_H -H)"
refused "usage: -H with -R" 'excludes' "$tk" -f kh.orig -H -R srv

echo "== certificates: -s, -L and -l against ssh-keygen (both directions, several time zones)"
# certblob FILE: the certificate's fields, one per line in hex, with the nonce and the signature masked
# (the only fields two signings of the same request may differ in).
cat >"$work/certfields.py" <<'PY'
import base64, struct, sys
blob = base64.b64decode(open(sys.argv[1]).read().split()[1])
pos = 0
def string():
    global pos
    (n,) = struct.unpack(">I", blob[pos:pos + 4]); pos += 4
    v = blob[pos:pos + n]; pos += n
    return v
def u(n):
    global pos
    v = blob[pos:pos + n]; pos += n
    return v
fields = [("type", string()), ("nonce", string()), ("pk", string()), ("serial", u(8)), ("kind", u(4)),
          ("key id", string()), ("principals", string()), ("valid after", u(8)), ("valid before", u(8)),
          ("critical", string()), ("extensions", string()), ("reserved", string()), ("ca", string()),
          ("signature", string())]
assert pos == len(blob), "trailing bytes"
for name, value in fields:
    print(name, "(masked)" if name in ("nonce", "signature") else value.hex())
PY
certfields() { python3 "$work/certfields.py" "$1"; }
# Without the "-cert.pub" header line of -L: the file names differ between the two tools' runs.
Lbody() { "$@" 2>&1 | tr -d '\r' | sed 1d; echo "[exit ${PIPESTATUS[0]}]"; }
"$sk" -q -t ed25519 -N '' -C "ssh ca" -f ca_ssh
"$tk" -q -N '' -C "twoway ca" -f ca_tw </dev/null
"$tk" -q -e -f ca_tw -o ca_tw.ssh </dev/null  # the same CA key for ssh-keygen
"$tk" -q -N '' -C "user one" -f cu </dev/null
"$sk" -q -t ed25519 -N '' -C "host key" -f ch
# One request, the same through both tools: -s CA -I ... then the options. Absolute validity only, so
# that both tools sign the same interval.
cert_cases=(
    "-I alice@corp -n alice -V 20260101:20270101"
    "-I id -n alice,bob,carol -z 42 -V always:forever"
    "-I id2 -n a -z 18446744073709551615 -V 20260101120000Z:20300101Z -O clear -O permit-pty"
    "-I forced -n svc -V 0x10:0x7fffffff -O 'force-command=/usr/bin/backup --full' -O source-address=10.0.0.0/8,127.0.0.1,::1"
    "-I custom -n x -V 202601011230:forever -O extension:login@example.com=alice -O critical:x@example.com -O extension:flag@example.com -O no-pty -O no-x11-forwarding"
    "-I touch -n x -V always:20301231 -O no-touch-required -O verify-required -O no-user-rc"
    "-I host -h -n host.example.com,*.example.net -V 20260101:20280101"
    "-I host2 -h -n h -O permit-pty -O extension:e@x=1"
    "-I 'spaces in id' -n 'user with space' -V 20260615:20260616"
)
n=0
for case in "${cert_cases[@]}"; do
    n=$((n + 1))
    eval "args=($case)"
    for tz in UTC Europe/Berlin Asia/Kolkata; do
        for ca in ca_ssh ca_tw; do
            rm -f cu-cert.pub ch-cert.pub
            key=cu.pub; [[ "$case" == *" -h "* ]] && key=ch.pub
            cert=${key%.pub}-cert.pub
            caf=$ca; [ "$ca" = ca_tw ] && caf=ca_tw.ssh
            smsg=$(TZ=$tz "$sk" -s "$caf" "${args[@]}" "$key" 2>&1 | tr -d '\r')
            [ -e "$cert" ] || { bad "ssh-keygen case $n: $smsg"; continue; }
            mv "$cert" "s$n.cert"
            tmsg=$(TZ=$tz "$tk" -s "$ca" "${args[@]}" "$key" 2>&1)
            [ -e "$cert" ] || { bad "twoway-keygen case $n ($tz, $ca): $tmsg"; continue; }
            mv "$cert" "t$n.cert"
            same "case $n ($tz, $ca): the Signed line" "$smsg" "$tmsg"
            same "case $n ($tz, $ca): the blob but nonce and signature" "$(certfields "s$n.cert")" "$(certfields "t$n.cert")"
            same "case $n ($tz, $ca): the comment" "$(cut -d' ' -f3- "$key")" "$(cut -d' ' -f3- "t$n.cert")"
            same "case $n ($tz, $ca): ssh-keygen -L of both" "$(Lbody env TZ=$tz "$sk" -L -f "s$n.cert")" \
                "$(Lbody env TZ=$tz "$sk" -L -f "t$n.cert")"
            same "case $n ($tz, $ca): -L of twoway's certificate" "$(exact env TZ=$tz "$sk" -L -f "t$n.cert")" \
                "$(exact env TZ=$tz "$tk" -L -f "t$n.cert")"
            same "case $n ($tz, $ca): -L of ssh-keygen's certificate" "$(exact env TZ=$tz "$sk" -L -f "s$n.cert")" \
                "$(exact env TZ=$tz "$tk" -L -f "s$n.cert")"
        done
    done
    same "case $n: -l" "$(exact "$sk" -l -f "s$n.cert")" "$(exact "$tk" -l -f "s$n.cert")"
    same "case $n: -lv" "$(exact "$sk" -lv -f "s$n.cert")" "$(exact "$tk" -lv -f "s$n.cert")"
done
same "the certificate file's mode" 644 "$(mode t1.cert)"

# Relative validity: the same interval when both run within the same second (retried once otherwise).
for v in +52w -1d:+1w +1h30m -4w:+4w always:+1d -1d:forever; do
    for try in 1 2; do
        rm -f cu-cert.pub
        smsg=$("$sk" -s ca_ssh -I r -n a -V "$v" cu.pub 2>&1 | tr -d '\r'); rm -f cu-cert.pub
        tmsg=$("$tk" -s ca_ssh -I r -n a -V "$v" cu.pub 2>&1)
        [ "$smsg" == "$tmsg" ] && break
    done
    same "-V $v" "$smsg" "$tmsg"
done
rm -f cu-cert.pub

# Several keys with -z +N: one certificate each, numbered on, named key-cert.pub (a private key file
# stands for its public half, as with ssh-keygen).
"$tk" -q -N '' -C "user two" -f cu2 </dev/null
rm -f cu-cert.pub cu2-cert.pub
same "-z +7 over two files" \
    "$(printf 'Signed user key cu-cert.pub: id "n" serial 7 for a valid forever\nSigned user key cu2-cert.pub: id "n" serial 8 for a valid forever')" \
    "$("$tk" -s ca_tw -I n -n a -z +7 cu.pub cu2 2>&1)"
same "cu2-cert.pub certifies cu2" "$("$sk" -l -f cu2.pub | cut -d' ' -f2)" \
    "$("$sk" -L -f cu2-cert.pub | sed -n 's/^ *Public key: ED25519-CERT //p')"
same "-z +7: serial of the second" "        Serial: 8" "$("$tk" -L -f cu2-cert.pub | grep Serial)"
rm -f cu-cert.pub cu2-cert.pub
# -q: nothing printed.
same "-s -q" "" "$("$tk" -q -s ca_tw -I q -n a cu.pub 2>&1)"
rm -f cu-cert.pub
# An encrypted twoway CA key opens with -P.
"$tk" -q -N 'ca pass' -a 1 -f ca_enc </dev/null
"$tk" -q -s ca_enc -P 'ca pass' -I enc -n a cu.pub </dev/null && [ -e cu-cert.pub ] && ok || bad "-s with an encrypted CA and -P"
same "signed by the encrypted CA" "$("$sk" -l -f ca_enc.pub | cut -d' ' -f2)" \
    "$("$sk" -L -f cu-cert.pub | sed -n 's/^ *Signing CA: ED25519 \([^ ]*\) .*/\1/p')"
rm -f cu-cert.pub

echo "== certificates: -L on files with several lines, standard input, bad lines"
{ echo "# certificates"; cat s1.cert; cat cu.pub; echo; cat t7.cert; echo "garbage"; } >several.cert
same "-L on a file of several lines" "$(exact "$sk" -L -f several.cert | tr -d '\r')" "$(exact "$tk" -L -f several.cert)"
same "-L on standard input" "$(exact "$sk" -L -f - <several.cert | tr -d '\r')" "$(exact "$tk" -L -f - <several.cert)"
python3 - t1.cert flipped.cert <<'PY'
import base64, sys
t, b, c = open(sys.argv[1]).read().split(" ", 2)
raw = bytearray(base64.b64decode(b)); raw[-5] ^= 1
open(sys.argv[2], "w").write(t + " " + base64.b64encode(raw).decode() + " " + c)
PY
same "-L on a certificate whose signature does not verify" "$(exact "$sk" -L -f flipped.cert | tr -d '\r')" \
    "$(exact "$tk" -L -f flipped.cert)"
same "-L on a plain key" "$(exact "$sk" -L -f cu.pub | tr -d '\r')" "$(exact "$tk" -L -f cu.pub)"
refused "-L on a flipped signature, stderr" '^flipped.cert:1: invalid key: incorrect signature$' "$tk" -L -f flipped.cert
refused "-l on a flipped signature" '^twoway-keygen: flipped.cert: ' "$tk" -l -f flipped.cert
refused "-L without -f" '-L needs -f' "$tk" -L
refused "-L on a missing file" '^twoway-keygen: nosuch: No such file or directory$' "$tk" -L -f nosuch

echo "== certificates: refusals"
"$sk" -q -t rsa -b 2048 -N '' -f ca_rsa
"$sk" -q -t ecdsa -N '' -f ca_ecdsa
refused "-s without -I" '^twoway-keygen: Must specify key id \(-I\) when certifying$' "$tk" -s ca_tw -n a cu.pub
refused "-s without -n" 'no principals given \(-n' "$tk" -s ca_tw -I id cu.pub
refused "-s with an empty principal" '^twoway-keygen: Empty principal name$' "$tk" -s ca_tw -I id -n a,,b cu.pub
refused "-s without a key file" 'needs the public key files' "$tk" -s ca_tw -I id -n a
for v in 20270101 always forever -1d x +52x 2026010112:20270101 20270101:20260101 0x:forever 20261301:forever; do
    msg=$("$sk" -s ca_ssh -I id -n a -V "$v" cu.pub 2>&1 | tr -d '\r')
    refused "-V $v" "^twoway-keygen: $(printf '%s' "$msg" | sed 's/[][\.*^$+?(){}|/]/\\&/g')\$" "$tk" -s ca_tw -I id -n a -V "$v" cu.pub
done
for z in x -1 + 18446744073709551616 ' 5'; do
    refused "-z '$z'" '^twoway-keygen: Invalid serial number ' "$tk" -s ca_tw -I id -n a -z "$z" cu.pub
done
for O in bogus force-command= source-address= source-address=10.1.2.3/8 'source-address=*' extension: ; do
    refused "-O '$O'" '^twoway-keygen: (Unsupported certificate option|Empty|Invalid source-address list)' \
        "$tk" -s ca_tw -I id -n a -O "$O" cu.pub
done
refused "-O force-command twice" 'force-command already specified' "$tk" -s ca_tw -I id -n a -O force-command=a -O force-command=b cu.pub
refused "-O an extension twice" 'Extension "permit-pty" given twice' "$tk" -s ca_tw -I id -n a -O extension:permit-pty cu.pub
refused "-h with a critical option" 'Critical option "force-command" on a host certificate' "$tk" -s ca_tw -I id -h -n h -O force-command=x ch.pub
refused "an RSA CA" '^twoway-keygen: ca_rsa: the CA key must be an Ed25519 key' "$tk" -s ca_rsa -I id -n a cu.pub
refused "an ECDSA CA" '^twoway-keygen: ca_ecdsa: the CA key must be an Ed25519 key' "$tk" -s ca_ecdsa -I id -n a cu.pub
cp ca_tw.pub ca_pub_only && chmod 600 ca_pub_only
refused "a public key as the CA" '^twoway-keygen: ca_pub_only: not a private key file' "$tk" -s ca_pub_only -I id -n a cu.pub
refused "an RSA key to certify" 'only Ed25519 keys can be certified' "$tk" -s ca_tw -I id -n a ca_rsa.pub
refused "a certificate to certify" 'a certificate cannot be certified' "$tk" -s ca_tw -I id -n a t1.cert
cp t1.cert cu-cert.pub
refused "signing into an existing file" '^twoway-keygen: cu-cert.pub: already exists' "$tk" -s ca_tw -I new -n a cu.pub
same "the existing certificate is unchanged" "$(exact cat t1.cert)" "$(exact cat cu-cert.pub)"
rm -f cu-cert.pub
refused "-I without -s" 'go with -s' "$tk" -I id -n a cu.pub
refused "-h without -s" 'go with -s' "$tk" -h -N '' -f never_key
[ ! -e never_key ] && ok || bad "-h without -s generated a key"
[ ! -e cu-cert.pub ] && ok || bad "a refusal wrote a certificate"

echo "== KRLs: twoway-keygen -k writes ssh-keygen -k's bytes; -Q reads KRLs of both as ssh-keygen -Q does"
mkdir krl && cd krl || exit 1
"$sk" -q -t ed25519 -N '' -C krl-ca -f kca
"$sk" -q -t ed25519 -N '' -C krl-ca2 -f kca2
for i in 1 2 3 4 5; do "$sk" -q -t ed25519 -N '' -C "user $i" -f "u$i"; done
"$sk" -q -t ed25519 -N '' -C '' -f nocomment
"$sk" -q -s kca -I alice -n alice -z 5 u1.pub && mv u1-cert.pub c_5_alice.pub
"$sk" -q -s kca -I bob -n bob -z 150 u2.pub && mv u2-cert.pub c_150_bob.pub
"$sk" -q -s kca -I carol -n carol u3.pub && mv u3-cert.pub c_0_carol.pub
"$sk" -q -s kca2 -I bob -n bob -z 5 u4.pub && mv u4-cert.pub c2_5_bob.pub
printf 'key: %s\n' "$(cat u1.pub)" >keys.spec
printf 'serial: 5\nserial: 100-200 # a range\nSerial: 0x400\n' >serials.spec
printf 'id: carol\nid: bob\n' >ids.spec
printf 'sha256: %s\nhash: %s\n' "$(cat u4.pub)" "$("$sk" -l -f u2.pub | cut -d' ' -f2)" >sha256.spec
printf 'sha1: %s\n%s\n  %s  # a certificate line\n' "$(cat u5.pub)" "$(cat u3.pub)" "$(cat c_150_bob.pub)" >lines.spec
printf 'key: %s\n' "$(cat kca2.pub)" >cakey.spec
tested="u1.pub u2.pub u3.pub u4.pub u5.pub nocomment.pub nocomment c_5_alice.pub c_150_bob.pub c_0_carol.pub c2_5_bob.pub kca2.pub"
# The KRL without its generation date (bytes 21-28), which differs by the second the tools ran.
undated() { { head -c 20 "$1"; tail -c +29 "$1"; } | od -An -tx1; }
for spec in keys serials ids sha256 lines cakey; do
    ca=(-s kca.pub)
    [ "$spec" = ids ] && ca=(-s none)
    "$sk" -q -k -f "s_$spec.krl" "${ca[@]}" -z 3 "$spec.spec" || bad "ssh-keygen -k $spec"
    "$tk" -q -k -f "t_$spec.krl" "${ca[@]}" -z 3 "$spec.spec" || bad "twoway-keygen -k $spec"
    same "-k $spec: the same KRL" "$(undated "s_$spec.krl")" "$(undated "t_$spec.krl")"
    for krl in "s_$spec.krl" "t_$spec.krl"; do
        # shellcheck disable=SC2086
        same "-Q on $krl" "$(exact "$sk" -Q -f "$krl" $tested)" "$(exact "$tk" -Q -f "$krl" $tested)"
        same "-Q -l on $krl" "$(exact "$sk" -Q -l -f "$krl")" "$(exact "$tk" -Q -l -f "$krl")"
    done
done
same "-k says which file it reads" "$(exact "$sk" -k -f s_msg.krl keys.spec)" "$(exact "$tk" -k -f t_msg.krl keys.spec)"
# -u adds to a KRL and keeps its version, comment and date; -z sets the version; -C the comment.
cp s_serials.krl s_up.krl && cp s_serials.krl t_up.krl
"$sk" -q -k -u -f s_up.krl -s kca.pub -C 'updated' ids.spec && "$tk" -q -k -u -f t_up.krl -s kca.pub -C 'updated' ids.spec
same "-k -u -C: the same KRL, date kept" "$(od -An -tx1 s_up.krl)" "$(od -An -tx1 t_up.krl)"
"$sk" -q -k -u -f s_up.krl -z 99 keys.spec && "$tk" -q -k -u -f t_up.krl -z 99 keys.spec
same "-k -u -z: the same KRL" "$(od -An -tx1 s_up.krl)" "$(od -An -tx1 t_up.krl)"
same "-Q on an updated KRL" "$(exact "$sk" -Q -f t_up.krl u1.pub c_5_alice.pub c_0_carol.pub c2_5_bob.pub)" \
    "$(exact "$tk" -Q -f t_up.krl u1.pub c_5_alice.pub c_0_carol.pub c2_5_bob.pub)"
# -Q -l lists a KRL as ssh-keygen's krl_dump does: one with every kind of entry, three CAs (one of
# them any CA), serial ranges that merge, and a comment and key ids with characters to escape; in local
# time (not UTC), in the C locale and in UTF-8; with key files after the listing.
tab=$(printf '\t')
printf 'key: %s\nkey: %s\nsha1: %s\nsha256: %s\nhash: %s\nserial: 7-9\nserial: 10\nserial: 3\nid: z last\nid: a%s tab\nid: \303\251t\303\251\n' \
    "$(cat u5.pub)" "$(cat u2.pub)" "$(cat u3.pub)" "$(cat u1.pub)" "$("$sk" -l -f u4.pub | cut -d' ' -f2)" "$tab" >rich.spec
printf 'serial: 1-4\nserial: 5\nid: bob\n' >rich2.spec
printf 'id: anyone\nid: \001ctl\n' >rich3.spec
"$sk" -q -k -f s_rich.krl -s kca.pub -z 12 -C "comment${tab}with \303\251 and a tab" rich.spec &&
    "$sk" -q -k -u -f s_rich.krl -s kca2.pub rich2.spec && "$sk" -q -k -u -f s_rich.krl -s none rich3.spec ||
    bad "ssh-keygen -k rich"
"$tk" -q -k -f t_rich.krl -s kca.pub -z 12 -C "comment${tab}with \303\251 and a tab" rich.spec &&
    "$tk" -q -k -u -f t_rich.krl -s kca2.pub rich2.spec && "$tk" -q -k -u -f t_rich.krl -s none rich3.spec ||
    bad "twoway-keygen -k rich"
for krl in s_rich.krl t_rich.krl; do
    for env in "LANG=C TZ=UTC" "LANG=C.UTF-8 TZ=America/New_York" "LC_ALL=C.UTF-8 TZ=Asia/Kolkata"; do
        # shellcheck disable=SC2086
        same "-Q -l on $krl ($env)" "$(exact env $env "$sk" -Q -l -f "$krl" u1.pub c_5_alice.pub)" \
            "$(exact env $env "$tk" -Q -l -f "$krl" u1.pub c_5_alice.pub)"
    done
done
listing=$(exact env LC_ALL=C "$tk" -Q -l -f t_rich.krl)
grep -q '^# Comment: comment\\011with \\303\\251 and a tab$' <<<"$listing" && ok ||
    bad "-Q -l: the comment not escaped in the C locale: $listing"
grep -q '^serial: 3$' <<<"$listing" && grep -q '^serial: 7-10$' <<<"$listing" && grep -q '^serial: 1-5$' <<<"$listing" &&
    grep -q '^# Wildcard CA$' <<<"$listing" && ok || bad "-Q -l: serials or the wildcard CA: $listing"
# A KRL from ssh-keygen revoking an RSA key and an RSA CA's serial: twoway-keygen lists it as ssh-keygen
# does but for those two, which it says it cannot fingerprint (docs/KEYS.md, section 6).
printf 'key: %s\nserial: 9\n' "$(cat ../ca_rsa.pub)" >rsa.spec
"$sk" -q -k -f s_rsa.krl -s ../ca_rsa.pub rsa.spec || bad "ssh-keygen -k with RSA keys"
other="another type than Ed25519 (twoway-keygen shows Ed25519 keys only)"
same "-Q -l on a KRL with RSA keys" \
    "$(exact "$sk" -Q -l -f s_rsa.krl | sed -e "s/^hash: SHA256:[^ ]* # ssh-rsa\$/# a key of $other/" \
        -e "s/^# CA key ssh-rsa SHA256:.*\$/# CA key of $other/")" \
    "$(exact "$tk" -Q -l -f s_rsa.krl)"
"$tk" -Q -l -f rich.spec >listed 2>&1
rc=$?
same "-Q -l on a text file: exit 255, nothing listed" "255 twoway-keygen: Invalid KRL file rich.spec" \
    "$rc $(cut -d: -f1-2 listed)"
# What ssh-keygen refuses, twoway-keygen refuses with the same words (its own exit status: 1).
for line in 'serial: 5-3' 'serial: abc' 'serial: 5-' 'serial: 99999999999999999999' 'hash: sha256:x' 'key: foo' 'bogus'; do
    printf '%s\n' "$line" >bad.spec
    msg=$("$sk" -q -k -f never.krl -s kca.pub bad.spec 2>&1 | tr -d '\r')
    refused "-k '$line'" "^twoway-keygen: $(printf '%s' "$msg" | sed 's/[][\.*^$+?(){}|/]/\\&/g')\$" \
        "$tk" -q -k -f never.krl -s kca.pub bad.spec
done
printf 'serial: 5\n' >bad.spec
refused "-k serial: without -s" '^twoway-keygen: revoking certificates by serial number requires specification of a CA key$' \
    "$tk" -q -k -f never.krl bad.spec
refused "-k -u on a missing KRL" '^twoway-keygen: KRL "never.krl" does not exist$' "$tk" -q -k -u -f never.krl keys.spec
refused "-k an RSA key" 'ssh-rsa: twoway reads Ed25519 keys and certificates only' \
    "$tk" -q -k -f never.krl ../ca_rsa.pub
[ ! -e never.krl ] && ok || bad "a refused -k wrote a KRL"
# -Q's errors exit 255, as ssh-keygen's.
"$tk" -Q -f keys.spec u1.pub >/dev/null 2>&1; same "-Q on a text file: exit 255" 255 $?
"$tk" -Q -f t_keys.krl missing.pub >/dev/null 2>&1; same "-Q on a missing key: exit 255" 255 $?
same "-Q on a missing key: the message" "$("$sk" -Q -f t_keys.krl missing.pub 2>&1 | tr -d '\r')" \
    "$("$tk" -Q -f t_keys.krl missing.pub 2>&1 | sed 's/^twoway-keygen: //')"
cd .. || exit 1

echo "keygen interop: $passed passed, $failed failed"
[ "$failed" -eq 0 ]

#include "commands.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cwchar>
#include <filesystem>
#include <limits>
#include <optional>
#include <pwd.h>
#include <string_view>
#include <sys/stat.h>
#include <unistd.h>

#include <twoway/certificate.hpp>
#include <twoway/file.hpp>
#include <twoway/key_file.hpp>
#include <twoway/key.hpp>
#include <twoway/secret.hpp>
#include <twoway/text.hpp>
#include <twoway/trust.hpp>

#include "home.hpp"
#include "support.hpp"
#include "terminal.hpp"

namespace twoway_keygen {

// What the tool takes from the library (and, through the namespace aliases, from its internals).
using twoway::DecodedPrivateKey;
using twoway::errc;
using twoway::HostNaming;
using twoway::HostPort;
using twoway::KdfParams;
using twoway::KeyFileFormat;
using twoway::KeyLoadOptions;
using twoway::KnownHostsLine;
using twoway::KnownHostsReader;
using twoway::PrivateKey;
using twoway::PublicKey;
using twoway::Result;
using twoway::SecretBuffer;
using twoway::TrustLimits;
using twoway::UnusableHostLine;
using twoway::UnusableKind;
using twoway::decode_private_key;
using twoway::default_kdf_params;
using twoway::encode_openssh_private_key;
using twoway::encode_private_key;
using twoway::fail;
using twoway::fingerprint_line;
using twoway::fingerprint_sha256;
using twoway::format_public_key_line;
using twoway::inspect_private_key;
using twoway::known_host_matches;
using twoway::known_host_naming;
using twoway::max_key_comment;
using twoway::max_trust_file_size;
using twoway::parse_host_port;
using twoway::parse_public_key_line;
using twoway::randomart;
using twoway::read_private_key_file;
using twoway::valid_key_comment;
using twoway::system_rng;
using twoway::write_key_file;

namespace {
constexpr const char* prog = "twoway-keygen";
constexpr std::size_t max_public_file = 1 << 20;  // -l reads authorized_keys-sized files, not more
}  // namespace

// The helpers declared in support.hpp (shared with the other modes' files) are outside the anonymous
// namespaces; the rest stay private to this file.
int fail_msg(const std::string& msg) {
    std::fprintf(stderr, "%s: %s\n", prog, msg.c_str());
    return 1;
}

namespace {

// ---- paths and defaults ---------------------------------------------------------------------------
std::string home_dir() {
    // $HOME when it is our own directory, else the password database's, as twoway decides (common/home.hpp).
    twoway_common::Home home = twoway_common::home_directory();
    return home.path.empty() ? std::string(".") : std::move(home.path);
}

std::string default_key_path() { return home_dir() + "/.twoway/id_ed25519"; }

std::string default_comment() {
    const passwd* pw = ::getpwuid(::getuid());
    char host[256] = {};
    if (::gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
    return std::string(pw != nullptr ? pw->pw_name : "user") + '@' + host;
}

bool allow_insecure() {
    const char* v = std::getenv(insecure_env);
    return v != nullptr && std::string_view(v) == "1";
}

std::string_view text_of(const SecretBuffer& b) { return {reinterpret_cast<const char*>(b.data()), b.size()}; }

}  // namespace

// ---- messages -----------------------------------------------------------------------------------
// One line saying what went wrong with path, with a hint where the user can do something about it.
int fail_path(const std::string& path, std::error_code ec) {
    std::string msg = ec.message();
    if (ec == errc::insecure_permissions) {
        struct stat st {};
        char mode[8] = "?";
        if (::stat(path.c_str(), &st) == 0) std::snprintf(mode, sizeof mode, "%04o", st.st_mode & 07777U);
        msg = std::string("permissions ") + mode +
              " are too open: a private key file must not be accessible by others (chmod 600 it, or set " +
              insecure_env + "=1 to use it anyway)";
    } else if (ec == errc::passphrase_required) {
        msg += " (give it with -P, or run on a terminal to be asked)";
    } else if (ec == errc::length_too_large) {
        msg = "file too large to be a key file";
    } else if (ec == errc::invalid_argument) {
        msg = "not a regular file";
    }
    return fail_msg(path + ": " + msg);
}

// As support.hpp says: OpenSSH's utf8.c rules (mprintf, or asmprintf with a width for krl_dump).
std::string printable(std::string_view s, bool escape_line_controls) {
    std::string out;
    std::mbstate_t state{};
    std::size_t i = 0;
    while (i < s.size()) {
        wchar_t wc = 0;
        std::size_t len = std::mbrtowc(&wc, s.data() + i, s.size() - i, &state);
        bool show = false;
        if (len == static_cast<std::size_t>(-1) || len == static_cast<std::size_t>(-2)) {
            state = {};
            len = 1;
        } else if (len == 0) {
            len = 1;  // a NUL byte
        } else {
            const bool line_control = wc == L'\t' || wc == L'\r' || wc == L'\n';
            show = line_control ? !escape_line_controls : ::wcwidth(wc) >= 0;
        }
        if (show) {
            out.append(s.substr(i, len));
        } else {
            for (std::size_t k = 0; k < len; ++k) {
                char esc[8];
                std::snprintf(esc, sizeof esc, "\\%03o", static_cast<unsigned char>(s[i + k]));
                out += esc;
            }
        }
        i += len;
    }
    return out;
}

namespace {

void print_fingerprint(const PublicKey& key, std::string_view comment, bool art) {
    std::printf("%s\n", printable(fingerprint_line(key, comment)).c_str());
    if (art) std::printf("%s\n", randomart(key).c_str());
}

// A certificate's line, as ssh-keygen -l prints it: the certified key's fingerprint, "(ED25519-CERT)",
// and the picture titled with that type (too long for "[ED25519-CERT 256]", ssh-keygen drops the size).
void print_certificate_fingerprint(const PublicKey& key, std::string_view comment, bool art) {
    const std::string shown = comment.empty() ? std::string("no comment") : std::string(comment);
    std::printf("%s\n", printable("256 " + fingerprint_sha256(key) + " " + shown + " (ED25519-CERT)").c_str());
    if (!art) return;
    const std::string picture = randomart(key);
    std::printf("+-[ED25519-CERT]--+%s\n", picture.substr(picture.find('\n')).c_str());
}

void print_saved(const std::string& path, const PublicKey& key, std::string_view comment) {
    std::printf("Your identification has been saved in %s\n", path.c_str());
    std::printf("Your public key has been saved in %s.pub\n", path.c_str());
    std::printf("The key fingerprint is:\n%s %s\n", fingerprint_sha256(key).c_str(),
                printable(comment).c_str());
    std::printf("The key's randomart image is:\n%s\n", randomart(key).c_str());
}

// ---- passphrases --------------------------------------------------------------------------------
// The passphrase for a file being written: -N, else asked twice on a terminal. With neither there is
// no safe default: a key must not silently end up unprotected, nor a script hang on a prompt.
Result<SecretBuffer> new_passphrase(const Options& o) {
    if (o.new_passphrase) return SecretBuffer(o.new_passphrase->span());
    if (!interactive()) {
        fail_msg("no passphrase given with -N and no terminal to ask on (use -N '' for a key without one)");
        return fail(errc::passphrase_required);
    }
    for (int attempt = 0; attempt < 3; ++attempt) {
        auto first = read_passphrase("Enter passphrase (empty for no passphrase): ");
        if (!first) break;
        auto again = read_passphrase("Enter same passphrase again: ");
        if (!again) break;
        if (*first == *again) return std::move(*first);
        std::fprintf(stderr, "Passphrases do not match.  Try again.\n");
    }
    fail_msg("no passphrase set");
    return fail(errc::passphrase_required);
}

// The passphrase of an existing file: -P, else asked once on a terminal.
Result<SecretBuffer> current_passphrase(const Options& o, const std::string& prompt) {
    if (o.passphrase) return SecretBuffer(o.passphrase->span());
    if (!interactive()) return fail(errc::passphrase_required);
    return read_passphrase(prompt);
}

// ---- files --------------------------------------------------------------------------------------
// True when something (file, directory, dangling link) is at path.
bool exists(const std::string& path) {
    struct stat st {};
    return ::lstat(path.c_str(), &st) == 0;
}

}  // namespace

// Never replace a file without asking, as ssh-keygen: on a terminal ask, otherwise refuse.
bool may_write(const std::string& path) {
    if (!exists(path)) return true;
    if (!interactive()) {
        fail_msg(path + ": already exists; not overwriting it without a terminal to ask (remove it first)");
        return false;
    }
    std::fprintf(stderr, "%s already exists.\n", path.c_str());
    if (ask_yes_no("Overwrite (y/n)? ")) return true;
    fail_msg(path + ": not overwritten");
    return false;
}

namespace {
// Creates the directory of the default key path (~/.twoway) with mode 0700 when it is missing.
bool ensure_default_dir(const std::string& path, bool quiet) {
    const std::string dir = path.substr(0, path.rfind('/'));
    if (exists(dir)) return true;
    if (::mkdir(dir.c_str(), 0700) != 0) {
        fail_path(dir, std::error_code(errno, std::generic_category()));
        return false;
    }
    if (!quiet) std::printf("Created directory '%s'.\n", dir.c_str());
    return true;
}

// Writes a private key file (0600) and its .pub (0644).
bool write_pair(const std::string& path, std::string_view private_text, const PublicKey& key,
                std::string_view comment) {
    if (auto st = write_key_file(path, private_text, 0600); !st) {
        fail_path(path, st.error());
        return false;
    }
    const std::string pub = path + ".pub";
    if (auto st = write_key_file(pub, format_public_key_line(key, comment) + "\n", 0644); !st) {
        fail_path(pub, st.error());
        return false;
    }
    return true;
}

KdfParams kdf_params(const Options& o) {
    KdfParams p = default_kdf_params();
    if (o.rounds) p.opslimit = *o.rounds;
    return p;
}

}  // namespace

// Reads and decrypts a private key (either format), asking for the passphrase only when needed.
Result<DecodedPrivateKey> load_key(const Options& o, const std::string& path) {
    KeyLoadOptions lo;
    lo.allow_insecure_permissions = allow_insecure();
    auto text = read_private_key_file(path, lo);
    if (!text) return fail(text.error());
    auto info = inspect_private_key(*text);
    if (!info) return fail(info.error());
    SecretBuffer pass;
    if (info->encrypted && info->format == KeyFileFormat::twoway) {
        auto p = current_passphrase(o, "Enter passphrase for " + path + ": ");
        if (!p) return fail(p.error());
        pass = std::move(*p);
    }
    auto key = decode_private_key(*text, text_of(pass));
    twoway::wipe(std::as_writable_bytes(std::span(*text)));
    return key;
}

int generate(const Options& o) {
    if (o.type != "ed25519") return fail_msg("unsupported key type '" + o.type + "' (twoway keys are ed25519)");
    const bool defaulted = !o.file;
    const std::string path = defaulted ? default_key_path() : *o.file;
    const std::string comment = o.comment ? *o.comment : default_comment();
    if (!valid_key_comment(comment)) {
        return fail_msg("a comment must be text without control characters, at most " +
                        std::to_string(max_key_comment) + " bytes");
    }
    if (!o.quiet) std::printf("Generating public/private ed25519 key pair.\n");
    if (defaulted && !ensure_default_dir(path, o.quiet)) return 1;
    if (!may_write(path)) return 1;
    auto pass = new_passphrase(o);
    if (!pass) return 1;

    const PrivateKey key = PrivateKey::generate(system_rng());
    auto text = encode_private_key(key, comment, text_of(*pass), kdf_params(o), system_rng());
    if (!text) return fail_msg(text.error().message());
    if (!write_pair(path, *text, key.public_key(), comment)) return 1;
    if (!o.quiet) print_saved(path, key.public_key(), comment);
    return 0;
}

int generate_host_keys(const Options& o) {
    // twowayd's default HostKey; ssh-keygen -A's -f is a prefix to the default path, as here.
    const std::string prefix = o.file ? *o.file : std::string();
    const std::string dir = prefix + "/etc/twoway";
    const std::string path = dir + "/host_ed25519_key";
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0) {
        if (st.st_size != 0) return 0;  // present: nothing to do (an empty file is replaced)
    } else if (errno != ENOENT) {
        return fail_path(path, std::error_code(errno, std::generic_category()));
    }
    // The configuration directory, world-readable as /etc/ssh (the private key itself is 0600).
    for (const std::string& d : {prefix + "/etc", dir}) {
        if (::mkdir(d.c_str(), 0755) != 0 && errno != EEXIST) {
            fail_path(d, std::error_code(errno, std::generic_category()));
            return 1;
        }
    }
    if (!o.quiet) std::printf("twoway-keygen: generating new host keys: ED25519\n");
    const std::string comment = o.comment ? *o.comment : default_comment();
    if (!valid_key_comment(comment)) return fail_msg("a comment must be text without control characters");
    const PrivateKey key = PrivateKey::generate(system_rng());
    auto text = encode_private_key(key, comment, "", kdf_params(o), system_rng());
    if (!text) return fail_msg(text.error().message());
    // Each file is written to a temporary name and renamed: a crash leaves the old state or the new one.
    if (!write_pair(path, *text, key.public_key(), comment)) return 1;
    return 0;
}

int fingerprint(const Options& o) {
    if (o.hash != "sha256" && o.hash != "SHA256") return fail_msg("only SHA256 fingerprints are supported");
    const std::string path = o.file ? *o.file : default_key_path();
    auto file = twoway::read_file(path, max_public_file);
    if (!file) return fail_path(path, file.error());
    const std::string_view text = file->text;

    // A private key file carries its public key and comment in the clear: no passphrase needed.
    if (text.starts_with("-----BEGIN ")) {
        auto info = inspect_private_key(text);
        twoway::wipe(std::as_writable_bytes(std::span(file->text)));
        if (!info) return fail_path(path, info.error());
        print_fingerprint(info->public_key, info->comment, o.verbose);
        return 0;
    }

    // Otherwise a file of public key lines (.pub, authorized_keys without options): every key in it.
    int printed = 0;
    std::error_code first_error;
    std::size_t line_no = 0;
    std::size_t pos = 0;
    while (pos < text.size()) {
        std::size_t end = text.find('\n', pos);
        if (end == std::string_view::npos) end = text.size();
        const std::string_view line = text.substr(pos, end - pos);
        pos = end + 1;
        ++line_no;
        const std::size_t start = line.find_first_not_of(" \t\r");
        if (start == std::string_view::npos || line[start] == '#') continue;
        auto parsed = parse_public_key_line(line);
        if (!parsed) {
            // A certificate line (its signature checked, as ssh-keygen does before it prints one).
            if (auto cert = twoway::parse_certificate_line(line)) {
                print_certificate_fingerprint(cert->certificate.key, cert->comment, o.verbose);
                ++printed;
                continue;
            }
            if (!first_error) first_error = parsed.error();
            continue;
        }
        print_fingerprint(parsed->key, parsed->comment, o.verbose);
        ++printed;
    }
    if (printed == 0) {
        return fail_path(path, first_error ? first_error : make_error_code(errc::bad_key_format));
    }
    return 0;
}

int print_public(const Options& o) {
    const std::string path = o.file ? *o.file : default_key_path();
    KeyLoadOptions lo;
    lo.allow_insecure_permissions = allow_insecure();
    auto text = read_private_key_file(path, lo);
    if (!text) return fail_path(path, text.error());
    auto info = inspect_private_key(*text);
    if (!info) return fail_path(path, info.error());
    // The public key is stored in the clear, so an encrypted key needs no passphrase here. When the
    // secret half can be opened (no encryption, or -P given), it is checked against the public half.
    if (!info->encrypted || (o.passphrase && info->format == KeyFileFormat::twoway)) {
        const std::string_view pass = o.passphrase ? text_of(*o.passphrase) : std::string_view{};
        auto key = decode_private_key(*text, pass);
        if (!key) return fail_path(path, key.error());
    }
    twoway::wipe(std::as_writable_bytes(std::span(*text)));
    // Raw, as ssh-keygen -y prints it: the line is meant for .pub and authorized_keys files, and a
    // comment read from a private key file holds no control characters (both parsers refuse them).
    std::printf("%s\n", format_public_key_line(info->public_key, info->comment).c_str());
    return 0;
}

int change_passphrase(const Options& o) {
    const std::string path = o.file ? *o.file : default_key_path();
    auto key = load_key(o, path);
    if (!key) return fail_path(path, key.error());
    if (key->format != KeyFileFormat::twoway) {
        return fail_msg(path + ": an OpenSSH key; import it with -i to get a twoway key file first");
    }
    if (!o.quiet) std::printf("Key has comment '%s'\n", printable(key->comment).c_str());
    auto pass = new_passphrase(o);
    if (!pass) return 1;
    auto text = encode_private_key(key->key, key->comment, text_of(*pass), kdf_params(o), system_rng());
    if (!text) return fail_msg(text.error().message());
    if (auto st = write_key_file(path, *text, 0600); !st) return fail_path(path, st.error());
    if (!o.quiet) std::printf("Your identification has been saved with the new passphrase.\n");
    return 0;
}

int import_openssh(const Options& o) {
    const std::string in = o.file ? *o.file : home_dir() + "/.ssh/id_ed25519";
    const bool defaulted = !o.output;
    const std::string out = defaulted ? default_key_path() : *o.output;
    auto key = load_key(o, in);
    if (!key) return fail_path(in, key.error());
    if (key->format != KeyFileFormat::openssh) return fail_msg(in + ": already a twoway key file");
    const std::string comment = o.comment ? *o.comment : key->comment;
    if (!valid_key_comment(comment)) {
        return fail_msg("a comment must be text without control characters, at most " +
                        std::to_string(max_key_comment) + " bytes");
    }
    if (defaulted && !ensure_default_dir(out, o.quiet)) return 1;
    if (!may_write(out)) return 1;
    auto pass = new_passphrase(o);
    if (!pass) return 1;
    auto text = encode_private_key(key->key, comment, text_of(*pass), kdf_params(o), system_rng());
    if (!text) return fail_msg(text.error().message());
    if (!write_pair(out, *text, key->key.public_key(), comment)) return 1;
    if (!o.quiet) print_saved(out, key->key.public_key(), comment);
    return 0;
}

int export_openssh(const Options& o) {
    if (!o.output) return fail_msg("export needs -o FILE for the OpenSSH key it writes");
    const std::string in = o.file ? *o.file : default_key_path();
    const std::string& out = *o.output;
    auto key = load_key(o, in);
    if (!key) return fail_path(in, key.error());
    if (!may_write(out)) return 1;
    auto text = encode_openssh_private_key(key->key, key->comment, system_rng());
    if (!text) return fail_msg(text.error().message());
    const bool ok = write_pair(out, *text, key->key.public_key(), key->comment);
    twoway::wipe(std::as_writable_bytes(std::span(*text)));
    if (!ok) return 1;
    if (!o.quiet) {
        print_saved(out, key->key.public_key(), key->comment);
        std::printf("%s is an OpenSSH key without a passphrase; set one with: ssh-keygen -p -f %s\n", out.c_str(),
                    out.c_str());
    }
    return 0;
}

// ---- known_hosts: -F and -R --------------------------------------------------------------------
namespace {

int bad_host(const std::string& arg) {
    return fail_msg("invalid host " + twoway::quoted(arg) + " (a name or address, or [host]:port)");
}

// The editing reader sees every line: no line or entry limit (the file size is capped when read), so a
// rewrite never drops the tail of a long file.
TrustLimits editing_limits() {
    TrustLimits l;
    l.max_lines = std::numeric_limits<std::size_t>::max();
    l.max_entries = std::numeric_limits<std::size_t>::max();
    return l;
}

// A readable line twoway does not use for its verdict the way ssh-keygen reads it: a key of another type,
// or an @cert-authority line with readable names (whose CA key twoway cannot use).
bool certain_kind(const UnusableHostLine& u) {
    return u.kind == UnusableKind::other_key_type || (u.kind == UnusableKind::named && u.cert_authority);
}

// Whether the line's host list names host, as ssh-keygen's -F and -R match it (plain names, wildcards,
// negation, hashed names), @revoked and @cert-authority lines included, and lines twoway reads but does
// not use (a key of another type, a CA key it cannot use), as ssh-keygen shows and removes them. (twoway refuses a revoked key for every host
// whatever its host field says; -F shows the lines written for this host, as ssh-keygen does, so that
// "-F host || add it" scripts keep working.)
bool line_is_for(const KnownHostsLine& line, const HostPort& host) {
    if (line.entry) return known_host_matches(*line.entry, host.host, host.port);
    return line.unusable && certain_kind(*line.unusable) &&
           known_host_naming(*line.unusable, host.host, host.port) == HostNaming::yes;
}

// A line twoway cannot check that may name the host (a malformed hashed name, a name it refuses that
// could mean the host, bad key data, binary junk): it makes twoway's verdict on the host "uncertain".
// -F shows it apart, with why.
bool line_may_be_for(const KnownHostsLine& line, const HostPort& host) {
    if (line.entry) return known_host_naming(*line.entry, host.host, host.port) == HostNaming::maybe;
    if (!line.unusable) return false;
    const HostNaming n = known_host_naming(*line.unusable, host.host, host.port);
    return n == HostNaming::maybe || (n == HostNaming::yes && !certain_kind(*line.unusable));
}

// The line as in the file, byte for byte: the reader drops the CR of a CRLF ending, which ssh-keygen
// keeps when it prints or rewrites a line. line.text is a view into all.
std::string_view raw_line(std::string_view all, const KnownHostsLine& line) {
    const std::size_t start = static_cast<std::size_t>(line.text.data() - all.data());
    const std::size_t end = std::min(start + line.text.size(), all.size());
    const bool crlf = all.substr(end, 2) == "\r\n";
    return all.substr(start, line.text.size() + (crlf ? 1 : 0));
}

}  // namespace

namespace {

// The host field of a line and what follows it (ssh-keygen's l->hosts and l->rawkey), after a marker
// if the line has one: raw is the line as in the file.
struct HostField {
    std::string_view hosts;
    std::string_view rest;
};

HostField host_field(std::string_view raw) {
    const auto blank = [](char c) { return c == ' ' || c == '\t'; };
    const auto word = [&](std::string_view& text) {
        std::size_t i = 0;
        while (i < text.size() && blank(text[i])) ++i;
        std::size_t end = i;
        while (end < text.size() && !blank(text[end])) ++end;
        const std::string_view w = text.substr(i, end - i);
        while (end < text.size() && blank(text[end])) ++end;
        text.remove_prefix(end);
        return w;
    };
    std::string_view rest = raw;
    std::string_view hosts = word(rest);
    if (hosts.starts_with('@')) hosts = word(rest);
    return HostField{hosts, rest};
}

// What -H does with a line, as ssh-keygen's known_hosts_hash: names are hashed one per line, except on
// lines already hashed, with a wildcard or negation, or with a marker, which are kept as they are. twoway
// also keeps a line with a name it cannot read (it would hash it into a name that matches nothing, where
// twoway now takes it as "uncertain" for the host it may mean). Lines ssh-keygen calls invalid, and
// those twoway cannot read (bad keys, unknown markers, junk), stop the rewrite.
enum class HashAction { keep, keep_wildcard, keep_bad_name, hash, invalid };

template <class Line>
HashAction hash_action_for_names(const Line& l, std::string_view hosts) {
    if (l.hashed) return HashAction::keep;
    if (hosts.find_first_of("*?!") != std::string_view::npos) return HashAction::keep_wildcard;
    if (!l.bad_names.empty()) return HashAction::keep_bad_name;
    return HashAction::hash;
}

HashAction hash_action(const KnownHostsLine& line, std::string_view hosts) {
    if (line.status == twoway::LineStatus::blank || line.status == twoway::LineStatus::comment) return HashAction::keep;
    if (line.entry) {
        if (line.entry->revoked || line.entry->cert_authority) return HashAction::keep;
        return hash_action_for_names(*line.entry, hosts);
    }
    if (!line.unusable) return HashAction::keep;  // an @revoked key of another type: a marker line
    if (line.unusable->cert_authority) return HashAction::keep;
    if (line.unusable->kind == UnusableKind::other_key_type) return hash_action_for_names(*line.unusable, hosts);
    return HashAction::invalid;
}

// The hashed lines for a line's names (ssh-keygen: each name lower-cased and hashed with a new salt, the
// rest of the line after it), each ending in a newline.
std::string hashed_lines(const HostField& f, bool& hashed_any) {
    std::string out;
    std::string_view names = f.hosts;
    while (!names.empty()) {
        const auto comma = names.find(',');
        const std::string_view name = names.substr(0, comma);
        if (name.empty()) break;  // as ssh-keygen's strsep loop (twoway keeps such lines: an empty name is bad)
        out += twoway::format_hashed_host_name(twoway::hash_host_name(twoway::ascii_lower(name), system_rng()));
        out += ' ';
        out.append(f.rest);
        out += '\n';
        hashed_any = true;
        if (comma == std::string_view::npos) break;
        names.remove_prefix(comma + 1);
    }
    return out;
}

// The line as -H writes it, with a message on stderr where ssh-keygen has one (or twoway its own).
std::string hash_line(const std::string& path, const KnownHostsLine& line, std::string_view raw, bool quiet_wildcard,
                      bool& hashed_any, bool& invalid) {
    const HostField f = host_field(raw);
    const HashAction action = hash_action(line, f.hosts);
    const bool wildcard = f.hosts.find_first_of("*?!") != std::string_view::npos;
    switch (action) {
        case HashAction::keep:
            // ssh-keygen says it of a marker line with a wildcard too (a comment has no host field).
            if (!wildcard || quiet_wildcard || line.status == twoway::LineStatus::blank ||
                line.status == twoway::LineStatus::comment) {
                break;
            }
            [[fallthrough]];
        case HashAction::keep_wildcard:
            if (!quiet_wildcard) {
                std::fprintf(stderr, "%s:%zu: ignoring host name with wildcard: %.64s\n", path.c_str(), line.where.line,
                             printable(f.hosts).c_str());
            }
            break;
        case HashAction::keep_bad_name:
            std::fprintf(stderr, "%s:%zu: not hashing host names twoway cannot read: %.64s\n", path.c_str(),
                         line.where.line, printable(f.hosts).c_str());
            break;
        case HashAction::hash: return hashed_lines(f, hashed_any);
        case HashAction::invalid:
            std::fprintf(stderr, "%s:%zu: invalid line\n", path.c_str(), line.where.line);
            invalid = true;
            break;
    }
    return std::string(raw) + "\n";
}

// -f, or the user's known_hosts (-F, -R, -H).
std::string known_hosts_path(const Options& o) { return o.file ? *o.file : home_dir() + "/.twoway/known_hosts"; }

// A known_hosts file that -R or -H rewrites. A linked file stays a link (its target is edited, as twoway's
// own additions do), and the read and both writes happen under the lock twoway takes to add a host, so
// that none is lost. Replacing another user's file would hand it to us: it is left to its owner.
class KnownHostsRewrite {
public:
    explicit KnownHostsRewrite(std::string path)
        : path_(std::move(path)),
          target_(twoway::link_target(path_)),
          lock_(std::filesystem::path(target_).parent_path().string()) {}

    // Reads the file: 0, or the exit status once the message is out.
    [[nodiscard]] int read() {
        auto file = twoway::read_file(target_, max_trust_file_size);
        if (!file) return fail_path(path_, file.error());
        if (file->owner != static_cast<unsigned>(::geteuid())) {
            return fail_msg(path_ + ": owned by uid " + std::to_string(file->owner) +
                            ", not by you: not rewritten (run as its owner)");
        }
        file_ = std::move(*file);
        return 0;
    }
    // What read() read.
    [[nodiscard]] const std::string& text() const noexcept { return file_.text; }

    // Keeps what read() read as FILE.old and replaces the file with `contents` (same mode), saying so as
    // ssh-keygen does: 0, or the exit status once the message is out.
    [[nodiscard]] int replace(std::string_view contents) {
        const std::string old = target_ + ".old";
        if (auto s = twoway::write_file_atomic(old, file_.text, file_.mode); !s) return fail_path(old, s.error());
        if (auto s = twoway::write_file_atomic(target_, contents, file_.mode); !s) return fail_path(path_, s.error());
        std::printf("%s updated.\n", path_.c_str());
        std::printf("Original contents retained as %s.old\n", path_.c_str());
        return 0;
    }

private:
    std::string path_;    // as the user named it, for messages
    std::string target_;  // the file written (links followed)
    twoway::DirLock lock_;
    twoway::FileText file_;
};

}  // namespace

int hash_hosts(const Options& o) {
    const std::string path = known_hosts_path(o);
    KnownHostsRewrite file(path);
    if (const int status = file.read(); status != 0) return status;
    KnownHostsReader reader(path, file.text(), editing_limits());
    std::string out;
    out.reserve(file.text().size() * 2);
    bool hashed_any = false;
    bool invalid = false;
    while (auto line = reader.next()) {
        out += hash_line(path, *line, raw_line(file.text(), *line), false, hashed_any, invalid);
    }
    if (invalid) {
        // As ssh-keygen: a file with lines it cannot make sense of is left as it is.
        std::fprintf(stderr, "%s is not a valid known_hosts file.\n", path.c_str());
        std::fprintf(stderr, "Not replacing existing known_hosts file because of errors\n");
        return 1;
    }
    if (const int status = file.replace(out); status != 0) return status;
    if (hashed_any) {
        std::fprintf(stderr, "WARNING: %s.old contains unhashed entries\n", path.c_str());
        std::fprintf(stderr, "Delete this file to ensure privacy of hostnames\n");
    }
    return 0;
}

int find_host(const Options& o, const std::string& arg, bool hash) {
    const auto host = parse_host_port(arg);
    if (!host) return bad_host(arg);
    const std::string path = known_hosts_path(o);
    auto file = twoway::read_file(path, max_trust_file_size);
    if (!file) return fail_path(path, file.error());
    KnownHostsReader reader(path, file->text, editing_limits());
    bool found = false;
    while (auto line = reader.next()) {
        const std::string_view raw = raw_line(file->text, *line);
        if (line_is_for(*line, *host)) {
            // As ssh-keygen -F: a header naming the line (and its marker), then the line as it is.
            const bool ca = (line->unusable && line->unusable->cert_authority) ||
                            (line->entry && line->entry->cert_authority);
            std::printf("# Host %s found: line %zu %s\n", arg.c_str(), line->where.line,
                        ca ? "CA" : (line->entry && line->entry->revoked ? "REVOKED" : ""));
            if (hash) {
                // As ssh-keygen -H -F: the line as -H would write it (every name of it hashed).
                bool hashed_any = false, invalid = false;
                const std::string lines = hash_line(path, *line, raw, true, hashed_any, invalid);
                std::fwrite(lines.data(), 1, lines.size(), stdout);
            } else {
                std::printf("%.*s\n", static_cast<int>(raw.size()), raw.data());
            }
            found = true;
        } else if (line_may_be_for(*line, *host)) {
            // Not "found" (ssh-keygen's header and the exit status stay for lines that name the host):
            // a line twoway cannot check, shown so that the person can settle it (twoway refuses the
            // host while it is there). Escaped: it may hold binary junk.
            std::printf("# Host %s may be named by line %zu, which twoway cannot check: %s\n", arg.c_str(),
                        line->where.line, printable(line->reason).c_str());
            std::printf("%s\n", printable(raw).c_str());
        }
    }
    return found ? 0 : 1;
}

int remove_host(const Options& o, const std::string& arg) {
    const auto host = parse_host_port(arg);
    if (!host) return bad_host(arg);
    const std::string path = known_hosts_path(o);
    KnownHostsRewrite file(path);
    if (const int status = file.read(); status != 0) return status;
    KnownHostsReader reader(path, file.text(), editing_limits());
    std::vector<std::size_t> uncheckable;  // lines that may name the host and are kept
    std::string kept;
    kept.reserve(file.text().size());
    std::size_t removed = 0;
    while (auto line = reader.next()) {
        // Entries go, those whose patterns match too, and keys of other types (as with ssh-keygen);
        // @revoked and @cert-authority lines stay, as ssh-keygen -R keeps marked lines, and so do lines
        // twoway cannot check (hashed names, names it refuses, bad keys): it cannot tell they are for
        // this host, and says so, since they keep the host "uncertain". Hashed names are matched (and
        // their lines removed) as ssh-keygen -R matches them.
        const bool marked = (line->entry && (line->entry->revoked || line->entry->cert_authority)) ||
                            (line->unusable && line->unusable->cert_authority);
        if (line_is_for(*line, *host) && !marked) {
            std::printf("# Host %s found: line %zu\n", arg.c_str(), line->where.line);
            ++removed;
            continue;
        }
        if (line_may_be_for(*line, *host)) uncheckable.push_back(line->where.line);
        kept.append(raw_line(file.text(), *line));
        kept += '\n';
    }
    for (std::size_t n : uncheckable) {
        std::fprintf(stderr, "%s:%zu: may name %s but twoway cannot check it: kept (edit it, or use ssh-keygen -R)\n",
                     path.c_str(), n, arg.c_str());
    }
    if (removed == 0) {
        std::fprintf(stderr, "Host %s not found in %s\n", arg.c_str(), path.c_str());
        return 0;
    }
    return file.replace(kept);
}

}  // namespace twoway_keygen

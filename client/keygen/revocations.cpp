// twoway-keygen -k (write or update a KRL) and -Q (test keys against one; with -l, list it first), as
// ssh-keygen's do_gen_krl, do_check_krl and krl_dump (OpenSSH 9.2): the same files, output and messages (docs/KEYS.md, section 6). The
// spec reading is krl_spec.cpp; this file does the files and the clock.
#include <sys/stat.h>
#include <strings.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>

#include <twoway/certificate.hpp>
#include <twoway/error.hpp>
#include <twoway/file.hpp>
#include <twoway/key.hpp>
#include <twoway/key_file.hpp>
#include <twoway/krl.hpp>

#include "cert_spec.hpp"
#include "commands.hpp"
#include "krl_spec.hpp"
#include "support.hpp"

namespace twoway_keygen {

namespace {

constexpr std::size_t max_public_file = 1 << 20;
constexpr std::size_t max_spec_file = std::size_t{64} << 20;

// What sshkey_load_public finds in a file: a key or a certificate, and the comment.
struct LoadedKey {
    twoway::PublicKey key;
    std::optional<twoway::Certificate> certificate;
    std::string comment;  // the line's comment, or the path it was read from when it has none
};

// sshkey_try_load_public: the first line that reads as a key, skipping '#' and empty lines and lines
// that do not read; a private key's armour ends the search.
std::optional<LoadedKey> try_load_public(const std::string& path, std::error_code& ec) {
    auto file = twoway::read_file(path, max_public_file);
    if (!file) {
        ec = file.error();
        return std::nullopt;
    }
    const std::string_view text = file->text;
    for (std::size_t pos = 0; pos < text.size();) {
        std::size_t end = text.find('\n', pos);
        if (end == std::string_view::npos) end = text.size();
        std::string_view line = text.substr(pos, end - pos);
        pos = end + 1;
        if (line.empty() || line[0] == '#') continue;
        if (line.starts_with("-----BEGIN") || line == "SSH PRIVATE KEY FILE") break;
        if (line.ends_with('\r')) line.remove_suffix(1);
        const auto named = [&](std::string comment) { return comment.empty() ? path : comment; };
        if (auto plain = twoway::parse_public_key_line(line)) {
            return LoadedKey{plain->key, std::nullopt, named(plain->comment)};
        }
        if (auto cert = twoway::parse_certificate_line(line)) {
            return LoadedKey{cert->certificate.key, std::move(cert->certificate), named(cert->comment)};
        }
    }
    ec = make_error_code(twoway::errc::bad_key_format);
    return std::nullopt;
}

// sshkey_load_public: the file, then file.pub, then the public half of a private key file. Nothing
// after a message "<what> <path>: why" on stderr.
std::optional<LoadedKey> load_public(const std::string& path, const std::string& what) {
    std::error_code first;
    if (auto k = try_load_public(path, first)) return k;
    std::error_code pub_error;
    if (auto k = try_load_public(path + ".pub", pub_error)) return k;
    if (auto file = twoway::read_file(path, max_public_file); file && file->text.starts_with("-----BEGIN ")) {
        auto info = twoway::inspect_private_key(file->text);
        twoway::wipe(std::as_writable_bytes(std::span(file->text)));
        if (info) return LoadedKey{info->public_key, std::nullopt, info->comment.empty() ? path : info->comment};
        first = info.error();
    }
    std::string why = first == std::errc::no_such_file_or_directory ? std::strerror(ENOENT)
                      : first == twoway::errc::bad_key_format || first == twoway::errc::unsupported_key_type
                          ? "no Ed25519 key or certificate in it (twoway reads those only)"
                          : first.message();
    if (first == twoway::errc::invalid_argument) why = "not a regular file";
    fail_msg(what + " " + path + ": " + why);
    return std::nullopt;
}

// A KRL file, or nothing after ssh-keygen's message ("Unable to load KRL", "Invalid KRL file").
std::optional<twoway::Krl> load_krl(const std::string& path) {
    auto file = twoway::read_file(path, twoway::max_krl_size);
    if (!file) {
        const auto ec = file.error();
        fail_msg("Unable to load KRL " + path + ": " +
                 (ec == twoway::errc::invalid_argument     ? std::string("not a regular file")
                  : ec == twoway::errc::length_too_large ? std::string("larger than 32 MiB")
                                                         : ec.message()));
        return std::nullopt;
    }
    std::string why;
    auto krl = twoway::parse_krl(std::as_bytes(std::span(file->text)), &why);
    if (!krl) {
        fail_msg("Invalid KRL file " + path + ": " + (why.empty() ? krl.error().message() : why));
        return std::nullopt;
    }
    return std::move(*krl);
}

// krl_dump's "Generated at": local time, YYYYMMDDTHHMMSS, "<INVALID>" where the C library cannot say.
std::string krl_timestamp(std::uint64_t seconds) {
    const auto t = static_cast<std::time_t>(seconds);  // as ssh: a date past time_t wraps
    std::tm tm{};
    if (::localtime_r(&t, &tm) == nullptr) return "<INVALID>";
    char out[64] = {};
    std::strftime(out, sizeof out, "%Y%m%dT%H%M%S", &tm);
    return out;
}

std::string hex(std::span<const std::byte> b) {
    std::string out;
    for (std::byte x : b) {
        char two[3];
        std::snprintf(two, sizeof two, "%02x", static_cast<unsigned>(x));
        out += two;
    }
    return out;
}

// A key blob as krl_dump names it: "SHA256:... ssh-ed25519"'s two halves. twoway reads Ed25519 blobs only
// (the library fingerprints no other type), so another key type is said to be one, without fingerprint.
std::optional<std::string> ed25519_fingerprint(std::span<const std::byte> blob) {
    auto key = twoway::PublicKey::from_blob(blob);
    if (!key) return std::nullopt;
    return twoway::fingerprint_sha256(*key);
}

// ssh-keygen -Q -l: the KRL in the form of a KRL spec, as OpenSSH's krl_dump prints it (OpenSSH 8.3 and
// later): a header of comments, the plain keys, SHA-256 and SHA-1 hashes, then each CA's serials and key
// ids. The lists come sorted and merged from parse_krl, as from sshd's trees.
void print_krl(const twoway::Krl& krl) {
    std::string out = "# KRL version " + std::to_string(krl.version) + "\n";
    out += "# Generated at " + krl_timestamp(krl.generated_date) + "\n";
    if (!krl.comment.empty()) out += "# Comment: " + printable(krl.comment, true) + "\n";
    out += "\n";
    for (const auto& blob : krl.keys) {
        if (auto fp = ed25519_fingerprint(blob)) {
            out += "hash: " + *fp + " # " + std::string(twoway::ssh_ed25519_name) + "\n";
        } else {
            out += "# a key of another type than Ed25519 (twoway-keygen shows Ed25519 keys only)\n";
        }
    }
    for (const auto& h : krl.sha256) out += "hash: SHA256:" + hex(h) + "\n";
    // PROTOCOL.krl has no spec keyword for a raw SHA-1 hash: ssh-keygen prints them as comments.
    for (const auto& h : krl.sha1) out += "# hash SHA1:" + hex(h) + "\n";
    for (const auto& c : krl.certificates) {
        out += "\n";
        if (c.ca_key.empty()) {
            out += "# Wildcard CA\n";
        } else if (auto fp = ed25519_fingerprint(c.ca_key)) {
            out += "# CA key " + std::string(twoway::ssh_ed25519_name) + " " + *fp + "\n";
        } else {
            out += "# CA key of another type than Ed25519 (twoway-keygen shows Ed25519 keys only)\n";
        }
        for (const auto& r : c.serials) {
            out += "serial: " + std::to_string(r.first);
            if (r.last != r.first) out += "-" + std::to_string(r.last);
            out += "\n";
        }
        for (const auto& id : c.key_ids) out += "id: " + printable(id, true) + "\n";
    }
    std::fputs(out.c_str(), stdout);
}

}  // namespace

int generate_krl(const Options& o, const KrlRequest& r) {
    if (!o.file || o.file->empty()) return fail_msg("KRL generation requires an output file");
    const std::string& path = *o.file;
    struct stat st {};
    const bool exists = ::stat(path.c_str(), &st) == 0;
    if (!exists && errno != ENOENT) return fail_msg("Cannot access KRL \"" + path + "\": " + std::strerror(errno));
    if (!exists && r.update) return fail_msg("KRL \"" + path + "\" does not exist");

    KrlSpecCa ca;
    if (r.ca_path) {
        if (::strcasecmp(r.ca_path->c_str(), "none") == 0) {
            ca.wild = true;
        } else {
            auto loaded = load_public(*r.ca_path, "Cannot load CA public key");
            if (!loaded) return 1;
            if (loaded->certificate) {
                return fail_msg("Cannot load CA public key " + *r.ca_path + ": a certificate, not a CA key");
            }
            ca.ca = loaded->key;
        }
    }
    std::uint64_t version = 0;
    if (r.version) {
        const auto v = parse_serial(*r.version);  // ssh-keygen reads -z the same way for both uses
        if (!v) return fail_msg(v.error);
        version = v.value->first;
    }

    twoway::Krl krl;
    if (r.update) {
        auto old = load_krl(path);
        if (!old) return 1;
        krl = std::move(*old);  // its generation date is kept, as ssh-keygen -u keeps it
    }
    if (version != 0) krl.version = version;
    if (o.comment) {
        if (o.comment->find('\0') != std::string::npos) return fail_msg("the KRL comment must not hold a NUL");
        krl.comment = *o.comment;
    }

    for (const std::string& spec : r.files) {
        std::string name = spec;
        std::string text;
        if (spec == "-") {
            name = "(standard input)";
            auto in = read_stdin(max_spec_file);
            if (!in) return fail_msg("fopen (standard input): cannot read standard input, or more than 64 MiB");
            text = std::move(*in);
        } else {
            auto file = twoway::read_file(spec, max_spec_file);
            if (!file) {
                const auto ec = file.error();
                return fail_msg("fopen " + spec + ": " +
                                (ec == twoway::errc::invalid_argument   ? std::string("not a regular file")
                                 : ec == twoway::errc::length_too_large ? std::string("larger than 64 MiB")
                                                                        : ec.message()));
            }
            text = std::move(file->text);
        }
        if (!o.quiet) std::printf("Revoking from %s\n", name.c_str());
        if (auto error = update_krl_from_spec(krl, name, text, ca); !error.empty()) {
            std::fflush(stdout);
            return fail_msg(error);
        }
    }

    if (krl.generated_date == 0) krl.generated_date = static_cast<std::uint64_t>(std::time(nullptr));
    const auto bytes = twoway::write_krl(krl);
    // Replaced as a whole (never a torn KRL for a daemon reading it meanwhile); a link's target is
    // replaced and an existing file keeps its mode, as ssh-keygen's rewrite in place would.
    const std::string target = twoway::link_target(path);
    const unsigned mode = exists ? static_cast<unsigned>(st.st_mode & 07777) : 0644u;
    const std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    if (auto w = twoway::write_file_atomic(target, text, mode); !w) {
        return fail_msg("write " + path + ": " + w.error().message());
    }
    return 0;
}

int check_krl(const Options& o, const std::vector<std::string>& files, bool list) {
    // ssh-keygen's exit status: 0 none revoked, 1 some revoked, 255 an error (as its fatal()).
    constexpr int error = 255;
    if (!o.file || o.file->empty()) {
        fail_msg("KRL checking requires an input file");
        return error;
    }
    const auto krl = load_krl(*o.file);
    if (!krl) return error;
    if (list) print_krl(*krl);
    int status = 0;
    for (const std::string& path : files) {
        const auto loaded = load_public(path, "Cannot load public key");
        if (!loaded) return error;
        const bool revoked = loaded->certificate ? twoway::krl_revokes(*krl, *loaded->certificate)
                                                 : twoway::krl_revokes(*krl, loaded->key);
        const std::string comment = escape_controls(loaded->comment);
        std::printf("%s%s%s%s: %s\n", path.c_str(), comment.empty() ? "" : " (", comment.c_str(),
                    comment.empty() ? "" : ")", revoked ? "REVOKED" : "ok");
        if (revoked) status = 1;
    }
    return status;
}

}  // namespace twoway_keygen

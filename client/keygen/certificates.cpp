// twoway-keygen -s (sign certificates) and -L (print them), as ssh-keygen does: the same files, the
// same output, the same messages (docs/KEYS.md, section 5). The readings of -V, -z, -n and -O and
// the text of -L are in cert_spec.cpp; this file does the files, the clock and the CA key.
#include <cstdio>
#include <ctime>
#include <string_view>

#include <twoway/certificate.hpp>
#include <twoway/error.hpp>
#include <twoway/file.hpp>
#include <twoway/key.hpp>
#include <twoway/key_file.hpp>

#include "cert_spec.hpp"
#include "commands.hpp"
#include "support.hpp"

namespace twoway_keygen {

using twoway::errc;

namespace {

constexpr std::size_t max_public_file = 1 << 20;

// The key to certify and its comment, from a public key file (its first key line) or, as ssh-keygen
// takes one too, a private key file (its public half, no passphrase needed).
struct KeyToSign {
    twoway::PublicKey key;
    std::string comment;
};

std::optional<KeyToSign> read_key_to_sign(const std::string& path) {
    auto file = twoway::read_file(path, max_public_file);
    if (!file) {
        fail_path(path, file.error());
        return std::nullopt;
    }
    const std::string_view text = file->text;
    if (text.starts_with("-----BEGIN ")) {
        auto info = twoway::inspect_private_key(text);
        twoway::wipe(std::as_writable_bytes(std::span(file->text)));
        if (!info) {
            fail_path(path, info.error());
            return std::nullopt;
        }
        return KeyToSign{info->public_key, info->comment};
    }
    for (std::size_t pos = 0; pos < text.size();) {
        std::size_t end = text.find('\n', pos);
        if (end == std::string_view::npos) end = text.size();
        const std::string_view line = text.substr(pos, end - pos);
        pos = end + 1;
        const std::size_t start = line.find_first_not_of(" \t\r");
        if (start == std::string_view::npos || line[start] == '#') continue;
        auto parsed = twoway::parse_public_key_line(line);
        if (parsed) return KeyToSign{parsed->key, parsed->comment};
        if (twoway::parse_certificate_line(line)) {
            fail_msg(path + ": a certificate cannot be certified (sign the plain public key)");
        } else if (parsed.error() == errc::unsupported_key_type) {
            fail_msg(path + ": only Ed25519 keys can be certified (twoway writes ssh-ed25519-cert-v01@openssh.com certificates)");
        } else {
            fail_path(path, parsed.error());
        }
        return std::nullopt;
    }
    fail_path(path, make_error_code(errc::bad_key_format));
    return std::nullopt;
}

// The CA's private key, or nothing after saying why: it must be an Ed25519 key.
std::optional<twoway::PrivateKey> load_ca(const Options& o, const std::string& path) {
    auto ca = load_key(o, path);
    if (ca) return std::move(ca->key);
    if (ca.error() == errc::unsupported_key_type) {
        fail_msg(path + ": the CA key must be an Ed25519 key (twoway signs with Ed25519 only)");
    } else if (ca.error() == errc::bad_key_format) {
        fail_msg(path + ": not a private key file twoway reads (the CA key must be an Ed25519 private key, "
                        "twoway's or OpenSSH's)");
    } else {
        fail_path(path, ca.error());
    }
    return std::nullopt;
}

// "x.pub" -> "x-cert.pub", "x" -> "x-cert.pub", as ssh-keygen names it.
std::string certificate_path(std::string key_path) {
    if (key_path.ends_with(".pub")) key_path.resize(key_path.size() - 4);
    return key_path + "-cert.pub";
}

}  // namespace

// Everything on standard input, up to max bytes (one more says it is too large).
std::optional<std::string> read_stdin(std::size_t max) {
    std::string out;
    char buf[4096];
    std::size_t n = 0;
    while ((n = std::fread(buf, 1, sizeof buf, stdin)) > 0) {
        out.append(buf, n);
        if (out.size() > max) return std::nullopt;
    }
    if (std::ferror(stdin)) return std::nullopt;
    return out;
}


int sign_certificates(const Options& o, const CertificateRequest& r) {
    if (!r.key_id) return fail_msg("Must specify key id (-I) when certifying");
    if (r.keys.empty()) return fail_msg("-s needs the public key files to certify (twoway-keygen -s ca -I id -n names key.pub)");
    // Without -n ssh-keygen issues a certificate valid for every principal; twoway refuses to write one
    // (and refuses to accept one: CVE-2024-7594's fail-open).
    if (!r.principals) {
        return fail_msg("no principals given (-n name[,name...]): twoway does not issue certificates valid for any "
                        "user or host");
    }
    const auto principals = parse_principals(*r.principals);
    if (!principals) return fail_msg(principals.error);
    const std::int64_t now = static_cast<std::int64_t>(std::time(nullptr));
    Validity validity;
    if (r.validity) {
        const auto v = parse_validity(*r.validity, now);
        if (!v) return fail_msg(v.error);
        validity = *v.value;
    }
    Serial serial;
    if (r.serial) {
        const auto s = parse_serial(*r.serial);
        if (!s) return fail_msg(s.error);
        serial = *s.value;
    }
    const auto options = parse_certificate_options(r.options, r.host);
    if (!options) return fail_msg(options.error);

    const auto ca = load_ca(o, r.ca_path);
    if (!ca) return 1;
    std::uint64_t number = serial.first;
    for (const std::string& key_path : r.keys) {
        const auto key = read_key_to_sign(key_path);
        if (!key) return 1;
        twoway::CertificateFields fields;
        fields.key = key->key;
        fields.serial = number;
        fields.type = r.host ? twoway::CertificateType::host : twoway::CertificateType::user;
        fields.key_id = *r.key_id;
        fields.principals = *principals.value;
        fields.valid_after = validity.after;
        fields.valid_before = validity.before;
        fields.critical_options = options.value->critical;
        fields.extensions = options.value->extensions;
        auto cert = twoway::sign_certificate(std::move(fields), *ca, twoway::system_rng());
        if (!cert) return fail_msg(key_path + ": cannot sign: " + cert.error().message());
        const std::string out = certificate_path(key_path);
        if (!may_write(out)) return 1;
        if (auto st = twoway::write_key_file(out, twoway::format_certificate_line(*cert, key->comment) + "\n", 0644); !st) {
            return fail_path(out, st.error());
        }
        if (!o.quiet) {
            std::fprintf(stderr, "Signed %s key %s: id \"%s\" serial %llu for %s valid %s\n",
                         std::string(twoway::certificate_type_name(cert->type)).c_str(), out.c_str(),
                         escape_controls(cert->key_id).c_str(), static_cast<unsigned long long>(cert->serial),
                         escape_controls(*r.principals).c_str(),
                         format_validity(cert->valid_after, cert->valid_before).c_str());
        }
        if (serial.increment) ++number;
    }
    return 0;
}

int show_certificates(const Options& o) {
    if (!o.file) return fail_msg("-L needs -f FILE: the certificate file to print (- for standard input)");
    const bool from_stdin = *o.file == "-";
    const std::string name = from_stdin ? std::string("(stdin)") : *o.file;
    std::string text;
    if (from_stdin) {
        auto in = read_stdin(max_public_file);
        if (!in) return fail_msg("(stdin): cannot read standard input, or more than 1 MiB");
        text = std::move(*in);
    } else {
        auto file = twoway::read_file(*o.file, max_public_file);
        if (!file) return fail_path(*o.file, file.error());
        text = std::move(file->text);
    }
    // As ssh-keygen -L: every line but a '#' line is a certificate or a complaint (a blank line too).
    bool shown = false;
    std::size_t line_no = 0;
    for (std::size_t pos = 0; pos < text.size();) {
        std::size_t end = text.find('\n', pos);
        if (end == std::string::npos) end = text.size();
        const std::string_view line = std::string_view(text).substr(pos, end - pos);
        pos = end + 1;
        ++line_no;
        const std::size_t start = line.find_first_not_of(" \t");
        if (start != std::string_view::npos && line[start] == '#') continue;
        const std::string where = name + ":" + std::to_string(line_no);
        std::string why;
        auto cert = twoway::parse_certificate_line(line, &why);
        if (!cert) {
            if (cert.error() == errc::bad_key_format) {
                auto plain = twoway::parse_public_key_line(line);
                if (plain || plain.error() == errc::unsupported_key_type) {
                    std::fprintf(stderr, "%s is not a certificate\n", escape_controls(where).c_str());
                    continue;
                }
                why = "invalid format";
            } else if (cert.error() == errc::bad_signature) {
                why = "incorrect signature";  // ssh-keygen's words
            }
            std::fprintf(stderr, "%s: invalid key: %s\n", escape_controls(where).c_str(), escape_controls(why).c_str());
            continue;
        }
        const auto description = describe_certificate(cert->certificate);
        if (!description) return fail_msg(where + ": option corrupt: extra data at end");
        // ssh-keygen prints the path as it is; only control characters are escaped here.
        std::printf("%s:\n", escape_controls(!from_stdin && line_no == 1 ? name : where).c_str());
        std::fputs(description->c_str(), stdout);
        shown = true;
    }
    return shown ? 0 : 1;
}

}  // namespace twoway_keygen

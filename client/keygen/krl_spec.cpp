// ssh-keygen.c's update_krl_from_file, read line by line (see krl_spec.hpp).
#include "krl_spec.hpp"

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <strings.h>

#include <twoway/certificate.hpp>
#include <twoway/error.hpp>

namespace twoway_keygen {

namespace {

bool starts_with_nocase(std::string_view s, std::string_view prefix) {
    return s.size() >= prefix.size() && ::strncasecmp(s.data(), prefix.data(), prefix.size()) == 0;
}

std::string_view skip_blanks(std::string_view s) {
    const auto at = s.find_first_not_of(" \t");
    return at == std::string_view::npos ? std::string_view{} : s.substr(at);
}

// ssh-keygen's trimming: leading blanks, everything from the first '#', then trailing blanks.
std::string_view trim_line(std::string_view line) {
    line = skip_blanks(line);
    if (const auto hash = line.find('#'); hash != std::string_view::npos) line = line.substr(0, hash);
    const auto end = line.find_last_not_of(" \t");
    return end == std::string_view::npos ? std::string_view{} : line.substr(0, end + 1);
}

// strtoull(s, &end, 0) as ssh-keygen calls it, on a NUL-terminated copy: the same reading of "0x", a
// leading 0, signs and blanks.
struct Number {
    unsigned long long value = 0;
    std::size_t used = 0;  // characters read
    bool range = false;    // ERANGE
};
Number read_number(const std::string& s) {
    errno = 0;
    char* end = nullptr;
    const unsigned long long v = std::strtoull(s.c_str(), &end, 0);
    return Number{v, static_cast<std::size_t>(end - s.c_str()), errno == ERANGE && v == ULLONG_MAX};
}

// A key line as sshkey_read takes it: a plain key, or a certificate (whose key is `key`).
struct SpecKey {
    twoway::PublicKey key;
    std::optional<twoway::Certificate> certificate;
};

std::optional<SpecKey> read_key(std::string_view text, std::string& why) {
    auto plain = twoway::parse_public_key_line(text);
    if (plain) return SpecKey{plain->key, std::nullopt};
    std::string reason;
    auto cert = twoway::parse_certificate_line(text, &reason);
    if (cert) return SpecKey{cert->certificate.key, std::move(cert->certificate)};
    if (cert.error() != twoway::errc::bad_key_format) {
        why = reason.empty() ? cert.error().message() : reason;
    } else if (plain.error() == twoway::errc::unsupported_key_type) {
        const auto type = text.substr(0, text.find_first_of(" \t"));
        why = std::string(type.substr(0, 64)) +
              ": twoway reads Ed25519 keys and certificates only (revoke this key with ssh-keygen -k)";
    } else {
        why = "invalid format";
    }
    return std::nullopt;
}

}  // namespace

std::string update_krl_from_spec(twoway::Krl& krl, const std::string& path, std::string_view text,
                                 const KrlSpecCa& ca) {
    const std::vector<std::byte> ca_blob = ca.ca ? ca.ca->blob() : std::vector<std::byte>{};
    std::size_t line_no = 0;
    for (std::size_t pos = 0; pos < text.size();) {
        std::size_t end = text.find('\n', pos);
        if (end == std::string_view::npos) end = text.size();
        std::string_view cp = trim_line(text.substr(pos, end - pos));
        pos = end + 1;
        ++line_no;
        if (cp.empty()) continue;
        const std::string at = path + ":" + std::to_string(line_no);
        if (starts_with_nocase(cp, "serial:")) {
            if (!ca.ca && !ca.wild) return "revoking certificates by serial number requires specification of a CA key";
            const std::string spec(skip_blanks(cp.substr(7)));
            const Number first = read_number(spec);
            const std::string after = spec.substr(first.used);
            if (spec.empty() || (!after.empty() && after[0] != '-')) return at + ": invalid serial \"" + spec + "\"";
            if (first.range) return at + ": serial out of range";
            unsigned long long last = first.value;
            if (!after.empty()) {
                const std::string second = after.substr(1);
                const Number n = read_number(second);
                if (second.empty() || n.used != second.size()) return at + ": invalid serial \"" + second + "\"";
                if (n.range) return at + ": serial out of range";
                if (n.value <= first.value) {
                    return at + ": invalid serial range " + std::to_string(first.value) + ":" + std::to_string(n.value);
                }
                last = n.value;
            }
            if (!krl.revoke_serials(ca_blob, first.value, last)) {
                return at + ": invalid serial 0 (a certificate's serial 0 means it has none)";
            }
        } else if (starts_with_nocase(cp, "id:")) {
            if (!ca.ca && !ca.wild) return "revoking certificates by key ID requires specification of a CA key";
            krl.revoke_key_id(ca_blob, skip_blanks(cp.substr(3)));
        } else if (starts_with_nocase(cp, "hash:")) {
            const std::string_view fp = skip_blanks(cp.substr(5));
            auto hash = twoway::parse_sha256_fingerprint(fp);
            if (!hash && hash.error() == twoway::errc::bad_key_format) return at + ": unsupported hash algorithm";
            if (!hash) return at + ": decode hash failed: not the base64 of a SHA-256 hash";
            krl.revoke_sha256(*hash);
        } else {
            enum { plain, explicit_key, sha1, sha256 } how = plain;
            if (starts_with_nocase(cp, "key:")) {
                cp = skip_blanks(cp.substr(4));
                how = explicit_key;
            } else if (starts_with_nocase(cp, "sha1:")) {
                cp = skip_blanks(cp.substr(5));
                how = sha1;
            } else if (starts_with_nocase(cp, "sha256:")) {
                cp = skip_blanks(cp.substr(7));
                how = sha256;
            }
            std::string why;
            const auto key = read_key(cp, why);
            if (!key) return at + ": invalid key: " + why;
            switch (how) {
            case explicit_key: krl.revoke_key(key->key); break;  // a certificate's plain key, as ssh-keygen
            case sha1: krl.revoke_key_sha1(key->key); break;
            case sha256: krl.revoke_key_sha256(key->key); break;
            case plain:
                // ssh-keygen 9.2 (ssh_krl_revoke_key): a certificate by its serial or key id, a plain key by
                // its blob (as key: would).
                if (key->certificate) {
                    krl.revoke_certificate(*key->certificate);
                } else {
                    krl.revoke_key(key->key);
                }
                break;
            }
        }
    }
    return {};
}

}  // namespace twoway_keygen

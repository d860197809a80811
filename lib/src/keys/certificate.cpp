// OpenSSH certificates for Ed25519 keys (PROTOCOL.certkeys). The blob:
//
//   string "ssh-ed25519-cert-v01@openssh.com" | string nonce | string pk | uint64 serial | uint32 type |
//   string key id | string valid principals | uint64 valid after | uint64 valid before |
//   string critical options | string extensions | string reserved | string signature key | string signature
//
// The signature covers every byte before the signature field. Parsing reads the whole structure with the
// bounded Reader into locals, verifies the signature over the exact bytes read, and only then builds the
// Certificate the caller sees.
#include <twoway/certificate.hpp>

#include <algorithm>
#include <set>

#include "crypto/crypto.hpp"
#include "keys/key_line.hpp"
#include "keys/signature_blob.hpp"
#include "wire/reader.hpp"
#include "wire/writer.hpp"

namespace twoway {

namespace {

Failure refuse(errc e, std::string* why, std::string_view text) {
    if (why != nullptr) *why = text;
    return fail(e);
}

bool has_nul(std::string_view s) { return s.find('\0') != std::string_view::npos; }

std::vector<std::byte> copy_bytes(wire::Bytes b) { return {b.begin(), b.end()}; }

// A list of (string name, string data) pairs filling `list` exactly; a name may not be empty or hold a
// NUL (OpenSSH reads names as C strings). Nothing on a broken list.
std::optional<std::vector<CertificateOption>> parse_options(wire::Bytes list) {
    std::vector<CertificateOption> out;
    wire::Reader r(list);
    while (r.ok() && !r.empty()) {
        const std::string_view name = wire::as_text(r.string(list.size()));
        const wire::Bytes data = r.string(list.size());
        if (!r.ok() || name.empty() || has_nul(name)) return std::nullopt;
        out.push_back(CertificateOption{std::string(name), copy_bytes(data)});
    }
    if (!r.expect_end()) return std::nullopt;
    return out;
}

void write_options(wire::Writer& w, const std::vector<CertificateOption>& options) {
    wire::Writer list;
    for (const auto& o : options) list.string(o.name).string(o.data);
    w.string(list.view());
}

errc reader_errc(const wire::Reader& r) { return static_cast<errc>(r.error().value()); }

// The type name a key blob starts with ("" when it has none).
std::string_view blob_type(wire::Bytes blob) {
    wire::Reader r(blob);
    const std::string_view type = wire::as_text(r.string(64));
    return r.ok() ? type : std::string_view{};
}

}  // namespace

CertificateOption CertificateOption::flag(std::string_view name) { return {std::string(name), {}}; }

CertificateOption CertificateOption::text(std::string_view name, std::string_view value) {
    wire::Writer w;
    w.string(value);
    return {std::string(name), w.take()};
}

std::optional<std::string> CertificateOption::text_value() const {
    wire::Reader r(data);
    const std::string_view value = wire::as_text(r.string(data.size()));
    if (!r.expect_end()) return std::nullopt;
    return std::string(value);
}

std::string_view certificate_type_name(CertificateType type) noexcept {
    return type == CertificateType::host ? "host" : "user";
}

Result<Certificate> parse_certificate(std::span<const std::byte> blob, std::string* why) {
    if (blob.size() > max_certificate_size) {
        return refuse(errc::length_too_large, why, "certificate larger than 8192 bytes");
    }
    wire::Reader r(blob);
    const std::string_view type = wire::as_text(r.string(blob.size()));
    if (!r.ok()) return refuse(reader_errc(r), why, "not a certificate");
    if (type != ssh_ed25519_cert_name) {
        return refuse(errc::unsupported_key_type, why,
                      "not an Ed25519 certificate (" + std::string(type.substr(0, 64)) + ")");
    }
    Certificate c;
    const wire::Bytes nonce = r.string(blob.size());
    const wire::Bytes pk = r.string(blob.size());
    c.serial = r.u64();
    const std::uint32_t kind = r.u32();
    const std::string_view key_id = wire::as_text(r.string(blob.size()));
    const wire::Bytes principals = r.string(blob.size());
    c.valid_after = r.u64();
    c.valid_before = r.u64();
    const wire::Bytes critical = r.string(blob.size());
    const wire::Bytes extensions = r.string(blob.size());
    const wire::Bytes reserved = r.string(blob.size());
    const wire::Bytes ca = r.string(blob.size());
    const std::size_t signed_size = r.consumed();
    const wire::Bytes signature = r.string(blob.size());
    if (!r.expect_end()) {
        return refuse(reader_errc(r), why, "certificate structure broken: " + r.error().message());
    }

    // The CA key first: the signature is checked before any field is believed.
    auto ca_key = PublicKey::from_blob(ca);
    if (!ca_key) {
        if (blob_type(ca).ends_with("-cert-v01@openssh.com")) {
            return refuse(errc::unsupported_key_type, why, "the CA key is itself a certificate (chained certificates are refused)");
        }
        return refuse(ca_key.error() == errc::unsupported_key_type ? errc::unsupported_key_type : errc::malformed, why,
                      "the CA key is not an Ed25519 key");
    }
    auto sig = keys::parse_ed25519_signature_blob(signature);
    if (!sig) {
        if (const auto sig_type = blob_type(signature); !sig_type.empty() && sig_type != ssh_ed25519_name) {
            return refuse(errc::unsupported_key_type, why, "the CA's signature is not an Ed25519 signature");
        }
        return refuse(errc::malformed, why, "the CA's signature blob is malformed");
    }
    if (!ca_key->verify(blob.first(signed_size), *sig)) {
        return refuse(errc::bad_signature, why, "the CA's signature does not verify");
    }

    // Signed: now the fields mean something. They must still be well formed.
    if (pk.size() != 32) return refuse(errc::malformed, why, "certified key is not 32 bytes");
    PublicKey::Raw raw{};
    std::copy(pk.begin(), pk.end(), raw.begin());
    c.key = PublicKey(raw);
    if (kind != static_cast<std::uint32_t>(CertificateType::user) && kind != static_cast<std::uint32_t>(CertificateType::host)) {
        return refuse(errc::malformed, why, "unknown certificate type " + std::to_string(kind));
    }
    c.type = static_cast<CertificateType>(kind);
    if (has_nul(key_id)) return refuse(errc::malformed, why, "key id holds a NUL byte");
    c.key_id = std::string(key_id);
    wire::Reader pr(principals);
    while (pr.ok() && !pr.empty()) {
        const std::string_view p = wire::as_text(pr.string(principals.size()));
        if (!pr.ok()) break;
        if (has_nul(p)) return refuse(errc::malformed, why, "a principal holds a NUL byte");
        if (c.principals.size() == max_certificate_principals) {
            return refuse(errc::malformed, why, "more than 256 principals");
        }
        c.principals.emplace_back(p);
    }
    if (!pr.expect_end()) return refuse(errc::malformed, why, "principals list broken");
    auto crit = parse_options(critical);
    if (!crit) return refuse(errc::malformed, why, "critical options list broken");
    std::set<std::string_view> seen;
    for (const auto& o : *crit) {
        if (!seen.insert(o.name).second) return refuse(errc::malformed, why, "critical option " + o.name + " appears twice");
    }
    auto exts = parse_options(extensions);
    if (!exts) return refuse(errc::malformed, why, "extensions list broken");
    c.critical_options = std::move(*crit);
    c.extensions = std::move(*exts);
    c.nonce = copy_bytes(nonce);
    c.reserved = copy_bytes(reserved);
    c.signature_key = *ca_key;
    c.blob = copy_bytes(blob);
    return c;
}

Result<Certificate> sign_certificate(CertificateFields fields, const PrivateKey& ca, Rng& rng) {
    const auto by_name = [](const CertificateOption& a, const CertificateOption& b) { return a.name < b.name; };
    for (auto* list : {&fields.critical_options, &fields.extensions}) {
        std::stable_sort(list->begin(), list->end(), by_name);
        for (std::size_t i = 0; i < list->size(); ++i) {
            const auto& name = (*list)[i].name;
            if (name.empty() || has_nul(name) || (i > 0 && (*list)[i - 1].name == name)) return fail(errc::invalid_argument);
        }
    }
    if (fields.principals.size() > max_certificate_principals || has_nul(fields.key_id)) return fail(errc::invalid_argument);
    for (const auto& p : fields.principals) {
        if (has_nul(p)) return fail(errc::invalid_argument);
    }
    if (fields.type != CertificateType::user && fields.type != CertificateType::host) return fail(errc::invalid_argument);
    if (fields.nonce.empty()) {
        fields.nonce.resize(32);
        rng.fill(fields.nonce);
    }
    wire::Writer w;
    w.string(ssh_ed25519_cert_name).string(fields.nonce).string(fields.key.raw());
    w.u64(fields.serial).u32(static_cast<std::uint32_t>(fields.type)).string(fields.key_id);
    wire::Writer principals;
    for (const auto& p : fields.principals) principals.string(p);
    w.string(principals.view());
    w.u64(fields.valid_after).u64(fields.valid_before);
    write_options(w, fields.critical_options);
    write_options(w, fields.extensions);
    w.string(fields.reserved).string(ca.public_key().blob());
    const auto sig = ca.sign(w.view());
    w.string(keys::ed25519_signature_blob(sig));
    if (w.size() > max_certificate_size) return fail(errc::invalid_argument);
    Certificate c;
    static_cast<CertificateFields&>(c) = std::move(fields);
    c.signature_key = ca.public_key();
    c.blob = w.take();
    return c;
}

Result<CertificateLine> parse_certificate_line(std::string_view line, std::string* why) {
    const auto parts = keys::split_key_line(line);
    if (!parts || parts->type != ssh_ed25519_cert_name) {
        return refuse(errc::bad_key_format, why, "not an ssh-ed25519-cert-v01@openssh.com line");
    }
    // 8192 bytes of blob are at most 10924 base64 characters.
    if (parts->base64.size() > (max_certificate_size + 2) / 3 * 4) {
        return refuse(errc::length_too_large, why, "certificate larger than 8192 bytes");
    }
    auto blob = crypto::base64_decode(parts->base64);
    if (!blob) return refuse(errc::malformed, why, "bad base64");
    auto cert = parse_certificate(*blob, why);
    if (!cert) return fail(cert.error());
    return CertificateLine{std::move(*cert), std::string(parts->comment)};
}

std::string format_certificate_line(const Certificate& certificate, std::string_view comment) {
    std::string out(ssh_ed25519_cert_name);
    out += ' ';
    out += crypto::base64_encode(certificate.blob);
    if (!comment.empty()) {
        out += ' ';
        out += comment;
    }
    return out;
}

}  // namespace twoway

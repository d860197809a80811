// OpenSSH key revocation lists (<twoway/krl.hpp>; OpenSSH's PROTOCOL.krl): the reader and the lookups.
//
//   byte[8] "SSHKRL\n\0" | uint32 format version (1) | uint64 krl version | uint64 generated date |
//   uint64 flags | string reserved | string comment | { byte section type | string section data }*
//
// Every section is read as a sub-reader that must be used up exactly, as sshd requires. Serial lists,
// ranges and bitmaps are collected as ranges and merged once at the end (one sort, not one insertion
// per serial, so that a large KRL costs n log n); every revocation read counts against max_krl_entries
// before it is stored.
#include <twoway/krl.hpp>

#include <algorithm>
#include <iterator>
#include <map>
#include <string>

#include "crypto/crypto.hpp"
#include "trust/krl_format.hpp"
#include "wire/reader.hpp"

namespace twoway {

namespace {

using namespace krl_format;
constexpr std::uint32_t krl_format_version = format_version;
// OpenSSH reads a bitmap as an mpint of at most 16384 bits (SSHBUF_MAX_BIGNUM), plus a sign byte.

// A failed sub-reader's error, passed on to the reader it was cut from.
void pass_on(const wire::Reader& from, wire::Reader& to) {
    if (!from.ok()) to.fail(static_cast<errc>(from.error().value()));
}

bool has_nul(std::string_view s) { return s.find('\0') != std::string_view::npos; }

std::string fingerprint_of_blob(std::span<const std::byte> blob) {
    return "SHA256:" + crypto::base64_encode(crypto::sha256(blob), /*padded=*/false);
}

template <class T>
void sort_unique(std::vector<T>& v) {
    std::sort(v.begin(), v.end());
    v.erase(std::unique(v.begin(), v.end()), v.end());
}

// Sorted, disjoint, not adjacent: the canonical set ssh-keygen keeps and writes.
void merge_ranges(std::vector<KrlSerialRange>& ranges) {
    std::sort(ranges.begin(), ranges.end(),
              [](const KrlSerialRange& a, const KrlSerialRange& b) { return a.first < b.first; });
    std::size_t out = 0;
    for (std::size_t i = 0; i < ranges.size(); ++i) {
        if (out > 0 && (ranges[out - 1].last == UINT64_MAX || ranges[i].first <= ranges[out - 1].last + 1)) {
            ranges[out - 1].last = std::max(ranges[out - 1].last, ranges[i].last);
        } else {
            ranges[out++] = ranges[i];
        }
    }
    ranges.resize(out);
}

KrlCertificates& section_for(Krl& krl, std::span<const std::byte> ca_key) {
    for (auto& c : krl.certificates) {
        if (std::equal(c.ca_key.begin(), c.ca_key.end(), ca_key.begin(), ca_key.end())) return c;
    }
    krl.certificates.push_back(KrlCertificates{{ca_key.begin(), ca_key.end()}, {}, {}});
    return krl.certificates.back();
}

// One parse: the KRL being built, the entry budget, and the first reason anything was refused.
class Parser {
public:
    explicit Parser(std::string* why) : why_(why) {}

    bool refuse(wire::Reader& r, errc e, std::string_view reason) {
        if (r.ok() && why_ != nullptr) *why_ = reason;
        r.fail(e);
        return false;
    }
    bool count(wire::Reader& r, std::size_t n = 1) {
        if (n > max_krl_entries - entries_) return refuse(r, errc::length_too_large, "KRL holds too many revocations");
        entries_ += n;
        return true;
    }

    bool section(wire::Reader& in, Krl& krl, std::uint8_t type) {
        wire::Reader r = in.sub(max_krl_size);
        if (!in.ok()) return false;
        switch (type) {
        case section_certificates: certificates(r, krl); break;
        case section_explicit_key:
            while (r.ok() && !r.empty()) {
                auto blob = r.string(max_krl_size);
                if (r.ok() && count(r)) krl.keys.emplace_back(blob.begin(), blob.end());
            }
            break;
        case section_sha1: hashes(r, krl.sha1, "SHA-1"); break;
        case section_sha256: hashes(r, krl.sha256, "SHA-256"); break;
        case section_signature:
            return refuse(in, errc::malformed, "KRL is signed: KRL signatures are not supported (sign it with ssh-keygen -Y sign)");
        case section_extension: extension(r); break;
        default: return refuse(in, errc::malformed, "unknown KRL section type " + std::to_string(type));
        }
        if (r.ok() && !r.empty()) refuse(r, errc::trailing_data, "KRL section has bytes left over");
        pass_on(r, in);
        if (!r.ok() && why_ != nullptr && why_->empty()) *why_ = "broken KRL section: " + r.error().message();
        return in.ok();
    }

private:
    template <std::size_t N>
    void hashes(wire::Reader& r, std::vector<std::array<std::byte, N>>& out, std::string_view name) {
        while (r.ok() && !r.empty()) {
            auto h = r.string(max_krl_size);
            if (!r.ok()) return;
            if (h.size() != N) {
                refuse(r, errc::malformed, "KRL " + std::string(name) + " hash of the wrong size");
                return;
            }
            if (!count(r)) return;
            auto& a = out.emplace_back();
            std::copy(h.begin(), h.end(), a.begin());
        }
    }

    // string name | boolean critical | string contents: none are known, so a critical one is refused.
    void extension(wire::Reader& r) {
        auto name = r.string(max_krl_size);
        const bool critical = r.u8() != 0;
        (void)r.string(max_krl_size);
        if (!r.ok()) return;
        if (critical) {
            refuse(r, errc::malformed, "KRL has a critical extension twoway does not know: " +
                                           std::string(wire::as_text(name).substr(0, 64)));
        }
    }

    bool ca_key_ok(std::span<const std::byte> blob) {
        if (blob.empty()) return true;  // any CA
        wire::Reader k(blob);
        const auto type = k.text(64);
        if (!k.ok() || type.empty()) return false;
        if (type == ssh_ed25519_name) return PublicKey::from_blob(blob).has_value();
        return true;  // another key type: kept as read, never the CA of a certificate twoway accepts
    }

    void certificates(wire::Reader& r, Krl& krl) {
        const auto ca_key = r.string(max_krl_size);
        (void)r.string(max_krl_size);  // reserved
        if (!r.ok()) return;
        if (!ca_key_ok(ca_key)) {
            refuse(r, errc::malformed, "KRL certificate section with a CA key that is not a key");
            return;
        }
        // Found through an index, not a scan, so that many small sections for many CAs cost n log n.
        if (!count(r)) return;
        std::vector<std::byte> ca(ca_key.begin(), ca_key.end());
        auto [at, added] = ca_index_.try_emplace(std::move(ca), krl.certificates.size());
        if (added) krl.certificates.push_back(KrlCertificates{at->first, {}, {}});
        KrlCertificates& into = krl.certificates[at->second];
        while (r.ok() && !r.empty()) {
            const std::uint8_t type = r.u8();
            wire::Reader s = r.sub(max_krl_size);
            if (!r.ok()) return;
            switch (type) {
            case cert_serial_list:
                while (s.ok() && !s.empty()) add_serials(s, into, s.u64(), 0);
                break;
            case cert_serial_range: {
                const auto first = s.u64();
                const auto last = s.u64();
                add_serials(s, into, first, last);
                break;
            }
            case cert_serial_bitmap: bitmap(s, into); break;
            case cert_key_id:
                while (s.ok() && !s.empty()) {
                    const auto id = wire::as_text(s.string(max_krl_size));
                    if (!s.ok()) break;
                    if (has_nul(id)) {
                        refuse(s, errc::malformed, "KRL key id with a NUL byte");
                    } else if (count(s)) {
                        into.key_ids.emplace_back(id);
                    }
                }
                break;
            case cert_extension: extension(s); break;
            default:
                refuse(r, errc::malformed, "unknown KRL certificate section type " + std::to_string(type));
                return;
            }
            if (s.ok() && !s.empty()) refuse(s, errc::trailing_data, "KRL certificate section has bytes left over");
            pass_on(s, r);
        }
    }

    // One serial (last 0) or a range; OpenSSH refuses serial 0 and reversed ranges.
    void add_serials(wire::Reader& s, KrlCertificates& into, std::uint64_t first, std::uint64_t last) {
        if (last == 0) last = first;
        if (!s.ok()) return;
        if (first == 0 || first > last) {
            refuse(s, errc::malformed, "KRL revokes serial 0 or a reversed serial range");
            return;
        }
        if (count(s)) into.serials.push_back({first, last});
    }

    // uint64 offset | mpint bitmap: bit n (from the least significant) revokes serial offset + n.
    void bitmap(wire::Reader& s, KrlCertificates& into) {
        const std::uint64_t offset = s.u64();
        auto bits = s.string(max_bitmap_bytes + 1);
        if (!s.ok()) return;
        if (!bits.empty() && (bits[0] & std::byte{0x80}) != std::byte{0}) {
            refuse(s, errc::malformed, "KRL serial bitmap is negative");
            return;
        }
        while (!bits.empty() && bits[0] == std::byte{0}) bits = bits.subspan(1);
        if (bits.size() > max_bitmap_bytes) {
            refuse(s, errc::malformed, "KRL serial bitmap over 16384 bits");
            return;
        }
        const std::size_t nbits = bits.size() * 8;
        const auto bit = [&](std::size_t n) {
            return (bits[bits.size() - 1 - n / 8] & std::byte(1u << (n % 8))) != std::byte{0};
        };
        for (std::size_t n = 0; n < nbits;) {
            if (!bit(n)) {
                ++n;
                continue;
            }
            std::size_t end = n;
            while (end + 1 < nbits && bit(end + 1)) ++end;
            if (end > UINT64_MAX - offset) {
                refuse(s, errc::malformed, "KRL serial bitmap runs past the last serial");
                return;
            }
            add_serials(s, into, offset + n, offset + end);
            if (!s.ok()) return;
            n = end + 1;
        }
    }

    std::string* why_;
    std::size_t entries_ = 0;
    std::map<std::vector<std::byte>, std::size_t> ca_index_;  // CA key blob -> its entry in certificates
};

std::optional<KrlMatch> certificate_section_match(const KrlCertificates& c, const Certificate& cert) {
    const std::string ca = c.ca_key.empty() ? "any CA" : "CA " + fingerprint_of_blob(c.ca_key);
    if (std::binary_search(c.key_ids.begin(), c.key_ids.end(), cert.key_id)) {
        return KrlMatch{KrlMatchKind::key_id, "key id \"" + cert.key_id.substr(0, 128) + "\" (" + ca + ")"};
    }
    if (cert.serial == 0) return std::nullopt;  // "no serial": never revoked by serial
    auto it = std::upper_bound(c.serials.begin(), c.serials.end(), cert.serial,
                               [](std::uint64_t s, const KrlSerialRange& r) { return s < r.first; });
    if (it != c.serials.begin() && std::prev(it)->last >= cert.serial) {
        return KrlMatch{KrlMatchKind::serial, "serial " + std::to_string(cert.serial) + " (" + ca + ")"};
    }
    return std::nullopt;
}

}  // namespace

// ---- building -------------------------------------------------------------------------------------

Status Krl::revoke_serials(std::span<const std::byte> ca_key, std::uint64_t first, std::uint64_t last) {
    if (first == 0 || first > last) return errc::invalid_argument;
    auto& serials = section_for(*this, ca_key).serials;
    // Insert in place and merge with the neighbours: the list stays canonical without a full sort.
    auto it = std::lower_bound(serials.begin(), serials.end(), first,
                               [](const KrlSerialRange& r, std::uint64_t v) { return r.first < v; });
    const auto at = static_cast<std::size_t>(it - serials.begin());
    serials.insert(it, KrlSerialRange{first, last});
    std::size_t lo = at > 0 ? at - 1 : 0;
    std::size_t hi = std::min(serials.size(), at + 1);
    while (hi < serials.size() && serials[hi].first <= last) ++hi;  // every range the new one may touch
    if (hi < serials.size()) ++hi;
    std::vector<KrlSerialRange> part(serials.begin() + static_cast<std::ptrdiff_t>(lo),
                                     serials.begin() + static_cast<std::ptrdiff_t>(hi));
    merge_ranges(part);
    serials.erase(serials.begin() + static_cast<std::ptrdiff_t>(lo), serials.begin() + static_cast<std::ptrdiff_t>(hi));
    serials.insert(serials.begin() + static_cast<std::ptrdiff_t>(lo), part.begin(), part.end());
    return {};
}

void Krl::revoke_key_id(std::span<const std::byte> ca_key, std::string_view key_id) {
    auto& ids = section_for(*this, ca_key).key_ids;
    auto it = std::lower_bound(ids.begin(), ids.end(), key_id);
    if (it == ids.end() || *it != key_id) ids.insert(it, std::string(key_id));
}

void Krl::revoke_key_blob(std::span<const std::byte> blob) {
    std::vector<std::byte> b(blob.begin(), blob.end());
    auto it = std::lower_bound(keys.begin(), keys.end(), b);
    if (it == keys.end() || *it != b) keys.insert(it, std::move(b));
}

void Krl::revoke_key(const PublicKey& key) { revoke_key_blob(key.blob()); }

void Krl::revoke_sha1(const KrlSha1& hash) {
    auto it = std::lower_bound(sha1.begin(), sha1.end(), hash);
    if (it == sha1.end() || *it != hash) sha1.insert(it, hash);
}

void Krl::revoke_sha256(const KrlSha256& hash) {
    auto it = std::lower_bound(sha256.begin(), sha256.end(), hash);
    if (it == sha256.end() || *it != hash) sha256.insert(it, hash);
}

void Krl::revoke_certificate(const Certificate& certificate) {
    const auto ca = certificate.signature_key.blob();
    if (certificate.serial == 0) {
        revoke_key_id(ca, certificate.key_id);
    } else {
        (void)revoke_serials(ca, certificate.serial, certificate.serial);
    }
}

void Krl::revoke_key_sha1(const PublicKey& key) { revoke_sha1(crypto::sha1(key.blob())); }

void Krl::revoke_key_sha256(const PublicKey& key) { revoke_sha256(crypto::sha256(key.blob())); }

Result<KrlSha256> parse_sha256_fingerprint(std::string_view text) {
    constexpr std::string_view prefix = "SHA256:";
    if (!text.starts_with(prefix)) return fail(errc::bad_key_format);
    std::string b64(text.substr(prefix.size()));
    while (b64.size() % 4 != 0) b64 += '=';  // OpenSSH leaves the padding out (ssh-keygen's hash_to_blob)
    auto bytes = crypto::base64_decode(b64);
    if (!bytes || bytes->size() != KrlSha256{}.size()) return fail(errc::malformed);
    KrlSha256 out;
    std::copy(bytes->begin(), bytes->end(), out.begin());
    return out;
}

void Krl::normalize() {
    for (auto& c : certificates) {
        merge_ranges(c.serials);
        sort_unique(c.key_ids);
    }
    sort_unique(keys);
    sort_unique(sha1);
    sort_unique(sha256);
}

// ---- reading --------------------------------------------------------------------------------------

bool is_krl(std::span<const std::byte> data) noexcept {
    return data.size() >= krl_magic.size() && wire::as_text(data.first(krl_magic.size())) == krl_magic;
}

Result<Krl> parse_krl(std::span<const std::byte> data, std::string* why) {
    if (why != nullptr) why->clear();
    const auto refuse = [&](errc e, std::string_view reason) {
        if (why != nullptr) *why = reason;
        return fail(e);
    };
    if (!is_krl(data)) return refuse(errc::bad_key_format, "not an OpenSSH KRL (no SSHKRL magic)");
    if (data.size() > max_krl_size) return refuse(errc::length_too_large, "KRL over the size limit");

    wire::Reader r(data.subspan(krl_magic.size()));
    Krl krl;
    if (r.u32() != krl_format_version && r.ok()) return refuse(errc::malformed, "KRL format version is not 1");
    krl.version = r.u64();
    krl.generated_date = r.u64();
    krl.flags = r.u64();
    (void)r.string(max_krl_size);  // reserved
    krl.comment = std::string(wire::as_text(r.string(max_krl_size)));
    if (!r.ok()) return refuse(static_cast<errc>(r.error().value()), "broken KRL header: " + r.error().message());
    if (has_nul(krl.comment)) return refuse(errc::malformed, "KRL comment with a NUL byte");

    Parser parser(why);
    while (r.ok() && !r.empty()) {
        const std::uint8_t type = r.u8();
        if (!parser.section(r, krl, type)) break;
    }
    if (!r.ok()) {
        if (why != nullptr && why->empty()) *why = "broken KRL: " + r.error().message();
        return fail(r.error());
    }
    krl.normalize();
    return krl;
}

// ---- lookups --------------------------------------------------------------------------------------

std::optional<KrlMatch> krl_match(const Krl& krl, const PublicKey& key) {
    const auto blob = key.blob();
    if (std::binary_search(krl.sha1.begin(), krl.sha1.end(), crypto::sha1(blob))) {
        return KrlMatch{KrlMatchKind::sha1, "SHA-1 hash of key " + fingerprint_sha256(key)};
    }
    if (std::binary_search(krl.sha256.begin(), krl.sha256.end(), crypto::sha256(blob))) {
        return KrlMatch{KrlMatchKind::sha256, "hash " + fingerprint_sha256(key)};
    }
    if (std::binary_search(krl.keys.begin(), krl.keys.end(), blob)) {
        return KrlMatch{KrlMatchKind::key, "key " + fingerprint_sha256(key)};
    }
    return std::nullopt;
}

std::optional<KrlMatch> krl_match(const Krl& krl, const Certificate& certificate) {
    if (auto m = krl_match(krl, certificate.key)) return m;
    const auto ca = certificate.signature_key.blob();
    for (const auto& c : krl.certificates) {
        if (!c.ca_key.empty() && c.ca_key != ca) continue;
        if (auto m = certificate_section_match(c, certificate)) return m;
    }
    if (auto m = krl_match(krl, certificate.signature_key)) {
        return KrlMatch{KrlMatchKind::ca_key, "its CA key: " + m->detail};
    }
    return std::nullopt;
}

bool krl_revokes(const Krl& krl, const PublicKey& key) { return krl_match(krl, key).has_value(); }

bool krl_revokes(const Krl& krl, const Certificate& certificate) {
    return krl_match(krl, certificate).has_value();
}

}  // namespace twoway

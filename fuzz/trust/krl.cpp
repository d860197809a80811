// Fuzzes the OpenSSH KRL reader (<twoway/krl.hpp>). The input is a KRL file as twowayd would read it.
// Beyond "no crash": a KRL that parses has its lists in the documented order; written out and read
// again it is the same KRL, and writing that gives the same bytes (write_krl's own output is canonical);
// a refused KRL says why in one short line. A fixed set of keys and certificates is looked up in every
// KRL that parses, so that the lookups run over whatever the mutations build. The same bytes go through
// the revocation-file dispatch (parse_revocation_file, check_revoked: what RevokedKeys and
// RevokedHostKeys read): usable exactly when the KRL parses, and then deciding as krl_match does; an
// unusable file refuses every key and names itself; and a file without the magic is the text list.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string>

#include <twoway/certificate.hpp>
#include <twoway/key.hpp>
#include <twoway/krl.hpp>
#include <twoway/trust.hpp>

#include "../../tests/support/deterministic_rng.hpp"

namespace {

void check(bool ok) {
    if (!ok) std::abort();
}

bool canonical(const twoway::Krl& k) {
    for (const auto& c : k.certificates) {
        for (std::size_t i = 0; i < c.serials.size(); ++i) {
            if (c.serials[i].first == 0 || c.serials[i].first > c.serials[i].last) return false;
            if (i > 0 && c.serials[i].first <= c.serials[i - 1].last + 1) return false;
        }
        if (!std::is_sorted(c.key_ids.begin(), c.key_ids.end()) ||
            std::adjacent_find(c.key_ids.begin(), c.key_ids.end()) != c.key_ids.end()) {
            return false;
        }
    }
    return std::is_sorted(k.keys.begin(), k.keys.end()) && std::is_sorted(k.sha1.begin(), k.sha1.end()) &&
           std::is_sorted(k.sha256.begin(), k.sha256.end());
}

bool same(const twoway::Krl& a, const twoway::Krl& b) {
    if (a.version != b.version || a.generated_date != b.generated_date || a.flags != b.flags ||
        a.comment != b.comment || a.keys != b.keys || a.sha1 != b.sha1 || a.sha256 != b.sha256 ||
        a.certificates.size() != b.certificates.size()) {
        return false;
    }
    for (std::size_t i = 0; i < a.certificates.size(); ++i) {
        const auto& x = a.certificates[i];
        const auto& y = b.certificates[i];
        if (x.ca_key != y.ca_key || x.serials != y.serials || x.key_ids != y.key_ids) return false;
    }
    return true;
}

// Keys and certificates to look up: a CA, and its certificates with small serials and short key ids
// (what mutations of the seeds most easily revoke).
struct Probes {
    twoway::PrivateKey ca;
    std::vector<twoway::Certificate> certificates;
};

const Probes& probes() {
    static const Probes p = [] {
        std::array<std::byte, 32> seed{};
        seed.fill(std::byte{0x42});
        Probes out{twoway::PrivateKey::from_seed(seed), {}};
        twoway_test::DeterministicRng rng(7);
        for (std::uint64_t serial : {0, 1, 5, 6, 1500, 3003, 100000}) {
            twoway::CertificateFields f;
            seed.fill(static_cast<std::byte>(serial & 0xff));
            f.key = twoway::PrivateKey::from_seed(seed).public_key();
            f.serial = serial;
            f.key_id = serial % 2 == 0 ? "alice" : "bob";
            f.principals = {"alice"};
            auto c = twoway::sign_certificate(f, out.ca, rng);
            if (c) out.certificates.push_back(std::move(*c));
        }
        return out;
    }();
    return p;
}

// The revocation file made of the same bytes agrees with parse_krl (or, without the magic, with the text
// list reader), and check_revoked with krl_match.
void check_revocation_file(std::span<const std::byte> in, const twoway::Krl* krl) {
    const auto file = twoway::parse_revocation_file("/krl", in);
    const auto& p = probes();
    const auto& c = p.certificates.front();
    const auto v = twoway::check_revoked(file, c.key, &c);
    if (!twoway::is_krl(in)) {
        const std::string_view text(reinterpret_cast<const char*>(in.data()), in.size());
        check(!file.krl && file.usable() == twoway::parse_revocation_list("/krl", text).usable());
        return;
    }
    check(file.usable() == (krl != nullptr) && file.krl.has_value() == (krl != nullptr));
    if (krl == nullptr) {
        check(v.status == twoway::RevocationStatus::unusable && v.problems.size() == 1 &&
              v.problems[0].starts_with("/krl: an OpenSSH KRL twoway cannot use: "));
        return;
    }
    for (const auto& cert : p.certificates) {
        const auto m = twoway::krl_match(*krl, cert);
        const auto r = twoway::check_revoked(file, cert.key, &cert);
        check(r.status == (m ? twoway::RevocationStatus::revoked : twoway::RevocationStatus::not_revoked));
        if (m) check(r.krl_match == m->kind && r.detail == m->detail && r.where.line == 0);
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::span<const std::byte> in(reinterpret_cast<const std::byte*>(data), size);
    std::string why;
    auto krl = twoway::parse_krl(in, &why);
    check_revocation_file(in, krl ? &*krl : nullptr);
    if (!krl) {
        check(!why.empty() && why.size() < 200);
        return 0;
    }
    check(canonical(*krl));
    const auto written = twoway::write_krl(*krl);
    auto again = twoway::parse_krl(written);
    check(again.has_value() && same(*krl, *again));
    check(twoway::write_krl(*again) == written);

    const auto& p = probes();
    (void)twoway::krl_revokes(*krl, p.ca.public_key());
    for (const auto& c : p.certificates) {
        const auto m = twoway::krl_match(*krl, c);
        check(m.has_value() == twoway::krl_revokes(*krl, c));
        if (m) check(!m->detail.empty());
    }
    return 0;
}

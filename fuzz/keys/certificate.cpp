// Fuzzes the OpenSSH certificate parser (<twoway/certificate.hpp>). Byte 0 picks the mode:
//   0: the rest is a certificate blob, as a peer or a file hands it over;
//   1: the rest is a certificate line (`ssh-ed25519-cert-v01@openssh.com <base64> comment`);
//   else: the rest is the body of a certificate between the type name and the CA key (nonce .. reserved),
//         which the target completes with a fixed CA key and that key's signature, so that mutations get
//         past the signature check and reach every field's checks.
// Beyond "no crash": a certificate that parses is the bytes given, of a known type, with at most 256
// principals, no critical option twice; signed again from its fields (options in name order, each once)
// it is the same blob, byte for byte (Ed25519 signatures are deterministic); and one flipped byte of
// the signature makes it fail.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <set>
#include <span>
#include <string_view>
#include <vector>

#include <twoway/certificate.hpp>
#include <twoway/key.hpp>

#include "keys/signature_blob.hpp"
#include "wire/writer.hpp"

namespace {

void check(bool ok) {
    if (!ok) std::abort();
}

const twoway::PrivateKey& ca_key() {
    static const twoway::PrivateKey key = [] {
        std::array<std::byte, 32> seed{};
        for (std::size_t i = 0; i < seed.size(); ++i) seed[i] = static_cast<std::byte>(0xca + i);
        return twoway::PrivateKey::from_seed(seed);
    }();
    return key;
}

class ZeroRng final : public twoway::Rng {
public:
    void fill(std::span<std::byte> out) override {
        for (auto& b : out) b = std::byte{0};
    }
};

bool sorted_unique(const std::vector<twoway::CertificateOption>& options) {
    for (std::size_t i = 1; i < options.size(); ++i) {
        if (!(options[i - 1].name < options[i].name)) return false;
    }
    return true;
}

void check_certificate(const twoway::Certificate& c, std::span<const std::byte> blob) {
    check(std::equal(c.blob.begin(), c.blob.end(), blob.begin(), blob.end()));
    check(c.type == twoway::CertificateType::user || c.type == twoway::CertificateType::host);
    check(c.principals.size() <= twoway::max_certificate_principals);
    std::set<std::string_view> names;
    for (const auto& o : c.critical_options) check(names.insert(o.name).second);

    // Signed again by its own CA, when we hold that key: the same bytes.
    if (c.signature_key == ca_key().public_key() && !c.nonce.empty() && sorted_unique(c.critical_options) &&
        sorted_unique(c.extensions)) {
        ZeroRng rng;
        auto again = twoway::sign_certificate(static_cast<const twoway::CertificateFields&>(c), ca_key(), rng);
        check(again.has_value());
        check(again->blob == c.blob);
    }
    // One flipped bit in the signature's last byte: refused.
    std::vector<std::byte> bad = c.blob;
    bad.back() ^= std::byte{0x01};
    check(!twoway::parse_certificate(bad).has_value());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1) return 0;
    const std::span<const std::byte> rest(reinterpret_cast<const std::byte*>(data) + 1, size - 1);
    std::string why;
    if (data[0] == 0) {
        if (auto c = twoway::parse_certificate(rest, &why)) {
            check_certificate(*c, rest);
        } else {
            check(!why.empty() && why.size() < 200);
        }
        return 0;
    }
    if (data[0] == 1) {
        const std::string_view line(reinterpret_cast<const char*>(rest.data()), rest.size());
        if (auto l = twoway::parse_certificate_line(line, &why)) {
            check_certificate(l->certificate, l->certificate.blob);
            auto again = twoway::parse_certificate_line(twoway::format_certificate_line(l->certificate, l->comment));
            check(again.has_value() && again->certificate.blob == l->certificate.blob && again->comment == l->comment);
        } else {
            check(!why.empty() && why.size() < 200);
        }
        return 0;
    }
    twoway::wire::Writer w;
    w.string(twoway::ssh_ed25519_cert_name).bytes(rest).string(ca_key().public_key().blob());
    w.string(twoway::keys::ed25519_signature_blob(ca_key().sign(w.view())));
    if (auto c = twoway::parse_certificate(w.view(), &why)) {
        check_certificate(*c, w.view());
        check(c->signature_key == ca_key().public_key());
    } else {
        check(!why.empty() && why.size() < 200);
    }
    return 0;
}

// Fuzz target: AuthorizedPrincipalsFile text through parse_authorized_principals and
// check_trusted_certificate.
//
// Beyond "no crash": the limits hold; each entry's principal is one non-empty word without blanks or
// '#', from its own line, and its options read back the same from that line's text before it; the
// entries are in line order. Against a fixed certificate (principals "alice", "ops"), the verdict is
// "authorized" exactly when the first entry naming one of them has options that allow the connection
// and agree with the certificate (no second forced command), and then it names that line.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include <twoway/certificate.hpp>
#include <twoway/trust.hpp>

#include "../../tests/support/deterministic_rng.hpp"

namespace {
void check(bool ok) {
    if (!ok) std::abort();
}

const twoway::Certificate& certificate() {
    static const twoway::Certificate c = [] {
        twoway_test::DeterministicRng rng(5);
        const auto ca = twoway::PrivateKey::generate(rng);
        twoway::CertificateFields f;
        f.key = twoway::PrivateKey::generate(rng).public_key();
        f.type = twoway::CertificateType::user;
        f.key_id = "fuzz";
        f.principals = {"alice", "ops"};
        f.valid_after = 0;
        f.valid_before = twoway::certificate_forever;
        f.extensions = {twoway::CertificateOption::flag("permit-pty")};
        auto signed_cert = twoway::sign_certificate(std::move(f), ca, rng);
        if (!signed_cert) std::abort();
        return *signed_cert;
    }();
    return c;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace twoway;
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    TrustLimits limits;
    limits.max_line_length = 512;
    limits.max_entries = 8;
    limits.max_lines = 64;
    limits.max_diagnostics = 4;

    const auto file = parse_authorized_principals("pf", text, limits);
    check(file.entries.size() <= limits.max_entries);
    check(file.diagnostics.size() <= limits.max_diagnostics);
    check(file.diagnostics.size() <= file.skipped);
    std::size_t last_line = 0;
    for (const auto& e : file.entries) {
        check(e.where.line > last_line);
        last_line = e.where.line;
        check(!e.name.empty());
        for (char c : e.name) check(c != ' ' && c != '\t' && c != '#');
        check(!e.options.cert_authority && !e.options.principals);
        if (!e.options.text.empty()) {
            const auto again = parse_key_options(e.options.text);
            check(again.options && *again.options == e.options);
        }
    }

    const std::vector<AuthorizedPrincipalsFile> files{file};
    const ConnectionFacts facts{*parse_ip_address("192.0.2.1"), 1'700'000'000, 0};
    const Location ca_where{"ca", 1};
    const auto v = check_trusted_certificate(certificate(), "root", &files, ca_where, facts);
    const AuthorizedPrincipal* first = nullptr;
    for (const auto& e : file.entries) {
        if (e.name == "alice" || e.name == "ops") {
            first = &e;
            break;
        }
    }
    if (first == nullptr) {
        check(!v.authorized);
    } else {
        const bool allows = key_options_allow(AuthorizedKey{first->where, certificate().key, {}, first->options}, facts).allowed;
        if (v.authorized) check(allows && v.matched == first->where && v.options.pty == first->options.pty);
        if (!allows) check(!v.authorized);
    }
    check(v.authorized == v.refusals.empty());
    return 0;
}

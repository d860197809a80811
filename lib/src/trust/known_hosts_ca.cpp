// @cert-authority lines: is a server's certificate trusted for a host? As OpenSSH's ssh decides it
// (sshconnect.c check_host_key with a certificate, hostfile.c check_key_not_revoked): an
// @cert-authority line whose host field names the host holds the certificate's CA key, no @revoked line
// holds the CA key or the certified key, and the certificate fits the use (check_certificate_use: a host
// certificate, the host name among its principals, within its validity). Pure: the parsed files, the
// certificate and the time in, a verdict with the deciding line out.
#include <algorithm>

#include <twoway/certificate.hpp>
#include <twoway/key.hpp>
#include <twoway/text.hpp>
#include <twoway/trust.hpp>

#include "text/text_util.hpp"

namespace twoway {

namespace {

void sort_by_line(std::vector<Diagnostic>& d, std::size_t from) {
    std::stable_sort(d.begin() + static_cast<std::ptrdiff_t>(from), d.end(),
                     [](const Diagnostic& a, const Diagnostic& b) { return a.where.line < b.where.line; });
}

}  // namespace

HostCertificateVerdict check_host_certificate(std::span<const KnownHostsFile> files, std::string_view host,
                                              std::uint16_t port, const Certificate& certificate,
                                              std::int64_t now) {
    HostCertificateVerdict verdict;
    bool revocation_unreadable = false;
    bool named_with_other_ca = false;
    bool revoked_ca = false;
    for (const auto& file : files) {
        const std::size_t first = verdict.unreadable.size();
        for (const auto& entry : file.entries) {
            if (entry.revoked) {
                // For every host, as check_host: the certified key or the CA that signed it.
                if (!verdict.revoked && (entry.key == certificate.key || entry.key == certificate.signature_key)) {
                    verdict.revoked = entry.where;
                    revoked_ca = entry.key == certificate.signature_key;
                }
                continue;
            }
            if (!entry.cert_authority) continue;
            const HostNaming n = known_host_naming(entry, host, port);
            if (n == HostNaming::no) continue;
            if (n == HostNaming::maybe) {
                if (entry.key == certificate.signature_key) {
                    verdict.unreadable.push_back(Diagnostic{
                        entry.where, "@cert-authority: a host name on this line cannot be read and may mean this host"});
                }
                continue;
            }
            if (entry.key != certificate.signature_key) {
                named_with_other_ca = true;
                continue;
            }
            if (!verdict.authority) verdict.authority = entry.where;
        }
        for (const auto& line : file.unusable) {
            if (line.kind == UnusableKind::revocation) {
                revocation_unreadable = true;
                verdict.unreadable.push_back(Diagnostic{line.where, line.reason});
                continue;
            }
            if (!line.cert_authority || known_host_naming(line, host, port) == HostNaming::no) continue;
            verdict.unreadable.push_back(Diagnostic{line.where, line.reason});
        }
        sort_by_line(verdict.unreadable, first);
    }

    const std::string name = ascii_lower(host);
    if (verdict.revoked) {
        verdict.reason = std::string(revoked_ca ? "the certificate's CA key" : "the certified key") +
                         " is revoked by " + verdict.revoked->text();
        return verdict;
    }
    if (revocation_unreadable) {
        verdict.reason = "an @revoked line cannot be read and may revoke the certificate's key or its CA";
        return verdict;
    }
    if (!verdict.authority) {
        verdict.reason = "no @cert-authority line for " + name + " holds the certificate's CA key " +
                         fingerprint_sha256(certificate.signature_key) +
                         (named_with_other_ca ? " (lines for it name other CAs)" : "");
        return verdict;
    }
    CertificateUse use;
    use.role = CertificateType::host;
    use.principals = {name};
    use.now = now;
    const CertificateVerdict fits = check_certificate_use(certificate, use);
    if (!fits) {
        verdict.reason = fits.reason;
        return verdict;
    }
    verdict.allowed = true;
    verdict.unreadable.clear();
    return verdict;
}

}  // namespace twoway

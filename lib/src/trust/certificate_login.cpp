// May a user certificate log in to an account? sshd's two ways (auth2-pubkeyfile.c
// auth_check_authkey_line for cert-authority lines, auth2-pubkey.c user_cert_trusted_ca for
// TrustedUserCAKeys with AuthorizedPrincipalsFile/Command), over check_certificate_use, and the
// AuthorizedPrincipalsFile format (auth_process_principals). Pure: files, time and address come in.
#include <algorithm>

#include <twoway/text.hpp>
#include <twoway/trust.hpp>

#include "trust/trust_lines.hpp"

namespace twoway {

namespace {

bool blank(char c) { return c == ' ' || c == '\t'; }

std::string_view trim(std::string_view s) {
    while (!s.empty() && blank(s.front())) s.remove_prefix(1);
    while (!s.empty() && (blank(s.back()) || s.back() == '\r')) s.remove_suffix(1);
    return s;
}

struct PrincipalLine {
    Location where;
    std::string_view text;
    LineStatus status = LineStatus::blank;
    std::optional<AuthorizedPrincipal> entry;
    std::string reason;
};

struct ParsedPrincipal {
    std::optional<AuthorizedPrincipal> entry;
    std::string reason;
};

// As auth_process_principals: everything from '#' on is a comment (anywhere on the line), the last
// blank-separated word is the principal and whatever comes before it is an options field.
ParsedPrincipal parse_principal_line(std::string_view text, const Location& where) {
    ParsedPrincipal out;
    if (const auto hash = text.find('#'); hash != std::string_view::npos) text = text.substr(0, hash);
    text = trim(text);
    if (text.empty()) {
        out.reason = "nothing before the comment";
        return out;
    }
    std::size_t cut = text.size();
    while (cut > 0 && !blank(text[cut - 1])) --cut;
    AuthorizedPrincipal p;
    p.where = where;
    p.name = std::string(text.substr(cut));
    if (cut > 0) {
        auto parsed = parse_key_options(trim(text.substr(0, cut)));
        if (!parsed.options) {
            out.reason = "bad principals options: " + parsed.error;
            return out;
        }
        p.options = std::move(*parsed.options);
        if (p.options.cert_authority || p.options.principals) {
            out.reason = "bad principals options: cert-authority and principals= belong in authorized_keys";
            return out;
        }
    }
    out.entry = std::move(p);
    return out;
}

// from= and expiry-time= of a line (a cert-authority line or a principals line) for this connection.
KeyOptionsVerdict line_allows(const Location& where, const PublicKey& key, KeyOptions options, const ConnectionFacts& facts) {
    options.cert_authority = false;  // asked about the line's other options only
    return key_options_allow(AuthorizedKey{where, key, {}, std::move(options)}, facts);
}

CertificateUse user_use(std::vector<std::string> principals, const ConnectionFacts& facts) {
    CertificateUse use;
    use.role = CertificateType::user;
    use.principals = std::move(principals);
    use.now = facts.now;
    use.source = facts.address;
    return use;
}

// principals= is a comma list of exact names (OpenSSH's match_list, no wildcards).
std::vector<std::string> principal_list(std::string_view list) {
    std::vector<std::string> out;
    for (std::size_t start = 0;;) {
        const std::size_t comma = list.find(',', start);
        out.emplace_back(list.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start));
        if (comma == std::string_view::npos) break;
        start = comma + 1;
    }
    return out;
}

std::string certificate_name(const Certificate& c) {
    return "certificate ID " + quoted(c.key_id) + " (serial " + std::to_string(c.serial) + ")";
}

}  // namespace

std::optional<KeyOptions> merge_certificate_options(const KeyOptions& line, const KeyOptions& certificate,
                                                    std::string* why) {
    KeyOptions out = line;
    out.restricted = line.restricted || certificate.restricted;
    out.port_forwarding = line.port_forwarding && certificate.port_forwarding;
    out.pty = line.pty && certificate.pty;
    out.agent_forwarding = line.agent_forwarding && certificate.agent_forwarding;
    out.x11_forwarding = line.x11_forwarding && certificate.x11_forwarding;
    out.user_rc = line.user_rc && certificate.user_rc;
    out.touch_required = line.touch_required || certificate.touch_required;
    if (line.command && certificate.command && *line.command != *certificate.command) {
        if (why != nullptr) *why = "Forced command options do not match";
        return std::nullopt;
    }
    if (!out.command) out.command = certificate.command;
    return out;
}

AuthorizedPrincipalsFile parse_authorized_principals(std::string_view path, std::string_view text,
                                                     const TrustLimits& limits) {
    AuthorizedPrincipalsFile file;
    file.path = std::string(path);
    TextLines lines(text, limits.max_line_length);
    std::size_t entries = 0;
    bool truncated = false;
    while (auto line = trust::next_line<PrincipalLine>(lines, limits, file.path, entries, truncated,
                                                        parse_principal_line)) {
        if (line->status == LineStatus::entry) {
            file.entries.push_back(std::move(*line->entry));
        } else if (line->status == LineStatus::skipped) {
            ++file.skipped;
            if (file.diagnostics.size() < limits.max_diagnostics) {
                file.diagnostics.push_back(Diagnostic{std::move(line->where), std::move(line->reason)});
            }
        }
    }
    file.truncated = truncated;
    return file;
}

AuthVerdict check_authorized_certificate(std::span<const AuthorizedKeysFile> files, const Certificate& certificate,
                                         std::string_view account, const ConnectionFacts& facts) {
    AuthVerdict out;
    for (const auto& file : files) {
        for (const auto& entry : file.entries) {
            if (!entry.options.cert_authority || entry.key != certificate.signature_key) continue;
            const auto refuse = [&](std::string why) {
                out.refusals.push_back(entry.where.text() + ": " + certificate_name(certificate) + ": " + std::move(why));
            };
            if (auto v = line_allows(entry.where, certificate.key, entry.options, facts); !v) {
                out.refusals.push_back(std::move(v.reason));
                continue;
            }
            const auto names = entry.options.principals ? principal_list(*entry.options.principals)
                                                        : std::vector<std::string>{std::string(account)};
            auto verdict = check_certificate_use(certificate, user_use(names, facts));
            if (!verdict) {
                refuse(std::move(verdict.reason));
                continue;
            }
            std::string why;
            auto merged = merge_certificate_options(entry.options, verdict.options, &why);
            if (!merged) {
                refuse(std::move(why));
                continue;
            }
            out.authorized = true;
            out.matched = entry.where;
            out.options = std::move(*merged);
            return out;
        }
    }
    return out;
}

AuthVerdict check_trusted_certificate(const Certificate& certificate, std::string_view account,
                                      const std::vector<AuthorizedPrincipalsFile>* principals,
                                      const Location& ca_where, const ConnectionFacts& facts) {
    AuthVerdict out;
    const auto refuse = [&](const Location& where, std::string why) {
        out.refusals.push_back(where.text() + ": " + certificate_name(certificate) + ": " + std::move(why));
    };
    if (principals == nullptr) {
        auto verdict = check_certificate_use(certificate, user_use({std::string(account)}, facts));
        if (!verdict) {
            refuse(ca_where, std::move(verdict.reason));
            return out;
        }
        out.authorized = true;
        out.matched = ca_where;
        out.options = std::move(verdict.options);
        return out;
    }
    // AuthorizedPrincipalsFile/Command: the first line naming one of the certificate's principals
    // decides, with that line's options (sshd stops at the first match too).
    for (const auto& file : *principals) {
        for (const auto& line : file.entries) {
            if (std::find(certificate.principals.begin(), certificate.principals.end(), line.name) ==
                certificate.principals.end()) {
                continue;
            }
            if (auto v = line_allows(line.where, certificate.key, line.options, facts); !v) {
                out.refusals.push_back(std::move(v.reason));
                return out;
            }
            auto verdict = check_certificate_use(certificate, user_use({line.name}, facts));
            if (!verdict) {
                refuse(line.where, std::move(verdict.reason));
                return out;
            }
            std::string why;
            auto merged = merge_certificate_options(line.options, verdict.options, &why);
            if (!merged) {
                refuse(line.where, std::move(why));
                return out;
            }
            out.authorized = true;
            out.matched = line.where;
            out.options = std::move(*merged);
            return out;
        }
    }
    refuse(ca_where, "Certificate does not contain an authorized principal");
    return out;
}

}  // namespace twoway

// Does a certificate fit its use (trust.hpp, check_certificate_use)? Pure: the time and the client's
// address come in CertificateUse. The reasons follow OpenSSH's log texts where it has them
// ("Certificate invalid: not a user certificate"), with the times spelled out.
#include <time.h>

#include <algorithm>
#include <array>
#include <cstdio>

#include <twoway/trust.hpp>

namespace twoway {

namespace {

CertificateVerdict refused(std::string reason) {
    CertificateVerdict v;
    v.reason = std::move(reason);
    return v;
}

std::string quoted(std::string_view s) {
    // Names come from the certificate: keep them to one printable line.
    std::string out = "\"";
    for (char c : s.substr(0, 128)) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7f || c == '"' || c == '\\') {
            std::array<char, 5> hex{};
            std::snprintf(hex.data(), hex.size(), "\\x%02x", u);
            out += hex.data();
        } else {
            out += c;
        }
    }
    if (s.size() > 128) out += "...";
    return out + "\"";
}

// OpenSSH's addr_match_cidr_list: comma-separated addresses or address/masklen blocks, nothing else (no
// wildcards, no negation); any bad entry makes the whole list unusable. Nothing: unusable.
std::optional<bool> cidr_list_holds(std::string_view list, const IpAddress& addr) {
    if (list.empty()) return std::nullopt;
    bool found = false;
    for (std::size_t start = 0;;) {
        const std::size_t comma = list.find(',', start);
        const std::string_view entry = list.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
        const auto block = parse_address_block(entry);
        if (!block) return std::nullopt;
        found = found || block->contains(addr);
        if (comma == std::string_view::npos) break;
        start = comma + 1;
    }
    return found;
}

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(), [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; });
    return out;
}

}  // namespace

std::string format_certificate_time(std::uint64_t seconds) {
    if (seconds == certificate_forever) return "forever";
    // Past year 9999 the text would lose its shape; such a time is as good as forever to a reader.
    constexpr std::uint64_t year_10000 = 253402300800ULL;
    if (seconds >= year_10000) return "+" + std::to_string(seconds) + "s";
    const time_t t = static_cast<time_t>(seconds);
    struct tm tm {};
    if (::gmtime_r(&t, &tm) == nullptr) return std::to_string(seconds);
    std::array<char, 80> buf{};  // the int fields are bounded by year 9999, but the compiler cannot know
    std::snprintf(buf.data(), buf.size(), "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                  tm.tm_hour, tm.tm_min, tm.tm_sec);
    return buf.data();
}

CertificateVerdict check_certificate_use(const Certificate& c, const CertificateUse& use) {
    const bool want_host = use.role == CertificateType::host;
    if (c.type != use.role) {
        return refused(want_host ? "Certificate invalid: not a host certificate" : "Certificate invalid: not a user certificate");
    }
    // The window, with the skew allowance before valid_after only. now is signed: a clock before 1970
    // is before every certificate.
    const auto now = use.now;
    if (now < 0 || static_cast<std::uint64_t>(now) + static_cast<std::uint64_t>(certificate_clock_skew) < c.valid_after) {
        return refused("Certificate invalid: not yet valid: valid from " + format_certificate_time(c.valid_after) +
                       ", now " + format_certificate_time(static_cast<std::uint64_t>(std::max<std::int64_t>(now, 0))) +
                       " (allowing " + std::to_string(certificate_clock_skew) + " s of clock skew)");
    }
    if (static_cast<std::uint64_t>(now) >= c.valid_before) {
        return refused("Certificate invalid: expired at " + format_certificate_time(c.valid_before) + ", now " +
                       format_certificate_time(static_cast<std::uint64_t>(now)));
    }
    if (c.principals.empty()) {
        return refused("Certificate invalid: it lists no principals (twoway never reads that as \"any\")");
    }
    bool named = false;
    for (const auto& p : c.principals) {
        for (const auto& wanted : use.principals) {
            if (want_host ? match_pattern(p, lower(wanted)) : p == wanted) named = true;
        }
    }
    if (!named) {
        std::string names;
        for (const auto& w : use.principals) names += (names.empty() ? "" : ",") + quoted(w);
        return refused("Certificate invalid: name is not a listed principal (wanted " +
                       (names.empty() ? std::string("none") : names) + ")");
    }

    CertificateVerdict v;
    if (!want_host) {
        v.options.restricted = true;
        v.options.pty = v.options.port_forwarding = v.options.agent_forwarding = v.options.x11_forwarding = false;
        v.options.user_rc = false;
        for (const auto& e : c.extensions) {
            if (e.name == "permit-pty") v.options.pty = true;
            else if (e.name == "permit-port-forwarding") v.options.port_forwarding = true;
            else if (e.name == "permit-agent-forwarding") v.options.agent_forwarding = true;
            else if (e.name == "permit-X11-forwarding") v.options.x11_forwarding = true;
            else if (e.name == "permit-user-rc") v.options.user_rc = true;
            else if (e.name == "no-touch-required") v.options.touch_required = false;
        }
    }
    for (const auto& o : c.critical_options) {
        const bool known = !want_host && (o.name == "force-command" || o.name == "source-address");
        if (!known) return refused("Certificate critical option " + quoted(o.name) + " is not supported");
        const auto value = o.text_value();
        if (!value) return refused("Certificate critical option " + quoted(o.name) + " is malformed");
        if (o.name == "force-command") {
            v.options.command = *value;
            continue;
        }
        if (!use.source) return refused("Certificate source-address cannot be checked: no client address");
        const auto holds = cidr_list_holds(*value, *use.source);
        if (!holds) return refused("Certificate source-address list " + quoted(*value) + " is invalid");
        if (!*holds) {
            return refused("Certificate source-address mismatch: " + format_ip_address(*use.source) + " not in " +
                           quoted(*value));
        }
    }
    v.allowed = true;
    return v;
}

}  // namespace twoway

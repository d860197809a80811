#include "cert_spec.hpp"

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <set>
#include <strings.h>

#include <twoway/key.hpp>
#include <twoway/pattern.hpp>

namespace twoway_keygen {

using twoway::CertificateOption;

namespace {

// OpenSSH's convtime (misc.c): "90m", "1h30m", "2d", "1w", a bare number of seconds; a sum of such
// terms, at most INT_MAX seconds. -1 when invalid.
long convtime(const std::string& s) {
    if (s.empty()) return -1;
    long total = 0;
    const char* p = s.c_str();
    while (*p != '\0') {
        char* end = nullptr;
        errno = 0;
        long secs = std::strtol(p, &end, 10);
        if (p == end || (errno == ERANGE && (secs == LONG_MIN || secs == LONG_MAX)) || secs < 0) return -1;
        long multiplier = 1;
        switch (*end++) {
            case '\0': --end; break;
            case 's': case 'S': break;
            case 'm': case 'M': multiplier = 60; break;
            case 'h': case 'H': multiplier = 60 * 60; break;
            case 'd': case 'D': multiplier = 24 * 60 * 60; break;
            case 'w': case 'W': multiplier = 7 * 24 * 60 * 60; break;
            default: return -1;
        }
        if (secs > INT_MAX / multiplier) return -1;
        secs *= multiplier;
        if (total > INT_MAX - secs) return -1;
        total += secs;
        p = end;
    }
    return total;
}

// OpenSSH's parse_absolute_time: YYYYMMDD, YYYYMMDDHHMM or YYYYMMDDHHMMSS, local time unless suffixed
// with Z or UTC (either case). Like ssh-keygen, the fields go through strptime into a zeroed struct tm
// (tm_isdst 0) and mktime or timegm, so both tools give the same second for the same text and TZ.
std::optional<std::uint64_t> absolute_time(std::string s) {
    bool utc = false;
    if (s.size() > 1 && strcasecmp(s.c_str() + s.size() - 1, "Z") == 0) {
        utc = true;
        s.resize(s.size() - 1);
    } else if (s.size() > 3 && strcasecmp(s.c_str() + s.size() - 3, "UTC") == 0) {
        utc = true;
        s.resize(s.size() - 3);
    }
    char buf[32];
    const char* fmt = nullptr;
    const char* c = s.c_str();
    switch (s.size()) {
        case 8:
            fmt = "%Y-%m-%d";
            std::snprintf(buf, sizeof buf, "%.4s-%.2s-%.2s", c, c + 4, c + 6);
            break;
        case 12:
            fmt = "%Y-%m-%dT%H:%M";
            std::snprintf(buf, sizeof buf, "%.4s-%.2s-%.2sT%.2s:%.2s", c, c + 4, c + 6, c + 8, c + 10);
            break;
        case 14:
            fmt = "%Y-%m-%dT%H:%M:%S";
            std::snprintf(buf, sizeof buf, "%.4s-%.2s-%.2sT%.2s:%.2s:%.2s", c, c + 4, c + 6, c + 8, c + 10, c + 12);
            break;
        default: return std::nullopt;
    }
    std::tm tm{};
    const char* rest = ::strptime(buf, fmt, &tm);
    if (rest == nullptr || *rest != '\0') return std::nullopt;
    const std::time_t t = utc ? ::timegm(&tm) : std::mktime(&tm);
    if (t < 0) return std::nullopt;
    return static_cast<std::uint64_t>(t);
}

// "+interval" / "-interval" relative to now (OpenSSH's parse_relative_time).
Parsed<std::uint64_t> relative_time(const std::string& s, std::int64_t now) {
    const long secs = convtime(s.substr(1));
    if (secs == -1) return Parsed<std::uint64_t>::fail("Invalid relative certificate time " + s);
    if (s[0] == '-') {
        if (secs > now) return Parsed<std::uint64_t>::fail("Certificate time " + s + " cannot be represented");
        return {static_cast<std::uint64_t>(now - secs), {}};
    }
    return {static_cast<std::uint64_t>(now) + static_cast<std::uint64_t>(secs), {}};
}

// "0x..." seconds since the epoch (OpenSSH's parse_hex_u64).
Parsed<std::uint64_t> hex_time(const std::string& s) {
    errno = 0;
    char* end = nullptr;
    const unsigned long long v = std::strtoull(s.c_str(), &end, 16);
    if (s.empty() || *end != '\0') return Parsed<std::uint64_t>::fail("Invalid certificate time: not a number");
    if (errno == ERANGE && v == ULLONG_MAX) return Parsed<std::uint64_t>::fail("Invalid certificate time: out of range");
    return {static_cast<std::uint64_t>(v), {}};
}

// One side of "from:to". `open` is the word for no limit ("always" or "forever") and its value.
Parsed<std::uint64_t> time_side(const std::string& s, std::int64_t now, std::string_view open,
                                std::uint64_t open_value, const char* which) {
    if (s[0] == '-' || s[0] == '+') return relative_time(s, now);
    if (s == open) return {open_value, {}};
    if (s.starts_with("0x")) return hex_time(s);
    if (auto t = absolute_time(s)) return {*t, {}};
    return Parsed<std::uint64_t>::fail(std::string("Invalid ") + which + " time \"" + s + "\"");
}

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

bool istarts_with(std::string_view s, std::string_view prefix) {
    return s.size() >= prefix.size() && strncasecmp(s.data(), prefix.data(), prefix.size()) == 0;
}

// OpenSSH's addr_match_cidr_list(NULL, list) == 0: addresses and address/masklen blocks (host bits
// clear), no empty entry. The first bad entry, if any.
std::optional<std::string> bad_cidr_entry(std::string_view list) {
    for (std::size_t start = 0;;) {
        const std::size_t comma = list.find(',', start);
        const std::string_view entry = list.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
        if (!twoway::parse_address_block(entry)) return std::string(entry);
        if (comma == std::string_view::npos) return std::nullopt;
        start = comma + 1;
    }
}

std::string hex(std::span<const std::byte> data) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    for (std::byte b : data) {
        out += digits[std::to_integer<unsigned>(b) >> 4];
        out += digits[std::to_integer<unsigned>(b) & 15];
    }
    return out;
}

// ssh-keygen's show_options: one line per option, 16 spaces in. Nothing on corrupt option data.
std::optional<std::string> describe_options(const std::vector<CertificateOption>& options, bool critical) {
    static const std::set<std::string_view> flag_extensions = {
        "permit-X11-forwarding", "permit-agent-forwarding", "permit-port-forwarding",
        "permit-pty",            "permit-user-rc",          "no-touch-required"};
    std::string out;
    for (const auto& o : options) {
        out += "                " + escape_controls(o.name);
        if ((!critical && flag_extensions.contains(o.name)) || (critical && o.name == "verify-required")) {
            if (!o.data.empty()) return std::nullopt;
            out += "\n";
        } else if (critical && (o.name == "force-command" || o.name == "source-address")) {
            const auto value = o.text_value();
            if (!value || value->find('\0') != std::string::npos) return std::nullopt;
            out += " " + escape_controls(*value) + "\n";
        } else if (!o.data.empty()) {
            out += " UNKNOWN OPTION: " + hex(o.data) + " (len " + std::to_string(o.data.size()) + ")\n";
        } else {
            out += " UNKNOWN FLAG OPTION\n";
        }
    }
    return out;
}

}  // namespace

Parsed<Validity> parse_validity(std::string_view spec_view, std::int64_t now) {
    const std::string spec(spec_view);
    using P = Parsed<Validity>;
    if (spec.starts_with('+') && spec.find(':') == std::string::npos) {
        const long secs = convtime(spec.substr(1));
        if (secs == -1) return P::fail("Invalid relative certificate life " + spec);
        // Backdated to the start of the minute before now, for hosts whose clocks run a little behind.
        return {Validity{static_cast<std::uint64_t>(((now - 59) / 60) * 60), static_cast<std::uint64_t>(now + secs)}, {}};
    }
    const std::size_t colon = spec.find(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == spec.size()) {
        return P::fail("Invalid certificate life specification " + spec);
    }
    const auto from = time_side(spec.substr(0, colon), now, "always", 0, "from");
    if (!from) return P::fail(from.error);
    const auto to = time_side(spec.substr(colon + 1), now, "forever", twoway::certificate_forever, "to");
    if (!to) return P::fail(to.error);
    if (*to.value <= *from.value) return P::fail("Empty certificate validity interval");
    return {Validity{*from.value, *to.value}, {}};
}

Parsed<Serial> parse_serial(std::string_view text_view) {
    std::string text(text_view);
    Serial s;
    if (text.starts_with('+')) {
        s.increment = true;
        text.erase(0, 1);
    }
    errno = 0;
    char* end = nullptr;
    const unsigned long long v = std::strtoull(text.c_str(), &end, 10);
    if (text.empty() || text[0] < '0' || text[0] > '9' || *end != '\0' || (errno == ERANGE && v == ULLONG_MAX)) {
        return Parsed<Serial>::fail("Invalid serial number \"" + text + "\"");
    }
    s.first = v;
    return {s, {}};
}

Parsed<std::vector<std::string>> parse_principals(std::string_view list) {
    std::vector<std::string> out;
    for (std::size_t start = 0;;) {
        const std::size_t comma = list.find(',', start);
        const std::string_view p = list.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
        if (p.empty()) return Parsed<std::vector<std::string>>::fail("Empty principal name");
        out.emplace_back(p);
        if (comma == std::string_view::npos) break;
        start = comma + 1;
    }
    if (out.size() > twoway::max_certificate_principals) {
        return Parsed<std::vector<std::string>>::fail("Too many certificate principals specified");
    }
    return {std::move(out), {}};
}

Parsed<OptionLists> parse_certificate_options(std::span<const std::string> options, bool host) {
    using P = Parsed<OptionLists>;
    // ssh-keygen's flag options, in the order of its CERTOPT_* bits; critical: verify-required.
    struct Flag {
        std::string_view name;  // the extension (or critical option) it puts in the certificate
        std::string_view off;   // the -O word that clears it
        bool critical;
        bool on;
    };
    Flag flags[] = {
        {"permit-X11-forwarding", "no-x11-forwarding", false, !host},
        {"permit-agent-forwarding", "no-agent-forwarding", false, !host},
        {"permit-port-forwarding", "no-port-forwarding", false, !host},
        {"permit-pty", "no-pty", false, !host},
        {"permit-user-rc", "no-user-rc", false, !host},
        {"no-touch-required", "touch-required", false, false},
        {"verify-required", "no-verify-required", true, false},
    };
    std::optional<std::string> command, source;
    OptionLists custom;
    for (const std::string& opt : options) {
        bool matched = false;
        if (iequals(opt, "clear")) {
            for (auto& f : flags) f.on = false;
            continue;
        }
        for (auto& f : flags) {
            if (iequals(opt, f.name) || iequals(opt, f.off)) {
                f.on = iequals(opt, f.name);
                matched = true;
            }
        }
        if (matched) continue;
        if (istarts_with(opt, "force-command=")) {
            const std::string value = opt.substr(14);
            if (value.empty()) return P::fail("Empty force-command option");
            if (command) return P::fail("force-command already specified");
            command = value;
        } else if (istarts_with(opt, "source-address=")) {
            const std::string value = opt.substr(15);
            if (value.empty()) return P::fail("Empty source-address option");
            if (source) return P::fail("source-address already specified");
            if (const auto bad = bad_cidr_entry(value)) {
                return P::fail("Invalid source-address list: \"" + escape_controls(*bad) +
                               "\" is not an address or address/masklen (with the host bits clear)");
            }
            source = value;
        } else if (istarts_with(opt, "extension:") || istarts_with(opt, "critical:")) {
            const bool critical = istarts_with(opt, "critical:");
            const std::string rest = opt.substr(opt.find(':') + 1);
            const std::size_t eq = rest.find('=');
            const std::string name = rest.substr(0, eq);
            if (name.empty()) return P::fail("Empty name in certificate option \"" + opt + "\"");
            auto& list = critical ? custom.critical : custom.extensions;
            list.push_back(eq == std::string::npos ? CertificateOption::flag(name)
                                                   : CertificateOption::text(name, rest.substr(eq + 1)));
        } else {
            return P::fail("Unsupported certificate option \"" + opt + "\"");
        }
    }
    OptionLists out;
    if (command) out.critical.push_back(CertificateOption::text("force-command", *command));
    if (source) out.critical.push_back(CertificateOption::text("source-address", *source));
    for (const auto& f : flags) {
        if (f.on) (f.critical ? out.critical : out.extensions).push_back(CertificateOption::flag(f.name));
    }
    out.critical.insert(out.critical.end(), custom.critical.begin(), custom.critical.end());
    out.extensions.insert(out.extensions.end(), custom.extensions.begin(), custom.extensions.end());
    for (const auto* list : {&out.critical, &out.extensions}) {
        std::set<std::string_view> seen;
        for (const auto& o : *list) {
            if (!seen.insert(o.name).second) {
                return P::fail(std::string(list == &out.critical ? "Critical option" : "Extension") + " \"" + o.name +
                               "\" given twice");
            }
        }
    }
    if (host && !out.critical.empty()) {
        return P::fail("Critical option \"" + out.critical.front().name +
                       "\" on a host certificate (ssh and twoway refuse host certificates with critical options)");
    }
    return {std::move(out), {}};
}

std::string format_local_time(std::uint64_t seconds) {
    // ssh-keygen's format_absolute_time: time_t saturates; local time.
    const std::time_t t = seconds > static_cast<std::uint64_t>(LLONG_MAX) ? static_cast<std::time_t>(LLONG_MAX)
                                                                         : static_cast<std::time_t>(seconds);
    std::tm tm{};
    if (::localtime_r(&t, &tm) == nullptr) return "(out of range)";
    char buf[64];
    if (std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm) == 0) return "(out of range)";
    return buf;
}

std::string format_validity(std::uint64_t after, std::uint64_t before) {
    const bool always = after == 0;
    const bool forever = before == twoway::certificate_forever;
    if (always && forever) return "forever";
    if (always) return "before " + format_local_time(before);
    if (forever) return "after " + format_local_time(after);
    return "from " + format_local_time(after) + " to " + format_local_time(before);
}

std::string escape_controls(std::string_view s) {
    std::string out;
    for (char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if ((u < 0x20 && c != '\t') || u == 0x7f) {
            char esc[8];
            std::snprintf(esc, sizeof esc, "\\%03o", u);
            out += esc;
        } else {
            out += c;
        }
    }
    return out;
}

std::optional<std::string> describe_certificate(const twoway::Certificate& c) {
    std::string out;
    out += "        Type: " + std::string(twoway::ssh_ed25519_cert_name) + " " +
           std::string(twoway::certificate_type_name(c.type)) + " certificate\n";
    out += "        Public key: ED25519-CERT " + twoway::fingerprint_sha256(c.key) + "\n";
    out += "        Signing CA: ED25519 " + twoway::fingerprint_sha256(c.signature_key) + " (using ssh-ed25519)\n";
    out += "        Key ID: \"" + escape_controls(c.key_id) + "\"\n";
    out += "        Serial: " + std::to_string(c.serial) + "\n";
    out += "        Valid: " + format_validity(c.valid_after, c.valid_before) + "\n";
    out += "        Principals: ";
    if (c.principals.empty()) out += "(none)";
    for (const auto& p : c.principals) out += "\n                " + escape_controls(p);
    out += "\n";
    out += "        Critical Options: ";
    if (c.critical_options.empty()) {
        out += "(none)\n";
    } else {
        const auto text = describe_options(c.critical_options, true);
        if (!text) return std::nullopt;
        out += "\n" + *text;
    }
    out += "        Extensions: ";
    if (c.extensions.empty()) {
        out += "(none)\n";
    } else {
        const auto text = describe_options(c.extensions, false);
        if (!text) return std::nullopt;
        out += "\n" + *text;
    }
    return out;
}

}  // namespace twoway_keygen

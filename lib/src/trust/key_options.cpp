// authorized_keys options (sshd(8), AUTHORIZED_KEYS FILE FORMAT), read as OpenSSH's sshauthopt_parse
// reads them, and decided as its auth_authorise_keyopts decides them. Where twoway differs it is
// stricter, never looser: an empty option (",,"), an impossible date (OpenSSH's mktime turns Feb 30
// into Mar 1) or a negated `restrict` make the line unusable, and options that would restrict a feature
// in a way twoway cannot honour (permitopen=, verify-required) refuse the line instead of being ignored.
#include <array>
#include <string>
#include <string_view>

#include <twoway/session.hpp>
#include <twoway/text.hpp>
#include <twoway/trust.hpp>

namespace twoway {

namespace {

constexpr std::string_view no_prefix = "no-";

// What one option did to the options so far: nothing (fine), or why the field is unusable.
using Outcome = std::optional<std::string>;

bool iequals(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
    }
    return true;
}

bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

// OpenSSH's valid_env_name: letters, digits and '_', at least one.
bool valid_environment_name(std::string_view s) noexcept {
    if (s.empty()) return false;
    for (char c : s) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '_';
        if (!ok) return false;
    }
    return true;
}

int days_in_month(int year, int month) noexcept {
    static constexpr std::array<int, 12> days{31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return month == 2 && leap ? 29 : days[static_cast<std::size_t>(month - 1)];
}

std::optional<int> digits(std::string_view s) noexcept {
    int v = 0;
    for (char c : s) {
        if (!is_digit(c)) return std::nullopt;
        v = v * 10 + (c - '0');
    }
    return v;
}

// "YYYYMMDD[HHMM[SS]]" with an optional "Z" or "UTC" (any case), as OpenSSH's parse_absolute_time.
std::optional<ExpiryTime> parse_expiry(std::string_view s) {
    ExpiryTime t;
    if (s.size() > 1 && (s.back() == 'Z' || s.back() == 'z')) {
        t.utc = true;
        s.remove_suffix(1);
    } else if (s.size() > 3 && iequals(s.substr(s.size() - 3), "utc")) {
        t.utc = true;
        s.remove_suffix(3);
    }
    if (s.size() != 8 && s.size() != 12 && s.size() != 14) return std::nullopt;
    const auto field = [&](std::size_t at, std::size_t n) { return digits(s.substr(at, n)); };
    const auto y = field(0, 4), mo = field(4, 2), d = field(6, 2);
    if (!y || !mo || !d) return std::nullopt;
    t.year = *y;
    t.month = *mo;
    t.day = *d;
    if (s.size() >= 12) {
        const auto h = field(8, 2), mi = field(10, 2);
        if (!h || !mi) return std::nullopt;
        t.hour = *h;
        t.minute = *mi;
    }
    if (s.size() == 14) {
        const auto sec = field(12, 2);
        if (!sec) return std::nullopt;
        t.second = *sec;
    }
    // 1970 onwards: OpenSSH refuses a time that is 0 or cannot be converted.
    if (t.year < 1970 || t.month < 1 || t.month > 12 || t.day < 1 || t.day > days_in_month(t.year, t.month) ||
        t.hour > 23 || t.minute > 59 || t.second > 60) {
        return std::nullopt;
    }
    if (t.civil_seconds() <= 0) return std::nullopt;
    return t;
}

// OpenSSH's a2tun without a remote part: "any" or a device number (0..0x7fffffff-2).
bool valid_tunnel(std::string_view s) noexcept {
    if (iequals(s, "any")) return true;
    if (s.empty() || s.size() > 10) return false;
    std::int64_t v = 0;
    for (char c : s) {
        if (!is_digit(c)) return false;
        v = v * 10 + (c - '0');
    }
    return v <= 0x7ffffffd;
}

std::string describe(const ExpiryTime& t) {
    std::array<char, 40> buf{};
    std::snprintf(buf.data(), buf.size(), "%04d-%02d-%02d %02d:%02d:%02d%s", t.year, t.month, t.day, t.hour, t.minute,
                  t.second, t.utc ? " UTC" : "");
    return buf.data();
}

class Parser {
public:
    explicit Parser(std::string_view field) : rest_(field) {}

    KeyOptionsParse run() {
        KeyOptionsParse out;
        out_.text = std::string(rest_);
        if (rest_.empty()) return fail("empty options");
        for (;;) {
            if (auto bad = one_option()) return fail(std::move(*bad));
            if (rest_.empty()) break;
            if (rest_.front() != ',') return fail("unexpected " + quoted(rest_.substr(0, 1)) + " after an option");
            rest_.remove_prefix(1);
            if (rest_.empty()) return fail("unexpected end of options after ','");
        }
        if (out_.principals && !out_.cert_authority) return fail("principals= without cert-authority");
        out.options = std::move(out_);
        return out;
    }

private:
    static KeyOptionsParse fail(std::string why) { return KeyOptionsParse{std::nullopt, std::move(why)}; }

    // The option at the front of rest_, which it consumes (up to the ',' or the end).
    Outcome one_option() {
        const auto name_end = rest_.find_first_of("=,");
        const std::string_view name = rest_.substr(0, name_end);
        if (name.empty()) return "empty option";
        const bool has_value = name_end != std::string_view::npos && rest_[name_end] == '=';
        rest_.remove_prefix(name.size());
        if (!has_value) return flag(name);
        rest_.remove_prefix(1);  // '='
        auto value = dequote(name);
        if (!value) return std::move(value.error_);
        return valued(name, std::move(value.text));
    }

    struct Dequoted {
        std::string text;
        std::string error_;
        explicit operator bool() const noexcept { return error_.empty(); }
    };

    // A double-quoted value at the front of rest_; `\"` is a quote, every other byte is itself.
    Dequoted dequote(std::string_view name) {
        Dequoted d;
        if (rest_.empty() || rest_.front() != '"') {
            d.error_ = "missing start quote for " + std::string(name) + "=";
            return d;
        }
        std::size_t i = 1;
        for (; i < rest_.size() && rest_[i] != '"'; ++i) {
            if (rest_[i] == '\\' && i + 1 < rest_.size() && rest_[i + 1] == '"') ++i;
            d.text.push_back(rest_[i]);
        }
        if (i >= rest_.size()) {
            d.error_ = "missing end quote for " + std::string(name) + "=";
            return d;
        }
        rest_.remove_prefix(i + 1);
        return d;
    }

    Outcome flag(std::string_view name) {
        if (iequals(name, "restrict")) {
            out_.restricted = true;
            out_.port_forwarding = out_.pty = out_.agent_forwarding = out_.x11_forwarding = out_.user_rc = false;
            return std::nullopt;
        }
        if (iequals(name, "cert-authority")) {
            out_.cert_authority = true;
            return std::nullopt;
        }
        bool on = true;
        std::string_view base = name;
        if (base.size() > no_prefix.size() && iequals(base.substr(0, no_prefix.size()), no_prefix)) {
            on = false;
            base.remove_prefix(no_prefix.size());
        }
        if (iequals(base, "port-forwarding")) {
            out_.port_forwarding = on;
        } else if (iequals(base, "pty")) {
            out_.pty = on;
        } else if (iequals(base, "agent-forwarding")) {
            out_.agent_forwarding = on;
        } else if (iequals(base, "x11-forwarding")) {
            out_.x11_forwarding = on;
        } else if (iequals(base, "user-rc")) {
            out_.user_rc = on;
        } else if (iequals(base, "touch-required")) {
            out_.touch_required = on;
        } else if (iequals(base, "verify-required")) {
            // A demand for FIDO user verification that no key twoway takes can meet: refused, not dropped.
            if (on) return std::string("verify-required cannot be honoured (twoway has no FIDO keys)");
        } else if (is_value_option(name)) {
            return std::string(name) + " needs a value (" + std::string(name) + "=\"...\")";
        } else {
            return "unknown option " + quoted(name);
        }
        return std::nullopt;
    }

    static bool is_value_option(std::string_view name) noexcept {
        for (std::string_view n : {"command", "principals", "from", "expiry-time", "environment", "permitopen",
                                   "permitlisten", "tunnel", "permit-service"}) {
            if (iequals(name, n)) return true;
        }
        return false;
    }

    Outcome once(std::optional<std::string>& slot, std::string_view name, std::string value) {
        if (slot) return "multiple " + std::string(name) + "= options";
        slot = std::move(value);
        return std::nullopt;
    }

    template <class T>
    Outcome add(std::vector<T>& to, std::string_view name, T value) {
        if (to.size() >= max_key_option_values) {
            return "too many " + std::string(name) + "= options (limit " + std::to_string(max_key_option_values) + ")";
        }
        to.push_back(std::move(value));
        return std::nullopt;
    }

    Outcome valued(std::string_view name, std::string value) {
        if (iequals(name, "command")) return once(out_.command, "command", std::move(value));
        if (iequals(name, "principals")) return once(out_.principals, "principals", std::move(value));
        if (iequals(name, "from")) return once(out_.from, "from", std::move(value));
        if (iequals(name, "expiry-time")) {
            auto t = parse_expiry(value);
            if (!t) return "invalid expiry-time " + quoted(value) + " (YYYYMMDD[HHMM[SS]][Z])";
            // Several: each must hold (the earliest decides, as in OpenSSH, whatever their time zones).
            return add(out_.expiry_times, "expiry-time", *t);
        }
        if (iequals(name, "environment")) {
            const auto eq = value.find('=');
            if (eq == std::string::npos || !valid_environment_name(std::string_view(value).substr(0, eq))) {
                return "invalid environment= " + quoted(value) + " (NAME=value)";
            }
            const std::string prefix = value.substr(0, eq + 1);
            for (const auto& e : out_.environment) {
                if (e.starts_with(prefix)) return std::nullopt;  // the first for a name wins
            }
            return add(out_.environment, "environment", std::move(value));
        }
        if (iequals(name, "permit-service")) {
            if (!session::valid_command(session::RequestKind::service, value)) {
                return "invalid permit-service= " + quoted(value) + " (one service name)";
            }
            for (const auto& s : out_.permit_services) {
                if (s == value) return std::nullopt;
            }
            return add(out_.permit_services, "permit-service", std::move(value));
        }
        if (iequals(name, "permitlisten")) {
            if (!session::valid_permit_listen(value)) return "invalid permitlisten= " + quoted(value);
            return add(out_.permit_listen, "permitlisten", std::move(value));
        }
        if (iequals(name, "tunnel")) {
            if (!valid_tunnel(value)) return "invalid tunnel= " + quoted(value);
            out_.tunnel = std::move(value);
            return std::nullopt;
        }
        if (iequals(name, "permitopen")) {
            // As sshd: host:port, the port possibly "*", the host never a pattern (nor looked up).
            if (!session::valid_permit_open(value, false)) {
                return "invalid permitopen= " + quoted(value) + " (host:port, [IPv6]:port; the port may be *)";
            }
            for (const auto& s : out_.permit_open) {
                if (s == value) return std::nullopt;
            }
            return add(out_.permit_open, "permitopen", std::move(value));
        }
        if (is_value_option(name)) return std::nullopt;  // not reached: every value option is handled above
        // A flag written with a value ("pty=...") or a name twoway does not know.
        return "unknown option " + quoted(std::string(name) + "=");
    }

    std::string_view rest_;
    KeyOptions out_;
};

KeyOptionsVerdict refuse(const AuthorizedKey& entry, std::string why) {
    return KeyOptionsVerdict{false, entry.where.text() + ": " + std::move(why)};
}

KeyOptionsVerdict allow_impl(const AuthorizedKey& entry, const ConnectionFacts* facts) {
    const KeyOptions& o = entry.options;
    if (o.cert_authority) return refuse(entry, "cert-authority: the line names a CA, not a key to log in with");
    for (const auto& t : o.expiry_times) {
        if (facts == nullptr) return refuse(entry, "expiry-time= cannot be checked without the time");
        const std::int64_t now = t.utc ? facts->now : facts->now + facts->utc_offset;
        if (t.civil_seconds() < now) return refuse(entry, "expiry-time passed (" + describe(t) + ")");
    }
    if (o.from) {
        if (facts == nullptr) return refuse(entry, "from= cannot be checked without the client's address");
        switch (match_host_and_ip(facts->address, *o.from)) {
            case AddressMatch::match:
                break;
            case AddressMatch::invalid:
                return refuse(entry, "from= list cannot be read: " + quoted(*o.from));
            case AddressMatch::none:
            case AddressMatch::negated:
                return refuse(entry, "from= mismatch: " + format_ip_address(facts->address) + " is not in " +
                                         quoted(*o.from));
        }
    }
    return KeyOptionsVerdict{true, {}};
}

AuthVerdict check_impl(std::span<const AuthorizedKeysFile> files, const PublicKey& key, const ConnectionFacts* facts) {
    AuthVerdict out;
    for (const auto& file : files) {
        for (const auto& entry : file.entries) {
            if (entry.key != key) continue;
            auto v = allow_impl(entry, facts);
            if (!v) {
                out.refusals.push_back(std::move(v.reason));
                continue;
            }
            out.authorized = true;
            out.matched = entry.where;
            out.options = entry.options;
            return out;
        }
    }
    return out;
}

}  // namespace

std::int64_t ExpiryTime::civil_seconds() const noexcept {
    // Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
    const int y = year - (month <= 2 ? 1 : 0);
    const int era = (y >= 0 ? y : y - 399) / 400;
    const int yoe = y - era * 400;
    const int mp = (month + 9) % 12;
    const int doy = (153 * mp + 2) / 5 + day - 1;
    const int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    const std::int64_t days = std::int64_t{era} * 146097 + doe - 719468;
    return days * 86400 + hour * 3600 + minute * 60 + second;
}

KeyOptionsParse parse_key_options(std::string_view field) { return Parser(field).run(); }

KeyOptionsVerdict key_options_allow(const AuthorizedKey& entry, const ConnectionFacts& facts) {
    return allow_impl(entry, &facts);
}

AuthVerdict check_authorized(std::span<const AuthorizedKeysFile> files, const PublicKey& key,
                             const ConnectionFacts& facts) {
    return check_impl(files, key, &facts);
}

AuthVerdict check_authorized(std::span<const AuthorizedKeysFile> files, const PublicKey& key) {
    return check_impl(files, key, nullptr);
}

}  // namespace twoway

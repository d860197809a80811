// The pure half of `twoway-keygen -s` and `-L`: ssh-keygen's (OpenSSH 9.2) readings of -V, -z, -n and -O,
// and its text for a certificate and a validity interval. No files and no clock: the caller passes
// `now`. Absolute times are the system time zone's (TZ) unless suffixed with Z or UTC, as in
// ssh-keygen, whose mktime/localtime conventions these functions share on purpose (the interop test
// compares the two tools' output byte for byte). Errors are ssh-keygen's own words.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <twoway/certificate.hpp>

namespace twoway_keygen {

// A value, or the one-line reason it could not be read.
template <class T>
struct Parsed {
    std::optional<T> value;
    std::string error;
    explicit operator bool() const noexcept { return value.has_value(); }
    static Parsed fail(std::string why) { return Parsed{std::nullopt, std::move(why)}; }
};

struct Validity {
    std::uint64_t after = 0;                               // "always"
    std::uint64_t before = twoway::certificate_forever;  // "forever"
};

// -V: "+interval" (from now, backdated to the start of the minute before, to the end), or "from:to"
// where each side is always/forever, [+-]interval (sshd_config TIME FORMATS: 90m, 1h30m, 2d, 1w ...),
// YYYYMMDD, YYYYMMDDHHMM or YYYYMMDDHHMMSS (local time; a Z or UTC suffix: UTC), or 0x<hex seconds>.
// Anything else, or to <= from, is an error. A single time other than "+interval" is refused, as
// ssh-keygen 9.2 does (its manual says otherwise).
[[nodiscard]] Parsed<Validity> parse_validity(std::string_view spec, std::int64_t now);

// -z: a decimal serial; "+N" numbers the certificates of one command N, N+1, ...
struct Serial {
    std::uint64_t first = 0;
    bool increment = false;
};
[[nodiscard]] Parsed<Serial> parse_serial(std::string_view text);

// -n: a comma list of principals, none empty, at most 256.
[[nodiscard]] Parsed<std::vector<std::string>> parse_principals(std::string_view list);

// What -O makes of the options: the critical options and extensions to sign (in any order:
// sign_certificate sorts them by name as ssh-keygen does).
struct OptionLists {
    std::vector<twoway::CertificateOption> critical;
    std::vector<twoway::CertificateOption> extensions;
};
// -O options in command-line order, for a user or a host certificate, with ssh-keygen's defaults (a
// user certificate permits X11, agent and port forwarding, a PTY and ~/.ssh/rc; a host certificate
// nothing). Option words are case-insensitive as in ssh-keygen. Beyond ssh-keygen: a name given twice
// (say permit-pty and extension:permit-pty) is an error, and so is any critical option on a host
// certificate (ssh and twoway refuse such host certificates).
[[nodiscard]] Parsed<OptionLists> parse_certificate_options(std::span<const std::string> options, bool host);

// As ssh-keygen prints a time: local "YYYY-MM-DDTHH:MM:SS" (no zone).
[[nodiscard]] std::string format_local_time(std::uint64_t seconds);
// As ssh-keygen prints a validity: "forever", "after T", "before T" or "from T to T".
[[nodiscard]] std::string format_validity(std::uint64_t after, std::uint64_t before);

// `s` with control characters (below 0x20 but tab, and 0x7f) as \ooo: key ids and principals come from the
// certificate's signer, and must not drive the terminal. Everything else passes as ssh-keygen prints it.
[[nodiscard]] std::string escape_controls(std::string_view s);

// The lines `ssh-keygen -L` prints for a certificate after its "path:" header, each ending in "\n".
// Nothing when an option's data is corrupt where ssh-keygen stops with "Option corrupt" (a known flag
// with data, a known string option with more than the string).
[[nodiscard]] std::optional<std::string> describe_certificate(const twoway::Certificate& c);

}  // namespace twoway_keygen

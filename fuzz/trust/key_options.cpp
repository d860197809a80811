// Fuzz target: authorized_keys options through parse_key_options, the authorized_keys line parser and
// the decision on a connection (key_options_allow, check_authorized).
//
// Input: a 29-byte header of connection facts (byte 0 bit 0: IPv6; bytes 1..16: the address; 17..24:
// now, little-endian; 25..28: the UTC offset, little-endian), then the options field.
// Beyond "no crash": parsing is deterministic and keeps the field as written; what it accepts obeys the
// documented rules (principals only with cert-authority, bounded value lists, restrict turns pty and
// services off unless re-enabled later); a line made of the field and a key parses to the same
// options; and a verdict that allows never comes from a cert-authority line, a passed expiry or a
// from= list the address does not match, and is the one check_authorized reaches.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include <twoway/key.hpp>
#include <twoway/pattern.hpp>
#include <twoway/trust.hpp>

namespace {

void check(bool ok) {
    if (!ok) std::abort();
}

constexpr std::size_t header_size = 29;

twoway::PublicKey fixed_key() {
    std::array<std::byte, 32> seed{};
    seed.fill(std::byte{7});
    return twoway::PrivateKey::from_seed(seed).public_key();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace twoway;
    if (size < header_size) return 0;
    ConnectionFacts facts;
    facts.address.v6 = (data[0] & 1) != 0;
    std::memcpy(facts.address.bytes.data(), data + 1, 16);
    if (!facts.address.v6) std::memset(facts.address.bytes.data() + 4, 0, 12);
    std::uint64_t now = 0;
    for (int i = 7; i >= 0; --i) now = (now << 8) | data[17 + i];
    facts.now = static_cast<std::int64_t>(now >> 1);  // non-negative
    std::uint32_t offset = 0;
    for (int i = 3; i >= 0; --i) offset = (offset << 8) | data[25 + i];
    facts.utc_offset = static_cast<std::int32_t>(offset % (2 * 86400)) - 86400;
    const std::string_view field(reinterpret_cast<const char*>(data + header_size), size - header_size);

    const auto parsed = parse_key_options(field);
    check(parsed.options.has_value() == parsed.error.empty());
    const auto again = parse_key_options(field);
    check(again.options == parsed.options && again.error == parsed.error);
    if (parsed.options) {
        const KeyOptions& o = *parsed.options;
        check(o.text == field);
        check(!o.principals || o.cert_authority);
        check(o.environment.size() <= max_key_option_values && o.permit_services.size() <= max_key_option_values &&
              o.permit_listen.size() <= max_key_option_values && o.expiry_times.size() <= max_key_option_values);
        // Nothing may come out longer than what went in.
        if (o.command) check(o.command->size() < field.size());
        if (o.from) check(o.from->size() < field.size());
        for (const auto& t : o.expiry_times) check(t.year >= 1970 && t.month >= 1 && t.month <= 12 && t.civil_seconds() > 0);
        for (const auto& e : o.environment) check(e.find('=') != std::string::npos);
        for (const auto& s : o.permit_services) check(!s.empty() && s.size() <= 64);
    }

    // The field in front of a key, as a line (a field with a line break would make two lines).
    if (field.find('\n') != std::string_view::npos) return 0;
    const PublicKey key = fixed_key();
    const std::string line = std::string(field) + " " + format_public_key_line(key);
    TrustLimits limits;
    limits.max_line_length = 4096;
    const auto file = parse_authorized_keys("ak", line, limits);
    check(file.entries.size() <= 1);
    if (!file.entries.empty()) {
        const AuthorizedKey& e = file.entries[0];
        check(e.key == key);
        // The options are the field's, after its leading blanks (the line's indentation); a field that is
        // empty or blank gives a plain line, whose options are the defaults.
        std::string_view trimmed = field;
        while (!trimmed.empty() && (trimmed.front() == ' ' || trimmed.front() == '\t')) trimmed.remove_prefix(1);
        if (e.options.text.empty()) {
            check(e.options == KeyOptions{} && trimmed.find_first_not_of(" \t") == std::string_view::npos);
        } else {
            check(trimmed.starts_with(e.options.text));
            const auto reparsed = parse_key_options(e.options.text);
            check(reparsed.options && *reparsed.options == e.options);
            if (trimmed == field && e.options.text == field) check(parsed.options && *parsed.options == e.options);
        }

        const auto v = key_options_allow(e, facts);
        check(v.allowed == v.reason.empty());
        if (!v.allowed) check(v.reason.starts_with("ak:1: "));
        if (v.allowed) {
            check(!e.options.cert_authority);
            for (const auto& t : e.options.expiry_times) {
                check(t.civil_seconds() >= (t.utc ? facts.now : facts.now + facts.utc_offset));
            }
            if (e.options.from) check(match_host_and_ip(facts.address, *e.options.from) == AddressMatch::match);
        }
        const std::vector<AuthorizedKeysFile> files{file};
        const auto verdict = check_authorized(files, key, facts);
        check(verdict.authorized == v.allowed);
        check(verdict.refusals.size() == (v.allowed ? 0u : 1u));
        if (verdict.authorized) check(verdict.options == e.options && verdict.matched == e.where);
        // Without facts, from= and expiry-time= never allow.
        const auto blind = check_authorized(files, key);
        if (blind.authorized) check(v.allowed && !e.options.from && e.options.expiry_times.empty());
    } else {
        check(!parsed.options || field.find_first_of(" \t") != std::string_view::npos || line.size() > 4096 ||
              field.find_first_of(std::string_view("\0\r", 2)) != std::string_view::npos ||
              [&] {
                  for (char c : field) {
                      if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return true;
                  }
                  return false;
              }());
    }
    return 0;
}

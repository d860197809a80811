/// @file
/// OpenSSH's patterns, with its meanings exactly (match.c, addrmatch.c): the wildcards of AllowUsers,
/// Match User/Group/Address, the from= option of authorized_keys and known_hosts host names; address
/// literals and CIDR blocks. Everything here is pure: no name resolution (twoway does no reverse DNS, as
/// sshd with `UseDNS no`, its default), no I/O, no exceptions but std::bad_alloc.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <twoway/export.hpp>

namespace twoway {

/// Does `text` match `pattern` as a whole? OpenSSH's match_pattern, with its arguments the other way
/// round: `*` matches any run of characters (also none), `?` exactly one; nothing else is special
/// (negation and lists: match_pattern_list). Case-sensitive: for host names, lower-case both sides.
/// Greedy with one backtrack point, the last `*`: at most pattern x text steps, never exponential,
/// whatever a file holds (OpenSSH's recursive form is exponential for "*a*a*a...b").
[[nodiscard]] TWOWAY_API bool match_pattern(std::string_view pattern, std::string_view text) noexcept;

/// The outcome of matching against a list whose entries may be negated with `!`.
enum class PatternMatch {
    none,     ///< no entry matched
    match,    ///< a plain entry matched and no negated one did
    negated,  ///< a negated entry matched: this overrides every plain entry that matched
};

/// OpenSSH's match_pattern_list: `list` is comma-separated patterns (match_pattern), each optionally
/// prefixed with `!`. With fold_case, ASCII letters of both text and patterns compare case-insensitively
/// (host names). An empty entry matches only empty text.
[[nodiscard]] TWOWAY_API PatternMatch match_pattern_list(std::string_view text, std::string_view list,
                                                         bool fold_case = false);

/// An IPv4 or IPv6 address: 4 or 16 bytes in network order (IPv4 uses the first 4, the rest are zero).
struct IpAddress {
    bool v6 = false;                        ///< IPv6 (16 bytes) rather than IPv4 (the first 4)
    std::array<std::uint8_t, 16> bytes{};   ///< the address in network order
    /// Same family and bytes.
    friend bool operator==(const IpAddress&, const IpAddress&) = default;
};

/// An address literal ("192.0.2.7", "2001:db8::1"); no host names, no zone, no brackets.
[[nodiscard]] TWOWAY_API std::optional<IpAddress> parse_ip_address(std::string_view text);

/// The address as inet_ntop writes it ("192.0.2.7", "2001:db8::1").
[[nodiscard]] TWOWAY_API std::string format_ip_address(const IpAddress& a);

/// `a` with every bit past the first `bits` cleared (bits beyond the address's width change nothing).
[[nodiscard]] TWOWAY_API IpAddress masked_address(IpAddress a, std::uint32_t bits) noexcept;

/// An address range: the first `bits` bits of `base` (the rest are zero).
struct AddressBlock {
    IpAddress base;           ///< the first address of the block (bits past `bits` are zero)
    std::uint32_t bits = 32;  ///< the mask length: 0..32 for IPv4, 0..128 for IPv6
    /// Is `a` (of the same family) inside the block?
    [[nodiscard]] TWOWAY_API bool contains(const IpAddress& a) const noexcept;
    /// Same base and mask length.
    friend bool operator==(const AddressBlock&, const AddressBlock&) = default;
};

/// "address" (a block of one) or "address/masklen". Host bits beyond masklen must be zero, so that a typo
/// such as 10.1.2.3/8 is refused instead of silently meaning 10.0.0.0/8 (OpenSSH refuses it too).
[[nodiscard]] TWOWAY_API std::optional<AddressBlock> parse_address_block(std::string_view text);

/// "address" for a block of one address, else "address/masklen": what parse_address_block reads.
[[nodiscard]] TWOWAY_API std::string format_address_block(const AddressBlock& b);

/// The outcome of matching an address against a list.
enum class AddressMatch {
    none,     ///< no entry matched
    match,    ///< an entry matched and no negated one did
    negated,  ///< a negated entry matched
    invalid,  ///< the list holds an entry that is an address with a bad mask, or is empty: it decides nothing
};

/// OpenSSH's addr_match_list (Match Address, Match LocalAddress): comma-separated entries, each optionally
/// prefixed with `!`. An entry that reads as an address or address/masklen matches by block; an address
/// with an impossible mask or host bits set, or an empty entry, makes the whole list `invalid`; anything
/// else is a wildcard pattern matched against the address's text (format_ip_address), so "192.168.*"
/// works as in sshd. Entries are examined in order and the first negated match ends the search.
[[nodiscard]] TWOWAY_API AddressMatch match_address_list(const IpAddress& addr, std::string_view list);

/// OpenSSH's match_host_and_ip (authorized_keys from=, the host part of AllowUsers user\@host): the list
/// matched as addresses (match_address_list) and as host-name patterns (match_pattern_list, case folded)
/// against the peer's name. twoway resolves no names, so the name is the address's text. `negated` when
/// either view matched a negated entry, `invalid` for an invalid address list. Callers treat anything
/// but `match` as no match, and `invalid` as an error to report.
[[nodiscard]] TWOWAY_API AddressMatch match_host_and_ip(const IpAddress& addr, std::string_view list);

/// OpenSSH's match_user (AllowUsers, DenyUsers): `pattern` is "userpattern" or "userpattern\@hostlist"
/// (split at the last `\@`); the user part is one match_pattern pattern, the host part a
/// match_host_and_ip list. Nothing when the host list is invalid.
[[nodiscard]] TWOWAY_API std::optional<bool> match_user(std::string_view user, const IpAddress& addr,
                                                        std::string_view pattern);

}  // namespace twoway

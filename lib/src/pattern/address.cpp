// Address literals, CIDR blocks and OpenSSH's address lists (addrmatch.c, match.c's match_host_and_ip and
// match_user). inet_pton and inet_ntop only convert text; nothing here resolves a name.
#include <arpa/inet.h>

#include <twoway/pattern.hpp>
#include <twoway/text.hpp>

namespace twoway {

namespace {

std::uint32_t width(const IpAddress& a) noexcept { return a.v6 ? 128 : 32; }

// How an entry of an address list reads (OpenSSH's addr_pton_cidr): an address with a usable mask, an
// address whose mask cannot be right (the list is then invalid), or not an address at all (a pattern).
enum class CidrForm { block, bad_mask, not_address };

CidrForm read_cidr(std::string_view entry, AddressBlock& out) {
    const auto slash = entry.find('/');
    auto base = parse_ip_address(entry.substr(0, slash));
    std::uint32_t bits = 0;
    if (slash != std::string_view::npos) {
        // OpenSSH: anything but digits after the slash, or a number above 128, is "not an address".
        auto n = parse_decimal(entry.substr(slash + 1), 128);
        if (!n) return CidrForm::not_address;
        bits = static_cast<std::uint32_t>(*n);
    }
    if (!base) return CidrForm::not_address;
    if (slash == std::string_view::npos) bits = width(*base);
    if (bits > width(*base)) return CidrForm::bad_mask;
    if (!(masked_address(*base, bits) == *base)) return CidrForm::bad_mask;  // host bits set
    out = AddressBlock{*base, bits};
    return CidrForm::block;
}

}  // namespace

std::optional<IpAddress> parse_ip_address(std::string_view text) {
    if (text.empty() || text.size() >= INET6_ADDRSTRLEN) return std::nullopt;
    const std::string s(text);
    IpAddress a;
    if (s.find(':') != std::string::npos) {
        a.v6 = true;
        if (::inet_pton(AF_INET6, s.c_str(), a.bytes.data()) != 1) return std::nullopt;
        return a;
    }
    if (::inet_pton(AF_INET, s.c_str(), a.bytes.data()) != 1) return std::nullopt;
    return a;
}

std::string format_ip_address(const IpAddress& a) {
    char buf[INET6_ADDRSTRLEN] = {};
    if (::inet_ntop(a.v6 ? AF_INET6 : AF_INET, a.bytes.data(), buf, sizeof buf) == nullptr) return "?";
    return buf;
}

IpAddress masked_address(IpAddress a, std::uint32_t bits) noexcept {
    const std::uint32_t total = width(a);
    if (bits > total) bits = total;
    for (std::uint32_t i = 0; i < total / 8; ++i) {
        const std::uint32_t first_bit = i * 8;
        if (first_bit >= bits) {
            a.bytes[i] = 0;
        } else if (bits - first_bit < 8) {
            a.bytes[i] &= static_cast<std::uint8_t>(0xff00U >> (bits - first_bit));
        }
    }
    return a;
}

bool AddressBlock::contains(const IpAddress& a) const noexcept {
    if (a.v6 != base.v6) return false;
    return masked_address(a, bits) == base;
}

std::optional<AddressBlock> parse_address_block(std::string_view text) {
    const auto slash = text.find('/');
    auto base = parse_ip_address(text.substr(0, slash));
    if (!base) return std::nullopt;
    std::uint32_t bits = width(*base);
    if (slash != std::string_view::npos) {
        auto n = parse_decimal(text.substr(slash + 1), width(*base));
        if (!n) return std::nullopt;
        bits = static_cast<std::uint32_t>(*n);
    }
    if (!(masked_address(*base, bits) == *base)) return std::nullopt;  // host bits set
    return AddressBlock{*base, bits};
}

std::string format_address_block(const AddressBlock& b) {
    if (b.bits >= width(b.base)) return format_ip_address(b.base);
    return format_ip_address(b.base) + "/" + std::to_string(b.bits);
}

AddressMatch match_address_list(const IpAddress& addr, std::string_view list) {
    const std::string text = format_ip_address(addr);
    AddressMatch result = AddressMatch::none;
    std::size_t pos = 0;
    for (;;) {
        const std::size_t comma = list.find(',', pos);
        std::string_view entry = list.substr(pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos);
        const bool negated = !entry.empty() && entry.front() == '!';
        if (negated) entry.remove_prefix(1);
        if (entry.empty()) return AddressMatch::invalid;
        AddressBlock block;
        bool found = false;
        switch (read_cidr(entry, block)) {
            case CidrForm::bad_mask: return AddressMatch::invalid;
            case CidrForm::block: found = block.contains(addr); break;
            case CidrForm::not_address: found = match_pattern(entry, text); break;
        }
        if (found) {
            if (negated) return AddressMatch::negated;
            result = AddressMatch::match;
        }
        if (comma == std::string_view::npos) break;
        pos = comma + 1;
    }
    return result;
}

AddressMatch match_host_and_ip(const IpAddress& addr, std::string_view list) {
    const AddressMatch by_address = match_address_list(addr, list);
    if (by_address == AddressMatch::invalid || by_address == AddressMatch::negated) return by_address;
    const PatternMatch by_name = match_pattern_list(format_ip_address(addr), list, true);
    if (by_name == PatternMatch::negated) return AddressMatch::negated;
    if (by_name == PatternMatch::none && by_address == AddressMatch::none) return AddressMatch::none;
    return AddressMatch::match;
}

std::optional<bool> match_user(std::string_view user, const IpAddress& addr, std::string_view pattern) {
    const auto at = pattern.rfind('@');
    if (at == std::string_view::npos) return match_pattern(pattern, user);
    if (!match_pattern(pattern.substr(0, at), user)) {
        // OpenSSH checks the host part only after the user part matched; an invalid host list is still
        // an error worth reporting, so it is checked here either way.
        if (match_host_and_ip(addr, pattern.substr(at + 1)) == AddressMatch::invalid) return std::nullopt;
        return false;
    }
    const AddressMatch host = match_host_and_ip(addr, pattern.substr(at + 1));
    if (host == AddressMatch::invalid) return std::nullopt;
    return host == AddressMatch::match;
}

}  // namespace twoway

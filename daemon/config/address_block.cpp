// Address literals and CIDR blocks for PerSourcePenaltyExemptList and PerSourceNetBlockSize: pure
// (inet_pton/inet_ntop only convert text), so the config parser, the daemon and the fuzzers share them.
#include <algorithm>

#include <arpa/inet.h>

#include <cstring>
#include <string>

#include "daemon_config.hpp"
#include <twoway/text.hpp>

namespace twowayd {


namespace {

// Clears every bit of a past the first `bits` (of 32 or 128).
IpAddress masked(IpAddress a, std::uint32_t bits) {
    const std::uint32_t total = a.v6 ? 128 : 32;
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

std::string address_text(const IpAddress& a) {
    char buf[INET6_ADDRSTRLEN] = {};
    if (::inet_ntop(a.v6 ? AF_INET6 : AF_INET, a.bytes.data(), buf, sizeof buf) == nullptr) return "?";
    return buf;
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

bool AddressBlock::contains(const IpAddress& a) const noexcept {
    if (a.v6 != base.v6) return false;
    return masked(a, bits) == base;
}

std::optional<AddressBlock> parse_address_block(std::string_view text) {
    const auto slash = text.find('/');
    auto base = parse_ip_address(text.substr(0, slash));
    if (!base) return std::nullopt;
    const std::uint32_t total = base->v6 ? 128 : 32;
    std::uint32_t bits = total;
    if (slash != std::string_view::npos) {
        auto n = twoway::parse_decimal(text.substr(slash + 1), total);
        if (!n) return std::nullopt;
        bits = static_cast<std::uint32_t>(*n);
    }
    if (!(masked(*base, bits) == *base)) return std::nullopt;  // host bits set
    return AddressBlock{*base, bits};
}

std::string format_address_block(const AddressBlock& b) {
    const std::uint32_t total = b.base.v6 ? 128 : 32;
    if (b.bits >= total) return address_text(b.base);
    return address_text(b.base) + "/" + std::to_string(b.bits);
}

std::string source_key(const IpAddress& a, std::uint32_t bits4, std::uint32_t bits6) {
    const std::uint32_t bits = std::min(a.v6 ? bits6 : bits4, a.v6 ? 128U : 32U);
    return format_address_block(AddressBlock{masked(a, bits), bits});
}

}  // namespace twowayd

#include "socks.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <array>

namespace twoway_client::socks {

namespace session = twoway::session;

namespace {

constexpr std::uint8_t socks4_command_connect = 1;
constexpr std::uint8_t socks5_command_connect = 1;
constexpr std::uint8_t socks5_no_auth = 0x00;
constexpr std::uint8_t socks5_no_acceptable = 0xff;
constexpr std::uint8_t atyp_ipv4 = 1;
constexpr std::uint8_t atyp_domain = 3;
constexpr std::uint8_t atyp_ipv6 = 4;

std::uint8_t u8(const std::vector<std::byte>& b, std::size_t i) { return std::to_integer<std::uint8_t>(b[i]); }

std::uint16_t u16(const std::vector<std::byte>& b, std::size_t i) {
    return static_cast<std::uint16_t>((u8(b, i) << 8) | u8(b, i + 1));
}

std::string ipv4_text(const std::vector<std::byte>& b, std::size_t i) {
    return std::to_string(u8(b, i)) + "." + std::to_string(u8(b, i + 1)) + "." + std::to_string(u8(b, i + 2)) + "." +
           std::to_string(u8(b, i + 3));
}

// The NUL-terminated string starting at from: its end (the NUL's index), or nothing when the NUL has not
// come yet; too_long when more than max bytes came without one.
struct CString {
    std::optional<std::size_t> end;
    bool too_long = false;
};
CString find_nul(const std::vector<std::byte>& b, std::size_t from, std::size_t max) {
    const std::size_t limit = std::min(b.size(), from + max + 1);
    for (std::size_t i = from; i < limit; ++i) {
        if (b[i] == std::byte{0}) return {i, false};
    }
    return {std::nullopt, b.size() > from + max};
}

bool domain_chars(std::string_view d) {
    // No ':' or brackets: a domain must not read as "host:port" or as an IPv6 address in the text we build.
    return d.find_first_of(":[]") == std::string_view::npos;
}

}  // namespace

Step Parser::fail(Reply r, std::string why) const {
    Step s;
    s.kind = Step::Kind::failed;
    s.error = std::move(why);
    if (version_ != Version::none) s.send = reply(r);
    return s;
}

std::vector<std::byte> Parser::reply(Reply r) const {
    if (version_ == Version::v4) {
        // VN 0, CD, then DSTPORT and DSTIP, which a CONNECT reply leaves unset (zero).
        const std::uint8_t cd = r == Reply::succeeded ? 0x5a : 0x5b;
        return {std::byte{0}, std::byte{cd}, std::byte{0}, std::byte{0},
                std::byte{0}, std::byte{0},  std::byte{0}, std::byte{0}};
    }
    if (version_ == Version::v5) {
        std::uint8_t rep = 0x01;
        switch (r) {
            case Reply::succeeded: rep = 0x00; break;
            case Reply::general_failure: rep = 0x01; break;
            case Reply::not_allowed: rep = 0x02; break;
            case Reply::command_not_supported: rep = 0x07; break;
            case Reply::address_not_supported: rep = 0x08; break;
        }
        // BND.ADDR 0.0.0.0, BND.PORT 0, as ssh answers.
        return {std::byte{5}, std::byte{rep}, std::byte{0}, std::byte{atyp_ipv4}, std::byte{0},
                std::byte{0}, std::byte{0},   std::byte{0}, std::byte{0},         std::byte{0}};
    }
    return {};
}

Step Parser::feed(std::span<const std::byte> bytes) {
    if (over_) {
        Step s;
        s.kind = Step::Kind::failed;
        s.error = "SOCKS request already decided";
        return s;
    }
    // Never more than max_request bytes held: what goes beyond can only be data after a request.
    const std::size_t take = std::min(bytes.size(), max_request - buf_.size());
    buf_.insert(buf_.end(), bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(take));
    const bool greeted_before = greeted_;
    Step s = parse();
    if (!greeted_before && greeted_ && s.kind == Step::Kind::failed) {
        // The greeting and a bad request came together: the method choice still goes first.
        s.send.insert(s.send.begin(), {std::byte{5}, std::byte{socks5_no_auth}});
    }
    if (s.kind == Step::Kind::need_more && buf_.size() >= max_request) {
        s = fail(Reply::general_failure, "SOCKS request too long");  // cannot happen with the bounds above
    }
    if (s.kind == Step::Kind::done) {
        s.rest.assign(buf_.begin() + static_cast<std::ptrdiff_t>(s.consumed), buf_.end());
        s.rest.insert(s.rest.end(), bytes.begin() + static_cast<std::ptrdiff_t>(take), bytes.end());
    }
    if (s.kind != Step::Kind::need_more) over_ = true;
    return s;
}

Step Parser::parse() {
    if (buf_.empty()) return {};
    const std::uint8_t v = u8(buf_, 0);
    if (v == 4) {
        version_ = Version::v4;
        return parse_v4();
    }
    if (v == 5) {
        version_ = Version::v5;
        return parse_v5();
    }
    // Not SOCKS (an HTTP proxy request, say): nothing we could answer in its protocol; close.
    return fail(Reply::general_failure, "not a SOCKS 4 or 5 request (first byte " + std::to_string(v) + ")");
}

// VN 4 | CD | DSTPORT(2) | DSTIP(4) | USERID | NUL, and for 4a (DSTIP 0.0.0.x, x != 0) DOMAIN | NUL.
Step Parser::parse_v4() {
    if (buf_.size() < 8) return {};
    if (u8(buf_, 1) != socks4_command_connect) {
        return fail(Reply::command_not_supported, "SOCKS4 command " + std::to_string(u8(buf_, 1)) + " not supported");
    }
    const std::uint16_t port = u16(buf_, 2);
    const CString user = find_nul(buf_, 8, max_user_id);
    if (user.too_long) return fail(Reply::general_failure, "SOCKS4 user id too long");
    if (!user.end) return {};
    std::size_t end = *user.end + 1;
    std::string host;
    const bool socks4a = u8(buf_, 4) == 0 && u8(buf_, 5) == 0 && u8(buf_, 6) == 0 && u8(buf_, 7) != 0;
    if (socks4a) {
        const CString domain = find_nul(buf_, end, max_domain);
        if (domain.too_long) return fail(Reply::general_failure, "SOCKS4a domain name too long");
        if (!domain.end) return {};
        host.assign(reinterpret_cast<const char*>(buf_.data() + end), *domain.end - end);
        end = *domain.end + 1;
        if (host.empty() || !domain_chars(host)) return fail(Reply::general_failure, "SOCKS4a: bad domain name");
    } else {
        host = ipv4_text(buf_, 4);
    }
    auto dest = session::parse_destination(host + ":" + std::to_string(port));
    if (!dest || (socks4a && dest->host != host)) return fail(Reply::general_failure, "SOCKS4: bad destination");
    Step s;
    s.kind = Step::Kind::done;
    s.destination = std::move(dest);
    s.consumed = end;
    return s;
}

// Greeting: VER 5 | NMETHODS | METHODS; request: VER 5 | CMD | RSV | ATYP | DST.ADDR | DST.PORT(2).
Step Parser::parse_v5() {
    Step s;
    if (!greeted_) {
        if (buf_.size() < 2) return s;
        const std::size_t n = u8(buf_, 1);
        if (buf_.size() < 2 + n) return s;
        bool no_auth = false;
        for (std::size_t i = 0; i < n; ++i) no_auth = no_auth || u8(buf_, 2 + i) == socks5_no_auth;
        if (!no_auth) {
            // 05 FF: none of the offered methods is acceptable; the client closes.
            Step f;
            f.kind = Step::Kind::failed;
            f.error = "SOCKS5: no acceptable authentication method (twoway offers none but \"no authentication\")";
            f.send = {std::byte{5}, std::byte{socks5_no_acceptable}};
            return f;
        }
        greeted_ = true;
        greeting_size_ = 2 + n;
        s.send = {std::byte{5}, std::byte{socks5_no_auth}};  // written once, whatever follows
    }
    const std::size_t g = greeting_size_;
    if (buf_.size() < g + 4) return s;
    if (u8(buf_, g) != 5) return fail(Reply::general_failure, "SOCKS5: request version " + std::to_string(u8(buf_, g)));
    if (u8(buf_, g + 1) != socks5_command_connect) {
        return fail(Reply::command_not_supported, "SOCKS5 command " + std::to_string(u8(buf_, g + 1)) + " not supported");
    }
    const std::uint8_t atyp = u8(buf_, g + 3);
    std::size_t addr = g + 4;
    std::size_t addr_len = 0;
    if (atyp == atyp_ipv4) {
        addr_len = 4;
    } else if (atyp == atyp_ipv6) {
        addr_len = 16;
    } else if (atyp == atyp_domain) {
        if (buf_.size() < addr + 1) return s;
        addr_len = u8(buf_, addr);
        ++addr;
        if (addr_len == 0) return fail(Reply::general_failure, "SOCKS5: empty domain name");
    } else {
        return fail(Reply::address_not_supported, "SOCKS5: address type " + std::to_string(atyp) + " not supported");
    }
    if (buf_.size() < addr + addr_len + 2) return s;
    const std::uint16_t port = u16(buf_, addr + addr_len);
    std::string text;
    std::string domain;
    if (atyp == atyp_ipv4) {
        text = ipv4_text(buf_, addr);
    } else if (atyp == atyp_ipv6) {
        std::array<unsigned char, 16> a{};
        for (std::size_t i = 0; i < 16; ++i) a[i] = u8(buf_, addr + i);
        std::array<char, INET6_ADDRSTRLEN> out{};
        if (inet_ntop(AF_INET6, a.data(), out.data(), out.size()) == nullptr) {
            return fail(Reply::general_failure, "SOCKS5: bad IPv6 address");
        }
        text = "[" + std::string(out.data()) + "]";
    } else {
        domain.assign(reinterpret_cast<const char*>(buf_.data() + addr), addr_len);
        if (!domain_chars(domain)) return fail(Reply::general_failure, "SOCKS5: bad domain name");
        text = domain;
    }
    auto dest = session::parse_destination(text + ":" + std::to_string(port));
    if (!dest || (atyp == atyp_domain && dest->host != domain)) {
        return fail(Reply::general_failure, "SOCKS5: bad destination");
    }
    s.kind = Step::Kind::done;
    s.destination = std::move(dest);
    s.consumed = addr + addr_len + 2;
    return s;
}

}  // namespace twoway_client::socks

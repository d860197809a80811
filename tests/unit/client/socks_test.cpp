// -D's SOCKS request parser (client/twoway/socks.cpp): SOCKS4, 4a and 5 CONNECT requests, every reply it
// can ask for, byte-at-a-time feeding, the bounds, and the bytes after a request kept for the tunnel.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "../../../client/twoway/socks.hpp"

using namespace twoway_client::socks;
using Bytes = std::vector<std::byte>;

namespace {

Bytes b(std::initializer_list<int> v) {
    Bytes out;
    for (int x : v) out.push_back(static_cast<std::byte>(x));
    return out;
}
Bytes operator+(Bytes a, const Bytes& c) {
    a.insert(a.end(), c.begin(), c.end());
    return a;
}
Bytes text(std::string_view s, bool nul = false) {
    Bytes out;
    for (char c : s) out.push_back(static_cast<std::byte>(c));
    if (nul) out.push_back(std::byte{0});
    return out;
}

// Feeds all of in at once; REQUIREs one step.
Step all(Parser& p, const Bytes& in) { return p.feed(in); }

// Feeds in one byte at a time; collects what is to be sent; returns the last step.
Step bytewise(Parser& p, const Bytes& in, Bytes& sent) {
    Step s;
    for (std::size_t i = 0; i < in.size(); ++i) {
        s = p.feed(std::span(in).subspan(i, 1));
        sent.insert(sent.end(), s.send.begin(), s.send.end());
        if (s.kind != Step::Kind::need_more) {
            REQUIRE(s.consumed <= i + 1);
            break;
        }
    }
    return s;
}

const Bytes greeting = b({5, 1, 0});
Bytes v5_request(int cmd, int atyp, const Bytes& addr, int port) {
    return b({5, cmd, 0, atyp}) + addr + b({port >> 8, port & 0xff});
}
Bytes v4_request(int cmd, int port, const Bytes& ip, std::string_view user) {
    return b({4, cmd, port >> 8, port & 0xff}) + ip + text(user, true);
}

}  // namespace

TEST_CASE("SOCKS4 CONNECT to an IPv4 address", "[socks]") {
    Parser p;
    const Bytes req = v4_request(1, 8080, b({127, 0, 0, 1}), "alice");
    Step s = all(p, req);
    REQUIRE(s.kind == Step::Kind::done);
    CHECK(p.version() == Version::v4);
    CHECK(s.send.empty());
    CHECK(s.destination->host == "127.0.0.1");
    CHECK(s.destination->port == 8080);
    CHECK(s.consumed == req.size());
    CHECK(s.rest.empty());
    CHECK(p.reply(Reply::succeeded) == b({0, 0x5a, 0, 0, 0, 0, 0, 0}));
    CHECK(p.reply(Reply::not_allowed) == b({0, 0x5b, 0, 0, 0, 0, 0, 0}));
    CHECK(p.reply(Reply::general_failure) == b({0, 0x5b, 0, 0, 0, 0, 0, 0}));
}

TEST_CASE("SOCKS4a CONNECT to a name, byte at a time, with data after it", "[socks]") {
    Parser p;
    const Bytes req = v4_request(1, 80, b({0, 0, 0, 1}), "") + text("example.org", true);
    const Bytes data = text("GET / HTTP/1.0\r\n\r\n");
    Bytes sent;
    Step s = bytewise(p, req, sent);
    REQUIRE(s.kind == Step::Kind::done);
    CHECK(sent.empty());
    CHECK(s.destination->host == "example.org");
    CHECK(s.destination->port == 80);
    CHECK(s.consumed == req.size());

    Parser q;  // the same with the data in the same read: kept for the tunnel
    Step t = all(q, req + data);
    REQUIRE(t.kind == Step::Kind::done);
    CHECK(t.consumed == req.size());
    CHECK(t.rest == data);
}

TEST_CASE("SOCKS4 refusals", "[socks]") {
    const Bytes rejected = b({0, 0x5b, 0, 0, 0, 0, 0, 0});
    SECTION("BIND is not supported") {
        Parser p;
        Step s = all(p, v4_request(2, 80, b({10, 0, 0, 1}), ""));
        CHECK(s.kind == Step::Kind::failed);
        CHECK(s.send == rejected);
    }
    SECTION("a user id past the bound") {
        Parser p;
        Step s = all(p, v4_request(1, 80, b({10, 0, 0, 1}), std::string(max_user_id, 'u')));
        CHECK(s.kind == Step::Kind::done);  // max_user_id itself is fine
        Parser q;
        Bytes sent;
        s = bytewise(q, b({4, 1, 0, 80, 10, 0, 0, 1}) + text(std::string(max_user_id + 1, 'u')), sent);
        CHECK(s.kind == Step::Kind::failed);
        CHECK(sent == rejected);
    }
    SECTION("a 4a domain past the bound, empty, or not a host name") {
        Parser p;
        Step s = all(p, v4_request(1, 80, b({0, 0, 0, 9}), "") + text(std::string(max_domain + 1, 'a')));
        CHECK(s.kind == Step::Kind::failed);
        CHECK(s.send == rejected);
        Parser q;
        CHECK(all(q, v4_request(1, 80, b({0, 0, 0, 9}), "") + text("", true)).kind == Step::Kind::failed);
        Parser r;
        CHECK(all(r, v4_request(1, 80, b({0, 0, 0, 9}), "") + text("a b", true)).kind == Step::Kind::failed);
        Parser t;
        CHECK(all(t, v4_request(1, 80, b({0, 0, 0, 9}), "") + text("h:22", true)).kind == Step::Kind::failed);
    }
    SECTION("port 0") {
        Parser p;
        Step s = all(p, v4_request(1, 0, b({10, 0, 0, 1}), ""));
        CHECK(s.kind == Step::Kind::failed);
        CHECK(s.send == rejected);
    }
    SECTION("an incomplete request waits") {
        Parser p;
        CHECK(all(p, b({4, 1, 0, 80, 10, 0, 0})).kind == Step::Kind::need_more);
        CHECK(p.feed(b({1, 'x'})).kind == Step::Kind::need_more);
        CHECK(p.feed(b({0})).kind == Step::Kind::done);
    }
}

TEST_CASE("SOCKS5 CONNECT with each address type", "[socks]") {
    SECTION("IPv4") {
        Parser p;
        Step s = all(p, greeting);
        CHECK(s.kind == Step::Kind::need_more);
        CHECK(s.send == b({5, 0}));
        const Bytes req = v5_request(1, 1, b({192, 0, 2, 7}), 443);
        s = all(p, req);
        REQUIRE(s.kind == Step::Kind::done);
        CHECK(s.send.empty());  // the method choice went once
        CHECK(s.destination->host == "192.0.2.7");
        CHECK(s.destination->port == 443);
        CHECK(s.consumed == greeting.size() + req.size());
    }
    SECTION("a domain, byte at a time") {
        Parser p;
        Bytes sent;
        const Bytes req = greeting + v5_request(1, 3, b({9}) + text("localhost"), 8000);
        Step s = bytewise(p, req, sent);
        REQUIRE(s.kind == Step::Kind::done);
        CHECK(sent == b({5, 0}));
        CHECK(s.destination->host == "localhost");
        CHECK(s.destination->port == 8000);
        CHECK(s.consumed == req.size());
    }
    SECTION("IPv6, with greeting, request and data in one read") {
        Parser p;
        const Bytes addr = b({0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1});
        const Bytes data = text("hello");
        Step s = all(p, b({5, 2, 2, 0}) + v5_request(1, 4, addr, 22) + data);
        REQUIRE(s.kind == Step::Kind::done);
        CHECK(s.send == b({5, 0}));
        CHECK(s.destination->host == "2001:db8::1");
        CHECK(s.destination->port == 22);
        CHECK(s.rest == data);
        CHECK(twoway::session::destination_text(*s.destination) == "[2001:db8::1]:22");
    }
    SECTION("the domain's full 255 bytes (as labels a host name may have)") {
        std::string name;
        while (name.size() < max_domain) name += name.empty() ? "a" : ".a";
        name.resize(max_domain);
        if (name.back() == '.') name.back() = 'b';
        Parser p;
        Step s = all(p, greeting + v5_request(1, 3, b({static_cast<int>(name.size())}) + text(name), 80));
        // longer than a destination's host may be (253): refused, but decided within the bound
        CHECK(s.kind == Step::Kind::failed);
        CHECK(s.send == b({5, 0, 5, 1, 0, 1, 0, 0, 0, 0, 0, 0}));
    }
    SECTION("replies") {
        Parser p;
        (void)all(p, greeting);
        CHECK(p.reply(Reply::succeeded) == b({5, 0, 0, 1, 0, 0, 0, 0, 0, 0}));
        CHECK(p.reply(Reply::general_failure) == b({5, 1, 0, 1, 0, 0, 0, 0, 0, 0}));
        CHECK(p.reply(Reply::not_allowed) == b({5, 2, 0, 1, 0, 0, 0, 0, 0, 0}));
        CHECK(p.reply(Reply::command_not_supported) == b({5, 7, 0, 1, 0, 0, 0, 0, 0, 0}));
        CHECK(p.reply(Reply::address_not_supported) == b({5, 8, 0, 1, 0, 0, 0, 0, 0, 0}));
    }
}

TEST_CASE("SOCKS5 refusals", "[socks]") {
    SECTION("no 'no authentication' method offered: 05 FF") {
        Parser p;
        Step s = all(p, b({5, 2, 1, 2}));
        CHECK(s.kind == Step::Kind::failed);
        CHECK(s.send == b({5, 0xff}));
        Parser q;
        s = all(q, b({5, 0}));
        CHECK(s.kind == Step::Kind::failed);
        CHECK(s.send == b({5, 0xff}));
    }
    SECTION("BIND and UDP ASSOCIATE: command not supported (07)") {
        for (int cmd : {2, 3}) {
            Parser p;
            (void)all(p, greeting);
            Step s = all(p, v5_request(cmd, 1, b({127, 0, 0, 1}), 80));
            CHECK(s.kind == Step::Kind::failed);
            CHECK(s.send == b({5, 7, 0, 1, 0, 0, 0, 0, 0, 0}));
        }
    }
    SECTION("an unknown address type (08)") {
        Parser p;
        (void)all(p, greeting);
        Step s = all(p, b({5, 1, 0, 2}));
        CHECK(s.kind == Step::Kind::failed);
        CHECK(s.send == b({5, 8, 0, 1, 0, 0, 0, 0, 0, 0}));
    }
    SECTION("a bad domain, an empty one, port 0, a wrong request version (01)") {
        const Bytes general = b({5, 1, 0, 1, 0, 0, 0, 0, 0, 0});
        for (const Bytes& req : {v5_request(1, 3, b({3}) + text("a b"), 80), v5_request(1, 3, b({4}) + text("[::]"), 80),
                                 v5_request(1, 3, b({0}), 80), v5_request(1, 1, b({127, 0, 0, 1}), 0),
                                 b({4, 1, 0, 1, 127, 0, 0, 1, 0, 80})}) {
            Parser p;
            (void)all(p, greeting);
            Step s = all(p, req);
            CHECK(s.kind == Step::Kind::failed);
            CHECK(s.send == general);
        }
    }
    SECTION("greeting and a bad request in one read: the method choice first") {
        Parser p;
        Step s = all(p, greeting + v5_request(2, 1, b({127, 0, 0, 1}), 80));
        CHECK(s.kind == Step::Kind::failed);
        CHECK(s.send == b({5, 0, 5, 7, 0, 1, 0, 0, 0, 0, 0, 0}));
    }
}

TEST_CASE("SOCKS: not SOCKS, and nothing after a decision", "[socks]") {
    Parser p;
    Step s = all(p, text("GET / HTTP/1.1\r\n"));
    CHECK(s.kind == Step::Kind::failed);
    CHECK(s.send.empty());
    CHECK(p.feed(b({5, 1, 0})).kind == Step::Kind::failed);
    Parser q;
    CHECK(all(q, {}).kind == Step::Kind::need_more);
}

TEST_CASE("SOCKS: a large read after a request goes to the tunnel whole", "[socks]") {
    Parser p;
    const Bytes req = greeting + v5_request(1, 1, b({127, 0, 0, 1}), 80);
    Bytes data(4 * max_request, std::byte{'x'});
    Step s = all(p, req + data);
    REQUIRE(s.kind == Step::Kind::done);
    CHECK(s.consumed == req.size());
    CHECK(s.rest == data);
}

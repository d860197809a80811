// Remote forwarding's pieces (docs/PROTOCOL.md 15, "Remote forwarding"): listen addresses, PermitListen
// entries, pickup tokens, and the records of a listen session's out stream, byte by byte as the spec's
// example gives them, fed whole and one byte at a time.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include <twoway/session.hpp>

#include "../../support/hex.hpp"

using namespace twoway;
using namespace twoway::session;
using twoway::test::hex;
using twoway::test::unhex;

namespace {

PickupToken counting_token() {
    PickupToken t{};
    for (std::size_t i = 0; i < t.size(); ++i) t[i] = static_cast<std::uint8_t>(i);
    return t;
}

// Feeds bytes in pieces of `step`, keeping the unconsumed tail as a reader must.
std::vector<ListenRecord> feed_in_steps(const std::vector<std::byte>& all, std::size_t step) {
    std::vector<ListenRecord> got;
    std::vector<std::byte> held;
    bool bound = false;
    for (std::size_t at = 0; at < all.size(); at += step) {
        const auto n = std::min(step, all.size() - at);
        held.insert(held.end(), all.begin() + static_cast<std::ptrdiff_t>(at),
                    all.begin() + static_cast<std::ptrdiff_t>(at + n));
        auto r = parse_listen_records(held, bound);
        REQUIRE(r.has_value());
        REQUIRE(held.size() - r->consumed < max_listen_record);
        held.erase(held.begin(), held.begin() + static_cast<std::ptrdiff_t>(r->consumed));
        for (auto& rec : r->records) {
            if (std::holds_alternative<ListenBound>(rec)) bound = true;
            got.push_back(std::move(rec));
        }
    }
    CHECK(held.empty());
    return got;
}

}  // namespace

TEST_CASE("listen addresses as ssh -R writes its bind address and port", "[session][listen]") {
    CHECK(parse_listen_address("8080") == ListenAddress{"", 8080});
    CHECK(parse_listen_address("0") == ListenAddress{"", 0});
    CHECK(parse_listen_address("localhost:8080") == ListenAddress{"localhost", 8080});
    CHECK(parse_listen_address("*:80") == ListenAddress{"*", 80});
    CHECK(parse_listen_address("[::1]:2222") == ListenAddress{"::1", 2222});
    CHECK(parse_listen_address("127.0.0.1:0") == ListenAddress{"127.0.0.1", 0});
    for (const char* bad : {"", "65536", "080", "-1", "+1", ":80", "a b:80", "-x:80", "[]:80", "[x]:80", "::1:80",
                            "host:", "host:*", "8080:extra:1"}) {
        INFO(bad);
        CHECK_FALSE(parse_listen_address(bad));
        CHECK_FALSE(valid_command(RequestKind::listen, bad));
    }
    for (const auto& a : {ListenAddress{"", 1}, ListenAddress{"*", 0}, ListenAddress{"::1", 22},
                          ListenAddress{"gw.example", 65535}}) {
        CHECK(parse_listen_address(listen_address_text(a)) == a);
    }
    CHECK(listen_address_text(ListenAddress{"::1", 22}) == "[::1]:22");
    CHECK(is_connection(RequestKind::listen));
    CHECK(is_connection(RequestKind::pickup));
    CHECK(valid_request(Request{RequestKind::listen, "0", std::nullopt, {}}));
    CHECK_FALSE(valid_request(Request{RequestKind::listen, "0", Pty{}, {}}));  // a listener has no terminal
}

TEST_CASE("PermitListen entries match as sshd's", "[session][listen]") {
    CHECK(valid_permit_listen("8080"));
    CHECK(valid_permit_listen("*"));
    CHECK(valid_permit_listen("localhost:*"));
    CHECK(valid_permit_listen("*:0"));
    CHECK_FALSE(valid_permit_listen("host:"));
    CHECK_FALSE(valid_permit_listen("99999"));
    CHECK_FALSE(valid_permit_listen(""));
    CHECK_FALSE(valid_permit_listen("a b:1"));

    CHECK(permit_listen_matches("8080", ListenAddress{"", 8080}));
    CHECK(permit_listen_matches("8080", ListenAddress{"*", 8080}));
    CHECK_FALSE(permit_listen_matches("8080", ListenAddress{"", 8081}));
    // port 0 (the server chooses) needs "*" or an entry for 0
    CHECK_FALSE(permit_listen_matches("8080", ListenAddress{"", 0}));
    CHECK(permit_listen_matches("*", ListenAddress{"", 0}));
    CHECK(permit_listen_matches("0", ListenAddress{"", 0}));
    // a host in the entry must be the one asked for (case ignored); "*" admits any
    CHECK(permit_listen_matches("LocalHost:8080", ListenAddress{"localhost", 8080}));
    CHECK_FALSE(permit_listen_matches("localhost:8080", ListenAddress{"", 8080}));
    CHECK_FALSE(permit_listen_matches("localhost:8080", ListenAddress{"127.0.0.1", 8080}));
    CHECK(permit_listen_matches("*:8080", ListenAddress{"10.0.0.1", 8080}));
    CHECK(permit_listen_matches("[::1]:*", ListenAddress{"::1", 9}));
    CHECK_FALSE(permit_listen_matches("bad entry", ListenAddress{"", 1}));
}

TEST_CASE("pickup tokens are 64 lower-case hex digits", "[session][listen]") {
    const auto t = counting_token();
    const auto text = pickup_text(t);
    CHECK(text == "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
    CHECK(parse_pickup(text) == t);
    CHECK(same_pickup_token(t, *parse_pickup(text)));
    auto other = t;
    other[31] ^= 1;
    CHECK_FALSE(same_pickup_token(t, other));
    CHECK(valid_command(RequestKind::pickup, text));
    std::string upper = text;
    upper[21] = 'A';
    CHECK_FALSE(parse_pickup(upper));
    CHECK_FALSE(parse_pickup(text.substr(1)));
    CHECK_FALSE(parse_pickup(text + "0"));
    CHECK_FALSE(valid_command(RequestKind::pickup, "g" + text.substr(1)));
}

TEST_CASE("listen records: the spec's example bytes, whole and byte by byte", "[session][listen]") {
    // PROTOCOL.md's example: bound on port 8080, then a connection from 127.0.0.1:40000.
    const ListenConnection conn{counting_token(), "127.0.0.1:40000"};
    auto bound = encode_listen_record(ListenBound{8080});
    auto connection = encode_listen_record(conn);
    REQUIRE(bound.has_value());
    REQUIRE(connection.has_value());
    CHECK(hex(*bound) == "0100001f90");
    CHECK(hex(*connection) ==
          "02000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
          "0000000f3132372e302e302e313a3430303030");
    std::vector<std::byte> all = *bound;
    all.insert(all.end(), connection->begin(), connection->end());
    all.insert(all.end(), connection->begin(), connection->end());
    for (std::size_t step : {all.size(), std::size_t{1}, std::size_t{7}}) {
        INFO(step);
        const auto got = feed_in_steps(all, step);
        REQUIRE(got.size() == 3);
        CHECK(std::get<ListenBound>(got[0]).port == 8080);
        CHECK(std::get<ListenConnection>(got[1]) == conn);
        CHECK(std::get<ListenConnection>(got[2]) == conn);
    }
}

TEST_CASE("listen records that cannot be valid fail at once", "[session][listen]") {
    const auto fails = [](const std::string& h, bool bound_seen) {
        auto r = parse_listen_records(unhex(h), bound_seen);
        return r.has_value() ? std::error_code{} : r.error();
    };
    CHECK(fails("00", false) == errc::malformed);
    CHECK(fails("03", true) == errc::malformed);
    CHECK(fails("0100000000", false) == errc::malformed);  // port 0
    CHECK(fails("0100010000", false) == errc::malformed);  // port 65536
    CHECK(fails("0100000016", true) == errc::unexpected_message);  // a second bound
    CHECK(fails("02", false) == errc::unexpected_message);  // a connection before bound
    // an originator longer than 64 bytes fails on its length, before its bytes arrive
    CHECK(fails("02" + std::string(64, '0') + "00000041", true) == errc::length_too_large);
    // control characters in the originator
    CHECK(fails("02" + std::string(64, '0') + "000000021b5b", true) == errc::malformed);
    // an incomplete record is not an error: nothing is consumed
    auto partial = parse_listen_records(unhex("0100"), false);
    REQUIRE(partial.has_value());
    CHECK(partial->consumed == 0);
    CHECK(partial->records.empty());
    CHECK_FALSE(encode_listen_record(ListenBound{0}).has_value());
    CHECK_FALSE(encode_listen_record(ListenConnection{{}, "a\nb"}).has_value());
    CHECK_FALSE(encode_listen_record(ListenConnection{{}, std::string(65, 'a')}).has_value());
}

#include <catch2/catch.hpp>

#include <vector>

#include "wire/reader.hpp"
#include "wire/writer.hpp"

using namespace twoway;
using twoway::wire::Reader;
using twoway::wire::Writer;

namespace {
std::vector<std::byte> bytes_of(std::initializer_list<int> v) {
    std::vector<std::byte> out;
    for (int x : v) out.push_back(static_cast<std::byte>(x));
    return out;
}
}  // namespace

TEST_CASE("writer and reader round-trip integers and strings", "[wire]") {
    Writer w;
    w.u8(0xab).u16(0x1234).u32(0xdeadbeef).u64(0x0102030405060708ULL).string("hello").string(std::string_view{});
    auto buf = w.take();
    REQUIRE(buf.size() == 1 + 2 + 4 + 8 + 4 + 5 + 4);
    // Big-endian on the wire.
    CHECK(buf[1] == std::byte{0x12});
    CHECK(buf[3] == std::byte{0xde});

    Reader r(buf);
    CHECK(r.u8() == 0xab);
    CHECK(r.u16() == 0x1234);
    CHECK(r.u32() == 0xdeadbeef);
    CHECK(r.u64() == 0x0102030405060708ULL);
    CHECK(r.text(16) == "hello");
    CHECK(r.string(16).empty());
    CHECK(r.expect_end());
    CHECK(r.ok());
}

TEST_CASE("a read past the end fails and the failure is sticky", "[wire]") {
    auto buf = bytes_of({0, 0, 0});
    Reader r(buf);
    CHECK(r.u32() == 0);
    CHECK_FALSE(r.ok());
    CHECK(r.error() == errc::short_input);
    // Later reads fail too, even ones that would fit the original input.
    CHECK(r.u8() == 0);
    CHECK(r.bytes(1).empty());
    CHECK(r.remaining() == 0);
    CHECK_FALSE(r.expect_end());
    CHECK(r.error() == errc::short_input);  // first error wins
}

TEST_CASE("trailing bytes are an error", "[wire]") {
    auto buf = bytes_of({1, 2});
    Reader r(buf);
    CHECK(r.u8() == 1);
    CHECK_FALSE(r.expect_end());
    CHECK(r.error() == errc::trailing_data);
}

TEST_CASE("a huge length is refused before anything is sliced", "[wire]") {
    auto buf = bytes_of({0xff, 0xff, 0xff, 0xff, 'a'});
    Reader r(buf);
    CHECK(r.string(1024).empty());
    CHECK(r.error() == errc::length_too_large);

    // A length under the cap but past the end is short input, not a big allocation.
    auto buf2 = bytes_of({0, 0, 0x10, 0, 'a'});
    Reader r2(buf2);
    CHECK(r2.string(1 << 20).empty());
    CHECK(r2.error() == errc::short_input);
}

TEST_CASE("length exactly at the cap is accepted, one above is not", "[wire]") {
    Writer w;
    w.string("abcd");
    auto buf = w.take();
    Reader ok(buf);
    CHECK(ok.string(4).size() == 4);
    CHECK(ok.expect_end());
    Reader bad(buf);
    CHECK(bad.string(3).empty());
    CHECK(bad.error() == errc::length_too_large);
}

TEST_CASE("sub-readers are bounded by their string and inherit failure", "[wire]") {
    Writer inner;
    inner.u32(7).string("x");
    Writer outer;
    outer.string(inner.view()).u8(9);
    auto buf = outer.take();

    Reader r(buf);
    Reader s = r.sub(64);
    CHECK(s.u32() == 7);
    CHECK(s.text(8) == "x");
    CHECK(s.expect_end());
    CHECK(s.u8() == 0);  // cannot read past the sub-string into the outer data
    CHECK_FALSE(s.ok());
    CHECK(r.u8() == 9);
    CHECK(r.expect_end());

    auto short_buf = bytes_of({0, 0});
    Reader bad(short_buf);
    Reader s2 = bad.sub(64);
    CHECK_FALSE(s2.ok());
    CHECK(s2.error() == errc::short_input);
}

TEST_CASE("text refuses control characters", "[wire]") {
    Writer w;
    w.string(std::string_view("a\nb", 3));
    auto buf = w.take();
    Reader r(buf);
    CHECK(r.text(16).empty());
    CHECK(r.error() == errc::malformed);
}

TEST_CASE("fixed arrays read exactly N bytes", "[wire]") {
    auto buf = bytes_of({1, 2, 3});
    Reader r(buf);
    auto a = r.array<2>();
    CHECK(a[0] == std::byte{1});
    CHECK(a[1] == std::byte{2});
    auto b = r.array<2>();
    CHECK(b[0] == std::byte{0});
    CHECK_FALSE(r.ok());
}

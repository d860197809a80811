// Session messages one by one: the exact bytes of docs/PROTOCOL.md's examples, and every parser
// against truncation, trailing bytes, oversize lengths and out-of-range fields.
#include <catch2/catch.hpp>

#include <functional>
#include <string>
#include <vector>

#include "../../support/hex.hpp"
#include "session/messages.hpp"
#include "session_support.hpp"

using namespace twoway;
using namespace twoway::session;
using twoway::test::hex;
using twoway::test::unhex;

namespace {

template <class F>
std::string written(F&& write) {
    wire::Writer w;
    write(w);
    return hex(w.view());
}

// Frame bytes -> body (after the 5-byte header), checking the header says what the bytes hold.
std::vector<std::byte> body_of(const std::string& frame_hex) {
    auto f = unhex(frame_hex);
    REQUIRE(f.size() >= frame_header_size);
    auto h = parse_frame_header(wire::Bytes(f).first(frame_header_size));
    REQUIRE(h.has_value());
    REQUIRE(h->length == f.size() - frame_header_size);
    return std::vector<std::byte>(f.begin() + frame_header_size, f.end());
}

}  // namespace

TEST_CASE("session messages are encoded exactly as the specification's examples", "[session]") {
    // The hex strings are the worked examples in docs/PROTOCOL.md, "Session protocol".
    CHECK(written([](auto& w) { write_env(w, EnvVar{"LANG", "C.UTF-8"}); }) ==
          "0100000013000000044c414e4700000007432e5554462d38");
    RequestMsg exec{0x00200000, session::test::exec_request("ls")};
    CHECK(written([&](auto& w) { write_request(w, exec); }) == "020000000c0020000002000000026c7300");
    RequestMsg direct{0x00200000, {}};
    direct.request.kind = RequestKind::direct;
    direct.request.command = destination_text(Destination{"db.example", 5432});
    CHECK(written([&](auto& w) { write_request(w, direct); }) ==
          "020000001900200000050000000f64622e6578616d706c653a35343332" "00");
    RequestMsg shell{0x00200000, {}};
    shell.request.pty = Pty{"xterm", TermSize{80, 24, 0, 0}};
    CHECK(written([&](auto& w) { write_request(w, shell); }) ==
          "02000000230020000001000000000100000005787465726d00000050000000180000000000000000");
    CHECK(written([](auto& w) { write_accept(w, AcceptMsg{0x00200000}); }) == "030000000400200000");
    CHECK(written([](auto& w) { write_reject(w, RejectMsg{2, "no such service"}); }) ==
          "0400000017000000020000000f6e6f20737563682073657276696365");
    CHECK(written([](auto& w) { write_data(w, Stream::out, session::test::bytes_of("hi")); }) == "1000000003016869");
    CHECK(written([](auto& w) { write_eof(w, EofMsg{Stream::in}); }) == "110000000100");
    CHECK(written([](auto& w) { write_window_adjust(w, WindowAdjustMsg{Stream::out, 0x10000}); }) ==
          "12000000050100010000");
    CHECK(written([](auto& w) { write_window_change(w, TermSize{100, 40, 0, 0}); }) ==
          "130000001000000064000000280000000000000000");
    CHECK(written([](auto& w) { write_signal(w, "INT"); }) == "140000000700000003494e54");
    CHECK(written([](auto& w) { write_exit_status(w, 3); }) == "150000000400000003");
    CHECK(written([](auto& w) { write_exit_signal(w, ExitSignalMsg{"KILL", true, ""}); }) ==
          "160000000d000000044b494c4c0100000000");
    CHECK(written([](auto& w) { write_close(w); }) == "1700000000");
    CHECK(written([](auto& w) { write_ping(w, 7); }) == "180000000400000007");
    CHECK(written([](auto& w) { write_pong(w, 7); }) == "190000000400000007");
    CHECK(written([](auto& w) { write_pong(w, 0xfffffffe); }) == "1900000004fffffffe");
}

TEST_CASE("direct destinations: parse_destination and destination_text agree", "[session]") {
    CHECK(parse_destination("db.example:5432") == Destination{"db.example", 5432});
    CHECK(parse_destination("[::1]:22") == Destination{"::1", 22});
    CHECK(parse_destination("10.0.0.1:65535") == Destination{"10.0.0.1", 65535});
    CHECK_FALSE(parse_destination("db"));
    CHECK_FALSE(parse_destination("db:0"));
    CHECK_FALSE(parse_destination("::1:22"));
    for (const auto& d : {Destination{"db.example", 5432}, Destination{"::1", 22}, Destination{"fe80::1", 1}}) {
        CHECK(parse_destination(destination_text(d)) == d);
    }
    CHECK(destination_text(Destination{"::1", 22}) == "[::1]:22");
    CHECK(valid_command(RequestKind::direct, "a:1"));
    CHECK_FALSE(valid_command(RequestKind::direct, "a"));
    CHECK(is_connection(RequestKind::direct));
    CHECK(is_connection(RequestKind::service));
    CHECK_FALSE(is_connection(RequestKind::subsystem));
}

TEST_CASE("session messages round-trip through parse and write", "[session]") {
    SECTION("request with pty and without") {
        RequestMsg m{12345, session::test::shell_with_pty()};
        m.request.env.clear();  // env travels in ENV, not in REQUEST
        wire::Writer w;
        write_request(w, m);
        auto body = body_of(hex(w.view()));
        auto back = parse_request(body);
        REQUIRE(back.has_value());
        CHECK(back->window == 12345);
        CHECK(back->request == m.request);

        RequestMsg e{0, session::test::exec_request("printf 'a\\nb' | wc -l")};
        wire::Writer w2;
        write_request(w2, e);
        auto back2 = parse_request(body_of(hex(w2.view())));
        REQUIRE(back2.has_value());
        CHECK(back2->request == e.request);
        CHECK(back2->window == 0);
    }
    SECTION("exit signal") {
        wire::Writer w;
        write_exit_signal(w, ExitSignalMsg{"SEGV", true, "Segmentation fault"});
        auto m = parse_exit_signal(body_of(hex(w.view())));
        REQUIRE(m.has_value());
        CHECK(m->name == "SEGV");
        CHECK(m->core_dumped);
        CHECK(m->message == "Segmentation fault");
    }
    SECTION("data of the largest size fits one channel record") {
        std::vector<std::byte> payload(max_data_size, std::byte{0x5a});
        wire::Writer w;
        write_data(w, Stream::err, payload);
        CHECK(w.size() == max_frame_size);
        CHECK(max_frame_size == 65536);
        auto m = parse_data(wire::Bytes(w.view()).subspan(frame_header_size));
        REQUIRE(m.has_value());
        CHECK(m->stream == Stream::err);
        CHECK(m->bytes.size() == max_data_size);
    }
}

namespace {
using Parse = std::function<std::error_code(wire::Bytes)>;
template <class F>
Parse parser(F f) {
    return [f](wire::Bytes b) { return f(b).error(); };
}
struct Case {
    const char* name;
    std::string frame_hex;
    Parse parse;
};
std::vector<Case> all_cases() {
    return {
        {"ENV", "0100000013000000044c414e4700000007432e5554462d38", parser(parse_env)},
        {"REQUEST exec", "020000000c0020000002000000026c7300", parser(parse_request)},
        {"REQUEST subsystem", "020000000e00200000040000000473667470" "00", parser(parse_request)},
        {"REQUEST direct", "020000001900200000050000000f64622e6578616d706c653a35343332" "00", parser(parse_request)},
        {"REQUEST pty", "02000000230020000001000000000100000005787465726d00000050000000180000000000000000",
         parser(parse_request)},
        {"ACCEPT", "030000000400200000", parser(parse_accept)},
        {"REJECT", "0400000017000000020000000f6e6f20737563682073657276696365", parser(parse_reject)},
        {"DATA", "1000000003016869", parser(parse_data)},
        {"EOF", "110000000100", parser(parse_eof)},
        {"WINDOW_ADJUST", "12000000050100010000", parser(parse_window_adjust)},
        {"WINDOW_CHANGE", "130000001000000064000000280000000000000000", parser(parse_window_change)},
        {"SIGNAL", "140000000700000003494e54", parser(parse_signal)},
        {"EXIT_STATUS", "150000000400000003", parser(parse_exit_status)},
        {"EXIT_SIGNAL", "160000000d000000044b494c4c0100000000", parser(parse_exit_signal)},
        {"CLOSE", "1700000000", [](wire::Bytes b) { return parse_close(b).error(); }},
        {"PING", "180000000400000007", parser(parse_ping)},
        {"PONG", "190000000400000007", parser(parse_pong)},
    };
}
}  // namespace

TEST_CASE("every session message refuses truncation and trailing bytes", "[session]") {
    for (const auto& c : all_cases()) {
        INFO(c.name);
        auto body = body_of(c.frame_hex);
        CHECK_FALSE(c.parse(body));  // the example itself parses
        for (std::size_t n = 0; n < body.size(); ++n) {
            INFO("prefix " << n);
            auto err = c.parse(wire::Bytes(body).first(n));
            // DATA's payload is "the rest": cut down to the stream byte it is empty, which is malformed;
            // cut anywhere after that it is a shorter, valid DATA.
            if (std::string(c.name) == "DATA" && n >= 1) {
                CHECK(err == (n == 1 ? std::error_code(errc::malformed) : std::error_code()));
            } else {
                CHECK(err == errc::short_input);
            }
        }
        if (std::string(c.name) != "DATA") {  // extra bytes in DATA are payload
            auto longer = body;
            longer.push_back(std::byte{0});
            CHECK(c.parse(longer) == errc::trailing_data);
        }
    }
}

TEST_CASE("frame headers: unknown types and oversize lengths are refused from the header alone", "[session]") {
    CHECK(parse_frame_header(unhex("100000fffb")).has_value());  // 65531: the largest body
    CHECK(parse_frame_header(unhex("100000fffc")).error() == errc::length_too_large);
    CHECK(parse_frame_header(unhex("01ffffffff")).error() == errc::length_too_large);
    CHECK(parse_frame_header(unhex("1700000000")).has_value());
    CHECK(parse_frame_header(unhex("1800000004")).has_value());  // PING
    CHECK(parse_frame_header(unhex("1900000004")).has_value());  // PONG
    CHECK(parse_frame_header(unhex("1a0000008f")).has_value());  // HOSTKEYS
    for (int t : {0x00, 0x05, 0x0f, 0x1b, 0x7f, 0xff}) {
        INFO(t);
        std::vector<std::byte> h{static_cast<std::byte>(t), std::byte{0}, std::byte{0}, std::byte{0}, std::byte{0}};
        CHECK(parse_frame_header(h).error() == errc::unexpected_message);
    }
    CHECK(parse_frame_header(unhex("10000000")).error() == errc::short_input);
}

TEST_CASE("string lengths inside bodies are capped before anything is read", "[session]") {
    // ENV claiming a 4 GiB name, REJECT a 2 KiB text, SIGNAL a 33-byte name, REQUEST a 64 KiB command.
    CHECK(parse_env(unhex("fffffff04c414e47")).error() == errc::length_too_large);
    CHECK(parse_env(unhex("000000014100001001")).error() == errc::length_too_large);  // value 4097
    CHECK(parse_reject(unhex("0000000100000801")).error() == errc::length_too_large);
    CHECK(parse_signal(unhex("00000021")).error() == errc::length_too_large);
    CHECK(parse_exit_signal(unhex("00000021")).error() == errc::length_too_large);
    CHECK(parse_request(unhex("000000010200010000")).error() == errc::length_too_large);
    CHECK(parse_request(unhex("0000000101000000000100000100")).error() == errc::length_too_large);  // term 256
}

TEST_CASE("session message fields out of range are malformed", "[session]") {
    auto frame_body = [](auto write) {
        wire::Writer w;
        write(w);
        auto v = w.take();
        return std::vector<std::byte>(v.begin() + frame_header_size, v.end());
    };
    SECTION("ENV names and values") {
        for (const char* bad : {"", "1LANG", "LA-NG", "LANG=", "L ANG", "LÄNG"}) {
            INFO(bad);
            CHECK(parse_env(frame_body([&](auto& w) { write_env(w, EnvVar{bad, "x"}); })).error() == errc::malformed);
        }
        for (const char* good : {"LANG", "LC_ALL", "_X", "a1"}) {
            CHECK(parse_env(frame_body([&](auto& w) { write_env(w, EnvVar{good, ""}); })).has_value());
        }
        std::string nul("a\0b", 3);
        CHECK(parse_env(frame_body([&](auto& w) { write_env(w, EnvVar{"X", nul}); })).error() == errc::malformed);
        CHECK(parse_env(frame_body([&](auto& w) { write_env(w, EnvVar{"X", "multi\nline"}); })).has_value());
    }
    SECTION("REQUEST kinds, commands, pty") {
        auto req = [&](std::uint8_t kind, std::string_view cmd, int pty, std::string_view term = "xterm") {
            wire::Writer b;
            b.u32(1).u8(kind).string(cmd).u8(static_cast<std::uint8_t>(pty));
            if (pty == 1) b.string(term).u32(80).u32(24).u32(0).u32(0);
            return parse_request(b.view()).error();
        };
        CHECK_FALSE(req(1, "", 0));
        CHECK_FALSE(req(1, "", 1));
        CHECK_FALSE(req(2, "ls -l", 1));
        CHECK_FALSE(req(3, "web.local-1_x", 0));
        CHECK_FALSE(req(1, "", 1, ""));  // an empty TERM is allowed
        CHECK(req(0, "", 0) == errc::malformed);
        CHECK_FALSE(req(4, "sftp", 0));                  // subsystem
        CHECK_FALSE(req(4, "x-y@example.com", 1));       // any visible ASCII; a PTY is allowed (ssh -t -s)
        CHECK(req(4, "", 0) == errc::malformed);          // a subsystem needs a name
        CHECK(req(4, "sf tp", 0) == errc::malformed);
        CHECK(req(4, "sftp\n", 0) == errc::malformed);
        CHECK(req(4, std::string_view("sf\0tp", 5), 0) == errc::malformed);
        CHECK_FALSE(req(4, std::string(64, 's'), 0));
        CHECK(req(4, std::string(65, 's'), 0) == errc::malformed);
        CHECK(req(5, "sftp", 0) == errc::malformed);     // direct: host:port
        CHECK_FALSE(req(5, "db.example:5432", 0));
        CHECK_FALSE(req(5, "127.0.0.1:1", 0));
        CHECK_FALSE(req(5, "[::1]:65535", 0));
        CHECK_FALSE(req(5, "[fe80::1:2.3.4.5]:80", 0));
        CHECK_FALSE(req(5, "_srv.x-y:22", 0));
        CHECK_FALSE(req(5, std::string(253, 'a') + ":1", 0));
        CHECK(req(5, std::string(254, 'a') + ":1", 0) == errc::malformed);
        CHECK(req(5, "db:5432", 1) == errc::malformed);  // no terminal
        for (const char* bad : {"db", "db:", ":22", "db:0", "db:65536", "db:022", "db:+22", "db:2 2", "-db:22",
                                ".db:22", "d b:22", "db/x:22", "db\n:22", "[db]:22", "[]:22", "::1:22x", "[::1]",
                                "[::1]:", "[::g]:22", "db:99999999999"}) {
            INFO(bad);
            CHECK(req(5, bad, 0) == errc::malformed);
        }
        CHECK(req(8, "db:22", 0) == errc::malformed);      // no kind 8
        CHECK(req(6, "db:22", 0) == std::error_code{});    // listen (remote forwarding)
        CHECK(req(6, "db:22", 1) == errc::malformed);       // a listener has no terminal
        CHECK(req(6, "db", 0) == errc::malformed);
        CHECK(req(7, std::string(64, 'a'), 0) == std::error_code{});  // pickup
        CHECK(req(7, std::string(63, 'a'), 0) == errc::malformed);
        CHECK(req(1, "ls", 0) == errc::malformed);        // a shell carries no command
        CHECK(req(2, "", 0) == errc::malformed);          // exec needs one
        CHECK(req(2, std::string_view("a\0b", 3), 0) == errc::malformed);
        CHECK(req(3, "web", 1) == errc::malformed);       // a service has no terminal
        CHECK(req(3, "-web", 0) == errc::malformed);
        CHECK(req(3, "w/eb", 0) == errc::malformed);
        CHECK(req(3, "", 0) == errc::malformed);
        CHECK(req(3, std::string(65, 'a'), 0) == errc::malformed);
        CHECK(req(1, "", 2) == errc::malformed);          // a boolean is 0 or 1
        CHECK(req(1, "", 1, "xterm 256") == errc::malformed);
        CHECK(req(1, "", 1, "xterm\x1b") == errc::malformed);
    }
    SECTION("REJECT, DATA, EOF, WINDOW_ADJUST, SIGNAL, EXIT_SIGNAL") {
        CHECK(parse_reject(unhex("0000000000000000")).error() == errc::malformed);  // code 0 is reserved
        CHECK(parse_reject(unhex("0000000700000000")).has_value());                 // unknown codes pass
        CHECK(parse_reject(unhex("00000001000000020a41")).error() == errc::malformed);  // control char
        CHECK(parse_reject(unhex("0000000100000002c3a9")).has_value());               // UTF-8 passes
        CHECK(parse_data(unhex("0341")).error() == errc::malformed);  // stream 3
        CHECK(parse_data(unhex("00")).error() == errc::malformed);    // empty payload
        CHECK(parse_eof(unhex("03")).error() == errc::malformed);
        CHECK(parse_eof(unhex("ff")).error() == errc::malformed);
        CHECK(parse_window_adjust(unhex("0100000000")).error() == errc::malformed);  // increment 0
        CHECK(parse_window_adjust(unhex("0300000001")).error() == errc::malformed);
        CHECK(parse_window_adjust(unhex("01ffffffff")).has_value());
        CHECK(parse_signal(unhex("00000003696e74")).error() == errc::malformed);  // "int"
        CHECK(parse_signal(unhex("00000000")).error() == errc::malformed);        // ""
        CHECK(parse_signal(unhex("00000004494e2054")).error() == errc::malformed);  // "IN T"
        CHECK(parse_signal(unhex("0000000455535231")).has_value());                 // "USR1"
        CHECK(parse_exit_signal(unhex("000000044b494c4c0200000000")).error() == errc::malformed);  // core 2
        CHECK(parse_exit_signal(unhex("000000044b494c4c00000000010a")).error() == errc::malformed);
    }
}

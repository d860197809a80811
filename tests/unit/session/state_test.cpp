// The state machines accept exactly the messages valid in each state, refuse malformed frames in
// the state where the message would otherwise be valid, and never buffer more than one frame.
#include <catch2/catch.hpp>

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "../../support/hex.hpp"
#include "session_support.hpp"

using namespace twoway;
using namespace twoway::session;
using namespace twoway::session::test;

namespace {

// One valid frame of every kind, in either direction.
std::map<std::string, std::vector<std::byte>> sample_frames() {
    std::map<std::string, std::vector<std::byte>> m;
    auto add = [&](const std::string& name, auto write) {
        wire::Writer w;
        write(w);
        m[name] = w.take();
    };
    add("ENV", [](auto& w) { write_env(w, EnvVar{"LANG", "C"}); });
    add("REQUEST", [](auto& w) { write_request(w, RequestMsg{1000, exec_request("ls")}); });
    add("ACCEPT", [](auto& w) { write_accept(w, AcceptMsg{1000}); });
    add("REJECT", [](auto& w) { write_reject(w, RejectMsg{1, "no"}); });
    add("DATA in", [](auto& w) { write_data(w, Stream::in, bytes_of("x")); });
    add("DATA out", [](auto& w) { write_data(w, Stream::out, bytes_of("x")); });
    add("DATA err", [](auto& w) { write_data(w, Stream::err, bytes_of("x")); });
    add("EOF in", [](auto& w) { write_eof(w, EofMsg{Stream::in}); });
    add("EOF out", [](auto& w) { write_eof(w, EofMsg{Stream::out}); });
    add("EOF err", [](auto& w) { write_eof(w, EofMsg{Stream::err}); });
    add("WINDOW_ADJUST in", [](auto& w) { write_window_adjust(w, WindowAdjustMsg{Stream::in, 1}); });
    add("WINDOW_ADJUST out", [](auto& w) { write_window_adjust(w, WindowAdjustMsg{Stream::out, 1}); });
    add("WINDOW_ADJUST err", [](auto& w) { write_window_adjust(w, WindowAdjustMsg{Stream::err, 1}); });
    add("WINDOW_CHANGE", [](auto& w) { write_window_change(w, TermSize{}); });
    add("SIGNAL", [](auto& w) { write_signal(w, "INT"); });
    add("EXIT_STATUS", [](auto& w) { write_exit_status(w, 0); });
    add("EXIT_SIGNAL", [](auto& w) { write_exit_signal(w, ExitSignalMsg{"TERM", false, ""}); });
    add("CLOSE", [](auto& w) { write_close(w); });
    add("PING", [](auto& w) { write_ping(w, 0); });
    add("PONG", [](auto& w) { write_pong(w, 0); });  // answers nothing unless the receiver sent PING 0
    return m;
}

using MakePair = std::function<std::unique_ptr<Pair>()>;

std::unique_ptr<Pair> new_pair(const Request& r) {
    auto p = std::make_unique<Pair>(Pair::make(r));
    return p;
}

// Client states, reached by a real server.
std::unique_ptr<Pair> client_in(const std::string& state, const Request& r = exec_request("ls")) {
    auto p = new_pair(r);
    p->pump();
    if (state == "ExpectResponse") return p;
    REQUIRE(p->server.accept().has_value());
    p->pump();
    if (state == "ExpectOutput") return p;
    REQUIRE(p->server.send_eof(Stream::out).has_value());
    REQUIRE(p->server.send_eof(Stream::err).has_value());
    p->pump();
    if (state == "ExpectExit" || state == "ServiceExpectClose") return p;
    REQUIRE(p->server.send_exit_status(0).has_value());
    p->pump();
    if (state == "ExpectClose") return p;
    REQUIRE(p->server.close().has_value());
    p->pump();
    REQUIRE(state == "Done");
    return p;
}

// Server states, reached by a real client.
std::unique_ptr<Pair> server_in(const std::string& state, const Request& r = shell_with_pty()) {
    auto p = new_pair(r);
    if (state == "ExpectRequest") return p;
    p->pump();
    if (state == "AwaitDecision") return p;
    if (state == "DoneRejected") {
        REQUIRE(p->server.reject(reject::prohibited, "no").has_value());
        return p;
    }
    REQUIRE(p->server.accept().has_value());
    p->pump();
    if (state == "ExpectInput") return p;
    REQUIRE(p->client.close().has_value());
    p->pump();
    REQUIRE(state == "Done");
    return p;
}

void check_matrix(const std::string& state, const std::set<std::string>& allowed,
                  const std::function<std::unique_ptr<Pair>()>& make, bool to_server) {
    for (const auto& [name, bytes] : sample_frames()) {
        INFO(state << ": " << name);
        auto p = make();
        auto r = to_server ? p->server.feed(bytes) : p->client.feed(bytes);
        if (allowed.count(name)) {
            CHECK(r.has_value());
        } else {
            CHECK(r.error() == errc::unexpected_message);
        }
    }
}

}  // namespace

// PING is valid in every state but Done; PONG never in these matrices, since no PING of the receiver's is
// unanswered (PONG without PING).
TEST_CASE("client: each state accepts exactly its messages", "[session]") {
    const std::set<std::string> adjust_close{"WINDOW_ADJUST in", "CLOSE", "PING"};
    check_matrix("ExpectResponse", {"ACCEPT", "REJECT", "PING"}, [] { return client_in("ExpectResponse"); }, false);
    check_matrix("ExpectOutput",
                 {"DATA out", "DATA err", "EOF out", "EOF err", "WINDOW_ADJUST in", "CLOSE", "PING"},
                 [] { return client_in("ExpectOutput"); }, false);
    check_matrix("ExpectExit", {"EXIT_STATUS", "EXIT_SIGNAL", "WINDOW_ADJUST in", "CLOSE", "PING"},
                 [] { return client_in("ExpectExit"); }, false);
    check_matrix("ExpectClose", adjust_close, [] { return client_in("ExpectClose"); }, false);
    // A service has no exit message: after both EOFs only CLOSE (and grants) may come.
    check_matrix("service after EOFs", adjust_close,
                 [] { return client_in("ServiceExpectClose", service_request("web")); }, false);
    check_matrix("Done", {}, [] { return client_in("Done"); }, false);
    auto rejected = [] {
        auto p = client_in("ExpectResponse");
        REQUIRE(p->server.reject(1, "no").has_value());
        p->pump();
        return p;
    };
    check_matrix("Done (rejected)", {}, rejected, false);
}

TEST_CASE("server: each state accepts exactly its messages", "[session]") {
    check_matrix("ExpectRequest", {"ENV", "REQUEST", "PING"}, [] { return server_in("ExpectRequest"); }, true);
    // Between REQUEST and our answer the client may send nothing but PING (and PONG).
    check_matrix("AwaitDecision", {"PING"}, [] { return server_in("AwaitDecision"); }, true);
    check_matrix("ExpectInput",
                 {"DATA in", "EOF in", "WINDOW_ADJUST out", "WINDOW_ADJUST err", "WINDOW_CHANGE", "SIGNAL", "CLOSE",
                  "PING"},
                 [] { return server_in("ExpectInput"); }, true);
    check_matrix("ExpectInput, exec without pty",
                 {"DATA in", "EOF in", "WINDOW_ADJUST out", "WINDOW_ADJUST err", "SIGNAL", "CLOSE", "PING"},
                 [] { return server_in("ExpectInput", exec_request("ls")); }, true);
    check_matrix("ExpectInput, service",
                 {"DATA in", "EOF in", "WINDOW_ADJUST out", "WINDOW_ADJUST err", "CLOSE", "PING"},
                 [] { return server_in("ExpectInput", service_request("web")); }, true);
    check_matrix("Done", {}, [] { return server_in("Done"); }, true);
    // After REJECT a PING the client sent before it saw the REJECT is still accepted (not answered).
    check_matrix("Rejected", {"PING"}, [] { return server_in("DoneRejected"); }, true);
}

TEST_CASE("a stream ends once: no DATA or EOF after EOF", "[session]") {
    auto frames = sample_frames();
    {
        auto p = client_in("ExpectOutput");
        REQUIRE(p->client.feed(frames["EOF out"]).has_value());
        CHECK(p->client.feed(frames["DATA out"]).error() == errc::unexpected_message);
    }
    {
        auto p = client_in("ExpectOutput");
        REQUIRE(p->client.feed(frames["EOF err"]).has_value());
        REQUIRE(p->client.feed(frames["DATA out"]).has_value());  // the other stream goes on
        CHECK(p->client.feed(frames["EOF err"]).error() == errc::unexpected_message);
    }
    {
        auto p = server_in("ExpectInput");
        REQUIRE(p->server.feed(frames["EOF in"]).has_value());
        REQUIRE(p->server.feed(frames["SIGNAL"]).has_value());  // control goes on after stdin EOF
        CHECK(p->server.feed(frames["DATA in"]).error() == errc::unexpected_message);
    }
    {
        auto p = server_in("ExpectInput");
        REQUIRE(p->server.feed(frames["EOF in"]).has_value());
        CHECK(p->server.feed(frames["EOF in"]).error() == errc::unexpected_message);
    }
}

TEST_CASE("grants that crossed our EOF, exit or CLOSE are still accepted", "[session]") {
    auto frames = sample_frames();
    auto p = server_in("ExpectInput", exec_request("ls"));
    REQUIRE(p->server.send_eof(Stream::out).has_value());
    REQUIRE(p->server.send_eof(Stream::err).has_value());
    REQUIRE(p->server.send_exit_status(0).has_value());
    REQUIRE(p->server.close().has_value());
    REQUIRE(p->server.feed(frames["WINDOW_ADJUST out"]).has_value());
    REQUIRE(p->server.feed(frames["DATA in"]).has_value());  // stdin that was in flight
    REQUIRE(p->server.feed(frames["CLOSE"]).has_value());
    CHECK(p->server.finished());
    CHECK(p->server.take_output().size() > 0);  // EOFs, exit, CLOSE: but only one CLOSE
}

namespace {
// For each message: a machine in a state where it is valid, and how to feed it.
struct Target {
    std::string frame;
    std::function<std::unique_ptr<Pair>()> make;
    bool to_server;
};
std::vector<Target> targets() {
    return {
        {"ENV", [] { return server_in("ExpectRequest"); }, true},
        {"REQUEST", [] { return server_in("ExpectRequest"); }, true},
        {"ACCEPT", [] { return client_in("ExpectResponse"); }, false},
        {"REJECT", [] { return client_in("ExpectResponse"); }, false},
        {"DATA in", [] { return server_in("ExpectInput"); }, true},
        {"EOF in", [] { return server_in("ExpectInput"); }, true},
        {"WINDOW_ADJUST out", [] { return server_in("ExpectInput"); }, true},
        {"WINDOW_CHANGE", [] { return server_in("ExpectInput"); }, true},
        {"SIGNAL", [] { return server_in("ExpectInput"); }, true},
        {"CLOSE", [] { return server_in("ExpectInput"); }, true},
        {"DATA out", [] { return client_in("ExpectOutput"); }, false},
        {"EOF err", [] { return client_in("ExpectOutput"); }, false},
        {"WINDOW_ADJUST in", [] { return client_in("ExpectOutput"); }, false},
        {"EXIT_STATUS", [] { return client_in("ExpectExit"); }, false},
        {"EXIT_SIGNAL", [] { return client_in("ExpectExit"); }, false},
        {"CLOSE", [] { return client_in("ExpectOutput"); }, false},
        {"PING", [] { return server_in("AwaitDecision"); }, true},
        {"PING", [] { return client_in("ExpectResponse"); }, false},
        // A PONG is valid where the receiver's PING 0 is unanswered.
        {"PONG",
         [] {
             auto p = server_in("ExpectInput");
             REQUIRE(p->server.send_ping().has_value());
             (void)p->server.take_output();
             return p;
         },
         true},
        {"PONG",
         [] {
             auto p = client_in("ExpectExit");
             REQUIRE(p->client.send_ping().has_value());
             (void)p->client.take_output();
             return p;
         },
         false},
    };
}
}  // namespace

TEST_CASE("every message, truncated or with trailing bytes, fails in the state that expects it", "[session]") {
    auto frames = sample_frames();
    for (const auto& t : targets()) {
        const auto& whole = frames.at(t.frame);
        const std::vector<std::byte> body(whole.begin() + frame_header_size, whole.end());
        auto feed = [&](const std::vector<std::byte>& bytes) {
            auto p = t.make();
            return t.to_server ? p->server.feed(bytes).error() : p->client.feed(bytes).error();
        };
        INFO(t.frame << (t.to_server ? " -> server" : " -> client"));
        CHECK_FALSE(feed(whole));
        // The length field is honest about a shorter body: the body parser finds it short.
        for (std::size_t n = 0; n < body.size(); ++n) {
            INFO("body cut to " << n);
            auto err = feed(frame(static_cast<MsgType>(whole[0]), {body.begin(), body.begin() + n}));
            CHECK((err == errc::short_input || (t.frame.starts_with("DATA") && err == errc::malformed)));
        }
        if (!t.frame.starts_with("DATA")) {
            auto longer = body;
            longer.push_back(std::byte{0x00});
            CHECK(feed(frame(static_cast<MsgType>(whole[0]), longer)) == errc::trailing_data);
        }
        // A cut-off frame is not an error: the rest may still come. Nothing is reported meanwhile.
        auto p = t.make();
        auto part = std::vector<std::byte>(whole.begin(), whole.end() - 1);
        auto r = t.to_server ? p->server.feed(part) : p->client.feed(part);
        REQUIRE(r.has_value());
        CHECK(r->empty());
    }
}

TEST_CASE("an oversize or unknown frame is refused from its header, before buffering", "[session]") {
    for (const char* h : {"100000fffc", "10ffffffff", "01ffffffff", "0000000000", "ff00000001"}) {
        INFO(h);
        auto header = twoway::test::unhex(h);
        auto s = SessionServer::create();
        REQUIRE(s.has_value());
        // Byte by byte: fine until the fifth header byte, then refused without waiting for a body.
        for (std::size_t i = 0; i + 1 < header.size(); ++i) {
            REQUIRE(s->feed(wire::Bytes(header).subspan(i, 1)).has_value());
        }
        auto r = s->feed(wire::Bytes(header).subspan(4, 1));
        CHECK((r.error() == errc::length_too_large || r.error() == errc::unexpected_message));
        CHECK(s->buffered_input() <= frame_header_size);
    }
    // The largest legal frame is buffered whole when it arrives in pieces, and no more than that.
    auto p = server_in("ExpectInput");
    std::vector<std::byte> big(max_data_size, std::byte{'z'});
    wire::Writer w;
    write_data(w, Stream::in, big);
    auto bytes = w.take();
    REQUIRE(p->server.feed(wire::Bytes(bytes).first(bytes.size() - 1)).has_value());
    CHECK(p->server.buffered_input() == max_frame_size - 1);
    auto last = p->server.feed(wire::Bytes(bytes).last(1));
    REQUIRE(last.has_value());
    REQUIRE(last->size() == 1);
    CHECK(std::get<Data>((*last)[0]).bytes.size() == max_data_size);
    CHECK(p->server.buffered_input() == 0);
}

TEST_CASE("direction: a side never accepts the other side's messages", "[session]") {
    // Servers get no ACCEPT/REJECT/EXIT; clients get no ENV/REQUEST/WINDOW_CHANGE/SIGNAL: covered by the
    // matrices. Here: what a server sends, fed back to a server, and vice versa, from real output.
    auto p = Pair::make(exec_request("x"));
    p.pump();
    REQUIRE(p.server.accept().has_value());
    auto from_server = p.server.take_output();
    auto s2 = SessionServer::create();
    REQUIRE(s2.has_value());
    CHECK(s2->feed(from_server).error() == errc::unexpected_message);
    auto c2 = SessionClient::start(exec_request("y"));
    REQUIRE(c2.has_value());
    auto from_client = c2->take_output();
    auto c3 = SessionClient::start(exec_request("z"));
    REQUIRE(c3.has_value());
    CHECK(c3->feed(from_client).error() == errc::unexpected_message);  // a reflected REQUEST
}

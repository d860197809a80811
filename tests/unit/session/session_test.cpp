// Whole sessions: a SessionClient and a SessionServer talking through memory.
#include <catch2/catch.hpp>

#include <algorithm>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "session_support.hpp"

using namespace twoway;
using namespace twoway::session;
using namespace twoway::session::test;
using Log = std::vector<std::string>;

TEST_CASE("interactive shell with a pty: request, io, window change, signal, exit", "[session]") {
    auto p = Pair::make(shell_with_pty());
    p.pump();
    REQUIRE(p.server_log() ==
            Log{"request kind=1 cmd= pty=xterm-256color/132x43/1188x860 env:LANG=en_US.UTF-8 env:LC_ALL=C"});
    CHECK_FALSE(p.client.accepted());
    // Nothing may be sent before ACCEPT.
    CHECK(p.client.send_data(Stream::in, bytes_of("x")).error() == errc::bad_state);
    CHECK(p.client.send_capacity(Stream::in) == 0);

    REQUIRE(p.server.accept().has_value());
    CHECK(p.server.accept().error() == errc::bad_state);  // only once
    REQUIRE(p.server.send_eof(Stream::err).has_value());  // a pty has no separate stderr
    p.pump();
    CHECK(p.client_log() == Log{"accepted", "eof err"});

    auto n = p.client.send_data(Stream::in, bytes_of("echo hi\r"));
    REQUIRE(n.has_value());
    CHECK(*n == 8);
    REQUIRE(p.client.send_window_change(TermSize{100, 40, 900, 800}).has_value());
    REQUIRE(p.client.send_signal("INT").has_value());
    CHECK(p.client.send_signal("int").error() == errc::invalid_argument);
    REQUIRE(p.server.send_data(Stream::out, bytes_of("hi\r\n$ ")).has_value());
    p.pump();
    CHECK(p.server_log() == Log{p.server_log()[0], "data in echo hi\r", "winch 100x40/900x800", "signal INT"});
    CHECK(p.client_log() == Log{"accepted", "eof err", "data out hi\r\n$ "});

    REQUIRE(p.client.send_eof(Stream::in).has_value());
    CHECK(p.client.send_eof(Stream::in).error() == errc::bad_state);
    CHECK(p.client.send_data(Stream::in, bytes_of("late")).error() == errc::bad_state);
    REQUIRE(p.server.send_eof(Stream::out).has_value());
    REQUIRE(p.server.send_exit_status(0).has_value());
    REQUIRE(p.server.close().has_value());
    p.pump();
    CHECK(p.client_log() == Log{"accepted", "eof err", "data out hi\r\n$ ", "eof out", "exit 0", "closed"});
    // The client answered CLOSE by itself; both ends are finished and silent.
    CHECK(p.server_log().size() == 6);
    CHECK(p.server_log()[4] == "eof in");
    CHECK(std::holds_alternative<Closed>(p.server_events.back()));
    CHECK(p.client.finished());
    CHECK(p.server.finished());
    CHECK(p.client.take_output().empty());
    CHECK(p.server.take_output().empty());
    CHECK(p.client.close().error() == errc::bad_state);
}

TEST_CASE("exec without a pty: stdout, stderr, exit status", "[session]") {
    auto p = Pair::make(exec_request("make test"));
    p.open();
    CHECK(p.server_log() == Log{"request kind=2 cmd=make test"});
    CHECK(p.client.send_window_change(TermSize{}).error() == errc::bad_state);  // no pty was asked for
    REQUIRE(p.server.send_data(Stream::out, bytes_of("ok 1\n")).has_value());
    REQUIRE(p.server.send_data(Stream::err, bytes_of("warning\n")).has_value());
    // The exit comes only after both EOFs, so the client knows all output is in.
    CHECK(p.server.send_exit_status(2).error() == errc::bad_state);
    REQUIRE(p.server.send_eof(Stream::out).has_value());
    CHECK(p.server.send_exit_status(2).error() == errc::bad_state);
    CHECK(p.server.send_data(Stream::out, bytes_of("x")).error() == errc::bad_state);
    REQUIRE(p.server.send_eof(Stream::err).has_value());
    REQUIRE(p.server.send_exit_status(2).has_value());
    CHECK(p.server.send_exit_status(2).error() == errc::bad_state);  // at most one exit
    CHECK(p.server.send_exit_signal("TERM", false).error() == errc::bad_state);
    REQUIRE(p.server.close().has_value());
    CHECK(p.server.close().error() == errc::bad_state);
    CHECK(p.server.send_data(Stream::err, bytes_of("x")).error() == errc::bad_state);
    CHECK_FALSE(p.server.finished());  // the client's CLOSE is still to come
    p.pump();
    CHECK(p.client_log() ==
          Log{"accepted", "data out ok 1\n", "data err warning\n", "eof out", "eof err", "exit 2", "closed"});
    CHECK(p.server_log() == Log{"request kind=2 cmd=make test", "closed"});
    CHECK(p.server.finished());
    CHECK(p.client.finished());
}

TEST_CASE("exit by a signal, with core dump", "[session]") {
    auto p = Pair::make(exec_request("./crash"));
    p.open();
    REQUIRE(p.server.send_eof(Stream::out).has_value());
    REQUIRE(p.server.send_eof(Stream::err).has_value());
    CHECK(p.server.send_exit_signal("segv", true, "").error() == errc::invalid_argument);
    CHECK(p.server.send_exit_signal("SEGV", true, "bad\nmessage").error() == errc::invalid_argument);
    REQUIRE(p.server.send_exit_signal("SEGV", true, "Segmentation fault").has_value());
    REQUIRE(p.server.close().has_value());
    p.pump();
    CHECK(p.client_log() == Log{"accepted", "eof out", "eof err", "killed SEGV core Segmentation fault", "closed"});
    CHECK(p.client.finished());
}

TEST_CASE("environment variables reach the server; the limits hold on both sides", "[session]") {
    Request r = exec_request("env");
    for (int i = 0; i < 64; ++i) r.env.push_back({"V" + std::to_string(i), std::string(i, 'x')});
    auto p = Pair::make(r);
    p.pump();
    REQUIRE(p.server_events.size() == 1);
    const auto& got = std::get<RequestReceived>(p.server_events[0]).request;
    CHECK(got == r);  // all 64, in order, values intact

    r.env.push_back({"ONE_TOO_MANY", ""});
    CHECK(SessionClient::start(r).error() == errc::invalid_argument);
    r.env.pop_back();
    r.env[3].name = "BAD-NAME";
    CHECK(SessionClient::start(r).error() == errc::invalid_argument);

    // A peer sending a 65th ENV is refused at that message.
    auto s = SessionServer::create();
    REQUIRE(s.has_value());
    wire::Writer w;
    for (int i = 0; i < 64; ++i) write_env(w, EnvVar{"A", "b"});
    REQUIRE(s->feed(w.view()).has_value());
    wire::Writer w2;
    write_env(w2, EnvVar{"A", "b"});
    CHECK(s->feed(w2.view()).error() == errc::unexpected_message);
}

TEST_CASE("subsystem: named like a service, run like a command (signals, exit status)", "[session]") {
    Request r;
    r.kind = RequestKind::subsystem;
    r.command = "sftp";
    auto p = Pair::make(r);
    p.open();
    CHECK(p.server_log() == Log{"request kind=4 cmd=sftp"});
    REQUIRE(p.client.send_signal("TERM").has_value());
    REQUIRE(p.client.send_eof(Stream::in).has_value());
    REQUIRE(p.server.send_eof(Stream::out).has_value());
    REQUIRE(p.server.send_eof(Stream::err).has_value());
    REQUIRE(p.server.send_exit_status(0).has_value());
    REQUIRE(p.server.close().has_value());
    p.pump();
    CHECK(p.server_log() == Log{"request kind=4 cmd=sftp", "signal TERM", "eof in", "closed"});
    CHECK(p.client_log() == Log{"accepted", "eof out", "eof err", "exit 0", "closed"});
    CHECK(p.client.finished());

    r.command = "sf tp";  // a blank is not in a subsystem name
    CHECK(SessionClient::start(r).error() == errc::invalid_argument);
}

TEST_CASE("service forwarding: bytes both ways, no pty, signals or exit", "[session]") {
    auto p = Pair::make(service_request("postgres"));
    p.open();
    CHECK(p.server_log() == Log{"request kind=3 cmd=postgres"});
    CHECK(p.client.send_signal("INT").error() == errc::bad_state);
    CHECK(p.client.send_window_change(TermSize{}).error() == errc::bad_state);
    REQUIRE(p.client.send_data(Stream::in, bytes_of("SELECT 1")).has_value());
    REQUIRE(p.client.send_eof(Stream::in).has_value());
    REQUIRE(p.server.send_data(Stream::out, bytes_of("1 row")).has_value());
    REQUIRE(p.server.send_eof(Stream::out).has_value());
    REQUIRE(p.server.send_eof(Stream::err).has_value());
    CHECK(p.server.send_exit_status(0).error() == errc::bad_state);
    REQUIRE(p.server.close().has_value());
    p.pump();
    CHECK(p.server_log() == Log{"request kind=3 cmd=postgres", "data in SELECT 1", "eof in", "closed"});
    CHECK(p.client_log() == Log{"accepted", "data out 1 row", "eof out", "eof err", "closed"});
    CHECK(p.client.finished());
    CHECK(p.server.finished());

    Request bad = service_request("postgres");
    bad.pty = Pty{};
    CHECK(SessionClient::start(bad).error() == errc::invalid_argument);
}

TEST_CASE("direct connection: a service session to host:port (no pty, signals or exit)", "[session]") {
    Request r;
    r.kind = RequestKind::direct;
    r.command = "db.example:5432";
    auto p = Pair::make(r);
    p.open();
    CHECK(p.server_log() == Log{"request kind=5 cmd=db.example:5432"});
    CHECK(p.client.send_signal("INT").error() == errc::bad_state);
    REQUIRE(p.client.send_data(Stream::in, bytes_of("ping")).has_value());
    REQUIRE(p.client.send_eof(Stream::in).has_value());
    REQUIRE(p.server.send_data(Stream::out, bytes_of("pong")).has_value());
    REQUIRE(p.server.send_eof(Stream::out).has_value());
    REQUIRE(p.server.send_eof(Stream::err).has_value());
    CHECK(p.server.send_exit_status(0).error() == errc::bad_state);
    REQUIRE(p.server.close().has_value());
    p.pump();
    CHECK(p.client_log() == Log{"accepted", "data out pong", "eof out", "eof err", "closed"});
    CHECK(p.client.finished());
    CHECK(p.server.finished());

    r.pty = Pty{};
    CHECK(SessionClient::start(r).error() == errc::invalid_argument);
    r.pty.reset();
    r.command = "db.example";  // no port
    CHECK(SessionClient::start(r).error() == errc::invalid_argument);
}

TEST_CASE("the server rejects a request", "[session]") {
    auto p = Pair::make(service_request("nosuch"));
    p.pump();
    CHECK(p.server.send_data(Stream::out, bytes_of("x")).error() == errc::bad_state);
    CHECK(p.server.reject(0, "x").error() == errc::invalid_argument);
    CHECK(p.server.reject(reject::unknown_service, "tab\there").error() == errc::invalid_argument);
    REQUIRE(p.server.reject(reject::unknown_service, "no such service").has_value());
    CHECK(p.server.accept().error() == errc::bad_state);
    CHECK(p.server.close().error() == errc::bad_state);
    CHECK(p.server.finished());
    p.pump();
    CHECK(p.client_log() == Log{"rejected 2 no such service"});
    CHECK(p.client.finished());
    CHECK_FALSE(p.client.accepted());
    CHECK(p.client.send_data(Stream::in, bytes_of("x")).error() == errc::bad_state);
    CHECK(p.client.close().error() == errc::bad_state);
    CHECK(p.client.take_output().empty());
}

TEST_CASE("the client ends the session first: the server answers CLOSE and sends nothing else", "[session]") {
    auto p = Pair::make(exec_request("sleep 100"));
    p.open();
    REQUIRE(p.server.send_data(Stream::out, bytes_of("crossing")).has_value());
    REQUIRE(p.client.close().has_value());
    CHECK(p.client.send_data(Stream::in, bytes_of("x")).error() == errc::bad_state);
    CHECK(p.client.send_signal("TERM").error() == errc::bad_state);
    CHECK_FALSE(p.client.finished());
    // The server's DATA crosses our CLOSE in flight; the client still accepts it.
    p.pump();
    CHECK(p.client_log() == Log{"accepted", "data out crossing", "closed"});
    CHECK(p.server_log() == Log{"request kind=2 cmd=sleep 100", "closed"});
    CHECK(p.client.finished());
    CHECK(p.server.finished());
    CHECK(p.server.send_eof(Stream::out).error() == errc::bad_state);
    // Consuming after CLOSE grants nothing more.
    REQUIRE(p.client.consumed(Stream::out, 8).has_value());
    CHECK(p.client.take_output().empty());
}

TEST_CASE("the server may end without an exit status (an aborted session)", "[session]") {
    auto p = Pair::make(exec_request("true"));
    p.open();
    REQUIRE(p.server.close().has_value());
    p.pump();
    CHECK(p.client_log() == Log{"accepted", "closed"});
    CHECK(p.client.finished());
    CHECK(p.server.finished());
}

TEST_CASE("the same whole session gives the same events in any chunking, down to 1 byte", "[session]") {
    auto run = [](std::size_t chunk) {
        Options small;
        small.window = 5000;  // forces WINDOW_ADJUSTs into the transcript
        auto p = Pair::make(shell_with_pty(), small, small);
        p.chunk = chunk;
        p.open();
        std::string big(12000, 'a');
        for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>('a' + i % 26);
        std::size_t sent_in = 0, sent_out = 0;
        while (sent_in < big.size() || sent_out < big.size()) {
            auto a = p.client.send_data(Stream::in, wire::Bytes(bytes_of(big)).subspan(sent_in));
            REQUIRE(a.has_value());
            sent_in += *a;
            auto b = p.server.send_data(Stream::out, wire::Bytes(bytes_of(big)).subspan(sent_out));
            REQUIRE(b.has_value());
            sent_out += *b;
            auto before_c = p.client_events.size(), before_s = p.server_events.size();
            p.pump();
            for (auto i = before_c; i < p.client_events.size(); ++i) {
                if (auto* d = std::get_if<Data>(&p.client_events[i])) REQUIRE(p.client.consumed(d->stream, d->bytes.size()).has_value());
            }
            for (auto i = before_s; i < p.server_events.size(); ++i) {
                if (auto* d = std::get_if<Data>(&p.server_events[i])) REQUIRE(p.server.consumed(d->stream, d->bytes.size()).has_value());
            }
            p.pump();
        }
        REQUIRE(p.client.send_window_change(TermSize{1, 2, 3, 4}).has_value());
        REQUIRE(p.client.send_signal("WINCH").has_value());
        REQUIRE(p.client.send_eof(Stream::in).has_value());
        REQUIRE(p.server.send_data(Stream::err, bytes_of("bye")).has_value());
        REQUIRE(p.server.send_eof(Stream::out).has_value());
        REQUIRE(p.server.send_eof(Stream::err).has_value());
        REQUIRE(p.server.send_exit_signal("HUP", false, "hangup").has_value());
        REQUIRE(p.server.close().has_value());
        p.pump();
        REQUIRE(p.client.finished());
        REQUIRE(p.server.finished());
        // Frames are the same whatever the chunking, so the events are identical, adjusts included.
        return std::make_pair(p.client_log(), p.server_log());
    };
    auto whole = run(std::numeric_limits<std::size_t>::max());
    CHECK(whole.first.back() == "closed");
    CHECK(whole.first.size() > 10);  // several DATA and WINDOW_ADJUST rounds
    CHECK(whole.second.back() == "closed");
    for (std::size_t chunk : {1, 2, 3, 5, 7, 64, 4096}) {
        INFO("chunk " << chunk);
        auto r = run(chunk);
        CHECK(r.first == whole.first);
        CHECK(r.second == whole.second);
    }
}

TEST_CASE("both sides move mid-session and carry on where they were", "[session]") {
    // The state lives behind a pointer (<twoway/session.hpp>): a move hands over the request, the
    // windows, the queued output and any half-received frame.
    auto c = SessionClient::start(exec_request("cat"));
    auto s = SessionServer::create();
    REQUIRE(c.has_value());
    REQUIRE(s.has_value());
    SessionClient client = std::move(*c);
    SessionServer server = std::move(*s);
    const auto opening = client.take_output();
    REQUIRE(opening.size() > 1);
    // Half a frame into one server, the rest into the server it is moved to.
    REQUIRE(server.feed(wire::Bytes(opening).first(1)).has_value());
    SessionServer moved_server(std::move(server));
    CHECK(moved_server.buffered_input() == 1);
    auto ev = moved_server.feed(wire::Bytes(opening).subspan(1));
    REQUIRE(ev.has_value());
    REQUIRE(ev->size() == 1);
    CHECK(std::get<RequestReceived>((*ev)[0]).request == exec_request("cat"));
    REQUIRE(moved_server.accept().has_value());

    SessionClient moved_client = std::move(client);
    CHECK(moved_client.request() == exec_request("cat"));
    auto accepted = moved_client.feed(moved_server.take_output());
    REQUIRE(accepted.has_value());
    CHECK(describe_all(*accepted) == std::vector<std::string>{"accepted"});
    // The server's window, limited by the client's own output cap.
    CHECK(moved_client.send_capacity(Stream::in) == std::min<std::size_t>(default_window, Options{}.max_pending_output));
}

// Writes the seed corpora of the session fuzz targets from real exchanges: each scenario runs a
// SessionClient against a SessionServer in memory and records what each side received; the server's
// bytes become a session_client seed and the client's bytes a session_server seed, prefixed with the
// config and chunk bytes that make the fuzz harness replay the same conversation (fuzz_session.hpp).
//
// Regenerate (from the repository root):
//   ninja -C build/<you> fuzz/session/session_make_corpus && build/<you>/fuzz/session/session_make_corpus fuzz/corpus
#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include <twoway/random.hpp>

#include "fuzz_session.hpp"

using namespace twoway;
using namespace twoway::session;

namespace {

std::vector<std::byte> text(std::string_view s) {
    std::vector<std::byte> v;
    for (char c : s) v.push_back(static_cast<std::byte>(c));
    return v;
}

struct Run {
    SessionClient client;
    SessionServer server;
    std::vector<std::byte> to_client;  // everything the server sent
    std::vector<std::byte> to_server;  // everything the client sent
    bool consume = true;

    // Moves bytes both ways until quiet, consuming received data like an application would.
    void pump() {
        for (;;) {
            auto c2s = client.take_output();
            auto s2c = server.take_output();
            if (c2s.empty() && s2c.empty()) return;
            to_server.insert(to_server.end(), c2s.begin(), c2s.end());
            to_client.insert(to_client.end(), s2c.begin(), s2c.end());
            auto se = server.feed(c2s);
            auto ce = client.feed(s2c);
            if (!se || !ce) {
                std::fprintf(stderr, "scenario failed: %s\n", (!se ? se.error() : ce.error()).message().c_str());
                std::exit(1);
            }
            for (auto& e : *se) {
                if (std::holds_alternative<RequestReceived>(e)) continue;
                if (auto* d = std::get_if<Data>(&e); d && consume) must(server.consumed(d->stream, d->bytes.size()));
            }
            for (auto& e : *ce) {
                if (auto* d = std::get_if<Data>(&e); d && consume) must(client.consumed(d->stream, d->bytes.size()));
            }
        }
    }
    static void must(const Status& s) {
        if (!s) {
            std::fprintf(stderr, "scenario step failed: %s\n", s.error().message().c_str());
            std::exit(1);
        }
    }
    template <class T>
    static T must(Result<T> r) {
        if (!r) must(Status(fail(r.error())));
        return std::move(*r);
    }
};

Run start(std::uint8_t config) {
    auto c = Run::must(SessionClient::start(fuzz::request_for(config), fuzz::options_for(config)));
    auto s = Run::must(SessionServer::create(fuzz::options_for(config)));
    Run r{std::move(c), std::move(s), {}, {}};
    // As the harnesses do with keep_alive: a PING from each side before anything is read.
    if (config & fuzz::host_keys) Run::must(r.client.allow_host_keys());
    fuzz::keep_alive_step(r.client, config);
    fuzz::keep_alive_step(r.server, config);
    r.pump();
    return r;
}

// A PING from each side whose last one was answered (the harnesses send theirs no later), answered.
void ping_round(Run& r) {
    fuzz::keep_alive_step(r.client, fuzz::keep_alive);
    fuzz::keep_alive_step(r.server, fuzz::keep_alive);
    r.pump();
}

void open(Run& r) {
    Run::must(r.server.accept());
    r.pump();
}

void end_exec(Run& r, std::uint32_t status) {
    Run::must(r.server.send_eof(Stream::out));
    Run::must(r.server.send_eof(Stream::err));
    Run::must(r.server.send_exit_status(status));
    Run::must(r.server.close());
    r.pump();
}

void write_seed(const std::filesystem::path& dir, const std::string& name, std::uint8_t config, std::uint8_t chunk,
                const std::vector<std::byte>& bytes) {
    std::filesystem::create_directories(dir);
    std::ofstream f(dir / name, std::ios::binary);
    f.put(static_cast<char>(config));
    f.put(static_cast<char>(chunk));
    f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s CORPUS_ROOT   (writes CORPUS_ROOT/session_client/ and session_server/)\n", argv[0]);
        return 2;
    }
    const std::filesystem::path root(argv[1]);
    struct Scenario {
        std::string name;
        std::uint8_t client_config;  // request kind and window size; the server's adds its decision
        std::uint8_t server_extra;
        std::uint8_t chunk;
        std::function<void(Run&)> play;
    };
    const std::vector<Scenario> scenarios = {
        {"shell-pty", 0x00, 0, 0, [](Run& r) {
             open(r);
             Run::must(r.server.send_eof(Stream::err));
             Run::must(r.server.send_data(Stream::out, text("$ ")));
             r.pump();
             Run::must(r.client.send_data(Stream::in, text("ls\r")));
             Run::must(r.client.send_window_change(TermSize{120, 50, 960, 800}));
             Run::must(r.client.send_signal("INT"));
             r.pump();
             Run::must(r.server.send_data(Stream::out, text("a b c\r\n$ ")));
             Run::must(r.client.send_data(Stream::in, text("exit\r")));
             Run::must(r.client.send_eof(Stream::in));
             r.pump();
             Run::must(r.server.send_eof(Stream::out));
             Run::must(r.server.send_exit_status(0));
             Run::must(r.server.close());
             r.pump();
         }},
        {"exec-status", 0x01, 0, 0, [](Run& r) {
             open(r);
             Run::must(r.server.send_data(Stream::out, text("total 0\n")));
             Run::must(r.server.send_data(Stream::err, text("ls: cannot access\n")));
             Run::must(r.client.send_eof(Stream::in));
             r.pump();
             end_exec(r, 2);
         }},
        {"exec-signal-chunked", 0x01, 0, 7, [](Run& r) {
             open(r);
             Run::must(r.client.send_signal("TERM"));
             Run::must(r.server.send_eof(Stream::out));
             Run::must(r.server.send_eof(Stream::err));
             Run::must(r.server.send_exit_signal("KILL", true, "Killed"));
             Run::must(r.server.close());
             r.pump();
         }},
        {"service", 0x02, 0, 0, [](Run& r) {
             open(r);
             Run::must(r.client.send_data(Stream::in, text("GET / HTTP/1.0\r\n\r\n")));
             Run::must(r.client.send_eof(Stream::in));
             r.pump();
             Run::must(r.server.send_data(Stream::out, text("HTTP/1.0 200 OK\r\n\r\nhello")));
             Run::must(r.server.send_eof(Stream::out));
             Run::must(r.server.send_eof(Stream::err));
             Run::must(r.server.close());
             r.pump();
         }},
        {"rejected", 0x02, fuzz::reject_request, 0, [](Run& r) {
             Run::must(r.server.reject(reject::unknown_service, "no such service: web"));
             r.pump();
         }},
        {"bulk-small-window", 0x81, 0, 64, [](Run& r) {
             open(r);
             std::vector<std::byte> big(10000, std::byte{'b'});
             for (std::size_t sent_out = 0, sent_in = 0; sent_out < big.size() || sent_in < big.size();) {
                 sent_out += Run::must(r.server.send_data(Stream::out, wire::Bytes(big).subspan(sent_out)));
                 sent_in += Run::must(r.client.send_data(Stream::in, wire::Bytes(big).subspan(sent_in)));
                 r.pump();
             }
             Run::must(r.client.send_eof(Stream::in));
             end_exec(r, 0);
         }},
        {"bulk-one-byte-chunks", 0x81, 0, 1, [](Run& r) {
             open(r);
             std::vector<std::byte> big(4000, std::byte{'c'});
             for (std::size_t sent = 0; sent < big.size();) {
                 sent += Run::must(r.server.send_data(Stream::err, wire::Bytes(big).subspan(sent)));
                 r.pump();
             }
             end_exec(r, 1);
         }},
        {"client-closes", 0x01, 0, 0, [](Run& r) {
             open(r);
             Run::must(r.server.send_data(Stream::out, text("working...\n")));
             Run::must(r.client.close());
             r.pump();
         }},
        {"exec-keepalive", 0x01 | fuzz::keep_alive, 0, 0, [](Run& r) {
             ping_round(r);  // while the server decides
             open(r);
             ping_round(r);
             Run::must(r.server.send_data(Stream::out, text("still here\n")));
             Run::must(r.client.send_ping());  // crosses the server's EOFs and exit
             end_exec(r, 0);
         }},
        {"service-keepalive-chunked", 0x02 | fuzz::keep_alive, 0, 3, [](Run& r) {
             open(r);
             Run::must(r.client.send_data(Stream::in, text("ping?")));
             ping_round(r);
             Run::must(r.server.send_data(Stream::out, text("pong!")));
             ping_round(r);
             Run::must(r.client.send_eof(Stream::in));
             Run::must(r.server.send_eof(Stream::out));
             Run::must(r.server.send_eof(Stream::err));
             Run::must(r.server.close());
             r.pump();
         }},
        {"rejected-keepalive", 0x01 | fuzz::keep_alive, fuzz::reject_request, 0, [](Run& r) {
             ping_round(r);
             Run::must(r.server.reject(reject::prohibited, "not for you"));
             r.pump();
         }},
        {"exec-hostkeys", 0x01 | fuzz::host_keys, 0, 0, [](Run& r) {
             // Two host keys proved for an all-zero session id (the harness checks them against another).
             struct CountingRng final : Rng {
                 std::uint8_t next = 1;
                 void fill(std::span<std::byte> out) override {
                     for (auto& b : out) b = std::byte{next++};
                 }
             } rng;
             const PrivateKey old_key = PrivateKey::generate(rng);
             const PrivateKey new_key = PrivateKey::generate(rng);
             const std::array<const PrivateKey*, 2> keys{&old_key, &new_key};
             const std::array<std::byte, 32> session_id{};
             Run::must(r.server.accept_with_host_keys(keys, session_id));
             r.pump();
             Run::must(r.server.send_data(Stream::out, text("ok\n")));
             end_exec(r, 0);
         }},
        {"subsystem-sftp", 0x01 | fuzz::subsystem, 0, 0, [](Run& r) {
             open(r);
             // SSH_FXP_INIT (version 3) and the server's SSH_FXP_VERSION, as sftp and sftp-server start.
             Run::must(r.client.send_data(Stream::in, text(std::string("\0\0\0\x05\x01\0\0\0\x03", 9))));
             r.pump();
             Run::must(r.server.send_data(Stream::out, text(std::string("\0\0\0\x05\x02\0\0\0\x03", 9))));
             Run::must(r.client.send_eof(Stream::in));
             r.pump();
             end_exec(r, 0);
         }},
        {"exec-pty", 0x03, 0, 0, [](Run& r) {
             open(r);
             Run::must(r.client.send_window_change(TermSize{200, 60, 0, 0}));
             Run::must(r.client.send_data(Stream::in, text("q")));
             Run::must(r.server.send_data(Stream::out, text("\x1b[H\x1b[2Jtop - 10:00\r\n")));
             r.pump();
             end_exec(r, 0);
         }},
    };
    for (const auto& sc : scenarios) {
        Run r = start(sc.client_config);
        sc.play(r);
        write_seed(root / "session_client", sc.name, sc.client_config, sc.chunk, r.to_client);
        write_seed(root / "session_server", sc.name, static_cast<std::uint8_t>(sc.client_config | sc.server_extra),
                   sc.chunk, r.to_server);
        std::printf("%-22s client seed %5zu bytes, server seed %5zu bytes\n", sc.name.c_str(), r.to_client.size() + 2,
                    r.to_server.size() + 2);
    }
    return 0;
}

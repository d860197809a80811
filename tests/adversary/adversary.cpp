// The hostile-peer matrix (issue 5): a scripted malicious client against the real twowayd and a
// scripted malicious server against the real twoway client, on 127.0.0.1. Every case asserts a refusal
// (the daemon closes or sends its one generic denial and logs why; the client exits 255 with one line)
// and, against the daemon, that a good client is still served afterwards. Prints the matrix as a
// markdown table (case | expected | observed | result) and exits 1 if any case failed.
//
//   adversary --port N --account NAME --twoway PATH --home DIR --scratch DIR --host-key FILE
//             --user-key FILE --log FILE --grace S --per-source N --startups N
//             [--password PW] [--only daemon|records|password|client|flood]...
// tests/adversary/adversary_test.py starts twowayd with throwaway keys and runs this.
#include "adversary.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <map>

#include <twoway/handshake.hpp>
#include <twoway/key_file.hpp>
#include <twoway/key.hpp>

namespace adversary {

std::string hex(const ByteVec& b, std::size_t max) {
    static const char* digits = "0123456789abcdef";
    std::string s;
    for (std::size_t i = 0; i < b.size() && i < max; ++i) {
        s += digits[std::to_integer<unsigned>(b[i]) >> 4];
        s += digits[std::to_integer<unsigned>(b[i]) & 15];
    }
    if (b.size() > max) s += "..";
    return s;
}

void Matrix::add(Row r) {
    std::cerr << (r.pass ? "PASS " : (r.expected_fail ? "XFAIL " : "FAIL ")) << r.name << ": " << r.observed << "\n";
    rows_.push_back(std::move(r));
}

int Matrix::print() const {
    auto cell = [](std::string s) {
        for (auto& c : s) {
            if (c == '|') c = '/';
            if (c == '\n') c = ' ';
        }
        return s;
    };
    int failed = 0;
    int xfail = 0;
    std::cout << "| case | expected | observed | result |\n|---|---|---|---|\n";
    for (const Row& r : rows_) {
        const char* result = r.pass ? "PASS" : (r.expected_fail ? "EXPECTED-FAIL" : "FAIL");
        if (!r.pass && !r.expected_fail) ++failed;
        if (!r.pass && r.expected_fail) ++xfail;
        std::cout << "| " << cell(r.name) << " | " << cell(r.expected) << " | " << cell(r.observed) << " | " << result
                  << " |\n";
    }
    std::cout << "\n" << rows_.size() << " cases: " << rows_.size() - static_cast<std::size_t>(failed + xfail)
              << " passed, " << failed << " failed, " << xfail << " expected failures\n";
    return failed;
}

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
twoway::ClientConfig client_config(const twoway::PrivateKey& key, const std::string& account) {
    return twoway::ClientConfig{.identity = key, .account = account};
}
twoway::ServerConfig server_config(const twoway::PrivateKey& host_key) {
    return twoway::ServerConfig{.host_key = host_key};
}
#pragma GCC diagnostic pop

bool clean_login(World& w, std::string& why) {
    auto sock = Socket::connect(w.port);
    if (!sock) {
        why = "cannot connect";
        return false;
    }
    twoway::ClientHandshake c(client_config(*w.user_key, w.account), twoway::system_rng());
    for (int steps = 0; steps < 16; ++steps) {
        if (auto out = c.take_output(); !out.empty() && !sock->send_all(out)) {
            why = "send failed";
            return false;
        }
        const auto ev = c.event();
        if (std::holds_alternative<twoway::HandshakeComplete>(ev)) {
            auto result = c.take_result();
            if (!result) break;
            auto ch = twoway::Channel::create(twoway::Suite::x25519_ed25519_chacha20poly1305, std::move(result->send_secret), std::move(result->recv_secret));
            ByteVec bye;
            if (ch && ch->close(bye)) (void)sock->send_all(bye);
            return true;
        }
        if (const auto* f = std::get_if<twoway::HandshakeFailed>(&ev)) {
            why = "handshake failed: " + f->error.message();
            return false;
        }
        if (const auto* v = std::get_if<twoway::NeedServerVerdict>(&ev)) {
            if (!(v->server_key == w.host_key->public_key())) {
                why = "wrong host key";
                return false;
            }
            (void)c.accept_server();
            continue;
        }
        ByteVec msg;
        const End e = sock->read_message(msg, milliseconds(5000));
        if (!msg.empty()) (void)c.feed(msg);
        if (e != End::open && !c.complete() && !c.error()) {
            why = std::string("daemon ") + end_text(e);
            return false;
        }
    }
    why = "handshake did not finish";
    return false;
}

std::vector<std::string> child_env(const World& w) {
    std::vector<std::string> env{"HOME=" + w.client_home, "PATH=/usr/bin:/bin", "LANG=C"};
    for (const char* name : {"ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"}) {
        if (const char* v = std::getenv(name)) env.push_back(std::string(name) + "=" + v);
    }
    return env;
}

bool real_login(World& w, std::string& why) {
    Child c({w.twoway, "-p", std::to_string(w.port), "-o", "StrictHostKeyChecking=yes", "-o", "ConnectTimeout=5",
             "127.0.0.1", "true"},
            child_env(w));
    const int rc = c.wait(milliseconds(15000));
    if (rc == 0) return true;
    why = "twoway exited " + std::to_string(rc) + ": " + c.err();
    while (!why.empty() && why.back() == '\n') why.pop_back();
    return false;
}

bool still_serves(World& w, std::string& observed) {
    std::string why;
    if (!clean_login(w, why)) {
        observed += "; then a clean login FAILED (" + why + ")";
        return false;
    }
    if (!real_login(w, why)) {
        observed += "; then `twoway true` FAILED (" + why + ")";
        return false;
    }
    observed += "; then served";
    return true;
}

}  // namespace adversary

namespace {

std::unique_ptr<twoway::PrivateKey> load_key(const std::string& path) {
    twoway::KeyLoadOptions options;
    options.allow_insecure_permissions = true;
    auto k = twoway::load_private_key(path, "", options);
    if (!k) {
        std::cerr << "adversary: cannot load " << path << ": " << k.error().message() << "\n";
        std::exit(2);
    }
    return std::make_unique<twoway::PrivateKey>(std::move(k->key));
}

}  // namespace

int main(int argc, char** argv) {
    using namespace adversary;
    std::map<std::string, std::string> opt;
    std::vector<std::string> only;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string k = argv[i];
        if (k == "--only") {
            only.emplace_back(argv[i + 1]);
        } else {
            opt[k.substr(2)] = argv[i + 1];
        }
    }
    for (const char* need : {"port", "account", "twoway", "home", "scratch", "host-key", "user-key", "log", "grace",
                             "per-source", "startups"}) {
        if (!opt.count(need)) {
            std::cerr << "adversary: missing --" << need << "\n";
            return 2;
        }
    }
    World w;
    w.port = static_cast<std::uint16_t>(std::stoi(opt["port"]));
    w.account = opt["account"];
    if (opt.count("password")) w.password = opt["password"];
    w.twoway = opt["twoway"];
    w.client_home = opt["home"];
    w.scratch = opt["scratch"];
    w.host_key = load_key(opt["host-key"]);
    w.user_key = load_key(opt["user-key"]);
    w.stranger = std::make_unique<twoway::PrivateKey>(twoway::PrivateKey::generate(twoway::system_rng()));
    w.log = std::make_unique<DaemonLog>(opt["log"]);
    w.grace = std::stoi(opt["grace"]);
    w.per_source = std::stoi(opt["per-source"]);
    w.startups = std::stoi(opt["startups"]);
    auto wanted = [&](const char* part) {
        return only.empty() || std::find(only.begin(), only.end(), part) != only.end();
    };

    Matrix m;
    std::string why;
    if (!clean_login(w, why)) {
        std::cerr << "adversary: the daemon does not serve a clean login to begin with: " << why << "\n";
        return 2;
    }
    if (wanted("daemon")) run_daemon_cases(w, m);
    if (wanted("daemon") || wanted("records")) run_record_cases(w, m);
    if (wanted("daemon") || wanted("password")) run_password_daemon_cases(w, m);
    if (wanted("client")) run_client_cases(w, m);
    if (wanted("flood")) run_flood_cases(w, m);
    return m.print() == 0 ? 0 : 1;
}

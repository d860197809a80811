// Writes the seed corpora of the handshake fuzz targets from real handshakes. Regenerate with
//   ninja -C build/<dir> fuzz/handshake/make_handshake_seeds &&
//   build/<dir>/fuzz/handshake/make_handshake_seeds fuzz/corpus/handshake_server fuzz/corpus/handshake_client
// The seeds depend on the protocol and on harness.hpp's fixed keys and randomness; regenerate after
// changing either.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "handshake/harness.hpp"
#include "../../tests/support/deterministic_rng.hpp"

using twoway_test::DeterministicRng;

using namespace twoway;
using namespace twoway::fuzz;

namespace {

ByteVec seed(int mode, std::uint8_t flags, std::initializer_list<wire::Bytes> chunks) {
    ByteVec out{static_cast<std::byte>(mode), std::byte{flags}};
    for (wire::Bytes c : chunks) {
        const ByteVec ch = chunk(c);
        out.insert(out.end(), ch.begin(), ch.end());
    }
    return out;
}

ByteVec text(std::string_view s) {
    return {reinterpret_cast<const std::byte*>(s.data()), reinterpret_cast<const std::byte*>(s.data()) + s.size()};
}

ByteVec edit(std::size_t at, std::uint8_t x) {
    return {static_cast<std::byte>(at >> 8), static_cast<std::byte>(at & 0xff), std::byte{x}};
}

void write_all(const std::filesystem::path& dir, const std::vector<ByteVec>& seeds) {
    std::filesystem::create_directories(dir);
    for (std::size_t i = 0; i < seeds.size(); ++i) {
        char name[32];
        std::snprintf(name, sizeof name, "seed-%02zu", i);
        std::ofstream f(dir / name, std::ios::binary);
        f.write(reinterpret_cast<const char*>(seeds[i].data()), static_cast<std::streamsize>(seeds[i].size()));
    }
}

int fail(const char* what) {
    std::fprintf(stderr, "make_handshake_seeds: %s\n", what);
    return 1;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: %s SERVER_CORPUS_DIR CLIENT_CORPUS_DIR\n", argv[0]);
        return 2;
    }
    // A real handshake with the targets' own keys and randomness: its bytes replay exactly.
    DeterministicRng crng(client_rng_seed), srng(server_rng_seed);
    ClientHandshake c({.identity = client_key(), .account = std::string(account)}, crng);
    ServerHandshake s({.host_key = server_key()}, srng);
    const ByteVec m1 = c.take_output();
    static_cast<void>(s.feed(m1));
    const ByteVec m2 = s.take_output();
    static_cast<void>(c.feed(m2));
    static_cast<void>(c.accept_server());
    const ByteVec m3 = c.take_output();
    static_cast<void>(s.feed(m3));
    static_cast<void>(s.authorize());
    const ByteVec m4 = s.take_output();
    static_cast<void>(c.feed(m4));
    if (!c.complete() || !s.complete()) {
        std::fprintf(stderr, "the reference handshake did not complete\n");
        return 1;
    }

    // The client_hello of a client that knows the server key: the stealth proof, which a server in
    // stealth mode (raw mode, first byte 0x81) answers; the one above carries the random stand-in.
    ClientConfig knowing{.identity = client_key(), .account = std::string(account)};
    knowing.known_server_key = server_key().public_key();
    DeterministicRng krng(client_rng_seed);
    ClientHandshake k(knowing, krng);
    const ByteVec m1_proof = k.take_output();

    // The simulated client of the server target sends its own client_hello (without host_key_mac), and
    // its plaintext is for the flight that answers that hello, as in the target.
    SimClient sc;
    {
        DeterministicRng r(server_rng_seed);
        ServerHandshake plain({.host_key = server_key()}, r);
        static_cast<void>(plain.feed(sc.hello()));
        if (!sc.server_flight(plain.take_output())) return fail("the simulated client cannot open the server's flight");
    }
    const ByteVec client_auth = sc.genuine_auth();
    SimServer ss;
    if (!ss.hello(m1)) return fail("the simulated server refuses client_hello");
    const ByteVec server_auth = ss.genuine_auth();
    const ByteVec records = text("\x00\x00\x00\x11pipelined record");
    // With certificates on both sides (flag_certificate): the genuine plaintexts carry them.
    SimClient scc;
    {
        ServerConfig cfg{.host_key = server_key()};
        cfg.host_certificate = host_certificate();
        cfg.banner = std::string(banner);
        DeterministicRng r(server_rng_seed);
        ServerHandshake cs(cfg, r);
        static_cast<void>(cs.feed(scc.hello()));
        if (!scc.server_flight(cs.take_output())) {
            return fail("the simulated client cannot open the flight of a server with a certificate");
        }
    }
    const ByteVec client_auth_cert = scc.genuine_auth(true);
    const ByteVec server_auth_cert = ss.genuine_auth(true);
    const std::size_t ucert = 4 + account.size() + 4;  // the user certificate starts here
    const std::size_t hcert = 4;                        // the host certificate starts here
    const std::size_t ca_sig_u = ucert + user_certificate().blob.size() - 5;  // inside its CA signature
    const std::size_t ca_sig_h = hcert + host_certificate().blob.size() - 5;
    const std::size_t type_u = ucert + 4 + 32 + 4 + 32 + 4 + 32 + 8 + 3;  // the certificate type's low byte
    const std::size_t type_h = hcert + 4 + 32 + 4 + 32 + 4 + 32 + 8 + 3;
    const std::size_t sig_at = 4 + account.size() + 55 + 30;  // inside the client's signature
    const std::size_t fin_at = client_auth.size() - 10;       // inside the Finished MAC

    // A real password handshake (PROTOCOL.md 4.8) with the same randomness: flag_password in raw mode.
    ClientConfig pwc{.account = std::string(account)};
    pwc.password = true;
    ServerConfig pws{.host_key = server_key()};
    pws.password_keys = &password_fixture().keys;
    pws.password_default_ksf = password_ksf;
    DeterministicRng pcrng(client_rng_seed), psrng(server_rng_seed);
    ClientHandshake pc(pwc, pcrng);
    ServerHandshake ps(pws, psrng);
    const ByteVec p1 = pc.take_output();
    static_cast<void>(ps.feed(p1));
    const ByteVec p2 = ps.take_output();
    static_cast<void>(pc.feed(p2));
    static_cast<void>(pc.accept_server_with_password(text(password_text)));
    const ByteVec p3 = pc.take_output();
    static_cast<void>(ps.feed(p3));
    static_cast<void>(ps.provide_password_record(password_fixture().record, password_ksf));
    const ByteVec p4 = ps.take_output();
    static_cast<void>(pc.feed(p4));
    const ByteVec p5 = pc.take_output();
    static_cast<void>(ps.feed(p5));
    static_cast<void>(ps.authorize());
    const ByteVec p6 = ps.take_output();
    static_cast<void>(pc.feed(p6));
    if (!pc.complete() || !ps.complete()) return fail("the reference password handshake did not complete");
    // The unknown account's answer (a fake KE2) for the client target.
    DeterministicRng ucrng(client_rng_seed), usrng(server_rng_seed);
    ClientHandshake uc(pwc, ucrng);
    ServerHandshake us(pws, usrng);
    static_cast<void>(us.feed(uc.take_output()));
    static_cast<void>(uc.feed(us.take_output()));
    static_cast<void>(uc.accept_server_with_password(text(password_text)));
    static_cast<void>(us.feed(uc.take_output()));
    static_cast<void>(us.no_password_record());
    const ByteVec p4_fake = us.take_output();

    // Several identities (flag_auth_retry): the first client_auth refused with "retry", the second
    // (second_client_key) accepted.
    ClientConfig rcc{.identity = client_key(), .account = std::string(account)};
    rcc.auth_retry = true;
    ServerConfig rsc{.host_key = server_key()};
    rsc.max_auth_tries = fuzz_max_auth_tries;
    DeterministicRng rcrng(client_rng_seed), rsrng(server_rng_seed);
    ClientHandshake rc(rcc, rcrng);
    ServerHandshake rs(rsc, rsrng);
    const ByteVec r1 = rc.take_output();
    static_cast<void>(rs.feed(r1));
    const ByteVec r2 = rs.take_output();
    static_cast<void>(rc.feed(r2));
    static_cast<void>(rc.accept_server());
    const ByteVec r3 = rc.take_output();
    static_cast<void>(rs.feed(r3));
    static_cast<void>(rs.deny("first"));
    const ByteVec r4 = rs.take_output();
    static_cast<void>(rc.feed(r4));
    static_cast<void>(rc.offer_identity(second_client_key()));
    const ByteVec r5 = rc.take_output();
    static_cast<void>(rs.feed(r5));
    static_cast<void>(rs.authorize());
    const ByteVec r6 = rs.take_output();
    static_cast<void>(rc.feed(r6));
    if (!rc.complete() || !rs.complete()) return fail("the reference auth_retry handshake did not complete");

    const std::vector<ByteVec> server = {
        seed(0, 0, {m1, m3}),
        seed(0, flag_trickle | flag_end_input, {m1, m3}),
        seed(0, flag_refuse, {m1, m3, records}),
        seed(0, flag_end_input, {wire::Bytes(m1).first(40)}),
        seed(0x81, 0, {m1_proof}),
        seed(0x81, flag_end_input, {m1}),
        seed(1, 0, {client_auth, records}),
        seed(1, flag_refuse, {client_auth}),
        seed(1, 0, {text("\x00\x00\x00\x05" "alice" "\x00\x00\x00\x07" "ssh-rsa")}),
        seed(2, 0, {{}, records}),
        seed(2, 0, {edit(sig_at, 0x01)}),
        seed(2, 0, {edit(fin_at, 0x80)}),
        seed(2, 0, {edit(2, 0x01)}),
        seed(2, flag_certificate, {{}, records}),
        seed(2, flag_certificate, {edit(ca_sig_u, 0x01)}),
        seed(2, flag_certificate, {edit(type_u, 0x03)}),
        seed(1, flag_certificate, {client_auth_cert}),
        // password mode (raw, flag_password)
        seed(0, flag_password, {p1, p3, p5}),
        seed(0, flag_password | flag_trickle | flag_end_input, {p1, p3, p5, records}),
        seed(0, flag_password | flag_refuse, {p1, p3, p5}),
        seed(0, flag_password | flag_end_input, {p1, p3}),
        // several identities (raw, flag_auth_retry)
        seed(0, flag_auth_retry, {r1, r3, r5, records}),
        seed(0, flag_auth_retry | flag_refuse | flag_trickle, {r1, r3, r5}),
        seed(0, flag_auth_retry, {r1, r3, r3}),
    };
    const std::size_t ssig_at = 55 + 4 + 30, sfin_at = server_auth.size() - 10;
    const std::vector<ByteVec> client = {
        seed(0, 0, {m2, m4}),
        seed(0, flag_trickle | flag_end_input, {m2, m4, records}),
        seed(0, flag_refuse, {m2}),
        seed(0, flag_end_input, {wire::Bytes(m2).first(100)}),
        seed(1, 0, {server_auth, text(std::string_view("\x00", 1)), records}),
        seed(1, 0, {server_auth, text("\x01")}),
        seed(1, flag_refuse, {server_auth}),
        seed(2, 0, {{}, text(std::string_view("\x00", 1))}),
        seed(2, 0, {edit(ssig_at, 0x01)}),
        seed(2, 0, {edit(sfin_at, 0x80)}),
        seed(2, 0, {edit(1, 0x01)}),
        seed(2, flag_certificate, {{}, text(std::string_view("\x00", 1))}),
        seed(2, flag_certificate, {edit(ca_sig_h, 0x01)}),
        seed(2, flag_certificate, {edit(type_h, 0x03)}),
        seed(1, flag_certificate, {server_auth_cert, text(std::string_view("\x00", 1))}),
        // password mode (raw, flag_password)
        seed(0, flag_password, {p2, p4, p6}),
        seed(0, flag_password | flag_certificate | flag_trickle | flag_end_input, {p2, p4, p6, records}),
        seed(0, flag_password, {p2, p4_fake}),
        seed(0, flag_password | flag_end_input, {p2, wire::Bytes(p4).first(200)}),
        // several identities (raw, flag_auth_retry)
        seed(0, flag_auth_retry, {r2, r4, r6, records}),
        seed(0, flag_auth_retry | flag_trickle | flag_end_input, {r2, r4}),
        seed(0, flag_auth_retry, {r2, r6}),
    };
    write_all(argv[1], server);
    write_all(argv[2], client);
    std::printf("wrote %zu server and %zu client seeds\n", server.size(), client.size());
    return 0;
}

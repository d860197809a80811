// <twoway/password.hpp>: the OPAQUE key file, the password record format and its files, and local
// registration followed by a whole OPAQUE login (opaque.hpp's KE1/KE2/KE3) against the stored and
// reloaded record.
#include <catch2/catch.hpp>

#include <map>
#include <string>
#include <vector>

#include <sys/stat.h>
#include <unistd.h>

#include <twoway/file.hpp>
#include <twoway/key_file.hpp>
#include <twoway/password.hpp>
#include <twoway/text.hpp>

#include "../../support/deterministic_rng.hpp"
#include "../../support/hex.hpp"
#include "../../support/temp_dir.hpp"
#include "crypto/crypto.hpp"
#include "opaque/opaque.hpp"
#include "rfc9807_vectors.inc"

using twoway::errc;
using twoway_test::DeterministicRng;
using twoway_test::TempDir;

namespace {
// Small Argon2id costs: the tests' only reason to leave the default.
const twoway::PasswordKsf small_ksf{1, 64};

std::span<const std::byte> bytes(std::string_view s) { return std::as_bytes(std::span(s)); }

unsigned mode_of(const std::string& path) {
    struct stat st {};
    REQUIRE(::stat(path.c_str(), &st) == 0);
    return st.st_mode & 07777U;
}

std::string record_line(DeterministicRng& rng) {
    const auto key = twoway::generate_opaque_key(rng);
    auto rec = twoway::register_password(key, "alice", bytes("pw"), small_ksf, rng);
    REQUIRE(rec);
    auto line = twoway::format_password_record(*rec);
    REQUIRE(line);
    return *line;
}

// A whole login against a record: the client's half with password, the server's with the key and the
// record, as the handshake will run them (credential_identifier and client_identity = the account).
std::error_code login(const twoway::OpaqueKey& key, const twoway::PasswordRecord& stored, std::string_view account,
                      std::string_view password, twoway::Rng& rng) {
    using namespace twoway::opaque;
    auto skeys = twoway::opaque::server_keys(key.oprf_seed.span(), key.private_key.span());
    REQUIRE(skeys);
    auto record = parse_registration_record(stored.registration.span());
    REQUIRE(record);
    const Identities ids{bytes(account), {}};
    const auto ksf = argon2id_ksf(twoway::crypto::Argon2idParams{stored.ksf.opslimit, stored.ksf.memlimit_kib * 1024});
    auto start = client_init(bytes(password), client_login_random(rng));
    REQUIRE(start);
    auto server = server_init(*skeys, *record, bytes(account), start->ke1, ids, bytes("ctx"), server_login_random(rng));
    REQUIRE(server);
    auto client = client_finish(start->state, server->ke2, ids, bytes("ctx"), ksf);
    if (!client) return client.error();
    auto session = server_finish(server->state, client->ke3);
    if (!session) return session.error();
    CHECK(*session == client->session_key);
    CHECK(client->server_public_key == key.public_key);
    return {};
}
}  // namespace

// ---- the key file -------------------------------------------------------------------------------------

TEST_CASE("OPAQUE key: encode and decode round trip; the armour is its own", "[password]") {
    DeterministicRng rng(1);
    const auto key = twoway::generate_opaque_key(rng);
    const std::string text = twoway::encode_opaque_key(key);
    CHECK(text.starts_with("-----BEGIN TWOWAY OPAQUE KEY-----\n"));
    auto back = twoway::decode_opaque_key(text);
    REQUIRE(back);
    CHECK(back->oprf_seed == key.oprf_seed);
    CHECK(back->private_key == key.private_key);
    CHECK(back->public_key == key.public_key);

    // Domain separation: a private key file is not an OPAQUE key, nor the other way round.
    const auto user_key = twoway::PrivateKey::generate(rng);
    auto pk_text = twoway::encode_private_key(user_key, "c", "", twoway::default_kdf_params(), rng);
    REQUIRE(pk_text);
    CHECK(twoway::decode_opaque_key(*pk_text).error() == errc::bad_key_format);
    CHECK(twoway::decode_private_key(text, "").error() == errc::bad_key_format);
}

TEST_CASE("OPAQUE key: a damaged or inconsistent file is refused", "[password]") {
    DeterministicRng rng(2);
    const auto key = twoway::generate_opaque_key(rng);
    const std::string text = twoway::encode_opaque_key(key);
    // One base64 character changed in the body: the checksum (or the base64) refuses it.
    std::string damaged = text;
    const std::size_t at = text.find('\n') + 40;
    damaged[at] = damaged[at] == 'A' ? 'B' : 'A';
    auto r = twoway::decode_opaque_key(damaged);
    REQUIRE(!r);
    CHECK((r.error() == errc::corrupt_key_file || r.error() == errc::malformed));
    CHECK(!twoway::decode_opaque_key(text.substr(0, text.size() / 2)));
    CHECK(!twoway::decode_opaque_key(""));

    // A public key that is not the private key's, with a valid checksum: key_mismatch.
    twoway::OpaqueKey other = twoway::generate_opaque_key(rng);
    twoway::OpaqueKey mixed{key.oprf_seed.clone(), key.private_key.clone(), other.public_key};
    CHECK(twoway::decode_opaque_key(twoway::encode_opaque_key(mixed)).error() == errc::key_mismatch);
    // A private key that is no reduced scalar.
    twoway::OpaqueKey bad{key.oprf_seed.clone(), twoway::SecretBytes<32>(), key.public_key};
    for (auto& b : bad.private_key.span()) b = std::byte{0xff};
    CHECK(twoway::decode_opaque_key(twoway::encode_opaque_key(bad)).error() == errc::invalid_argument);
}

TEST_CASE("OPAQUE key file: created 0600 on first use, then loaded; mode and owner enforced", "[password]") {
    TempDir dir("twoway-opaque-key");
    const std::string path = dir.file("opaque_key");
    DeterministicRng rng(3);
    bool created = false;
    auto first = twoway::load_or_create_opaque_key(path, rng, &created);
    REQUIRE(first);
    CHECK(created);
    CHECK(mode_of(path) == 0600);
    CHECK(dir.entries() == 1);  // no temporary file left behind
    auto second = twoway::load_or_create_opaque_key(path, rng, &created);
    REQUIRE(second);
    CHECK_FALSE(created);
    CHECK(second->oprf_seed == first->oprf_seed);
    CHECK(second->public_key == first->public_key);

    REQUIRE(::chmod(path.c_str(), 0640) == 0);
    CHECK(twoway::load_opaque_key(path).error() == errc::insecure_permissions);
    // ... and load_or_create never replaces a file it refuses.
    CHECK(twoway::load_or_create_opaque_key(path, rng).error() == errc::insecure_permissions);
    REQUIRE(::chmod(path.c_str(), 0604) == 0);
    CHECK(twoway::load_opaque_key(path).error() == errc::insecure_permissions);
    REQUIRE(::chmod(path.c_str(), 0600) == 0);
    CHECK(twoway::load_opaque_key(path));
    if (::geteuid() == 0) {
        REQUIRE(::chown(path.c_str(), 1, static_cast<gid_t>(-1)) == 0);  // daemon, say: not us
        CHECK(twoway::load_opaque_key(path).error() == errc::insecure_permissions);
    }

    // A damaged file is refused, not replaced by a new key.
    TempDir d2("twoway-opaque-key");
    const std::string p2 = d2.file("opaque_key");
    REQUIRE(twoway::write_file_atomic(p2, "-----BEGIN TWOWAY OPAQUE KEY-----\nAAAA\n-----END TWOWAY OPAQUE KEY-----\n", 0600));
    CHECK(!twoway::load_or_create_opaque_key(p2, rng));
    auto still = twoway::read_file(p2, 4096);
    REQUIRE(still);
    CHECK(still->text.find("AAAA") != std::string::npos);
    // No directory: an error, nothing created.
    CHECK(twoway::load_or_create_opaque_key(d2.file("nodir/opaque_key"), rng).error() ==
          std::errc::no_such_file_or_directory);
}

// ---- the record format -------------------------------------------------------------------------------

TEST_CASE("password record: the line's form and a round trip", "[password]") {
    DeterministicRng rng(5);
    const std::string line = record_line(rng);
    CHECK(line.starts_with("twoway-opaque-v1 argon2id13 ops=1 mem=64 "));
    CHECK(line.ends_with("\n"));
    CHECK(line.size() == std::string("twoway-opaque-v1 argon2id13 ops=1 mem=64 ").size() + 256 + 1);
    auto rec = twoway::parse_password_record(line);
    REQUIRE(rec);
    CHECK(rec->ksf.opslimit == 1);
    CHECK(rec->ksf.memlimit_kib == 64);
    auto again = twoway::format_password_record(*rec);
    REQUIRE(again);
    CHECK(*again == line);
    // Without its final line break it is the same record.
    CHECK(twoway::parse_password_record(line.substr(0, line.size() - 1)));
    CHECK(twoway::default_password_ksf().opslimit == 3);
    CHECK(twoway::default_password_ksf().memlimit_kib == 262144);
}

TEST_CASE("password record: every malformed form is refused", "[password]") {
    DeterministicRng rng(6);
    const std::string line = record_line(rng);
    const std::string b64 = line.substr(line.rfind(' ') + 1, 256);
    const auto with = [&](std::string_view head) { return std::string(head) + " " + b64 + "\n"; };
    REQUIRE(twoway::parse_password_record(with("twoway-opaque-v1 argon2id13 ops=1 mem=64")));

    // Another version or KSF: not this format.
    CHECK(twoway::parse_password_record(with("twoway-opaque-v2 argon2id13 ops=1 mem=64")).error() == errc::bad_key_format);
    CHECK(twoway::parse_password_record(with("twoway-opaque-v1 identity ops=1 mem=64")).error() == errc::bad_key_format);
    CHECK(twoway::parse_password_record(with("twoway-opaque-v1 argon2i13 ops=1 mem=64")).error() == errc::bad_key_format);
    CHECK(twoway::parse_password_record("-----BEGIN TWOWAY OPAQUE KEY-----\n").error() == errc::bad_key_format);

    const std::vector<std::string> malformed{
        "",
        "\n",
        "twoway-opaque-v1",
        with("twoway-opaque-v1 argon2id13 ops=1"),                    // a field missing
        with("twoway-opaque-v1 argon2id13 mem=64 ops=1"),             // fields out of order
        with("twoway-opaque-v1 argon2id13 ops=0 mem=64"),             // below the bounds
        with("twoway-opaque-v1 argon2id13 ops=17 mem=64"),            // above
        with("twoway-opaque-v1 argon2id13 ops=1 mem=7"),
        with("twoway-opaque-v1 argon2id13 ops=1 mem=1048577"),
        with("twoway-opaque-v1 argon2id13 ops=01 mem=64"),            // a second spelling
        with("twoway-opaque-v1 argon2id13 ops=+1 mem=64"),
        with("twoway-opaque-v1 argon2id13 ops= mem=64"),
        with("twoway-opaque-v1 argon2id13 ops=1 mem=64 extra"),       // a field too many
        with("twoway-opaque-v1 argon2id13 ops=1  mem=64"),            // two spaces
        with("twoway-opaque-v1\targon2id13 ops=1 mem=64"),            // a tab
        with(" twoway-opaque-v1 argon2id13 ops=1 mem=64"),            // a leading space
        with("twoway-opaque-v1 argon2id13 ops=99999999999999999999 mem=64"),
        "twoway-opaque-v1 argon2id13 ops=1 mem=64 " + b64 + "\n\n",   // a second (empty) line
        "twoway-opaque-v1 argon2id13 ops=1 mem=64 " + b64 + "\r\n",   // CR
        "twoway-opaque-v1 argon2id13 ops=1 mem=64 " + b64 + " \n",    // trailing blank
        "twoway-opaque-v1 argon2id13 ops=1 mem=64 " + b64.substr(0, 252) + "\n",  // 189 bytes
        "twoway-opaque-v1 argon2id13 ops=1 mem=64 " + b64 + "AAAA\n",  // 195 bytes
        "twoway-opaque-v1 argon2id13 ops=1 mem=64 " + b64.substr(0, 255) + "!\n",  // not base64
        "twoway-opaque-v1 argon2id13 ops=1 mem=64 " + b64 + "\nsecond line\n",
        std::string("twoway-opaque-v1 argon2id13 ops=1 mem=64 ") + b64 + std::string("\0", 1),
    };
    for (const auto& text : malformed) {
        INFO(twoway::quoted(text, 400));
        auto r = twoway::parse_password_record(text);
        REQUIRE(!r);
        CHECK(r.error() == errc::malformed);
    }
    CHECK(twoway::parse_password_record(std::string(2000, 'a')).error() == errc::length_too_large);

    // The RegistrationRecord's elements are checked: an identity client key is weak, a non-canonical
    // one malformed.
    auto rec = twoway::parse_password_record(line);
    REQUIRE(rec);
    twoway::PasswordRecord zeroed{rec->ksf, rec->registration.clone()};
    for (std::size_t i = 0; i < 32; ++i) zeroed.registration.data()[i] = std::byte{0};
    auto zline = twoway::format_password_record(zeroed);
    REQUIRE(zline);
    CHECK(twoway::parse_password_record(*zline).error() == errc::weak_public_key);
    for (std::size_t i = 0; i < 32; ++i) zeroed.registration.data()[i] = std::byte{0xff};
    zline = twoway::format_password_record(zeroed);
    REQUIRE(zline);
    CHECK(twoway::parse_password_record(*zline).error() == errc::malformed);
    // format refuses what parse would.
    twoway::PasswordRecord costly{twoway::PasswordKsf{1, 4}, rec->registration.clone()};
    CHECK(twoway::format_password_record(costly).error() == errc::invalid_argument);
}

TEST_CASE("password record: account names that cannot name a file safely are refused", "[password]") {
    for (const char* ok : {"alice", "a", "bob.smith", "x-y_z", "user@realm", "caf\xc3\xa9"}) {
        INFO(ok);
        CHECK(twoway::valid_password_account(ok));
    }
    const std::vector<std::string> bad{"", ".", "..", "../etc/passwd", "a/b", "/", ".hidden", "-rf", "a\nb",
                                       std::string("a\0b", 3), "tab\there", "del\x7f", "esc\x1b[0m",
                                       std::string(256, 'a')};
    for (const auto& name : bad) {
        INFO(twoway::quoted(name));
        CHECK_FALSE(twoway::valid_password_account(name));
    }
    CHECK(twoway::valid_password_account(std::string(255, 'a')));
}

// ---- the records directory ---------------------------------------------------------------------------

TEST_CASE("password records: saved 0600 in a 0700 directory, loaded, replaced, deleted", "[password]") {
    TempDir top("twoway-opaque-records");
    const std::string dir = top.file("opaque");
    DeterministicRng rng(7);
    const auto key = twoway::generate_opaque_key(rng);
    auto rec = twoway::register_password(key, "alice", bytes("pw one"), small_ksf, rng);
    REQUIRE(rec);

    CHECK(twoway::load_password_record(dir, "alice").error() == std::errc::no_such_file_or_directory);
    REQUIRE(twoway::save_password_record(dir, "alice", *rec));
    CHECK(mode_of(dir) == 0700);
    CHECK(mode_of(dir + "/alice") == 0600);
    auto back = twoway::load_password_record(dir, "alice");
    REQUIRE(back);
    CHECK(back->registration == rec->registration);
    // No record for another account: "no record", which a caller logs apart from a broken one.
    CHECK(twoway::load_password_record(dir, "bob").error() == std::errc::no_such_file_or_directory);
    // A trailing slash on the directory is the same directory.
    CHECK(twoway::load_password_record(dir + "/", "alice"));

    // Registering again replaces the record.
    auto rec2 = twoway::register_password(key, "alice", bytes("pw two"), small_ksf, rng);
    REQUIRE(rec2);
    REQUIRE(twoway::save_password_record(dir, "alice", *rec2));
    back = twoway::load_password_record(dir, "alice");
    REQUIRE(back);
    CHECK(back->registration == rec2->registration);
    CHECK_FALSE(back->registration == rec->registration);

    // Fail closed: a broken record is an error of its own, never "no record".
    REQUIRE(twoway::write_file_atomic(dir + "/broken", "twoway-opaque-v1 argon2id13 ops=1 mem=64 AAAA\n", 0600));
    CHECK(twoway::load_password_record(dir, "broken").error() == errc::malformed);
    REQUIRE(twoway::write_file_atomic(dir + "/big", std::string(5000, 'x'), 0600));
    CHECK(twoway::load_password_record(dir, "big").error() == errc::length_too_large);
    REQUIRE(::mkdir((dir + "/adir").c_str(), 0700) == 0);
    CHECK(twoway::load_password_record(dir, "adir").error() == errc::invalid_argument);

    // Modes: a record others may read, a directory others may enter.
    REQUIRE(::chmod((dir + "/alice").c_str(), 0644) == 0);
    CHECK(twoway::load_password_record(dir, "alice").error() == errc::insecure_permissions);
    REQUIRE(::chmod((dir + "/alice").c_str(), 0600) == 0);
    REQUIRE(::chmod(dir.c_str(), 0755) == 0);
    CHECK(twoway::load_password_record(dir, "alice").error() == errc::insecure_permissions);
    CHECK(twoway::save_password_record(dir, "alice", *rec).error() == errc::insecure_permissions);
    CHECK(twoway::delete_password_record(dir, "alice").error() == errc::insecure_permissions);
    REQUIRE(::chmod(dir.c_str(), 0700) == 0);
    if (::geteuid() == 0) {
        REQUIRE(::chown((dir + "/alice").c_str(), 1, static_cast<gid_t>(-1)) == 0);
        CHECK(twoway::load_password_record(dir, "alice").error() == errc::insecure_permissions);
        REQUIRE(::chown((dir + "/alice").c_str(), 0, static_cast<gid_t>(-1)) == 0);
    }

    // Unsafe names never reach the file system.
    CHECK(twoway::load_password_record(dir, "../opaque/alice").error() == errc::invalid_argument);
    CHECK(twoway::save_password_record(dir, "..", *rec).error() == errc::invalid_argument);
    CHECK(twoway::delete_password_record(dir, "a/b").error() == errc::invalid_argument);

    REQUIRE(twoway::delete_password_record(dir, "alice"));
    CHECK(twoway::load_password_record(dir, "alice").error() == std::errc::no_such_file_or_directory);
    CHECK(twoway::delete_password_record(dir, "alice").error() == std::errc::no_such_file_or_directory);
}

// ---- registration, then a login against the reloaded record ------------------------------------------

TEST_CASE("register_password, store, reload, then log in: the right password only", "[password]") {
    TempDir top("twoway-opaque-login");
    DeterministicRng rng(8);
    auto key = twoway::load_or_create_opaque_key(top.file("opaque_key"), rng);
    REQUIRE(key);
    auto rec = twoway::register_password(*key, "carol", bytes("correct horse"), small_ksf, rng);
    REQUIRE(rec);
    REQUIRE(twoway::save_password_record(top.file("opaque"), "carol", *rec));

    // What twowayd would do: both files read back from disk.
    auto key2 = twoway::load_opaque_key(top.file("opaque_key"));
    REQUIRE(key2);
    auto stored = twoway::load_password_record(top.file("opaque"), "carol");
    REQUIRE(stored);
    CHECK(login(*key2, *stored, "carol", "correct horse", rng) == std::error_code{});
    CHECK(login(*key2, *stored, "carol", "correct horsf", rng) == errc::auth_denied);
    // The record is bound to its account (credential identifier and client identity).
    CHECK(login(*key2, *stored, "carl", "correct horse", rng) == errc::auth_denied);
    // ... and to the server's key.
    const auto other = twoway::generate_opaque_key(rng);
    CHECK(login(other, *stored, "carol", "correct horse", rng) == errc::auth_denied);

    // Argon2id's parameters are part of the record: other costs stretch to another key.
    twoway::PasswordRecord cheaper{twoway::PasswordKsf{2, 64}, stored->registration.clone()};
    CHECK(login(*key2, cheaper, "carol", "correct horse", rng) == errc::auth_denied);

    // Refusals before any work.
    CHECK(twoway::register_password(*key2, "carol", bytes(""), small_ksf, rng).error() == errc::invalid_argument);
    CHECK(twoway::register_password(*key2, "..", bytes("x"), small_ksf, rng).error() == errc::invalid_argument);
    CHECK(twoway::register_password(*key2, "carol", bytes("x"), twoway::PasswordKsf{0, 64}, rng).error() ==
          errc::invalid_argument);
}

// ---- registration over a session (PROTOCOL.md 16) ---------------------------------------------------

namespace {
std::vector<std::byte> cat_bytes(std::initializer_list<std::vector<std::byte>> parts) {
    std::vector<std::byte> out;
    for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
    return out;
}

twoway::OpaqueKey rfc_key() {
    const auto seed = twoway::test::unhex(real1.at("oprf_seed"));
    const auto sk = twoway::test::unhex(real1.at("server_private_key"));
    const auto pk = twoway::test::unhex(real1.at("server_public_key"));
    twoway::OpaqueKey key{twoway::SecretBytes<64>(std::span<const std::byte, 64>(seed.data(), 64)),
                          twoway::SecretBytes<32>(std::span<const std::byte, 32>(sk.data(), 32)), {}};
    std::copy(pk.begin(), pk.end(), key.public_key.begin());
    return key;
}
}  // namespace

TEST_CASE("remote registration: the server's RESPONSE for RFC 9807's real vector 1 (PROTOCOL.md 16's example)",
          "[password]") {
    const auto key = rfc_key();
    // REGISTER = 01 || RFC 9807's registration_request; the account is the vector's credential_identifier.
    const auto reg = cat_bytes({twoway::test::unhex("01"), twoway::test::unhex(real1.at("registration_request"))});
    REQUIRE(reg.size() == twoway::password_register_message_size);
    auto response = twoway::answer_password_register(key, "1234", twoway::default_password_ksf(), reg);
    REQUIRE(response);
    CHECK(twoway::test::hex(*response) ==
          "81" "04" "31323334" "00000003" "00040000" + real1.at("registration_response"));
    auto parsed = twoway::parse_password_response(*response);
    REQUIRE(parsed);
    CHECK(parsed->account == "1234");
    CHECK(parsed->ksf.opslimit == 3);
    CHECK(parsed->ksf.memlimit_kib == 262144);
    CHECK(twoway::test::hex(parsed->response) == real1.at("registration_response"));
}

TEST_CASE("remote registration: both halves, then a login with the stored record", "[password]") {
    DeterministicRng rng(16);
    const auto key = twoway::generate_opaque_key(rng);
    auto client = twoway::PasswordRegistrationClient::start(bytes("over the wire"), rng);
    REQUIRE(client);
    const auto reg = client->register_message();
    CHECK(reg[0] == std::byte{0x01});
    auto response = twoway::answer_password_register(key, "dave", small_ksf, reg);
    REQUIRE(response);
    CHECK(response->size() == twoway::password_response_fixed_size + 4);
    auto parsed = twoway::parse_password_response(*response);
    REQUIRE(parsed);
    auto message = client->finish(*parsed, rng);
    REQUIRE(message);
    CHECK(message->span()[0] == std::byte{0x03});
    // finish() runs once: the password and the blind are gone.
    CHECK(client->finish(*parsed, rng).error() == errc::unexpected_message);

    auto record = twoway::password_record_from_message(small_ksf, message->span());
    REQUIRE(record);
    CHECK(record->ksf.opslimit == small_ksf.opslimit);
    CHECK(record->ksf.memlimit_kib == small_ksf.memlimit_kib);
    CHECK(login(key, *record, "dave", "over the wire", rng) == std::error_code{});
    CHECK(login(key, *record, "dave", "over the wirf", rng) == errc::auth_denied);
    // Sealed for the account the server named, not another.
    CHECK(login(key, *record, "dav", "over the wire", rng) == errc::auth_denied);

    // A client that sealed for another name than the server keys the OPRF with cannot log in.
    auto c2 = twoway::PasswordRegistrationClient::start(bytes("pw"), rng);
    REQUIRE(c2);
    auto r2 = twoway::answer_password_register(key, "erin", small_ksf, c2->register_message());
    REQUIRE(r2);
    auto p2 = twoway::parse_password_response(*r2);
    REQUIRE(p2);
    p2->account = "mallory";
    auto m2 = c2->finish(*p2, rng);
    REQUIRE(m2);
    auto rec2 = twoway::password_record_from_message(small_ksf, m2->span());
    REQUIRE(rec2);
    CHECK(login(key, *rec2, "erin", "pw", rng) == errc::auth_denied);

    CHECK(twoway::PasswordRegistrationClient::start(bytes(""), rng).error() == errc::invalid_argument);
    CHECK(twoway::test::hex(twoway::password_done_message(twoway::PasswordDone::changed)) == "8201");
    CHECK(twoway::test::hex(twoway::password_refused_message(twoway::PasswordRefusal::server_failure)) == "8304");
}

TEST_CASE("remote registration: every malformed message is refused", "[password]") {
    DeterministicRng rng(17);
    const auto key = twoway::generate_opaque_key(rng);
    auto client = twoway::PasswordRegistrationClient::start(bytes("pw"), rng);
    REQUIRE(client);
    const std::vector<std::byte> reg(client->register_message().begin(), client->register_message().end());
    auto answer = [&](const std::vector<std::byte>& m) {
        return twoway::answer_password_register(key, "dave", small_ksf, m).error();
    };
    // REGISTER
    CHECK(answer({}) == errc::short_input);
    auto wrong_type = reg;
    wrong_type[0] = std::byte{0x03};
    CHECK(answer(wrong_type) == errc::unexpected_message);
    CHECK(answer(std::vector<std::byte>(reg.begin(), reg.end() - 1)) == errc::short_input);
    CHECK(answer(cat_bytes({reg, {std::byte{0}}})) == errc::trailing_data);
    auto identity = reg;
    std::fill(identity.begin() + 1, identity.end(), std::byte{0});
    CHECK(answer(identity) == errc::weak_public_key);
    auto noncanonical = reg;
    std::fill(noncanonical.begin() + 1, noncanonical.end(), std::byte{0xff});
    CHECK(answer(noncanonical) == errc::malformed);
    CHECK(twoway::answer_password_register(key, "-x", small_ksf, reg).error() == errc::invalid_argument);
    CHECK(twoway::answer_password_register(key, "dave", twoway::PasswordKsf{17, 64}, reg).error() ==
          errc::invalid_argument);

    // RESPONSE
    auto response = twoway::answer_password_register(key, "dave", small_ksf, reg);
    REQUIRE(response);
    const auto& good = *response;
    auto parse = [](std::vector<std::byte> m) { return twoway::parse_password_response(m).error(); };
    CHECK(parse({}) == errc::short_input);
    auto t = good;
    t[0] = std::byte{0x82};
    CHECK(parse(t) == errc::unexpected_message);
    CHECK(parse(std::vector<std::byte>(good.begin(), good.end() - 1)) == errc::short_input);
    CHECK(parse(cat_bytes({good, {std::byte{0}}})) == errc::trailing_data);
    auto longer_name = good;  // the length says 5: the message is then one byte short
    longer_name[1] = std::byte{5};
    CHECK(parse(longer_name) == errc::short_input);
    auto bad_name = good;
    bad_name[2] = std::byte{'/'};
    CHECK(parse(bad_name) == errc::malformed);
    // An empty name: 81 00 then the rest.
    auto empty_name = cat_bytes({twoway::test::unhex("8100"), std::vector<std::byte>(good.begin() + 6, good.end())});
    CHECK(parse(empty_name) == errc::malformed);
    const std::size_t ops_at = 2 + 4;
    auto zero_ops = good;
    zero_ops[ops_at + 3] = std::byte{0};
    CHECK(parse(zero_ops) == errc::malformed);
    auto many_ops = good;
    many_ops[ops_at + 3] = std::byte{17};
    CHECK(parse(many_ops) == errc::malformed);
    auto little_mem = good;
    little_mem[ops_at + 4 + 3] = std::byte{7};
    CHECK(parse(little_mem) == errc::malformed);
    auto huge_mem = good;
    huge_mem[ops_at + 4] = std::byte{0x01};  // 16 Mi KiB + 64: over 1 GiB
    CHECK(parse(huge_mem) == errc::malformed);
    auto identity_element = good;
    std::fill(identity_element.begin() + 14, identity_element.begin() + 46, std::byte{0});
    CHECK(parse(identity_element) == errc::weak_public_key);

    // RECORD
    auto parsed = twoway::parse_password_response(good);
    REQUIRE(parsed);
    auto message = client->finish(*parsed, rng);
    REQUIRE(message);
    const std::vector<std::byte> rec(message->span().begin(), message->span().end());
    auto record = [](std::vector<std::byte> m) { return twoway::password_record_from_message(small_ksf, m).error(); };
    CHECK(record({}) == errc::short_input);
    auto rt = rec;
    rt[0] = std::byte{0x01};
    CHECK(record(rt) == errc::unexpected_message);
    CHECK(record(std::vector<std::byte>(rec.begin(), rec.end() - 1)) == errc::short_input);
    CHECK(record(cat_bytes({rec, {std::byte{0}}})) == errc::trailing_data);
    auto weak = rec;
    std::fill(weak.begin() + 1, weak.begin() + 33, std::byte{0});
    CHECK(record(weak) == errc::weak_public_key);
    CHECK(twoway::password_record_from_message(twoway::PasswordKsf{1, 4}, rec).error() == errc::invalid_argument);
}

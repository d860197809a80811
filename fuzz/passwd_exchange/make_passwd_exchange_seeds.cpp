// Writes fuzz/corpus/passwd_exchange/'s seeds into the directory given: one real exchange's messages
// made by the library (from a fixed seed, so the corpus is reproducible), each behind the byte that
// picks its side in passwd_exchange.cpp, and a near miss of each.
//   make_passwd_exchange_seeds DIR
#include <cstdio>
#include <fstream>
#include <span>
#include <string>
#include <vector>

#include <twoway/password.hpp>

#include "../../tests/support/deterministic_rng.hpp"

namespace {
void seed(const std::string& dir, const std::string& name, char side, std::span<const std::byte> bytes) {
    std::ofstream out(dir + "/" + name, std::ios::binary);
    out << side;
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}
}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: make_passwd_exchange_seeds DIR\n");
        return 2;
    }
    const std::string dir = argv[1];
    twoway_test::DeterministicRng rng(29);
    const auto key = twoway::generate_opaque_key(rng);
    const std::string pw = "fuzz password";
    auto client = twoway::PasswordRegistrationClient::start(std::as_bytes(std::span(pw)), rng);
    if (!client) return 1;
    const auto reg = client->register_message();
    auto response = twoway::answer_password_register(key, "alice", twoway::PasswordKsf{1, 8}, reg);
    if (!response) return 1;
    auto parsed = twoway::parse_password_response(*response);
    if (!parsed) return 1;
    auto record = client->finish(*parsed, rng);
    if (!record) return 1;
    seed(dir, "register", '\0', reg);
    std::vector<std::byte> reg_long(reg.begin(), reg.end());
    reg_long.push_back(std::byte{0});
    seed(dir, "register-long", '\0', reg_long);
    seed(dir, "response", '\1', *response);
    auto other = *response;
    other[1] = std::byte{3};  // a name length that does not fit the message
    seed(dir, "response-length", '\1', other);
    seed(dir, "record", '\2', record->span());
    std::vector<std::byte> rec_short(record->span().begin(), record->span().end() - 1);
    seed(dir, "record-short", '\2', rec_short);
    return 0;
}

// twoway-keygen's operations, one function per mode. Each returns the process exit status (0, or 1
// after printing one line on stderr), like ssh-keygen.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <twoway/secret.hpp>

namespace twoway_keygen {

struct Options {
    bool quiet = false;         // -q
    bool verbose = false;       // -v (with -l: randomart)
    std::string type = "ed25519";           // -t
    std::optional<std::string> file;        // -f
    std::optional<std::string> output;      // -o (import/export destination)
    std::optional<std::string> comment;     // -C
    std::optional<twoway::SecretBuffer> new_passphrase;  // -N
    std::optional<twoway::SecretBuffer> passphrase;      // -P (the current one)
    std::optional<std::uint64_t> rounds;         // -a (Argon2id passes)
    std::string hash = "sha256";            // -E
};

int generate(const Options& o);           // (default)
int fingerprint(const Options& o);        // -l [-v]
int print_public(const Options& o);       // -y
int change_passphrase(const Options& o);  // -p
int import_openssh(const Options& o);     // -i
int export_openssh(const Options& o);     // -e
// known_hosts (-f, default ~/.twoway/known_hosts); host is "name" or "[name]:port", as for ssh-keygen.
int find_host(const Options& o, const std::string& host);    // -F: print the lines twoway uses for host
int remove_host(const Options& o, const std::string& host);  // -R: delete host's lines, keep a .old copy

// The environment variable that lets the tools use a private key file others may read.
inline constexpr const char* insecure_env = "TWOWAY_ALLOW_INSECURE_KEY_FILES";

}  // namespace twoway_keygen

// twoway-keygen's operations, one function per mode. Each returns the process exit status (0, or 1
// after printing one line on stderr), like ssh-keygen.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

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

// -s and the options that go with it (ssh-keygen's letters and meanings; cert_spec.hpp reads them).
struct CertificateRequest {
    std::string ca_path;                    // -s: the CA's private key file
    std::optional<std::string> key_id;      // -I (required)
    std::optional<std::string> principals;  // -n (required by twoway)
    bool host = false;                      // -h
    std::optional<std::string> validity;    // -V
    std::optional<std::string> serial;      // -z
    std::vector<std::string> options;       // -O, in order
    std::vector<std::string> keys;          // the public key files to certify
};

// -k and the options that go with it (ssh-keygen's letters and meanings).
struct KrlRequest {
    bool update = false;                    // -u: add to the KRL -f names instead of starting afresh
    std::optional<std::string> ca_path;     // -s: the CA public key serial: and id: lines revoke for, or "none"
    std::optional<std::string> version;     // -z: the KRL's version number
    std::vector<std::string> files;         // the revocation spec files ("-": standard input)
};

int generate(const Options& o);           // (default)
// -A [-f prefix]: the host key twowayd uses by default (/etc/twoway/host_ed25519_key, under prefix),
// created unencrypted when it is missing or empty, as ssh-keygen -A does for sshd's; 0 also when present.
int generate_host_keys(const Options& o);
int fingerprint(const Options& o);        // -l [-v]
int print_public(const Options& o);       // -y
int change_passphrase(const Options& o);  // -p
int import_openssh(const Options& o);     // -i
int export_openssh(const Options& o);     // -e
// Certificates (certificates.cpp).
int sign_certificates(const Options& o, const CertificateRequest& r);  // -s: writes <key>-cert.pub
int show_certificates(const Options& o);                               // -L -f file: as ssh-keygen -L
// KRLs (revocations.cpp).
int generate_krl(const Options& o, const KrlRequest& r);                 // -k -f krl [-u] [-s ca] [-z n] spec...
// -Q [-l] -f krl key...: 0 ok, 1 revoked, 255 error; with -l the KRL's contents first (ssh-keygen -Q -l).
int check_krl(const Options& o, const std::vector<std::string>& files, bool list = false);
// known_hosts (-f, default ~/.twoway/known_hosts); host is "name" or "[name]:port", as for ssh-keygen.
// -F: print the lines twoway uses for host (with -H: hashed, as -H would write them).
int find_host(const Options& o, const std::string& host, bool hash = false);
int remove_host(const Options& o, const std::string& host);  // -R: delete host's lines, keep a .old copy
int hash_hosts(const Options& o);  // -H: hash the names of a known_hosts file, keep a .old copy

// The environment variable that lets the tools use a private key file others may read.
inline constexpr const char* insecure_env = "TWOWAY_ALLOW_INSECURE_KEY_FILES";

}  // namespace twoway_keygen

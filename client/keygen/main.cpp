// twoway-keygen: makes and inspects twoway's Ed25519 keys, with ssh-keygen's letters where it has one.
//   twoway-keygen [-q] [-t ed25519] [-a rounds] [-C comment] [-f file] [-N passphrase]   generate
//   twoway-keygen -l [-v] [-E sha256] [-f file]                                           fingerprint
//   twoway-keygen -y [-P passphrase] [-f file]                                            public key
//   twoway-keygen -p [-a rounds] [-P old] [-N new] [-f file]                              passphrase
//   twoway-keygen -i [-f openssh_key] [-o file] [-C comment] [-N passphrase]              import
//   twoway-keygen -e [-P passphrase] [-f file] -o openssh_key                             export
//   twoway-keygen -F host [-H] [-f known_hosts]                                           find a host
//   twoway-keygen -R host [-f known_hosts]                                                remove a host
//   twoway-keygen -H [-f known_hosts]                                                     hash the names
//   twoway-keygen -s ca_key -I key_id -n principals [-h] [-V validity] [-z serial] [-O option]... key.pub...
//                                                                                         sign certificates
//   twoway-keygen -L -f cert.pub                                                          print certificates
//   twoway-keygen -k -f krl_file [-u] [-s ca_public_key|none] [-z version] [-C comment] spec... write a KRL
//   twoway-keygen -Q [-l] -f krl_file key...                                               test keys against a KRL
//   twoway-keygen -A [-q] [-f prefix]                                                     missing host keys
// docs/KEYS.md describes each mode.
#include <clocale>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include <twoway/secret.hpp>

#include "commands.hpp"
#include "support.hpp"

namespace {

// Moves a passphrase given on the command line into secure memory and wipes the parser's copy.
std::optional<twoway::SecretBuffer> take_secret(CLI::Option* opt, std::string& value) {
    if (opt->count() == 0) return std::nullopt;
    twoway::SecretBuffer out(std::as_bytes(std::span(value)));
    twoway::wipe(std::as_writable_bytes(std::span(value)));
    value.clear();
    return out;
}

}  // namespace

int main(int argc, char** argv) {
    using twoway_keygen::Options;
    // The user's character set decides which comment characters can be shown as they are, as in ssh.
    (void)std::setlocale(LC_CTYPE, "");
    CLI::App app{"twoway-keygen: generate and manage twoway (Ed25519) keys", "twoway-keygen"};
    app.footer("Without -N (or -P) the passphrase is asked on a terminal; without a terminal the tool refuses.\n"
               "TWOWAY_ALLOW_INSECURE_KEY_FILES=1 lets it use a private key file others may access.\n"
               "Formats and details: docs/KEYS.md");
    // One line per usage error, in the form of the other messages.
    app.failure_message([](const CLI::App*, const CLI::Error& e) {
        return std::string("twoway-keygen: ") + e.what() + " (see --help)\n";
    });

    // -h is ssh-keygen's "host certificate"; help is --help only.
    app.set_help_flag("--help", "Print this help message and exit");
    Options o;
    twoway_keygen::CertificateRequest cert;
    bool show_cert = false;
    bool list = false, print_pub = false, change = false, import = false, export_ = false, hash = false;
    std::string new_pass, old_pass, file, output, comment, find, remove;
    std::uint64_t rounds = 0;

    auto* l = app.add_flag("-l", list, "Show the fingerprint of a key file (public or private); with -Q, list the KRL");
    app.add_flag("-v", o.verbose, "With -l: show the randomart picture too (ignored otherwise)");
    auto* y = app.add_flag("-y", print_pub, "Print the public key line of a private key file");
    auto* p = app.add_flag("-p", change, "Change the passphrase of a private key file");
    auto* i = app.add_flag("-i", import,
                           "Import an OpenSSH private key (-f, default ~/.ssh/id_ed25519) into a twoway key "
                           "file (-o, default ~/.twoway/id_ed25519)");
    auto* e = app.add_flag("-e", export_,
                           "Export a twoway private key (-f) as an unencrypted OpenSSH key file (-o)");
    auto* fh = app.add_option("-F", find,
                              "Print the known_hosts lines (-f, default ~/.twoway/known_hosts) twoway uses for "
                              "a host (name or [name]:port)");
    auto* rh = app.add_option("-R", remove,
                              "Remove a host's keys from a known_hosts file (-f, default ~/.twoway/known_hosts), "
                              "keeping the old contents as FILE.old");
    auto* H = app.add_flag("-H", hash,
                           "Hash the host names of a known_hosts file (-f, default ~/.twoway/known_hosts), keeping "
                           "the old contents as FILE.old; with -F, print the lines found hashed");
    app.add_flag("-q", o.quiet, "Quiet: print only what was asked for");
    app.add_option("-t", o.type, "Key type (ed25519, the only one)");
    auto* f = app.add_option("-f", file,
                             "Key file (default ~/.twoway/id_ed25519), the known_hosts file for -F, -R and -H, or the KRL for -k and -Q");
    auto* out = app.add_option("-o", output, "Output file for -i and -e");
    auto* c = app.add_option("-C", comment, "Comment (default user@host); with -k the KRL's comment");
    auto* n = app.add_option("-N", new_pass, "New passphrase ('' for none)");
    auto* pp = app.add_option("-P", old_pass, "Current passphrase");
    auto* a = app.add_option("-a", rounds, "Argon2id passes (opslimit) for the passphrase key derivation")
                  ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{64}));
    app.add_option("-E", o.hash, "Fingerprint hash (sha256, the only one)");
    // Certificates, with ssh-keygen's letters and meanings (docs/KEYS.md, section 5).
    auto* s = app.add_option("-s", cert.ca_path,
                             "Sign the public key files given with this CA private key (Ed25519), writing "
                             "<key>-cert.pub beside each");
    auto* id = app.add_option("-I", cert.key_id, "Key identity of the certificates (-s; required)");
    auto* np = app.add_option("-n", cert.principals, "Principals (user or host names, comma-separated) of the certificates "
                                          "(-s; required)");
    auto* h = app.add_flag("-h", cert.host, "Sign host certificates (-s)");
    auto* V = app.add_option("-V", cert.validity, "Validity interval of the certificates (-s), as ssh-keygen's: +52w, "
                                        "-1d:+1w, 20260101:20270101, always:forever ...");
    auto* z = app.add_option("-z", cert.serial, "Serial number of the certificates (-s); +N: N, N+1, ... for each file. With -k: the KRL's version number");
    auto* O = app.add_option("-O", cert.options, "Certificate option (-s): clear, no-pty, permit-pty ..., force-command=CMD, "
                                       "source-address=LIST, critical:NAME[=VALUE], extension:NAME[=VALUE]")
        ->take_all()->allow_extra_args(false);
    auto* keys = app.add_option("keys", cert.keys, "Public key files to certify (-s), revocation spec files (-k), or key "
                                                 "and certificate files to test (-Q)");
    auto* L = app.add_flag("-L", show_cert, "Print the certificates of a file (-f FILE, - for standard input)");
    // KRLs (docs/KEYS.md, section 6): -s is then the CA's public key (or none), -z the KRL's version.
    bool gen_krl = false, check = false, update = false, host_keys = false;
    auto* k = app.add_flag("-k", gen_krl,
                           "Write a KRL (-f FILE) from revocation spec files (serial:, id:, key:, sha1:, sha256:, "
                           "hash:, key and certificate lines); -s CA public key (or none), -z version, -u update");
    auto* u = app.add_flag("-u", update, "With -k: add to the KRL -f names instead of replacing it");
    auto* Q = app.add_flag("-Q", check, "Test public key and certificate files against the KRL -f names "
                                        "(exit 1 if any is revoked); with -l, list the KRL's contents first");

    auto* A = app.add_flag("-A", host_keys,
                           "Create twowayd's host key (/etc/twoway/host_ed25519_key; -f: a prefix to that path) "
                           "if it is missing, as ssh-keygen -A");

    // Modes exclude each other (-s is a mode of its own, and -k's CA), but -l goes with -Q (list the KRL).
    CLI::Option* modes[] = {l, y, p, i, e, fh, rh, L, k, Q, A};
    for (auto* m1 : modes) {
        for (auto* m2 : modes) {
            if (m1 != m2 && !((m1 == l && m2 == Q) || (m1 == Q && m2 == l))) m1->excludes(m2);
        }
        if (m1 != k) s->excludes(m1);
        // -H is a mode of its own, and goes with -F (ssh-keygen -H -F host).
        if (m1 != fh) m1->excludes(H);
    }
    s->excludes(H);
    u->needs(k);

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& err) {
        return app.exit(err);
    }

    o.new_passphrase = take_secret(n, new_pass);
    o.passphrase = take_secret(pp, old_pass);
    if (f->count() != 0) o.file = file;
    if (out->count() != 0) o.output = output;
    if (c->count() != 0) o.comment = comment;
    if (a->count() != 0) o.rounds = rounds;

    namespace kg = twoway_keygen;
    if (host_keys) return kg::generate_host_keys(o);
    if (list && !check) return kg::fingerprint(o);
    if (print_pub) return kg::print_public(o);
    if (change) return kg::change_passphrase(o);
    if (import) return kg::import_openssh(o);
    if (export_) return kg::export_openssh(o);
    if (fh->count() != 0) return kg::find_host(o, find, hash);
    if (hash) return kg::hash_hosts(o);
    if (rh->count() != 0) return kg::remove_host(o, remove);
    if (gen_krl) {
        for (const auto* only_with_s : {id, np, h, V, O}) {
            if (only_with_s->count() != 0) return kg::fail_msg("-I, -n, -h, -V and -O go with -s (see --help)");
        }
        kg::KrlRequest krl{update, std::nullopt, cert.serial, cert.keys};
        if (s->count() != 0) krl.ca_path = cert.ca_path;
        return kg::generate_krl(o, krl);
    }
    if (check) {
        for (const auto* only_with_s : {s, id, np, h, V, z, O}) {
            if (only_with_s->count() != 0) return kg::fail_msg("-Q takes -f and key files only (see --help)");
        }
        return kg::check_krl(o, cert.keys, list);
    }
    if (s->count() != 0) return kg::sign_certificates(o, cert);
    if (show_cert) return kg::show_certificates(o);
    for (const auto* only_with_s : {id, np, h, V, z, O, keys}) {
        if (only_with_s->count() != 0) {
            return kg::fail_msg("-I, -n, -h, -V, -z, -O and key files go with -s (see --help)");
        }
    }
    return kg::generate(o);
}

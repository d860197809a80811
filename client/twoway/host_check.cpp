#include "host_check.hpp"

#include <algorithm>
#include <cerrno>
#include <ctime>
#include <system_error>

#include <sys/stat.h>

#include <unistd.h>

#include <twoway/file.hpp>
#include <twoway/key.hpp>
#include <twoway/random.hpp>
#include <twoway/text.hpp>
#include <twoway/trust.hpp>

#include "challenge.hpp"
#include "log.hpp"
#include "terminal.hpp"

namespace twoway_client {

using twoway::errc;
using twoway::HostStatus;
using twoway::HostVerdict;
using twoway::KnownHostsFile;
using twoway::PublicKey;
using twoway::RevocationFile;
using twoway::RevocationStatus;
using twoway::append_known_host;
using twoway::check_host;
using twoway::check_revoked;
using twoway::fingerprint_sha256;
using twoway::format_host_port;
using twoway::known_host_keys;
using twoway::load_revocation_file;
using twoway::max_trust_file_size;
using twoway::parse_known_hosts;
using twoway::ssh_ed25519_name;
using twoway::system_rng;

namespace {

std::string host_label(const HostCheck& c) {
    auto name = format_host_port(c.host, c.port);
    return name ? *name : c.host;
}

void warn_changed(const std::string& label, const PublicKey& key, const HostVerdict& v) {
    std::string w;
    w += "@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@\n";
    w += "@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @\n";
    w += "@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@\n";
    w += "IT IS POSSIBLE THAT SOMEONE IS DOING SOMETHING NASTY!\n";
    w += "Someone could be eavesdropping on you right now (man-in-the-middle attack)!\n";
    w += "It is also possible that a host key has just been changed.\n";
    w += "The fingerprint for the ED25519 key sent by the remote host is\n";
    w += fingerprint_sha256(key) + ".\n";
    for (const auto& m : v.mismatches) {
        if (m.key_type != ssh_ed25519_name) {
            // As OpenSSH: a key of another type recorded for the host is a recorded key, and not this one.
            w += "A " + m.key_type + " key is recorded for " + label + " (twoway uses ED25519 keys only).\n";
            w += "Offending " + m.key_type + " key in " + m.where.text() + "\n";
            continue;
        }
        w += "The ED25519 key recorded for " + label + " has the fingerprint\n";
        w += fingerprint_sha256(m.key) + ".\n";
        w += "Offending ED25519 key in " + m.where.text() + "\n";
    }
    if (!v.unreadable.empty()) {
        w += "Lines twoway cannot read that may also name this host:\n";
        for (const auto& u : v.unreadable) w += "  " + u.text() + "\n";
    }
    // As Debian's ssh says it: the command that removes the old lines, once the new key is confirmed.
    if (!v.mismatches.empty()) {
        w += "  remove with:\n";
        w += "  twoway-keygen -f \"" + v.mismatches.front().where.path + "\" -R \"" + label + "\"\n";
    }
    w += "Please contact your system administrator.\n";
    if (!v.mismatches.empty()) {
        const auto& first = v.mismatches.front().where;
        w += "Once the new key is confirmed out of band, remove line " + std::to_string(first.line) + " of " +
             first.path + " to get rid of this message.\n";
    }
    w += "Host key for " + label + " has changed and twoway refuses changed host keys.\n";
    w += "Host key verification failed.";
    log::block(w);
}

// As ssh's banner for a key marked @revoked; twoway refuses it whatever StrictHostKeyChecking says.
void warn_revoked(const std::string& label, const PublicKey& key, const HostVerdict& v, const std::string& detail) {
    std::string w;
    w += "@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@\n";
    w += "@       WARNING: REVOKED HOST KEY DETECTED!               @\n";
    w += "@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@\n";
    w += "The ED25519 host key for " + label + " is marked as revoked.\n";
    w += "This could mean that a stolen key is being used to\n";
    w += "impersonate this host.\n";
    w += "The fingerprint for the ED25519 key sent by the remote host is\n";
    w += fingerprint_sha256(key) + ".\n";
    if (v.revoked) w += "Revoked ED25519 key in " + v.revoked->text() + (detail.empty() ? "" : " (" + detail + ")") + "\n";
    w += "Host key for " + label + " is revoked and twoway refuses revoked host keys.\n";
    w += "Host key verification failed.";
    log::block(w);
}

// The known_hosts lines that make the host uncertain, and what to do about them. Nothing is recorded and
// no first contact is offered: the lines may hold another key for this host (or revoke this one), which
// only the person can settle, in the file.
void warn_uncertain(const std::string& label, const PublicKey& key, const HostVerdict& v) {
    std::string w;
    const bool by_authority = !v.unreadable.empty() && std::all_of(v.unreadable.begin(), v.unreadable.end(), [](const auto& d) {
        return d.message.starts_with("@cert-authority:");
    });
    if (v.revocation_unreadable) {
        w += "The ED25519 host key for " + label + " cannot be checked: an @revoked line twoway cannot read\n";
        w += "may revoke it, so twoway trusts no key while it is there:\n";
    } else if (by_authority) {
        // The hosts these lines name prove themselves with a certificate from their CA: a key without
        // one (or with one that did not fit) is not asked about as if the host were new.
        w += "Host '" + label + "' is to present a host certificate signed by the CA of:\n";
        for (const auto& u : v.unreadable) w += "  " + u.where.text() + "\n";
        w += "but it presented none that fits. The fingerprint for the ED25519 key sent by the remote host is\n";
        w += fingerprint_sha256(key) + ".\n";
        w += "Check the host's HostCertificate (twoway-keygen -L -f FILE shows its principals and validity),\n";
        w += "or add the host's key, once confirmed out of band, as a plain line.\n";
        w += "Host key verification failed.";
        log::block(w);
        return;
    } else {
        w += "The authenticity of host '" + label + "' can't be established: known_hosts lines twoway cannot\n";
        w += "read may name it, with this key or another, so twoway neither trusts nor records a key for it:\n";
    }
    for (const auto& u : v.unreadable) w += "  " + u.text() + "\n";
    w += "The fingerprint for the ED25519 key sent by the remote host is\n";
    w += fingerprint_sha256(key) + ".\n";
    const std::string file = v.unreadable.empty() ? std::string() : v.unreadable.front().where.path;
    w += "Find the lines with\n";
    w += "  twoway-keygen -f \"" + file + "\" -F \"" + label + "\"   (lists the lines it cannot check)\n";
    w += "and fix or remove them (ssh-keygen -R, twoway-keygen -R, an editor), or add the host's key,\n";
    w += "once confirmed out of band, as a plain line.\n";
    w += "Host key verification failed.";
    log::block(w);
}

// Records the key in the first user file (if any) and says so as ssh does. False when the file now
// says something else about the host than it did when it was checked (another client added another key
// meanwhile): the connection must not go on.
bool record(const HostCheck& c, const std::string& label, const PublicKey& key) {
    if (c.user_files.empty()) {
        log::debug(1, "UserKnownHostsFile is none: " + label + " is trusted for this connection only");
        return true;
    }
    const std::string& path = c.user_files.front();
    const auto form = c.hash_known_hosts ? twoway::KnownHostNameForm::hashed : twoway::KnownHostNameForm::plain;
    if (auto s = append_known_host(path, c.host, c.port, key, form, system_rng()); !s) {
        if (s.error() == errc::host_key_rejected) {
            log::line(path + " changed while connecting and no longer says " + label + " is unknown.");
            log::line("Host key verification failed.");
            return false;
        }
        std::string why = s.error().message();
        if (s.error() == std::errc::operation_not_permitted) {
            why = "it belongs to another user, and twoway does not replace it";
        }
        log::line("Failed to add the host to the list of known hosts (" + path + "): " + why);
        return true;
    }
    log::info("Warning: Permanently added '" + label + "' (ED25519) to the list of known hosts.");
    return true;
}

// A known_hosts file someone else may have written vouches for nothing: one owned by another user than
// us or root could have been planted to make us trust an impostor (sudo -E keeps a user's HOME; a
// file in a shared directory). As with a config file ssh finds "Bad owner", it is not used.
bool trusted_owner(unsigned owner) { return owner == 0 || owner == static_cast<unsigned>(::geteuid()); }

// The user files, then the global ones. With `report`, unreadable files and skipped lines are logged
// (debug; a file refused for its owner at once) and `unreadable` says whether any file could not be read.
std::vector<KnownHostsFile> load_known_hosts_files(const HostCheck& c, bool report, bool& unreadable) {
    std::vector<KnownHostsFile> files;
    unreadable = false;
    for (const auto* list : {&c.user_files, &c.global_files}) {
        for (const auto& path : *list) {
            auto text = twoway::read_file(path, max_trust_file_size);
            if (!text) {
                if (text.error() == std::errc::no_such_file_or_directory) continue;  // an empty file, as ssh
                // Not reading it may make a known host look new: the person is told, not only -v.
                if (report) log::line("Cannot read known_hosts file " + path + ": " + text.error().message());
                unreadable = true;
                continue;
            }
            if (!trusted_owner(text->owner)) {
                if (report) {
                    log::line("Bad owner for known_hosts file " + path + " (uid " + std::to_string(text->owner) +
                              ", not yours or root's): not used.");
                }
                unreadable = true;
                continue;
            }
            KnownHostsFile f = parse_known_hosts(path, text->text);
            if (report) {
                for (const auto& d : f.diagnostics) log::debug(1, d.text());
            }
            files.push_back(std::move(f));
        }
    }
    return files;
}

}  // namespace

std::string remove_lines(std::string_view text, const std::vector<std::size_t>& numbers) {
    std::string out;
    out.reserve(text.size());
    std::size_t number = 1;
    while (!text.empty()) {
        const std::size_t nl = text.find('\n');
        const std::string_view line = text.substr(0, nl == std::string_view::npos ? text.size() : nl + 1);
        if (std::find(numbers.begin(), numbers.end(), number) == numbers.end()) out.append(line);
        text.remove_prefix(line.size());
        ++number;
    }
    return out;
}

std::optional<PublicKey> expected_host_key(const HostCheck& c) {
    bool unreadable = false;  // an unreadable file only means no proof is sent; verify_host_key reports it
    const std::vector<KnownHostsFile> files = load_known_hosts_files(c, false, unreadable);
    std::vector<PublicKey> keys = known_host_keys(files, c.host, c.port);
    if (c.revoked_file) {
        // No proof for a key the RevokedHostKeys list refuses (nor for any, when the list is unusable):
        // verify_host_key will refuse the connection and say why.
        const RevocationFile list = load_revocation_file(*c.revoked_file);
        if (!list.usable()) return std::nullopt;
        std::erase_if(keys, [&](const PublicKey& k) { return check_revoked(list, k).refused(); });
    }
    if (keys.empty()) return std::nullopt;
    log::debug(1, "Proving knowledge of the known host key " + fingerprint_sha256(keys.front()) +
                      " in client_hello (host_key_mac).");
    return keys.front();
}

HostAction host_action(HostStatus status, StrictHostKeyChecking strict, bool doubtful) noexcept {
    switch (status) {
        case HostStatus::known: return HostAction::accept;
        case HostStatus::changed:
        case HostStatus::revoked:
        case HostStatus::uncertain: return HostAction::refuse;
        case HostStatus::unknown: break;
    }
    switch (strict) {
        case StrictHostKeyChecking::yes: return HostAction::refuse;
        case StrictHostKeyChecking::accept_new:
        case StrictHostKeyChecking::no:
            // A file that could not be read may hold another key for this host: only a person may add one.
            return doubtful ? HostAction::ask : HostAction::record;
        case StrictHostKeyChecking::ask: return HostAction::ask;
    }
    return HostAction::refuse;
}

HostAssessment assess_host_key(const HostCheck& c, const PublicKey& key, const twoway::Certificate* certificate) {
    HostAssessment a;
    if (c.revoked_file) {
        // As ssh, before anything else, and failing closed: a list that cannot be used refuses every key.
        // A KRL or a text list, as ssh's sshkey_check_revoked reads it.
        const RevocationFile list = load_revocation_file(*c.revoked_file);
        auto r = check_revoked(list, key, certificate);
        if (r.status == RevocationStatus::unusable) {
            a.revocation_problems = std::move(r.problems);
            return a;
        }
        if (r.status == RevocationStatus::revoked) {
            a.verdict.status = HostStatus::revoked;
            a.verdict.revoked = std::move(r.where);
            if (r.detail != "key") a.revocation_detail = std::move(r.detail);
            return a;
        }
    }

    bool unreadable = false;
    const std::vector<KnownHostsFile> files = load_known_hosts_files(c, true, unreadable);
    a.verdict = check_host(files, c.host, c.port, key);
    a.doubtful = a.verdict.incomplete || unreadable;
    a.action = host_action(a.verdict.status, c.strict, a.doubtful);
    return a;
}

bool verify_host_key(const HostCheck& c, const PublicKey& key, const twoway::Certificate* certificate) {
    const std::string label = host_label(c);
    const std::string fp = fingerprint_sha256(key);
    if (certificate != nullptr) {
        log::debug(1, "Server host certificate: ssh-ed25519-cert-v01@openssh.com " + fp + ", serial " +
                          std::to_string(certificate->serial) + " ID " + log::untrusted(certificate->key_id) +
                          " CA ssh-ed25519 " + fingerprint_sha256(certificate->signature_key));
        const HostAssessment revoked = assess_host_key(c, key, certificate);
        if (!revoked.revocation_problems.empty() || revoked.verdict.status == HostStatus::revoked) {
            // Revoked, or a RevokedHostKeys list that cannot be used: no fallback (ssh's HOST_REVOKED).
            if (!revoked.revocation_problems.empty()) {
                for (const auto& p : revoked.revocation_problems) {
                    log::line("Error checking host key " + fp + " in revoked keys file " + p);
                }
                log::line("Host key verification failed.");
            } else {
                warn_revoked(label, key, revoked.verdict, revoked.revocation_detail);
            }
            return false;
        }
        bool unreadable = false;
        const std::vector<KnownHostsFile> files = load_known_hosts_files(c, false, unreadable);
        const auto v = twoway::check_host_certificate(files, c.host, c.port, *certificate,
                                                      static_cast<std::int64_t>(std::time(nullptr)));
        if (v.allowed) {
            log::debug(1, "Host '" + label + "' is known through its certificate, signed by the CA in " +
                              (v.authority ? v.authority->text() : std::string("?")));
            return true;
        }
        if (v.revoked) {
            log::line("The host certificate for " + label + " is revoked by " + v.revoked->text() + ".");
            log::line("Host key verification failed.");
            return false;
        }
        if (v.authority) {
            log::line(v.reason);  // as ssh's error(): the CA is trusted here, the certificate does not fit
        } else {
            log::debug(1, "No matching CA found for the host certificate; checking its key as a plain key.");
        }
    } else {
        log::debug(1, "Server host key: ssh-ed25519 " + fp);
    }

    const HostAssessment a = assess_host_key(c, key);
    const HostVerdict& v = a.verdict;
    switch (a.action) {
        case HostAction::accept:
            log::debug(1, "Host '" + label + "' is known and matches the ED25519 host key.");
            if (v.matched) log::debug(1, "Found key in " + v.matched->text());
            return true;
        case HostAction::refuse:
            if (!a.revocation_problems.empty()) {
                for (const auto& p : a.revocation_problems) {
                    log::line("Error checking host key " + fp + " in revoked keys file " + p);
                }
                log::line("Host key verification failed.");
                return false;
            }
            switch (v.status) {
                case HostStatus::changed: warn_changed(label, key, v); break;
                case HostStatus::revoked: warn_revoked(label, key, v, a.revocation_detail); break;
                case HostStatus::uncertain: warn_uncertain(label, key, v); break;
                case HostStatus::known:  // not refused
                case HostStatus::unknown:
                    log::line("No ED25519 host key is known for " + label + " and you have requested strict checking.");
                    log::line("Host key verification failed.");
                    break;
            }
            return false;
        case HostAction::record: return record(c, label, key);
        case HostAction::ask: break;
    }

    if (a.doubtful) {
        log::line("A known_hosts file could not be read completely, so " + label + " may be known with another key: " +
                  (c.strict == StrictHostKeyChecking::ask ? "check the fingerprint with particular care."
                                                          : "refusing to add it without asking."));
    }
    // Only a person can decide, at a terminal.
    if (c.batch_mode || !terminal::Tty::open()) {
        log::line("No ED25519 host key is known for " + label + " and there is no terminal to verify it on (" +
                  (c.batch_mode ? std::string("BatchMode") : std::string("no /dev/tty")) +
                  "); connect once from a terminal, or add its key to known_hosts.");
        log::line("Host key verification failed.");
        return false;
    }
    if (!ask_first_contact(FirstContact{label, key}, system_rng())) {
        log::line("Host key verification failed.");
        return false;
    }
    return record(c, label, key);
}

PasswordHostAction password_host_action(HostStatus status, StrictHostKeyChecking strict, bool update_by_password) noexcept {
    switch (status) {
        case HostStatus::known: return PasswordHostAction::accept;
        case HostStatus::unknown:
            return strict == StrictHostKeyChecking::yes ? PasswordHostAction::refuse : PasswordHostAction::defer;
        case HostStatus::changed: return update_by_password ? PasswordHostAction::defer : PasswordHostAction::refuse;
        case HostStatus::revoked:
        case HostStatus::uncertain: return PasswordHostAction::refuse;
    }
    return PasswordHostAction::refuse;
}

PasswordHostDecision verify_host_key_for_password(const HostCheck& c, const PublicKey& key,
                                                  const twoway::Certificate* certificate, bool update_by_password) {
    const std::string label = host_label(c);
    const std::string fp = fingerprint_sha256(key);
    log::debug(1, "Server host key: ssh-ed25519 " + fp + " (password mode)");
    const HostAssessment a = assess_host_key(c, key, certificate);
    if (!a.revocation_problems.empty()) {
        for (const auto& p : a.revocation_problems) log::line("Error checking host key " + fp + " in revoked keys file " + p);
        log::line("Host key verification failed.");
        return {};
    }
    if (a.verdict.status == HostStatus::revoked) {
        warn_revoked(label, key, a.verdict, a.revocation_detail);  // whatever the password
        return {};
    }
    if (certificate != nullptr) {
        bool unreadable = false;
        const std::vector<KnownHostsFile> files = load_known_hosts_files(c, false, unreadable);
        const auto v = twoway::check_host_certificate(files, c.host, c.port, *certificate,
                                                      static_cast<std::int64_t>(std::time(nullptr)));
        if (v.allowed) return {PasswordHostAction::accept, false};
        if (v.revoked) {
            log::line("The host certificate for " + label + " is revoked by " + v.revoked->text() + ".");
            log::line("Host key verification failed.");
            return {};
        }
    }
    PasswordHostDecision d;
    d.action = password_host_action(a.verdict.status, c.strict, update_by_password);
    switch (d.action) {
        case PasswordHostAction::accept:
            log::debug(1, "Host '" + label + "' is known and matches the ED25519 host key.");
            break;
        case PasswordHostAction::defer:
            if (a.verdict.status == HostStatus::changed) {
                d.changed = true;
                log::line("The host key for " + label + " has changed (ED25519 " + fp +
                          "); UpdateHostKeysByPassword is set, so the password is to prove the new key.");
            } else {
                log::debug(1, "Host '" + label + "' is not known: the password is to prove its key (" + fp + ").");
            }
            break;
        case PasswordHostAction::refuse:
            switch (a.verdict.status) {
                case HostStatus::changed: warn_changed(label, key, a.verdict); break;
                case HostStatus::uncertain: warn_uncertain(label, key, a.verdict); break;
                case HostStatus::known:
                case HostStatus::revoked: break;
                case HostStatus::unknown:
                    log::line("No ED25519 host key is known for " + label + " and you have requested strict checking.");
                    log::line("Host key verification failed.");
                    break;
            }
            break;
    }
    return d;
}

std::string proven_by_password_comment(std::string_view account, std::int64_t now) {
    const std::time_t t = static_cast<std::time_t>(now);
    std::tm tm{};
    ::gmtime_r(&t, &tm);
    char date[16];
    std::strftime(date, sizeof date, "%Y-%m-%d", &tm);
    return "proven by password for " + std::string(account) + " " + date;
}

bool record_proven_host_key(const HostCheck& c, const PublicKey& key, std::string_view account, bool replace) {
    const std::string label = host_label(c);
    const std::string what = "the host key for " + label + " (ED25519 " + fingerprint_sha256(key) +
                             ") was proven by the password of " + log::untrusted(account);
    if (c.user_files.empty()) {
        log::debug(1, "UserKnownHostsFile is none: " + what + ", and is trusted for this connection only");
        return false;
    }
    const std::string& path = c.user_files.front();
    const auto failed = [&](const std::string& why) {
        log::error(what + ", but " + path + " was not updated: " + why);
        return false;
    };
    auto line = c.hash_known_hosts ? twoway::format_hashed_known_hosts_line(c.host, c.port, key, system_rng())
                                   : twoway::format_known_hosts_line(c.host, c.port, key);
    if (!line) return failed(line.error().message());
    *line += " " + proven_by_password_comment(account, static_cast<std::int64_t>(std::time(nullptr)));

    // As append_known_host: links followed, the read, check and replace under the directory's lock.
    const std::string target = twoway::link_target(path);
    const std::string dir = [&] {
        const auto slash = target.rfind('/');
        return slash == std::string::npos ? std::string() : target.substr(0, slash == 0 ? 1 : slash);
    }();
    if (!dir.empty() && ::access(dir.c_str(), F_OK) != 0 && ::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
        return failed(std::error_code(errno, std::generic_category()).message());
    }
    const twoway::DirLock lock(dir);
    std::string contents;
    unsigned mode = 0600;
    if (auto old = twoway::read_file(target, max_trust_file_size); old) {
        if (old->owner != static_cast<unsigned>(::geteuid())) return failed("it belongs to another user");
        contents = std::move(old->text);
        mode = old->mode;
    } else if (old.error() != std::errc::no_such_file_or_directory) {
        return failed(old.error().message());
    }
    const std::vector<KnownHostsFile> now{parse_known_hosts(target, contents)};
    const HostVerdict v = check_host(now, c.host, c.port, key);
    std::vector<std::size_t> drop;
    switch (v.status) {
        case HostStatus::unknown: break;
        case HostStatus::known: break;  // another client recorded it meanwhile: only the old lines may go
        case HostStatus::changed:
            if (!replace) return failed("it changed while connecting and now holds another key for the host");
            for (const auto& m : v.mismatches) drop.push_back(m.where.line);
            break;
        case HostStatus::revoked:
        case HostStatus::uncertain: return failed("it now says the key is revoked or uncertain");
    }
    std::string out = remove_lines(contents, drop);
    if (v.status != HostStatus::known) {
        if (!out.empty() && out.back() != '\n') out += '\n';
        out += *line + "\n";
    }
    if (auto st = twoway::write_file_atomic(target, out, mode); !st) return failed(st.error().message());
    log::info("twoway: " + what + (drop.empty() ? " and added to " : " and replaces the old key in ") + path);
    return true;
}

void learn_host_keys(const HostCheck& c, const HostKeysUpdate& u, const twoway::session::HostKeysAnnounced& announced) {
    if (u.mode == UpdateHostKeys::no) {
        log::debug(2, "UpdateHostKeys is off: the server's host keys are not learned");
        return;
    }
    auto keys = twoway::session::verify_host_keys(announced, u.session_id);
    if (!keys) {
        // Never on a failed proof: the whole message is ignored.
        log::debug(1, "server host key proofs do not verify (" + keys.error().message() +
                          "): ignoring the announced host keys");
        return;
    }
    if (std::find(keys->begin(), keys->end(), u.handshake_key) == keys->end()) {
        log::debug(1, "the announced host keys do not include the one the server authenticated with: ignored");
        return;
    }
    if (u.host_certificate) {
        log::debug(1, "server authenticated with a host certificate: UpdateHostKeys skipped");
        return;
    }
    if (c.user_files.empty()) {
        log::debug(1, "UserKnownHostsFile is none: UpdateHostKeys skipped");
        return;
    }
    bool unreadable = false;
    const std::vector<KnownHostsFile> files = load_known_hosts_files(c, false, unreadable);
    const HostVerdict trusted = check_host(files, c.host, c.port, u.handshake_key);
    const std::string& user_file = c.user_files.front();
    if (trusted.status != HostStatus::known || !trusted.matched || trusted.matched->path != user_file) {
        // As ssh: only a host the user's own file trusts by a plain key (not a global file, not a CA).
        log::debug(1, "host key found " +
                          (trusted.matched ? "in " + trusted.matched->text() : std::string("nowhere")) + ", not in " +
                          user_file + ": UpdateHostKeys skipped");
        return;
    }
    if (unreadable || trusted.incomplete) {
        log::debug(1, "a known_hosts file could not be read completely: UpdateHostKeys skipped");
        return;
    }
    std::optional<RevocationFile> revoked;
    if (c.revoked_file) revoked = load_revocation_file(*c.revoked_file);
    std::vector<PublicKey> learn;
    for (const PublicKey& k : *keys) {
        const HostVerdict v = check_host(files, c.host, c.port, k);
        if (v.status == HostStatus::known) continue;
        if (v.status != HostStatus::changed || (revoked && check_revoked(*revoked, k).refused())) {
            log::debug(1, "not learning host key " + fingerprint_sha256(k) + ": revoked or uncertain");
            continue;
        }
        learn.push_back(k);
    }
    if (learn.empty()) {
        log::debug(1, "UpdateHostKeys: " + user_file + " knows every key the server holds");
        return;
    }
    for (const PublicKey& k : learn) {
        const std::string text = "Learned new hostkey: ED25519 " + fingerprint_sha256(k);
        if (u.mode == UpdateHostKeys::ask) {
            log::info(text);
        } else {
            log::debug(1, text);
        }
    }
    if (u.mode == UpdateHostKeys::ask) {
        // Not in BatchMode, and not over a session that holds the terminal in raw mode.
        std::optional<terminal::Tty> tty = c.batch_mode || terminal::raw_mode() ? std::nullopt : terminal::Tty::open();
        if (!tty) {
            log::debug(1, "UpdateHostKeys ask: no terminal to ask on; known_hosts not updated");
            return;
        }
        tty->write("Accept updated hostkeys? (yes/no): ");
        const auto answer = tty->read_line();
        if (!answer || !(twoway::iequals(*answer, "yes") || twoway::iequals(*answer, "y"))) {
            log::info("Skipped updating known_hosts for " + host_label(c));
            return;
        }
    }
    const auto form = c.hash_known_hosts ? twoway::KnownHostNameForm::hashed : twoway::KnownHostNameForm::plain;
    log::debug(1, "Updating known_hosts file " + user_file + " for " + host_label(c));
    for (const PublicKey& k : learn) {
        if (auto s = twoway::add_known_host_key(user_file, c.host, c.port, k, u.handshake_key, form, system_rng()); !s) {
            log::line("Failed to add a host key for " + host_label(c) + " to " + user_file + ": " + s.error().message());
            return;
        }
    }
}

}  // namespace twoway_client

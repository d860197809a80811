#include "settings.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>

#include <twoway/file.hpp>
#include <twoway/handshake.hpp>
#include <twoway/key_file.hpp>
#include <twoway/key.hpp>
#include <twoway/password.hpp>
#include <twoway/random.hpp>
#include <twoway/trust.hpp>

#include "access.hpp"

namespace twowayd {

namespace {

std::string octal_mode(unsigned mode) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "%04o", mode & 07777U);
    return buf;
}

// Why a host key did not load, in words an operator can act on.
std::string host_key_problem(const std::string& path, std::error_code ec) {
    using twoway::errc;
    if (ec == errc::insecure_permissions) {
        struct stat st {};
        std::string mode = ::stat(path.c_str(), &st) == 0 ? octal_mode(st.st_mode) + " " : std::string();
        return path + ": permissions " + mode + "are too open: a host key must be accessible only by its owner "
                      "(chmod 600)";
    }
    if (ec == errc::passphrase_required) {
        return path + ": host key is encrypted; twowayd cannot ask for a passphrase (host keys are stored "
                      "without one)";
    }
    if (ec == std::errc::no_such_file_or_directory) return path + ": no such host key file";
    return path + ": cannot load host key: " + ec.message();
}

// Why the OPAQUE key file did not load, in words an operator can act on (as host_key_problem).
std::string opaque_key_problem(const std::string& path, std::error_code ec) {
    using twoway::errc;
    if (ec == errc::insecure_permissions) {
        struct stat st {};
        std::string mode = ::stat(path.c_str(), &st) == 0 ? octal_mode(st.st_mode) + " " : std::string();
        return "OpaqueKey " + path + ": permissions " + mode + "are too open, or the file is not the daemon's: "
               "the OPAQUE key must be a regular file owned by root and accessible only by it (chmod 600)";
    }
    if (ec == std::errc::no_such_file_or_directory) {
        return "OpaqueKey " + path + ": cannot create the OPAQUE key: its directory does not exist";
    }
    return "OpaqueKey " + path + ": cannot load the OPAQUE key: " + ec.message();
}

// PasswordAuthentication yes: the OPAQUE key, loaded, or created when allowed and missing.
void load_password_keys(Settings& settings, bool create, LoadResult& out) {
    const std::string& path = settings.config.opaque_key;
    struct stat st {};
    if (!create && ::lstat(path.c_str(), &st) != 0 && errno == ENOENT) {
        out.notes.push_back("OpaqueKey " + path + ": does not exist yet; twowayd creates it (mode 0600) when it starts");
        return;
    }
    bool created = false;
    auto key = create ? twoway::load_or_create_opaque_key(path, twoway::system_rng(), &created)
                      : twoway::load_opaque_key(path);
    if (key && created) out.notes.push_back("OpaqueKey " + path + ": created a new OPAQUE key (mode 0600)");
    if (!key) {
        out.problems.push_back(opaque_key_problem(path, key.error()));
        return;
    }
    settings.password_keys.emplace(twoway::PasswordServerKeys{std::move(key->oprf_seed), std::move(key->private_key)});
}

}  // namespace

const twowayd::ServiceSpec* Settings::find_service(std::string_view name) const {
    for (const auto& s : config.services) {
        if (s.name == name) return &s;
    }
    return nullptr;
}

std::string key_fingerprint_text(const twoway::PublicKey& key) {
    return "ED25519 " + twoway::fingerprint_sha256(key);
}

std::optional<std::string> read_banner(const std::string& path, std::string& why) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0) {
        why = std::strerror(errno);
        return std::nullopt;
    }
    std::string text;
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
        why = std::strerror(errno);
    } else if (!S_ISREG(st.st_mode)) {
        why = "not a regular file";
    } else if (st.st_size > static_cast<off_t>(twoway::max_banner_size)) {
        why = "larger than " + std::to_string(twoway::max_banner_size) + " bytes, twoway's limit for a banner";
    } else {
        // Bounded however the file changes meanwhile: one byte past the limit is enough to know.
        text.resize(twoway::max_banner_size + 1);
        std::size_t got = 0;
        while (got < text.size()) {
            const ssize_t n = ::read(fd, text.data() + got, text.size() - got);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) {
                why = std::strerror(errno);
                break;
            }
            if (n == 0) break;
            got += static_cast<std::size_t>(n);
        }
        if (why.empty() && got > twoway::max_banner_size) {
            why = "larger than " + std::to_string(twoway::max_banner_size) + " bytes, twoway's limit for a banner";
        }
        text.resize(got);
    }
    ::close(fd);
    if (!why.empty()) return std::nullopt;
    return text;
}

LoadResult load_settings(const std::string& config_path, const Overrides& overrides, bool create_opaque_key) {
    LoadResult out;
    auto parsed = twowayd::load_daemon_config(config_path);
    for (const auto& d : parsed.errors) out.problems.push_back(d.text());
    for (const auto& d : parsed.notes) out.notes.push_back(d.text());

    auto settings = std::make_shared<Settings>();
    settings->config_path = config_path;
    settings->config = std::move(parsed.config);
    if (!overrides.ports.empty()) settings->config.ports = overrides.ports;
    if (!overrides.host_keys.empty()) settings->config.host_keys = overrides.host_keys;

    // Host keys are checked even when the file had errors (the keys its valid lines name), so that -t
    // reports everything at once.
    for (const auto& path : settings->config.host_keys) {
        auto loaded = twoway::load_private_key(path, "");
        if (!loaded) {
            out.problems.push_back(host_key_problem(path, loaded.error()));
            continue;
        }
        settings->host_keys.push_back(HostKey{path, std::move(loaded->key), std::nullopt, {}});
    }
    if (settings->host_keys.empty() && out.problems.empty()) {
        out.problems.push_back(config_path + ": no host key could be loaded (HostKey)");
    }
    attach_host_certificates(*settings, static_cast<std::int64_t>(std::time(nullptr)), out.warnings);
    if (password_authentication_anywhere(settings->config)) load_password_keys(*settings, create_opaque_key, out);
    for (const auto& path : settings->config.revoked_keys_files) {
        for (auto& p : twoway::load_revocation_file(path).list.problems) {
            out.warnings.push_back("RevokedKeys " + p + " (every key is refused until this is fixed)");
        }
    }
    if (const std::string& path = settings->config.connection.banner; path != "none") {
        std::string why;
        if (auto text = read_banner(path, why)) {
            settings->banner = std::move(*text);
        } else {
            out.warnings.push_back("Banner " + path + ": " + why + " (no banner is sent until this is fixed)");
        }
    }
    // The banner travels in server_auth, before the client has named its account, so a Match block
    // cannot choose it (sshd sends its banner with the first authentication request, after Match has
    // seen the user): the global Banner goes to every client.
    for (const auto& m : settings->config.matches) {
        if (m.set[static_cast<std::size_t>(ConnectionKey::banner)]) {
            out.notes.push_back(m.where.text() + ": Banner inside Match has no effect: twoway sends its banner "
                                "before the client names its account; the global Banner is sent to every client");
        }
    }
    if (settings->config.use_pam) {
        // Not an error: PAM then reads /etc/pam.d/other, as it would for sshd without /etc/pam.d/sshd.
        const std::string service = "/etc/pam.d/" + settings->config.pam_service_name;
        struct stat st {};
        if (::stat(service.c_str(), &st) != 0 && errno == ENOENT) {
            out.notes.push_back("UsePAM yes: " + service + " does not exist, so PAM uses /etc/pam.d/other for "
                                "twowayd (an example service file: daemon/pam/twowayd in twoway's source)");
        }
    }
    if (out.problems.empty()) out.settings = std::move(settings);
    return out;
}

void attach_host_certificates(Settings& settings, std::int64_t now, std::vector<std::string>& warnings) {
    for (const auto& path : settings.config.host_certificates) {
        auto file = twoway::read_file(path, twoway::max_certificate_size * 2 + 4096);
        if (!file) {
            warnings.push_back("HostCertificate " + path + ": " + file.error().message() + " (not presented)");
            continue;
        }
        std::string why;
        std::string_view text = file->text;
        while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.remove_suffix(1);
        auto line = twoway::parse_certificate_line(text, &why);
        if (!line) {
            warnings.push_back("HostCertificate " + path + ": not a certificate twoway can use: " +
                               (why.empty() ? line.error().message() : why) + " (not presented)");
            continue;
        }
        const twoway::Certificate& cert = line->certificate;
        if (cert.type != twoway::CertificateType::host) {
            warnings.push_back("HostCertificate " + path + ": a user certificate, not a host certificate (not presented)");
            continue;
        }
        const auto match = std::find_if(settings.host_keys.begin(), settings.host_keys.end(),
                                        [&](const HostKey& k) { return k.key.public_key() == cert.key; });
        if (match == settings.host_keys.end()) {
            warnings.push_back("HostCertificate " + path + ": no matching private key (HostKey) for " +
                               key_fingerprint_text(cert.key) + " (not presented)");
            continue;
        }
        if (match->certificate) {
            warnings.push_back("HostCertificate " + path + ": " + match->path + " already has " +
                               match->certificate_path + " (not presented)");
            continue;
        }
        twoway::CertificateUse use;
        use.role = twoway::CertificateType::host;
        use.principals = cert.principals;  // the window and the rules, not the name: any of its own names
        use.now = now;
        if (auto v = twoway::check_certificate_use(cert, use); !v) {
            warnings.push_back("HostCertificate " + path + ": " + v.reason + " (presented; clients will refuse it)");
        }
        match->certificate = cert;
        match->certificate_path = path;
    }
}

}  // namespace twowayd

#include "identity.hpp"

#include <cstdio>
#include <span>
#include <string_view>
#include <system_error>

#include <sys/stat.h>

#include <twoway/key_file.hpp>
#include <twoway/key.hpp>
#include <twoway/secret.hpp>

#include "log.hpp"
#include "terminal.hpp"

namespace twoway_client {

using twoway::errc;
using twoway::decode_private_key;
using twoway::fingerprint_sha256;
using twoway::inspect_private_key;
using twoway::read_private_key_file;

namespace {

constexpr int passphrase_prompts = 3;  // ssh's NumberOfPasswordPrompts

void warn_unprotected(const std::string& path) {
    struct stat st {};
    char mode[8] = "?";
    if (::stat(path.c_str(), &st) == 0) std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    std::string w;
    w += "@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@\n";
    w += "@         WARNING: UNPROTECTED PRIVATE KEY FILE!          @\n";
    w += "@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@\n";
    w += "Permissions " + std::string(mode) + " for '" + path + "' are too open.\n";
    w += "It is required that your private key files are NOT accessible by others.\n";
    w += "This private key will be ignored (fix it with: chmod 600 " + path + ").\n";
    w += "Load key \"" + path + "\": bad permissions";
    log::block(w);
}

// Wipes a std::string that held key file text.
struct Wiped {
    std::string& s;
    ~Wiped() { twoway::wipe(std::as_writable_bytes(std::span(s))); }
};

std::optional<Identity> decode(const std::string& path, std::string& text, bool batch_mode) {
    Wiped wiped{text};
    auto info = inspect_private_key(text);
    if (!info) {
        log::line("Load key \"" + path + "\": " + info.error().message());
        return std::nullopt;
    }
    if (!info->encrypted) {
        auto key = decode_private_key(text, {});
        if (!key) {
            log::line("Load key \"" + path + "\": " + key.error().message());
            return std::nullopt;
        }
        return Identity{std::move(key->key), path, std::move(key->comment)};
    }
    if (batch_mode) {
        log::debug(1, "identity " + path + " is encrypted and BatchMode is set: skipped");
        return std::nullopt;
    }
    auto tty = terminal::Tty::open();
    if (!tty) {
        log::debug(1, "identity " + path + " is encrypted and there is no terminal for its passphrase: skipped");
        return std::nullopt;
    }
    for (int i = 0; i < passphrase_prompts; ++i) {
        auto pass = tty->read_secret("Enter passphrase for key '" + path + "': ");
        if (!pass || pass->empty()) {
            log::debug(2, "no passphrase given, try next key");
            return std::nullopt;
        }
        const std::string_view pv(reinterpret_cast<const char*>(pass->data()), pass->size());
        auto key = decode_private_key(text, pv);
        if (key) return Identity{std::move(key->key), path, std::move(key->comment)};
        if (key.error() != errc::wrong_passphrase) {
            log::line("Load key \"" + path + "\": " + key.error().message());
            return std::nullopt;
        }
        log::debug(2, "bad passphrase given, try again...");
    }
    log::line("Load key \"" + path + "\": incorrect passphrase supplied to decrypt private key");
    return std::nullopt;
}

}  // namespace

std::optional<Identity> load_identity(const std::vector<std::string>& files, bool batch_mode) {
    bool any_file = false;
    for (const auto& path : files) {
        auto text = read_private_key_file(path);
        if (!text) {
            const auto ec = text.error();
            if (ec == std::errc::no_such_file_or_directory) {
                log::debug(1, "identity file " + path + " does not exist");
                continue;
            }
            any_file = true;
            if (ec == errc::insecure_permissions) {
                warn_unprotected(path);
            } else {
                log::line("Load key \"" + path + "\": " + ec.message());
            }
            continue;
        }
        any_file = true;
        auto id = decode(path, *text, batch_mode);
        if (!id) continue;
        log::debug(1, "Will offer public key: " + path + " ED25519 " + fingerprint_sha256(id->key.public_key()));
        return id;
    }
    if (!any_file) {
        std::string tried;
        for (const auto& p : files) tried += (tried.empty() ? "" : ", ") + p;
        log::error("no identity key (tried " + tried + "); create one with twoway-keygen");
    } else {
        log::error("no usable identity key");
    }
    return std::nullopt;
}

}  // namespace twoway_client

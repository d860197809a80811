// The C API (<twoway/twoway.h>) over the C++ one. Every entry point catches everything: a C caller
// (or Python's ctypes) cannot unwind a C++ exception, so std::bad_alloc becomes -ENOMEM and anything
// else TWOWAY_E_INTERNAL. The handles own copies of what the C++ objects only refer to (the private
// key a handshake signs with), so a C caller has no lifetimes to keep but the handles' own.
#include <twoway/twoway.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <memory>
#include <new>
#include <optional>
#include <string>
#include <system_error>
#include <variant>
#include <vector>

#include <twoway/channel.hpp>
#include <twoway/error.hpp>
#include <twoway/handshake.hpp>
#include <twoway/key.hpp>
#include <twoway/key_file.hpp>
#include <twoway/password.hpp>
#include <twoway/random.hpp>
#include <twoway/session.hpp>
#include <twoway/trust.hpp>

#include "capi/version.hpp"  // generated: TWOWAY_VERSION_STRING
#include "error_text.hpp"


namespace {

using twoway::errc;

// The C numbers are the C++ ones (a new errc value must get its TWOWAY_E_ constant too; the C API test
// checks that every value below 300 with a text has one).
#define TW_SAME(name, e) static_assert(TWOWAY_E_##name == static_cast<int>(errc::e));
TW_SAME(SHORT_INPUT, short_input)
TW_SAME(TRAILING_DATA, trailing_data)
TW_SAME(LENGTH_TOO_LARGE, length_too_large)
TW_SAME(MALFORMED, malformed)
TW_SAME(BAD_KEY_FORMAT, bad_key_format)
TW_SAME(UNSUPPORTED_KEY_TYPE, unsupported_key_type)
TW_SAME(ENCRYPTED_OPENSSH_KEY, encrypted_openssh_key)
TW_SAME(KEY_MISMATCH, key_mismatch)
TW_SAME(CORRUPT_KEY_FILE, corrupt_key_file)
TW_SAME(KDF_PARAMS_REJECTED, kdf_params_rejected)
TW_SAME(UNEXPECTED_MESSAGE, unexpected_message)
TW_SAME(UNSUPPORTED_VERSION, unsupported_version)
TW_SAME(UNSUPPORTED_SUITE, unsupported_suite)
TW_SAME(WEAK_PUBLIC_KEY, weak_public_key)
TW_SAME(REFLECTED_MESSAGE, reflected_message)
TW_SAME(BAD_SIGNATURE, bad_signature)
TW_SAME(BAD_FINISHED, bad_finished)
TW_SAME(DECRYPT_FAILED, decrypt_failed)
TW_SAME(RECORD_TOO_LARGE, record_too_large)
TW_SAME(TRUNCATED, truncated)
TW_SAME(HOST_KEY_REJECTED, host_key_rejected)
TW_SAME(AUTH_DENIED, auth_denied)
TW_SAME(PEER_CLOSED, peer_closed)
TW_SAME(COUNTER_EXHAUSTED, counter_exhausted)
TW_SAME(WINDOW_EXCEEDED, window_exceeded)
TW_SAME(HOST_KEY_MAC_INVALID, host_key_mac_invalid)
TW_SAME(PREAUTH_LIMIT, preauth_limit)
TW_SAME(WRONG_CERTIFICATE_TYPE, wrong_certificate_type)
TW_SAME(INVALID_ARGUMENT, invalid_argument)
TW_SAME(WRONG_PASSPHRASE, wrong_passphrase)
TW_SAME(PASSPHRASE_REQUIRED, passphrase_required)
TW_SAME(INSECURE_PERMISSIONS, insecure_permissions)
TW_SAME(IO_ERROR, io_error)
TW_SAME(NOT_FOUND, not_found)
TW_SAME(BAD_STATE, bad_state)
TW_SAME(INTERNAL, internal)
#undef TW_SAME
static_assert(static_cast<int>(twoway::session::Stream::err) == TWOWAY_STREAM_ERR);
static_assert(static_cast<int>(twoway::session::RequestKind::service) == TWOWAY_REQUEST_SERVICE);
static_assert(static_cast<int>(twoway::session::RequestKind::subsystem) == TWOWAY_REQUEST_SUBSYSTEM);
static_assert(static_cast<int>(twoway::session::RequestKind::direct) == TWOWAY_REQUEST_DIRECT);

constexpr int invalid = TWOWAY_E_INVALID_ARGUMENT;

int status_of(std::error_code ec) noexcept {
    if (!ec) return TWOWAY_OK;
    if (ec.category() == twoway::twoway_category()) return ec.value();
    if (ec.category() == std::generic_category() || ec.category() == std::system_category()) {
        return ec.value() > 0 ? -ec.value() : TWOWAY_E_IO_ERROR;
    }
    return TWOWAY_E_INTERNAL;
}

template <class F>
int guarded(F&& f) noexcept {
    try {
        return f();
    } catch (const std::bad_alloc&) {
        return -ENOMEM;
    } catch (...) {
        return TWOWAY_E_INTERNAL;
    }
}

twoway::PublicKey public_key(const uint8_t* raw) {
    twoway::PublicKey::Raw r;
    std::memcpy(r.data(), raw, r.size());
    return twoway::PublicKey(r);
}

void copy_key(const twoway::PublicKey& k, uint8_t* out) { std::memcpy(out, k.raw().data(), k.raw().size()); }

int give_string(const std::string& s, char** out) {
    char* p = static_cast<char*>(std::malloc(s.size() + 1));
    if (p == nullptr) return -ENOMEM;
    std::memcpy(p, s.c_str(), s.size() + 1);
    *out = p;
    return TWOWAY_OK;
}

// Output waiting to be taken, in order.
class Pending {
public:
    void append(std::span<const std::byte> bytes) {
        compact();
        data_.insert(data_.end(), bytes.begin(), bytes.end());
    }
    std::vector<std::byte>& buffer() {
        compact();
        return data_;
    }
    [[nodiscard]] std::size_t size() const noexcept { return data_.size() - taken_; }
    std::size_t take(uint8_t* buf, std::size_t cap) noexcept {
        const std::size_t n = std::min(cap, size());
        if (n > 0) std::memcpy(buf, data_.data() + taken_, n);
        taken_ += n;
        if (taken_ == data_.size()) {
            data_.clear();
            taken_ = 0;
        }
        return n;
    }

private:
    void compact() {
        if (taken_ > 0) {
            data_.erase(data_.begin(), data_.begin() + static_cast<std::ptrdiff_t>(taken_));
            taken_ = 0;
        }
    }
    std::vector<std::byte> data_;
    std::size_t taken_ = 0;
};

std::span<const std::byte> bytes_of(const uint8_t* data, std::size_t len) {
    return {reinterpret_cast<const std::byte*>(data), len};
}

}  // namespace

struct twoway_key {
    twoway::PrivateKey key;
};

struct twoway_handshake {
    std::unique_ptr<twoway::PrivateKey> key;  // the configs refer to it: a stable address
    std::variant<twoway::ClientHandshake, twoway::ServerHandshake> role;
    Pending out;
    std::string account;                    // client: configured; server: the one asked for
    std::optional<twoway::PublicKey> peer;  // once the verdict was asked for
    std::vector<std::byte> peer_certificate{};  // the peer's certificate blob, if its identity was one
    std::string banner{};                     // client: the server's banner
    // Password mode: the server's OPAQUE keys (the config refers to them: a stable address), and
    // whether this handshake logs in by password (client: always; server: once the client proved it).
    std::unique_ptr<twoway::PasswordServerKeys> password_keys{};
    bool password = false;

    [[nodiscard]] bool client() const noexcept { return role.index() == 0; }
    // Moves the role's output into `out` and notes what its event reveals.
    void collect() {
        std::visit([this](auto& h) { out.append(h.take_output()); }, role);
        if (auto* c = std::get_if<twoway::ClientHandshake>(&role)) {
            const twoway::ClientEvent ev = c->event();
            if (const auto* v = std::get_if<twoway::NeedServerVerdict>(&ev)) {
                peer = v->server_key;
                if (v->server_certificate) peer_certificate = v->server_certificate->blob;
                banner = v->banner;
            }
        } else {
            const twoway::ServerEvent ev = std::get<twoway::ServerHandshake>(role).event();
            if (const auto* v = std::get_if<twoway::NeedPasswordRecord>(&ev)) account = v->account;
            if (const auto* v = std::get_if<twoway::NeedClientVerdict>(&ev)) {
                password = v->password;
                if (!v->password) peer = v->client_key;  // a password login has no key
                account = v->account;
                if (v->client_certificate) peer_certificate = v->client_certificate->blob;
            }
        }
    }
};

struct twoway_channel {
    twoway::Channel channel;
    twoway::HandshakeResult result;  // without its secrets: the peer, account, session id, exporter
    Pending out;
};

struct twoway_opaque_key {
    twoway::OpaqueKey key;
};

struct twoway_session {
    twoway::session::SessionClient client;
    Pending out;
    std::deque<twoway::session::Event> events;
    twoway::session::Event current;  // the last one handed out: its bytes and text stay valid
};

extern "C" {

const char* twoway_strerror(int status) {
    if (status == TWOWAY_OK) return "success";
    if (status < 0) {
        const char* d = ::strerrordesc_np(-status);
        return d != nullptr ? d : "unknown system error";
    }
    // The error category's own texts (a new errc value without one is a compile error there).
    const char* text = twoway::errc_text(status);
    return text != nullptr ? text : "unknown error";
}

const char* twoway_version(void) { return TWOWAY_VERSION_STRING; }

void twoway_free(void* p) { std::free(p); }

// ---- keys ----------------------------------------------------------------------------------------

int twoway_key_generate(twoway_key** out) {
    if (out == nullptr) return invalid;
    return guarded([&]() -> int {
        *out = new twoway_key{twoway::PrivateKey::generate(twoway::system_rng())};
        return TWOWAY_OK;
    });
}

int twoway_key_from_seed(const uint8_t seed[TWOWAY_SEED_SIZE], twoway_key** out) {
    if (seed == nullptr || out == nullptr) return invalid;
    return guarded([&]() -> int {
        *out = new twoway_key{
            twoway::PrivateKey::from_seed(std::span<const std::byte, 32>(reinterpret_cast<const std::byte*>(seed), 32))};
        return TWOWAY_OK;
    });
}

int twoway_key_load(const char* path, const char* passphrase, twoway_key** out) {
    if (path == nullptr || out == nullptr) return invalid;
    return guarded([&]() -> int {
        auto k = twoway::load_private_key(path, passphrase != nullptr ? passphrase : "");
        if (!k) return status_of(k.error());
        *out = new twoway_key{std::move(k->key)};
        return TWOWAY_OK;
    });
}

void twoway_key_free(twoway_key* key) { delete key; }

int twoway_key_public(const twoway_key* key, uint8_t out[TWOWAY_KEY_SIZE]) {
    if (key == nullptr || out == nullptr) return invalid;
    copy_key(key->key.public_key(), out);
    return TWOWAY_OK;
}

int twoway_public_key_line(const uint8_t key[TWOWAY_KEY_SIZE], const char* comment, char** out) {
    if (key == nullptr || out == nullptr) return invalid;
    return guarded([&]() -> int {
        const std::string_view c = comment != nullptr ? comment : "";
        if (!twoway::valid_key_comment(c)) return invalid;
        return give_string(twoway::format_public_key_line(public_key(key), c), out);
    });
}

int twoway_public_key_parse(const char* line, uint8_t out[TWOWAY_KEY_SIZE]) {
    if (line == nullptr || out == nullptr) return invalid;
    return guarded([&]() -> int {
        auto parsed = twoway::parse_public_key_line(line);
        if (!parsed) return status_of(parsed.error());
        copy_key(parsed->key, out);
        return TWOWAY_OK;
    });
}

int twoway_fingerprint(const uint8_t key[TWOWAY_KEY_SIZE], char** out) {
    if (key == nullptr || out == nullptr) return invalid;
    return guarded([&]() -> int { return give_string(twoway::fingerprint_sha256(public_key(key)), out); });
}

// ---- trust decisions -----------------------------------------------------------------------------

int twoway_known_hosts_check(const char* const* paths, size_t count, const char* host, uint16_t port,
                             const uint8_t key[TWOWAY_KEY_SIZE], twoway_host_status* status) {
    if (status == nullptr) return invalid;
    *status = TWOWAY_HOST_UNCERTAIN;  // until a verdict exists
    if ((paths == nullptr && count > 0) || host == nullptr || key == nullptr || port == 0) return invalid;
    return guarded([&]() -> int {
        std::vector<twoway::KnownHostsFile> files;
        for (size_t i = 0; i < count; ++i) {
            if (paths[i] == nullptr) return invalid;
            auto f = twoway::load_known_hosts(paths[i]);
            if (!f) return status_of(f.error());
            files.push_back(std::move(*f));
        }
        const twoway::HostVerdict v = twoway::check_host(files, host, port, public_key(key));
        switch (v.status) {
            case twoway::HostStatus::known: *status = TWOWAY_HOST_KNOWN; break;
            case twoway::HostStatus::unknown:
                *status = v.incomplete ? TWOWAY_HOST_UNCERTAIN : TWOWAY_HOST_UNKNOWN;
                break;
            case twoway::HostStatus::changed: *status = TWOWAY_HOST_CHANGED; break;
            case twoway::HostStatus::revoked: *status = TWOWAY_HOST_REVOKED; break;
            case twoway::HostStatus::uncertain: *status = TWOWAY_HOST_UNCERTAIN; break;
        }
        return TWOWAY_OK;
    });
}

int twoway_known_hosts_add(const char* path, const char* host, uint16_t port, const uint8_t key[TWOWAY_KEY_SIZE]) {
    if (path == nullptr || host == nullptr || key == nullptr) return invalid;
    return guarded([&]() -> int { return status_of(twoway::append_known_host(path, host, port, public_key(key)).error()); });
}

int twoway_authorized_keys_check(const char* path, const uint8_t key[TWOWAY_KEY_SIZE], int* authorized) {
    if (authorized == nullptr) return invalid;
    *authorized = 0;
    if (path == nullptr || key == nullptr) return invalid;
    return guarded([&]() -> int {
        auto f = twoway::load_authorized_keys(path);
        if (!f) return status_of(f.error());
        *authorized = twoway::check_authorized(std::span(&*f, 1), public_key(key)).authorized ? 1 : 0;
        return TWOWAY_OK;
    });
}

int twoway_revoked_check(const char* path, const uint8_t key[TWOWAY_KEY_SIZE], int* revoked) {
    if (revoked == nullptr) return invalid;
    *revoked = 1;  // until the list says otherwise
    if (path == nullptr || key == nullptr) return invalid;
    return guarded([&]() -> int {
        const twoway::RevocationFile file = twoway::load_revocation_file(path);
        if (!file.usable()) return file.list.read_error ? status_of(file.list.read_error) : TWOWAY_E_MALFORMED;
        *revoked = twoway::check_revoked(file, public_key(key)).refused() ? 1 : 0;
        return TWOWAY_OK;
    });
}

// ---- password mode -------------------------------------------------------------------------------

int twoway_opaque_key_generate(twoway_opaque_key** out) {
    if (out == nullptr) return invalid;
    return guarded([&]() -> int {
        *out = new twoway_opaque_key{twoway::generate_opaque_key(twoway::system_rng())};
        return TWOWAY_OK;
    });
}

int twoway_opaque_key_load(const char* path, twoway_opaque_key** out) {
    if (path == nullptr || out == nullptr) return invalid;
    return guarded([&]() -> int {
        auto k = twoway::load_opaque_key(path);
        if (!k) return status_of(k.error());
        *out = new twoway_opaque_key{std::move(*k)};
        return TWOWAY_OK;
    });
}

void twoway_opaque_key_free(twoway_opaque_key* key) { delete key; }

int twoway_password_register(const twoway_opaque_key* key, const char* account, const uint8_t* password, size_t len,
                             uint32_t ops, uint32_t mem_kib, char** out) {
    if (key == nullptr || account == nullptr || password == nullptr || len == 0 || out == nullptr) return invalid;
    if ((ops == 0) != (mem_kib == 0)) return invalid;
    return guarded([&]() -> int {
        const twoway::PasswordKsf ksf = ops == 0 ? twoway::default_password_ksf() : twoway::PasswordKsf{ops, mem_kib};
        auto record = twoway::register_password(key->key, account, bytes_of(password, len), ksf, twoway::system_rng());
        if (!record) return status_of(record.error());
        auto text = twoway::format_password_record(*record);
        if (!text) return status_of(text.error());
        const int st = give_string(*text, out);
        twoway::detail::secure_wipe(text->data(), text->size());
        return st;
    });
}

// ---- the handshake -------------------------------------------------------------------------------

int twoway_handshake_client_new(const twoway_key* identity, const char* account, const uint8_t* known_server_key,
                                twoway_handshake** out) {
    if (identity == nullptr || account == nullptr || out == nullptr) return invalid;
    return guarded([&]() -> int {
        auto key = std::make_unique<twoway::PrivateKey>(identity->key.clone());
        twoway::ClientConfig config{*key, account};
        if (known_server_key != nullptr) config.known_server_key = public_key(known_server_key);
        twoway::ClientHandshake h(config, twoway::system_rng());
        if (h.error()) return status_of(h.error());  // a config the library cannot honour
        auto* hs = new twoway_handshake{std::move(key), std::move(h), {}, account, std::nullopt};
        hs->collect();
        *out = hs;
        return TWOWAY_OK;
    });
}

int twoway_handshake_server_new(const twoway_key* host_key, int stealth, twoway_handshake** out) {
    if (host_key == nullptr || out == nullptr) return invalid;
    return guarded([&]() -> int {
        auto key = std::make_unique<twoway::PrivateKey>(host_key->key.clone());
        twoway::ServerConfig config{*key};
        config.stealth = stealth != 0;
        twoway::ServerHandshake h(config, twoway::system_rng());
        *out = new twoway_handshake{std::move(key), std::move(h), {}, {}, std::nullopt};
        return TWOWAY_OK;
    });
}

int twoway_handshake_client_new_password(const char* account, const uint8_t* known_server_key,
                                         twoway_handshake** out) {
    if (account == nullptr || out == nullptr) return invalid;
    return guarded([&]() -> int {
        twoway::ClientConfig config{nullptr, account};
        config.password = true;
        if (known_server_key != nullptr) config.known_server_key = public_key(known_server_key);
        twoway::ClientHandshake h(config, twoway::system_rng());
        if (h.error()) return status_of(h.error());
        auto* hs = new twoway_handshake{nullptr, std::move(h), {}, account, std::nullopt};
        hs->password = true;
        hs->collect();
        *out = hs;
        return TWOWAY_OK;
    });
}

int twoway_handshake_server_new_password(const twoway_key* host_key, int stealth, const twoway_opaque_key* key,
                                         twoway_handshake** out) {
    if (host_key == nullptr || key == nullptr || out == nullptr) return invalid;
    return guarded([&]() -> int {
        auto host = std::make_unique<twoway::PrivateKey>(host_key->key.clone());
        auto keys = std::make_unique<twoway::PasswordServerKeys>(
            twoway::PasswordServerKeys{key->key.oprf_seed.clone(), key->key.private_key.clone()});
        twoway::ServerConfig config{*host};
        config.stealth = stealth != 0;
        config.password_keys = keys.get();
        twoway::ServerHandshake h(config, twoway::system_rng());
        auto* hs = new twoway_handshake{std::move(host), std::move(h), {}, {}, std::nullopt};
        hs->password_keys = std::move(keys);
        *out = hs;
        return TWOWAY_OK;
    });
}

int twoway_handshake_accept_password(twoway_handshake* hs, const uint8_t* password, size_t len, int host_trusted) {
    if (hs == nullptr || password == nullptr || len == 0) return invalid;
    if (!hs->client()) return TWOWAY_E_BAD_STATE;
    return guarded([&]() -> int {
        auto& c = std::get<0>(hs->role);
        const auto pw = bytes_of(password, len);
        const twoway::Status st = host_trusted != 0 ? c.accept_server_with_password(pw) : c.defer_server_to_password(pw);
        hs->collect();
        return status_of(st.error());
    });
}

int twoway_handshake_password_record(twoway_handshake* hs, const char* record) {
    if (hs == nullptr) return invalid;
    if (hs->client()) return TWOWAY_E_BAD_STATE;
    return guarded([&]() -> int {
        auto& server = std::get<1>(hs->role);
        twoway::Status st;
        if (record == nullptr) {
            st = server.no_password_record();
        } else {
            auto parsed = twoway::parse_password_record(record);
            if (!parsed) {
                // Fail closed: the generic denial, the parse error kept for the log.
                (void)server.deny("the account's password record does not parse");
                hs->collect();
                return status_of(parsed.error());
            }
            st = server.provide_password_record(parsed->registration.span(), parsed->ksf);
        }
        hs->collect();
        return status_of(st.error());
    });
}

int twoway_handshake_password(const twoway_handshake* hs) { return hs != nullptr && hs->password ? 1 : 0; }

void twoway_handshake_free(twoway_handshake* hs) { delete hs; }

int twoway_handshake_feed(twoway_handshake* hs, const uint8_t* data, size_t len) {
    if (hs == nullptr || (data == nullptr && len > 0)) return invalid;
    return guarded([&]() -> int {
        const twoway::Status st = std::visit([&](auto& h) { return h.feed(bytes_of(data, len)); }, hs->role);
        hs->collect();  // a failed server still has its generic denial to send
        return status_of(st.error());
    });
}

int twoway_handshake_end_of_input(twoway_handshake* hs) {
    if (hs == nullptr) return invalid;
    return guarded([&]() -> int {
        const twoway::Status st = std::visit([](auto& h) { return h.end_of_input(); }, hs->role);
        hs->collect();
        return status_of(st.error());
    });
}

size_t twoway_handshake_output_size(const twoway_handshake* hs) { return hs != nullptr ? hs->out.size() : 0; }

size_t twoway_handshake_output(twoway_handshake* hs, uint8_t* buf, size_t cap) {
    if (hs == nullptr || buf == nullptr) return 0;
    return hs->out.take(buf, cap);
}

twoway_handshake_event twoway_handshake_next(const twoway_handshake* hs) {
    if (hs == nullptr) return TWOWAY_HS_FAILED;
    try {
        return std::visit(
            [](const auto& h) {
                const auto ev = h.event();
                if (std::holds_alternative<twoway::WantInput>(ev)) return TWOWAY_HS_WANT_INPUT;
                if (std::holds_alternative<twoway::HandshakeComplete>(ev)) return TWOWAY_HS_COMPLETE;
                if (std::holds_alternative<twoway::HandshakeFailed>(ev)) return TWOWAY_HS_FAILED;
                if constexpr (std::is_same_v<std::decay_t<decltype(ev)>, twoway::ServerEvent>) {
                    if (std::holds_alternative<twoway::NeedPasswordRecord>(ev)) return TWOWAY_HS_NEED_PASSWORD_RECORD;
                }
                return TWOWAY_HS_NEED_VERDICT;
            },
            hs->role);
    } catch (...) {
        return TWOWAY_HS_FAILED;
    }
}

int twoway_handshake_error(const twoway_handshake* hs) {
    if (hs == nullptr) return invalid;
    return status_of(std::visit([](const auto& h) { return h.error(); }, hs->role));
}

int twoway_handshake_peer_key(const twoway_handshake* hs, uint8_t out[TWOWAY_KEY_SIZE]) {
    if (hs == nullptr || out == nullptr) return invalid;
    if (!hs->peer) return TWOWAY_E_BAD_STATE;
    copy_key(*hs->peer, out);
    return TWOWAY_OK;
}

const uint8_t* twoway_handshake_peer_certificate(const twoway_handshake* hs, size_t* len) {
    if (len != nullptr) *len = 0;
    if (hs == nullptr || len == nullptr || hs->peer_certificate.empty()) return nullptr;
    *len = hs->peer_certificate.size();
    return reinterpret_cast<const uint8_t*>(hs->peer_certificate.data());
}

const uint8_t* twoway_handshake_banner(const twoway_handshake* hs, size_t* len) {
    if (len != nullptr) *len = 0;
    if (hs == nullptr || len == nullptr || hs->banner.empty()) return nullptr;
    *len = hs->banner.size();
    return reinterpret_cast<const uint8_t*>(hs->banner.data());
}

const char* twoway_handshake_account(const twoway_handshake* hs) {
    if (hs == nullptr || hs->account.empty()) return nullptr;
    return hs->account.c_str();
}

int twoway_handshake_accept(twoway_handshake* hs) {
    if (hs == nullptr) return invalid;
    return guarded([&]() -> int {
        const twoway::Status st = hs->client() ? std::get<0>(hs->role).accept_server()
                                               : std::get<1>(hs->role).authorize();
        hs->collect();
        return status_of(st.error());
    });
}

int twoway_handshake_reject(twoway_handshake* hs, const char* reason) {
    if (hs == nullptr) return invalid;
    return guarded([&]() -> int {
        const twoway::Status st = hs->client() ? std::get<0>(hs->role).reject_server()
                                               : std::get<1>(hs->role).deny(reason != nullptr ? reason : "");
        hs->collect();
        return status_of(st.error());
    });
}

const char* twoway_handshake_denial_reason(const twoway_handshake* hs) {
    if (hs == nullptr || hs->client()) return "";
    return std::get<1>(hs->role).denial_reason().c_str();
}

int twoway_handshake_finish(twoway_handshake* hs, twoway_channel** out) {
    if (hs == nullptr || out == nullptr) return invalid;
    return guarded([&]() -> int {
        auto result = std::visit([](auto& h) { return h.take_result(); }, hs->role);
        if (!result) return status_of(result.error());  // bad_state when already taken
        auto channel = twoway::Channel::create(*result);
        if (!channel) return status_of(channel.error());
        *out = new twoway_channel{std::move(*channel), std::move(*result), {}};
        return TWOWAY_OK;
    });
}

// ---- the channel ---------------------------------------------------------------------------------

void twoway_channel_free(twoway_channel* ch) { delete ch; }

int twoway_channel_send(twoway_channel* ch, const uint8_t* data, size_t len) {
    if (ch == nullptr || (data == nullptr && len > 0)) return invalid;
    return guarded([&]() -> int { return status_of(ch->channel.seal(bytes_of(data, len), ch->out.buffer()).error()); });
}

int twoway_channel_close(twoway_channel* ch) {
    if (ch == nullptr) return invalid;
    return guarded([&]() -> int { return status_of(ch->channel.close(ch->out.buffer()).error()); });
}

size_t twoway_channel_output_size(const twoway_channel* ch) { return ch != nullptr ? ch->out.size() : 0; }

size_t twoway_channel_output(twoway_channel* ch, uint8_t* buf, size_t cap) {
    if (ch == nullptr || buf == nullptr) return 0;
    return ch->out.take(buf, cap);
}

int twoway_channel_feed(twoway_channel* ch, const uint8_t* data, size_t len, size_t* consumed) {
    if (consumed != nullptr) *consumed = 0;
    if (ch == nullptr || consumed == nullptr || (data == nullptr && len > 0)) return invalid;
    return guarded([&]() -> int {
        auto n = ch->channel.feed(bytes_of(data, len));
        if (!n) return status_of(n.error());
        *consumed = *n;
        return TWOWAY_OK;
    });
}

int twoway_channel_read(twoway_channel* ch, uint8_t* buf, size_t cap, size_t* n, twoway_read_kind* kind) {
    if (n != nullptr) *n = 0;
    if (kind != nullptr) *kind = TWOWAY_READ_NEED_MORE;
    if (ch == nullptr || buf == nullptr || cap == 0 || n == nullptr || kind == nullptr) return invalid;
    return guarded([&]() -> int {
        auto r = ch->channel.read(cap);
        if (!r) return status_of(r.error());
        switch (r->kind) {
            case twoway::Channel::Received::Kind::need_more: *kind = TWOWAY_READ_NEED_MORE; break;
            case twoway::Channel::Received::Kind::closed: *kind = TWOWAY_READ_CLOSED; break;
            case twoway::Channel::Received::Kind::data:
                std::memcpy(buf, r->data.data(), r->data.size());
                *n = r->data.size();
                *kind = TWOWAY_READ_DATA;
                break;
        }
        return TWOWAY_OK;
    });
}

int twoway_channel_end_of_input(twoway_channel* ch) {
    if (ch == nullptr) return invalid;
    return guarded([&]() -> int { return status_of(ch->channel.end_of_input().error()); });
}

int twoway_channel_peer_key(const twoway_channel* ch, uint8_t out[TWOWAY_KEY_SIZE]) {
    if (ch == nullptr || out == nullptr) return invalid;
    copy_key(ch->result.peer, out);
    return TWOWAY_OK;
}

const char* twoway_channel_account(const twoway_channel* ch) {
    return ch != nullptr ? ch->result.account.c_str() : nullptr;
}

int twoway_channel_password(const twoway_channel* ch) { return ch != nullptr && ch->result.password ? 1 : 0; }

int twoway_channel_host_proven_by_password(const twoway_channel* ch) {
    return ch != nullptr && ch->result.host_proven_by_password ? 1 : 0;
}

int twoway_channel_session_id(const twoway_channel* ch, uint8_t out[TWOWAY_SESSION_ID_SIZE]) {
    if (ch == nullptr || out == nullptr) return invalid;
    std::memcpy(out, ch->result.session_id.data(), ch->result.session_id.size());
    return TWOWAY_OK;
}

int twoway_channel_export(const twoway_channel* ch, const char* label, const uint8_t* context, size_t context_len,
                          uint8_t* out, size_t out_len) {
    if (ch == nullptr || label == nullptr || out == nullptr || (context == nullptr && context_len > 0)) return invalid;
    return guarded([&]() -> int {
        auto secret = ch->result.exporter(label, bytes_of(context, context_len), out_len);
        if (!secret) return status_of(secret.error());
        std::memcpy(out, secret->data(), out_len);
        return TWOWAY_OK;
    });
}

// ---- the session protocol, client side -----------------------------------------------------------

int twoway_session_start(twoway_request_kind kind, const char* command, const char* const* env,
                         twoway_session** out) {
    if (out == nullptr) return invalid;
    if (kind != TWOWAY_REQUEST_SHELL && kind != TWOWAY_REQUEST_EXEC && kind != TWOWAY_REQUEST_SERVICE &&
        kind != TWOWAY_REQUEST_SUBSYSTEM && kind != TWOWAY_REQUEST_DIRECT) {
        return invalid;
    }
    return guarded([&]() -> int {
        namespace ts = twoway::session;
        ts::Request request;
        request.kind = static_cast<ts::RequestKind>(kind);
        request.command = command != nullptr ? command : "";
        for (std::size_t i = 0; env != nullptr && env[i] != nullptr; ++i) {
            const std::string_view var = env[i];
            const std::size_t eq = var.find('=');
            if (eq == std::string_view::npos) return invalid;
            request.env.push_back({std::string(var.substr(0, eq)), std::string(var.substr(eq + 1))});
        }
        auto client = ts::SessionClient::start(request);  // checks the request: invalid_argument
        if (!client) return status_of(client.error());
        auto* s = new twoway_session{std::move(*client), {}, {}, ts::Closed{}};
        s->out.append(s->client.take_output());
        *out = s;
        return TWOWAY_OK;
    });
}

void twoway_session_free(twoway_session* s) { delete s; }

int twoway_session_feed(twoway_session* s, const uint8_t* data, size_t len) {
    if (s == nullptr || (data == nullptr && len > 0)) return invalid;
    return guarded([&]() -> int {
        // What feed() queues in reply (CLOSE, a PONG) stays in the session until the output is asked
        // for: PINGs that arrive meanwhile are answered by one PONG there, not one per feed in `out`.
        auto events = s->client.feed(bytes_of(data, len));
        if (!events) return status_of(events.error());
        for (auto& ev : *events) s->events.push_back(std::move(ev));
        return TWOWAY_OK;
    });
}

int twoway_session_next_event(twoway_session* s, twoway_session_event* ev) {
    if (s == nullptr || ev == nullptr || s->events.empty()) return 0;
    namespace ts = twoway::session;
    s->current = std::move(s->events.front());
    s->events.pop_front();
    *ev = twoway_session_event{};
    ev->text = "";
    std::visit(
        [ev](const auto& e) {
            using E = std::decay_t<decltype(e)>;
            if constexpr (std::is_same_v<E, ts::Accepted>) {
                ev->type = TWOWAY_EV_ACCEPTED;
            } else if constexpr (std::is_same_v<E, ts::Rejected>) {
                ev->type = TWOWAY_EV_REJECTED;
                ev->code = e.code;
                ev->text = e.text.c_str();
            } else if constexpr (std::is_same_v<E, ts::Data>) {
                ev->type = TWOWAY_EV_DATA;
                ev->stream = static_cast<twoway_stream_id>(e.stream);
                ev->data = reinterpret_cast<const uint8_t*>(e.bytes.data());
                ev->len = e.bytes.size();
            } else if constexpr (std::is_same_v<E, ts::Eof>) {
                ev->type = TWOWAY_EV_EOF;
                ev->stream = static_cast<twoway_stream_id>(e.stream);
            } else if constexpr (std::is_same_v<E, ts::WindowAdjusted>) {
                ev->type = TWOWAY_EV_WINDOW;
                ev->stream = static_cast<twoway_stream_id>(e.stream);
            } else if constexpr (std::is_same_v<E, ts::ExitStatus>) {
                ev->type = TWOWAY_EV_EXIT_STATUS;
                ev->code = e.status;
            } else if constexpr (std::is_same_v<E, ts::ExitSignal>) {
                ev->type = TWOWAY_EV_EXIT_SIGNAL;
                ev->text = e.name.c_str();
                ev->core_dumped = e.core_dumped ? 1 : 0;
            } else {
                // Closed; the server-only events (RequestReceived, WindowChange, Signal) never reach a client.
                ev->type = TWOWAY_EV_CLOSED;
            }
        },
        s->current);
    return 1;
}

int twoway_session_send(twoway_session* s, const uint8_t* data, size_t len, size_t* taken) {
    if (taken != nullptr) *taken = 0;
    if (s == nullptr || taken == nullptr || (data == nullptr && len > 0)) return invalid;
    return guarded([&]() -> int {
        auto n = s->client.send_data(twoway::session::Stream::in, bytes_of(data, len));
        s->out.append(s->client.take_output());
        if (!n) return status_of(n.error());
        *taken = *n;
        return TWOWAY_OK;
    });
}

size_t twoway_session_send_capacity(const twoway_session* s) {
    return s != nullptr ? s->client.send_capacity(twoway::session::Stream::in) : 0;
}

int twoway_session_send_eof(twoway_session* s) {
    if (s == nullptr) return invalid;
    return guarded([&]() -> int {
        const twoway::Status st = s->client.send_eof(twoway::session::Stream::in);
        s->out.append(s->client.take_output());
        return status_of(st.error());
    });
}

int twoway_session_consumed(twoway_session* s, twoway_stream_id stream, size_t n) {
    if (s == nullptr || (stream != TWOWAY_STREAM_OUT && stream != TWOWAY_STREAM_ERR)) return invalid;
    return guarded([&]() -> int {
        const twoway::Status st = s->client.consumed(static_cast<twoway::session::Stream>(stream), n);
        s->out.append(s->client.take_output());
        return status_of(st.error());
    });
}

int twoway_session_close(twoway_session* s) {
    if (s == nullptr) return invalid;
    return guarded([&]() -> int {
        const twoway::Status st = s->client.close();
        s->out.append(s->client.take_output());
        return status_of(st.error());
    });
}

size_t twoway_session_output_size(const twoway_session* s) {
    return s != nullptr ? s->out.size() + s->client.pending_output() : 0;
}

size_t twoway_session_output(twoway_session* s, uint8_t* buf, size_t cap) {
    if (s == nullptr || buf == nullptr) return 0;
    // The session's own output goes after what `out` holds (it was queued later). The room is made
    // first, so that out of memory takes nothing and loses nothing (0; the output stays).
    if (const std::size_t more = s->client.pending_output(); more > 0) {
        try {
            auto& held = s->out.buffer();
            held.reserve(held.size() + more);
        } catch (...) {
            return 0;
        }
        std::vector<std::byte> batch;
        s->client.take_output(batch);  // noexcept
        s->out.append(batch);          // into the room made: no allocation
    }
    return s->out.take(buf, cap);
}

int twoway_session_finished(const twoway_session* s) { return s != nullptr && s->client.finished() ? 1 : 0; }

}  // extern "C"

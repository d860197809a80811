// Registration over a session (<twoway/password.hpp>, PROTOCOL.md 16): the messages of twoway-passwd's
// exchange around RFC 9807's three registration messages, and both halves. Each parser takes exactly one
// message through the bounded wire::Reader; the elements inside are checked by the OPAQUE parsers.
#include <twoway/password.hpp>

#include <algorithm>

#include "crypto/crypto.hpp"
#include "opaque/opaque.hpp"
#include "wire/reader.hpp"
#include "wire/writer.hpp"

namespace twoway {

static_assert(password_register_message_size == 1 + opaque::registration_request_size);
static_assert(password_response_fixed_size == 1 + 1 + 4 + 4 + opaque::registration_response_size);
static_assert(password_record_message_size == 1 + opaque::registration_record_size);

namespace {

constexpr std::uint8_t type_byte(PasswordMessage m) noexcept { return static_cast<std::uint8_t>(m); }

// The type byte of a message, checked: unexpected_message for another type, short_input for nothing.
Status expect_type(wire::Reader& r, PasswordMessage want) {
    const std::uint8_t t = r.u8();
    if (!r.ok()) return fail(r.error());
    if (t != type_byte(want)) return fail(errc::unexpected_message);
    return {};
}

}  // namespace

struct PasswordRegistrationClient::State {
    opaque::ClientRegistrationState state;
    std::array<std::byte, password_register_message_size> request{};
    bool finished = false;
};

PasswordRegistrationClient::PasswordRegistrationClient(std::unique_ptr<State> s) noexcept : s_(std::move(s)) {}
PasswordRegistrationClient::PasswordRegistrationClient(PasswordRegistrationClient&&) noexcept = default;
PasswordRegistrationClient& PasswordRegistrationClient::operator=(PasswordRegistrationClient&&) noexcept = default;
PasswordRegistrationClient::~PasswordRegistrationClient() = default;

Result<PasswordRegistrationClient> PasswordRegistrationClient::start(std::span<const std::byte> password, Rng& rng) {
    if (password.empty()) return fail(errc::invalid_argument);
    auto start = opaque::create_registration_request(password, opaque::random_scalar(rng));
    if (!start) return fail(start.error());
    auto s = std::make_unique<State>(State{std::move(start->state), {}, false});
    s->request[0] = std::byte{type_byte(PasswordMessage::register_request)};
    const auto req = opaque::encode(start->request);
    std::copy(req.begin(), req.end(), s->request.begin() + 1);
    return PasswordRegistrationClient(std::move(s));
}

std::span<const std::byte, password_register_message_size> PasswordRegistrationClient::register_message() const noexcept {
    return s_->request;
}

Result<PasswordResponse> parse_password_response(std::span<const std::byte> message) {
    wire::Reader r(message);
    if (auto s = expect_type(r, PasswordMessage::response); !s) return fail(s.error());
    const std::uint8_t name_size = r.u8();
    const auto name = r.bytes(name_size);
    PasswordResponse out;
    out.ksf.opslimit = r.u32();
    out.ksf.memlimit_kib = r.u32();
    out.response = r.array<opaque::registration_response_size>();
    if (!r.expect_end()) return fail(r.error());
    out.account = std::string(wire::as_text(name));
    if (!valid_password_account(out.account) || !valid_password_ksf(out.ksf)) return fail(errc::malformed);
    if (auto m = opaque::parse_registration_response(out.response); !m) return fail(m.error());
    return out;
}

Result<SecretBytes<password_record_message_size>> PasswordRegistrationClient::finish(const PasswordResponse& response,
                                                                                     Rng& rng) {
    if (s_->finished) return fail(errc::unexpected_message);
    if (!valid_password_account(response.account) || !valid_password_ksf(response.ksf)) return fail(errc::malformed);
    auto parsed = opaque::parse_registration_response(response.response);
    if (!parsed) return fail(parsed.error());
    s_->finished = true;
    opaque::Nonce nonce{};
    rng.fill(nonce);
    // The same identities as local registration (register_password) and as the login: the account is the
    // client's identity, the server's public key stands in for the server's.
    const opaque::Identities ids{wire::as_bytes(response.account), {}};
    const auto params = opaque::argon2id_ksf(
        crypto::Argon2idParams{response.ksf.opslimit, response.ksf.memlimit_kib * 1024});
    auto result = opaque::finalize_registration_request(s_->state, *parsed, ids, params, nonce);
    s_->state = opaque::ClientRegistrationState{};  // the password and the blind go now
    if (!result) return fail(result.error());
    auto bytes = opaque::encode(result->record);
    SecretBytes<password_record_message_size> out;
    out.data()[0] = std::byte{type_byte(PasswordMessage::record)};
    std::copy(bytes.begin(), bytes.end(), out.data() + 1);
    crypto::wipe(bytes);
    return out;
}

Result<std::vector<std::byte>> answer_password_register(const OpaqueKey& key, std::string_view account,
                                                        const PasswordKsf& ksf, std::span<const std::byte> message) {
    if (!valid_password_account(account) || !valid_password_ksf(ksf)) return fail(errc::invalid_argument);
    wire::Reader r(message);
    if (auto s = expect_type(r, PasswordMessage::register_request); !s) return fail(s.error());
    const auto element = r.bytes(opaque::registration_request_size);
    if (!r.expect_end()) return fail(r.error());
    auto request = opaque::parse_registration_request(element);
    if (!request) return fail(request.error());
    auto server = opaque::server_keys(key.oprf_seed.span(), key.private_key.span());
    if (!server) return fail(server.error());
    auto response = opaque::create_registration_response(*request, *server, wire::as_bytes(account));
    if (!response) return fail(response.error());
    const auto body = opaque::encode(*response);
    wire::Writer w(password_response_fixed_size + account.size());
    w.u8(type_byte(PasswordMessage::response)).u8(static_cast<std::uint8_t>(account.size())).bytes(account);
    w.u32(static_cast<std::uint32_t>(ksf.opslimit)).u32(static_cast<std::uint32_t>(ksf.memlimit_kib)).bytes(body);
    return w.take();
}

Result<PasswordRecord> password_record_from_message(const PasswordKsf& ksf, std::span<const std::byte> message) {
    if (!valid_password_ksf(ksf)) return fail(errc::invalid_argument);
    wire::Reader r(message);
    if (auto s = expect_type(r, PasswordMessage::record); !s) return fail(s.error());
    const auto body = r.bytes(opaque::registration_record_size);
    if (!r.expect_end()) return fail(r.error());
    // The elements are checked as a record file's are (parse_password_record).
    if (auto rec = opaque::parse_registration_record(body); !rec) return fail(rec.error());
    return PasswordRecord{ksf, SecretBytes<opaque_registration_record_size>(
                                   std::span<const std::byte, opaque_registration_record_size>(body.data(), body.size()))};
}

std::array<std::byte, password_outcome_message_size> password_done_message(PasswordDone what) noexcept {
    return {std::byte{type_byte(PasswordMessage::done)}, std::byte{static_cast<std::uint8_t>(what)}};
}

std::array<std::byte, password_outcome_message_size> password_refused_message(PasswordRefusal why) noexcept {
    return {std::byte{type_byte(PasswordMessage::refused)}, std::byte{static_cast<std::uint8_t>(why)}};
}

}  // namespace twoway

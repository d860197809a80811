#include "agent.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <twoway/certificate.hpp>

namespace twoway_client {

using twoway::errc;
using twoway::fail;
using twoway::Result;
using twoway::Status;

namespace {

class AgentCategory final : public std::error_category {
public:
    const char* name() const noexcept override { return "twoway-agent"; }
    std::string message(int c) const override {
        switch (static_cast<AgentError>(c)) {
            case AgentError::failure: return "the agent refused the request";
            case AgentError::unexpected_reply: return "the agent sent a reply of an unexpected type";
            case AgentError::not_configured: return "no agent is configured (SSH_AUTH_SOCK is unset, or none)";
            case AgentError::timeout: return "the agent did not answer in time";
            case AgentError::closed: return "the agent closed the connection";
            case AgentError::message_too_large: return "agent message larger than 256 KiB";
        }
        return "unknown agent error";
    }
};

using Bytes = std::span<const std::byte>;

// The client cannot use the library's internal wire::Reader (the programs include only <twoway/...>),
// so this is the same idea, cut to what agent messages need: every read checked against what is left,
// lengths capped before anything is sliced, the first failure sticky, trailing bytes an error.
class Reader {
public:
    explicit Reader(Bytes in) noexcept : in_(in) {}

    [[nodiscard]] bool ok() const noexcept { return !err_; }
    [[nodiscard]] std::error_code error() const noexcept { return err_; }
    [[nodiscard]] std::size_t remaining() const noexcept { return ok() ? in_.size() - pos_ : 0; }
    void fail(std::error_code e) noexcept {
        if (ok()) err_ = e;
    }

    Bytes bytes(std::size_t n) noexcept {
        if (n > remaining()) {
            fail(errc::short_input);
            return {};
        }
        const Bytes out = in_.subspan(pos_, n);
        pos_ += n;
        return out;
    }
    std::uint8_t u8() noexcept {
        const Bytes b = bytes(1);
        return b.empty() ? 0 : std::to_integer<std::uint8_t>(b[0]);
    }
    std::uint32_t u32() noexcept {
        const Bytes b = bytes(4);
        std::uint32_t v = 0;
        for (std::byte x : b) v = v << 8 | std::to_integer<std::uint32_t>(x);
        return v;
    }
    // SSH string: u32 length, then that many bytes; a length above max fails before anything else.
    Bytes string(std::size_t max) noexcept {
        const std::uint32_t n = u32();
        if (!ok()) return {};
        if (n > max) {
            fail(errc::length_too_large);
            return {};
        }
        return bytes(n);
    }
    bool expect_end() noexcept {
        if (ok() && pos_ != in_.size()) fail(errc::trailing_data);
        return ok();
    }

private:
    Bytes in_;
    std::size_t pos_ = 0;
    std::error_code err_;
};

// Appends big-endian integers and SSH strings to a std::vector (requests) or into a span of fixed size
// (the private key request, in secure memory, sized exactly beforehand).
class SpanWriter {
public:
    explicit SpanWriter(std::span<std::byte> out) noexcept : out_(out) {}
    SpanWriter& u8(std::uint8_t v) noexcept {
        if (pos_ < out_.size()) out_[pos_] = std::byte{v};
        ++pos_;
        return *this;
    }
    SpanWriter& u32(std::uint32_t v) noexcept {
        for (int shift = 24; shift >= 0; shift -= 8) u8(static_cast<std::uint8_t>(v >> shift));
        return *this;
    }
    SpanWriter& raw(Bytes b) noexcept {
        for (std::byte x : b) u8(std::to_integer<std::uint8_t>(x));
        return *this;
    }
    SpanWriter& string(Bytes b) noexcept { return u32(static_cast<std::uint32_t>(b.size())).raw(b); }
    [[nodiscard]] bool full() const noexcept { return pos_ == out_.size(); }

private:
    std::span<std::byte> out_;
    std::size_t pos_ = 0;
};

void put_u32(std::vector<std::byte>& out, std::uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<std::byte>((v >> shift) & 0xff));
}
void put_string(std::vector<std::byte>& out, Bytes b) {
    put_u32(out, static_cast<std::uint32_t>(b.size()));
    out.insert(out.end(), b.begin(), b.end());
}

Bytes as_bytes(std::string_view s) noexcept { return {reinterpret_cast<const std::byte*>(s.data()), s.size()}; }
std::string_view as_text(Bytes b) noexcept { return {reinterpret_cast<const char*>(b.data()), b.size()}; }

bool is_failure(std::uint8_t type) noexcept {
    return type == agent_message::failure || type == agent_message::ssh2_failure ||
           type == agent_message::ssh_com_failure;
}

// Reads the type byte: a failure reply fails the reader with AgentError::failure (whatever follows it:
// a refusal is a refusal), another type than `want` with unexpected_reply.
void expect_type(Reader& r, std::uint8_t want) noexcept {
    const std::uint8_t type = r.u8();
    if (!r.ok() || type == want) return;
    r.fail(make_error_code(is_failure(type) ? AgentError::failure : AgentError::unexpected_reply));
}

// The key type name a blob starts with, when it is one: at most 64 printable ASCII bytes.
std::string blob_type(Bytes blob) {
    Reader r(blob);
    const Bytes name = r.string(64);
    if (!r.ok() || name.empty()) return {};
    const bool printable = std::all_of(name.begin(), name.end(), [](std::byte b) {
        return b > std::byte{0x20} && b < std::byte{0x7f};
    });
    return printable ? std::string(as_text(name)) : std::string{};
}

std::error_code errno_code(int e) noexcept {
    if (e == EPIPE || e == ECONNRESET) return make_error_code(AgentError::closed);
    return {e, std::system_category()};
}

using Clock = std::chrono::steady_clock;

// Waits until fd is ready for events or the deadline passes (AgentError::timeout).
std::error_code wait_for(int fd, short events, Clock::time_point deadline) {
    for (;;) {
        const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
        if (left.count() <= 0) return make_error_code(AgentError::timeout);
        pollfd p{fd, events, 0};
        const int n = ::poll(&p, 1, static_cast<int>(std::min<std::int64_t>(left.count(), 1 << 30)));
        if (n > 0) return {};  // ready, or an error/hang-up the next send/recv reports
        if (n < 0 && errno != EINTR) return errno_code(errno);
    }
}

std::error_code send_all(int fd, Bytes data, Clock::time_point deadline) {
    while (!data.empty()) {
        const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
        if (n > 0) {
            data = data.subspan(static_cast<std::size_t>(n));
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (auto ec = wait_for(fd, POLLOUT, deadline)) return ec;
        } else if (n < 0 && errno != EINTR) {
            return errno_code(errno);
        }
    }
    return {};
}

std::error_code recv_exact(int fd, std::span<std::byte> to, Clock::time_point deadline) {
    while (!to.empty()) {
        const ssize_t n = ::recv(fd, to.data(), to.size(), 0);
        if (n > 0) {
            to = to.subspan(static_cast<std::size_t>(n));
        } else if (n == 0) {
            return make_error_code(AgentError::closed);
        } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
            if (auto ec = wait_for(fd, POLLIN, deadline)) return ec;
        } else if (errno != EINTR) {
            return errno_code(errno);
        }
    }
    return {};
}

}  // namespace

const std::error_category& agent_category() noexcept {
    static const AgentCategory category;
    return category;
}

// ---- codecs ---------------------------------------------------------------------------------------

Result<std::vector<AgentIdentity>> parse_identities_answer(Bytes body) {
    Reader r(body);
    expect_type(r, agent_message::identities_answer);
    const std::uint32_t count = r.u32();
    if (!r.ok()) return fail(r.error());
    if (count > agent_max_identities) return fail(errc::length_too_large);
    // Each entry is two strings, at least 8 bytes: a count the rest cannot hold is cut short, and is
    // refused before anything is reserved for it.
    if (count > r.remaining() / 8) return fail(errc::short_input);

    std::vector<AgentIdentity> out;
    out.reserve(count);
    for (std::uint32_t i = 0; i < count && r.ok(); ++i) {
        const Bytes blob = r.string(agent_max_message);
        const Bytes comment = r.string(agent_max_message);
        if (!r.ok()) break;
        // OpenSSH reads the comment as a C string; a NUL inside one is not a comment it would send.
        if (std::find(comment.begin(), comment.end(), std::byte{0}) != comment.end()) {
            r.fail(errc::malformed);
            break;
        }
        AgentIdentity& id = out.emplace_back();
        id.blob.assign(blob.begin(), blob.end());
        id.comment.assign(as_text(comment));
        id.type = blob_type(blob);
        // Any other type, or an ssh-ed25519 blob that is broken, stays in the list as unusable.
        if (id.type == twoway::ssh_ed25519_name) {
            if (auto key = twoway::PublicKey::from_blob(blob)) id.key = *key;
        }
    }
    if (!r.expect_end()) return fail(r.error());
    return out;
}

Result<std::array<std::byte, 64>> parse_sign_response(Bytes body) {
    Reader r(body);
    expect_type(r, agent_message::sign_response);
    const Bytes signature = r.string(agent_max_message);
    if (!r.expect_end()) return fail(r.error());

    Reader s(signature);
    const Bytes name = s.string(64);
    if (s.ok() && as_text(name) != twoway::ssh_ed25519_name) return fail(errc::unsupported_key_type);
    const Bytes raw = s.string(agent_max_message);
    if (s.ok() && raw.size() != 64) return fail(errc::malformed);
    if (!s.expect_end()) return fail(s.error());
    std::array<std::byte, 64> out{};
    std::copy(raw.begin(), raw.end(), out.begin());
    return out;
}

Status parse_status_reply(Bytes body) {
    Reader r(body);
    expect_type(r, agent_message::success);
    if (!r.expect_end()) return fail(r.error());
    return {};
}

std::vector<std::byte> encode_identities_answer(const std::vector<AgentIdentity>& identities) {
    std::vector<std::byte> out{std::byte{agent_message::identities_answer}};
    put_u32(out, static_cast<std::uint32_t>(identities.size()));
    for (const AgentIdentity& id : identities) {
        put_string(out, id.blob);
        put_string(out, as_bytes(id.comment));
    }
    return out;
}

Result<std::vector<std::byte>> encode_sign_request(Bytes key_blob, Bytes data, std::uint32_t flags) {
    // Sizes first, so that nothing near 4 GiB is ever summed or copied.
    if (key_blob.size() > agent_max_message || data.size() > agent_max_message ||
        1 + 4 + key_blob.size() + 4 + data.size() + 4 > agent_max_message) {
        return fail(make_error_code(AgentError::message_too_large));
    }
    std::vector<std::byte> out{std::byte{agent_message::sign_request}};
    out.reserve(1 + 4 + key_blob.size() + 4 + data.size() + 4);
    put_string(out, key_blob);
    put_string(out, data);
    put_u32(out, flags);
    return out;
}

Result<twoway::SecretBuffer> encode_add_identity(const twoway::PrivateKey& key, std::string_view comment,
                                                 std::optional<std::uint32_t> lifetime_seconds, bool confirm) {
    if (comment.find('\0') != std::string_view::npos) return fail(errc::invalid_argument);
    const bool constrained = lifetime_seconds.has_value() || confirm;
    const std::size_t fixed = 1 + (4 + twoway::ssh_ed25519_name.size()) + (4 + 32) + (4 + 64) + 4 +
                              (lifetime_seconds ? 5 : 0) + (confirm ? 1 : 0);
    if (comment.size() > agent_max_message - fixed) return fail(make_error_code(AgentError::message_too_large));

    // The private half goes straight from the key's secure memory into the request's.
    const twoway::SecretBytes<32> seed = key.seed();
    const auto& pub = key.public_key().raw();
    twoway::SecretBuffer out(fixed + comment.size());
    SpanWriter w(out.span());
    w.u8(constrained ? agent_message::add_id_constrained : agent_message::add_identity)
        .string(as_bytes(twoway::ssh_ed25519_name))
        .string(pub)
        .u32(64)
        .raw(seed.span())
        .raw(pub)
        .string(as_bytes(comment));
    if (lifetime_seconds) w.u8(agent_constraint::lifetime).u32(*lifetime_seconds);
    if (confirm) w.u8(agent_constraint::confirm);
    if (!w.full()) return fail(errc::internal);
    return out;
}

Status verify_agent_signature(const twoway::PublicKey& key, Bytes data, std::span<const std::byte, 64> signature) {
    if (!key.verify(data, signature)) return errc::bad_signature;
    return {};
}

Result<std::string> agent_socket_path(std::optional<std::string_view> identity_agent, const char* ssh_auth_sock) {
    std::string_view path;
    if (identity_agent && *identity_agent != "SSH_AUTH_SOCK") {
        path = *identity_agent;
    } else if (ssh_auth_sock != nullptr) {
        path = ssh_auth_sock;
    }
    if (path.empty() || path == "none") return fail(make_error_code(AgentError::not_configured));
    return std::string(path);
}

// ---- the connection -------------------------------------------------------------------------------

Result<AgentClient> AgentClient::connect(const std::string& path, std::chrono::milliseconds timeout) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path.empty() || path.find('\0') != std::string::npos) return fail(errc::invalid_argument);
    if (path.size() >= sizeof(addr.sun_path)) return fail(std::make_error_code(std::errc::filename_too_long));
    std::memcpy(addr.sun_path, path.data(), path.size());

    // Non-blocking from the start: every wait below is a poll with the deadline.
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) return fail(errno_code(errno));
    AgentClient client(fd, timeout);
    const auto deadline = Clock::now() + timeout;
    for (;;) {
        if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0) return client;
        if (errno == EINTR) continue;
        // A UNIX socket whose listener's backlog is full says EAGAIN and cannot be polled for room: a
        // busy (or stuck) agent; try again until the deadline.
        if (errno != EAGAIN) return fail(std::error_code(errno, std::system_category()));
        if (Clock::now() >= deadline) return fail(make_error_code(AgentError::timeout));
        ::poll(nullptr, 0, 10);
    }
}

AgentClient::AgentClient(AgentClient&& o) noexcept
    : fd_(std::exchange(o.fd_, -1)), timeout_(o.timeout_), broken_(o.broken_) {}

AgentClient& AgentClient::operator=(AgentClient&& o) noexcept {
    if (this != &o) {
        if (fd_ >= 0) ::close(fd_);
        fd_ = std::exchange(o.fd_, -1);
        timeout_ = o.timeout_;
        broken_ = o.broken_;
    }
    return *this;
}

AgentClient::~AgentClient() {
    if (fd_ >= 0) ::close(fd_);
}

Result<std::vector<std::byte>> AgentClient::transact(Bytes request) {
    if (broken_) return fail(broken_);
    if (fd_ < 0) return fail(errc::bad_state);
    if (request.size() > agent_max_message) return fail(make_error_code(AgentError::message_too_large));

    const auto deadline = Clock::now() + timeout_;
    std::array<std::byte, 4> length{};
    SpanWriter(length).u32(static_cast<std::uint32_t>(request.size()));
    std::error_code ec = send_all(fd_, length, deadline);
    if (!ec) ec = send_all(fd_, request, deadline);
    if (!ec) ec = recv_exact(fd_, length, deadline);
    std::vector<std::byte> reply;
    if (!ec) {
        Reader r(length);
        const std::uint32_t n = r.u32();
        // Checked before anything is allocated; the announced bytes are not read, so the stream is
        // out of step from here on, as after any other failure.
        if (n > agent_max_message) {
            ec = make_error_code(AgentError::message_too_large);
        } else {
            reply.resize(n);
            ec = recv_exact(fd_, reply, deadline);
        }
    }
    if (ec) {
        broken_ = ec;
        return fail(ec);
    }
    return reply;
}

Result<std::vector<AgentIdentity>> AgentClient::list_identities() {
    const std::array<std::byte, 1> request{std::byte{agent_message::request_identities}};
    auto reply = transact(request);
    if (!reply) return fail(reply.error());
    return parse_identities_answer(*reply);
}

Result<std::array<std::byte, 64>> AgentClient::sign(Bytes key_blob, Bytes data, std::uint32_t flags) {
    // The key to check the answer with, before the agent is asked anything.
    twoway::PublicKey signer;
    const std::string type = blob_type(key_blob);
    if (type == twoway::ssh_ed25519_name) {
        auto key = twoway::PublicKey::from_blob(key_blob);
        if (!key) return fail(key.error());
        signer = *key;
    } else if (type == twoway::ssh_ed25519_cert_name) {
        auto cert = twoway::parse_certificate(key_blob);
        if (!cert) return fail(cert.error());
        signer = cert->key;
    } else {
        return fail(errc::unsupported_key_type);
    }

    auto request = encode_sign_request(key_blob, data, flags);
    if (!request) return fail(request.error());
    auto reply = transact(*request);
    if (!reply) return fail(reply.error());
    auto signature = parse_sign_response(*reply);
    if (!signature) return fail(signature.error());
    if (auto ok = verify_agent_signature(signer, data, *signature); !ok) return fail(ok.error());
    return signature;
}

Status AgentClient::add_identity(const twoway::PrivateKey& key, std::string_view comment,
                                 std::optional<std::uint32_t> lifetime_seconds, bool confirm) {
    auto request = encode_add_identity(key, comment, lifetime_seconds, confirm);
    if (!request) return fail(request.error());
    auto reply = transact(request->span());
    if (!reply) return fail(reply.error());
    return parse_status_reply(*reply);
}

}  // namespace twoway_client

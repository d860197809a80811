#include "opaque/messages.hpp"

#include <cstdlib>
#include <initializer_list>

#include "wire/reader.hpp"

namespace twoway::opaque {

namespace {

// Appends fixed-size fields to an array, in order.
template <std::size_t N>
class Out {
public:
    Out& put(Bytes b) {
        for (std::byte x : b) a_[at_++] = x;
        return *this;
    }
    std::array<std::byte, N> done() {
        if (at_ != N) std::abort();  // a size constant disagrees with the fields: a bug
        return a_;
    }

private:
    std::array<std::byte, N> a_{};
    std::size_t at_ = 0;
};

// Every element of a message, after the reader is done with it.
Status check_elements(wire::Reader& r, std::initializer_list<const Element*> elements) {
    if (!r.expect_end()) return fail(r.error());
    for (const Element* e : elements) {
        if (auto s = check_element(*e); !s) return s;
    }
    return {};
}

}  // namespace

std::array<std::byte, registration_request_size> encode(const RegistrationRequest& m) {
    return Out<registration_request_size>().put(m.blinded_message).done();
}

std::array<std::byte, registration_response_size> encode(const RegistrationResponse& m) {
    return Out<registration_response_size>().put(m.evaluated_message).put(m.server_public_key).done();
}

std::array<std::byte, registration_record_size> encode(const RegistrationRecord& m) {
    return Out<registration_record_size>()
        .put(m.client_public_key)
        .put(m.masking_key.span())
        .put(m.envelope.nonce)
        .put(m.envelope.auth_tag)
        .done();
}

std::array<std::byte, credential_response_size> encode(const CredentialResponse& m) {
    return Out<credential_response_size>().put(m.evaluated_message).put(m.masking_nonce).put(m.masked_response).done();
}

std::array<std::byte, ke1_size> encode(const KE1& m) {
    return Out<ke1_size>()
        .put(m.credential_request.blinded_message)
        .put(m.auth_request.client_nonce)
        .put(m.auth_request.client_public_keyshare)
        .done();
}

std::array<std::byte, ke2_size> encode(const KE2& m) {
    return Out<ke2_size>()
        .put(encode(m.credential_response))
        .put(m.auth_response.server_nonce)
        .put(m.auth_response.server_public_keyshare)
        .put(m.auth_response.server_mac)
        .done();
}

std::array<std::byte, ke3_size> encode(const KE3& m) { return Out<ke3_size>().put(m.client_mac).done(); }

Result<RegistrationRequest> parse_registration_request(Bytes in) {
    wire::Reader r(in);
    RegistrationRequest m{r.array<element_size>()};
    if (auto s = check_elements(r, {&m.blinded_message}); !s) return fail(s.error());
    return m;
}

Result<RegistrationResponse> parse_registration_response(Bytes in) {
    wire::Reader r(in);
    RegistrationResponse m{r.array<element_size>(), r.array<Npk>()};
    if (auto s = check_elements(r, {&m.evaluated_message, &m.server_public_key}); !s) return fail(s.error());
    return m;
}

Result<RegistrationRecord> parse_registration_record(Bytes in) {
    wire::Reader r(in);
    RegistrationRecord m{r.array<Npk>(), SecretBytes<Nh>(), Envelope{}};
    Bytes masking_key = r.bytes(Nh);
    m.envelope.nonce = r.array<Nn>();
    m.envelope.auth_tag = r.array<Nm>();
    if (auto s = check_elements(r, {&m.client_public_key}); !s) return fail(s.error());
    for (std::size_t i = 0; i < Nh; ++i) m.masking_key.data()[i] = masking_key[i];
    return m;
}

Result<KE1> parse_ke1(Bytes in) {
    wire::Reader r(in);
    KE1 m{};
    m.credential_request.blinded_message = r.array<element_size>();
    m.auth_request.client_nonce = r.array<Nn>();
    m.auth_request.client_public_keyshare = r.array<Npk>();
    if (auto s = check_elements(r, {&m.credential_request.blinded_message, &m.auth_request.client_public_keyshare});
        !s) {
        return fail(s.error());
    }
    return m;
}

Result<KE2> parse_ke2(Bytes in) {
    wire::Reader r(in);
    KE2 m{};
    m.credential_response.evaluated_message = r.array<element_size>();
    m.credential_response.masking_nonce = r.array<Nn>();
    m.credential_response.masked_response = r.array<masked_response_size>();
    m.auth_response.server_nonce = r.array<Nn>();
    m.auth_response.server_public_keyshare = r.array<Npk>();
    m.auth_response.server_mac = r.array<Nm>();
    if (auto s = check_elements(r, {&m.credential_response.evaluated_message,
                                    &m.auth_response.server_public_keyshare});
        !s) {
        return fail(s.error());
    }
    return m;
}

Result<KE3> parse_ke3(Bytes in) {
    wire::Reader r(in);
    KE3 m{r.array<Nm>()};
    if (!r.expect_end()) return fail(r.error());
    return m;
}

}  // namespace twoway::opaque

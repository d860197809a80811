// Fuzz target: a reply body from whatever listens on SSH_AUTH_SOCK (client/twoway/agent.hpp). The whole
// input goes to each reply parser, since the type byte it starts with is what picks the parser in the
// client too. Seeds (fuzz/corpus/agent_reply/) are replies captured from OpenSSH's ssh-agent with
// Ed25519, RSA, ECDSA keys and a certificate loaded, plus handcrafted edges: fuzz/agent/make_seeds.py.
//
// Beyond "no crash": errors come from the library's or the agent's category; what parses re-encodes to
// exactly the input (so nothing was skipped or invented), a list holds at most 2048 identities, and a
// usable identity is exactly a plain ssh-ed25519 blob of its key.
#include <cstddef>
#include <cstdint>
#include <algorithm>
#include <cstdlib>
#include <span>
#include <string_view>
#include <vector>

#include <twoway/error.hpp>
#include <twoway/key.hpp>

#include "../../client/twoway/agent.hpp"

namespace {
void check(bool ok) {
    if (!ok) std::abort();
}
void check_error(std::error_code ec) {
    check(ec.category() == twoway::twoway_category() || ec.category() == twoway_client::agent_category());
    check(ec != twoway::errc::internal);
}
void put_string(std::vector<std::byte>& out, std::span<const std::byte> b) {
    const auto n = static_cast<std::uint32_t>(b.size());
    for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<std::byte>((n >> shift) & 0xff));
    out.insert(out.end(), b.begin(), b.end());
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace twoway_client;
    const std::span<const std::byte> body(reinterpret_cast<const std::byte*>(data), size);

    if (auto ids = parse_identities_answer(body)) {
        check(ids->size() <= agent_max_identities);
        const auto again = encode_identities_answer(*ids);
        check(again.size() == size && std::equal(again.begin(), again.end(), body.begin()));
        for (const auto& id : *ids) {
            if (id.usable()) {
                check(id.type == twoway::ssh_ed25519_name);
                check(id.key->blob() == id.blob);
            }
        }
    } else {
        check_error(ids.error());
    }

    if (auto sig = parse_sign_response(body)) {
        std::vector<std::byte> inner;
        const std::string_view name = twoway::ssh_ed25519_name;
        put_string(inner, {reinterpret_cast<const std::byte*>(name.data()), name.size()});
        put_string(inner, *sig);
        std::vector<std::byte> again{std::byte{agent_message::sign_response}};
        put_string(again, inner);
        check(again.size() == size && std::equal(again.begin(), again.end(), body.begin()));
    } else {
        check_error(sig.error());
    }

    if (auto st = parse_status_reply(body)) {
        check(size == 1 && data[0] == agent_message::success);
    } else {
        check_error(st.error());
    }
    return 0;
}

// Password mode's three plaintexts (PROTOCOL.md 4.8): client_password, server_password,
// client_password_finish. Structure only; OPAQUE's elements are checked by opaque::parse_ke*.
#include <sodium.h>

#include "handshake/messages.hpp"

namespace twoway::handshake {

Result<ClientPassword> parse_client_password(wire::Bytes plaintext) {
    wire::Reader r(plaintext);
    ClientPassword m;
    m.account = r.text(max_account_size);
    if (r.ok() && m.account.empty()) r.fail(errc::malformed);
    m.account_end = r.consumed();
    m.ke1 = r.bytes(ke1_wire_size);
    if (!r.expect_end()) return fail(errc::malformed);
    return m;
}

std::vector<std::byte> write_client_password(std::string_view account, wire::Bytes ke1) {
    wire::Writer w(4 + account.size() + ke1.size());
    w.string(account).bytes(ke1);
    return w.take();
}

bool password_ksf_acceptable(std::uint32_t ops, std::uint32_t mem_kib) noexcept {
    const std::uint64_t mem = static_cast<std::uint64_t>(mem_kib) * 1024;
    return ops >= crypto_pwhash_argon2id_OPSLIMIT_MIN && ops <= max_password_ops &&
           mem >= crypto_pwhash_argon2id_MEMLIMIT_MIN && mem_kib <= max_password_mem_kib;
}

Result<ServerPassword> parse_server_password(wire::Bytes plaintext) {
    wire::Reader r(plaintext);
    ServerPassword m;
    m.ksf = r.u8();
    m.ops = r.u32();
    m.mem_kib = r.u32();
    m.ke2 = r.bytes(ke2_wire_size);
    if (!r.expect_end()) return fail(errc::malformed);
    if (m.ksf != ksf_argon2id || !password_ksf_acceptable(m.ops, m.mem_kib)) return fail(errc::malformed);
    return m;
}

std::vector<std::byte> write_server_password(std::uint32_t ops, std::uint32_t mem_kib, wire::Bytes ke2) {
    wire::Writer w(ksf_header_size + ke2.size());
    w.u8(ksf_argon2id).u32(ops).u32(mem_kib).bytes(ke2);
    return w.take();
}

Result<ClientPasswordFinish> parse_client_password_finish(wire::Bytes plaintext) {
    wire::Reader r(plaintext);
    ClientPasswordFinish m;
    m.ke3 = r.bytes(ke3_wire_size);
    m.finished = r.bytes(finished_size);
    if (!r.expect_end()) return fail(errc::malformed);
    return m;
}

}  // namespace twoway::handshake

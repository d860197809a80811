// Revocation files as OpenSSH reads RevokedKeys (sshd) and RevokedHostKeys (ssh): sshkey_check_revoked
// tries the file as a KRL and, only when it lacks the KRL magic, as a text list of keys. Both readers
// are the project's own (krl.cpp, revocation_list.cpp); this file dispatches between them and decides.
// Pure: the file's bytes come from load_revocation_file (trust_files.cpp).
#include <string>

#include <twoway/krl.hpp>
#include <twoway/trust.hpp>

#include "wire/reader.hpp"

namespace twoway {

RevocationFile parse_revocation_file(std::string_view path, std::span<const std::byte> data,
                                     const TrustLimits& limits) {
    if (!is_krl(data)) return RevocationFile{parse_revocation_list(path, wire::as_text(data), limits), std::nullopt};
    RevocationFile out;
    out.list.path = std::string(path);
    std::string why;
    auto krl = parse_krl(data, &why);
    if (!krl) {
        if (why.empty()) why = krl.error().message();
        out.list.problems.push_back(out.list.path + ": an OpenSSH KRL twoway cannot use: " + why);
        out.list.problem_count = 1;
        return out;
    }
    out.krl = std::move(*krl);
    return out;
}

RevocationVerdict check_revoked(const RevocationFile& file, const PublicKey& key, const Certificate* certificate) {
    RevocationVerdict v;
    if (!file.usable()) {
        v.status = RevocationStatus::unusable;
        v.problems = file.list.problems;
        v.read_error = file.list.read_error;
        return v;
    }
    v.status = RevocationStatus::revoked;
    v.where = Location{file.list.path, 0};
    if (file.krl) {
        // ssh_krl_check_key: the key (blob, SHA-1, SHA-256), then for a certificate its serial and key id
        // under its CA and any CA, then its CA key as a plain key.
        auto m = krl_match(*file.krl, key);
        if (!m && certificate != nullptr) m = krl_match(*file.krl, *certificate);
        if (m) {
            v.detail = std::move(m->detail);
            v.krl_match = m->kind;
            return v;
        }
    } else {
        // sshkey_in_file(key, file, 0, 1): the key, and for a certificate the key it certifies or its CA key.
        auto where = find_revoked(file.list, key);
        if (!where && certificate != nullptr) where = find_revoked(file.list, certificate->key);
        if (where) {
            v.where = std::move(*where);
            v.detail = "key";
            return v;
        }
        if (certificate != nullptr) {
            if (auto ca = find_revoked(file.list, certificate->signature_key)) {
                v.where = std::move(*ca);
                v.detail = "CA key";
                return v;
            }
        }
    }
    v = RevocationVerdict{};
    v.status = RevocationStatus::not_revoked;
    return v;
}

}  // namespace twoway

#include "sshd_keywords.hpp"

#include <array>

#include <twoway/text.hpp>

namespace twowayd {

namespace {

constexpr std::array<std::string_view, 0> any{};
constexpr std::array<std::string_view, 1> only_yes{"yes"};
constexpr std::array<std::string_view, 1> only_any{"any"};
constexpr std::array<std::string_view, 1> only_none{"none"};
constexpr std::array<std::string_view, 2> none_or_zero{"none", "0"};
constexpr std::array<std::string_view, 2> publickey{"any", "publickey"};

constexpr std::string_view deprecated = "deprecated or removed in OpenSSH";
constexpr std::string_view no_passwords = "twoway authenticates with keys only";
constexpr std::string_view no_kerberos = "twoway has no Kerberos or GSSAPI authentication";
constexpr std::string_view own_crypto = "twoway's cryptography is fixed (docs/PROTOCOL.md), not SSH's";
constexpr std::string_view no_hostbased = "twoway has no host-based authentication";
constexpr std::string_view no_channel = "twoway has no such channel or forwarding";

constexpr ForeignKeyword table[] = {
    {"AFSTokenPassing", any, false, deprecated},
    {"AddressFamily", only_any, false, "not supported yet: listen only where wanted with ListenAddress"},
    {"AllowAgentForwarding", any, true, no_channel},
    {"AllowStreamLocalForwarding", any, true, no_channel},
    {"AuthenticationMethods", publickey, true,
     "not supported yet: twoway has one method (publickey); a list requiring more would be ignored"},
    {"AuthorizedKeysFile2", any, true, deprecated},
    {"CASignatureAlgorithms", any, true, own_crypto},
    {"ChallengeResponseAuthentication", any, true, no_passwords},
    {"ChannelTimeout", only_none, true, "not supported yet: idle channels would stay open"},
    {"CheckMail", any, false, deprecated},
    {"Ciphers", any, false, own_crypto},
    {"Compression", any, false, "twoway does not compress"},
    {"DSAAuthentication", only_yes, false, "public keys are twoway's only method: \"no\" would be ignored"},
    {"DebianBanner", any, false, "twoway sends no version banner"},
    {"ExposeAuthInfo", any, true, "twoway does not write SSH_USER_AUTH"},
    {"FingerprintHash", any, false, "twowayd logs SHA256 fingerprints"},
    {"GSSAPIAuthentication", any, true, no_kerberos},
    {"GSSAPICleanupCredentials", any, false, no_kerberos},
    {"GSSAPIKeyExchange", any, false, no_kerberos},
    {"GSSAPIKexAlgorithms", any, false, no_kerberos},
    {"GSSAPIStoreCredentialsOnRekey", any, false, no_kerberos},
    {"GSSAPIStrictAcceptorCheck", any, false, no_kerberos},
    {"HostDSAKey", any, false, "twoway's host keys are Ed25519 (HostKey)"},
    {"HostKeyAgent", any, false, "twowayd reads its host keys from files (HostKey)"},
    {"HostKeyAlgorithms", any, false, own_crypto},
    {"HostbasedAcceptedAlgorithms", any, true, no_hostbased},
    {"HostbasedAcceptedKeyTypes", any, true, no_hostbased},
    {"HostbasedAuthentication", any, true, no_hostbased},
    {"HostbasedUsesNameFromPacketOnly", any, true, no_hostbased},
    {"IPQoS", any, true, "twowayd sets no IP QoS"},
    {"IgnoreRhosts", any, true, "twoway reads no .rhosts or .shosts"},
    {"IgnoreUserKnownHosts", any, false, no_hostbased},
    {"KbdInteractiveAuthentication", any, true, no_passwords},
    {"KeepAlive", any, false, "TCP keep-alives are the kernel's default"},
    {"KerberosAuthentication", any, true, no_kerberos},
    {"KerberosGetAFSToken", any, false, no_kerberos},
    {"KerberosOrLocalPasswd", any, false, no_kerberos},
    {"KerberosTgtPassing", any, false, deprecated},
    {"KerberosTicketCleanup", any, false, no_kerberos},
    {"KexAlgorithms", any, false, own_crypto},
    {"KeyRegenerationInterval", any, false, deprecated},
    {"LogVerbose", any, true, "twowayd has no per-function logging"},
    {"MACs", any, false, own_crypto},
    {"ModuliFile", any, false, own_crypto},
    {"PAMAuthenticationViaKbdInt", any, false, deprecated},
    {"PermitEmptyPasswords", any, true, no_passwords},
    {"PermitTunnel", any, true, no_channel},
    {"PermitUserRC", any, true, "twowayd runs no ~/.ssh/rc"},
    {"PrintLastLog", any, false, "twowayd keeps no lastlog yet"},
    {"Protocol", any, false, deprecated},
    {"PubkeyAcceptedAlgorithms", any, true, own_crypto},
    {"PubkeyAcceptedKeyTypes", any, true, own_crypto},
    {"PubkeyAuthOptions", any, true, "twoway has no FIDO keys"},
    {"PubkeyAuthentication", only_yes, true, "public keys are twoway's only method: \"no\" would be ignored"},
    {"RDomain", only_none, true, "not supported yet: routing domains"},
    {"RSAAuthentication", any, true, deprecated},
    {"RekeyLimit", any, true, "twoway rekeys by its own schedule (docs/PROTOCOL.md)"},
    {"RequiredRSASize", any, true, "twoway has no RSA keys"},
    {"ReverseMappingCheck", any, false, deprecated},
    {"RhostsAuthentication", any, false, deprecated},
    {"RhostsRSAAuthentication", any, true, deprecated},
    {"SecurityKeyProvider", any, false, "twoway has no FIDO keys"},
    {"ServerKeyBits", any, false, deprecated},
    {"SkeyAuthentication", any, true, no_passwords},
    {"StreamLocalBindMask", any, true, no_channel},
    {"StreamLocalBindUnlink", any, true, no_channel},
    {"TCPKeepAlive", any, false, "TCP keep-alives are the kernel's default"},
    {"UnusedConnectionTimeout", none_or_zero, true, "not supported yet: unused connections would stay open"},
    {"UseDNS", any, false, "twowayd resolves no client addresses (as UseDNS no)"},
    {"UseLogin", any, false, deprecated},
    {"UsePrivilegeSeparation", any, false, deprecated},
    {"VerifyReverseMapping", any, false, deprecated},
    {"VersionAddendum", any, false, "twoway sends no version banner"},
    {"X11DisplayOffset", any, true, "twoway has no X11 forwarding"},
    {"X11Forwarding", any, true, "twoway has no X11 forwarding"},
    {"X11UseLocalhost", any, true, "twoway has no X11 forwarding"},
    {"XAuthLocation", any, false, "twoway has no X11 forwarding"},
};

}  // namespace

const ForeignKeyword* find_foreign_keyword(std::string_view name) noexcept {
    for (const auto& k : table) {
        if (twoway::iequals(k.name, name)) return &k;
    }
    return nullptr;
}

}  // namespace twowayd

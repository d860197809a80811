#include "policy.hpp"

#include <grp.h>

#include <cerrno>

namespace twowayd {

std::vector<std::string> account_group_names(const Account& account) {
    std::vector<std::string> names;
    std::vector<char> buf(16 * 1024);
    const auto add = [&](gid_t gid) {
        struct group gr {};
        struct group* found = nullptr;
        for (;;) {
            const int r = ::getgrgid_r(gid, &gr, buf.data(), buf.size(), &found);
            if (r == ERANGE && buf.size() < (1U << 20)) {
                buf.resize(buf.size() * 2);
                continue;
            }
            break;
        }
        if (found == nullptr || found->gr_name == nullptr) return;
        std::string name = found->gr_name;
        for (const auto& n : names) {
            if (n == name) return;
        }
        names.push_back(std::move(name));
    };
    add(account.gid);
    for (gid_t g : account.groups) add(g);
    return names;
}

ConnectionFacts connection_facts(const DaemonConfig& config, const Peer& peer, const std::string& user,
                                 const Account* account) {
    ConnectionFacts f;
    f.user = user;
    f.address = parse_ip_address(peer.ip);
    // An IPv4 client on a dual-stack socket arrives as ::ffff:a.b.c.d: matched as the IPv4 address.
    if (peer.ip.starts_with("::ffff:")) {
        if (auto v4 = parse_ip_address(std::string_view(peer.ip).substr(7))) f.address = v4;
    }
    f.host = peer.ip;
    f.local_address = parse_ip_address(peer.local_ip);
    f.local_port = peer.local_port;
    if (account != nullptr && needs_groups(config)) f.groups = account_group_names(*account);
    return f;
}

}  // namespace twowayd

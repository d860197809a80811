// The edge of the access policy (daemon/config/access.hpp): the facts about a connection, gathered from
// the socket's addresses and the account's groups (NSS), for the pure Match and access decisions.
#pragma once

#include <string>
#include <vector>

#include "access.hpp"
#include "account.hpp"
#include "async.hpp"

namespace twowayd {

// The names of the account's groups (primary and supplementary), as getgrgid_r gives them; a group
// without a name is left out (as sshd's ga_init does).
[[nodiscard]] std::vector<std::string> account_group_names(const Account& account);

// The facts for the access policy: the user, their groups (only looked up when the configuration
// needs them), the client's and our address and port. twowayd resolves no names: the host is the
// client's address's text.
[[nodiscard]] ConnectionFacts connection_facts(const DaemonConfig& config, const Peer& peer, const std::string& user,
                                               const Account* account);

}  // namespace twowayd

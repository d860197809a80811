#include "auth.hpp"

#include "terminal.hpp"

namespace twoway_client {

AuthPlan plan_authentication(const AuthFacts& f) {
    AuthPlan plan;
    std::string why;
    for (AuthMethod m : f.preferred) {
        std::string problem;
        switch (m) {
            case AuthMethod::publickey:
                if (!f.identity) problem = f.identity_problem;
                break;
            case AuthMethod::password:
                if (!f.password_authentication) {
                    problem = "PasswordAuthentication is no";
                } else if (f.batch_mode) {
                    problem = "BatchMode is set";
                } else if (f.password_prompts == 0) {
                    problem = "NumberOfPasswordPrompts is 0";
                } else if (!f.terminal) {
                    problem = "no terminal to ask for it on";
                }
                break;
        }
        if (problem.empty()) {
            plan.methods.push_back(m);
        } else {
            why += (why.empty() ? "" : "; ") + std::string(auth_method_name(m)) + ": " + problem;
        }
    }
    if (plan.methods.empty()) {
        plan.why_none = f.preferred.empty() ? "PreferredAuthentications names no method twoway knows" : why;
    }
    return plan;
}

std::string method_list(const std::vector<AuthMethod>& methods) {
    std::string out;
    for (AuthMethod m : methods) out += (out.empty() ? "" : ",") + std::string(auth_method_name(m));
    return out;
}

std::optional<twoway::SecretBuffer> read_password(const std::string& user, const std::string& host) {
    auto tty = terminal::Tty::open();
    if (!tty) return std::nullopt;
    auto typed = tty->read_secret(user + "@" + host + "'s password: ");
    if (!typed) return std::nullopt;
    return std::move(*typed);
}

}  // namespace twoway_client

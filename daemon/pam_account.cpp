// The PAM account phase (pam.hpp): the daemon's side, which runs the helper and reads its verdict, and
// the helper's side, which asks pam_acct_mgmt as sshd's do_pam_account does.
#include "pam.hpp"

#include <sys/prctl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "child_program.hpp"
#include "log.hpp"
#include "pam_conv.hpp"
#include "server.hpp"

namespace twowayd {

extern "C" int twowayd_pam_conversation(int n, const struct pam_message** msg, struct pam_response** resp,
                                        void* appdata_ptr) {
    *resp = nullptr;
    if (n <= 0 || n > PAM_MAX_NUM_MSG) return PAM_CONV_ERR;
    auto* messages = static_cast<PamMessages*>(appdata_ptr);
    auto* reply = static_cast<pam_response*>(std::calloc(static_cast<std::size_t>(n), sizeof(pam_response)));
    if (reply == nullptr) return PAM_BUF_ERR;
    for (int i = 0; i < n; ++i) {
        switch (msg[i]->msg_style) {
            case PAM_TEXT_INFO:
            case PAM_ERROR_MSG:
                if (messages != nullptr && msg[i]->msg != nullptr) {
                    messages->text += msg[i]->msg;
                    messages->text += '\n';
                }
                break;
            default:
                // A prompt (a password, a new password): nothing to answer with over a key login.
                std::free(reply);
                return PAM_CONV_ERR;
        }
    }
    *resp = reply;  // no responses, as sshd's store_conv: every resp is NULL
    return PAM_SUCCESS;
}

namespace {

// The helper's verdict words (parse_pam_account_output reads them back).
constexpr std::string_view word_allowed = "allowed";
constexpr std::string_view word_expired = "password-expired";
constexpr std::string_view word_refused = "refused ";
constexpr std::string_view word_failed = "failed ";

int print_verdict(std::string_view word, const char* text = "") {
    std::printf("%.*s%s\n", static_cast<int>(word.size()), word.data(), text);
    return std::fflush(stdout) == 0 ? 0 : 1;
}

// PAM's text as one line (its control characters escaped, as the log would).
std::string one_line(const char* text) { return escape_controls(text != nullptr ? text : "(unknown PAM error)"); }

}  // namespace

int pam_account_main(int argc, char** argv) {
    // twowayd --pam-account SERVICE USER RHOST CONNECTION
    if (argc != 6) {
        std::fprintf(stderr, "twowayd: %s is for twowayd's own use\n", argv[1]);
        return 2;
    }
    (void)::prctl(PR_SET_NAME, "twowayd-account", 0, 0, 0);  // in ps, rather than "exe"
    const char* service = argv[2];
    const char* user = argv[3];
    PamMessages messages;
    const pam_conv conv{twowayd_pam_conversation, &messages};
    pam_handle_t* pamh = nullptr;
    int rc = ::pam_start(service, user, &conv, &pamh);
    if (rc != PAM_SUCCESS) {
        return print_verdict(word_failed, ("pam_start: " + one_line(::pam_strerror(pamh, rc))).c_str());
    }
    const std::string connection = std::string("TWOWAY_CONNECTION=") + argv[5];
    if ((rc = ::pam_set_item(pamh, PAM_RHOST, argv[4])) != PAM_SUCCESS ||
        (rc = ::pam_set_item(pamh, PAM_TTY, "ssh")) != PAM_SUCCESS ||
        (rc = ::pam_putenv(pamh, connection.c_str())) != PAM_SUCCESS) {
        const std::string why = "pam_set_item: " + one_line(::pam_strerror(pamh, rc));
        ::pam_end(pamh, rc);
        return print_verdict(word_failed, why.c_str());
    }
    rc = ::pam_acct_mgmt(pamh, 0);
    const std::string text = one_line(::pam_strerror(pamh, rc));
    ::pam_end(pamh, rc);
    // As sshd's do_pam_account: success, or a password that must be changed first, lets the key in.
    if (rc == PAM_SUCCESS) return print_verdict(word_allowed);
    if (rc == PAM_NEW_AUTHTOK_REQD) return print_verdict(word_expired);
    return print_verdict(word_refused, text.c_str());
}

PamAccountVerdict parse_pam_account_output(std::string_view output) {
    PamAccountVerdict v;
    if (!output.ends_with('\n') || output.find('\n') != output.size() - 1) {
        v.reason = "unexpected output from the PAM helper";
        return v;
    }
    output.remove_suffix(1);
    if (output == word_allowed) {
        v.kind = PamAccountVerdict::Kind::allowed;
    } else if (output == word_expired) {
        v.kind = PamAccountVerdict::Kind::password_expired;
    } else if (output.starts_with(word_refused)) {
        v.kind = PamAccountVerdict::Kind::refused;
        v.reason = std::string(output.substr(word_refused.size()));
    } else if (output.starts_with(word_failed)) {
        v.reason = std::string(output.substr(word_failed.size()));
    } else {
        v.reason = "unexpected output from the PAM helper";
    }
    return v;
}

awaitable<PamAccountVerdict> pam_account_check(Server& server, const Account& account, PamFacts facts) {
    SpawnRequest req;
    // The helper runs as the daemon does (root): PAM's account modules read /etc/shadow and the like.
    req.switch_identity = false;
    req.path = "/proc/self/exe";
    req.argv = {"twowayd", std::string(pam_account_mode), facts.service, account.name, facts.rhost, facts.connection};
    req.env = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C"};
    const ProgramResult ran = co_await run_program(server, std::move(req), account,
                                                   ProgramLimits{pam_account_timeout, 64 * 1024});
    if (!ran.ok) {
        PamAccountVerdict v;
        v.reason = "the PAM account helper " + ran.problem;
        co_return v;
    }
    co_return parse_pam_account_output(ran.output);
}

}  // namespace twowayd

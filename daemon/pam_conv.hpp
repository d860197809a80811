// The PAM conversation of both helpers (pam.hpp): messages are collected (pam_motd's text, a module's
// warning), prompts are refused with PAM_CONV_ERR, since a key login has no password to give.
#pragma once

#include <security/pam_appl.h>

#include <string>

namespace twowayd {

struct PamMessages {
    std::string text;  // every PAM_TEXT_INFO and PAM_ERROR_MSG, each followed by a newline
};

// The conversation function; appdata_ptr is a PamMessages.
extern "C" int twowayd_pam_conversation(int n, const struct pam_message** msg, struct pam_response** resp,
                                        void* appdata_ptr);

}  // namespace twowayd

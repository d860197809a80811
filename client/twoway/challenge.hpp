// The first-contact challenge: before twoway trusts a host it has never seen, the person must type a
// few characters of the host key's fingerprint, at positions chosen at random now, from a copy they
// obtained out of band (the host's operator reads it from twowayd's start log or from
// `twoway-keygen -l -f /etc/twoway/host_ed25519_key.pub`). Those characters are hidden on screen, so
// the answer cannot be copied from the key the network just presented: only a person holding the real
// fingerprint can answer, and a reflexive "yes" never does. docs/twoway.md explains the design.
//
// The pure part (Challenge) draws the positions and checks answers; ask_first_contact() holds the
// conversation on /dev/tty.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include <twoway/key.hpp>
#include <twoway/random.hpp>

namespace twoway_client {

inline constexpr std::size_t challenge_characters = 5;
inline constexpr int challenge_attempts = 3;

class Challenge {
public:
    // fingerprint: "SHA256:" + base64 (fingerprint_sha256()). count distinct positions of the base64
    // part, drawn uniformly from rng, kept in increasing order.
    Challenge(std::string fingerprint, twoway::Rng& rng, std::size_t count = challenge_characters);

    // The fingerprint with the asked characters replaced by '_' ("SHA256:ab_d...").
    [[nodiscard]] std::string masked() const;
    // A line to print under masked(): the number (1..count) of each hidden character under it.
    [[nodiscard]] std::string markers() const;
    // Positions in the base64 part, 1-based, for the prompt.
    [[nodiscard]] const std::vector<std::size_t>& positions() const noexcept { return positions_; }

    enum class Verdict {
        match,              // the hidden characters, in order, or the whole fingerprint
        refused,            // empty, "no", "n": the person declines
        reflexive,          // "yes", "y", "ok" and friends: not an answer to this question
        other_fingerprint,  // a whole fingerprint (with or without "SHA256:"), not this key's
        wrong,              // anything else
    };
    // Blanks in the answer are ignored; the comparison is case-sensitive (base64 is). A whole
    // fingerprint pasted from the person's copy is accepted, as ssh accepts one at its question: it is
    // the full comparison the hidden characters stand for, and the screen never shows it whole, so it
    // cannot have been copied from the key the network presented.
    [[nodiscard]] Verdict check(std::string_view answer) const;

private:
    std::string fingerprint_;
    std::size_t prefix_ = 0;              // length of "SHA256:"
    std::vector<std::size_t> positions_;  // 1-based, into the part after the prefix
};

struct FirstContact {
    std::string host;  // as known_hosts names it ("[127.0.0.1]:4422" or "example.org")
    twoway::PublicKey key;
};

// Asks on /dev/tty. True when the person typed the right characters; false when they declined, failed
// every attempt, or the terminal went away (the caller then says "Host key verification failed.").
// Every message goes to the terminal.
[[nodiscard]] bool ask_first_contact(const FirstContact& contact, twoway::Rng& rng);

}  // namespace twoway_client

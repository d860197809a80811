#include "challenge.hpp"

#include <algorithm>
#include <array>
#include <cstdint>

#include <twoway/key.hpp>

#include "terminal.hpp"

namespace twoway_client {

using twoway::Rng;

namespace {

// A uniform number below bound (rejection sampling, so no value is favoured).
std::size_t uniform(Rng& rng, std::size_t bound) {
    const std::uint32_t limit = UINT32_MAX - UINT32_MAX % static_cast<std::uint32_t>(bound);
    for (;;) {
        std::array<std::byte, 4> b{};
        rng.fill(b);
        const std::uint32_t v = static_cast<std::uint32_t>(b[0]) | static_cast<std::uint32_t>(b[1]) << 8 |
                                static_cast<std::uint32_t>(b[2]) << 16 | static_cast<std::uint32_t>(b[3]) << 24;
        if (v < limit) return v % bound;
    }
}

std::string strip_blanks(std::string_view s) {
    std::string out;
    for (char c : s) {
        if (c != ' ' && c != '\t') out += c;
    }
    return out;
}

std::string lower(std::string s) {
    for (char& c : s) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    return s;
}

std::string join_positions(const std::vector<std::size_t>& p) {
    std::string out;
    for (std::size_t i = 0; i < p.size(); ++i) {
        if (i > 0) out += i + 1 == p.size() ? " and " : ", ";
        out += std::to_string(p[i]);
    }
    return out;
}

}  // namespace

Challenge::Challenge(std::string fingerprint, Rng& rng, std::size_t count) : fingerprint_(std::move(fingerprint)) {
    const auto colon = fingerprint_.find(':');
    prefix_ = colon == std::string::npos ? 0 : colon + 1;
    const std::size_t n = fingerprint_.size() - prefix_;
    count = std::min(count, n);
    while (positions_.size() < count) {
        const std::size_t p = uniform(rng, n) + 1;
        if (std::find(positions_.begin(), positions_.end(), p) == positions_.end()) positions_.push_back(p);
    }
    std::sort(positions_.begin(), positions_.end());
}

std::string Challenge::masked() const {
    std::string out = fingerprint_;
    for (std::size_t p : positions_) out[prefix_ + p - 1] = '_';
    return out;
}

std::string Challenge::markers() const {
    std::string out(fingerprint_.size(), ' ');
    for (std::size_t i = 0; i < positions_.size(); ++i) {
        out[prefix_ + positions_[i] - 1] = static_cast<char>('1' + i % 9);
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    return out;
}

Challenge::Verdict Challenge::check(std::string_view answer) const {
    const std::string a = strip_blanks(answer);
    std::string expected;
    for (std::size_t p : positions_) expected += fingerprint_[prefix_ + p - 1];
    if (a == expected) return Verdict::match;
    const std::string_view body = std::string_view(fingerprint_).substr(prefix_);
    if (a == fingerprint_ || a == body) return Verdict::match;
    if ((prefix_ > 0 && lower(a).starts_with(lower(fingerprint_.substr(0, prefix_)))) || a.size() == body.size()) {
        return Verdict::other_fingerprint;
    }
    const std::string l = lower(a);
    if (l.empty() || l == "no" || l == "n") return Verdict::refused;
    static constexpr std::array reflexive{"yes", "y", "ok", "okay", "sure", "yep", "yeah", "true", "continue"};
    for (const char* r : reflexive) {
        if (l == r) return Verdict::reflexive;
    }
    return Verdict::wrong;
}

bool ask_first_contact(const FirstContact& contact, Rng& rng) {
    auto tty = terminal::Tty::open();
    if (!tty) return false;
    const std::string fingerprint = fingerprint_sha256(contact.key);
    const Challenge challenge(fingerprint, rng);
    const std::size_t n = challenge.positions().size();
    const std::string count = std::to_string(n);

    std::string intro;
    intro += "The authenticity of host '" + contact.host + "' can't be established.\n";
    intro += "twoway has no record of this host, so it cannot yet tell it from an impostor.\n";
    intro += "Its ED25519 key fingerprint, with " + count + " characters hidden:\n\n";
    intro += "    " + challenge.masked() + "\n";
    intro += "    " + challenge.markers() + "\n\n";
    intro += randomart(contact.key) + "\n\n";
    intro += "To trust this host, take the fingerprint its operator gave you through another channel\n";
    intro += "(on the host: twoway-keygen -l -f /etc/twoway/host_ed25519_key.pub, or twowayd's start log)\n";
    intro += "and type its characters at the marked places 1 to " + count + " (positions " +
             join_positions(challenge.positions()) + " after \"SHA256:\"), in order,\n";
    intro += "or paste the whole fingerprint from that copy.\n";
    intro += "If you have no such copy, answer no.\n";
    tty->write(intro);

    for (int attempt = 1; attempt <= challenge_attempts; ++attempt) {
        tty->write("Characters 1-" + count + " from your copy of the fingerprint (or no): ");
        auto answer = tty->read_line(256);
        if (!answer) {
            tty->write("\n");
            return false;
        }
        switch (challenge.check(*answer)) {
            case Challenge::Verdict::match: return true;
            case Challenge::Verdict::refused: return false;
            case Challenge::Verdict::reflexive:
                tty->write("\"" + *answer + "\" is not enough for a host seen for the first time. Type the " + count +
                           " hidden characters of the\nfingerprint, read from a copy you got from the host's operator, "
                           "not from this screen.\nAn unverified first connection is exactly what a man in the middle "
                           "needs; without a copy, answer no.\n");
                break;
            case Challenge::Verdict::other_fingerprint:
                tty->write("That fingerprint is not the one of the key this host presented. If your copy is right, "
                           "this is not\nthe host you expect: answer no.\n");
                break;
            case Challenge::Verdict::wrong:
                tty->write("Those characters do not match the key this host presented. Check that you read positions " +
                           join_positions(challenge.positions()) +
                           "\nof the right fingerprint. If your copy is right, this is not the host you expect: answer "
                           "no.\n");
                break;
        }
    }
    tty->write("Too many wrong answers.\n");
    return false;
}

}  // namespace twoway_client

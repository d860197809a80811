// Fingerprints and randomart, exactly as OpenSSH renders them, so a user can compare what twoway shows
// with what ssh-keygen shows for the same key.
#include <twoway/key.hpp>

#include <algorithm>
#include <array>

#include "crypto/crypto.hpp"

namespace twoway {

namespace {
// The randomart field: 17 columns by 9 rows (odd, so the walk starts in the exact middle).
constexpr int field_w = 17;
constexpr int field_h = 9;
// Symbols for a cell visited 0, 1, 2, ... times; the last two mark the start and the end of the walk.
constexpr std::string_view symbols = " .o+=*BOX@%&#/^SE";
constexpr int start_mark = static_cast<int>(symbols.size()) - 2;  // 'S'
constexpr int end_mark = static_cast<int>(symbols.size()) - 1;    // 'E'

// "+" then label centred in dashes (extra dash on the right when uneven) then "+".
std::string frame_line(std::string_view label) {
    const int pad = field_w - static_cast<int>(label.size());
    const int left = pad / 2;
    std::string out = "+";
    out.append(static_cast<std::size_t>(left), '-');
    out += label;
    out.append(static_cast<std::size_t>(pad - left), '-');
    out += '+';
    return out;
}
}  // namespace

std::string fingerprint_sha256(const PublicKey& key) {
    const auto digest = crypto::sha256(key.blob());
    return "SHA256:" + crypto::base64_encode(digest, /*padded=*/false);
}

std::string randomart(const PublicKey& key) {
    const auto digest = crypto::sha256(key.blob());
    std::array<std::array<int, field_h>, field_w> visits{};
    int x = field_w / 2;
    int y = field_h / 2;
    for (std::byte b : digest) {
        auto bits = static_cast<unsigned>(b);
        // Each byte is four moves, lowest bit pair first: bit 0 picks left/right, bit 1 up/down. A
        // move into a wall is clamped, as OpenSSH does.
        for (int step = 0; step < 4; ++step, bits >>= 2) {
            x = std::clamp(x + ((bits & 1U) != 0 ? 1 : -1), 0, field_w - 1);
            y = std::clamp(y + ((bits & 2U) != 0 ? 1 : -1), 0, field_h - 1);
            // Counts saturate below the start/end marks.
            if (visits[x][y] < start_mark - 1) ++visits[x][y];
        }
    }
    visits[field_w / 2][field_h / 2] = start_mark;
    visits[x][y] = end_mark;

    std::string out = frame_line("[ED25519 256]");
    for (int row = 0; row < field_h; ++row) {
        out += "\n|";
        for (int col = 0; col < field_w; ++col) out += symbols[static_cast<std::size_t>(visits[col][row])];
        out += '|';
    }
    out += '\n';
    out += frame_line("[SHA256]");
    return out;
}

std::string fingerprint_line(const PublicKey& key, std::string_view comment) {
    std::string out = "256 " + fingerprint_sha256(key) + ' ';
    out += comment.empty() ? std::string_view("no comment") : comment;
    out += " (ED25519)";
    return out;
}

}  // namespace twoway

// Shared by the echo examples: key files and allow-lists, through libtwoway's public API only.
//   key file        twoway's private key format (unencrypted here), PATH.pub beside it (a public key line)
//   allow-list      public key lines, one per line ('#' comments and blank lines ignored): the server's
//                   authorized keys, or the client's known server keys
#pragma once

#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <twoway/key.hpp>
#include <twoway/key_file.hpp>
#include <twoway/random.hpp>

namespace example {

// Writes a fresh key to path (0600) and its public line to path.pub; prints the public line.
inline int generate_key(const std::string& path) {
    twoway::PrivateKey key = twoway::PrivateKey::generate(twoway::system_rng());
    auto text = twoway::encode_private_key(key, "echo example", "", twoway::default_kdf_params(), twoway::system_rng());
    const std::string pub = twoway::format_public_key_line(key.public_key(), "echo example");
    if (!text) {
        std::cerr << "cannot encode key: " << text.error().message() << "\n";
        return 1;
    }
    if (auto st = twoway::write_key_file(path, *text, 0600); !st) {
        std::cerr << path << ": " << st.error().message() << "\n";
        return 1;
    }
    if (auto st = twoway::write_key_file(path + ".pub", pub + "\n", 0644); !st) {
        std::cerr << path << ".pub: " << st.error().message() << "\n";
        return 1;
    }
    std::cout << pub << "\n";
    return 0;
}

inline bool load_key(const std::string& path, std::optional<twoway::PrivateKey>& out) {
    auto k = twoway::load_private_key(path, "");
    if (!k) {
        std::cerr << path << ": " << k.error().message() << "\n";
        return false;
    }
    out.emplace(std::move(k->key));
    return true;
}

// Every key of an allow-list file; false (with a message) if the file cannot be read or a line is bad:
// a security policy with a line we do not understand is better refused than half applied.
inline bool load_allow_list(const std::string& path, std::vector<twoway::PublicKey>& out) {
    std::ifstream in(path);
    if (!in) {
        std::cerr << path << ": cannot open\n";
        return false;
    }
    std::string line;
    for (int number = 1; std::getline(in, line); ++number) {
        const auto first = line.find_first_not_of(" \t\r");
        if (first == std::string::npos || line[first] == '#') continue;
        auto parsed = twoway::parse_public_key_line(line);
        if (!parsed) {
            std::cerr << path << ":" << number << ": " << parsed.error().message() << "\n";
            return false;
        }
        out.push_back(parsed->key);
    }
    return true;
}

inline bool allowed(const std::vector<twoway::PublicKey>& list, const twoway::PublicKey& key) {
    for (const auto& k : list) {
        if (k == key) return true;
    }
    return false;
}

}  // namespace example

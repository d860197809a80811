// The vectors' JSON subset: objects and strings (escapes \" and \\ only), whitespace between tokens.
#include <cctype>

#include "vectors/vectors.hpp"

namespace twoway::vectors {

std::string to_json(const std::vector<Vector>& vs) {
    std::string out = "{\n";
    for (std::size_t i = 0; i < vs.size(); ++i) {
        out += "  \"" + vs[i].name + "\": {\n";
        const auto& f = vs[i].fields;
        for (std::size_t j = 0; j < f.size(); ++j) {
            out += "    \"" + f[j].first + "\": \"" + f[j].second + "\"" + (j + 1 < f.size() ? ",\n" : "\n");
        }
        out += std::string("  }") + (i + 1 < vs.size() ? ",\n" : "\n");
    }
    return out + "}\n";
}

namespace {
class Parser {
public:
    explicit Parser(const std::string& t) : t_(t) {}

    Parsed document() {
        Parsed out;
        object([&](const std::string& name) {
            auto& fields = out[name];
            object([&](const std::string& key) { fields[key] = string(); });
        });
        skip();
        if (i_ != t_.size()) error("trailing text");
        return out;
    }

private:
    template <class F>
    void object(F&& member) {
        expect('{');
        skip();
        if (peek() == '}') {
            ++i_;
            return;
        }
        for (;;) {
            const std::string key = string();
            expect(':');
            member(key);
            skip();
            if (peek() == ',') {
                ++i_;
                continue;
            }
            expect('}');
            return;
        }
    }

    std::string string() {
        expect('"');
        std::string s;
        while (i_ < t_.size() && t_[i_] != '"') {
            if (t_[i_] == '\\') {
                if (++i_ >= t_.size() || (t_[i_] != '"' && t_[i_] != '\\')) error("unsupported escape");
            }
            s += t_[i_++];
        }
        if (i_ >= t_.size()) error("unterminated string");
        ++i_;
        return s;
    }

    void skip() {
        while (i_ < t_.size() && std::isspace(static_cast<unsigned char>(t_[i_]))) ++i_;
    }
    char peek() const { return i_ < t_.size() ? t_[i_] : '\0'; }
    void expect(char c) {
        skip();
        if (peek() != c) error(std::string("expected ") + c);
        ++i_;
    }
    [[noreturn]] void error(const std::string& what) const {
        throw std::runtime_error("handshake vectors: " + what + " at offset " + std::to_string(i_));
    }

    const std::string& t_;
    std::size_t i_ = 0;
};
}  // namespace

Parsed parse_json(const std::string& text) { return Parser(text).document(); }

}  // namespace twoway::vectors

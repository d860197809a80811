#include "config_syntax.hpp"

#include <utility>

#include <twoway/text.hpp>

namespace twoway_common::config {

using twoway::Diagnostic;
using twoway::Location;
using twoway::quoted;

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f'; }

}  // namespace

bool split_args(std::string_view s, std::vector<std::string>& out, bool terminate_on_comment) {
    std::size_t i = 0;
    while (i < s.size()) {
        if (twoway::is_blank(s[i])) {
            ++i;
            continue;
        }
        if (terminate_on_comment && s[i] == '#') break;
        std::string arg;
        char quote = 0;
        for (; i < s.size(); ++i) {
            const char c = s[i];
            if (c == '\\' && i + 1 < s.size()) {
                const char n = s[i + 1];
                if (n == '\'' || n == '"' || n == '\\' || (quote == 0 && n == ' ')) {
                    arg += n;
                    ++i;
                } else {
                    arg += c;  // an unrecognised escape stays as written
                }
            } else if (quote == 0 && twoway::is_blank(c)) {
                break;
            } else if (quote == 0 && (c == '"' || c == '\'')) {
                quote = c;
            } else if (quote != 0 && c == quote) {
                quote = 0;
            } else {
                arg += c;
            }
        }
        if (quote != 0) return false;
        out.push_back(std::move(arg));
    }
    return true;
}

std::optional<std::vector<std::string>> argv_split(std::string_view s, bool terminate_on_comment) {
    std::vector<std::string> out;
    if (!split_args(s, out, terminate_on_comment)) return std::nullopt;
    return out;
}

SplitLine split_line(std::string_view line) {
    SplitLine out;
    while (!line.empty() && is_space(line.back())) line.remove_suffix(1);
    std::size_t i = 0;
    while (i < line.size() && twoway::is_blank(line[i])) ++i;
    if (i == line.size() || line[i] == '#') return out;

    out.kind = SplitLine::Kind::error;
    if (line.size() > max_line_length) {
        out.error = "line too long (" + std::to_string(line.size()) + " bytes, limit " +
                    std::to_string(max_line_length) + ")";
        return out;
    }
    if (twoway::has_control(line)) {
        out.error = "line contains control characters";
        return out;
    }
    // The keyword ends at a blank, '=' or '"', as in OpenSSH's strdelim(); then blanks and at most one '='.
    std::size_t end = i;
    while (end < line.size() && !twoway::is_blank(line[end]) && line[end] != '=' && line[end] != '"') ++end;
    if (end == i) {
        out.error = "missing keyword before " + quoted(line.substr(i, 1));
        return out;
    }
    out.directive.keyword = std::string(line.substr(i, end - i));
    i = end;
    while (i < line.size() && twoway::is_blank(line[i])) ++i;
    if (i < line.size() && line[i] == '=') {
        ++i;
        while (i < line.size() && twoway::is_blank(line[i])) ++i;
    }
    out.directive.rest = std::string(line.substr(i));
    if (!split_args(line.substr(i), out.directive.args, true)) {
        out.error = "invalid quotes";
        return out;
    }
    if (out.directive.args.size() > max_args) {
        out.error = "too many arguments (limit " + std::to_string(max_args) + ")";
        return out;
    }
    out.kind = SplitLine::Kind::directive;
    return out;
}

std::string quote_arg(std::string_view arg) {
    // split_args takes a backslash before ' " or \ as an escape anywhere, and before a blank outside
    // quotes; any other backslash is kept as written. So an argument stays bare unless it holds blanks or
    // quotes, starts a comment or the '=' separator, or has a backslash that would start an escape.
    const auto escapes = [](char c) { return c == '\'' || c == '"' || c == '\\'; };
    bool bare = !arg.empty() && arg.front() != '#' && arg.front() != '=';
    for (std::size_t i = 0; bare && i < arg.size(); ++i) {
        const char c = arg[i];
        if (twoway::is_blank(c) || c == '\'' || c == '"') bare = false;
        if (c == '\\' && (i + 1 == arg.size() || escapes(arg[i + 1]) || twoway::is_blank(arg[i + 1]))) bare = false;
    }
    if (bare) return std::string(arg);
    // Quoted with whichever quote needs fewer escapes: the quote itself, and a backslash only where it
    // would start an escape (before ' " \, or before the closing quote).
    const auto quoted_with = [&](char q) {
        std::string out(1, q);
        for (std::size_t i = 0; i < arg.size(); ++i) {
            const char c = arg[i];
            if (c == q || (c == '\\' && (i + 1 == arg.size() || escapes(arg[i + 1])))) out += '\\';
            out += c;
        }
        out += q;
        return out;
    };
    std::string double_quoted = quoted_with('"');
    std::string single_quoted = quoted_with('\'');
    return single_quoted.size() < double_quoted.size() ? single_quoted : double_quoted;
}

void ErrorList::add(std::size_t line, std::string message) { add(path_, line, std::move(message)); }

void ErrorList::add(std::string_view path, std::size_t line, std::string message) {
    if (full_) return;
    if (list_.size() == max_errors) {
        list_.push_back(Diagnostic{Location{std::string(path), line}, "too many errors; the rest are not shown"});
        full_ = true;
        return;
    }
    list_.push_back(Diagnostic{Location{std::string(path), line}, std::move(message)});
}

std::optional<std::uint32_t> parse_time(std::string_view s) noexcept {
    constexpr std::uint64_t max = 0x7fffffff;
    if (s.empty()) return std::nullopt;
    std::uint64_t total = 0;
    std::size_t i = 0;
    while (i < s.size()) {
        std::size_t end = i;
        while (end < s.size() && s[end] >= '0' && s[end] <= '9') ++end;
        auto value = twoway::parse_decimal(s.substr(i, end - i), max);
        if (!value) return std::nullopt;
        std::uint64_t unit = 1;
        if (end < s.size()) {
            switch (twoway::ascii_lower(s[end])) {
                case 's': unit = 1; break;
                case 'm': unit = 60; break;
                case 'h': unit = 3600; break;
                case 'd': unit = 86400; break;
                case 'w': unit = 604800; break;
                default: return std::nullopt;
            }
            ++end;
        }
        if (*value > max / unit) return std::nullopt;
        total += *value * unit;
        if (total > max) return std::nullopt;
        i = end;
    }
    return static_cast<std::uint32_t>(total);
}

std::optional<bool> parse_yes_no(std::string_view s, bool true_false) noexcept {
    if (twoway::iequals(s, "yes") || (true_false && twoway::iequals(s, "true"))) return true;
    if (twoway::iequals(s, "no") || (true_false && twoway::iequals(s, "false"))) return false;
    return std::nullopt;
}

std::string check_tokens(std::string_view s, std::string_view allowed) {
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] != '%') continue;
        if (i + 1 == s.size()) return "'%' at the end of " + quoted(s);
        const char t = s[i + 1];
        if (t != '%' && allowed.find(t) == std::string_view::npos) {
            return "unknown token " + quoted(s.substr(i, 2)) + " in " + quoted(s);
        }
        ++i;
    }
    return {};
}

std::optional<std::string> expand_tokens(std::string_view s, std::span<const Token> tokens) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] != '%') {
            out += s[i];
            continue;
        }
        if (i + 1 == s.size()) return std::nullopt;
        const char t = s[++i];
        if (t == '%') {
            out += '%';
            continue;
        }
        bool found = false;
        for (const auto& tok : tokens) {
            if (tok.name == t) {
                out += tok.value;
                found = true;
                break;
            }
        }
        if (!found) return std::nullopt;
    }
    return out;
}

}  // namespace twoway_common::config

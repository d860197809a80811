// The lexical layer shared by twowayd.conf and ~/.twoway/config, which follow sshd_config(5) and
// ssh_config(5): one "Keyword arguments" or "Keyword=arguments" directive per line, '#' comments,
// arguments split like OpenSSH's argv_split() (blanks separate; "..." and '...' quote; a backslash
// escapes a quote, a backslash or, outside quotes, a blank; '#' at the start of an argument ends the
// line), sshd's TIME FORMATS and %-tokens. The programs' own (the library reads no config files), so it
// lives in common/, used by the daemon's and the client's config parsers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <twoway/trust.hpp>

namespace twoway_common::config {

inline constexpr std::size_t max_line_length = 8192;
inline constexpr std::size_t max_errors = 100;  // a config with more errors than this is not worth listing
inline constexpr std::size_t max_args = 256;    // arguments on one line

struct Directive {
    std::string keyword;  // as written (compare with twoway::iequals)
    std::vector<std::string> args;
    // The text after the keyword and its separator, unsplit (trailing blanks dropped): ssh_config's
    // ProxyCommand takes the rest of the line as it is written, quotes and all, for the shell.
    std::string rest;
};

struct SplitLine {
    enum class Kind { empty, directive, error };
    Kind kind = Kind::empty;
    Directive directive;
    std::string error;  // when kind == error
};

// OpenSSH's argv_split(): blank-separated words, "..." and '...' quote, a backslash escapes a quote, a
// backslash or (outside quotes) a blank, any other backslash stays; with terminate_on_comment, '#' at
// the start of a word ends the text. Nothing for an unterminated quote.
[[nodiscard]] bool split_args(std::string_view s, std::vector<std::string>& out, bool terminate_on_comment);
[[nodiscard]] std::optional<std::vector<std::string>> argv_split(std::string_view s, bool terminate_on_comment);

// One line (without its newline). Blank and comment lines are empty.
[[nodiscard]] SplitLine split_line(std::string_view line);

// Collects configuration errors as diagnostics, up to max_errors; the one after that says the list was
// cut and full() turns true, so the parser may stop.
class ErrorList {
public:
    explicit ErrorList(std::string_view path) : path_(path) {}
    void add(std::size_t line, std::string message);
    // The same for another file (the client config's included files).
    void add(std::string_view path, std::size_t line, std::string message);
    [[nodiscard]] bool full() const noexcept { return full_; }
    [[nodiscard]] std::vector<twoway::Diagnostic> take() && { return std::move(list_); }

private:
    std::string path_;
    std::vector<twoway::Diagnostic> list_;
    bool full_ = false;
};

// One argument written so that split_line reads it back as it is: bare when it can be, otherwise in
// the quotes that need fewer backslashes (for blanks, quotes, escaping backslashes, a leading '#' or
// '=', an empty argument). Never longer than the argument plus its quotes and one byte per escape.
[[nodiscard]] std::string quote_arg(std::string_view arg);

// sshd's TIME FORMATS: one or more number[qualifier] (none or s = seconds, m, h, d, w), added up. Digits
// only; nothing for an empty, malformed or larger than INT32_MAX value.
[[nodiscard]] std::optional<std::uint32_t> parse_time(std::string_view s) noexcept;

// "yes"/"no" (any case); with true_false also "true"/"false", as ssh_config accepts.
[[nodiscard]] std::optional<bool> parse_yes_no(std::string_view s, bool true_false) noexcept;

// Checks that every '%' in s starts "%%" or "%c" for c in allowed. Empty when fine, else the problem.
[[nodiscard]] std::string check_tokens(std::string_view s, std::string_view allowed);

struct Token {
    char name;
    std::string_view value;
};
// Replaces "%%" by '%' and "%c" by the value of token c. Nothing if a token is unknown or '%' ends s.
[[nodiscard]] std::optional<std::string> expand_tokens(std::string_view s, std::span<const Token> tokens);

}  // namespace twoway_common::config

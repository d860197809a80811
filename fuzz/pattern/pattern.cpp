// Fuzz target: OpenSSH's pattern lists and address lists (<twoway/pattern.hpp>).
// Input: "text\naddress\nlist" (missing parts are empty). Beyond "no crash", properties that follow
// from the definitions: a list of one plain pattern agrees with match_pattern; negating every entry of a
// list never yields `match`; case folding never loses a case-sensitive match; an address block parsed
// from text formats back to text that parses to the same block; match_user agrees with its parts.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include <twoway/pattern.hpp>

namespace {

void check(bool ok) {
    if (!ok) std::abort();
}

std::string_view next_part(std::string_view& rest) {
    const auto nl = rest.find('\n');
    const std::string_view part = rest.substr(0, nl);
    rest = nl == std::string_view::npos ? std::string_view{} : rest.substr(nl + 1);
    return part;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace twoway;
    if (size > 4096) return 0;
    std::string_view rest(reinterpret_cast<const char*>(data), size);
    const std::string_view text = next_part(rest);
    const std::string_view address = next_part(rest);
    const std::string_view list = rest;

    const PatternMatch plain = match_pattern_list(text, list);
    const PatternMatch folded = match_pattern_list(text, list, true);
    if (plain == PatternMatch::match) check(folded != PatternMatch::none);
    if (plain == PatternMatch::negated) check(folded == PatternMatch::negated);
    if (!list.empty() && list.find(',') == std::string_view::npos && list.front() != '!') {
        check((plain == PatternMatch::match) == match_pattern(list, text));
    }
    std::string all_negated;
    for (char c : list) {
        if (all_negated.empty() || all_negated.back() == ',') all_negated += '!';
        all_negated += c;
    }
    check(match_pattern_list(text, all_negated) != PatternMatch::match);

    if (auto block = parse_address_block(address)) {
        const std::string formatted = format_address_block(*block);
        auto again = parse_address_block(formatted);
        check(again && *again == *block);
        check(block->contains(block->base));
    }
    if (auto addr = parse_ip_address(address)) {
        check(parse_ip_address(format_ip_address(*addr)) == addr);
        const AddressMatch by_address = match_address_list(*addr, list);
        const AddressMatch host = match_host_and_ip(*addr, list);
        if (by_address == AddressMatch::invalid) check(host == AddressMatch::invalid);
        if (by_address == AddressMatch::negated) check(host == AddressMatch::negated);
        if (by_address == AddressMatch::match) check(host != AddressMatch::none);
        const auto user = match_user(text, *addr, list);
        const auto at = list.rfind('@');
        if (at == std::string_view::npos) {
            check(user == match_pattern(list, text));
        } else if (user && *user) {
            check(match_pattern(list.substr(0, at), text));
            check(match_host_and_ip(*addr, list.substr(at + 1)) == AddressMatch::match);
        }
    }
    return 0;
}

// SessionPolicy: what the matched authorized_keys line's options let the session do, and the facts
// the options are decided on (an IPv4-mapped client address is its IPv4 address).
#include <catch2/catch.hpp>

#include <twoway/pattern.hpp>
#include <twoway/trust.hpp>

#include "session_policy.hpp"

using namespace twowayd;

namespace {

SessionPolicy policy(const std::string& field) {
    auto o = twoway::parse_key_options(field);
    INFO(field << " -> " << o.error);
    REQUIRE(o.options);
    return key_session_policy(*o.options, twoway::Location{"ak", 3});
}

}  // namespace

TEST_CASE("session policy from key options", "[daemon]") {
    const auto plain = key_session_policy(twoway::KeyOptions{}, twoway::Location{"ak", 1});
    CHECK(plain.permit_pty);
    CHECK(plain.permit_services);
    CHECK_FALSE(plain.force_command);
    CHECK_FALSE(service_refusal(plain, "web"));

    const auto r = policy("restrict,command=\"backup\"");
    CHECK_FALSE(r.permit_pty);
    CHECK_FALSE(r.permit_services);
    CHECK(r.force_command == "backup");
    CHECK(service_refusal(r, "web") == "services are not permitted by ak:3 (restrict or no-port-forwarding)");
    CHECK(service_refusal(policy("no-port-forwarding"), "web"));
    CHECK_FALSE(service_refusal(policy("restrict,port-forwarding"), "web"));

    // permit-service= names the services; restrict without port-forwarding still refuses them all.
    const auto only = policy("permit-service=\"web\",permit-service=\"db\"");
    CHECK_FALSE(service_refusal(only, "web"));
    CHECK_FALSE(service_refusal(only, "db"));
    CHECK(service_refusal(only, "mail") == "service not in permit-service= by ak:3");
    CHECK(service_refusal(only, "WEB"));  // service names are exact
    CHECK(service_refusal(policy("restrict,permit-service=\"web\""), "web"));
    CHECK_FALSE(policy("no-pty").permit_pty);
    CHECK(policy("restrict,pty").permit_pty);

    // UsePAM yes, PAM_NEW_AUTHTOK_REQD: no service at all until the password is changed (sshd turns
    // forwarding off then), whatever the line permits.
    auto expired = policy("permit-service=\"web\"");
    expired.password_expired = true;
    CHECK(service_refusal(expired, "web") == "the account's password has expired (PAM): it must be changed first");
    auto expired_plain = plain;
    expired_plain.password_expired = true;
    CHECK(service_refusal(expired_plain, "web"));
}

TEST_CASE("connection facts: the client's address as from= sees it", "[daemon]") {
    const auto v4 = connection_facts("127.0.0.1", 1000, 3600);
    REQUIRE(v4);
    CHECK(twoway::format_ip_address(v4->address) == "127.0.0.1");
    CHECK(v4->now == 1000);
    CHECK(v4->utc_offset == 3600);
    const auto mapped = connection_facts("::ffff:10.1.2.3", 0, 0);
    REQUIRE(mapped);
    CHECK_FALSE(mapped->address.v6);
    CHECK(twoway::format_ip_address(mapped->address) == "10.1.2.3");
    CHECK(twoway::match_host_and_ip(mapped->address, "10.0.0.0/8") == twoway::AddressMatch::match);
    const auto v6 = connection_facts("::1", 0, 0);
    REQUIRE(v6);
    CHECK(v6->address.v6);
    CHECK_FALSE(connection_facts("not-an-address", 0, 0));
}

#pragma once
// MD5 (RFC 1321) for SIP digest credentials (RFC 2617 3.2.2.2: HA1 = MD5(user ":"
// realm ":" password)), the form a registrar keeps instead of the plain password.
// Not for anything that needs collision resistance.
#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace cf::config {

std::array<std::uint8_t, 16> md5(std::string_view data);
// 32 lower-case hex digits.
std::string md5_hex(std::string_view data);
// MD5(user:realm:password) in hex.
std::string digest_ha1(std::string_view user, std::string_view realm, std::string_view password);

}  // namespace cf::config

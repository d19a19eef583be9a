// UTF-8 <-> UTF-16 for key names: PKCS#11 labels are UTF-8, NCrypt names are UTF-16.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace p11 {

// nullopt when the input is not well-formed UTF-8 (overlong forms and surrogates rejected).
std::optional<std::u16string> utf8_to_utf16(std::string_view in);
// Unpaired surrogates become U+FFFD.
std::string utf16_to_utf8(std::u16string_view in);

}  // namespace p11

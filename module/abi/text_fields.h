// PKCS#11 fixed-width text fields: blank-padded, not NUL-terminated.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <string_view>

namespace p11 {

// Copies text into field (truncating) and pads the rest with spaces.
template <std::size_t N>
void set_text_field(unsigned char (&field)[N], std::string_view text) noexcept {
  std::memset(field, ' ', N);
  std::memcpy(field, text.data(), std::min(N, text.size()));
}

}  // namespace p11

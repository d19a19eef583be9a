// UTF-16 (WCHAR = char16_t) string helpers used across the NCrypt implementation, and its one
// UTF-8 / UTF-16 codec: the decoding steps below are used by to_utf8/from_utf8 (lenient: bad
// input becomes U+FFFD) and by the PIN conversions (strict: bad input is refused, the output
// kept in the caller's zeroizing buffer).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "ncrypt.h"

namespace cng {

// Length of a NUL-terminated WCHAR string, bounded: returns max_len + 1 when longer.
std::size_t u16_length(LPCWSTR s, std::size_t max_len) noexcept;
// Copies a caller string; throws NTE_INVALID_PARAMETER when NULL or longer than max_len.
std::u16string u16_arg(LPCWSTR s, std::size_t max_len, const char* what);
// Case-insensitive ASCII comparison, as Windows compares algorithm and property names.
bool u16_iequals(std::u16string_view a, std::u16string_view b) noexcept;
// Unpaired surrogates become U+FFFD.
std::string to_utf8(std::u16string_view s);
// Sequences that are not well-formed UTF-8 become U+FFFD (one per bad sequence).
std::u16string from_utf8(std::string_view s);

// The code point starting at s[i] of UTF-8: its length in bytes, or 0 when the sequence is not
// well-formed (bad lead byte, truncated, overlong, a surrogate, above U+10FFFF).
std::size_t utf8_decode(std::span<const std::uint8_t> s, std::size_t i, char32_t& cp) noexcept;
[[nodiscard]] bool is_utf8(std::span<const std::uint8_t> s) noexcept;
// The code point starting with the UTF-16 unit first (next: the unit after it, when
// has_next): its length in units, or 0 for an unpaired surrogate.
std::size_t utf16_decode(char16_t first, char16_t next, bool has_next, char32_t& cp) noexcept;

// Appends the UTF-8 form of a Unicode scalar value to out (std::string, SecureBytes, ...).
template <class Out>
void utf8_append(Out& out, char32_t c) {
  using Unit = typename Out::value_type;
  const auto put = [&out](char32_t byte) { out.push_back(static_cast<Unit>(byte)); };
  if (c < 0x80) {
    put(c);
  } else if (c < 0x800) {
    put(0xC0 | (c >> 6));
    put(0x80 | (c & 0x3F));
  } else if (c < 0x10000) {
    put(0xE0 | (c >> 12));
    put(0x80 | ((c >> 6) & 0x3F));
    put(0x80 | (c & 0x3F));
  } else {
    put(0xF0 | (c >> 18));
    put(0x80 | ((c >> 12) & 0x3F));
    put(0x80 | ((c >> 6) & 0x3F));
    put(0x80 | (c & 0x3F));
  }
}

}  // namespace cng

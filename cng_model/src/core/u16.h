// UTF-16 (WCHAR = char16_t) string helpers used across the NCrypt implementation.
#pragma once

#include <cstddef>
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
std::string to_utf8(std::u16string_view s);
std::u16string from_utf8(std::string_view s);

}  // namespace cng

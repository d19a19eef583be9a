// Text helpers for the CLI: UTF-8 <-> UTF-16 (NCrypt strings are char16_t) and hex output.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace cngkey {

// Strict conversions: nullopt for malformed input (overlong forms, surrogates in UTF-8,
// unpaired surrogates in UTF-16), so a bad name is reported, never silently altered.
// The length of the well-formed UTF-8 sequence at text[i] (overlong forms, surrogates and
// code points above U+10FFFF are not), with its code point in cp; 0 when there is none.
std::size_t utf8_sequence(std::string_view text, std::size_t i, char32_t& cp);
std::optional<std::u16string> utf8_to_utf16(std::string_view utf8);
std::optional<std::string> utf16_to_utf8(std::u16string_view utf16);

// Lossy conversion for display: unpaired surrogates become U+FFFD.
std::string display_utf8(std::u16string_view utf16);

std::string to_hex(std::span<const std::uint8_t> bytes);  // lower-case, no separators

// Makes a value safe for one tab-separated field: '\\', tab, newline and other control
// characters become backslash escapes.
std::string escape_field(std::string_view text);

}  // namespace cngkey

#include "core/u16.h"

#include "core/cng_error.h"

namespace cng {

std::size_t u16_length(LPCWSTR s, std::size_t max_len) noexcept {
  std::size_t n = 0;
  while (n <= max_len && s[n] != u'\0') {
    ++n;
  }
  return n;
}

std::u16string u16_arg(LPCWSTR s, std::size_t max_len, const char* what) {
  require(s != nullptr, NTE_INVALID_PARAMETER, what);
  const std::size_t n = u16_length(s, max_len);
  require(n <= max_len, NTE_INVALID_PARAMETER, what);
  return {s, n};
}

namespace {
char16_t ascii_lower(char16_t c) noexcept {
  return (c >= u'A' && c <= u'Z') ? static_cast<char16_t>(c - u'A' + u'a') : c;
}
}  // namespace

bool u16_iequals(std::u16string_view a, std::u16string_view b) noexcept {
  if (a.size() != b.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (ascii_lower(a[i]) != ascii_lower(b[i])) {
      return false;
    }
  }
  return true;
}

std::size_t utf8_decode(std::span<const std::uint8_t> s, std::size_t i, char32_t& cp) noexcept {
  const std::uint8_t b = s[i];
  std::size_t extra = 0;
  char32_t min = 0;
  if (b < 0x80) {
    cp = b;
    return 1;
  }
  if ((b & 0xE0) == 0xC0) {
    extra = 1, cp = b & 0x1F, min = 0x80;
  } else if ((b & 0xF0) == 0xE0) {
    extra = 2, cp = b & 0x0F, min = 0x800;
  } else if ((b & 0xF8) == 0xF0) {
    extra = 3, cp = b & 0x07, min = 0x10000;
  } else {
    return 0;
  }
  if (extra >= s.size() - i) {
    return 0;  // truncated
  }
  for (std::size_t k = 1; k <= extra; ++k) {
    if ((s[i + k] & 0xC0) != 0x80) {
      return 0;
    }
    cp = (cp << 6) | (s[i + k] & 0x3F);
  }
  const bool scalar = cp >= min && cp <= 0x10FFFF && (cp < 0xD800 || cp > 0xDFFF);
  return scalar ? extra + 1 : 0;
}

bool is_utf8(std::span<const std::uint8_t> s) noexcept {
  char32_t cp = 0;
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t n = utf8_decode(s, i, cp);
    if (n == 0) {
      return false;
    }
    i += n;
  }
  return true;
}

std::size_t utf16_decode(char16_t first, char16_t next, bool has_next, char32_t& cp) noexcept {
  if (first >= 0xD800 && first <= 0xDBFF && has_next && next >= 0xDC00 && next <= 0xDFFF) {
    cp = 0x10000 + ((char32_t{first} - 0xD800) << 10) + (char32_t{next} - 0xDC00);
    return 2;
  }
  cp = first;
  return first >= 0xD800 && first <= 0xDFFF ? 0 : 1;
}

std::string to_utf8(std::u16string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    char32_t c = 0;
    const std::size_t n =
        utf16_decode(s[i], i + 1 < s.size() ? s[i + 1] : u'\0', i + 1 < s.size(), c);
    utf8_append(out, n == 0 ? U'\uFFFD' : c);
    i += n == 0 ? 1 : n;
  }
  return out;
}

std::u16string from_utf8(std::string_view s) {
  const std::span bytes(reinterpret_cast<const std::uint8_t*>(s.data()), s.size());
  std::u16string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < bytes.size();) {
    char32_t c = 0;
    const std::size_t n = utf8_decode(bytes, i, c);
    if (n == 0) {
      c = U'\uFFFD';
      ++i;  // the bad byte and the continuation bytes that follow it: one replacement
      while (i < bytes.size() && (bytes[i] & 0xC0) == 0x80) {
        ++i;
      }
    } else {
      i += n;
    }
    if (c >= 0x10000) {
      out += static_cast<char16_t>(0xD800 + ((c - 0x10000) >> 10));
      out += static_cast<char16_t>(0xDC00 + ((c - 0x10000) & 0x3FF));
    } else {
      out += static_cast<char16_t>(c);
    }
  }
  return out;
}

}  // namespace cng

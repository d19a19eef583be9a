#include <cstring>

#include "api/properties.h"
#include "api/testing_hooks.h"
#include "core/cng_error.h"

namespace cng::api {

Bytes dword_value(DWORD v) {
  Bytes out(sizeof v);
  std::memcpy(out.data(), &v, sizeof v);
  return out;
}

DWORD dword_arg(std::span<const std::uint8_t> value) {
  require(value.size() == sizeof(DWORD), NTE_INVALID_PARAMETER, "a DWORD property needs 4 bytes");
  DWORD v = 0;
  std::memcpy(&v, value.data(), sizeof v);
  return v;
}

Bytes string_value(std::u16string_view s) {
  testing::maybe_fail_allocation();
  Bytes out((s.size() + 1) * sizeof(char16_t), 0);
  std::memcpy(out.data(), s.data(), s.size() * sizeof(char16_t));
  return out;
}

std::u16string string_arg(std::span<const std::uint8_t> value) {
  require(value.size() % sizeof(char16_t) == 0, NTE_INVALID_PARAMETER,
          "a string property needs whole UTF-16 units");
  std::u16string s(value.size() / sizeof(char16_t), u'\0');
  std::memcpy(s.data(), value.data(), value.size());
  while (!s.empty() && s.back() == u'\0') {
    s.pop_back();
  }
  return s;
}

Bytes handle_value(ULONG_PTR h) {
  Bytes out(sizeof h);
  std::memcpy(out.data(), &h, sizeof h);
  return out;
}

}  // namespace cng::api

#include "api/ui_policy.h"

#include <array>
#include <cstddef>
#include <cstring>
#include <optional>

#include "core/u16.h"

namespace cng::api {

namespace {

constexpr std::uint32_t kNullString = 0xFFFFFFFFu;
constexpr std::size_t kMaxPolicyString = 1024;

void put_u32(Bytes& out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) {
    out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
  }
}

std::uint32_t get_u32(const Bytes& in, std::size_t& pos) {
  require(pos + 4 <= in.size(), NTE_BAD_DATA, "malformed UI policy");
  std::uint32_t v = 0;
  for (int i = 0; i < 4; ++i) {
    v |= static_cast<std::uint32_t>(in[pos + static_cast<std::size_t>(i)]) << (8 * i);
  }
  pos += 4;
  return v;
}

void put_string(Bytes& out, LPCWSTR s) {
  if (s == nullptr) {
    put_u32(out, kNullString);
    return;
  }
  const std::u16string value = u16_arg(s, kMaxPolicyString, "UI policy string too long");
  put_u32(out, static_cast<std::uint32_t>(value.size()));
  for (const char16_t c : value) {
    out.push_back(static_cast<std::uint8_t>(c & 0xFF));
    out.push_back(static_cast<std::uint8_t>(c >> 8));
  }
}

std::optional<std::u16string> get_string(const Bytes& in, std::size_t& pos) {
  const std::uint32_t n = get_u32(in, pos);
  if (n == kNullString) {
    return std::nullopt;
  }
  require(n <= kMaxPolicyString && pos + 2 * std::size_t{n} <= in.size(), NTE_BAD_DATA,
          "malformed UI policy");
  std::u16string s;
  for (std::uint32_t i = 0; i < n; ++i, pos += 2) {
    s.push_back(static_cast<char16_t>(in[pos] | (in[pos + 1] << 8)));
  }
  return s;
}

}  // namespace

Bytes encode_ui_policy(std::span<const std::uint8_t> value) {
  require(value.size() == sizeof(NCRYPT_UI_POLICY), NTE_INVALID_PARAMETER,
          "UI Policy needs an NCRYPT_UI_POLICY");
  NCRYPT_UI_POLICY policy{};
  std::memcpy(&policy, value.data(), sizeof policy);
  Bytes out;
  put_u32(out, policy.dwVersion);
  put_u32(out, policy.dwFlags);
  put_string(out, policy.pszCreationTitle);
  put_string(out, policy.pszFriendlyName);
  put_string(out, policy.pszDescription);
  return out;
}

DWORD ui_policy_flags(const Bytes& encoded) {
  std::size_t pos = 4;  // after dwVersion
  return get_u32(encoded, pos);
}

Bytes add_ui_policy_flag(const Bytes* encoded, DWORD flag) {
  if (encoded == nullptr) {
    NCRYPT_UI_POLICY policy{1, flag, nullptr, nullptr, nullptr};
    return encode_ui_policy({reinterpret_cast<const std::uint8_t*>(&policy), sizeof policy});
  }
  Bytes out = *encoded;
  const DWORD flags = ui_policy_flags(out) | flag;  // NTE_BAD_DATA when too short
  for (std::size_t i = 0; i < 4; ++i) {
    out[4 + i] = static_cast<std::uint8_t>(flags >> (8 * i));
  }
  return out;
}

PropertyValue decode_ui_policy(const Bytes& encoded) {
  std::size_t pos = 0;
  NCRYPT_UI_POLICY policy{};
  policy.dwVersion = get_u32(encoded, pos);
  policy.dwFlags = get_u32(encoded, pos);
  std::array<std::optional<std::u16string>, 3> strings;
  for (auto& s : strings) {
    s = get_string(encoded, pos);
  }
  PropertyValue value;
  value.bytes.resize(sizeof policy);
  const std::array<std::size_t, 3> pointer_fields = {offsetof(NCRYPT_UI_POLICY, pszCreationTitle),
                                                     offsetof(NCRYPT_UI_POLICY, pszFriendlyName),
                                                     offsetof(NCRYPT_UI_POLICY, pszDescription)};
  std::memcpy(value.bytes.data(), &policy, sizeof policy);
  for (std::size_t i = 0; i < strings.size(); ++i) {
    ULONG_PTR offset = 0;  // NULL
    if (strings[i]) {
      offset = value.bytes.size();
      const Bytes text = string_value(*strings[i]);
      value.bytes.insert(value.bytes.end(), text.begin(), text.end());
    }
    std::memcpy(value.bytes.data() + pointer_fields[i], &offset, sizeof offset);
    value.pointer_offsets.push_back(pointer_fields[i]);
  }
  return value;
}

}  // namespace cng::api

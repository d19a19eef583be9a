#include "bridge/attr_values.h"

#include <cstring>

namespace p11::bridge {

std::optional<bool> attr_bool(const AttrMap& attrs, CK_ATTRIBUTE_TYPE type) {
  const auto it = attrs.find(type);
  if (it == attrs.end() || it->second.size() != sizeof(CK_BBOOL)) {
    return std::nullopt;
  }
  return it->second[0] != CK_FALSE;
}

std::optional<CK_ULONG> attr_ulong(const AttrMap& attrs, CK_ATTRIBUTE_TYPE type) {
  const auto it = attrs.find(type);
  if (it == attrs.end() || it->second.size() != sizeof(CK_ULONG)) {
    return std::nullopt;
  }
  CK_ULONG v = 0;
  std::memcpy(&v, it->second.data(), sizeof v);
  return v;
}

bool attr_true(const AttrMap& attrs, CK_ATTRIBUTE_TYPE type) {
  return attr_bool(attrs, type).value_or(false);
}

Bytes bool_bytes(bool value) {
  return Bytes{static_cast<std::uint8_t>(value ? CK_TRUE : CK_FALSE)};
}

Bytes ulong_bytes(CK_ULONG value) {
  Bytes b(sizeof value);
  std::memcpy(b.data(), &value, sizeof value);
  return b;
}

}  // namespace p11::bridge

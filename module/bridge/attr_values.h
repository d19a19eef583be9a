// Attribute values as the module keeps them (type -> value bytes in the ABI's layout), and
// typed reads of them. Shared by the key type descriptors (bridge/key_types/) and the object
// layer, which re-exports these names.
#pragma once

#include <map>
#include <optional>

#include "bridge/bytes.h"
#include "pkcs11/pkcs11_all.h"

namespace p11::bridge {

using AttrMap = std::map<CK_ATTRIBUTE_TYPE, Bytes>;

// Typed reads of stored values (memcpy, no aliasing); nullopt when absent or malformed.
std::optional<bool> attr_bool(const AttrMap& attrs, CK_ATTRIBUTE_TYPE type);
std::optional<CK_ULONG> attr_ulong(const AttrMap& attrs, CK_ATTRIBUTE_TYPE type);
bool attr_true(const AttrMap& attrs, CK_ATTRIBUTE_TYPE type);  // absent = FALSE
Bytes bool_bytes(bool value);
Bytes ulong_bytes(CK_ULONG value);

}  // namespace p11::bridge

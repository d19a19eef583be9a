// The "UI Policy" property: NCRYPT_UI_POLICY holds string pointers, so it is kept as a
// flat encoding (version, flags, three optional strings) and laid out for the caller as the
// structure followed by its strings.
#pragma once

#include <span>

#include "api/properties.h"

namespace cng::api {

// Reserved record property name under which the UI policy is persisted with the key.
inline constexpr std::u16string_view kUiPolicyRecordName = NCRYPT_UI_POLICY_PROPERTY;

// Encodes the caller's NCRYPT_UI_POLICY (NTE_INVALID_PARAMETER when the size is wrong).
Bytes encode_ui_policy(std::span<const std::uint8_t> value);
// The dwFlags of an encoded policy (NTE_BAD_DATA when malformed).
DWORD ui_policy_flags(const Bytes& encoded);
// The encoded policy with flag added to its dwFlags (encoded null: a version-1 policy with
// that flag and no strings).
Bytes add_ui_policy_flag(const Bytes* encoded, DWORD flag);
// The structure-plus-strings value for NCryptGetProperty (NTE_BAD_DATA when malformed).
PropertyValue decode_ui_policy(const Bytes& encoded);

}  // namespace cng::api

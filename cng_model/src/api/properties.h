// NCryptGetProperty / NCryptSetProperty per object kind.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "api/objects.h"
#include "core/secure_bytes.h"

namespace cng::api {

// A property value as returned to the caller. Pointer-holding structures (UI Policy) store
// offsets from the start of the value at pointer_offsets (0 = NULL); the caller's copy gets
// them turned into addresses inside its buffer.
struct PropertyValue {
  Bytes bytes;
  std::vector<std::size_t> pointer_offsets;
};

PropertyValue get_key_property(KeyObject& key, std::u16string_view name, DWORD flags);
void set_key_property(KeyObject& key, std::u16string_view name, std::span<const std::uint8_t> value,
                      DWORD flags);
PropertyValue get_provider_property(ProviderObject& provider, std::u16string_view name);
void set_provider_property(ProviderObject& provider, std::u16string_view name,
                           std::span<const std::uint8_t> value);

// Value encodings.
Bytes dword_value(DWORD v);
DWORD dword_arg(std::span<const std::uint8_t> value);
Bytes string_value(std::u16string_view s);                       // UTF-16 with the terminating NUL
std::u16string string_arg(std::span<const std::uint8_t> value);  // trailing NULs dropped
Bytes handle_value(ULONG_PTR h);

}  // namespace cng::api

// Thin helpers over NCryptGetProperty / NCryptSetProperty / NCryptExportKey with the two-call
// size protocol, mapping failures through status_map.
#pragma once

#include <optional>
#include <string>

#include "bridge/bytes.h"
#include "bridge/status_map.h"
#include "ncrypt.h"

namespace p11::bridge {

// The property's bytes; nullopt when the object does not have it (NTE_NOT_FOUND,
// NTE_NOT_SUPPORTED). Other failures throw (NcryptContext::kProperty).
std::optional<Bytes> get_property(NCRYPT_HANDLE object, const char16_t* name);
std::optional<DWORD> get_dword_property(NCRYPT_HANDLE object, const char16_t* name);
// A string property (UTF-16, the terminating NUL removed).
std::optional<std::u16string> get_string_property(NCRYPT_HANDLE object, const char16_t* name);

void set_property(NCRYPT_HANDLE object, const char16_t* name, ByteView value, DWORD flags,
                  NcryptContext context);
void set_dword_property(NCRYPT_HANDLE object, const char16_t* name, DWORD value, DWORD flags,
                        NcryptContext context);
// A string property: UTF-16 in native byte order with its terminating NUL, as NCrypt takes it.
void set_string_property(NCRYPT_HANDLE object, const char16_t* name, std::u16string_view value,
                         DWORD flags, NcryptContext context);

// NCryptExportKey into a wiping buffer (public blobs too: callers copy what they keep).
SecretBytes export_key(NCRYPT_KEY_HANDLE key, const char16_t* blob_type, NcryptContext context,
                       NCryptBufferDesc* parameters = nullptr);

}  // namespace p11::bridge

// NCryptDeriveKey's key derivation functions over a raw agreed secret:
// "HASH", "HMAC", "TLS_PRF", "SP800_56A_CONCAT", "TRUNCATE", "HKDF" (BCRYPT_KDF_*).
#pragma once

#include <string_view>

#include "core/secure_bytes.h"
#include "ncrypt.h"

namespace cng {

// secret is the big-endian raw ECDH X coordinate. Output length: the KDF's natural size, or
// for TRUNCATE the secret (little-endian, as CNG returns it). NTE_INVALID_PARAMETER on bad
// parameters, NTE_NOT_SUPPORTED for an unknown KDF.
SecureBytes derive_key(std::u16string_view kdf, const NCryptBufferDesc* params,
                       const SecureBytes& secret, DWORD flags);

}  // namespace cng

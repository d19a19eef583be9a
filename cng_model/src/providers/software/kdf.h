// NCryptDeriveKey's key derivation functions over a raw agreed secret:
// "HASH", "HMAC", "TLS_PRF", "SP800_56A_CONCAT", "TRUNCATE", "HKDF" (BCRYPT_KDF_*).
#pragma once

#include <cstddef>
#include <string_view>

#include "core/secure_bytes.h"
#include "ncrypt.h"

namespace cng {

// secret is the big-endian raw ECDH X coordinate. Output length: the KDF's natural size, or
// for TRUNCATE the secret (little-endian, as CNG returns it). NTE_INVALID_PARAMETER on bad
// parameters, NTE_NOT_SUPPORTED for an unknown KDF.
// requested_len (0 = natural length) sets the output length of the variable-length KDFs
// (SP800_56A_CONCAT, HKDF: natural length = the hash size); the fixed-length ones (HASH, HMAC:
// hash size; TLS_PRF: 48; TRUNCATE: the secret size) ignore it — the NCrypt layer copies
// min(cbDerivedKey, result) as BCryptDeriveKey documents for HASH/HMAC.
SecureBytes derive_key(std::u16string_view kdf, const NCryptBufferDesc* params,
                       const SecureBytes& secret, DWORD flags, std::size_t requested_len = 0);

}  // namespace cng

// BCRYPT_RSAKEY_BLOB and BCRYPT_ECCKEY_BLOB encoding and parsing (little-endian headers,
// big-endian integers), for export, import and the KeyRecord's public blob.
#pragma once

#include <openssl/evp.h>

#include <string_view>

#include "core/secure_bytes.h"
#include "providers/key_material.h"
#include "providers/software/evp_build.h"

namespace cng::soft {

struct ParsedKey {
  ossl::PkeyPtr key;
  KeyAlgorithm algorithm = KeyAlgorithm::kRsa;
  Curve curve = Curve::kNone;
  bool has_private = false;
};

// True for the BCRYPT_* blob type names parse_bcrypt_blob understands.
bool is_bcrypt_blob_type(std::u16string_view blob_type) noexcept;

// Parses RSAPUBLICBLOB, RSAPRIVATEBLOB, RSAFULLPRIVATEBLOB, ECCPUBLICBLOB, ECCPRIVATEBLOB,
// PUBLICBLOB and PRIVATEBLOB (key type from the magic). Errors: NTE_BAD_TYPE for another blob
// type, NTE_INVALID_PARAMETER for a magic that does not belong to the blob type,
// NTE_NOT_SUPPORTED for the generic-curve magics (ECDP/ECDV/ECKP/ECKV) and RSA moduli outside
// 512..16384 bits, NTE_BAD_DATA when the sizes in the header disagree with the data.
// The key is not validated here (see validate_key).
ParsedKey parse_bcrypt_blob(std::u16string_view blob_type, ByteView data);

Bytes rsa_public_blob(const EVP_PKEY* key);
// RSAPRIVATEBLOB (e, n, p, q) or, when full, RSAFULLPRIVATEBLOB (+ dP, dQ, qInv, d).
SecureBytes rsa_private_blob(const EVP_PKEY* key, bool full);
Bytes ecc_public_blob(const EVP_PKEY* key, KeyAlgorithm algorithm, Curve curve);
SecureBytes ecc_private_blob(const EVP_PKEY* key, KeyAlgorithm algorithm, Curve curve);

// The dwMagic of an ECC blob for this algorithm, curve and visibility.
ULONG ecc_magic(KeyAlgorithm algorithm, Curve curve, bool is_private) noexcept;

}  // namespace cng::soft

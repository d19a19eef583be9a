// Building EVP_PKEYs from raw components and reading components back (OpenSSL 3 param API,
// no deprecated RSA_* / EC_KEY_* calls), plus PKCS#8 PrivateKeyInfo DER in and out.
#pragma once

#include <openssl/evp.h>

#include <cstdint>
#include <span>

#include "cng_common/ossl_ptr.h"
#include "core/secure_bytes.h"
#include "providers/key_material.h"

namespace cng::soft {

using ByteView = std::span<const std::uint8_t>;

// Big-endian unsigned integer → BIGNUM (secure flavour for private values).
ossl::BnPtr bn_from(ByteView be);
ossl::SecretBnPtr secret_bn_from(ByteView be);
// BIGNUM → big-endian, left-padded to len bytes (fails NTE_BAD_DATA if it does not fit).
void bn_write(const BIGNUM* bn, std::span<std::uint8_t> out);

// A BIGNUM parameter of the key (OSSL_PKEY_PARAM_*); nullptr when the key lacks it.
ossl::SecretBnPtr get_bn(const EVP_PKEY* key, const char* param);

struct RsaParts {
  ossl::BnPtr n, e;
  ossl::SecretBnPtr p, q, d, dp, dq, qinv;  // all null for a public key
};
// Computes d (mod lcm(p-1, q-1)), dP, dQ and qInv from p, q and e (BCRYPT_RSAPRIVATE_BLOB
// carries only e, n, p, q). NTE_BAD_DATA when e is not invertible.
void complete_rsa_crt(RsaParts& parts);
// NTE_BAD_DATA when OpenSSL rejects the numbers.
ossl::PkeyPtr rsa_from_parts(const RsaParts& parts);
RsaParts rsa_parts_of(const EVP_PKEY* key);  // private members null when the key is public

// pub_x/pub_y: field_bytes(curve) each; priv empty for a public key. NTE_BAD_DATA for a point
// off the curve.
ossl::PkeyPtr ec_from_parts(Curve curve, ByteView pub_x, ByteView pub_y, ByteView priv);
Curve ec_curve_of(const EVP_PKEY* key);  // kNone if not one of ours
// X ‖ Y, field_bytes each.
Bytes ec_public_xy(const EVP_PKEY* key, Curve curve);

// PKCS#8 PrivateKeyInfo DER. Decoding: NTE_BAD_DATA when unusable or followed by extra bytes.
SecureBytes encode_pkcs8(const EVP_PKEY* key);
ossl::PkeyPtr decode_pkcs8(ByteView der);

// Full consistency check of a key: a private key against its public half (RSA: p*q = n,
// primes, d·e ≡ 1; EC: point on the curve, Q = dG), a public key on its own.
// NTE_BAD_DATA when it fails.
void validate_key(EVP_PKEY* key, KeyAlgorithm algorithm, bool has_private);

}  // namespace cng::soft

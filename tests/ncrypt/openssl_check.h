// Independent OpenSSL checks for the tests: parse BCRYPT public blobs without the library's
// code, verify signatures, encrypt to a public key, derive ECDH secrets.
#pragma once

#include <openssl/evp.h>

#include <memory>
#include <string>

#include "cng_common/ossl_ptr.h"
#include "ncrypt_test_support.h"

namespace ncrypt_test {

using Pkey = cng::ossl::PkeyPtr;

// BCRYPT_RSAPUBLIC_BLOB / BCRYPT_ECCPUBLIC_BLOB → EVP_PKEY (nullptr when malformed).
Pkey pkey_from_bcrypt_public(const Bytes& blob);
// A PKCS#8 DER private key.
Pkey pkey_from_pkcs8(const Bytes& der);

Bytes digest(const char* md_name, const std::string& message);

// RSA PKCS#1 v1.5 (salt < 0) or PSS (salt >= 0); ECDSA signatures as raw r||s.
bool verify_rsa(EVP_PKEY* key, const char* md_name, const Bytes& hash, const Bytes& sig,
                int pss_salt = -1);
bool verify_ecdsa_raw(EVP_PKEY* key, const Bytes& hash, const Bytes& raw_sig);

// RSA encryption with OAEP (md_name, label) or PKCS#1 v1.5 (md_name == nullptr).
Bytes rsa_encrypt(EVP_PKEY* key, const Bytes& plain, const char* oaep_md = nullptr,
                  const Bytes& label = {});

// Raw ECDH shared secret (big-endian X coordinate).
Bytes ecdh(EVP_PKEY* priv, EVP_PKEY* peer);

}  // namespace ncrypt_test

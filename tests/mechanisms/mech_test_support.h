// Test support for the mechanism layer: real CNG keys made through the NCrypt API (ephemeral,
// NULL name) on the software provider, KeyViews built from them by hand, OpenSSL references.
#pragma once

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "cng_common/ossl_ptr.h"
#include "mechanisms/key_view.h"
#include "mechanisms/operation.h"
#include "ncrypt.h"
#include "slots/capabilities.h"

namespace mechtest {

using Bytes = std::vector<std::uint8_t>;

using Pkey = cng::ossl::PkeyPtr;

// One finalized ephemeral CNG key and what the object layer would know about it.
struct TestKey {
  NCRYPT_PROV_HANDLE provider = 0;
  NCRYPT_KEY_HANDLE handle = 0;
  CK_KEY_TYPE key_type = CKK_RSA;
  CK_ULONG bits = 0;
  Bytes spki;  // DER SubjectPublicKeyInfo built with OpenSSL from the exported public blob
  Pkey pub;    // the same public key as an EVP_PKEY

  // All usages allowed; tests switch them off as needed.
  [[nodiscard]] p11::KeyView private_view() const;
  [[nodiscard]] p11::KeyView public_view() const;
};

// The software provider the test keys live in (key stores in a private temporary directory).
NCRYPT_PROV_HANDLE test_provider();

// Keys are made once per process (RSA generation is slow) and kept.
const TestKey& rsa2048();
// ecdh=false: "ECDSA_P*" keys; ecdh=true: "ECDH_P*" keys (for CKM_ECDH1_DERIVE).
const TestKey& ec_key(CK_ULONG bits, bool ecdh = false);

// The capabilities of the software slots: those slot 0 gets when it opens (the software
// provider probed, its profile's abilities).
const slots::Capabilities& software_caps();
// The capabilities of the platform slots on a TPM with the PC Client profile minimum (RSA
// 1024..2048, P-256 and P-384 for ECDSA and ECDH) and the platform profile's abilities.
const slots::Capabilities& platform_caps();

// Runs f and returns the CK_RV of the P11Error it throws (CKR_OK when none).
CK_RV rv_of(const std::function<void()>& f);

CK_MECHANISM mechanism(CK_MECHANISM_TYPE type, void* param = nullptr, CK_ULONG param_len = 0);

Bytes sign(const CK_MECHANISM& m, const p11::KeyView& key, const Bytes& data);
// Our verify; returns its CK_RV.
CK_RV verify(const CK_MECHANISM& m, const p11::KeyView& key, const Bytes& data,
             const Bytes& signature);

Bytes random_bytes(std::size_t n);
Bytes digest(const char* md_name, const Bytes& data);
const EVP_MD* md(const char* name);
// PKCS#1 DigestInfo of data's digest (for CKM_RSA_PKCS).
Bytes digest_info(const char* md_name, const Bytes& data);

// r||s → DER ECDSA-Sig-Value.
Bytes ecdsa_der(const Bytes& raw);

// OpenSSL verification of our signatures.
bool openssl_verify_pkcs1(EVP_PKEY* key, const char* md_name, const Bytes& data, const Bytes& sig);
bool openssl_verify_pss(EVP_PKEY* key, const char* md_name, int salt, const Bytes& digest_value,
                        const Bytes& sig);
bool openssl_verify_ecdsa(EVP_PKEY* key, const Bytes& digest_value, const Bytes& raw_sig);

}  // namespace mechtest

// OpenSSL 3 side of the conformance checks: public keys rebuilt from PKCS#11 attributes,
// signature verification, encryption to the token's key, ECDH, digests, test certificates.
#pragma once

#include <openssl/evp.h>

#include <memory>
#include <string>

#include "cng_common/ossl_ptr.h"
#include "p11_support.h"

namespace conf {

using PKey = cng::ossl::PkeyPtr;

// Public keys from the PKCS#11 attribute values (CKA_MODULUS/CKA_PUBLIC_EXPONENT, or
// CKA_EC_PARAMS/CKA_EC_POINT with the point DER OCTET STRING-wrapped). Null on error.
PKey RsaPublicKey(const Bytes& modulus, const Bytes& exponent);
PKey EcPublicKey(const Bytes& ec_params, const Bytes& ec_point_attr);
// The named curve ("P-256", ...) for DER OID params; empty if unknown.
std::string CurveName(const Bytes& ec_params);
// Contents of a DER OCTET STRING (short or long form); empty if not one.
Bytes UnwrapOctetString(const Bytes& der);

// Verification. md == nullptr means "data is already the hash / DigestInfo" (raw mechanisms).
bool VerifyRsaPkcs1(EVP_PKEY* key, const EVP_MD* md, const Bytes& data, const Bytes& sig);
bool VerifyRsaPss(EVP_PKEY* key, const EVP_MD* md, const EVP_MD* mgf1_md, int salt_len,
                  const Bytes& data, const Bytes& sig, bool data_is_hash);
// sig is PKCS#11's raw r||s.
bool VerifyEcdsa(EVP_PKEY* key, const EVP_MD* md, const Bytes& data, const Bytes& sig_rs,
                 bool data_is_hash);

Bytes Digest(const EVP_MD* md, const Bytes& data);
// DER DigestInfo for SHA-256 of data (input of CKM_RSA_PKCS signing).
Bytes Sha256DigestInfo(const Bytes& data);

// Encryption to a public key; padding is RSA_PKCS1_PADDING, RSA_PKCS1_OAEP_PADDING or
// RSA_NO_PADDING. oaep_md is used for both the OAEP hash and MGF1.
Bytes RsaEncrypt(EVP_PKEY* key, int padding, const EVP_MD* oaep_md, const Bytes& data,
                 const Bytes& label = {});

PKey GenerateEcKey(const std::string& curve);
PKey GenerateRsaKey(unsigned bits);
Bytes EcRawPoint(EVP_PKEY* key);  // 04||X||Y
Bytes EcdhSecret(EVP_PKEY* priv, EVP_PKEY* peer_pub);

// RSA private key components, big-endian unsigned, for C_CreateObject import.
struct RsaComponents {
  Bytes n, e, d, p, q, dp, dq, qinv;
};
RsaComponents RsaComponentsOf(EVP_PKEY* key);

// A self-signed X.509 certificate with its DER subject, issuer and serial-number INTEGER.
struct TestCert {
  Bytes der;
  Bytes subject;
  Bytes issuer;
  Bytes serial;  // DER INTEGER, as in CKA_SERIAL_NUMBER
  PKey key;
};
TestCert MakeSelfSignedCert(const std::string& common_name);

}  // namespace conf

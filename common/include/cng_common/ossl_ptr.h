// Owners of OpenSSL objects for the whole project (cng_model's providers and store, the module's
// remaining OpenSSL use, cngkey, tests, bench, fuzz targets): free_object is the one release
// function per OpenSSL type, Owned<T> the unique_ptr that calls it.
#pragma once

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/decoder.h>
#include <openssl/ec.h>
#include <openssl/encoder.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/param_build.h>
#include <openssl/x509.h>

#include <memory>

namespace cng::ossl {

// BIGNUMs often hold private values: every one is cleared before it is freed.
inline void free_object(BIGNUM* p) noexcept { BN_clear_free(p); }
inline void free_object(BN_CTX* p) noexcept { BN_CTX_free(p); }
inline void free_object(BIO* p) noexcept { BIO_free_all(p); }
inline void free_object(EVP_PKEY* p) noexcept { EVP_PKEY_free(p); }
inline void free_object(EVP_PKEY_CTX* p) noexcept { EVP_PKEY_CTX_free(p); }
inline void free_object(EVP_MD_CTX* p) noexcept { EVP_MD_CTX_free(p); }
// Frees (and cleanses) the expanded key schedule.
inline void free_object(EVP_CIPHER_CTX* p) noexcept { EVP_CIPHER_CTX_free(p); }
inline void free_object(EVP_CIPHER* p) noexcept { EVP_CIPHER_free(p); }
inline void free_object(EVP_MAC* p) noexcept { EVP_MAC_free(p); }
inline void free_object(EVP_MAC_CTX* p) noexcept { EVP_MAC_CTX_free(p); }
inline void free_object(EVP_KDF* p) noexcept { EVP_KDF_free(p); }
inline void free_object(EVP_KDF_CTX* p) noexcept { EVP_KDF_CTX_free(p); }
inline void free_object(OSSL_PARAM_BLD* p) noexcept { OSSL_PARAM_BLD_free(p); }
inline void free_object(OSSL_PARAM* p) noexcept { OSSL_PARAM_free(p); }
inline void free_object(OSSL_ENCODER_CTX* p) noexcept { OSSL_ENCODER_CTX_free(p); }
inline void free_object(OSSL_DECODER_CTX* p) noexcept { OSSL_DECODER_CTX_free(p); }
inline void free_object(ECDSA_SIG* p) noexcept { ECDSA_SIG_free(p); }
inline void free_object(EC_GROUP* p) noexcept { EC_GROUP_free(p); }
inline void free_object(EC_POINT* p) noexcept { EC_POINT_clear_free(p); }
inline void free_object(PKCS8_PRIV_KEY_INFO* p) noexcept { PKCS8_PRIV_KEY_INFO_free(p); }
inline void free_object(X509* p) noexcept { X509_free(p); }
inline void free_object(X509_NAME* p) noexcept { X509_NAME_free(p); }
inline void free_object(X509_PUBKEY* p) noexcept { X509_PUBKEY_free(p); }
inline void free_object(ASN1_OBJECT* p) noexcept { ASN1_OBJECT_free(p); }
// ASN1_OCTET_STRING, ASN1_INTEGER ... are all this one type.
inline void free_object(ASN1_STRING* p) noexcept { ASN1_STRING_free(p); }
inline void free_object(ASN1_SEQUENCE_ANY* p) noexcept { sk_ASN1_TYPE_pop_free(p, ASN1_TYPE_free); }

struct Deleter {
  template <class T>
  void operator()(T* p) const noexcept {
    free_object(p);
  }
};
template <class T>
using Owned = std::unique_ptr<T, Deleter>;

using PkeyPtr = Owned<EVP_PKEY>;
using PkeyCtxPtr = Owned<EVP_PKEY_CTX>;
using MdCtxPtr = Owned<EVP_MD_CTX>;
using BnPtr = Owned<BIGNUM>;
using SecretBnPtr = Owned<BIGNUM>;  // the same owner: named where the value is secret
using BnCtxPtr = Owned<BN_CTX>;
using ParamBldPtr = Owned<OSSL_PARAM_BLD>;
using ParamsPtr = Owned<OSSL_PARAM>;
using EcdsaSigPtr = Owned<ECDSA_SIG>;
using EncoderCtxPtr = Owned<OSSL_ENCODER_CTX>;
using DecoderCtxPtr = Owned<OSSL_DECODER_CTX>;
using KdfPtr = Owned<EVP_KDF>;
using KdfCtxPtr = Owned<EVP_KDF_CTX>;
using CipherPtr = Owned<EVP_CIPHER>;
using CipherCtxPtr = Owned<EVP_CIPHER_CTX>;
using MacPtr = Owned<EVP_MAC>;
using MacCtxPtr = Owned<EVP_MAC_CTX>;
using BioPtr = Owned<BIO>;
using X509Ptr = Owned<X509>;
using X509NamePtr = Owned<X509_NAME>;
using Asn1ObjectPtr = Owned<ASN1_OBJECT>;

}  // namespace cng::ossl

// OpenSSL helpers of the mechanism layer: RAII owners and error reporting.
#pragma once

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include <cstdint>
#include <memory>
#include <span>

#include "core/p11_error.h"

namespace p11::mech {

template <auto Free>
struct OsslDeleter {
  template <class T>
  void operator()(T* p) const noexcept {
    Free(p);
  }
};

using PkeyPtr = std::unique_ptr<EVP_PKEY, OsslDeleter<EVP_PKEY_free>>;
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, OsslDeleter<EVP_PKEY_CTX_free>>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, OsslDeleter<EVP_MD_CTX_free>>;
using BignumPtr = std::unique_ptr<BIGNUM, OsslDeleter<BN_free>>;
using EcdsaSigPtr = std::unique_ptr<ECDSA_SIG, OsslDeleter<ECDSA_SIG_free>>;
using ParamBldPtr = std::unique_ptr<OSSL_PARAM_BLD, OsslDeleter<OSSL_PARAM_BLD_free>>;
using ParamsPtr = std::unique_ptr<OSSL_PARAM, OsslDeleter<OSSL_PARAM_free>>;

// Clears OpenSSL's error queue and throws P11Error(rv, what + OpenSSL's reason).
[[noreturn]] void ossl_fail(CK_RV rv, const char* what);

// Parses a DER SubjectPublicKeyInfo (KeyView::spki_der) as a key of the expected type
// ("RSA" or "EC"). CKR_GENERAL_ERROR when the object layer handed us something else.
PkeyPtr parse_spki(std::span<const std::uint8_t> der, const char* expected_type);

}  // namespace p11::mech

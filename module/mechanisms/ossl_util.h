// OpenSSL helpers of the mechanism layer: the shared RAII owners and error reporting.
#pragma once

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include <cstdint>
#include <memory>
#include <span>

#include "cng_common/ossl_ptr.h"
#include "core/p11_error.h"

namespace p11::mech {

using cng::ossl::EcdsaSigPtr;
using cng::ossl::MdCtxPtr;
using cng::ossl::ParamBldPtr;
using cng::ossl::ParamsPtr;
using cng::ossl::PkeyCtxPtr;
using cng::ossl::PkeyPtr;
using BignumPtr = cng::ossl::BnPtr;

// Clears OpenSSL's error queue and throws P11Error(rv, what + OpenSSL's reason).
[[noreturn]] void ossl_fail(CK_RV rv, const char* what);

// Parses a DER SubjectPublicKeyInfo (KeyView::spki_der) as a key of the expected type
// ("RSA" or "EC"). CKR_GENERAL_ERROR when the object layer handed us something else.
PkeyPtr parse_spki(std::span<const std::uint8_t> der, const char* expected_type);

}  // namespace p11::mech

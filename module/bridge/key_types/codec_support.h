// Helpers the key type codecs (rsa.cpp, ec.cpp) share: the project's OpenSSL owners, reading
// and writing BCRYPT blob fields, and building an EVP_PKEY / PKCS#8 from key parts. Internal to
// bridge/key_types/.
#pragma once

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/x509.h>

#include <memory>

#include "bridge/bytes.h"
#include "cng_common/ossl_ptr.h"
#include "ncrypt.h"

namespace p11::bridge::codec {

// The project's OpenSSL owners.
using cng::ossl::Owned;

// Malformed blobs from NCrypt: CKR_DEVICE_ERROR; bad values from the PKCS#11 side:
// CKR_ATTRIBUTE_VALUE_INVALID; OpenSSL failing: CKR_FUNCTION_FAILED.
[[noreturn]] void bad_blob(const char* what);
[[noreturn]] void bad_value(const char* what);
[[noreturn]] void openssl_failed(const char* what);

// Little-endian ULONG fields of BCRYPT blob headers (the caller checks the size).
ULONG read_ulong(ByteView blob, std::size_t at);
void put_ulong(Bytes& out, ULONG v);
// The next n bytes of a blob at `at` (advanced); CKR_DEVICE_ERROR when the blob is short.
ByteView take(ByteView blob, std::size_t& at, std::size_t n);

Owned<BIGNUM> to_bn(ByteView v);
// An EVP_PKEY of type "RSA"/"EC" from parameters; CKR_ATTRIBUTE_VALUE_INVALID when the parts
// do not form a valid key.
Owned<EVP_PKEY> pkey_from_params(const char* type, OSSL_PARAM_BLD* bld, int selection);
// PKCS#8 PrivateKeyInfo DER of a private key.
SecretBytes to_pkcs8(EVP_PKEY* pkey);

}  // namespace p11::bridge::codec

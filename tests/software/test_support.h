// Helpers for the software provider tests: shared keys (generated once per process), an
// independent BCRYPT public blob parser and plain-OpenSSL reference operations.
#pragma once

#include <openssl/evp.h>

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/cng_error.h"
#include "providers/key_material.h"
#include "providers/provider.h"

namespace cng_test {

using cng::Bytes;
using ByteView = std::span<const std::uint8_t>;

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;

// The provider under test (one per process).
cng::Provider& provider();
// Keys generated once per process and shared by the tests (RSA keygen is slow).
std::shared_ptr<cng::KeyMaterial> shared_rsa(DWORD bits);
std::shared_ptr<cng::KeyMaterial> shared_ec(cng::KeyAlgorithm algorithm, cng::Curve curve);

// Rebuilds the public key from a BCRYPT_RSAPUBLIC_BLOB / BCRYPT_ECCPUBLIC_BLOB with code
// independent of the provider's blob codec.
Pkey pkey_from_public_blob(ByteView blob);
// The private key as plain OpenSSL sees it (through the provider's PKCS#8 export).
Pkey pkey_from_pkcs8(ByteView der);

Bytes random_bytes(std::size_t n);
Bytes digest(const char* md, ByteView data);
// DER DigestInfo of a digest (what CKM_RSA_PKCS callers pass with pszAlgId = NULL).
Bytes digest_info(const char* md, ByteView hash);
// Big-endian r||s → DER ECDSA-Sig-Value.
Bytes ecdsa_der(ByteView raw_rs);

// Expects `fn` to throw CngError with `status`.
template <class Fn>
SECURITY_STATUS status_of(Fn&& fn) {
  try {
    fn();
  } catch (const cng::CngError& e) {
    return e.status();
  }
  return 0;
}

}  // namespace cng_test

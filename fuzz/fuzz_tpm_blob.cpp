// libFuzzer target for the platform provider's stored key blob (providers/platform/tpm_blob.h):
// magic, version, parent kind, parent name, then TPM2B_PUBLIC and TPM2B_PRIVATE as the TSS
// marshals them. Properties checked on every input:
//   - decode_blob() either succeeds or throws CngError(NTE_BAD_DATA);
//   - a decoded blob re-encodes to bytes that decode again to the same fields, and that
//     re-encoding is a fixed point (encode(decode(e)) == e) (differential through Tss2_MU);
//   - public_key_of() and object_name() on the decoded public area either succeed or throw
//     CngError(NTE_BAD_DATA); an RSA or EC key they accept has a public key OpenSSL can export.
// Anything else (another exception, a sanitizer report) aborts.
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <span>

#include "core/cng_error.h"
#include "providers/platform/tpm_blob.h"

namespace {

bool same_fields(const cng::tpm::TpmKeyBlob& a, const cng::tpm::TpmKeyBlob& b) {
  return a.parent == b.parent && a.parent_name == b.parent_name && a.priv.size == b.priv.size &&
         std::memcmp(a.priv.buffer, b.priv.buffer, a.priv.size) == 0 &&
         cng::tpm::marshal_public(a.pub) == cng::tpm::marshal_public(b.pub);
}

void expect_bad_data(const cng::CngError& e) {
  if (e.status() != NTE_BAD_DATA) {
    std::abort();
  }
}

void check_public_area(const TPMT_PUBLIC& area) {
  try {
    const cng::ossl::PkeyPtr key = cng::tpm::public_key_of(area);
    unsigned char* der = nullptr;
    const int len = i2d_PUBKEY(key.get(), &der);
    OPENSSL_free(der);
    if (len <= 0) {
      std::abort();  // an accepted key must be a usable public key
    }
  } catch (const cng::CngError& e) {
    expect_bad_data(e);
  }
  try {
    const cng::Bytes name = cng::tpm::object_name(area);
    if (name.size() < 2 + 20) {
      std::abort();  // nameAlg plus at least a SHA-1 digest
    }
  } catch (const cng::CngError& e) {
    expect_bad_data(e);
  }
  (void)cng::tpm::curve_of(area);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  cng::tpm::TpmKeyBlob blob;
  try {
    blob = cng::tpm::decode_blob(std::span<const std::uint8_t>(data, size));
  } catch (const cng::CngError& e) {
    expect_bad_data(e);
    return 0;
  }
  const cng::SecureBytes encoded = cng::tpm::encode_blob(blob);
  cng::tpm::TpmKeyBlob again;
  try {
    again = cng::tpm::decode_blob(encoded);
  } catch (const cng::CngError&) {
    std::abort();  // our own encoding must decode
  }
  if (!same_fields(blob, again) || cng::tpm::encode_blob(again) != encoded) {
    std::abort();
  }
  check_public_area(blob.pub.publicArea);
  return 0;
}

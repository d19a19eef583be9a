// Small helpers shared by the fuzz targets' oracles: a check that aborts (so libFuzzer reports
// the input) and owners for the OpenSSL objects the oracles decode with.
#pragma once

#include <openssl/asn1.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <cstdlib>
#include <memory>

namespace fuzz {

inline void require(bool ok) {
  if (!ok) {
    std::abort();
  }
}

struct OsslFree {
  void operator()(X509_PUBKEY* p) const noexcept { X509_PUBKEY_free(p); }
  void operator()(ASN1_SEQUENCE_ANY* p) const noexcept { sk_ASN1_TYPE_pop_free(p, ASN1_TYPE_free); }
  void operator()(BIGNUM* p) const noexcept { BN_free(p); }
  void operator()(ASN1_OCTET_STRING* p) const noexcept { ASN1_OCTET_STRING_free(p); }
  void operator()(ASN1_OBJECT* p) const noexcept { ASN1_OBJECT_free(p); }
  void operator()(EVP_PKEY* p) const noexcept { EVP_PKEY_free(p); }
};
using X509PubkeyPtr = std::unique_ptr<X509_PUBKEY, OsslFree>;
using Asn1SequencePtr = std::unique_ptr<ASN1_SEQUENCE_ANY, OsslFree>;
using BnPtr = std::unique_ptr<BIGNUM, OsslFree>;
using OctetPtr = std::unique_ptr<ASN1_OCTET_STRING, OsslFree>;
using ObjectPtr = std::unique_ptr<ASN1_OBJECT, OsslFree>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, OsslFree>;

}  // namespace fuzz

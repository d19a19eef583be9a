// Small helpers shared by the fuzz targets' oracles: a check that aborts (so libFuzzer reports
// the input) and names for
// the project's owners of the OpenSSL objects the oracles decode with.
#pragma once

#include <openssl/asn1.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <cstdlib>
#include <memory>

#include "cng_common/ossl_ptr.h"

namespace fuzz {

inline void require(bool ok) {
  if (!ok) {
    std::abort();
  }
}

using X509PubkeyPtr = cng::ossl::Owned<X509_PUBKEY>;
using Asn1SequencePtr = cng::ossl::Owned<ASN1_SEQUENCE_ANY>;
using BnPtr = cng::ossl::BnPtr;
using OctetPtr = cng::ossl::Owned<ASN1_OCTET_STRING>;
using ObjectPtr = cng::ossl::Asn1ObjectPtr;
using PkeyPtr = cng::ossl::PkeyPtr;

}  // namespace fuzz

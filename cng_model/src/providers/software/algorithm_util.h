// OpenSSL-side names and sizes for the CNG algorithm vocabulary (HashId, Curve, algorithm ids).
#pragma once

#include <openssl/evp.h>

#include <cstddef>
#include <string_view>

#include "providers/key_material.h"

namespace cng::soft {

// Fetched once per process (leaky singleton, safe from atexit handlers); nullptr for kNone.
const EVP_MD* evp_md(HashId h) noexcept;
const char* md_name(HashId h) noexcept;  // "SHA256"…, nullptr for kNone

const char* group_name(Curve c) noexcept;  // OpenSSL group "P-256"…, nullptr for kNone
// Maps an OpenSSL group name ("prime256v1", "P-256", "secp384r1"…) to a Curve; kNone if unknown.
Curve curve_from_group(std::string_view group) noexcept;
std::size_t field_bytes(Curve c) noexcept;  // 32 / 48 / 66

// A CNG algorithm id as stored in a KeyRecord: "RSA", "ECDSA_P256", "ECDH", …
struct AlgorithmName {
  KeyAlgorithm algorithm = KeyAlgorithm::kRsa;
  Curve curve = Curve::kNone;  // kNone for RSA and for the generic "ECDSA"/"ECDH"
};
// NTE_NOT_SUPPORTED for an id this provider does not implement.
AlgorithmName parse_algorithm_name(std::u16string_view id);

// The OpenSSL key type to fetch by: the algorithm's OID rather than "RSA"/"EC". In a host
// process where an ENGINE is the default for RSA/EC (e.g. `openssl -engine pkcs11`, which loads
// this module), fetching by the short name returns a legacy engine context that can neither
// build keys from parameters nor generate EC keys; the OID name always reaches the provider.
inline const char* provider_key_type(std::string_view type) noexcept {
  if (type == "RSA") {
    return "1.2.840.113549.1.1.1";
  }
  if (type == "EC") {
    return "1.2.840.10045.2.1";
  }
  return type.data();
}

}  // namespace cng::soft

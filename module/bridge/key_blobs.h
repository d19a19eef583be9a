// CNG key blobs <-> PKCS#11 key values (reference/cng-model.md §2.6): the values every key
// pair type shares, and the entry points that dispatch to the key type's codec
// (key_types/key_type.h; the codecs use OpenSSL 3 for PKCS#8 and EC point arithmetic).
// Malformed input from the PKCS#11 side throws P11Error(CKR_ATTRIBUTE_VALUE_INVALID); a
// malformed blob coming back from NCrypt throws P11Error(CKR_DEVICE_ERROR).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "bridge/bytes.h"
#include "ncrypt.h"
#include "pkcs11/pkcs11_all.h"

namespace p11::bridge {

struct CurveInfo {
  const char* openssl_name;         // "prime256v1"
  const char16_t* ecdsa_algorithm;  // NCRYPT_ECDSA_P256_ALGORITHM
  const char16_t* ecdh_algorithm;   // NCRYPT_ECDH_P256_ALGORITHM
  const char16_t* cng_curve_name;   // "nistP256"
  Bytes ec_params;                  // CKA_EC_PARAMS: DER OBJECT IDENTIFIER
  std::size_t field_bytes;          // 32 / 48 / 66
  CK_ULONG bits;                    // 256 / 384 / 521
};

// By CKA_EC_PARAMS (the DER OID only; named-curve strings and explicit parameters are not
// curves a CNG provider knows): nullptr when not P-256/384/521.
const CurveInfo* curve_by_params(ByteView ec_params) noexcept;
// By CNG algorithm id ("ECDSA_P384", "ECDH_P256") or curve name ("nistP521").
const CurveInfo* curve_by_cng_name(std::u16string_view name) noexcept;

// The public half of a key as PKCS#11 sees it.
struct PublicKeyValues {
  CK_KEY_TYPE key_type = CKK_RSA;
  Bytes modulus;                     // RSA, big-endian, no leading zero
  Bytes public_exponent;             // RSA
  const CurveInfo* curve = nullptr;  // EC
  Bytes point;                       // EC: 04 || X || Y (CKA_EC_POINT's content octets)
  CK_ULONG bits = 0;                 // RSA modulus bits / EC curve bits
};

// BCRYPT_RSAPUBLIC_BLOB / BCRYPT_ECCPUBLIC_BLOB (ECDSA magic) for NCryptImportKey.
Bytes make_public_blob(const PublicKeyValues& key);
// CKA_PUBLIC_KEY_INFO: DER SubjectPublicKeyInfo (encoded without validating the key).
Bytes spki_der(const PublicKeyValues& key);
// SEQUENCE { algorithm, BIT STRING subjectPublicKey }: what the codecs' spki_der assemble.
Bytes spki_from_parts(ByteView algorithm_identifier, ByteView subject_public_key);
// Checks with OpenSSL that the values make a valid public key (CKR_ATTRIBUTE_VALUE_INVALID…).
void validate_public_key(const PublicKeyValues& key);
// DER helpers: a tag-length-value, and an INTEGER from big-endian magnitude bytes.
Bytes der_tlv(std::uint8_t tag, ByteView content);
Bytes der_integer(ByteView big_endian);
// The NSS CKA_ID convention (pk11_MakeIDFromPublicKey): SHA-1 over the RSA modulus (unsigned,
// no leading zero) or over the raw EC point 04||X||Y, i.e. CKA_EC_POINT's content octets.
Bytes nss_key_id(const PublicKeyValues& key);

// CKA_EC_POINT is a DER OCTET STRING around the point.
Bytes der_octet_string(ByteView content);
// Accepts the DER form and, as many modules do, the raw point; nullopt when neither.
std::optional<Bytes> ec_point_from_attribute(ByteView value, const CurveInfo& curve);

// Strips leading zero bytes of a big-endian integer (keeps one byte for zero).
Bytes strip_leading_zeros(ByteView value);
Bytes sha1(ByteView data);

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

}  // namespace p11::bridge

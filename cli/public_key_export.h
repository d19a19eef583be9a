// Converts CNG public key blobs (BCRYPT_RSAPUBLIC_BLOB, BCRYPT_ECCPUBLIC_BLOB) into OpenSSL
// keys, and from there into SubjectPublicKeyInfo (DER or PEM) and the NSS-style key id.
#pragma once

#include <openssl/evp.h>

#include <cstdint>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "cng_common/ossl_ptr.h"

namespace cngkey {

// The blob is malformed or OpenSSL refused the key; main() exits with kExitOtherFailure.
class ConversionError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

using cng::ossl::PkeyPtr;

struct PublicKey {
  PkeyPtr key;
  // The value NSS hashes for CKA_ID: the RSA modulus (big-endian, as in the blob) or the
  // uncompressed EC point 04 || X || Y.
  std::vector<std::uint8_t> public_value;
  std::string description;  // "RSA 2048 bits", "EC P-256 (prime256v1)"
};

// Throws ConversionError for anything but a well-formed RSA1 / ECS1..ECS5 / ECK1..ECK5 blob.
PublicKey public_key_from_blob(std::span<const std::uint8_t> blob);

std::vector<std::uint8_t> spki_der(const PublicKey& key);
std::string spki_pem(const PublicKey& key);

// SHA-1 of public_value: the CKA_ID NSS computes for a key pair it generates.
std::vector<std::uint8_t> nss_key_id(const PublicKey& key);

}  // namespace cngkey

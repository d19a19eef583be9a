// The hash algorithms of the mechanism layer: their PKCS#11 names (digest mechanism, MGF1,
// X9.63 KDF), OpenSSL digest, CNG algorithm id and PKCS#1 DigestInfo prefix; and a Hasher
// that owns one EVP_MD_CTX for the lifetime of an operation.
#pragma once

#include <openssl/evp.h>

#include <array>
#include <cstdint>
#include <span>

#include "mechanisms/ossl_util.h"
#include "pkcs11/pkcs11_all.h"

namespace p11::mech {

enum class HashAlg : std::uint8_t { kNone, kSha1, kSha224, kSha256, kSha384, kSha512 };

struct HashSpec {
  HashAlg alg;
  CK_MECHANISM_TYPE digest_mechanism;  // CKM_SHA_1, CKM_SHA224, …
  CK_RSA_PKCS_MGF_TYPE mgf;            // CKG_MGF1_SHA1, …
  CK_ULONG kdf;                        // CKD_SHA1_KDF, … (CK_EC_KDF_TYPE)
  const char* ossl_name;
  std::size_t size;
  // The NCrypt hash algorithm id, or nullptr: CNG has no SHA-224 (PKCS#1 v1.5 signing then
  // passes a DigestInfo we build; PSS and OAEP cannot use it).
  const char16_t* cng_alg_id;
  // DER DigestInfo up to the digest: AlgorithmIdentifier with NULL parameters, OCTET STRING.
  std::span<const std::uint8_t> digest_info_prefix;
};

constexpr std::size_t kMaxDigestSize = 64;

// kNone is not a hash: CKR_GENERAL_ERROR.
const HashSpec& hash_spec(HashAlg alg);
// nullptr when the value names no hash we support.
const HashSpec* hash_by_digest_mechanism(CK_MECHANISM_TYPE type) noexcept;
const HashSpec* hash_by_kdf(CK_ULONG kdf) noexcept;

// The hash id for cng_model extensions (HMAC, RSA key wrapping): the NCrypt id, or the
// model's NCRYPT_SHA224_ALGORITHM for SHA-224.
const char16_t* model_hash_alg_id(HashAlg alg);

// The OpenSSL digest, fetched once per process and kept (a leaky static: EVP_sha256() & co.
// would be re-fetched on every init).
const EVP_MD* evp_md(HashAlg alg);

// A running hash. update() after final() is a caller bug (CKR_OPERATION_NOT_INITIALIZED).
class Hasher {
 public:
  explicit Hasher(HashAlg alg);
  void update(std::span<const std::uint8_t> data);
  // Writes size() bytes to out and ends the hash.
  void final(std::span<std::uint8_t> out);
  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  [[nodiscard]] HashAlg alg() const noexcept { return alg_; }

 private:
  MdCtxPtr ctx_;
  HashAlg alg_;
  std::size_t size_;
  bool finished_ = false;
};

}  // namespace p11::mech

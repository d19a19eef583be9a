// KeyMaterial: the cryptographic half of a CNG key, as a provider implements it.
// The NCrypt layer (api/) owns handles, state, properties and storage; it calls a provider
// for key generation and for each operation on a finalized key. The software provider
// implements this on OpenSSL 3; the platform provider on a TPM (private part never leaves it).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "core/cng_error.h"
#include "core/secure_bytes.h"
#include "ncrypt.h"

namespace cng {

// Key algorithms as the NCrypt layer models them; the name, group, class, lengths and family of
// each live in one table (providers/algorithm_table.h).
enum class KeyAlgorithm { kRsa, kEcdsa, kEcdh, kAes, kGenericSecret };
enum class Curve { kNone, kP256, kP384, kP521 };
// kSha224 is a model extension ("SHA224"; CNG has no SHA-224) for HMAC with generic secrets.
enum class HashId { kNone, kMd5, kSha1, kSha224, kSha256, kSha384, kSha512 };

// Maps "SHA256" etc. (case-insensitive) to HashId; NULL → kNone; unknown → NTE_INVALID_PARAMETER.
HashId hash_from_alg_id(LPCWSTR alg_id);
std::size_t hash_size(HashId h) noexcept;         // 0 for kNone
Curve curve_from_name(std::u16string_view name);  // "nistP256"/"secP256r1"…; else NTE_NOT_SUPPORTED
std::u16string_view curve_name(Curve c) noexcept;  // "nistP256"…
DWORD curve_bits(Curve c) noexcept;                // 256/384/521

// What to generate (NCryptFinalizeKey) – the creation-time properties that shape the key.
struct KeySpec {
  KeyAlgorithm algorithm = KeyAlgorithm::kRsa;
  DWORD rsa_bits = 1024;  // RSA: the Length property
  Curve curve = Curve::kNone;
  DWORD symmetric_bits = 0;  // symmetric keys: the Length property
  // The key's usage authorisation (NCRYPT_PIN_PROPERTY before finalize), for a provider whose
  // device enforces it (Provider::enforces_usage_auth); empty: none. Never stored by us.
  SecureBytes usage_auth;
};

// Symmetric cipher parameters (AES), checked by the NCrypt layer before the provider sees them.
enum class ChainingMode { kEcb, kCbc, kGcm };
struct SymmetricParams {
  ChainingMode mode = ChainingMode::kCbc;
  bool pkcs7 = false;          // ECB/CBC: PKCS#7 block padding
  Bytes iv;                    // CBC: 16 bytes; GCM: the nonce
  Bytes aad;                   // GCM: additional authenticated data
  Bytes tag;                   // GCM decrypt: the expected tag
  std::size_t tag_length = 0;  // GCM encrypt: tag bytes wanted (4..16)
};
// AES key wrapping: RFC 3394 (KW), RFC 5649 (KWP), RFC 3394 over PKCS#7-padded input
// (padded to a multiple of 8 bytes).
enum class WrapMode { kRfc3394, kRfc5649, kRfc3394Pkcs7 };

struct SymmetricResult {
  SecureBytes output;
  Bytes tag;  // GCM encrypt
};

// Signature padding: flags is 0 (ECDSA), NCRYPT_PAD_PKCS1_FLAG or NCRYPT_PAD_PSS_FLAG.
// For PKCS1 with hash kNone the input is an encoded DigestInfo (or raw data) signed as-is.
struct SignPadding {
  DWORD flags = 0;
  HashId hash = HashId::kNone;
  DWORD salt = 0;
};

// Encryption padding: NCRYPT_NO_PADDING_FLAG, NCRYPT_PAD_PKCS1_FLAG or NCRYPT_PAD_OAEP_FLAG.
struct CipherPadding {
  DWORD flags = 0;
  HashId hash = HashId::kSha1;
  Bytes label;
};

class KeyMaterial {
 public:
  KeyMaterial() = default;
  KeyMaterial(const KeyMaterial&) = delete;
  KeyMaterial& operator=(const KeyMaterial&) = delete;
  virtual ~KeyMaterial() = default;

  [[nodiscard]] virtual KeyAlgorithm algorithm() const noexcept = 0;
  [[nodiscard]] virtual Curve curve() const noexcept = 0;  // kNone for RSA
  [[nodiscard]] virtual DWORD bits() const noexcept = 0;   // modulus bits / curve bits
  [[nodiscard]] virtual bool has_private() const noexcept = 0;
  [[nodiscard]] virtual DWORD signature_size()
      const noexcept = 0;  // RSA: modulus bytes; EC: 2*field bytes

  // Signs a digest (ECDSA: raw r||s, fixed length). Must be safe to call from many threads
  // at once on one object, and must not re-create expensive state on every call.
  [[nodiscard]] virtual Bytes sign_hash(const SignPadding& pad,
                                        std::span<const std::uint8_t> hash) const = 0;
  // Throws NTE_BAD_SIGNATURE when the signature does not verify.
  virtual void verify_signature(const SignPadding& pad, std::span<const std::uint8_t> hash,
                                std::span<const std::uint8_t> signature) const = 0;
  [[nodiscard]] virtual Bytes encrypt(const CipherPadding& pad,
                                      std::span<const std::uint8_t> plain) const = 0;
  [[nodiscard]] virtual SecureBytes decrypt(const CipherPadding& pad,
                                            std::span<const std::uint8_t> cipher) const = 0;
  // Raw ECDH shared secret (big-endian X coordinate) with a peer of the same curve.
  [[nodiscard]] virtual SecureBytes agree(const KeyMaterial& peer) const = 0;

  // BCRYPT_RSAPUBLIC_BLOB / BCRYPT_ECCPUBLIC_BLOB bytes (magic chosen by algorithm()).
  [[nodiscard]] virtual Bytes public_blob() const = 0;
  // Plaintext private export in a BCRYPT blob type or NCRYPT_PKCS8_PRIVATE_KEY_BLOB; the NCrypt
  // layer enforces the export policy before calling. NTE_BAD_TYPE when the blob type does not fit.
  [[nodiscard]] virtual SecureBytes export_private(std::u16string_view blob_type) const = 0;

  // Symmetric keys (default: NTE_NOT_SUPPORTED). A wrong GCM tag is STATUS_AUTH_TAG_MISMATCH,
  // bad PKCS#7 padding NTE_BAD_DATA, an input length that is not a block multiple NTE_BAD_LEN.
  [[nodiscard]] virtual SymmetricResult symmetric_crypt(
      bool /*encrypt*/, const SymmetricParams& /*params*/,
      std::span<const std::uint8_t> /*in*/) const {
    fail(NTE_NOT_SUPPORTED, "not a symmetric cipher key");
  }
  // HMAC of data with the key (full length), for generic secret keys.
  [[nodiscard]] virtual Bytes hmac(HashId /*hash*/, std::span<const std::uint8_t> /*data*/) const {
    fail(NTE_NOT_SUPPORTED, "not a MAC key");
  }

  // Key wrapping with this key as the key-encryption key (default: NTE_NOT_SUPPORTED).
  // wrap: NTE_BAD_LEN when the plaintext length does not suit the mode. unwrap: NTE_BAD_LEN
  // for an impossible wrapped length, NTE_BAD_DATA when the integrity check or padding fails.
  [[nodiscard]] virtual Bytes wrap_key(WrapMode /*mode*/,
                                       std::span<const std::uint8_t> /*plain*/) const {
    fail(NTE_NOT_SUPPORTED, "not a key-wrapping key");
  }
  [[nodiscard]] virtual SecureBytes unwrap_key(WrapMode /*mode*/,
                                               std::span<const std::uint8_t> /*wrapped*/) const {
    fail(NTE_NOT_SUPPORTED, "not a key-wrapping key");
  }

  // A provider-specific key property (e.g. the platform provider's PCP_KEY_USAGE_POLICY), as
  // the raw value NCryptGetProperty returns; nullopt when the key has no property of that name.
  [[nodiscard]] virtual std::optional<Bytes> key_property(std::u16string_view /*name*/) const {
    return std::nullopt;
  }
};

}  // namespace cng

// What a key storage provider can do: the algorithms asked once through the public NCrypt API
// (NCryptIsAlgSupported, and the Lengths property of an unfinalized RSA key), plus the
// abilities its profile declares (slots/profile.h) because no NCrypt query reveals them.
// The module derives a slot's PKCS#11 mechanism table from it; this layer knows nothing of
// PKCS#11.
#pragma once

#include <cstdint>

#include "ncrypt.h"

namespace slots {

struct BitRange {
  std::uint32_t min_bits = 0;
  std::uint32_t max_bits = 0;
  friend bool operator==(const BitRange&, const BitRange&) = default;
};

// One thing a provider can do that a consumer may require of a slot (each mechanism row of
// the module names the abilities it needs).
enum class Ability : std::uint32_t {
  // Probed: follow from the algorithms probe_capabilities finds.
  kRsa = 1U << 0,            // RSA keys (NCRYPT_RSA_ALGORITHM with a Lengths range)
  kEcKeys = 1U << 1,         // EC keys on some NIST curve (ECDSA_Pn or ECDH_Pn)
  kEcdsa = 1U << 2,          // ECDSA signatures on some curve
  kEcdh = 1U << 3,           // ECDH secret agreement on some curve
  kAes = 1U << 4,            // persisted and ephemeral AES keys (NCRYPT_AES_ALGORITHM)
  kGenericSecret = 1U << 5,  // generic-secret keys with HMAC (NCRYPT_GENERIC_SECRET_ALGORITHM)
  // Declared by the provider's profile.
  kRsaOaep = 1U << 8,          // NCRYPT_PAD_OAEP_FLAG decryption
  kRsaPss = 1U << 9,           // NCRYPT_PAD_PSS_FLAG signatures with SHA-1 and SHA-256
  kRsaPssSha384 = 1U << 10,    // PSS signatures with SHA-384
  kRsaPssSha512 = 1U << 11,    // PSS signatures with SHA-512
  kRsaPkcs1Sha224 = 1U << 12,  // PKCS#1 v1.5 signatures over SHA-224, which has no CNG hash id
                               // (pszAlgId NULL, the caller's DigestInfo signed as is)
  kRsaRaw = 1U << 13,          // NCRYPT_NO_PADDING_FLAG: raw RSA encryption and decryption
  kRsaKeyWrap = 1U << 14,      // NCRYPT_RSA_WRAP_KEY_BLOB (a cng_model extension): symmetric
                               // keys exported/imported encrypted to an RSA key
};

// A set of abilities: what a provider has, or what a consumer needs (all of them).
class Abilities {
 public:
  constexpr Abilities() noexcept = default;
  // NOLINTNEXTLINE(google-explicit-constructor): one ability is a set of one.
  constexpr Abilities(Ability ability) noexcept : bits_(static_cast<std::uint32_t>(ability)) {}

  [[nodiscard]] constexpr bool contains(Abilities needed) const noexcept {
    return (bits_ & needed.bits_) == needed.bits_;
  }
  friend constexpr Abilities operator|(Abilities a, Abilities b) noexcept {
    Abilities out;
    out.bits_ = a.bits_ | b.bits_;
    return out;
  }
  friend constexpr bool operator==(Abilities, Abilities) = default;

 private:
  std::uint32_t bits_ = 0;
};

constexpr Abilities operator|(Ability a, Ability b) noexcept { return Abilities(a) | b; }

struct Capabilities {
  bool rsa = false;
  BitRange rsa_bits;  // NCRYPT_SUPPORTED_LENGTHS min/max; {0,0} without RSA
  // Per NIST curve (P-256, P-384, P-521): signing (ECDSA_Pn) and key agreement (ECDH_Pn).
  bool ecdsa_p256 = false;
  bool ecdsa_p384 = false;
  bool ecdsa_p521 = false;
  bool ecdh_p256 = false;
  bool ecdh_p384 = false;
  bool ecdh_p521 = false;
  // Symmetric keys: AES (CNG's NCRYPT_AES_ALGORITHM) and the model's generic secrets.
  bool aes = false;
  bool generic_secret = false;
  // The abilities the provider's profile declares (a Slot fills them in from its profile;
  // probe_capabilities leaves them empty).
  Abilities declared;

  [[nodiscard]] bool any_ecdsa() const noexcept { return ecdsa_p256 || ecdsa_p384 || ecdsa_p521; }
  [[nodiscard]] bool any_ecdh() const noexcept { return ecdh_p256 || ecdh_p384 || ecdh_p521; }
  // Field sizes of the curves usable for ECDSA or ECDH; {0,0} without any.
  [[nodiscard]] BitRange ec_bits() const noexcept;
  // The probed abilities (from the algorithms above) and the declared ones.
  [[nodiscard]] Abilities abilities() const noexcept;
  [[nodiscard]] bool has(Abilities needed) const noexcept { return abilities().contains(needed); }
  friend bool operator==(const Capabilities&, const Capabilities&) = default;
};

// Asks an open provider. An algorithm the provider refuses (or a failing call) is absent.
Capabilities probe_capabilities(NCRYPT_PROV_HANDLE provider) noexcept;

}  // namespace slots

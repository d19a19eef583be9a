// What a key storage provider can do, asked once through the public NCrypt API
// (NCryptIsAlgSupported, and the Lengths property of an unfinalized RSA key). The module
// derives a slot's PKCS#11 mechanism table from it; this layer knows nothing of PKCS#11.
#pragma once

#include <cstdint>

#include "ncrypt.h"

namespace slots {

struct BitRange {
  std::uint32_t min_bits = 0;
  std::uint32_t max_bits = 0;
  friend bool operator==(const BitRange&, const BitRange&) = default;
};

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

  [[nodiscard]] bool any_ecdsa() const noexcept { return ecdsa_p256 || ecdsa_p384 || ecdsa_p521; }
  [[nodiscard]] bool any_ecdh() const noexcept { return ecdh_p256 || ecdh_p384 || ecdh_p521; }
  // Field sizes of the curves usable for ECDSA or ECDH; {0,0} without any.
  [[nodiscard]] BitRange ec_bits() const noexcept;
  friend bool operator==(const Capabilities&, const Capabilities&) = default;
};

// Asks an open provider. An algorithm the provider refuses (or a failing call) is absent.
Capabilities probe_capabilities(NCRYPT_PROV_HANDLE provider) noexcept;

// The platform (TPM) provider's capabilities as probed by the last open_present_slots() that
// opened the platform slots (both platform slots share one TPM); nullptr before any did.
// The pointee stays valid for the life of the process.
const Capabilities* platform_capabilities() noexcept;
// Records caps as the platform provider's (open_present_slots calls this).
void set_platform_capabilities(const Capabilities& caps);

}  // namespace slots

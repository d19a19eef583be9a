// What a TPM can do, asked once per connection (TPM2_GetCapability, TPM2_TestParms), and the
// mapping of the CNG vocabulary (HashId, Curve) onto TPM algorithm identifiers.
#pragma once

#include <tss2/tss2_esys.h>

#include <cstdint>
#include <string>
#include <vector>

#include "providers/key_material.h"

namespace cng::tpm {

struct TpmCapabilities {
  bool rsa = false;  // TPM2_ALG_RSA with RSASSA, RSAES and OAEP
  bool rsapss = false;
  bool ecdsa = false;                 // TPM2_ALG_ECC with TPM2_ALG_ECDSA
  bool ecdh = false;                  // TPM2_ALG_ECC with TPM2_ALG_ECDH
  std::vector<DWORD> rsa_bits;        // among 1024/2048/3072/4096, those TPM2_TestParms accepts
  std::vector<Curve> curves;          // NIST P-256/384/521 the TPM lists
  std::vector<HashId> hashes;         // SHA-1/256/384/512 the TPM implements
  std::uint32_t manufacturer = 0;     // TPM2_PT_MANUFACTURER (4 ASCII bytes, big-endian)
  std::string vendor;                 // TPM2_PT_VENDOR_STRING_1..4
  std::uint32_t firmware_1 = 0;       // TPM2_PT_FIRMWARE_VERSION_1
  std::uint32_t firmware_2 = 0;       // TPM2_PT_FIRMWARE_VERSION_2
  std::uint32_t spec_level = 0;       // TPM2_PT_LEVEL
  std::uint32_t spec_revision = 0;    // TPM2_PT_REVISION (e.g. 159 = 1.59)
  std::uint32_t transient_slots = 3;  // TPM2_PT_HR_TRANSIENT_MIN

  [[nodiscard]] bool has_hash(HashId h) const noexcept;
  [[nodiscard]] bool has_curve(Curve c) const noexcept;
  [[nodiscard]] bool has_rsa_bits(DWORD bits) const noexcept;
};

// Throws TpmError when the TPM does not answer.
TpmCapabilities query_capabilities(ESYS_CONTEXT* esys);

TPMI_ALG_HASH tpm_hash(HashId h) noexcept;   // TPM2_ALG_NULL for kNone / MD5
TPMI_ECC_CURVE tpm_curve(Curve c) noexcept;  // TPM2_ECC_NONE for kNone
// The TPM hash whose digest has exactly this many bytes and that the TPM implements, or
// HashId::kNone.
HashId tpm_hash_of_size(const TpmCapabilities& caps, std::size_t bytes) noexcept;

}  // namespace cng::tpm

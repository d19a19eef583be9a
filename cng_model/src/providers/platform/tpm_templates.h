// TPM2B_PUBLIC templates: the storage primary key (TCG SRK templates) and the keys this
// provider creates under it.
#pragma once

#include <tss2/tss2_tpm2_types.h>

#include <cstdint>

#include "providers/key_material.h"

namespace cng::tpm {

// Where a key's parent comes from. Stored in each key blob so a key is always loaded under
// the parent it was wrapped by.
enum class ParentKind : std::uint8_t {
  kPersistentSrk = 1,  // whatever storage key is provisioned at 0x81000001
  kEccSrk = 2,         // CreatePrimary(owner, TCG ECC P-256 SRK template), deterministic
  kRsaSrk = 3,         // CreatePrimary(owner, TCG RSA-2048 SRK template), deterministic
};

inline constexpr TPM2_HANDLE kSrkPersistentHandle = 0x81000001;

// The TCG storage primary templates: restricted decrypt, AES-128-CFB, fixedTPM, fixedParent,
// sensitiveDataOrigin, userWithAuth, noDA, SHA-256 name, empty policy and unique. The same
// template on the same TPM (same owner seed) always yields the same key.
TPM2B_PUBLIC srk_template(ParentKind kind);

// A non-restricted key with a NULL scheme (with KeySpec::usage_auth as its authValue: then
// without noDA; else empty auth), so that the signing or
// decryption scheme is chosen per operation. RSA and ECDH keys can sign and decrypt
// (ECDH_ZGen needs the decrypt attribute); ECDSA keys only sign.
TPM2B_PUBLIC key_template(const KeySpec& spec);

// Whether a public area is a storage key usable as a parent (restricted, decrypt, no sign).
bool is_storage_key(const TPMT_PUBLIC& pub) noexcept;

}  // namespace cng::tpm

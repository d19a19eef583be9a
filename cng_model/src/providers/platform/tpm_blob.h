// The platform provider's storage form of a key (KeyRecord::private_blob): the parent it was
// wrapped under and the TPM2B_PUBLIC / TPM2B_PRIVATE pair TPM2_Create returned. TPM2B_PRIVATE
// is encrypted and integrity-protected by the parent (a key derived from the TPM's owner seed),
// so the blob is useless without the TPM that made it.
//
// Layout: magic "CNGTPM2\x1a" | u8 version = 1 | u8 parent kind | u16 LE parent name length |
//         parent name (TPM2B_NAME bytes) | TPM2B_PUBLIC (Tss2_MU) | TPM2B_PRIVATE (Tss2_MU)
#pragma once

#include <tss2/tss2_tpm2_types.h>

#include <span>

#include "cng_common/ossl_ptr.h"
#include "core/secure_bytes.h"
#include "providers/platform/tpm_templates.h"

namespace cng::tpm {

struct TpmKeyBlob {
  ParentKind parent = ParentKind::kEccSrk;
  Bytes parent_name;  // the parent's TPM name when the key was created
  TPM2B_PUBLIC pub{};
  TPM2B_PRIVATE priv{};
};

SecureBytes encode_blob(const TpmKeyBlob& blob);
// NTE_BAD_DATA when the bytes are not exactly one well-formed blob.
TpmKeyBlob decode_blob(std::span<const std::uint8_t> bytes);

// Marshalled TPM2B_PUBLIC (e.g. for PCP_SRKPUB).
Bytes marshal_public(const TPM2B_PUBLIC& pub);
// The TPM name of a public area: nameAlg (big-endian) || H_nameAlg(TPMT_PUBLIC).
Bytes object_name(const TPMT_PUBLIC& pub);

// The public key of an RSA or NIST-curve ECC public area, for software verify/encrypt and the
// BCRYPT public blob. NTE_BAD_DATA when the area is not one of ours.
ossl::PkeyPtr public_key_of(const TPMT_PUBLIC& pub);
// Curve of an ECC public area (kNone for RSA or an unknown curve).
Curve curve_of(const TPMT_PUBLIC& pub) noexcept;

}  // namespace cng::tpm

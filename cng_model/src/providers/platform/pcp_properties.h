// The platform provider's own (PCP_*) properties, as raw property values (DWORDs little-endian,
// strings UTF-16 with the terminating NUL), for Provider::provider_property and
// KeyMaterial::key_property.
#pragma once

#include <optional>
#include <string_view>

#include "core/secure_bytes.h"
#include "providers/platform/tpm_connection.h"

namespace cng::tpm {

class TpmKey;

// PCP_PLATFORM_TYPE (string "TPM-Version:2.0 -Level:…-Revision:…-VendorID:'…'-Firmware:…"),
// PCP_PROVIDER_VERSION (string "1.0"), PCP_TPM_VERSION (DWORD 2 = TPM 2.0),
// PCP_TPM_MANUFACTURER_ID (DWORD TPM2_PT_MANUFACTURER), PCP_TPM_FW_VERSION
// (NCRYPT_PCP_TPM_FW_VERSION_INFO: four UINT16 from TPM2_PT_FIRMWARE_VERSION_1/2),
// PCP_SRKPUB (the storage parent's marshalled TPM2B_PUBLIC). nullopt for other names.
std::optional<Bytes> pcp_provider_property(TpmConnection& connection, std::u16string_view name);

// PCP_KEY_USAGE_POLICY (DWORD: NCRYPT_PCP_SIGNATURE_KEY, | NCRYPT_PCP_ENCRYPTION_KEY when the
// key can decrypt), PCP_TPM2BNAME (the key's TPM name), PCP_PASSWORD_REQUIRED (DWORD 0: no
// usage auth), PCP_EXPORT_ALLOWED (DWORD 0), PCP_STORAGEPARENT (the parent's TPM name).
std::optional<Bytes> pcp_key_property(const TpmKey& key, std::u16string_view name);

}  // namespace cng::tpm

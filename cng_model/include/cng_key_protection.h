// cng_key_protection.h: at-rest protection of the software provider's keys (the DPAPI
// analogue; the formats and the rekey protocol are in cng_model/src/store/master_key.h).
// Not part of ncrypt.h (Windows has no such calls). C++ only. dwFlags: 0 (user scope) or
// NCRYPT_MACHINE_KEY_FLAG. hProvider: the software key storage provider.
#pragma once

#include <cstdint>
#include <string>

#include "ncrypt.h"

namespace cng {

struct KeyProtectionStatus {
  std::string protector;        // "none" (no master key yet), "file", "tpm-sealed", "pin" or
                                // "tpm-pin" (sealed to the TPM under the PIN)
  std::string master_key_id;    // 32 lowercase hex digits, empty when none
  std::string master_key_file;  // the file holding the (protected) master key
  std::string keyring_dir;
  bool unlocked = false;  // the master key is available to this process
  std::uint32_t encrypted_keys = 0;
  std::uint32_t clear_keys = 0;  // legacy files not yet migrated (or unreadable headers)
};

SECURITY_STATUS CngGetKeyProtectionStatus(NCRYPT_PROV_HANDLE hProvider, DWORD dwFlags,
                                          KeyProtectionStatus* status) noexcept;
// A new master key; every key file re-encrypted under it (crash-safe). Migrates clear files.
SECURITY_STATUS CngRekeyScope(NCRYPT_PROV_HANDLE hProvider, DWORD dwFlags) noexcept;
// PIN protection: pbKek/cbKek is the 32-byte key-encryption key derived from the PIN.
// Protect rewraps the scope's master key under the KEK; Unlock makes it usable in this process
// (NTE_INCORRECT_PASSWORD when the KEK is wrong).
SECURITY_STATUS CngProtectScopeWithKek(NCRYPT_PROV_HANDLE hProvider, DWORD dwFlags,
                                       const BYTE* pbKek, DWORD cbKek) noexcept;
SECURITY_STATUS CngUnlockScopeWithKek(NCRYPT_PROV_HANDLE hProvider, DWORD dwFlags,
                                      const BYTE* pbKek, DWORD cbKek) noexcept;

}  // namespace cng

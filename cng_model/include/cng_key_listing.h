// cng_key_listing.h: bulk listing of a scope's keys with everything persisted for each key
// except its private material, so that a caller (the PKCS#11 object layer) can answer label and
// attribute lookups without opening every key. Not part of ncrypt.h (Windows has no such call).
// C++ only, like cng_key_store_issues.h.
//
// Every field holds exactly what the per-key NCrypt calls return for the same key:
// NCryptOpenKey + NCryptGetProperty (Name, Algorithm Name, Length, Export Policy, Key Usage,
// Unique Name; custom properties with NCRYPT_PERSIST_ONLY_FLAG) + NCryptExportKey of
// public_blob_type, and legacy_key_spec as NCryptEnumKeys reports it.
//
// CngEnumKeyListings reads the store's listing index (design notes and measured figures in
// cng_model/src/store/listing_cache.h): no key file is read unless it is new or changed since
// the index was written, no private blob is read for the keys it lists, and no provider code
// runs (the platform provider loads nothing into the TPM). CngGetKeyListing reads the one
// key's file (cheaper than any index); its private part is never parsed.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "ncrypt.h"

namespace cng {

// What a key listing holds: everything persisted for a key except its private material.
struct KeyStoreListing {
  std::u16string name;       // NCRYPT_NAME_PROPERTY
  std::u16string algorithm;  // NCRYPT_ALGORITHM_PROPERTY ("RSA", "ECDSA_P256", "AES", ...)
  DWORD legacy_key_spec = 0;
  DWORD length = 0;                 // NCRYPT_LENGTH_PROPERTY
  DWORD export_policy = 0;          // NCRYPT_EXPORT_POLICY_PROPERTY
  DWORD key_usage = 0;              // NCRYPT_KEY_USAGE_PROPERTY
  std::string unique_name;          // NCRYPT_UNIQUE_NAME_PROPERTY (the key file's name)
  std::u16string public_blob_type;  // BCRYPT_RSAPUBLIC_BLOB / BCRYPT_ECCPUBLIC_BLOB; empty for
                                    // secret keys
  std::vector<std::uint8_t> public_blob;  // what NCryptExportKey(public_blob_type) gives
  // Persisted custom properties (NCRYPT_PERSIST_FLAG), ascending by name, exactly the values
  // NCryptGetProperty(..., NCRYPT_PERSIST_ONLY_FLAG) returns.
  std::vector<std::pair<std::u16string, std::vector<std::uint8_t>>> properties;
};

// Every key NCryptEnumKeys would list in the scope (dwFlags 0 or NCRYPT_MACHINE_KEY_FLAG;
// NCRYPT_SILENT_FLAG accepted), sorted by name, without reading any private material.
// Returns the SECURITY_STATUS NCryptEnumKeys would give for the scope.
SECURITY_STATUS CngEnumKeyListings(NCRYPT_PROV_HANDLE hProvider, DWORD dwFlags,
                                   std::vector<KeyStoreListing>* listings) noexcept;
// One key's listing (NTE_BAD_KEYSET when absent or another provider's, as NCryptOpenKey;
// NTE_BAD_DATA when its file is damaged) – same fields.
SECURITY_STATUS CngGetKeyListing(NCRYPT_PROV_HANDLE hProvider, LPCWSTR pszKeyName, DWORD dwFlags,
                                 KeyStoreListing* listing) noexcept;

}  // namespace cng

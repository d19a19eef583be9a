// KeyRecord: everything persisted for one named CNG key in a scope's key store.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>

#include "core/secure_bytes.h"
#include "ncrypt.h"

namespace cng {

struct KeyRecord {
  std::u16string name;        // the key name as given (case preserved)
  std::u16string provider;    // provider name, e.g. MS_KEY_STORAGE_PROVIDER
  std::u16string algorithm;   // algorithm id as created: "RSA", "ECDSA_P256", "ECDH", …
  std::u16string curve_name;  // "nistP256"… for EC keys, empty for RSA
  DWORD legacy_key_spec = 0;  // 0, AT_KEYEXCHANGE, AT_SIGNATURE
  DWORD length_bits = 0;
  DWORD export_policy = 0;
  DWORD key_usage = NCRYPT_ALLOW_ALL_USAGES;
  std::uint64_t created_unix_ns = 0;
  // Custom properties set with NCRYPT_PERSIST_FLAG: name → raw value bytes.
  std::map<std::u16string, Bytes> properties;
  // The public key as a BCRYPT_RSAPUBLIC_BLOB / BCRYPT_ECCPUBLIC_BLOB, kept in the clear so
  // that listing and public export never need to parse or unwrap the private part.
  Bytes public_blob;
  // Provider-private key material: PKCS#8 DER (software) or TPM2B public||private (platform).
  SecureBytes private_blob;
  // At rest (key_file.h version 2): kSealed when the file holds private_blob AES-256-GCM
  // sealed under the scope's master key master_key_id (store/master_key.h). KeyStore::load
  // returns the blob opened (and protection as found on disk); store/update seal it.
  enum class Protection : std::uint32_t { kClear = 0, kSealed = 1 };
  Protection protection = Protection::kClear;
  std::array<std::uint8_t, 16> master_key_id{};
  // Set by KeyStore::load when the private part cannot be opened (master key missing, sealed
  // to another TPM, PIN not given): the status every private use reports, and why. The
  // private_blob is then empty and the record may not be written back.
  SECURITY_STATUS private_status = 0;
  std::string private_cause;
};

// What enumeration needs without touching the private part.
struct KeyListing {
  std::u16string name;
  std::u16string algorithm;
  DWORD legacy_key_spec = 0;
};

}  // namespace cng

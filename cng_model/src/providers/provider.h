// Provider: one key storage provider (KSP) behind the NCrypt functions. The NCrypt layer
// (api/) handles handles, flags, key state, properties, scopes and storage; a provider only
// knows how to make, store, load and import key material.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "providers/key_material.h"
#include "store/key_record.h"

namespace cng {

struct AlgorithmEntry {
  std::u16string name;  // "RSA", "ECDSA_P256", …
  DWORD alg_class;      // NCRYPT_*_INTERFACE
  DWORD operations;     // NCRYPT_*_OPERATION bits
};

class Provider {
 public:
  Provider() = default;
  Provider(const Provider&) = delete;
  Provider& operator=(const Provider&) = delete;
  virtual ~Provider() = default;

  [[nodiscard]] virtual std::u16string_view name() const noexcept = 0;
  [[nodiscard]] virtual DWORD impl_type() const noexcept = 0;  // NCRYPT_IMPL_*_FLAG
  [[nodiscard]] virtual std::vector<AlgorithmEntry> algorithms() const = 0;
  [[nodiscard]] virtual NCRYPT_SUPPORTED_LENGTHS rsa_lengths() const noexcept = 0;
  [[nodiscard]] virtual bool supports_curve(Curve c) const noexcept = 0;

  // Generates new key material (called by NCryptFinalizeKey). NTE_NOT_SUPPORTED when the
  // provider cannot make such a key.
  [[nodiscard]] virtual std::shared_ptr<KeyMaterial> generate(const KeySpec& spec) = 0;
  // The provider-private serialized form stored in KeyRecord::private_blob.
  [[nodiscard]] virtual SecureBytes to_storage(const KeyMaterial& key) = 0;
  // Rebuilds key material from a record (NTE_BAD_DATA when the blob is unusable).
  [[nodiscard]] virtual std::shared_ptr<KeyMaterial> from_storage(const KeyRecord& record) = 0;
  // Imports a BCRYPT_* blob or NCRYPT_PKCS8_PRIVATE_KEY_BLOB (public or private). NTE_BAD_TYPE
  // for an unknown blob type, NTE_INVALID_PARAMETER for a bad magic, NTE_BAD_DATA for bad sizes.
  [[nodiscard]] virtual std::shared_ptr<KeyMaterial> import_blob(
      std::u16string_view blob_type, std::span<const std::uint8_t> data) = 0;
  // import_blob without the key consistency check (NCRYPT_NO_KEY_VALIDATION); a provider that
  // does not validate on import need not override it.
  [[nodiscard]] virtual std::shared_ptr<KeyMaterial> import_blob_no_validation(
      std::u16string_view blob_type, std::span<const std::uint8_t> data) {
    return import_blob(blob_type, data);
  }
  // True when the provider's device checks a key's usage authorisation itself (the platform
  // provider: the TPM object's authValue, KeySpec::usage_auth at generate, the current
  // operation's usage_auth.h value at use). Otherwise the NCrypt layer checks a key's PIN
  // (api/key_auth.h).
  [[nodiscard]] virtual bool enforces_usage_auth() const noexcept { return false; }
  // A provider-specific provider property (e.g. the platform provider's PCP_*), as the raw
  // value NCryptGetProperty returns; nullopt when the provider has no property of that name.
  [[nodiscard]] virtual std::optional<Bytes> provider_property(std::u16string_view /*name*/) const {
    return std::nullopt;
  }
};

}  // namespace cng

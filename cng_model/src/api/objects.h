// The objects behind NCrypt handles: an open provider, a key, an agreed secret.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "api/handle_table.h"
#include "api/provider_registry.h"
#include "core/secure_bytes.h"
#include "providers/key_material.h"
#include "store/key_record.h"
#include "store/key_store.h"

namespace cng::api {

// What a provider handle refers to. Shared (read-only) by the provider handle, the keys
// opened through it and the handles returned by the "Provider Handle" property.
struct ProviderContext {
  const ProviderDescriptor* descriptor = nullptr;
  Provider* provider = nullptr;
  // Key stores per scope, from KeyStore::default_dir at open time. A scope whose directory
  // cannot be determined keeps the reason and fails only when used.
  std::optional<KeyStore> user_store;
  std::optional<KeyStore> machine_store;
  struct StoreError {
    SECURITY_STATUS status = NTE_INTERNAL_ERROR;
    std::string cause;
  };
  StoreError user_store_error;
  StoreError machine_store_error;

  [[nodiscard]] const KeyStore& store(Scope scope) const;
  static std::shared_ptr<const ProviderContext> open(const ProviderDescriptor& descriptor);
};

class ProviderObject final : public Object {
 public:
  static constexpr ObjectKind kKind = ObjectKind::kProvider;
  explicit ProviderObject(std::shared_ptr<const ProviderContext> context)
      : Object(kKind), context_(std::move(context)) {}

  [[nodiscard]] const std::shared_ptr<const ProviderContext>& context() const noexcept {
    return context_;
  }
  [[nodiscard]] Provider& provider() const noexcept { return *context_->provider; }

  std::mutex mutex;  // guards the per-handle properties below
  std::optional<std::u16string> use_context;

 private:
  std::shared_ptr<const ProviderContext> context_;
};

// kDamaged: opened from a key file that cannot be parsed; it can only be deleted or freed.
enum class KeyState { kCreated, kFinalized, kDamaged };

class KeyObject final : public Object {
 public:
  static constexpr ObjectKind kKind = ObjectKind::kKey;
  KeyObject(std::shared_ptr<const ProviderContext> context, std::optional<KeyStore> store)
      : Object(kKind), context_(std::move(context)), store_(std::move(store)) {}

  [[nodiscard]] const std::shared_ptr<const ProviderContext>& context() const noexcept {
    return context_;
  }
  [[nodiscard]] Provider& provider() const noexcept { return *context_->provider; }
  // The key's store; nullopt for an ephemeral key (never touches disk).
  [[nodiscard]] const std::optional<KeyStore>& store() const noexcept { return store_; }
  [[nodiscard]] std::optional<KeyStore>& store() noexcept { return store_; }
  [[nodiscard]] bool persisted() const noexcept { return store_.has_value(); }
  [[nodiscard]] Scope scope() const noexcept { return store_ ? store_->scope() : Scope::kUser; }

  // Everything below is guarded by mutex.
  mutable std::mutex mutex;
  KeyState state = KeyState::kCreated;
  bool overwrite = false;      // NCRYPT_OVERWRITE_KEY_FLAG given at creation/import
  bool generic_curve = false;  // created as "ECDSA"/"ECDH": curve from ECCCurveName
  // The scope named at creation (NCRYPT_MACHINE_KEY_FLAG), also for an ephemeral key, which
  // has no store: whose PIN authorises it (key_auth.h).
  Scope creation_scope = Scope::kUser;
  // Metadata (and, until the material is parsed, the stored private blob). For a key being
  // created it holds the pending creation properties and persisted custom properties.
  KeyRecord record;
  KeyAlgorithm algorithm = KeyAlgorithm::kRsa;
  Curve curve = Curve::kNone;
  std::map<std::u16string, Bytes> handle_properties;  // custom, without NCRYPT_PERSIST_FLAG
  std::optional<std::u16string> use_context;
  std::optional<Bytes> window_handle;
  // AES: NCRYPT_CHAINING_MODE_PROPERTY, per handle (not persisted), CBC as on Windows.
  ChainingMode chaining_mode = ChainingMode::kCbc;
  // Per-key authentication (api/key_auth.h), per handle, never persisted: the PIN given
  // before finalize (UTF-8), whether the next private operation is authorised (a PIN the
  // NCrypt layer checked), and the usage auth value of the next private operation of a key
  // whose device checks it.
  std::optional<SecureBytes> creation_pin;
  bool use_authorized = false;
  std::optional<SecureBytes> use_auth;

  // The key material, parsed from the record at first use (mutex held). nullptr before
  // finalize for generated keys.
  std::shared_ptr<KeyMaterial> material_locked();
  void set_material_locked(std::shared_ptr<KeyMaterial> material) {
    material_ = std::move(material);
  }
  [[nodiscard]] bool has_material_locked() const noexcept { return material_ != nullptr; }

 private:
  std::shared_ptr<const ProviderContext> context_;
  std::optional<KeyStore> store_;
  std::shared_ptr<KeyMaterial> material_;
};

class SecretObject final : public Object {
 public:
  static constexpr ObjectKind kKind = ObjectKind::kSecret;
  explicit SecretObject(SecureBytes secret) : Object(kKind), secret_(std::move(secret)) {}
  [[nodiscard]] const SecureBytes& secret() const noexcept { return secret_; }

 private:
  SecureBytes secret_;
};

}  // namespace cng::api

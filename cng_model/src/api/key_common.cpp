#include "api/key_common.h"

#include <chrono>

#include "api/key_auth.h"
#include "core/cng_error.h"
#include "core/u16.h"

namespace cng::api {

void check_vbs_flags(DWORD flags) {
  if ((flags & NCRYPT_USE_PER_BOOT_KEY_FLAG) != 0) {
    require((flags & (NCRYPT_PREFER_VBS_FLAG | NCRYPT_REQUIRE_VBS_FLAG)) != 0, NTE_BAD_FLAGS,
            "NCRYPT_USE_PER_BOOT_KEY_FLAG needs NCRYPT_PREFER_VBS_FLAG or NCRYPT_REQUIRE_VBS_FLAG");
  }
}

void require_vbs_available(DWORD flags) {
  require((flags & NCRYPT_REQUIRE_VBS_FLAG) == 0, NTE_VBS_UNAVAILABLE,
          "virtualization-based security is not available on this platform");
}

std::u16string key_name_arg(LPCWSTR name) {
  std::u16string value = u16_arg(name, NCRYPT_MAX_KEY_NAME_LENGTH, "invalid key name");
  require(!value.empty(), NTE_INVALID_PARAMETER, "empty key name");
  return value;
}

void check_legacy_key_spec(DWORD spec) {
  require(spec == 0 || spec == AT_KEYEXCHANGE || spec == AT_SIGNATURE, NTE_INVALID_PARAMETER,
          "dwLegacyKeySpec must be 0, AT_KEYEXCHANGE or AT_SIGNATURE");
}

const KeyStore& store_for_new_key(const ProviderContext& context, Scope scope,
                                  const std::u16string& name, bool overwrite) {
  const KeyStore& store = context.store(scope);
  // Fails early as Windows does (NTE_PERM when the store may not be written), with the cause
  // of any other failure (a full disk is not a permission problem).
  store.check_writable();
  if (!overwrite) {
    require(!store.exists(name), NTE_EXISTS, "a key of this name already exists");
  }
  return store;
}

std::shared_ptr<KeyObject> make_created_key(const std::shared_ptr<const ProviderContext>& context,
                                            const KeyAlgorithmId& algorithm,
                                            const std::u16string* name, Scope scope,
                                            DWORD legacy_key_spec, bool overwrite) {
  std::optional<KeyStore> store;
  if (name != nullptr) {
    store = store_for_new_key(*context, scope, *name, overwrite);
  }
  auto key = std::make_shared<KeyObject>(context, std::move(store));
  key->overwrite = overwrite;
  key->creation_scope = scope;
  key->generic_curve = algorithm.generic_curve;
  key->algorithm = algorithm.algorithm;
  key->curve = algorithm.curve;
  KeyRecord& r = key->record;
  if (name != nullptr) {
    r.name = *name;
  }
  r.provider = std::u16string(context->descriptor->name);
  r.algorithm = algorithm.name;
  r.legacy_key_spec = legacy_key_spec;
  const AlgorithmInfo& row = algorithm_info(algorithm.algorithm);
  r.length_bits = algorithm.algorithm == KeyAlgorithm::kRsa ? kDefaultRsaBits
                  : row.family == KeyFamily::kSymmetric     ? row.lengths.dwDefaultLength
                                                            : curve_bits(algorithm.curve);
  if (algorithm.curve != Curve::kNone) {
    r.curve_name = std::u16string(curve_name(algorithm.curve));
  }
  r.export_policy = 0;  // not exportable, as Windows
  r.key_usage = NCRYPT_ALLOW_ALL_USAGES;
  return key;
}

void finalize_locked(KeyObject& key) {
  // The observed Windows quirk: finalizing twice is NTE_INVALID_HANDLE, not BAD_KEY_STATE.
  require(key.state == KeyState::kCreated, NTE_INVALID_HANDLE, "the key is already finalized");
  std::shared_ptr<KeyMaterial> material =
      key.has_material_locked() ? key.material_locked() : nullptr;
  SecureBytes usage_auth = finalize_key_pin_locked(key, material == nullptr);
  if (!material) {
    require(key.curve != Curve::kNone || !is_ec(key.algorithm), NTE_INVALID_PARAMETER,
            "a generic ECDSA/ECDH key needs ECCCurveName before finalize");
    KeySpec spec;
    spec.algorithm = key.algorithm;
    spec.rsa_bits = key.record.length_bits;
    spec.curve = key.curve;
    spec.symmetric_bits = key.record.length_bits;
    spec.usage_auth = std::move(usage_auth);
    material = key.provider().generate(spec);
  }
  KeyRecord& r = key.record;
  r.length_bits = material->bits();
  r.public_blob = material->public_blob();
  if (key.persisted()) {
    r.created_unix_ns =
        static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                       std::chrono::system_clock::now().time_since_epoch())
                                       .count());
    r.private_blob = key.provider().to_storage(*material);
    key.store()->store(r, key.overwrite);  // NTE_EXISTS unless overwrite: atomic
    r.private_blob = SecureBytes();
  }
  key.set_material_locked(std::move(material));
  key.state = KeyState::kFinalized;
}

}  // namespace cng::api

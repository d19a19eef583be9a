// NCryptCreatePersistedKey, NCryptFinalizeKey, NCryptOpenKey, NCryptDeleteKey.
#include "api/boundary.h"
#include "api/key_common.h"
#include "core/u16.h"

using namespace cng;
using namespace cng::api;

SECURITY_STATUS WINAPI NCryptCreatePersistedKey(NCRYPT_PROV_HANDLE hProvider,
                                                NCRYPT_KEY_HANDLE* phKey, LPCWSTR pszAlgId,
                                                LPCWSTR pszKeyName, DWORD dwLegacyKeySpec,
                                                DWORD dwFlags) {
  return boundary([&] {
    check_flags(dwFlags, NCRYPT_MACHINE_KEY_FLAG | NCRYPT_OVERWRITE_KEY_FLAG | NCRYPT_SILENT_FLAG |
                             NCRYPT_PREFER_VBS_FLAG | NCRYPT_REQUIRE_VBS_FLAG |
                             NCRYPT_USE_PER_BOOT_KEY_FLAG);
    check_vbs_flags(dwFlags);
    const auto provider = HandleTable::instance().get<ProviderObject>(hProvider);
    require_arg(phKey, "phKey is NULL");
    const std::u16string alg_id = u16_arg(pszAlgId, NCRYPT_MAX_ALG_ID_LENGTH, "pszAlgId");
    const auto algorithm = parse_key_algorithm(alg_id);
    require(algorithm.has_value() && provider_supports(provider->provider(), *algorithm),
            NTE_NOT_SUPPORTED, "algorithm not supported for keys by this provider");
    check_legacy_key_spec(dwLegacyKeySpec);
    std::optional<std::u16string> name;
    if (pszKeyName != nullptr) {
      name = key_name_arg(pszKeyName);
    }
    require_vbs_available(dwFlags);
    auto key = make_created_key(provider->context(), *algorithm, name ? &*name : nullptr,
                                scope_from_flags(dwFlags), dwLegacyKeySpec,
                                (dwFlags & NCRYPT_OVERWRITE_KEY_FLAG) != 0);
    *phKey = HandleTable::instance().insert(std::move(key));
  });
}

SECURITY_STATUS WINAPI NCryptFinalizeKey(NCRYPT_KEY_HANDLE hKey, DWORD dwFlags) {
  return boundary([&] {
    // NCRYPT_WRITE_KEY_TO_LEGACY_STORE_FLAG is accepted and has no effect: there is no
    // CryptoAPI store on Linux.
    check_flags(dwFlags, NCRYPT_NO_KEY_VALIDATION | NCRYPT_WRITE_KEY_TO_LEGACY_STORE_FLAG |
                             NCRYPT_SILENT_FLAG);
    const auto key = HandleTable::instance().get<KeyObject>(hKey);
    std::lock_guard lock(key->mutex);
    finalize_locked(*key);
  });
}

SECURITY_STATUS WINAPI NCryptOpenKey(NCRYPT_PROV_HANDLE hProvider, NCRYPT_KEY_HANDLE* phKey,
                                     LPCWSTR pszKeyName, DWORD dwLegacyKeySpec, DWORD dwFlags) {
  return boundary([&] {
    check_flags(dwFlags,
                NCRYPT_MACHINE_KEY_FLAG | NCRYPT_SILENT_FLAG | NCRYPT_EXTENDED_ERRORS_FLAG);
    const auto provider = HandleTable::instance().get<ProviderObject>(hProvider);
    require_arg(phKey, "phKey is NULL");
    const std::u16string name = key_name_arg(pszKeyName);
    check_legacy_key_spec(dwLegacyKeySpec);
    const Scope scope = scope_from_flags(dwFlags);
    const KeyStore& store = provider->context()->store(scope);
    // Absent: NTE_BAD_KEYSET. Not permitted or not trusted (owner, mode): NTE_PERM — Windows
    // reports access denial as NTE_BAD_KEYSET too, which hides the cause; we keep the precise
    // code. Damaged (the file cannot be parsed, NTE_BAD_DATA): the open still succeeds, with a
    // handle that can only be deleted or freed (every other use fails NTE_BAD_DATA or
    // NTE_BAD_KEY_STATE): opening for NCryptDeleteKey must not need to parse, or a corrupt key
    // could never be removed and would keep its name forever.
    auto key = std::make_shared<KeyObject>(provider->context(), store);
    try {
      KeyRecord record = store.load(name);
      require(record.provider.empty() || u16_iequals(record.provider, provider->provider().name()),
              NTE_BAD_KEYSET, "the key belongs to another provider");
      const auto algorithm = parse_key_algorithm(record.algorithm);
      require(algorithm.has_value(), NTE_BAD_DATA, "key file names an unknown algorithm");
      key->algorithm = algorithm->algorithm;
      key->generic_curve = algorithm->generic_curve;
      key->curve = algorithm->curve;
      if (key->curve == Curve::kNone && is_ec(key->algorithm)) {
        try {
          key->curve = curve_from_name(record.curve_name);
        } catch (const CngError&) {
          fail(NTE_BAD_DATA, "key file names an unknown curve");
        }
      }
      key->record = std::move(record);
      key->state = KeyState::kFinalized;  // the private part is parsed at first use
    } catch (const CngError& e) {
      if (e.status() != NTE_BAD_DATA) {
        throw;
      }
      key->record = KeyRecord{};
      key->record.name = name;
      key->state = KeyState::kDamaged;
    }
    *phKey = HandleTable::instance().insert(std::move(key));
  });
}

SECURITY_STATUS WINAPI NCryptDeleteKey(NCRYPT_KEY_HANDLE hKey, DWORD dwFlags) {
  return boundary([&] {
    check_flags(dwFlags, NCRYPT_SILENT_FLAG);
    auto& table = HandleTable::instance();
    const auto key = table.get<KeyObject>(hKey);
    {
      std::lock_guard lock(key->mutex);
      // Only a finalized persisted key has a file; a key never finalized (or ephemeral) is
      // just released. On failure (e.g. NTE_PERM) the handle stays valid.
      if (key->persisted() &&
          (key->state == KeyState::kFinalized || key->state == KeyState::kDamaged)) {
        key->store()->remove(key->record.name);
      }
    }
    table.erase(hKey);  // deleting also frees the handle
  });
}

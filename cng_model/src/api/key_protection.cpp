// CngGetKeyProtectionStatus, CngRekeyScope, CngProtectScopeWithKek, CngUnlockScopeWithKek
// (cng_key_protection.h): the at-rest protection of the software provider's scopes.
#include "api/boundary.h"
#include "api/key_common.h"
#include "cng_key_protection.h"
#include "store/byte_codec.h"

using namespace cng;
using namespace cng::api;

namespace {

// The scope's store, which must be protected at rest (the software provider's).
const KeyStore& protected_store(NCRYPT_PROV_HANDLE hProvider, DWORD dwFlags) {
  check_flags(dwFlags, NCRYPT_MACHINE_KEY_FLAG | NCRYPT_SILENT_FLAG);
  const auto provider = HandleTable::instance().get<ProviderObject>(hProvider);
  const KeyStore& store = provider->context()->store(scope_from_flags(dwFlags));
  require(store.keyring().has_value(), NTE_NOT_SUPPORTED,
          "this provider's keys are not encrypted under a master key (TPM-wrapped)");
  return store;
}

std::span<const std::uint8_t, master_key::kKekBytes> kek_arg(const BYTE* pbKek, DWORD cbKek) {
  require_arg(pbKek, "pbKek is NULL");
  require(cbKek == master_key::kKekBytes, NTE_INVALID_PARAMETER, "the KEK must be 32 bytes");
  return std::span<const std::uint8_t, master_key::kKekBytes>(pbKek, master_key::kKekBytes);
}

}  // namespace

namespace cng {

SECURITY_STATUS CngGetKeyProtectionStatus(NCRYPT_PROV_HANDLE hProvider, DWORD dwFlags,
                                          KeyProtectionStatus* status) noexcept {
  return boundary([&] {
    const KeyStore& store = protected_store(hProvider, dwFlags);
    require_arg(status, "status is NULL");
    const master_key::Status s = store.keyring()->status();
    KeyProtectionStatus out;
    out.keyring_dir = store.keyring()->dir().string();
    out.protector = s.current ? master_key::protector_name(s.protector) : "none";
    if (s.current) {
      out.master_key_id = store_codec::to_hex(*s.current);
      out.master_key_file = s.file.string();
    }
    out.unlocked = s.unlocked;
    const auto counts = store.protection_counts();
    out.encrypted_keys = counts.encrypted;
    out.clear_keys = counts.clear;
    *status = std::move(out);
  });
}

SECURITY_STATUS CngRekeyScope(NCRYPT_PROV_HANDLE hProvider, DWORD dwFlags) noexcept {
  return boundary([&] { protected_store(hProvider, dwFlags).rekey(); });
}

SECURITY_STATUS CngProtectScopeWithKek(NCRYPT_PROV_HANDLE hProvider, DWORD dwFlags,
                                       const BYTE* pbKek, DWORD cbKek) noexcept {
  return boundary([&] {
    const KeyStore& store = protected_store(hProvider, dwFlags);
    const auto kek = kek_arg(pbKek, cbKek);
    const auto lock = store.keyring()->acquire(true);
    store.keyring()->protect_with_kek(kek);
  });
}

SECURITY_STATUS CngUnlockScopeWithKek(NCRYPT_PROV_HANDLE hProvider, DWORD dwFlags,
                                      const BYTE* pbKek, DWORD cbKek) noexcept {
  return boundary([&] {
    const KeyStore& store = protected_store(hProvider, dwFlags);
    store.keyring()->unlock_with_kek(kek_arg(pbKek, cbKek));
  });
}

}  // namespace cng

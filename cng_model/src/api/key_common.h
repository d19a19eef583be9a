// Pieces shared by the functions that make keys (create, import, open, finalize).
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "api/algorithms.h"
#include "api/objects.h"
#include "ncrypt.h"

namespace cng::api {

// The Windows software KSP's default RSA modulus size when Length is not set.
inline constexpr DWORD kDefaultRsaBits = 1024;

inline Scope scope_from_flags(DWORD flags) noexcept {
  return (flags & NCRYPT_MACHINE_KEY_FLAG) != 0 ? Scope::kMachine : Scope::kUser;
}

// NCRYPT_USE_PER_BOOT_KEY_FLAG only qualifies one of the VBS flags (else NTE_BAD_FLAGS);
// NCRYPT_REQUIRE_VBS_FLAG cannot be met on Linux (NTE_VBS_UNAVAILABLE); NCRYPT_PREFER_VBS_FLAG
// falls back to a normal software key.
void check_vbs_flags(DWORD flags);
void require_vbs_available(DWORD flags);

// A key name argument: NTE_INVALID_PARAMETER when NULL, empty or longer than
// NCRYPT_MAX_KEY_NAME_LENGTH.
std::u16string key_name_arg(LPCWSTR name);
// dwLegacyKeySpec ∈ {0, AT_KEYEXCHANGE, AT_SIGNATURE}, else NTE_INVALID_PARAMETER.
void check_legacy_key_spec(DWORD spec);

// Serializes read-modify-write updates of key files (load, change, KeyStore::update) within
// this process. Across processes the last writer wins (each update is atomic; the key file
// stays whole), except for a key password's failure counter, which also takes the scope's PIN
// lock (key_password.h).
std::mutex& key_file_update_mutex();

// For a new persisted key: the store of that scope, which must be writable (NTE_PERM:
// nothing is written), and NTE_EXISTS when the name is taken and overwrite is not allowed.
const KeyStore& store_for_new_key(const ProviderContext& context, Scope scope,
                                  const std::u16string& name, bool overwrite);

// A new key object in the CREATED state (material generated at finalize, unless preset).
std::shared_ptr<KeyObject> make_created_key(const std::shared_ptr<const ProviderContext>& context,
                                            const KeyAlgorithmId& algorithm,
                                            const std::u16string* name, Scope scope,
                                            DWORD legacy_key_spec, bool overwrite);

// NCryptFinalizeKey's work on a locked key: generate the material if none, write a persisted
// key to its store (atomically exclusive unless overwrite), move to FINALIZED.
void finalize_locked(KeyObject& key);

}  // namespace cng::api

// A key's own password: the PIN set with NCRYPT_PIN_PROPERTY before NCryptFinalizeKey on a
// provider that does not check it itself (api/key_auth.h, check 1). It is kept only as a
// pin_file::PinRecord (scrypt verifier, failure counter, limit) in the key's record property
// "Key PIN Verifier", in the key file.
//
// Wrong passwords are counted per key, as the scope PIN counts its own (store/pin_store.h):
// under the scope's PIN lock (an exclusive flock, shared by every process) the key file is
// re-read, a locked key is refused, the counter + 1 is written (one atomic key-file update:
// nothing half-written) and only then scrypt runs, so a process killed during the check has
// spent its attempt. A right password resets the counter. After pin_file::kDefaultMaxFailures
// (10) consecutive wrong passwords the key's private use is locked for good: every later
// NCRYPT_PIN_PROPERTY on it, the right password too, gets SCARD_W_CHV_BLOCKED (PKCS#11:
// CKR_PIN_LOCKED); a wrong one gets NTE_INCORRECT_PASSWORD (CKR_PIN_INCORRECT). Windows keeps
// no such count (its strong-key dialog has no retry limit); a key without a retry budget would
// let anyone who can run code as the user guess its password offline-fast only bounded by
// scrypt, so this is our documented addition. The key can still be deleted, and its public
// part used. An ephemeral key counts in memory (it lives in one process).
#pragma once

#include <string_view>

#include "api/objects.h"

namespace cng::api {

inline constexpr std::u16string_view kKeyPasswordName = u"Key PIN Verifier";

[[nodiscard]] bool has_key_password(const KeyObject& key);
// The record of a new key's password (NCryptFinalizeKey).
[[nodiscard]] Bytes new_key_password_record(std::string_view password);
// The counted check above (key mutex held); throws NTE_INCORRECT_PASSWORD /
// SCARD_W_CHV_BLOCKED / NTE_BAD_DATA (damaged record).
void check_key_password(KeyObject& key, std::string_view password);

}  // namespace cng::api

// Per-key authentication: the CNG side of PKCS#11's CKA_ALWAYS_AUTHENTICATE.
//
// A key needs authentication before each private operation (NCryptSignHash, NCryptDecrypt,
// NCryptSecretAgreement, NCryptExportKey of a private blob) when
//   - its UI policy (NCRYPT_UI_POLICY_PROPERTY) has NCRYPT_UI_PROTECT_KEY_FLAG or
//     NCRYPT_UI_FORCE_HIGH_PROTECTION_FLAG, or
//   - a PIN was set on it with NCRYPT_PIN_PROPERTY before NCryptFinalizeKey (finalize then adds
//     NCRYPT_UI_PROTECT_KEY_FLAG to its UI policy, so the policy tells every reader).
// Windows would show the strong-key dialog; this platform has no UI, so every use is silent
// and an unauthorised use fails with NTE_SILENT_CONTEXT, the status Windows gives when a key
// that needs UI is used with NCRYPT_SILENT_FLAG ("Provider could not perform the action since
// the context was acquired as silent", winerror.h 0x80090022).
//
// NCryptSetProperty(hKey, NCRYPT_PIN_PROPERTY, UTF-16 PIN) authorises ONE private operation on
// that handle (PKCS#11 CKA_ALWAYS_AUTHENTICATE semantics): the next private operation
// consumes it, whether it succeeds or not; cbInput = 0 withdraws it. The right PIN is
//   1. the password set on the key before finalize (kept only as a scrypt verifier in the key
//      file, never the PIN): wrong → NTE_INCORRECT_PASSWORD, checked when the PIN is set,
//      counted per key with a lockout (SCARD_W_CHV_BLOCKED) after 10 (key_password.h);
//   2. else the scope's PIN when one is set (cng_scope_pin.h), checked through the same
//      counted check as a scope login: SCARD_W_WRONG_CHV / SCARD_W_CHV_BLOCKED;
//   3. else any PIN (consent only, as Windows' PROTECT_KEY_FLAG without a password).
// A provider whose device checks the authorisation (Provider::enforces_usage_auth: the
// platform provider) gets a PIN set before finalize as the TPM object's authValue
// (KeySpec::usage_auth), and a PIN set later is passed to the next private operation as its
// auth value (usage_auth.h) without any check here: the TPM checks it (wrong →
// NTE_INCORRECT_PASSWORD at the operation, counted by its dictionary-attack protection).
// The auth value is SHA-256 of the UTF-8 PIN (TPM2B_AUTH holds at most a digest of the name
// algorithm; PINs are up to 255 bytes).
#pragma once

#include <span>
#include <string_view>

#include "api/objects.h"

namespace cng::api {

// Reserved record property names (not readable or settable as custom properties).
[[nodiscard]] bool is_key_auth_record_property(std::u16string_view name) noexcept;

// NCRYPT_PIN_PROPERTY on a key handle (key mutex held).
void set_key_pin_locked(KeyObject& key, std::span<const std::uint8_t> value);

// At NCryptFinalizeKey (key mutex held): turns the PIN given before finalize into the key's
// verifier (checked providers) or returns its auth value for KeySpec::usage_auth (device).
[[nodiscard]] SecureBytes finalize_key_pin_locked(KeyObject& key, bool generating);

// Before a private operation: NTE_SILENT_CONTEXT unless the handle holds an authorisation
// (only for keys that need one); consumes it. Returns the auth value to hold in a
// UsageAuthScope around the provider call (empty unless the device checks it).
[[nodiscard]] SecureBytes take_private_use_auth(KeyObject& key);

}  // namespace cng::api

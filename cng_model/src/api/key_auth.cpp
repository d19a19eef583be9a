#include "api/key_auth.h"

#include <openssl/evp.h>

#include <string>

#include "api/key_password.h"
#include "api/scope_login.h"
#include "api/ui_policy.h"
#include "core/cng_error.h"

namespace cng::api {

namespace {

// Present (one byte, 1) when the key's device holds its usage authorisation.
constexpr std::u16string_view kDeviceAuthName = u"Key Device Auth";

bool has_record_property(const KeyObject& key, std::u16string_view name) {
  return key.record.properties.contains(std::u16string(name));
}

bool device_checked(const KeyObject& key) { return has_record_property(key, kDeviceAuthName); }

bool ui_protected(const KeyObject& key) {
  const auto it = key.record.properties.find(std::u16string(kUiPolicyRecordName));
  return it != key.record.properties.end() &&
         (ui_policy_flags(it->second) &
          (NCRYPT_UI_PROTECT_KEY_FLAG | NCRYPT_UI_FORCE_HIGH_PROTECTION_FLAG)) != 0;
}

bool needs_pin(const KeyObject& key) {
  return device_checked(key) || has_key_password(key) || ui_protected(key);
}

std::string_view as_text(const SecureBytes& pin) {
  return {reinterpret_cast<const char*>(pin.data()), pin.size()};
}

SecureBytes device_auth_value(const SecureBytes& pin) {
  SecureBytes digest(32);
  unsigned int size = 0;
  require(EVP_Digest(pin.data(), pin.size(), digest.data(), &size, EVP_sha256(), nullptr) == 1 &&
              size == digest.size(),
          NTE_INTERNAL_ERROR, "SHA-256 of the PIN failed");
  return digest;
}

// The checks 1-3 of key_auth.h; throws on a wrong PIN.
void check_pin(KeyObject& key, const SecureBytes& pin) {
  if (has_key_password(key)) {
    check_key_password(key, as_text(pin));  // counted: key_password.h
    return;
  }
  PinStore scope_pin = pin_store_of(key.persisted() ? key.scope() : key.creation_scope);
  if (scope_pin.state().pin_set) {
    (void)scope_pin.verify(as_text(pin));  // counted: SCARD_W_WRONG_CHV / SCARD_W_CHV_BLOCKED
  }
  // No password and no scope PIN: consent only.
}

}  // namespace

bool is_key_auth_record_property(std::u16string_view name) noexcept {
  return name == kKeyPasswordName || name == kDeviceAuthName;
}

void set_key_pin_locked(KeyObject& key, std::span<const std::uint8_t> value) {
  key.use_authorized = false;
  key.use_auth.reset();
  if (value.empty()) {  // withdraws a pending PIN or authorisation
    key.creation_pin.reset();
    return;
  }
  require(value.size() <= NCRYPT_MAX_PROPERTY_DATA, NTE_INVALID_PARAMETER, "PIN too long");
  SecureBytes pin = pin_from_utf16(value);
  if (key.state == KeyState::kCreated) {
    require(pin.size() >= kMinPinBytes && pin.size() <= kMaxPinBytes, NTE_INVALID_PARAMETER,
            "a key PIN has 4..255 bytes of UTF-8");
    key.creation_pin = std::move(pin);
    return;
  }
  if (!needs_pin(key)) {
    return;  // nothing to authorise: accepted, as for a key without UI protection
  }
  if (device_checked(key)) {
    key.use_auth = device_auth_value(pin);  // the device checks it at use
    return;
  }
  check_pin(key, pin);
  key.use_authorized = true;
}

SecureBytes finalize_key_pin_locked(KeyObject& key, bool generating) {
  if (!key.creation_pin) {
    return {};
  }
  const SecureBytes pin = std::move(*key.creation_pin);
  key.creation_pin.reset();
  if (!ui_protected(key)) {
    // A key with a PIN needs it before each use: its UI policy says so, as a reader of
    // NCRYPT_UI_POLICY_PROPERTY (the PKCS#11 module's CKA_ALWAYS_AUTHENTICATE) expects.
    const std::u16string name(kUiPolicyRecordName);
    const auto it = key.record.properties.find(name);
    key.record.properties[name] = add_ui_policy_flag(
        it == key.record.properties.end() ? nullptr : &it->second, NCRYPT_UI_PROTECT_KEY_FLAG);
  }
  if (key.provider().enforces_usage_auth()) {
    require(generating, NTE_NOT_SUPPORTED, "this provider takes a key PIN only for new keys");
    key.record.properties[std::u16string(kDeviceAuthName)] = Bytes{1};
    return device_auth_value(pin);
  }
  key.record.properties[std::u16string(kKeyPasswordName)] = new_key_password_record(as_text(pin));
  return {};
}

SecureBytes take_private_use_auth(KeyObject& key) {
  std::lock_guard lock(key.mutex);
  if (!needs_pin(key)) {
    return {};
  }
  if (device_checked(key)) {
    require(key.use_auth.has_value(), NTE_SILENT_CONTEXT,
            "the key needs its PIN (NCRYPT_PIN_PROPERTY) before each private operation");
    SecureBytes auth = std::move(*key.use_auth);
    key.use_auth.reset();
    return auth;
  }
  require(key.use_authorized, NTE_SILENT_CONTEXT,
          "the key needs its PIN (NCRYPT_PIN_PROPERTY) before each private operation");
  key.use_authorized = false;
  return {};
}

}  // namespace cng::api

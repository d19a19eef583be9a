// The scope PIN behind cng_scope_pin.h and NCRYPT_PIN_PROPERTY on a provider handle: the
// PinStore of each scope and the process-wide login state (the KEK of a logged-in scope, kept
// in a zeroizing buffer until logout or a PIN change).
#pragma once

#include <span>
#include <string_view>

#include "core/secure_bytes.h"
#include "store/key_store.h"
#include "store/pin_store.h"

namespace cng::api {

PinStore pin_store_of(Scope scope);
// Checks the UTF-8 PIN and logs the scope in (no PIN set: logged in without a KEK).
void login_scope(Scope scope, std::span<const std::uint8_t> pin);
void logout_scope(Scope scope) noexcept;
[[nodiscard]] bool scope_logged_in(Scope scope) noexcept;
// Records the KEK of a scope whose PIN was just set or changed (empty: forget it).
void remember_kek(Scope scope, SecureBytes kek);
// The UTF-8 form of a UTF-16LE NCRYPT_PIN_PROPERTY value (one terminating NUL dropped);
// NTE_INVALID_PARAMETER when it is not well-formed UTF-16.
SecureBytes pin_from_utf16(std::span<const std::uint8_t> value);
// NTE_INVALID_PARAMETER unless pin is well-formed UTF-8.
void require_utf8(std::span<const std::uint8_t> pin);

}  // namespace cng::api

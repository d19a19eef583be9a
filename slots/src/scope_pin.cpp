// The seam between the token's PIN (slots/scope_pin.h) and the platform: the only file of
// slots/ that knows where a scope PIN lives.
//
// Why a seam file rather than NCrypt properties: Windows has no scope PIN to reach. Its
// software and platform KSPs authenticate the OS account (DESIGN.md §2) and answer
// NCRYPT_PIN_PROPERTY on a provider handle with NTE_NOT_SUPPORTED, so custom provider
// properties for the status, set and change would be calls only our Linux model answers; they
// would add a property protocol (a packed old/new PIN value) to say what one #if says here.
//   Linux:   cng_model's scope PIN extension (cng_scope_pin.h), PINs passed as UTF-8 as
//            PKCS#11 gives them (no conversion here).
//   Windows: no scope PIN: pin_info() reports none, so the token shows no
//            CKF_LOGIN_REQUIRED and C_Login is accepted without a check (the module never
//            calls pin_login); setting one is NTE_NOT_SUPPORTED.
#include "slots/scope_pin.h"

#include <string>

#if !defined(_WIN32)
#include "cng_scope_pin.h"
#endif

namespace slots {

#if defined(_WIN32)

PinInfo pin_info(const Slot& /*slot*/) { return {}; }

void pin_login(const Slot& /*slot*/, PinView /*pin*/) {}

void pin_logout(const Slot& /*slot*/) noexcept {}

void pin_set(const Slot& /*slot*/, PinView /*pin*/) {
  throw ProviderError(NTE_NOT_SUPPORTED, "Windows keys have no scope PIN: the account logs in");
}

void pin_change(const Slot& /*slot*/, PinView /*old_pin*/, PinView /*new_pin*/) {
  throw ProviderError(NTE_NOT_SUPPORTED, "Windows keys have no scope PIN: the account logs in");
}

#else

namespace {

void check(SECURITY_STATUS status, const char* what) {
  if (status != ERROR_SUCCESS) {
    throw ProviderError(status, std::string(what) + " failed");
  }
}

}  // namespace

PinInfo pin_info(const Slot& slot) {
  cng::ScopePinStatus status;
  check(cng::CngGetScopePinStatus(slot.provider(), slot.scope_flag(), &status),
        "CngGetScopePinStatus");
  return {status.pin_set,       status.locked,     status.failures,
          status.attempts_left, status.min_length, status.max_length};
}

void pin_login(const Slot& slot, PinView pin) {
  check(cng::CngLoginScope(slot.provider(), slot.scope_flag(), pin), "CngLoginScope");
}

void pin_logout(const Slot& slot) noexcept {
  (void)NCryptSetProperty(slot.provider(), NCRYPT_PIN_PROPERTY, nullptr, 0, slot.scope_flag());
}

void pin_set(const Slot& slot, PinView pin) {
  check(cng::CngSetScopePin(slot.provider(), slot.scope_flag(), pin), "CngSetScopePin");
}

void pin_change(const Slot& slot, PinView old_pin, PinView new_pin) {
  check(cng::CngChangeScopePin(slot.provider(), slot.scope_flag(), old_pin, new_pin),
        "CngChangeScopePin");
}

#endif

}  // namespace slots

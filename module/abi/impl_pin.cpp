// The optional PIN of a slot's scope (DESIGN.md §2): C_InitPIN, C_SetPIN, and the PIN check of
// C_Login(CKU_USER). The PIN lives in cng_model (cng_scope_pin.h, reached through
// slots/scope_pin.h); its NCrypt statuses map to CK_RV in bridge/status_map.cpp
// (SCARD_W_WRONG_CHV → CKR_PIN_INCORRECT, SCARD_W_CHV_BLOCKED → CKR_PIN_LOCKED, ...).
//
//   C_InitPIN  only in the R/W SO functions state (else CKR_USER_NOT_LOGGED_IN), and only while
//              the scope has no PIN: the SO logs in without a PIN of its own (as without a PIN
//              model), so letting it replace a set PIN would let anyone bypass it
//              (CKR_ACTION_PROHIBITED). The recovery of a forgotten or locked PIN is
//              `cngkey pin remove --force` by the OS account owning the store.
//   C_SetPIN   R/W session (CKR_SESSION_READ_ONLY); changes the user PIN in a public or user
//              session; without a PIN no old PIN can match it (CKR_PIN_INCORRECT: C_SetPIN's
//              return values in PKCS#11 3.0 §5.6 do not include CKR_USER_PIN_NOT_INITIALIZED,
//              which C_Login alone may give); the SO has no PIN to change
//              (CKR_FUNCTION_NOT_SUPPORTED in an SO session).
// A new PIN is 4..255 bytes of UTF-8 (CKR_PIN_LEN_RANGE, CKR_PIN_INVALID).
#include <mutex>

#include "abi/impl.h"

namespace p11::impl {

namespace {

slots::PinView pin_arg(CK_UTF8CHAR_PTR pin, CK_ULONG len) {
  require(pin != nullptr || len == 0, CKR_ARGUMENTS_BAD, "pPin is NULL");
  return {pin, pin == nullptr ? 0 : static_cast<std::size_t>(len)};
}

void check_new_pin(const slots::PinInfo& info, slots::PinView pin) {
  require(pin.size() >= info.min_length && pin.size() <= info.max_length, CKR_PIN_LEN_RANGE,
          "the new PIN's length is out of range");
}

}  // namespace

slots::PinInfo refresh_pin_state(SlotState& slot) {
  slots::PinInfo info{};
  try {
    info = slots::pin_info(*slot.slot);
  } catch (const slots::ProviderError& e) {
    // A scope store this process may not read (another account's machine store): none of its
    // keys can be used either, and the token must still answer C_GetTokenInfo/C_OpenSession.
    if (e.status() != NTE_PERM) {
      throw;
    }
    info = slots::PinInfo{};
  }
  const std::lock_guard lock(*slot.mutex);
  slot.pin_set = info.pin_set;
  return info;
}

void verify_user_pin(SlotState& slot, CK_UTF8CHAR_PTR pin, CK_ULONG pin_len) {
  slots::pin_login(*slot.slot, pin_arg(pin, pin_len));
}

void init_pin(ModuleState& state, Session& session, CK_UTF8CHAR_PTR pin, CK_ULONG pin_len) {
  SlotState& slot = state.slot(session.slot_id());
  {
    const std::lock_guard lock(*slot.mutex);
    require(slot.login == LoginState::kSecurityOfficer && session.read_write(),
            CKR_USER_NOT_LOGGED_IN, "C_InitPIN needs the R/W SO functions state");
  }
  const slots::PinView new_pin = pin_arg(pin, pin_len);
  const slots::PinInfo info = refresh_pin_state(slot);
  require(!info.pin_set, CKR_ACTION_PROHIBITED,
          "the scope has a PIN: only its owner may remove it (cngkey pin remove --force)");
  check_new_pin(info, new_pin);
  slots::pin_set(*slot.slot, new_pin);
  (void)refresh_pin_state(slot);
}

void set_pin(ModuleState& state, Session& session, CK_UTF8CHAR_PTR old_pin, CK_ULONG old_len,
             CK_UTF8CHAR_PTR new_pin, CK_ULONG new_len) {
  SlotState& slot = state.slot(session.slot_id());
  require(session.read_write(), CKR_SESSION_READ_ONLY, "C_SetPIN needs a R/W session");
  {
    const std::lock_guard lock(*slot.mutex);
    require(slot.login != LoginState::kSecurityOfficer, CKR_FUNCTION_NOT_SUPPORTED,
            "the SO has no PIN");
  }
  const slots::PinView old_view = pin_arg(old_pin, old_len);
  const slots::PinView new_view = pin_arg(new_pin, new_len);
  const slots::PinInfo info = refresh_pin_state(slot);
  require(info.pin_set, CKR_PIN_INCORRECT, "the scope has no PIN: no old PIN matches");
  check_new_pin(info, new_view);
  slots::pin_change(*slot.slot, old_view, new_view);
}

}  // namespace p11::impl

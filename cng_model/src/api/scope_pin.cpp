// The scope PIN calls of cng_scope_pin.h.
#include "api/boundary.h"
#include "api/key_common.h"
#include "api/scope_login.h"
#include "api/scope_master_key.h"
#include "cng_scope_pin.h"
#include "core/u16.h"

using namespace cng;
using namespace cng::api;

namespace {

constexpr DWORD kScopeFlags = NCRYPT_MACHINE_KEY_FLAG | NCRYPT_SILENT_FLAG;

std::string_view as_text(PinBytes pin) {
  return {reinterpret_cast<const char*>(pin.data()), pin.size()};
}

// The provider handle must be valid (the scope PIN is the same for every provider).
Scope checked_scope(NCRYPT_PROV_HANDLE provider, DWORD flags) {
  check_flags(flags, kScopeFlags);
  (void)HandleTable::instance().get<ProviderObject>(provider);
  return scope_from_flags(flags);
}

void check_new_pin(PinBytes pin) {
  require(pin.data() != nullptr || pin.empty(), NTE_INVALID_PARAMETER, "PIN is NULL");
  require_utf8(pin);
}

}  // namespace

namespace cng {

SECURITY_STATUS CngGetScopePinStatus(NCRYPT_PROV_HANDLE hProvider, DWORD dwFlags,
                                     ScopePinStatus* status) noexcept {
  return boundary([&] {
    const Scope scope = checked_scope(hProvider, dwFlags);
    require_arg(status, "status is NULL");
    const PinState state = pin_store_of(scope).state();
    *status = ScopePinStatus{};
    status->pin_set = state.pin_set;
    status->locked = state.locked;
    status->failures = state.failures;
    status->attempts_left = state.attempts_left;
    status->max_failures = state.max_failures;
    // A kTpmPin master key: the TPM's lockout counter too; the one closer to locking shows.
    const auto tpm = state.pin_set ? master_key_tpm_lockout(scope) : std::nullopt;
    if (tpm && tpm->tries_left() < state.attempts_left) {
      status->failures = tpm->counter;
      status->attempts_left = tpm->tries_left();
      status->max_failures = tpm->max_tries;
    }
    status->locked = state.locked || (tpm && tpm->locked());
    status->min_length = kMinPinBytes;
    status->max_length = kMaxPinBytes;
    status->logged_in = scope_logged_in(scope);
  });
}

SECURITY_STATUS CngSetScopePin(NCRYPT_PROV_HANDLE hProvider, DWORD dwFlags, PinBytes pin) noexcept {
  return boundary([&] {
    const Scope scope = checked_scope(hProvider, dwFlags);
    check_new_pin(pin);
    PinStore store = pin_store_of(scope);
    SecureBytes kek = store.set(as_text(pin));
    try {
      protect_master_key(scope, kek);
    } catch (...) {
      (void)store.remove_force();  // no PIN without its hold on the master key
      throw;
    }
    remember_kek(scope, std::move(kek));
  });
}

SECURITY_STATUS CngChangeScopePin(NCRYPT_PROV_HANDLE hProvider, DWORD dwFlags, PinBytes old_pin,
                                  PinBytes new_pin) noexcept {
  return boundary([&] {
    const Scope scope = checked_scope(hProvider, dwFlags);
    require(old_pin.data() != nullptr || old_pin.empty(), NTE_INVALID_PARAMETER, "PIN is NULL");
    check_new_pin(new_pin);
    const auto switch_under = [&](const SecureBytes& old_kek, const SecureBytes& new_kek,
                                  const std::function<void()>& write) {
      wrap_master_key_twice(scope, old_kek, new_kek, write);  // steps 2 and 3
    };
    SecureBytes kek = pin_store_of(scope).change(as_text(old_pin), as_text(new_pin), switch_under);
    remember_kek(scope, SecureBytes(kek));
    try {
      finish_master_key(scope, kek);  // step 4; else the next login with the new PIN does it
    } catch (const CngError&) {
    }
  });
}

SECURITY_STATUS CngRemoveScopePin(NCRYPT_PROV_HANDLE hProvider, DWORD dwFlags,
                                  PinBytes pin) noexcept {
  return boundary([&] {
    const Scope scope = checked_scope(hProvider, dwFlags);
    require(pin.data() != nullptr || pin.empty(), NTE_INVALID_PARAMETER, "PIN is NULL");
    PinStore store = pin_store_of(scope);
    const SecureBytes kek = store.verify(as_text(pin));
    // Back under the file (or TPM) protector first, then the PIN goes (store/master_key.h).
    release_master_key(scope, kek, [&] {
      require(store.remove_force(), NTE_NOT_FOUND, "no PIN is set (removed meanwhile)");
    });
    remember_kek(scope, SecureBytes());  // no PIN: logged in without a KEK
  });
}

SECURITY_STATUS CngForceRemoveScopePin(NCRYPT_PROV_HANDLE hProvider, DWORD dwFlags) noexcept {
  return boundary([&] {
    const Scope scope = checked_scope(hProvider, dwFlags);
    require(pin_store_of(scope).remove_force(), NTE_NOT_FOUND, "no PIN is set");
    logout_scope(scope);
  });
}

SECURITY_STATUS CngLoginScope(NCRYPT_PROV_HANDLE hProvider, DWORD dwFlags, PinBytes pin) noexcept {
  return boundary([&] {
    const Scope scope = checked_scope(hProvider, dwFlags);
    require(pin.data() != nullptr || pin.empty(), NTE_INVALID_PARAMETER, "PIN is NULL");
    // Not UTF-8: it cannot be the scope's PIN (set checks it), and no attempt is spent on it.
    require(!pin_store_of(scope).state().pin_set || is_utf8(pin), SCARD_W_WRONG_CHV,
            "the PIN is not UTF-8: it cannot be the scope's");
    login_scope(scope, pin);
  });
}

}  // namespace cng

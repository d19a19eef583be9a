#include "api/scope_master_key.h"

#include <array>
#include <functional>

#include "api/scope_login.h"
#include "core/cng_error.h"
#include "store/master_key.h"

namespace cng::api {

namespace {

using master_key::Keyring;
using master_key::Protector;

Keyring keyring_of(Scope scope) { return Keyring(Keyring::dir_for(KeyStore::default_dir(scope))); }

std::span<const std::uint8_t, master_key::kKekBytes> kek_span(const SecureBytes& kek) {
  require(kek.size() == master_key::kKekBytes, NTE_INTERNAL_ERROR, "KEK size");
  return std::span<const std::uint8_t, master_key::kKekBytes>(kek.data(), master_key::kKekBytes);
}

bool pin_protected(const Keyring& keyring) {
  const master_key::Status s = keyring.status();
  return s.current.has_value() && master_key::is_pin_protector(s.protector);
}

}  // namespace

void protect_master_key(Scope scope, const SecureBytes& kek) {
  const Keyring keyring = keyring_of(scope);
  const auto lock = keyring.acquire(true);
  // The master key the store would use anyway (TPM-sealed when a TPM answers, else file), then
  // under the PIN (kTpmPin when a TPM answers, else kKek).
  (void)keyring.current_or_create();
  if (!master_key::is_pin_protector(keyring.status().protector)) {
    keyring.protect_with_kek(kek_span(kek));
  }
}

void unlock_master_key(Scope scope, const SecureBytes& kek) {
  const Keyring keyring = keyring_of(scope);
  if (pin_protected(keyring)) {
    keyring.unlock_with_kek(kek_span(kek));
  }
}

void wrap_master_key_twice(Scope scope, const SecureBytes& old_kek, const SecureBytes& new_kek,
                           const std::function<void()>& switch_pin) {
  const Keyring keyring = keyring_of(scope);
  const auto lock = keyring.acquire(true);  // no login finishes a step while the switch is open
  if (pin_protected(keyring)) {
    keyring.unlock_with_kek(kek_span(old_kek));
    const std::array<std::span<const std::uint8_t, master_key::kKekBytes>, 2> both{
        kek_span(old_kek), kek_span(new_kek)};
    keyring.wrap_with_keks(both);
  }
  switch_pin();
}

void finish_master_key(Scope scope, const SecureBytes& kek) {
  const Keyring keyring = keyring_of(scope);
  const auto pending = [&] {
    const master_key::Status s = keyring.status();
    return s.current.has_value() &&
           (!master_key::is_pin_protector(s.protector) || s.kek_wraps != 1);
  };
  if (!pending()) {
    return;
  }
  const auto lock = keyring.acquire(true);
  // Under the lock: a change or removal in another process holds it across both of its writes.
  if (!pending() || !pin_store_of(scope).state().pin_set) {
    return;
  }
  if (master_key::is_pin_protector(keyring.status().protector)) {
    keyring.unlock_with_kek(kek_span(kek));
  }
  const std::array<std::span<const std::uint8_t, master_key::kKekBytes>, 1> one{kek_span(kek)};
  keyring.wrap_with_keks(one);
}

void release_master_key(Scope scope, const SecureBytes& kek,
                        const std::function<void()>& remove_pin) {
  const Keyring keyring = keyring_of(scope);
  const auto lock = keyring.acquire(true);
  if (pin_protected(keyring)) {
    keyring.unlock_with_kek(kek_span(kek));
    keyring.remove_kek_protection();
  }
  remove_pin();
}

void present_pin_to_tpm(Scope scope, const SecureBytes& kek, bool matches) {
  const Keyring keyring = keyring_of(scope);
  const master_key::Status s = keyring.status();
  if (!s.current.has_value() || s.protector != Protector::kTpmPin) {
    return;
  }
  try {
    keyring.unlock_with_kek(kek_span(kek));
  } catch (const CngError& e) {
    if (e.status() != NTE_INCORRECT_PASSWORD) {
      throw;  // SCARD_W_CHV_BLOCKED in lockout; the TPM not answering
    }
    require(!matches, SCARD_W_WRONG_CHV, "the TPM refuses the PIN");
    return;  // counted by the TPM; the verify reports the wrong PIN
  }
  if (!matches) {
    keyring.lock();  // the TPM took a PIN the verifier refuses: the verdict stays "wrong"
  }
}

std::optional<master_key::TpmLockout> master_key_tpm_lockout(Scope scope) noexcept {
  try {
    return keyring_of(scope).tpm_lockout();
  } catch (...) {  // no TPM state to show when it does not answer
    return std::nullopt;
  }
}

void lock_master_key(Scope scope) noexcept {
  try {
    const Keyring keyring = keyring_of(scope);
    if (pin_protected(keyring)) {
      keyring.lock();
    }
  } catch (...) {  // nothing unlocked to forget when the keyring cannot be read
  }
}

}  // namespace cng::api

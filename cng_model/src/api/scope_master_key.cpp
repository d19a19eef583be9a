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
  return s.current.has_value() && s.protector == Protector::kKek;
}

}  // namespace

void protect_master_key(Scope scope, const SecureBytes& kek) {
  const Keyring keyring = keyring_of(scope);
  const auto lock = keyring.acquire(true);
  // The master key the store would use anyway (TPM-sealed when a TPM answers, else file).
  (void)keyring.current_or_create();
  if (keyring.status().protector == Protector::kFile) {
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
    return s.current.has_value() && (s.protector == Protector::kFile ||
                                     (s.protector == Protector::kKek && s.kek_wraps != 1));
  };
  if (!pending()) {
    return;
  }
  const auto lock = keyring.acquire(true);
  // Under the lock: a change or removal in another process holds it across both of its writes.
  if (!pending() || !pin_store_of(scope).state().pin_set) {
    return;
  }
  if (keyring.status().protector == Protector::kKek) {
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

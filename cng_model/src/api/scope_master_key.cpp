#include "api/scope_master_key.h"

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

void rewrap_master_key(Scope scope, const SecureBytes& old_kek, const SecureBytes& new_kek) {
  const Keyring keyring = keyring_of(scope);
  if (!pin_protected(keyring)) {
    return;
  }
  const auto lock = keyring.acquire(true);
  keyring.unlock_with_kek(kek_span(old_kek));
  keyring.protect_with_kek(kek_span(new_kek));
}

void release_master_key(Scope scope, const SecureBytes& kek) {
  const Keyring keyring = keyring_of(scope);
  if (!pin_protected(keyring)) {
    return;
  }
  const auto lock = keyring.acquire(true);
  keyring.unlock_with_kek(kek_span(kek));
  keyring.remove_kek_protection();
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

#include "api/scope_login.h"

#include <array>
#include <mutex>
#include <optional>

#include "api/scope_master_key.h"
#include "core/cng_error.h"
#include "core/u16.h"

namespace cng::api {

namespace {

struct LoginTable {
  std::mutex mutex;
  // Per scope: nullopt = logged out; an empty KEK = logged in to a scope without a PIN.
  std::array<std::optional<SecureBytes>, 2> kek;
};

// A function-local static (not leaked): the library may be unloaded and loaded many times.
LoginTable& table() {
  static LoginTable instance;
  return instance;
}

std::size_t index(Scope scope) { return scope == Scope::kMachine ? 1 : 0; }

std::string_view as_text(std::span<const std::uint8_t> pin) {
  return {reinterpret_cast<const char*>(pin.data()), pin.size()};
}

}  // namespace

PinStore pin_store_of(Scope scope) {
  const bool machine = scope == Scope::kMachine;
  PinStore store(KeyStore::default_dir(scope), scope_root_dir(machine));
  store.set_presenter([scope](const SecureBytes& kek, bool matches) {
    present_pin_to_tpm(scope, kek, matches);  // the TPM counts wrong PINs (kTpmPin master key)
  });
  return store;
}

void login_scope(Scope scope, std::span<const std::uint8_t> pin) {
  PinStore store = pin_store_of(scope);
  SecureBytes kek;
  if (store.state().pin_set) {
    kek = store.verify(as_text(pin));  // SCARD_W_WRONG_CHV / SCARD_W_CHV_BLOCKED
    unlock_master_key(scope, kek);
    finish_master_key(scope, kek);  // completes or rolls back a PIN step a crash interrupted
  }
  remember_kek(scope, std::move(kek));
}

void logout_scope(Scope scope) noexcept {
  {
    LoginTable& t = table();
    const std::lock_guard lock(t.mutex);
    t.kek[index(scope)].reset();
  }
  lock_master_key(scope);
}

bool scope_logged_in(Scope scope) noexcept {
  LoginTable& t = table();
  const std::lock_guard lock(t.mutex);
  return t.kek[index(scope)].has_value();
}

void remember_kek(Scope scope, SecureBytes kek) {
  LoginTable& t = table();
  const std::lock_guard lock(t.mutex);
  t.kek[index(scope)] = std::move(kek);
}

SecureBytes pin_from_utf16(std::span<const std::uint8_t> value) {
  require(value.size() % 2 == 0, NTE_INVALID_PARAMETER, "PIN: odd UTF-16 byte count");
  std::size_t units = value.size() / 2;
  const auto unit = [&](std::size_t i) {
    return static_cast<char16_t>(value[2 * i] | (value[2 * i + 1] << 8));
  };
  if (units > 0 && unit(units - 1) == u'\0') {
    --units;
  }
  SecureBytes out;
  out.reserve(units * 3);
  for (std::size_t i = 0; i < units;) {
    char32_t cp = 0;
    const bool has_next = i + 1 < units;
    const std::size_t n = utf16_decode(unit(i), has_next ? unit(i + 1) : u'\0', has_next, cp);
    require(n != 0, NTE_INVALID_PARAMETER, "PIN: unpaired surrogate");
    require(cp != 0, NTE_INVALID_PARAMETER, "PIN: embedded NUL");
    utf8_append(out, cp);
    i += n;
  }
  return out;
}

void require_utf8(std::span<const std::uint8_t> pin) {
  require(is_utf8(pin), NTE_INVALID_PARAMETER, "PIN: not UTF-8");
}

}  // namespace cng::api

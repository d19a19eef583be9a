#include "api/scope_login.h"

#include <array>
#include <mutex>
#include <optional>

#include "api/scope_master_key.h"
#include "core/cng_error.h"

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

void put_utf8(SecureBytes& out, char32_t c) {
  if (c < 0x80) {
    out.push_back(static_cast<std::uint8_t>(c));
  } else if (c < 0x800) {
    out.push_back(static_cast<std::uint8_t>(0xC0 | (c >> 6)));
    out.push_back(static_cast<std::uint8_t>(0x80 | (c & 0x3F)));
  } else if (c < 0x10000) {
    out.push_back(static_cast<std::uint8_t>(0xE0 | (c >> 12)));
    out.push_back(static_cast<std::uint8_t>(0x80 | ((c >> 6) & 0x3F)));
    out.push_back(static_cast<std::uint8_t>(0x80 | (c & 0x3F)));
  } else {
    out.push_back(static_cast<std::uint8_t>(0xF0 | (c >> 18)));
    out.push_back(static_cast<std::uint8_t>(0x80 | ((c >> 12) & 0x3F)));
    out.push_back(static_cast<std::uint8_t>(0x80 | ((c >> 6) & 0x3F)));
    out.push_back(static_cast<std::uint8_t>(0x80 | (c & 0x3F)));
  }
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
  for (std::size_t i = 0; i < units; ++i) {
    const char16_t c = unit(i);
    require(c != u'\0', NTE_INVALID_PARAMETER, "PIN: embedded NUL");
    if (c >= 0xD800 && c <= 0xDBFF) {
      require(i + 1 < units && unit(i + 1) >= 0xDC00 && unit(i + 1) <= 0xDFFF,
              NTE_INVALID_PARAMETER, "PIN: unpaired surrogate");
      const char32_t cp = 0x10000 + ((char32_t{c} - 0xD800) << 10) + (unit(i + 1) - 0xDC00);
      put_utf8(out, cp);
      ++i;
    } else {
      require(c < 0xDC00 || c > 0xDFFF, NTE_INVALID_PARAMETER, "PIN: unpaired surrogate");
      put_utf8(out, c);
    }
  }
  return out;
}

void require_utf8(std::span<const std::uint8_t> pin) {
  std::size_t i = 0;
  while (i < pin.size()) {
    const std::uint8_t b = pin[i];
    std::size_t extra = 0;
    char32_t cp = 0;
    char32_t min = 0;
    if (b < 0x80) {
      ++i;
      continue;
    } else if ((b & 0xE0) == 0xC0) {
      extra = 1, cp = b & 0x1F, min = 0x80;
    } else if ((b & 0xF0) == 0xE0) {
      extra = 2, cp = b & 0x0F, min = 0x800;
    } else if ((b & 0xF8) == 0xF0) {
      extra = 3, cp = b & 0x07, min = 0x10000;
    } else {
      fail(NTE_INVALID_PARAMETER, "PIN: not UTF-8");
    }
    require(i + extra < pin.size(), NTE_INVALID_PARAMETER, "PIN: truncated UTF-8");
    for (std::size_t k = 1; k <= extra; ++k) {
      require((pin[i + k] & 0xC0) == 0x80, NTE_INVALID_PARAMETER, "PIN: not UTF-8");
      cp = (cp << 6) | (pin[i + k] & 0x3F);
    }
    require(cp >= min && cp <= 0x10FFFF && (cp < 0xD800 || cp > 0xDFFF), NTE_INVALID_PARAMETER,
            "PIN: not UTF-8");
    i += extra + 1;
  }
}

}  // namespace cng::api

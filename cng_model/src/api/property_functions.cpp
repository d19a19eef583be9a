// NCryptGetProperty and NCryptSetProperty: argument checks and dispatch by object kind.
#include <cstring>

#include "api/boundary.h"
#include "api/key_auth.h"
#include "api/key_common.h"
#include "api/output.h"
#include "api/properties.h"
#include "api/scope_login.h"
#include "core/u16.h"

using namespace cng;
using namespace cng::api;

namespace {

std::u16string property_name_arg(LPCWSTR name) {
  return u16_arg(name, NCRYPT_MAX_PROPERTY_NAME, "invalid property name");
}

// A damaged key (NCryptOpenKey of a file that cannot be parsed) has no properties to read or set.
void require_intact(const KeyObject& key) {
  require(key.state != KeyState::kDamaged, NTE_BAD_DATA,
          "the key file is damaged: the key can only be deleted");
}

// Copies a value to the caller and turns stored offsets into pointers into its buffer.
void write_property(const PropertyValue& value, PBYTE out, DWORD out_size, DWORD* pcbResult) {
  write_output(value.bytes, out, out_size, pcbResult);
  if (out == nullptr) {
    return;
  }
  for (const std::size_t at : value.pointer_offsets) {
    ULONG_PTR offset = 0;
    std::memcpy(&offset, out + at, sizeof offset);
    const ULONG_PTR address = offset == 0 ? 0 : reinterpret_cast<ULONG_PTR>(out + offset);
    std::memcpy(out + at, &address, sizeof address);
  }
}

// NCRYPT_PIN_PROPERTY on a provider (cng_scope_pin.h): logs the scope in with the UTF-16 PIN,
// or out with cbInput = 0.
void set_scope_pin_property(Scope scope, const BYTE* pin, DWORD size) {
  if (size == 0) {
    logout_scope(scope);
    return;
  }
  require(pin != nullptr, NTE_INVALID_PARAMETER, "pbInput is NULL");
  require(size <= NCRYPT_MAX_PROPERTY_DATA, NTE_INVALID_PARAMETER, "PIN too long");
  const SecureBytes utf8 = pin_from_utf16({pin, size});
  login_scope(scope, utf8);
}

}  // namespace

SECURITY_STATUS WINAPI NCryptGetProperty(NCRYPT_HANDLE hObject, LPCWSTR pszProperty, PBYTE pbOutput,
                                         DWORD cbOutput, DWORD* pcbResult, DWORD dwFlags) {
  return boundary([&] {
    check_flags(dwFlags, NCRYPT_PERSIST_ONLY_FLAG | NCRYPT_SILENT_FLAG);
    const auto object = HandleTable::instance().find(hObject);
    require(object != nullptr, NTE_INVALID_HANDLE, "invalid handle");
    const std::u16string name = property_name_arg(pszProperty);
    require_arg(pcbResult, "pcbResult is NULL");
    PropertyValue value;
    switch (object->kind()) {
      case ObjectKind::kKey:
        require_intact(static_cast<const KeyObject&>(*object));
        value = get_key_property(static_cast<KeyObject&>(*object), name, dwFlags);
        break;
      case ObjectKind::kProvider:
        require((dwFlags & NCRYPT_PERSIST_ONLY_FLAG) == 0, NTE_NOT_SUPPORTED,
                "providers have no persisted properties");
        value = get_provider_property(static_cast<ProviderObject&>(*object), name);
        break;
      case ObjectKind::kSecret:
        fail(NTE_NOT_SUPPORTED, "secrets have no properties");
    }
    write_property(value, pbOutput, cbOutput, pcbResult);
  });
}

SECURITY_STATUS WINAPI NCryptSetProperty(NCRYPT_HANDLE hObject, LPCWSTR pszProperty, PBYTE pbInput,
                                         DWORD cbInput, DWORD dwFlags) {
  return boundary([&] {
    // NCRYPT_MACHINE_KEY_FLAG: only to name the scope of NCRYPT_PIN_PROPERTY on a provider.
    check_flags(dwFlags, NCRYPT_PERSIST_FLAG | NCRYPT_PERSIST_ONLY_FLAG | NCRYPT_SILENT_FLAG |
                             NCRYPT_MACHINE_KEY_FLAG);
    const auto object = HandleTable::instance().find(hObject);
    require(object != nullptr, NTE_INVALID_HANDLE, "invalid handle");
    const std::u16string name = property_name_arg(pszProperty);
    if (object->kind() == ObjectKind::kProvider && name == NCRYPT_PIN_PROPERTY) {
      check_flags(dwFlags, NCRYPT_MACHINE_KEY_FLAG | NCRYPT_SILENT_FLAG);
      set_scope_pin_property(scope_from_flags(dwFlags), pbInput, cbInput);
      return;
    }
    check_flags(dwFlags, NCRYPT_PERSIST_FLAG | NCRYPT_PERSIST_ONLY_FLAG | NCRYPT_SILENT_FLAG);
    if (object->kind() == ObjectKind::kKey && name == NCRYPT_PIN_PROPERTY) {
      // Per-key authentication (key_auth.h): never persisted, so no persist flags.
      check_flags(dwFlags, NCRYPT_SILENT_FLAG);
      auto& key = static_cast<KeyObject&>(*object);
      require_intact(key);
      require(pbInput != nullptr || cbInput == 0, NTE_INVALID_PARAMETER, "pbInput is NULL");
      std::lock_guard lock(key.mutex);
      set_key_pin_locked(key, {pbInput, cbInput});
      return;
    }
    require(cbInput <= NCRYPT_MAX_PROPERTY_DATA, NTE_INVALID_PARAMETER,
            "property value larger than NCRYPT_MAX_PROPERTY_DATA");
    const auto value = input_span(pbInput, cbInput, "pbInput is NULL");
    switch (object->kind()) {
      case ObjectKind::kKey:
        require_intact(static_cast<const KeyObject&>(*object));
        set_key_property(static_cast<KeyObject&>(*object), name, value, dwFlags);
        return;
      case ObjectKind::kProvider:
        require((dwFlags & (NCRYPT_PERSIST_FLAG | NCRYPT_PERSIST_ONLY_FLAG)) == 0,
                NTE_NOT_SUPPORTED, "provider properties are not persisted");
        set_provider_property(static_cast<ProviderObject&>(*object), name, value);
        return;
      case ObjectKind::kSecret:
        fail(NTE_NOT_SUPPORTED, "secrets have no properties");
    }
  });
}

// Key properties: built-in ones (some settable only before finalize) and custom ones
// (kept on the handle, or persisted with the key file with NCRYPT_PERSIST_FLAG).
#include <sys/stat.h>

#include <cstring>
#include <mutex>

#include "api/algorithms.h"
#include "api/key_auth.h"
#include "api/key_common.h"
#include "api/properties.h"
#include "api/symmetric.h"
#include "api/testing_hooks.h"
#include "api/ui_policy.h"
#include "core/cng_error.h"
#include "core/u16.h"

namespace cng::api {

namespace {

constexpr DWORD kProviderVersion = 0x00010000;  // 1.0 (high word major, low word minor)
constexpr DWORD kKnownExportPolicy = NCRYPT_ALLOW_EXPORT_FLAG | NCRYPT_ALLOW_PLAINTEXT_EXPORT_FLAG |
                                     NCRYPT_ALLOW_ARCHIVING_FLAG |
                                     NCRYPT_ALLOW_PLAINTEXT_ARCHIVING_FLAG | 0x10;
constexpr std::uint64_t kUnixEpochAsFiletime = 116444736000000000ULL;  // 100 ns since 1601

bool is(std::u16string_view name, std::u16string_view property) {
  return u16_iequals(name, property);
}

// Properties that are fixed by the key itself and never settable.
bool is_read_only(std::u16string_view name) {
  for (const auto p :
       {NCRYPT_NAME_PROPERTY, NCRYPT_UNIQUE_NAME_PROPERTY, NCRYPT_ALGORITHM_PROPERTY,
        NCRYPT_ALGORITHM_GROUP_PROPERTY, NCRYPT_LENGTHS_PROPERTY, NCRYPT_BLOCK_LENGTH_PROPERTY,
        NCRYPT_PUBLIC_LENGTH_PROPERTY, NCRYPT_SIGNATURE_LENGTH_PROPERTY, NCRYPT_KEY_TYPE_PROPERTY,
        NCRYPT_LAST_MODIFIED_PROPERTY, NCRYPT_PROVIDER_HANDLE_PROPERTY, NCRYPT_IMPL_TYPE_PROPERTY,
        NCRYPT_VERSION_PROPERTY, NCRYPT_MAX_NAME_LENGTH_PROPERTY, NCRYPT_SECURITY_DESCR_PROPERTY,
        NCRYPT_SECURITY_DESCR_SUPPORT_PROPERTY, NCRYPT_USE_VIRTUAL_ISOLATION_PROPERTY,
        NCRYPT_USE_PER_BOOT_KEY_PROPERTY, NCRYPT_EPHEMERAL_NAME_PROPERTY}) {
    if (is(name, p)) {
      return true;
    }
  }
  return false;
}

DWORD signature_bytes(const KeyObject& key) {
  const DWORD bytes = (key.record.length_bits + 7) / 8;
  return is_ec(key.algorithm) ? 2 * bytes : bytes;
}

Bytes modified_time(const KeyObject& key) {
  require(key.persisted() && key.state == KeyState::kFinalized, NTE_NOT_FOUND,
          "the key has no modification time");
  const auto path = key.store()->dir() / KeyStore::file_name_for(key.record.name);
  struct stat st {};
  require(::stat(path.c_str(), &st) == 0, NTE_NOT_FOUND, "the key file is gone");
  const std::uint64_t ticks = kUnixEpochAsFiletime +
                              static_cast<std::uint64_t>(st.st_mtim.tv_sec) * 10000000ULL +
                              static_cast<std::uint64_t>(st.st_mtim.tv_nsec) / 100U;
  FILETIME ft{static_cast<DWORD>(ticks & 0xFFFFFFFFu), static_cast<DWORD>(ticks >> 32)};
  Bytes out(sizeof ft);
  std::memcpy(out.data(), &ft, sizeof ft);
  return out;
}

Bytes lengths_value(const KeyObject& key) {
  NCRYPT_SUPPORTED_LENGTHS lengths{};
  if (key.algorithm == KeyAlgorithm::kRsa) {
    lengths = key.provider().rsa_lengths();
  } else if (is_symmetric(key.algorithm)) {
    lengths = algorithm_info(key.algorithm).lengths;
  } else {
    const DWORD bits = key.curve == Curve::kNone ? 0 : curve_bits(key.curve);
    lengths = {bits, bits, 0, bits};
  }
  Bytes out(sizeof lengths);
  std::memcpy(out.data(), &lengths, sizeof lengths);
  return out;
}

// Custom properties exist only on persisted keys (Windows: NTE_NOT_SUPPORTED on ephemeral).
Bytes get_custom(const KeyObject& key, std::u16string_view name, bool persisted_only) {
  require(key.persisted(), NTE_NOT_SUPPORTED, "ephemeral keys have no custom properties");
  require(!is_key_auth_record_property(name), NTE_NOT_FOUND, "property not set");
  const std::u16string n(name);
  if (!persisted_only) {
    if (const auto it = key.handle_properties.find(n); it != key.handle_properties.end()) {
      return it->second;
    }
  }
  const auto it = key.record.properties.find(n);
  require(it != key.record.properties.end(), NTE_NOT_FOUND, "property not set");
  return it->second;
}

// Sets a record property and, once the key is on disk, rewrites its file.
void persist_record_property(KeyObject& key, const std::u16string& name, const Bytes& value) {
  if (key.state == KeyState::kFinalized) {
    std::lock_guard lock(key_file_update_mutex());
    KeyStore& store = *key.store();
    KeyRecord current = store.load(key.record.name);  // others' updates are kept
    current.properties[name] = value;
    store.update(current);
  }
  key.record.properties[name] = value;
}

void set_custom(KeyObject& key, std::u16string_view name, std::span<const std::uint8_t> value,
                bool persist) {
  require(key.persisted(), NTE_NOT_SUPPORTED, "ephemeral keys cannot hold custom properties");
  require(!name.empty(), NTE_INVALID_PARAMETER, "empty property name");
  require(!is_key_auth_record_property(name), NTE_NOT_SUPPORTED, "reserved property name");
  testing::maybe_fail_allocation();
  const std::u16string n(name);
  Bytes bytes(value.begin(), value.end());
  if (persist) {
    persist_record_property(key, n, bytes);
    key.handle_properties.erase(n);
  } else {
    key.handle_properties[n] = std::move(bytes);
  }
}

// Length, Export Policy, Key Usage, ECCCurveName and UI Policy shape the key: settable only
// before NCryptFinalizeKey. Afterwards we answer NTE_PERM ("access denied": the property is
// now read-only); whether Windows uses NTE_PERM or NTE_NOT_SUPPORTED here is unverified.
void require_creation_time(const KeyObject& key) {
  require(key.state == KeyState::kCreated, NTE_PERM,
          "property can only be set before the key is finalized");
}

void set_length(KeyObject& key, std::span<const std::uint8_t> value) {
  require(!is_ec(key.algorithm), NTE_NOT_SUPPORTED,
          "the length of an EC key is fixed by its curve");
  require_creation_time(key);
  const DWORD bits = dword_arg(value);
  const NCRYPT_SUPPORTED_LENGTHS lengths = key.algorithm == KeyAlgorithm::kRsa
                                               ? key.provider().rsa_lengths()
                                               : algorithm_info(key.algorithm).lengths;
  require(bits >= lengths.dwMinLength && bits <= lengths.dwMaxLength &&
              (lengths.dwIncrement == 0 || (bits - lengths.dwMinLength) % lengths.dwIncrement == 0),
          NTE_INVALID_PARAMETER, "unsupported key length");
  key.record.length_bits = bits;
}

void set_curve(KeyObject& key, std::span<const std::uint8_t> value) {
  require(is_ec(key.algorithm), NTE_NOT_SUPPORTED, "only EC keys have a curve");
  require_creation_time(key);
  const Curve curve = curve_from_name(string_arg(value));  // NTE_NOT_SUPPORTED if unknown
  require(key.provider().supports_curve(curve), NTE_NOT_SUPPORTED, "curve not supported");
  if (!key.generic_curve) {
    require(curve == key.curve, NTE_INVALID_PARAMETER, "the algorithm already fixes another curve");
    return;
  }
  key.curve = curve;
  key.record.curve_name = std::u16string(curve_name(curve));
  key.record.length_bits = curve_bits(curve);
}

}  // namespace

std::mutex& key_file_update_mutex() {
  static auto* m = new std::mutex();
  return *m;
}

PropertyValue get_key_property(KeyObject& key, std::u16string_view name, DWORD flags) {
  std::lock_guard lock(key.mutex);
  const KeyRecord& r = key.record;
  if ((flags & NCRYPT_PERSIST_ONLY_FLAG) != 0) {
    return {get_custom(key, name, true), {}};
  }
  if (is(name, NCRYPT_NAME_PROPERTY) || is(name, NCRYPT_UNIQUE_NAME_PROPERTY)) {
    require(key.persisted(), NTE_NOT_SUPPORTED, "ephemeral keys have no name");
    return {
        string_value(is(name, NCRYPT_NAME_PROPERTY) ? r.name
                                                    : from_utf8(KeyStore::file_name_for(r.name))),
        {}};
  }
  if (is(name, NCRYPT_ALGORITHM_PROPERTY)) {
    return {string_value(r.algorithm), {}};
  }
  if (is(name, NCRYPT_ALGORITHM_GROUP_PROPERTY)) {
    return {string_value(algorithm_group(key.algorithm)), {}};
  }
  if (is(name, NCRYPT_LENGTH_PROPERTY) || is(name, NCRYPT_PUBLIC_LENGTH_PROPERTY)) {
    require(!is_symmetric(key.algorithm) || is(name, NCRYPT_LENGTH_PROPERTY), NTE_NOT_SUPPORTED,
            "a symmetric key has no public key");
    return {dword_value(r.length_bits), {}};
  }
  if (is(name, NCRYPT_LENGTHS_PROPERTY)) {
    return {lengths_value(key), {}};
  }
  if (auto value = get_symmetric_property(key, name)) {  // Block Length, Chaining Mode, …
    return {std::move(*value), {}};
  }
  if (is(name, NCRYPT_BLOCK_LENGTH_PROPERTY)) {
    require(key.algorithm == KeyAlgorithm::kRsa, NTE_NOT_SUPPORTED, "no block length");
    return {dword_value((r.length_bits + 7) / 8), {}};
  }
  if (is(name, NCRYPT_SIGNATURE_LENGTH_PROPERTY)) {
    require(!is_symmetric(key.algorithm), NTE_NOT_SUPPORTED, "no fixed signature length");
    return {dword_value(signature_bytes(key)), {}};
  }
  if (is(name, NCRYPT_EXPORT_POLICY_PROPERTY)) {
    return {dword_value(r.export_policy), {}};
  }
  if (is(name, NCRYPT_KEY_USAGE_PROPERTY)) {
    return {dword_value(r.key_usage), {}};
  }
  if (is(name, NCRYPT_KEY_TYPE_PROPERTY)) {
    // Real Windows reports the machine bit as 0x20 (the documentation says 0x1).
    return {dword_value(key.persisted() && key.scope() == Scope::kMachine ? NCRYPT_MACHINE_KEY_FLAG
                                                                          : 0),
            {}};
  }
  if (is(name, NCRYPT_ECC_CURVE_NAME_PROPERTY)) {
    require(is_ec(key.algorithm), NTE_NOT_SUPPORTED, "only EC keys have a curve");
    require(key.curve != Curve::kNone, NTE_NOT_FOUND, "no curve chosen yet");
    return {string_value(curve_name(key.curve)), {}};
  }
  if (is(name, NCRYPT_LAST_MODIFIED_PROPERTY)) {
    return {modified_time(key), {}};
  }
  if (is(name, NCRYPT_PROVIDER_HANDLE_PROPERTY)) {
    // A new provider handle on the same provider; the caller frees it.
    auto provider = std::make_shared<ProviderObject>(key.context());
    return {handle_value(HandleTable::instance().insert(std::move(provider))), {}};
  }
  if (is(name, NCRYPT_IMPL_TYPE_PROPERTY) || is(name, NCRYPT_MAX_NAME_LENGTH_PROPERTY) ||
      is(name, NCRYPT_SECURITY_DESCR_PROPERTY) ||
      is(name, NCRYPT_SECURITY_DESCR_SUPPORT_PROPERTY)) {
    fail(NTE_NOT_SUPPORTED, "not a key property");
  }
  if (is(name, NCRYPT_VERSION_PROPERTY)) {
    return {dword_value(kProviderVersion), {}};
  }
  if (is(name, NCRYPT_USE_VIRTUAL_ISOLATION_PROPERTY) ||
      is(name, NCRYPT_USE_PER_BOOT_KEY_PROPERTY)) {
    return {dword_value(0), {}};  // never VBS-protected on Linux
  }
  if (is(name, NCRYPT_USE_CONTEXT_PROPERTY)) {
    require(key.use_context.has_value(), NTE_NOT_FOUND, "Use Context not set");
    return {string_value(*key.use_context), {}};
  }
  if (is(name, NCRYPT_WINDOW_HANDLE_PROPERTY)) {
    require(key.window_handle.has_value(), NTE_NOT_FOUND, "HWND Handle not set");
    return {*key.window_handle, {}};
  }
  if (is(name, NCRYPT_UI_POLICY_PROPERTY)) {
    const auto it = r.properties.find(std::u16string(kUiPolicyRecordName));
    require(it != r.properties.end(), NTE_NOT_FOUND, "UI Policy not set");
    return decode_ui_policy(it->second);
  }
  if (name.starts_with(u"PCP_") && key.state == KeyState::kFinalized) {
    // Provider-specific key properties (the platform provider's PCP_*), when it has them.
    if (auto value = key.material_locked()->key_property(name)) {
      return {std::move(*value), {}};
    }
  }
  return {get_custom(key, name, false), {}};
}

void set_key_property(KeyObject& key, std::u16string_view name, std::span<const std::uint8_t> value,
                      DWORD flags) {
  std::lock_guard lock(key.mutex);
  KeyRecord& r = key.record;
  if ((flags & NCRYPT_PERSIST_ONLY_FLAG) != 0) {
    // Only the user-persisted copy: shadows a built-in name without changing the built-in.
    require(!is(name, NCRYPT_SECURITY_DESCR_PROPERTY), NTE_INVALID_PARAMETER,
            "NCRYPT_PERSIST_ONLY_FLAG cannot be used with Security Descr");
    set_custom(key, name, value, true);
    return;
  }
  // NCRYPT_PERSIST_FLAG on a built-in creation property is accepted (they are persisted with
  // the key anyway), also on ephemeral keys, as .NET sets Export Policy that way.
  if (is(name, NCRYPT_LENGTH_PROPERTY)) {
    set_length(key, value);
  } else if (set_symmetric_property(key, name, value)) {
    // Chaining Mode: per handle, at any time
  } else if (is(name, NCRYPT_EXPORT_POLICY_PROPERTY)) {
    require_creation_time(key);
    const DWORD policy = dword_arg(value);
    require((policy & ~kKnownExportPolicy) == 0, NTE_INVALID_PARAMETER, "unknown export policy");
    r.export_policy = policy;
  } else if (is(name, NCRYPT_KEY_USAGE_PROPERTY)) {
    require_creation_time(key);
    const DWORD usage = dword_arg(value);
    require((usage & ~DWORD{NCRYPT_ALLOW_ALL_USAGES}) == 0, NTE_INVALID_PARAMETER,
            "unknown key usage bits");
    r.key_usage = usage;
  } else if (is(name, NCRYPT_ECC_CURVE_NAME_PROPERTY)) {
    set_curve(key, value);
  } else if (is(name, NCRYPT_UI_POLICY_PROPERTY)) {
    require_creation_time(key);
    r.properties[std::u16string(kUiPolicyRecordName)] = encode_ui_policy(value);
  } else if (is(name, NCRYPT_USE_CONTEXT_PROPERTY)) {
    key.use_context = string_arg(value);  // per handle, never persisted
  } else if (is(name, NCRYPT_WINDOW_HANDLE_PROPERTY)) {
    require(value.size() == sizeof(ULONG_PTR), NTE_INVALID_PARAMETER, "HWND Handle size");
    key.window_handle = Bytes(value.begin(), value.end());
  } else if (is_read_only(name)) {
    fail(NTE_NOT_SUPPORTED, "property cannot be set");
  } else {
    set_custom(key, name, value, (flags & NCRYPT_PERSIST_FLAG) != 0);
  }
}

PropertyValue get_provider_property(ProviderObject& provider, std::u16string_view name) {
  if (is(name, NCRYPT_NAME_PROPERTY)) {
    return {string_value(provider.provider().name()), {}};
  }
  if (is(name, NCRYPT_IMPL_TYPE_PROPERTY)) {
    return {dword_value(provider.provider().impl_type()), {}};
  }
  if (is(name, NCRYPT_VERSION_PROPERTY)) {
    return {dword_value(kProviderVersion), {}};
  }
  if (is(name, NCRYPT_MAX_NAME_LENGTH_PROPERTY)) {
    return {dword_value(NCRYPT_MAX_KEY_NAME_LENGTH), {}};
  }
  if (is(name, NCRYPT_USE_CONTEXT_PROPERTY)) {
    std::lock_guard lock(provider.mutex);
    require(provider.use_context.has_value(), NTE_NOT_FOUND, "Use Context not set");
    return {string_value(*provider.use_context), {}};
  }
  if (auto value = provider.provider().provider_property(name)) {
    return {std::move(*value), {}};  // e.g. the platform provider's PCP_* properties
  }
  fail(NTE_NOT_SUPPORTED, "not a provider property");
}

void set_provider_property(ProviderObject& provider, std::u16string_view name,
                           std::span<const std::uint8_t> value) {
  if (is(name, NCRYPT_USE_CONTEXT_PROPERTY)) {
    std::u16string context = string_arg(value);
    std::lock_guard lock(provider.mutex);
    provider.use_context = std::move(context);
    return;
  }
  if (is(name, NCRYPT_WINDOW_HANDLE_PROPERTY)) {
    require(value.size() == sizeof(ULONG_PTR), NTE_INVALID_PARAMETER, "HWND Handle size");
    return;  // no UI on this platform: accepted, unused
  }
  fail(NTE_NOT_SUPPORTED, "property cannot be set on a provider");
}

}  // namespace cng::api

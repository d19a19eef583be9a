#include "ncrypt_support.h"

#include <cstdlib>
#include <cstring>
#include <string_view>
#include <utility>

#include "slots/profile.h"
#include "status_names.h"

namespace cngkey {

NcryptError::NcryptError(const char* function, SECURITY_STATUS status)
    : std::runtime_error(std::string(function) + " failed: " + describe_status(status)),
      function_(function),
      status_(status) {}

NcryptError::NcryptError(const char* function, SECURITY_STATUS status, const std::string& detail)
    : std::runtime_error(std::string(function) + " failed: " + describe_status(status) + ": " +
                         detail),
      function_(function),
      status_(status) {}

int exit_code_for_status(SECURITY_STATUS status) noexcept {
  switch (status) {
    case NTE_BAD_KEYSET:
    case NTE_NOT_FOUND:
      return kExitNotFound;
    case NTE_EXISTS:
      return kExitExists;
    case NTE_PERM:
      return kExitPermission;
    case NTE_DEVICE_NOT_FOUND:
      return kExitNoTpm;
    case SCARD_W_WRONG_CHV:
    case SCARD_W_CHV_BLOCKED:
      return kExitPin;
    default:
      return kExitNcryptFailure;
  }
}

void check(SECURITY_STATUS status, const char* function) {
  if (status != ERROR_SUCCESS) {
    throw NcryptError(function, status);
  }
}

Handle& Handle::operator=(Handle&& other) noexcept {
  if (this != &other) {
    if (handle_ != 0) {
      NCryptFreeObject(handle_);
    }
    handle_ = other.release();
  }
  return *this;
}

Handle::~Handle() {
  if (handle_ != 0) {
    NCryptFreeObject(handle_);
  }
}

NCRYPT_HANDLE Handle::release() noexcept { return std::exchange(handle_, 0); }

DWORD scope_flags(Scope scope) noexcept {
  return scope == Scope::kMachine ? NCRYPT_MACHINE_KEY_FLAG : 0;
}

const char16_t* provider_alias(ProviderKind provider) noexcept {
  return provider == ProviderKind::kPlatform ? MS_PLATFORM_CRYPTO_PROVIDER
                                             : MS_KEY_STORAGE_PROVIDER;
}

std::string_view store_subdirectory(ProviderKind provider) {
  // The provider's profile says where its keys and certificates live in a scope directory.
  for (const slots::ProviderProfile& profile : slots::provider_profiles()) {
    if (profile.provider == std::u16string_view(provider_alias(provider))) {
      return profile.store_subdirectory;
    }
  }
  return {};
}

Handle open_provider(ProviderKind provider) {
  NCRYPT_PROV_HANDLE raw = 0;
  const SECURITY_STATUS status = NCryptOpenStorageProvider(&raw, provider_alias(provider), 0);
  if (status == NTE_DEVICE_NOT_FOUND && provider == ProviderKind::kPlatform) {
    const char* tcti = std::getenv("CNG_PKCS11_TCTI");  // NOLINT(concurrency-mt-unsafe): no setenv
    throw CliError(
        kExitNoTpm,
        "no TPM: the platform provider (TPM 2.0) found no device at " +
            std::string(tcti != nullptr && *tcti != '\0' ? tcti : "device:/dev/tpmrm0") +
            " (set CNG_PKCS11_TCTI); NCryptOpenStorageProvider failed: " + describe_status(status));
  }
  check(status, "NCryptOpenStorageProvider");
  return Handle(raw);
}

Handle open_key(const Handle& provider, const std::u16string& name, Scope scope) {
  NCRYPT_KEY_HANDLE raw = 0;
  check(NCryptOpenKey(provider.get(), &raw, name.c_str(), 0, scope_flags(scope)), "NCryptOpenKey");
  return Handle(raw);
}

namespace {

// Two-call protocol: size, then value. Returns the first failing status (the value is only
// filled on success).
SECURITY_STATUS read_property(NCRYPT_HANDLE object, const char16_t* property, Bytes& value) {
  DWORD size = 0;
  const SECURITY_STATUS status = NCryptGetProperty(object, property, nullptr, 0, &size, 0);
  if (status != ERROR_SUCCESS) {
    return status;
  }
  value.assign(size, 0);
  check(NCryptGetProperty(object, property, value.data(), size, &size, 0), "NCryptGetProperty");
  value.resize(size);
  return ERROR_SUCCESS;
}

std::u16string bytes_to_u16(const Bytes& bytes) {
  std::u16string text(bytes.size() / sizeof(char16_t), u'\0');
  std::memcpy(text.data(), bytes.data(), text.size() * sizeof(char16_t));
  // The value includes its terminating NUL; keep only the text before it.
  if (const auto nul = text.find(u'\0'); nul != std::u16string::npos) {
    text.resize(nul);
  }
  return text;
}

}  // namespace

std::optional<Bytes> find_property(NCRYPT_HANDLE object, const char16_t* property) {
  Bytes value;
  const SECURITY_STATUS status = read_property(object, property, value);
  if (status == NTE_NOT_FOUND || status == NTE_NOT_SUPPORTED) {
    return std::nullopt;
  }
  check(status, "NCryptGetProperty");
  return value;
}

std::optional<std::u16string> find_string_property(NCRYPT_HANDLE object, const char16_t* property) {
  const auto bytes = find_property(object, property);
  if (!bytes) {
    return std::nullopt;
  }
  return bytes_to_u16(*bytes);
}

std::optional<DWORD> find_dword_property(NCRYPT_HANDLE object, const char16_t* property) {
  const auto bytes = find_property(object, property);
  if (!bytes) {
    return std::nullopt;
  }
  if (bytes->size() != sizeof(DWORD)) {
    throw NcryptError("NCryptGetProperty", NTE_BAD_DATA);
  }
  DWORD value = 0;
  std::memcpy(&value, bytes->data(), sizeof value);
  return value;
}

std::u16string get_string_property(NCRYPT_HANDLE object, const char16_t* property) {
  Bytes value;
  check(read_property(object, property, value), "NCryptGetProperty");
  return bytes_to_u16(value);
}

void set_dword_property(NCRYPT_HANDLE object, const char16_t* property, DWORD value) {
  check(NCryptSetProperty(object, property, reinterpret_cast<PBYTE>(&value), sizeof value, 0),
        "NCryptSetProperty");
}

Bytes export_public_blob(NCRYPT_HANDLE key) {
  const std::u16string group = get_string_property(key, NCRYPT_ALGORITHM_GROUP_PROPERTY);
  const char16_t* blob_type = group == std::u16string_view(NCRYPT_RSA_ALGORITHM_GROUP)
                                  ? BCRYPT_RSAPUBLIC_BLOB
                                  : BCRYPT_ECCPUBLIC_BLOB;
  DWORD size = 0;
  check(NCryptExportKey(key, 0, blob_type, nullptr, nullptr, 0, &size, 0), "NCryptExportKey");
  Bytes blob(size);
  check(NCryptExportKey(key, 0, blob_type, nullptr, blob.data(), size, &size, 0),
        "NCryptExportKey");
  blob.resize(size);
  return blob;
}

}  // namespace cngkey

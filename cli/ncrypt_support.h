// Thin RAII layer over the public NCrypt API for the CLI: owned handles, status checks that
// throw NcryptError naming the failing function, and typed property reads.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "ncrypt.h"
#include "options.h"

namespace cngkey {

using Bytes = std::vector<std::uint8_t>;

// A failure with its own exit code (ExitCode in options.h) and a complete message.
class CliError : public std::runtime_error {
 public:
  CliError(int exit_code, const std::string& message)
      : std::runtime_error(message), exit_code_(exit_code) {}
  [[nodiscard]] int exit_code() const noexcept { return exit_code_; }

 private:
  int exit_code_;
};

// An NCrypt function returned an error; main() prints it and exits with
// exit_code_for_status(status()).
class NcryptError : public std::runtime_error {
 public:
  NcryptError(const char* function, SECURITY_STATUS status);
  // The same, with the callee's own explanation appended ("...: detail").
  NcryptError(const char* function, SECURITY_STATUS status, const std::string& detail);
  [[nodiscard]] const char* function() const noexcept { return function_; }
  [[nodiscard]] SECURITY_STATUS status() const noexcept { return status_; }

 private:
  const char* function_;
  SECURITY_STATUS status_;
};

// Throws NcryptError(function, status) unless status is ERROR_SUCCESS.
void check(SECURITY_STATUS status, const char* function);

// The exit code for a failed NCrypt status: kExitNotFound, kExitExists, kExitPermission,
// kExitNoTpm, else kExitNcryptFailure.
int exit_code_for_status(SECURITY_STATUS status) noexcept;

// Owns one NCrypt object handle (provider or key) and frees it with NCryptFreeObject.
class Handle {
 public:
  Handle() = default;
  explicit Handle(NCRYPT_HANDLE handle) noexcept : handle_(handle) {}
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  Handle(Handle&& other) noexcept : handle_(other.release()) {}
  Handle& operator=(Handle&& other) noexcept;
  ~Handle();

  [[nodiscard]] NCRYPT_HANDLE get() const noexcept { return handle_; }
  // Gives up ownership, e.g. after NCryptDeleteKey, which frees the handle itself.
  NCRYPT_HANDLE release() noexcept;

 private:
  NCRYPT_HANDLE handle_ = 0;
};

DWORD scope_flags(Scope scope) noexcept;  // 0 or NCRYPT_MACHINE_KEY_FLAG
const char16_t* provider_alias(ProviderKind provider) noexcept;

// Opens the provider; without a TPM the platform provider fails with CliError(kExitNoTpm).
Handle open_provider(ProviderKind provider);
// The provider's store subdirectory of a scope directory, from its profile (slots/profile.h).
std::string_view store_subdirectory(ProviderKind provider);
Handle open_key(const Handle& provider, const std::u16string& name, Scope scope);

// Property reads. The optional forms return nullopt when the object does not have the
// property (NTE_NOT_FOUND / NTE_NOT_SUPPORTED) and throw for any other failure.
std::optional<Bytes> find_property(NCRYPT_HANDLE object, const char16_t* property);
std::optional<std::u16string> find_string_property(NCRYPT_HANDLE object, const char16_t* property);
std::optional<DWORD> find_dword_property(NCRYPT_HANDLE object, const char16_t* property);
std::u16string get_string_property(NCRYPT_HANDLE object, const char16_t* property);

void set_dword_property(NCRYPT_HANDLE object, const char16_t* property, DWORD value);

// The key's public part as BCRYPT_RSAPUBLIC_BLOB or BCRYPT_ECCPUBLIC_BLOB, chosen from its
// algorithm group.
Bytes export_public_blob(NCRYPT_HANDLE key);

}  // namespace cngkey

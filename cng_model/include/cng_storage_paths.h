// Where the key stores of the two scopes live (shared/DESIGN.md §4), for layers above cng_model
// that must reason about the store location without its internals (slots: write protection and
// serial numbers). Same rule as cng::KeyStore::default_dir, header-only, never throws:
//   user:    $CNG_PKCS11_USER_DIR, else ${XDG_DATA_HOME}/cng-pkcs11 (XDG_DATA_HOME absolute only),
//            else $HOME/.local/share/cng-pkcs11 (HOME from the passwd entry when unset);
//   machine: $CNG_PKCS11_MACHINE_DIR, else /var/lib/cng-pkcs11.
#pragma once

#include <pwd.h>
#include <unistd.h>

#include <array>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>

namespace cng::storage_paths {

// secure_getenv: a set-uid host must not let its caller redirect the store.
inline std::string env_value(const char* name) {
  const char* value = ::secure_getenv(name);
  return value != nullptr ? std::string(value) : std::string();
}

inline std::filesystem::path machine_dir() {
  auto dir = env_value("CNG_PKCS11_MACHINE_DIR");
  return dir.empty() ? std::filesystem::path("/var/lib/cng-pkcs11") : std::filesystem::path(dir);
}

// Empty when no home directory can be found (the user store is then unusable).
inline std::filesystem::path user_dir() {
  if (auto dir = env_value("CNG_PKCS11_USER_DIR"); !dir.empty()) {
    return dir;
  }
  if (auto xdg = env_value("XDG_DATA_HOME"); !xdg.empty() && xdg.front() == '/') {
    return std::filesystem::path(xdg) / "cng-pkcs11";
  }
  std::string home = env_value("HOME");
  if (home.empty()) {
    std::array<char, 4096> buf{};
    passwd pw{};
    passwd* result = nullptr;
    if (::getpwuid_r(::geteuid(), &pw, buf.data(), buf.size(), &result) == 0 && result != nullptr &&
        result->pw_dir != nullptr) {
      home = result->pw_dir;
    }
  }
  if (home.empty()) {
    return {};
  }
  return std::filesystem::path(home) / ".local" / "share" / "cng-pkcs11";
}

inline std::filesystem::path store_dir(bool machine_scope) {
  return machine_scope ? machine_dir() : user_dir();
}

// One provider's key store in a scope: the scope directory itself (empty subdirectory; the
// software provider) or a subdirectory of it (the platform (TPM) provider's "platform", as
// cng_model's NCrypt layer keeps it).
inline std::filesystem::path provider_store_dir(bool machine_scope, std::string_view subdirectory) {
  auto dir = store_dir(machine_scope);
  return !subdirectory.empty() && !dir.empty() ? dir / subdirectory : dir;
}

}  // namespace cng::storage_paths

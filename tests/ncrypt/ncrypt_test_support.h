// Shared fixture and helpers for the NCrypt contract tests: fresh user and machine stores
// per test (CNG_PKCS11_USER_DIR / CNG_PKCS11_MACHINE_DIR), typed property access, status text.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "ncrypt.h"

namespace ncrypt_test {

using Bytes = std::vector<std::uint8_t>;

// "0x80090010 (cause of the last failure)" for assertion messages.
std::string status_text(SECURITY_STATUS status);

#define EXPECT_STATUS(expected, call)                                                    \
  do {                                                                                   \
    const SECURITY_STATUS status_ = (call);                                              \
    EXPECT_EQ(static_cast<std::uint32_t>(expected), static_cast<std::uint32_t>(status_)) \
        << #call << " -> " << ::ncrypt_test::status_text(status_);                       \
  } while (0)
#define ASSERT_STATUS(expected, call)                                                    \
  do {                                                                                   \
    const SECURITY_STATUS status_ = (call);                                              \
    ASSERT_EQ(static_cast<std::uint32_t>(expected), static_cast<std::uint32_t>(status_)) \
        << #call << " -> " << ::ncrypt_test::status_text(status_);                       \
  } while (0)
#define EXPECT_OK(call) EXPECT_STATUS(ERROR_SUCCESS, call)
#define ASSERT_OK(call) ASSERT_STATUS(ERROR_SUCCESS, call)

// A fresh temporary directory, removed with its contents.
class TempDir {
 public:
  TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir();
  [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }

 private:
  std::filesystem::path path_;
};

// Number of regular files in dir (0 when absent).
std::size_t file_count(const std::filesystem::path& dir);
// All files in dir (name → content), for "nothing changed" checks.
std::vector<std::pair<std::string, Bytes>> snapshot(const std::filesystem::path& dir);

class NCryptTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  // Creates (and by default finalizes) a key; fails the test on error.
  NCRYPT_KEY_HANDLE create_key(const char16_t* alg, const char16_t* name, DWORD flags = 0,
                               bool finalize = true, DWORD rsa_bits = 0, DWORD export_policy = 0);

  // The key stores of the provider under test (the platform provider keeps its keys in the
  // "platform" subdirectory of each scope directory).
  [[nodiscard]] std::filesystem::path user_dir() const { return store_dir(user_dir_); }
  [[nodiscard]] std::filesystem::path machine_dir() const { return store_dir(machine_dir_); }
  // The provider under test: the software KSP, or the platform (TPM) provider when the suite
  // runs with CNG_TEST_PROVIDER=platform (tests/ncrypt/run_on_platform.sh starts a swtpm).
  static bool testing_platform();
  static const char16_t* provider_name();

  NCRYPT_PROV_HANDLE provider_ = 0;

 private:
  [[nodiscard]] static std::filesystem::path store_dir(const std::filesystem::path& scope_dir) {
    return testing_platform() ? scope_dir / "platform" : scope_dir;
  }
  std::unique_ptr<TempDir> root_;
  std::filesystem::path user_dir_;
  std::filesystem::path machine_dir_;
};

SECURITY_STATUS get_dword(NCRYPT_HANDLE h, const char16_t* property, DWORD& value, DWORD flags = 0);
DWORD dword_property(NCRYPT_HANDLE h, const char16_t* property);
std::u16string string_property(NCRYPT_HANDLE h, const char16_t* property);
SECURITY_STATUS set_dword(NCRYPT_HANDLE h, const char16_t* property, DWORD value, DWORD flags = 0);
// Two-call export; fails the test on error.
Bytes export_key(NCRYPT_KEY_HANDLE h, const char16_t* blob_type);
SECURITY_STATUS try_export(NCRYPT_KEY_HANDLE h, const char16_t* blob_type, Bytes& out);

// A handle value that was never issued (and is not 0).
inline constexpr NCRYPT_HANDLE kGarbageHandle = 0x5a5a5a5a5a5a5a5aULL;

}  // namespace ncrypt_test

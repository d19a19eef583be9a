// Shared setup of the platform provider tests: one swtpm per test process, started before any
// NCrypt call (the NCrypt layer binds its platform provider to CNG_PKCS11_TCTI at first use),
// fresh user/machine stores per test, and independent OpenSSL checks.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>

#include "ncrypt.h"
#include "ncrypt_test_support.h"
#include "openssl_check.h"
#include "swtpm_process.h"

namespace platform_test {

using ncrypt_test::Bytes;
using ncrypt_test::Pkey;

// The process-wide simulator (nullptr when swtpm is not installed). Its state lives in a
// temporary directory removed at exit.
SwtpmProcess* main_tpm();
const std::filesystem::path& test_root();

class PlatformTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  // Creates and finalizes a key (persisted when name != nullptr); fails the test on error.
  NCRYPT_KEY_HANDLE create_key(const char16_t* alg, const char16_t* name, DWORD flags = 0,
                               DWORD rsa_bits = 0);

  // The platform provider's key stores: the "platform" subdirectory of each scope's directory
  // (CNG_PKCS11_USER_DIR / CNG_PKCS11_MACHINE_DIR point at the scope directories).
  [[nodiscard]] std::filesystem::path user_dir() const { return user_dir_ / "platform"; }
  [[nodiscard]] std::filesystem::path machine_dir() const { return machine_dir_ / "platform"; }

  NCRYPT_PROV_HANDLE provider_ = 0;

 private:
  std::unique_ptr<ncrypt_test::TempDir> dirs_;
  std::filesystem::path user_dir_;
  std::filesystem::path machine_dir_;
};

// Two-call NCryptSignHash; fails the test on error.
Bytes sign(NCRYPT_KEY_HANDLE key, void* padding, const Bytes& hash, DWORD flags);
SECURITY_STATUS try_sign(NCRYPT_KEY_HANDLE key, void* padding, const Bytes& hash, DWORD flags,
                         Bytes& sig);
// Two-call NCryptDecrypt.
SECURITY_STATUS try_decrypt(NCRYPT_KEY_HANDLE key, const Bytes& cipher, void* padding, DWORD flags,
                            Bytes& plain);

// A fresh software EC key (OpenSSL) and its BCRYPT_ECCPUBLIC_BLOB (ECDH magic).
Pkey generate_ec_key(const char* group);
Bytes ecdh_public_blob(EVP_PKEY* key, ULONG magic, std::size_t field_bytes);

// The key file of a key name in a store directory.
std::filesystem::path key_file_path(const std::filesystem::path& dir, const char16_t* name);
Bytes read_file(const std::filesystem::path& path);

}  // namespace platform_test

#include "platform_test_support.h"

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>

#include "store/key_store.h"

namespace platform_test {

namespace {

struct MainTpm {
  std::unique_ptr<ncrypt_test::TempDir> dir;
  std::unique_ptr<SwtpmProcess> tpm;
};

MainTpm& main_tpm_state() {
  static auto* state = new MainTpm();  // leaky: outlives every test
  return *state;
}

// Starts the simulator before the first test and points the NCrypt layer at it.
class SwtpmEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    MainTpm& state = main_tpm_state();
    state.dir = std::make_unique<ncrypt_test::TempDir>();
    if (!swtpm_available()) {
      return;
    }
    state.tpm = std::make_unique<SwtpmProcess>(state.dir->path() / "tpm-a");
    ::setenv("CNG_PKCS11_TCTI", state.tpm->tcti().c_str(), 1);
  }
  void TearDown() override {
    MainTpm& state = main_tpm_state();
    state.tpm.reset();  // stops swtpm by pid
    state.dir.reset();
  }
};

const auto* const kEnvironment = ::testing::AddGlobalTestEnvironment(new SwtpmEnvironment);

}  // namespace

SwtpmProcess* main_tpm() { return main_tpm_state().tpm.get(); }
const std::filesystem::path& test_root() { return main_tpm_state().dir->path(); }

void PlatformTest::SetUp() {
  if (main_tpm() == nullptr) {
    GTEST_SKIP() << "swtpm is not installed";
  }
  dirs_ = std::make_unique<ncrypt_test::TempDir>();
  user_dir_ = dirs_->path() / "user";
  machine_dir_ = dirs_->path() / "machine";
  ::setenv("CNG_PKCS11_USER_DIR", user_dir_.c_str(), 1);
  ::setenv("CNG_PKCS11_MACHINE_DIR", machine_dir_.c_str(), 1);
  ASSERT_OK(NCryptOpenStorageProvider(&provider_, MS_PLATFORM_CRYPTO_PROVIDER, 0));
}

void PlatformTest::TearDown() {
  if (provider_ != 0) {
    EXPECT_OK(NCryptFreeObject(provider_));
  }
  dirs_.reset();
}

NCRYPT_KEY_HANDLE PlatformTest::create_key(const char16_t* alg, const char16_t* name, DWORD flags,
                                           DWORD rsa_bits) {
  NCRYPT_KEY_HANDLE key = 0;
  EXPECT_OK(NCryptCreatePersistedKey(provider_, &key, alg, name, 0, flags));
  if (rsa_bits != 0) {
    EXPECT_OK(ncrypt_test::set_dword(key, NCRYPT_LENGTH_PROPERTY, rsa_bits));
  }
  EXPECT_OK(NCryptFinalizeKey(key, 0));
  return key;
}

SECURITY_STATUS try_sign(NCRYPT_KEY_HANDLE key, void* padding, const Bytes& hash, DWORD flags,
                         Bytes& sig) {
  DWORD size = 0;
  auto* data = const_cast<PBYTE>(hash.data());
  const auto len = static_cast<DWORD>(hash.size());
  SECURITY_STATUS s = NCryptSignHash(key, padding, data, len, nullptr, 0, &size, flags);
  if (s != ERROR_SUCCESS) {
    return s;
  }
  sig.assign(size, 0);
  s = NCryptSignHash(key, padding, data, len, sig.data(), size, &size, flags);
  sig.resize(size);
  return s;
}

Bytes sign(NCRYPT_KEY_HANDLE key, void* padding, const Bytes& hash, DWORD flags) {
  Bytes sig;
  EXPECT_OK(try_sign(key, padding, hash, flags, sig));
  return sig;
}

SECURITY_STATUS try_decrypt(NCRYPT_KEY_HANDLE key, const Bytes& cipher, void* padding, DWORD flags,
                            Bytes& plain) {
  DWORD size = 0;
  auto* data = const_cast<PBYTE>(cipher.data());
  const auto len = static_cast<DWORD>(cipher.size());
  SECURITY_STATUS s = NCryptDecrypt(key, data, len, padding, nullptr, 0, &size, flags);
  if (s != ERROR_SUCCESS) {
    return s;
  }
  plain.assign(size, 0);
  s = NCryptDecrypt(key, data, len, padding, plain.data(), size, &size, flags);
  plain.resize(size);
  return s;
}

Pkey generate_ec_key(const char* group) { return Pkey(EVP_EC_gen(group)); }

Bytes ecdh_public_blob(EVP_PKEY* key, ULONG magic, std::size_t field_bytes) {
  std::size_t len = 0;
  EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_PUB_KEY, nullptr, 0, &len);
  Bytes point(len);
  EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size(), &len);
  EXPECT_EQ(len, 1 + 2 * field_bytes);  // uncompressed: 04 || X || Y
  if (len != 1 + 2 * field_bytes) {
    return {};
  }
  BCRYPT_ECCKEY_BLOB header{magic, static_cast<ULONG>(field_bytes)};
  Bytes blob(sizeof header + 2 * field_bytes);
  std::memcpy(blob.data(), &header, sizeof header);
  std::memcpy(blob.data() + sizeof header, point.data() + 1, 2 * field_bytes);
  return blob;
}

std::filesystem::path key_file_path(const std::filesystem::path& dir, const char16_t* name) {
  return dir / cng::KeyStore::file_name_for(name);
}

Bytes read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), {});
}

}  // namespace platform_test

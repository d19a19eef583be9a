// The TPM protector of the software keys' master key (store/master_key.h): sealed to the swtpm
// that answers on CNG_PKCS11_TCTI, unsealed after the process forgets it, and useless with
// another TPM (a second swtpm): each key then fails cleanly while the store still lists.
#include <gtest/gtest.h>

#include "api/provider_registry.h"
#include "cng_key_protection.h"
#include "openssl_check.h"
#include "platform_test_support.h"
#include "providers/platform/platform_provider.h"
#include "providers/platform/tpm_connection.h"
#include "providers/platform/tpm_sealer.h"
#include "store/key_store.h"
#include "store/master_key.h"

namespace platform_test {
namespace {

namespace fs = std::filesystem;

class AtRestTpmTest : public PlatformTest {
 protected:
  void SetUp() override {
    PlatformTest::SetUp();
    if (IsSkipped()) {
      return;
    }
    ASSERT_OK(NCryptOpenStorageProvider(&software_, MS_KEY_STORAGE_PROVIDER, 0));
  }
  void TearDown() override {
    if (software_ != 0) {
      EXPECT_OK(NCryptFreeObject(software_));
    }
    PlatformTest::TearDown();
  }
  // The software provider's store is the scope directory itself.
  [[nodiscard]] fs::path software_dir() const { return user_dir().parent_path(); }

  Bytes sign_p256(NCRYPT_KEY_HANDLE key, const Bytes& hash) {
    DWORD size = 0;
    Bytes sig(64);
    EXPECT_OK(
        NCryptSignHash(key, nullptr, const_cast<PBYTE>(hash.data()), 32, sig.data(), 64, &size, 0));
    sig.resize(size);
    return sig;
  }

  NCRYPT_PROV_HANDLE software_ = 0;
};

TEST_F(AtRestTpmTest, MasterKeyIsSealedToTheTpmAndUnsealedAfterTheProcessForgetsIt) {
  NCRYPT_KEY_HANDLE key = 0;
  ASSERT_OK(NCryptCreatePersistedKey(software_, &key, u"ECDSA_P256", u"sealed", 0, 0));
  ASSERT_OK(NCryptFinalizeKey(key, 0));
  const Pkey pub =
      ncrypt_test::pkey_from_bcrypt_public(ncrypt_test::export_key(key, BCRYPT_ECCPUBLIC_BLOB));
  ASSERT_OK(NCryptFreeObject(key));
  cng::KeyProtectionStatus status;
  ASSERT_OK(cng::CngGetKeyProtectionStatus(software_, 0, &status));
  EXPECT_EQ(status.protector, "tpm-sealed");
  EXPECT_EQ(status.encrypted_keys, 1u);

  // As a new process would: the master key comes back only through TPM2_Unseal.
  cng::master_key::Keyring(cng::master_key::Keyring::dir_for(software_dir())).lock();
  ASSERT_OK(NCryptOpenKey(software_, &key, u"sealed", 0, 0));
  const Bytes hash(32, 0x42);
  EXPECT_TRUE(ncrypt_test::verify_ecdsa_raw(pub.get(), hash, sign_p256(key, hash)));
  EXPECT_OK(NCryptFreeObject(key));
}

TEST_F(AtRestTpmTest, StoreMovedToAnotherTpmFailsPerKeyAndStillLists) {
  NCRYPT_KEY_HANDLE key = 0;
  ASSERT_OK(NCryptCreatePersistedKey(software_, &key, u"ECDSA_P256", u"bound", 0, 0));
  ASSERT_OK(NCryptFinalizeKey(key, 0));
  ASSERT_OK(NCryptFreeObject(key));

  // The whole account (key directory and keyring) copied to a machine with another TPM.
  const ncrypt_test::TempDir other;
  const fs::path moved = other.path() / "user";
  fs::copy(software_dir(), moved, fs::copy_options::recursive);
  fs::copy(cng::master_key::Keyring::dir_for(software_dir()),
           cng::master_key::Keyring::dir_for(moved), fs::copy_options::recursive);
  SwtpmProcess second(other.path() / "tpm-b");
  cng::master_key::set_tpm_sealer_factory([&] {
    return cng::tpm::make_tpm_sealer(std::make_shared<cng::tpm::TpmConnection>(second.tcti()));
  });
  {
    ::setenv("CNG_PKCS11_USER_DIR", moved.c_str(), 1);
    cng::KeyStore store(moved, cng::Scope::kUser);
    store.protect_at_rest();
    ASSERT_EQ(store.list().size(), 1u);
    const cng::KeyRecord record = store.load(u"bound");
    EXPECT_EQ(record.private_status, NTE_BAD_KEY_STATE);
    EXPECT_NE(record.private_cause.find("TPM"), std::string::npos) << record.private_cause;
    EXPECT_TRUE(record.private_blob.empty());
    EXPECT_FALSE(record.public_blob.empty());
  }
  // Back to this machine's TPM (the platform provider's connection).
  cng::master_key::set_tpm_sealer_factory([] {
    return cng::master_key_sealer(cng::api::find_provider(MS_PLATFORM_CRYPTO_PROVIDER).instance());
  });
  cng::KeyStore store(moved, cng::Scope::kUser);
  store.protect_at_rest();
  cng::master_key::Keyring(cng::master_key::Keyring::dir_for(moved)).lock();
  EXPECT_EQ(store.load(u"bound").private_status, 0);
}

}  // namespace
}  // namespace platform_test

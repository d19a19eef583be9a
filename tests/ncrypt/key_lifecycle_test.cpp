// NCryptCreatePersistedKey (every return code of the seed's table) and the key state machine:
// CREATED → FINALIZED, NTE_BAD_KEY_STATE before finalize, second finalize refused.
#include <fstream>

#include "api/testing_hooks.h"
#include "ncrypt_test_support.h"

namespace ncrypt_test {
namespace {

class CreateKeyTest : public NCryptTest {};

TEST_F(CreateKeyTest, SuccessCreatesNothingOnDiskUntilFinalize) {
  NCRYPT_KEY_HANDLE key = 0;
  ASSERT_OK(NCryptCreatePersistedKey(provider_, &key, u"ECDSA_P256", u"alpha", 0, 0));
  EXPECT_NE(key, 0u);
  EXPECT_EQ(NCryptIsKeyHandle(key), TRUE);
  EXPECT_EQ(file_count(user_dir()), 0u);  // material and file come at finalize
  ASSERT_OK(NCryptFinalizeKey(key, 0));
  EXPECT_EQ(file_count(user_dir()), 1u);
  EXPECT_OK(NCryptFreeObject(key));
  NCRYPT_KEY_HANDLE reopened = 0;
  EXPECT_OK(NCryptOpenKey(provider_, &reopened, u"alpha", 0, 0));
  EXPECT_OK(NCryptFreeObject(reopened));
}

TEST_F(CreateKeyTest, BadFlags) {
  NCRYPT_KEY_HANDLE key = 0;
  for (const DWORD flags :
       {DWORD{0x1}, DWORD{NCRYPT_PERSIST_FLAG}, DWORD{NCRYPT_DO_NOT_FINALIZE_FLAG},
        DWORD{NCRYPT_PAD_PSS_FLAG}, DWORD{NCRYPT_USE_PER_BOOT_KEY_FLAG}}) {
    EXPECT_STATUS(NTE_BAD_FLAGS, NCryptCreatePersistedKey(provider_, &key, u"RSA", u"k", 0, flags));
  }
  EXPECT_EQ(key, 0u);
  // The documented flags are accepted.
  EXPECT_OK(NCryptCreatePersistedKey(
      provider_, &key, u"RSA", u"k", 0,
      NCRYPT_MACHINE_KEY_FLAG | NCRYPT_OVERWRITE_KEY_FLAG | NCRYPT_SILENT_FLAG));
  EXPECT_OK(NCryptFreeObject(key));
}

TEST_F(CreateKeyTest, ExistsWithoutOverwriteAndOverwriteReplaces) {
  const NCRYPT_KEY_HANDLE first = create_key(u"ECDSA_P256", u"taken");
  const Bytes first_public = export_key(first, BCRYPT_ECCPUBLIC_BLOB);
  NCRYPT_KEY_HANDLE key = 0;
  EXPECT_STATUS(NTE_EXISTS,
                NCryptCreatePersistedKey(provider_, &key, u"ECDSA_P256", u"taken", 0, 0));
  EXPECT_EQ(key, 0u);
  ASSERT_OK(NCryptCreatePersistedKey(provider_, &key, u"ECDSA_P256", u"taken", 0,
                                     NCRYPT_OVERWRITE_KEY_FLAG));
  ASSERT_OK(NCryptFinalizeKey(key, 0));
  EXPECT_EQ(file_count(user_dir()), 1u);
  NCRYPT_KEY_HANDLE reopened = 0;
  ASSERT_OK(NCryptOpenKey(provider_, &reopened, u"taken", 0, 0));
  EXPECT_EQ(export_key(reopened, BCRYPT_ECCPUBLIC_BLOB), export_key(key, BCRYPT_ECCPUBLIC_BLOB));
  EXPECT_NE(export_key(reopened, BCRYPT_ECCPUBLIC_BLOB), first_public);
  for (const auto h : {first, key, reopened}) {
    EXPECT_OK(NCryptFreeObject(h));
  }
}

TEST_F(CreateKeyTest, ExistsIsCheckedAgainAtFinalize) {
  NCRYPT_KEY_HANDLE a = 0;
  NCRYPT_KEY_HANDLE b = 0;
  ASSERT_OK(NCryptCreatePersistedKey(provider_, &a, u"ECDSA_P256", u"twice", 0, 0));
  ASSERT_OK(NCryptCreatePersistedKey(provider_, &b, u"ECDSA_P256", u"twice", 0, 0));
  ASSERT_OK(NCryptFinalizeKey(a, 0));
  const Bytes winner = export_key(a, BCRYPT_ECCPUBLIC_BLOB);
  EXPECT_STATUS(NTE_EXISTS, NCryptFinalizeKey(b, 0));
  NCRYPT_KEY_HANDLE reopened = 0;
  ASSERT_OK(NCryptOpenKey(provider_, &reopened, u"twice", 0, 0));
  EXPECT_EQ(export_key(reopened, BCRYPT_ECCPUBLIC_BLOB), winner);
  for (const auto h : {a, b, reopened}) {
    EXPECT_OK(NCryptFreeObject(h));
  }
}

TEST_F(CreateKeyTest, InvalidHandle) {
  NCRYPT_KEY_HANDLE key = 0;
  EXPECT_STATUS(NTE_INVALID_HANDLE, NCryptCreatePersistedKey(0, &key, u"RSA", u"k", 0, 0));
  EXPECT_STATUS(NTE_INVALID_HANDLE,
                NCryptCreatePersistedKey(kGarbageHandle, &key, u"RSA", u"k", 0, 0));
}

TEST_F(CreateKeyTest, InvalidParameters) {
  NCRYPT_KEY_HANDLE key = 0;
  EXPECT_STATUS(NTE_INVALID_PARAMETER,
                NCryptCreatePersistedKey(provider_, nullptr, u"RSA", u"k", 0, 0));
  EXPECT_STATUS(NTE_INVALID_PARAMETER,
                NCryptCreatePersistedKey(provider_, &key, nullptr, u"k", 0, 0));
  EXPECT_STATUS(NTE_INVALID_PARAMETER,
                NCryptCreatePersistedKey(provider_, &key, u"RSA", u"k", 3, 0));
  EXPECT_STATUS(NTE_INVALID_PARAMETER,
                NCryptCreatePersistedKey(provider_, &key, u"RSA", u"", 0, 0));
  const std::u16string too_long(NCRYPT_MAX_KEY_NAME_LENGTH + 1, u'n');
  EXPECT_STATUS(NTE_INVALID_PARAMETER,
                NCryptCreatePersistedKey(provider_, &key, u"RSA", too_long.c_str(), 0, 0));
  const std::u16string longest(NCRYPT_MAX_KEY_NAME_LENGTH, u'n');
  ASSERT_OK(NCryptCreatePersistedKey(provider_, &key, u"ECDSA_P256", longest.c_str(), 0, 0));
  EXPECT_OK(NCryptFinalizeKey(key, 0));
  EXPECT_EQ(string_property(key, NCRYPT_NAME_PROPERTY), longest);
  EXPECT_OK(NCryptFreeObject(key));
}

TEST_F(CreateKeyTest, UnsupportedAlgorithm) {
  NCRYPT_KEY_HANDLE key = 0;
  for (const char16_t* alg : {u"SHA256", u"DSA", u"RSA_SIGN", u"bogus"}) {
    EXPECT_STATUS(NTE_NOT_SUPPORTED, NCryptCreatePersistedKey(provider_, &key, alg, u"k", 0, 0));
  }
  if (testing_platform()) {  // the TPM provider keeps no symmetric keys
    for (const char16_t* alg : {u"AES", u"GENERIC_SECRET"}) {
      EXPECT_STATUS(NTE_NOT_SUPPORTED, NCryptCreatePersistedKey(provider_, &key, alg, u"k", 0, 0));
    }
  }
}

TEST_F(CreateKeyTest, NoMemory) {
  NCRYPT_KEY_HANDLE key = 0;
  cng::api::testing::set_allocation_failure(true);
  const SECURITY_STATUS s = NCryptCreatePersistedKey(provider_, &key, u"RSA", nullptr, 0, 0);
  cng::api::testing::set_allocation_failure(false);
  EXPECT_STATUS(NTE_NO_MEMORY, s);
  EXPECT_EQ(key, 0u);
}

TEST_F(CreateKeyTest, VbsFlags) {
  NCRYPT_KEY_HANDLE key = 0;
  EXPECT_STATUS(NTE_VBS_UNAVAILABLE, NCryptCreatePersistedKey(provider_, &key, u"RSA", u"v", 0,
                                                              NCRYPT_REQUIRE_VBS_FLAG));
  EXPECT_STATUS(NTE_VBS_UNAVAILABLE,
                NCryptCreatePersistedKey(provider_, &key, u"RSA", u"v", 0,
                                         NCRYPT_REQUIRE_VBS_FLAG | NCRYPT_USE_PER_BOOT_KEY_FLAG));
  EXPECT_STATUS(NTE_BAD_FLAGS, NCryptCreatePersistedKey(provider_, &key, u"RSA", u"v", 0,
                                                        NCRYPT_USE_PER_BOOT_KEY_FLAG));
  EXPECT_EQ(file_count(user_dir()), 0u);
  // PREFER falls back to a normal software key.
  ASSERT_OK(NCryptCreatePersistedKey(provider_, &key, u"ECDSA_P256", u"v", 0,
                                     NCRYPT_PREFER_VBS_FLAG | NCRYPT_USE_PER_BOOT_KEY_FLAG));
  ASSERT_OK(NCryptFinalizeKey(key, 0));
  EXPECT_EQ(file_count(user_dir()), 1u);
  EXPECT_OK(NCryptFreeObject(key));
}

TEST_F(CreateKeyTest, LegacyKeySpecAccepted) {
  for (const DWORD spec : {DWORD{0}, DWORD{AT_KEYEXCHANGE}, DWORD{AT_SIGNATURE}}) {
    NCRYPT_KEY_HANDLE key = 0;
    EXPECT_OK(NCryptCreatePersistedKey(provider_, &key, u"ECDH_P256", nullptr, spec, 0));
    EXPECT_OK(NCryptFreeObject(key));
  }
}

TEST_F(CreateKeyTest, MachineStoreNotWritableIsPermNothingWritten) {
  // A machine store path below a regular file can never be created (also not by root).
  const auto blocker = machine_dir();
  std::filesystem::create_directories(blocker.parent_path());
  { std::ofstream(blocker) << "not a directory"; }
  const auto unwritable = blocker / "store";
  ::setenv("CNG_PKCS11_MACHINE_DIR", unwritable.c_str(), 1);
  NCRYPT_PROV_HANDLE p = 0;
  ASSERT_OK(NCryptOpenStorageProvider(&p, nullptr, 0));
  NCRYPT_KEY_HANDLE key = 0;
  EXPECT_STATUS(NTE_PERM,
                NCryptCreatePersistedKey(p, &key, u"ECDSA_P256", u"m", 0, NCRYPT_MACHINE_KEY_FLAG));
  EXPECT_EQ(key, 0u);
  EXPECT_FALSE(std::filesystem::exists(unwritable));
  // The user scope is unaffected; ephemeral keys never need a store.
  EXPECT_OK(NCryptCreatePersistedKey(p, &key, u"ECDSA_P256", nullptr, 0, NCRYPT_MACHINE_KEY_FLAG));
  EXPECT_OK(NCryptFinalizeKey(key, 0));
  EXPECT_OK(NCryptFreeObject(key));
  EXPECT_OK(NCryptFreeObject(p));
}

class KeyStateTest : public NCryptTest {};

TEST_F(KeyStateTest, OperationsBeforeFinalizeAreBadKeyState) {
  const NCRYPT_KEY_HANDLE key = create_key(u"RSA", u"pending", 0, false);
  BCRYPT_PKCS1_PADDING_INFO pkcs1{u"SHA256"};
  Bytes hash(32, 1);
  BYTE out[512];
  DWORD size = 0;
  EXPECT_STATUS(NTE_BAD_KEY_STATE, NCryptSignHash(key, &pkcs1, hash.data(), 32, out, sizeof out,
                                                  &size, NCRYPT_PAD_PKCS1_FLAG));
  EXPECT_STATUS(NTE_BAD_KEY_STATE, NCryptVerifySignature(key, &pkcs1, hash.data(), 32, out, 128,
                                                         NCRYPT_PAD_PKCS1_FLAG));
  EXPECT_STATUS(NTE_BAD_KEY_STATE, NCryptEncrypt(key, hash.data(), 32, nullptr, out, sizeof out,
                                                 &size, NCRYPT_PAD_PKCS1_FLAG));
  EXPECT_STATUS(NTE_BAD_KEY_STATE, NCryptDecrypt(key, out, 128, nullptr, out, sizeof out, &size,
                                                 NCRYPT_PAD_PKCS1_FLAG));
  EXPECT_STATUS(NTE_BAD_KEY_STATE,
                NCryptExportKey(key, 0, BCRYPT_RSAPUBLIC_BLOB, nullptr, nullptr, 0, &size, 0));
  NCRYPT_SECRET_HANDLE secret = 0;
  const NCRYPT_KEY_HANDLE ecdh = create_key(u"ECDH_P256", nullptr, 0, false);
  EXPECT_STATUS(NTE_BAD_KEY_STATE, NCryptSecretAgreement(ecdh, ecdh, &secret, 0));
  EXPECT_OK(NCryptFreeObject(ecdh));
  EXPECT_OK(NCryptFreeObject(key));
}

TEST_F(KeyStateTest, SecondFinalizeIsInvalidHandle) {
  const NCRYPT_KEY_HANDLE key = create_key(u"ECDSA_P256", u"once");
  EXPECT_STATUS(NTE_INVALID_HANDLE, NCryptFinalizeKey(key, 0));
  EXPECT_EQ(NCryptIsKeyHandle(key), TRUE);  // the handle itself stays usable
  EXPECT_OK(NCryptFreeObject(key));
}

TEST_F(KeyStateTest, FinalizeFlags) {
  const NCRYPT_KEY_HANDLE key = create_key(u"ECDSA_P256", nullptr, 0, false);
  EXPECT_STATUS(NTE_BAD_FLAGS, NCryptFinalizeKey(key, NCRYPT_MACHINE_KEY_FLAG));
  EXPECT_STATUS(NTE_BAD_FLAGS, NCryptFinalizeKey(key, NCRYPT_OVERWRITE_KEY_FLAG));
  EXPECT_OK(NCryptFinalizeKey(key, NCRYPT_NO_KEY_VALIDATION | NCRYPT_SILENT_FLAG));
  EXPECT_OK(NCryptFreeObject(key));
}

TEST_F(KeyStateTest, GenericEcdsaNeedsACurve) {
  const NCRYPT_KEY_HANDLE key = create_key(u"ECDSA", nullptr, 0, false);
  EXPECT_STATUS(NTE_INVALID_PARAMETER, NCryptFinalizeKey(key, 0));
  std::u16string curve = BCRYPT_ECC_CURVE_NISTP384;
  ASSERT_OK(NCryptSetProperty(key, NCRYPT_ECC_CURVE_NAME_PROPERTY,
                              reinterpret_cast<PBYTE>(curve.data()),
                              static_cast<DWORD>((curve.size() + 1) * 2), 0));
  ASSERT_OK(NCryptFinalizeKey(key, 0));
  EXPECT_EQ(dword_property(key, NCRYPT_LENGTH_PROPERTY), 384u);
  EXPECT_EQ(string_property(key, NCRYPT_ECC_CURVE_NAME_PROPERTY), u"nistP384");
  EXPECT_OK(NCryptFreeObject(key));
}

class EphemeralKeyTest : public NCryptTest {};

TEST_F(EphemeralKeyTest, NeverTouchesDiskAndVanishesWhenFreed) {
  const NCRYPT_KEY_HANDLE key = create_key(u"ECDSA_P256", nullptr);
  const NCRYPT_KEY_HANDLE machine = create_key(u"ECDSA_P256", nullptr, NCRYPT_MACHINE_KEY_FLAG);
  Bytes hash(32, 7);
  BYTE sig[64];
  DWORD size = 0;
  EXPECT_OK(NCryptSignHash(key, nullptr, hash.data(), 32, sig, sizeof sig, &size, 0));
  EXPECT_FALSE(std::filesystem::exists(user_dir()));
  EXPECT_FALSE(std::filesystem::exists(machine_dir()));
  DWORD size2 = 0;
  EXPECT_STATUS(NTE_NOT_SUPPORTED,
                NCryptGetProperty(key, NCRYPT_NAME_PROPERTY, nullptr, 0, &size2, 0));
  EXPECT_STATUS(NTE_NOT_SUPPORTED,
                NCryptGetProperty(key, NCRYPT_UNIQUE_NAME_PROPERTY, nullptr, 0, &size2, 0));
  EXPECT_STATUS(NTE_NOT_FOUND,
                NCryptGetProperty(key, NCRYPT_LAST_MODIFIED_PROPERTY, nullptr, 0, &size2, 0));
  EXPECT_STATUS(NTE_NOT_SUPPORTED, set_dword(key, u"Custom", 1));
  EXPECT_STATUS(NTE_NOT_SUPPORTED, set_dword(key, u"Custom", 1, NCRYPT_PERSIST_FLAG));
  EXPECT_OK(NCryptFreeObject(key));
  EXPECT_OK(NCryptFreeObject(machine));
  EXPECT_STATUS(NTE_INVALID_HANDLE,
                NCryptSignHash(key, nullptr, hash.data(), 32, sig, sizeof sig, &size, 0));
  EXPECT_FALSE(std::filesystem::exists(user_dir()));
}

}  // namespace
}  // namespace ncrypt_test

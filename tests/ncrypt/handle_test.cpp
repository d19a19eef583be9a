// NTE_INVALID_HANDLE: 0, garbage, freed handles and handles of the wrong kind, for every
// function that takes a handle. None of these may crash.
#include <array>
#include <thread>

#include "ncrypt_test_support.h"

namespace ncrypt_test {
namespace {

class HandleTest : public NCryptTest {
 protected:
  // Calls every key-taking function with h and expects NTE_INVALID_HANDLE from each.
  static void expect_invalid_key_handle(NCRYPT_KEY_HANDLE h) {
    SCOPED_TRACE(testing::Message() << "key handle " << h);
    DWORD size = 0;
    BYTE buf[512] = {};
    BCRYPT_PKCS1_PADDING_INFO pkcs1{u"SHA256"};
    EXPECT_STATUS(NTE_INVALID_HANDLE, NCryptFinalizeKey(h, 0));
    EXPECT_STATUS(NTE_INVALID_HANDLE, NCryptDeleteKey(h, 0));
    EXPECT_STATUS(NTE_INVALID_HANDLE, NCryptSignHash(h, &pkcs1, buf, 32, buf, sizeof buf, &size,
                                                     NCRYPT_PAD_PKCS1_FLAG));
    EXPECT_STATUS(NTE_INVALID_HANDLE,
                  NCryptVerifySignature(h, &pkcs1, buf, 32, buf, 128, NCRYPT_PAD_PKCS1_FLAG));
    EXPECT_STATUS(NTE_INVALID_HANDLE, NCryptEncrypt(h, buf, 16, nullptr, buf, sizeof buf, &size,
                                                    NCRYPT_PAD_PKCS1_FLAG));
    EXPECT_STATUS(NTE_INVALID_HANDLE, NCryptDecrypt(h, buf, 128, nullptr, buf, sizeof buf, &size,
                                                    NCRYPT_PAD_PKCS1_FLAG));
    EXPECT_STATUS(NTE_INVALID_HANDLE,
                  NCryptExportKey(h, 0, BCRYPT_RSAPUBLIC_BLOB, nullptr, nullptr, 0, &size, 0));
    NCRYPT_SECRET_HANDLE secret = 0;
    EXPECT_STATUS(NTE_INVALID_HANDLE, NCryptSecretAgreement(h, h, &secret, 0));
    EXPECT_EQ(NCryptIsKeyHandle(h), FALSE);
  }

  static void expect_invalid_provider_handle(NCRYPT_PROV_HANDLE h) {
    SCOPED_TRACE(testing::Message() << "provider handle " << h);
    NCRYPT_KEY_HANDLE key = 0;
    DWORD count = 0;
    NCryptAlgorithmName* algs = nullptr;
    NCryptKeyName* name = nullptr;
    void* state = nullptr;
    BYTE blob[64] = {};
    EXPECT_STATUS(NTE_INVALID_HANDLE, NCryptCreatePersistedKey(h, &key, u"RSA", u"k", 0, 0));
    EXPECT_STATUS(NTE_INVALID_HANDLE, NCryptOpenKey(h, &key, u"k", 0, 0));
    EXPECT_STATUS(NTE_INVALID_HANDLE, NCryptEnumAlgorithms(h, 0, &count, &algs, 0));
    EXPECT_STATUS(NTE_INVALID_HANDLE, NCryptIsAlgSupported(h, u"RSA", 0));
    EXPECT_STATUS(NTE_INVALID_HANDLE, NCryptEnumKeys(h, nullptr, &name, &state, 0));
    EXPECT_STATUS(NTE_INVALID_HANDLE, NCryptImportKey(h, 0, BCRYPT_ECCPUBLIC_BLOB, nullptr, &key,
                                                      blob, sizeof blob, 0));
    EXPECT_EQ(key, 0u);
  }
};

TEST_F(HandleTest, ZeroAndGarbageHandles) {
  for (const NCRYPT_HANDLE h :
       {NCRYPT_HANDLE{0}, kGarbageHandle, NCRYPT_HANDLE{1}, NCRYPT_HANDLE{~0ULL}}) {
    expect_invalid_key_handle(h);
    expect_invalid_provider_handle(h);
    EXPECT_STATUS(NTE_INVALID_HANDLE, NCryptFreeObject(h));
    DWORD size = 0;
    EXPECT_STATUS(NTE_INVALID_HANDLE,
                  NCryptGetProperty(h, NCRYPT_NAME_PROPERTY, nullptr, 0, &size, 0));
    EXPECT_STATUS(NTE_INVALID_HANDLE, set_dword(h, NCRYPT_LENGTH_PROPERTY, 2048));
    EXPECT_STATUS(NTE_INVALID_HANDLE,
                  NCryptDeriveKey(h, BCRYPT_KDF_RAW_SECRET, nullptr, nullptr, 0, &size, 0));
  }
}

TEST_F(HandleTest, FreedHandlesAreInvalid) {
  const NCRYPT_KEY_HANDLE key = create_key(u"ECDSA_P256", nullptr);
  ASSERT_EQ(NCryptIsKeyHandle(key), TRUE);
  ASSERT_OK(NCryptFreeObject(key));
  expect_invalid_key_handle(key);
  EXPECT_STATUS(NTE_INVALID_HANDLE, NCryptFreeObject(key));

  NCRYPT_PROV_HANDLE p = 0;
  ASSERT_OK(NCryptOpenStorageProvider(&p, nullptr, 0));
  ASSERT_OK(NCryptFreeObject(p));
  expect_invalid_provider_handle(p);
  EXPECT_STATUS(NTE_INVALID_HANDLE, NCryptFreeObject(p));
}

TEST_F(HandleTest, WrongKindIsInvalid) {
  const NCRYPT_KEY_HANDLE key = create_key(u"ECDSA_P256", nullptr);
  expect_invalid_key_handle(provider_);     // a provider handle where a key is expected
  expect_invalid_provider_handle(key);      // and vice versa
  EXPECT_EQ(NCryptIsKeyHandle(key), TRUE);  // the key itself is untouched
  EXPECT_EQ(NCryptIsKeyHandle(provider_), FALSE);
  EXPECT_OK(NCryptFreeObject(key));
}

TEST_F(HandleTest, HandleValuesAreNeverReused) {
  std::array<NCRYPT_KEY_HANDLE, 8> seen{};
  for (auto& h : seen) {
    h = create_key(u"ECDSA_P256", nullptr, 0, false);
    ASSERT_OK(NCryptFreeObject(h));
  }
  for (std::size_t i = 0; i < seen.size(); ++i) {
    for (std::size_t j = i + 1; j < seen.size(); ++j) {
      EXPECT_NE(seen[i], seen[j]);
    }
  }
}

// A handle freed while other threads sign with it: they finish or get NTE_INVALID_HANDLE.
TEST_F(HandleTest, ConcurrentFreeDoesNotCrash) {
  const NCRYPT_KEY_HANDLE key = create_key(u"ECDSA_P256", nullptr);
  std::array<std::thread, 2> threads;
  for (auto& t : threads) {
    t = std::thread([key] {
      Bytes hash(32, 0x11);
      BYTE sig[64];
      DWORD size = 0;
      for (int i = 0; i < 200; ++i) {
        const SECURITY_STATUS s =
            NCryptSignHash(key, nullptr, hash.data(), 32, sig, sizeof sig, &size, 0);
        if (s == NTE_INVALID_HANDLE) {
          return;
        }
        EXPECT_EQ(s, ERROR_SUCCESS);
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(2));
  EXPECT_OK(NCryptFreeObject(key));
  for (auto& t : threads) {
    t.join();
  }
}

}  // namespace
}  // namespace ncrypt_test

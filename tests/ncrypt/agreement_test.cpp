// NCryptSecretAgreement + NCryptDeriveKey: both sides agree; TRUNCATE matches OpenSSL's ECDH
// (reversed: CNG returns the raw secret little-endian).
#include <algorithm>

#include "ncrypt_test_support.h"
#include "openssl_check.h"

namespace ncrypt_test {
namespace {

class AgreementTest : public NCryptTest {
 protected:
  // Imports a peer's public blob as an ephemeral key of this provider.
  NCRYPT_KEY_HANDLE import_public(const Bytes& blob) {
    NCRYPT_KEY_HANDLE key = 0;
    EXPECT_OK(NCryptImportKey(provider_, 0, BCRYPT_ECCPUBLIC_BLOB, nullptr, &key,
                              const_cast<PBYTE>(blob.data()), static_cast<DWORD>(blob.size()), 0));
    return key;
  }
  static Bytes derive(NCRYPT_SECRET_HANDLE secret, const char16_t* kdf, NCryptBufferDesc* params) {
    DWORD size = 0;
    EXPECT_OK(NCryptDeriveKey(secret, kdf, params, nullptr, 0, &size, 0));
    Bytes out(size);
    EXPECT_OK(NCryptDeriveKey(secret, kdf, params, out.data(), size, &size, 0));
    out.resize(size);
    return out;
  }
};

TEST_F(AgreementTest, BothSidesDeriveTheSameSecret) {
  const NCRYPT_KEY_HANDLE alice =
      create_key(u"ECDH_P256", u"alice", 0, true, 0, NCRYPT_ALLOW_PLAINTEXT_EXPORT_FLAG);
  const NCRYPT_KEY_HANDLE bob = create_key(u"ECDH_P256", nullptr);
  const Bytes alice_pub = export_key(alice, BCRYPT_ECCPUBLIC_BLOB);
  const Bytes bob_pub = export_key(bob, BCRYPT_ECCPUBLIC_BLOB);
  const NCRYPT_KEY_HANDLE bob_for_alice = import_public(bob_pub);
  const NCRYPT_KEY_HANDLE alice_for_bob = import_public(alice_pub);

  NCRYPT_SECRET_HANDLE s1 = 0;
  NCRYPT_SECRET_HANDLE s2 = 0;
  ASSERT_OK(NCryptSecretAgreement(alice, bob_for_alice, &s1, 0));
  ASSERT_OK(NCryptSecretAgreement(bob, alice_for_bob, &s2, NCRYPT_SILENT_FLAG));

  const Bytes t1 = derive(s1, BCRYPT_KDF_RAW_SECRET, nullptr);
  const Bytes t2 = derive(s2, BCRYPT_KDF_RAW_SECRET, nullptr);
  EXPECT_EQ(t1.size(), 32u);
  EXPECT_EQ(t1, t2);

  // Independent check: OpenSSL ECDH with Alice's exported private key.
  const Pkey alice_priv = pkey_from_pkcs8(export_key(alice, NCRYPT_PKCS8_PRIVATE_KEY_BLOB));
  const Pkey bob_pkey = pkey_from_bcrypt_public(bob_pub);
  ASSERT_TRUE(alice_priv && bob_pkey);
  Bytes expected = ecdh(alice_priv.get(), bob_pkey.get());
  std::reverse(expected.begin(), expected.end());
  EXPECT_EQ(t1, expected);

  std::u16string sha256 = BCRYPT_SHA256_ALGORITHM;
  NCryptBuffer hash_param{static_cast<ULONG>((sha256.size() + 1) * 2), KDF_HASH_ALGORITHM,
                          sha256.data()};
  NCryptBufferDesc params{NCRYPTBUFFER_VERSION, 1, &hash_param};
  const Bytes h1 = derive(s1, BCRYPT_KDF_HASH, &params);
  const Bytes h2 = derive(s2, BCRYPT_KDF_HASH, &params);
  EXPECT_EQ(h1.size(), 32u);
  EXPECT_EQ(h1, h2);
  EXPECT_NE(h1, t1);

  DWORD size = 0;
  BYTE small[4];
  EXPECT_STATUS(NTE_BUFFER_TOO_SMALL,
                NCryptDeriveKey(s1, BCRYPT_KDF_RAW_SECRET, nullptr, small, 4, &size, 0));
  EXPECT_STATUS(NTE_BAD_FLAGS,
                NCryptDeriveKey(s1, BCRYPT_KDF_RAW_SECRET, nullptr, nullptr, 0, &size, 0x100));
  EXPECT_STATUS(NTE_INVALID_PARAMETER, NCryptDeriveKey(s1, nullptr, nullptr, nullptr, 0, &size, 0));
  // A secret handle is not a key or provider handle, and vice versa.
  EXPECT_EQ(NCryptIsKeyHandle(s1), FALSE);
  EXPECT_STATUS(NTE_INVALID_HANDLE,
                NCryptDeriveKey(alice, BCRYPT_KDF_RAW_SECRET, nullptr, nullptr, 0, &size, 0));
  EXPECT_STATUS(NTE_INVALID_HANDLE, NCryptFinalizeKey(s1, 0));

  EXPECT_OK(NCryptFreeObject(s1));
  EXPECT_OK(NCryptFreeObject(s2));
  EXPECT_STATUS(NTE_INVALID_HANDLE,
                NCryptDeriveKey(s1, BCRYPT_KDF_RAW_SECRET, nullptr, nullptr, 0, &size, 0));
  for (const auto h : {alice, bob, bob_for_alice, alice_for_bob}) {
    EXPECT_OK(NCryptFreeObject(h));
  }
}

TEST_F(AgreementTest, AgreementArguments) {
  const NCRYPT_KEY_HANDLE a = create_key(u"ECDH_P256", nullptr);
  const NCRYPT_KEY_HANDLE b384 = create_key(u"ECDH_P384", nullptr);
  const NCRYPT_KEY_HANDLE ecdsa = create_key(u"ECDSA_P256", nullptr);
  NCRYPT_SECRET_HANDLE s = 0;
  EXPECT_STATUS(NTE_INVALID_PARAMETER, NCryptSecretAgreement(a, b384, &s, 0));
  EXPECT_STATUS(NTE_INVALID_PARAMETER, NCryptSecretAgreement(a, a, nullptr, 0));
  EXPECT_STATUS(NTE_NOT_SUPPORTED, NCryptSecretAgreement(ecdsa, a, &s, 0));
  EXPECT_STATUS(NTE_BAD_FLAGS, NCryptSecretAgreement(a, a, &s, NCRYPT_MACHINE_KEY_FLAG));
  EXPECT_STATUS(NTE_INVALID_HANDLE, NCryptSecretAgreement(a, provider_, &s, 0));
  EXPECT_EQ(s, 0u);
  for (const auto h : {a, b384, ecdsa}) {
    EXPECT_OK(NCryptFreeObject(h));
  }
}

}  // namespace
}  // namespace ncrypt_test

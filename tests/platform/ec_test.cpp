// EC keys of the platform provider through the NCrypt API: ECDSA (with digest truncation and
// padding) and ECDH (TPM2_ECDH_ZGen) checked with plain OpenSSL.
#include <openssl/evp.h>

#include <algorithm>
#include <cstring>

#include "platform_test_support.h"

namespace platform_test {
namespace {

using ncrypt_test::digest;
using ncrypt_test::export_key;
using ncrypt_test::pkey_from_bcrypt_public;
using ncrypt_test::verify_ecdsa_raw;

std::string ascii(const char16_t* s) {
  std::string out;
  for (; *s != 0; ++s) {
    out.push_back(static_cast<char>(*s & 0x7F));
  }
  return out;
}

class EcTest : public PlatformTest {
 protected:
  void check_ecdsa(NCRYPT_KEY_HANDLE key) {
    const Pkey pub = pkey_from_bcrypt_public(export_key(key, BCRYPT_ECCPUBLIC_BLOB));
    ASSERT_TRUE(pub);
    // SHA-256 fits P-256; SHA-384 and SHA-512 are longer than the order and truncated (the
    // Windows PCP fails these); SHA-1 is shorter and padded for the TPM.
    for (const char* md : {"SHA256", "SHA384", "SHA512", "SHA1"}) {
      SCOPED_TRACE(md);
      const Bytes hash = digest(md, "ecdsa on the tpm");
      const Bytes sig = sign(key, nullptr, hash, 0);
      EXPECT_EQ(sig.size(), 64u);
      EXPECT_TRUE(verify_ecdsa_raw(pub.get(), hash, sig));
      EXPECT_OK(NCryptVerifySignature(
          key, nullptr, const_cast<PBYTE>(hash.data()), static_cast<DWORD>(hash.size()),
          const_cast<PBYTE>(sig.data()), static_cast<DWORD>(sig.size()), 0));
    }
  }
};

TEST_F(EcTest, PersistedP256SignsAnyDigestLength) {
  const NCRYPT_KEY_HANDLE key = create_key(u"ECDSA_P256", u"ec-tpm");
  check_ecdsa(key);
  Bytes exported;
  EXPECT_STATUS(NTE_NOT_SUPPORTED, ncrypt_test::try_export(key, BCRYPT_ECCPRIVATE_BLOB, exported));
  // An ECDSA key cannot agree.
  const Pkey peer = generate_ec_key("P-256");
  const Bytes peer_blob = ecdh_public_blob(peer.get(), BCRYPT_ECDH_PUBLIC_P256_MAGIC, 32);
  NCRYPT_KEY_HANDLE peer_key = 0;
  ASSERT_OK(NCryptImportKey(provider_, 0, BCRYPT_ECCPUBLIC_BLOB, nullptr, &peer_key,
                            const_cast<PBYTE>(peer_blob.data()),
                            static_cast<DWORD>(peer_blob.size()), 0));
  NCRYPT_SECRET_HANDLE secret = 0;
  EXPECT_STATUS(NTE_NOT_SUPPORTED, NCryptSecretAgreement(key, peer_key, &secret, 0));
  EXPECT_OK(NCryptFreeObject(peer_key));
  EXPECT_OK(NCryptDeleteKey(key, 0));
}

TEST_F(EcTest, EphemeralP256Signs) {
  const NCRYPT_KEY_HANDLE key = create_key(u"ECDSA_P256", nullptr);
  check_ecdsa(key);
  EXPECT_EQ(ncrypt_test::file_count(user_dir()), 0u);
  EXPECT_OK(NCryptFreeObject(key));
}

TEST_F(EcTest, EcdhZGenMatchesOpenSslDerive) {
  const NCRYPT_KEY_HANDLE tpm_key = create_key(u"ECDH_P256", u"ecdh-tpm");
  const Pkey tpm_pub = pkey_from_bcrypt_public(export_key(tpm_key, BCRYPT_ECCPUBLIC_BLOB));
  ASSERT_TRUE(tpm_pub);
  const Pkey peer = generate_ec_key("P-256");
  ASSERT_TRUE(peer);
  const Bytes peer_blob = ecdh_public_blob(peer.get(), BCRYPT_ECDH_PUBLIC_P256_MAGIC, 32);
  NCRYPT_KEY_HANDLE peer_key = 0;
  ASSERT_OK(NCryptImportKey(provider_, 0, BCRYPT_ECCPUBLIC_BLOB, nullptr, &peer_key,
                            const_cast<PBYTE>(peer_blob.data()),
                            static_cast<DWORD>(peer_blob.size()), 0));
  NCRYPT_SECRET_HANDLE secret = 0;
  ASSERT_OK(NCryptSecretAgreement(tpm_key, peer_key, &secret, 0));
  DWORD size = 0;
  ASSERT_OK(NCryptDeriveKey(secret, BCRYPT_KDF_RAW_SECRET, nullptr, nullptr, 0, &size, 0));
  Bytes raw(size);
  ASSERT_OK(NCryptDeriveKey(secret, BCRYPT_KDF_RAW_SECRET, nullptr, raw.data(), size, &size, 0));
  // The software side: OpenSSL ECDH of the peer's private key with the TPM key's public key.
  Bytes expected = ncrypt_test::ecdh(peer.get(), tpm_pub.get());
  ASSERT_EQ(expected.size(), 32u);
  std::reverse(expected.begin(), expected.end());  // CNG's raw secret is little-endian
  EXPECT_EQ(raw, expected);
  EXPECT_OK(NCryptFreeObject(secret));

  // An ECDH key of this provider may also sign (as on Windows).
  const Bytes hash = digest("SHA256", "ecdh key signs");
  EXPECT_TRUE(verify_ecdsa_raw(tpm_pub.get(), hash, sign(tpm_key, nullptr, hash, 0)));

  // A private key blob cannot be imported into the TPM provider.
  NCRYPT_KEY_HANDLE imported = 0;
  Bytes fake_private(8 + 3 * 32, 1);
  const BCRYPT_ECCKEY_BLOB header{BCRYPT_ECDH_PRIVATE_P256_MAGIC, 32};
  std::memcpy(fake_private.data(), &header, sizeof header);
  EXPECT_STATUS(NTE_NOT_SUPPORTED,
                NCryptImportKey(provider_, 0, BCRYPT_ECCPRIVATE_BLOB, nullptr, &imported,
                                fake_private.data(), static_cast<DWORD>(fake_private.size()), 0));
  EXPECT_OK(NCryptFreeObject(peer_key));
  EXPECT_OK(NCryptDeleteKey(tpm_key, 0));
}

// What the provider says it supports is what it can create.
TEST_F(EcTest, AdvertisedCurvesAreTheOnesThatCanBeCreated) {
  for (const char16_t* alg : {u"ECDSA_P256", u"ECDSA_P384", u"ECDSA_P521", u"ECDH_P384"}) {
    SCOPED_TRACE(ascii(alg));
    const SECURITY_STATUS supported = NCryptIsAlgSupported(provider_, alg, 0);
    NCRYPT_KEY_HANDLE key = 0;
    const SECURITY_STATUS created = NCryptCreatePersistedKey(provider_, &key, alg, nullptr, 0, 0);
    EXPECT_EQ(supported, created);
    if (created == ERROR_SUCCESS) {
      EXPECT_OK(NCryptFinalizeKey(key, 0));
      const Pkey pub = pkey_from_bcrypt_public(export_key(key, BCRYPT_ECCPUBLIC_BLOB));
      ASSERT_TRUE(pub);
      const Bytes hash = digest("SHA512", "other curves");
      EXPECT_TRUE(verify_ecdsa_raw(pub.get(), hash, sign(key, nullptr, hash, 0)));
      EXPECT_OK(NCryptFreeObject(key));
    } else {
      EXPECT_EQ(static_cast<std::uint32_t>(created), static_cast<std::uint32_t>(NTE_NOT_SUPPORTED));
    }
  }
}

}  // namespace
}  // namespace platform_test

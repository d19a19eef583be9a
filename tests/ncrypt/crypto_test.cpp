// NCryptSignHash / VerifySignature / Encrypt / Decrypt, checked against OpenSSL on the exported
// public blob (parsed by the test itself), key usage enforcement, padding arguments.
#include "ncrypt_test_support.h"
#include "openssl_check.h"

namespace ncrypt_test {
namespace {

class CryptoTest : public NCryptTest {
 protected:
  static Bytes sign(NCRYPT_KEY_HANDLE key, void* padding, const Bytes& hash, DWORD flags) {
    DWORD size = 0;
    EXPECT_OK(NCryptSignHash(key, padding, const_cast<PBYTE>(hash.data()),
                             static_cast<DWORD>(hash.size()), nullptr, 0, &size, flags));
    Bytes sig(size);
    EXPECT_OK(NCryptSignHash(key, padding, const_cast<PBYTE>(hash.data()),
                             static_cast<DWORD>(hash.size()), sig.data(), size, &size, flags));
    sig.resize(size);
    return sig;
  }
  static Bytes decrypt(NCRYPT_KEY_HANDLE key, const Bytes& cipher, void* padding, DWORD flags) {
    DWORD size = 0;
    EXPECT_OK(NCryptDecrypt(key, const_cast<PBYTE>(cipher.data()),
                            static_cast<DWORD>(cipher.size()), padding, nullptr, 0, &size, flags));
    Bytes plain(size);
    EXPECT_OK(NCryptDecrypt(key, const_cast<PBYTE>(cipher.data()),
                            static_cast<DWORD>(cipher.size()), padding, plain.data(), size, &size,
                            flags));
    plain.resize(size);
    return plain;
  }
};

TEST_F(CryptoTest, RsaPkcs1AndPssSignaturesVerifyWithOpenSsl) {
  const NCRYPT_KEY_HANDLE key = create_key(u"RSA", u"rsa-sign", 0, true, 2048);
  const Pkey pub = pkey_from_bcrypt_public(export_key(key, BCRYPT_RSAPUBLIC_BLOB));
  ASSERT_TRUE(pub);
  EXPECT_EQ(EVP_PKEY_get_bits(pub.get()), 2048);
  const Bytes hash = digest("SHA256", "message to sign");

  BCRYPT_PKCS1_PADDING_INFO pkcs1{BCRYPT_SHA256_ALGORITHM};
  const Bytes sig = sign(key, &pkcs1, hash, NCRYPT_PAD_PKCS1_FLAG);
  EXPECT_EQ(sig.size(), 256u);
  EXPECT_TRUE(verify_rsa(pub.get(), "SHA256", hash, sig));
  EXPECT_OK(NCryptVerifySignature(key, &pkcs1, const_cast<PBYTE>(hash.data()), 32,
                                  const_cast<PBYTE>(sig.data()), 256, NCRYPT_PAD_PKCS1_FLAG));

  BCRYPT_PSS_PADDING_INFO pss{BCRYPT_SHA256_ALGORITHM, 32};
  const Bytes pss_sig = sign(key, &pss, hash, NCRYPT_PAD_PSS_FLAG);
  EXPECT_TRUE(verify_rsa(pub.get(), "SHA256", hash, pss_sig, 32));
  EXPECT_OK(NCryptVerifySignature(key, &pss, const_cast<PBYTE>(hash.data()), 32,
                                  const_cast<PBYTE>(pss_sig.data()), 256, NCRYPT_PAD_PSS_FLAG));
  Bytes tampered = pss_sig;
  tampered[10] ^= 1;
  EXPECT_STATUS(NTE_BAD_SIGNATURE,
                NCryptVerifySignature(key, &pss, const_cast<PBYTE>(hash.data()), 32,
                                      tampered.data(), 256, NCRYPT_PAD_PSS_FLAG));
  EXPECT_OK(NCryptFreeObject(key));
}

TEST_F(CryptoTest, EcdsaSignaturesVerifyWithOpenSsl) {
  const struct {
    const char16_t* alg;
    const char* md;
    std::size_t sig_size;
  } cases[] = {
      {u"ECDSA_P256", "SHA256", 64}, {u"ECDSA_P384", "SHA384", 96}, {u"ECDSA_P521", "SHA512", 132}};
  for (const auto& c : cases) {
    SCOPED_TRACE(c.md);
    const NCRYPT_KEY_HANDLE key = create_key(c.alg, u"ec-sign");
    const Pkey pub = pkey_from_bcrypt_public(export_key(key, BCRYPT_ECCPUBLIC_BLOB));
    ASSERT_TRUE(pub);
    const Bytes hash = digest(c.md, "ecdsa message");
    const Bytes sig = sign(key, nullptr, hash, 0);
    EXPECT_EQ(sig.size(), c.sig_size);
    EXPECT_TRUE(verify_ecdsa_raw(pub.get(), hash, sig));
    EXPECT_OK(NCryptVerifySignature(key, nullptr, const_cast<PBYTE>(hash.data()),
                                    static_cast<DWORD>(hash.size()), const_cast<PBYTE>(sig.data()),
                                    static_cast<DWORD>(sig.size()), 0));
    EXPECT_OK(NCryptDeleteKey(key, 0));
  }
}

TEST_F(CryptoTest, SignArgumentsAndSizeProtocol) {
  const NCRYPT_KEY_HANDLE key = create_key(u"RSA", nullptr);
  Bytes hash(32, 0x33);
  BYTE sig[256];
  DWORD size = 0;
  BCRYPT_PKCS1_PADDING_INFO pkcs1{BCRYPT_SHA256_ALGORITHM};
  // RSA needs a padding flag and padding info.
  EXPECT_STATUS(NTE_INVALID_PARAMETER,
                NCryptSignHash(key, nullptr, hash.data(), 32, sig, sizeof sig, &size, 0));
  EXPECT_STATUS(NTE_INVALID_PARAMETER, NCryptSignHash(key, nullptr, hash.data(), 32, sig,
                                                      sizeof sig, &size, NCRYPT_PAD_PKCS1_FLAG));
  EXPECT_STATUS(NTE_INVALID_PARAMETER,
                NCryptVerifySignature(key, nullptr, hash.data(), 32, sig, 128, 0));
  EXPECT_STATUS(NTE_INVALID_PARAMETER, NCryptSignHash(key, &pkcs1, hash.data(), 20, sig, sizeof sig,
                                                      &size, NCRYPT_PAD_PKCS1_FLAG));
  EXPECT_STATUS(NTE_BAD_FLAGS, NCryptSignHash(key, &pkcs1, hash.data(), 32, sig, sizeof sig, &size,
                                              NCRYPT_PAD_OAEP_FLAG));
  EXPECT_STATUS(NTE_BAD_FLAGS, NCryptVerifySignature(key, &pkcs1, hash.data(), 32, sig, 128,
                                                     NCRYPT_PAD_PKCS1_FLAG | 0x100));
  EXPECT_STATUS(NTE_INVALID_PARAMETER, NCryptSignHash(key, &pkcs1, hash.data(), 32, sig, sizeof sig,
                                                      nullptr, NCRYPT_PAD_PKCS1_FLAG));
  ASSERT_OK(NCryptSignHash(key, &pkcs1, hash.data(), 32, nullptr, 0, &size, NCRYPT_PAD_PKCS1_FLAG));
  EXPECT_EQ(size, 128u);
  DWORD got = 0;
  EXPECT_STATUS(NTE_BUFFER_TOO_SMALL, NCryptSignHash(key, &pkcs1, hash.data(), 32, sig, 127, &got,
                                                     NCRYPT_PAD_PKCS1_FLAG));
  EXPECT_EQ(got, 128u);
  // PKCS1 with a NULL hash id signs the input as given (a DigestInfo).
  BCRYPT_PKCS1_PADDING_INFO raw{nullptr};
  EXPECT_OK(
      NCryptSignHash(key, &raw, hash.data(), 32, sig, sizeof sig, &size, NCRYPT_PAD_PKCS1_FLAG));
  EXPECT_OK(NCryptFreeObject(key));
}

TEST_F(CryptoTest, KeyUsageIsEnforced) {
  // Decrypt-only RSA key: signing is refused.
  NCRYPT_KEY_HANDLE rsa = create_key(u"RSA", nullptr, 0, false);
  ASSERT_OK(set_dword(rsa, NCRYPT_KEY_USAGE_PROPERTY, NCRYPT_ALLOW_DECRYPT_FLAG));
  ASSERT_OK(NCryptFinalizeKey(rsa, 0));
  Bytes hash(32, 1);
  BYTE out[256];
  DWORD size = 0;
  BCRYPT_PKCS1_PADDING_INFO pkcs1{BCRYPT_SHA256_ALGORITHM};
  EXPECT_STATUS(NTE_PERM, NCryptSignHash(rsa, &pkcs1, hash.data(), 32, out, sizeof out, &size,
                                         NCRYPT_PAD_PKCS1_FLAG));
  EXPECT_OK(NCryptFreeObject(rsa));

  // Sign-only RSA key: decryption is refused (encryption, a public operation, still works).
  rsa = create_key(u"RSA", nullptr, 0, false);
  ASSERT_OK(set_dword(rsa, NCRYPT_KEY_USAGE_PROPERTY, NCRYPT_ALLOW_SIGNING_FLAG));
  ASSERT_OK(NCryptFinalizeKey(rsa, 0));
  Bytes plain(16, 9);
  ASSERT_OK(
      NCryptEncrypt(rsa, plain.data(), 16, nullptr, out, sizeof out, &size, NCRYPT_PAD_PKCS1_FLAG));
  EXPECT_STATUS(NTE_PERM, NCryptDecrypt(rsa, out, size, nullptr, out, sizeof out, &size,
                                        NCRYPT_PAD_PKCS1_FLAG));
  EXPECT_OK(
      NCryptSignHash(rsa, &pkcs1, hash.data(), 32, out, sizeof out, &size, NCRYPT_PAD_PKCS1_FLAG));
  EXPECT_OK(NCryptFreeObject(rsa));

  // ECDH key without KEY_AGREEMENT: agreement is refused.
  NCRYPT_KEY_HANDLE ecdh = create_key(u"ECDH_P256", nullptr, 0, false);
  ASSERT_OK(set_dword(ecdh, NCRYPT_KEY_USAGE_PROPERTY, NCRYPT_ALLOW_SIGNING_FLAG));
  ASSERT_OK(NCryptFinalizeKey(ecdh, 0));
  NCRYPT_SECRET_HANDLE secret = 0;
  EXPECT_STATUS(NTE_PERM, NCryptSecretAgreement(ecdh, ecdh, &secret, 0));
  EXPECT_OK(NCryptFreeObject(ecdh));
}

TEST_F(CryptoTest, OaepAndPkcs1DecryptionRoundTrip) {
  const NCRYPT_KEY_HANDLE key = create_key(u"RSA", u"rsa-decrypt", 0, true, 2048);
  const Pkey pub = pkey_from_bcrypt_public(export_key(key, BCRYPT_RSAPUBLIC_BLOB));
  ASSERT_TRUE(pub);
  const Bytes secret = {'s', 'e', 'c', 'r', 'e', 't', ' ', 'd', 'a', 't', 'a'};

  const Bytes label = {'l', 'b', 'l'};
  const Bytes oaep_cipher = rsa_encrypt(pub.get(), secret, "SHA256", label);
  ASSERT_EQ(oaep_cipher.size(), 256u);
  BCRYPT_OAEP_PADDING_INFO oaep{BCRYPT_SHA256_ALGORITHM, const_cast<PUCHAR>(label.data()), 3};
  EXPECT_EQ(decrypt(key, oaep_cipher, &oaep, NCRYPT_PAD_OAEP_FLAG), secret);

  const Bytes oaep1_cipher = rsa_encrypt(pub.get(), secret, "SHA1");
  BCRYPT_OAEP_PADDING_INFO oaep1{BCRYPT_SHA1_ALGORITHM, nullptr, 0};
  EXPECT_EQ(decrypt(key, oaep1_cipher, &oaep1, NCRYPT_PAD_OAEP_FLAG), secret);

  const Bytes pkcs1_cipher = rsa_encrypt(pub.get(), secret);
  EXPECT_EQ(decrypt(key, pkcs1_cipher, nullptr, NCRYPT_PAD_PKCS1_FLAG), secret);

  // Wrong label: the decryption fails (and does not crash).
  BCRYPT_OAEP_PADDING_INFO other{BCRYPT_SHA256_ALGORITHM, nullptr, 0};
  BYTE out[256];
  DWORD size = 0;
  EXPECT_NE(NCryptDecrypt(key, const_cast<PBYTE>(oaep_cipher.data()), 256, &other, out, sizeof out,
                          &size, NCRYPT_PAD_OAEP_FLAG),
            ERROR_SUCCESS);
  // Too small an output buffer.
  EXPECT_STATUS(NTE_BUFFER_TOO_SMALL,
                NCryptDecrypt(key, const_cast<PBYTE>(pkcs1_cipher.data()), 256, nullptr, out, 4,
                              &size, NCRYPT_PAD_PKCS1_FLAG));
  EXPECT_EQ(size, secret.size());
  EXPECT_STATUS(NTE_INVALID_PARAMETER,
                NCryptDecrypt(key, const_cast<PBYTE>(oaep_cipher.data()), 256, nullptr, out,
                              sizeof out, &size, NCRYPT_PAD_OAEP_FLAG));
  EXPECT_STATUS(NTE_BAD_FLAGS,
                NCryptDecrypt(key, const_cast<PBYTE>(oaep_cipher.data()), 256, &oaep, out,
                              sizeof out, &size, NCRYPT_PAD_OAEP_FLAG | NCRYPT_PAD_PSS_FLAG));
  EXPECT_OK(NCryptFreeObject(key));
}

TEST_F(CryptoTest, EncryptThenDecryptThroughNCrypt) {
  const NCRYPT_KEY_HANDLE key = create_key(u"RSA", nullptr);
  Bytes plain = {1, 2, 3, 4, 5};
  BCRYPT_OAEP_PADDING_INFO oaep{BCRYPT_SHA256_ALGORITHM, nullptr, 0};
  DWORD size = 0;
  ASSERT_OK(NCryptEncrypt(key, plain.data(), 5, &oaep, nullptr, 0, &size, NCRYPT_PAD_OAEP_FLAG));
  EXPECT_EQ(size, 128u);
  Bytes cipher(size);
  ASSERT_OK(
      NCryptEncrypt(key, plain.data(), 5, &oaep, cipher.data(), size, &size, NCRYPT_PAD_OAEP_FLAG));
  EXPECT_EQ(decrypt(key, cipher, &oaep, NCRYPT_PAD_OAEP_FLAG), plain);
  EXPECT_STATUS(NTE_BAD_FLAGS, NCryptEncrypt(key, plain.data(), 5, &oaep, cipher.data(), size,
                                             &size, NCRYPT_PAD_OAEP_FLAG | NCRYPT_SEALING_FLAG));
  const NCRYPT_KEY_HANDLE ec = create_key(u"ECDSA_P256", nullptr);
  EXPECT_STATUS(NTE_NOT_SUPPORTED, NCryptEncrypt(ec, plain.data(), 5, nullptr, cipher.data(), size,
                                                 &size, NCRYPT_PAD_PKCS1_FLAG));
  EXPECT_OK(NCryptFreeObject(ec));
  EXPECT_OK(NCryptFreeObject(key));
}

}  // namespace
}  // namespace ncrypt_test

// C_Encrypt*/C_Decrypt* with RSA PKCS#1 v1.5, OAEP and raw RSA: OpenSSL encrypts to the
// token's public key, the token decrypts; and the round trip through the token.
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "ossl_support.h"
#include "p11_fixture.h"

namespace conf {
namespace {

class CryptTest : public P11Test {
 protected:
  void SetUp() override {
    P11Test::SetUp();
    if (HasFatalFailure()) {
      return;
    }
    s_ = OpenSession();
    kp_ = GenerateRsa(s_, 2048, {.label = "crypt"});
    ASSERT_TRUE(kp_.ok());
    pub_ = RsaPublicKey(GetBytes(s_, kp_.pub, CKA_MODULUS),
                        GetBytes(s_, kp_.pub, CKA_PUBLIC_EXPONENT));
    ASSERT_NE(pub_, nullptr);
  }
  CK_SESSION_HANDLE s_ = CK_INVALID_HANDLE;
  KeyPair kp_;
  PKey pub_;
  const Bytes secret_ = ToBytes("the plaintext the token must recover");
};

TEST_F(CryptTest, DecryptPkcs1FromOpenSsl) {
  CK_MECHANISM mech{CKM_RSA_PKCS, nullptr, 0};
  const Bytes cipher = RsaEncrypt(pub_.get(), RSA_PKCS1_PADDING, nullptr, secret_);
  ASSERT_EQ(cipher.size(), 256u);
  EXPECT_EQ(Decrypt(s_, &mech, kp_.priv, cipher), secret_);
}

TEST_F(CryptTest, DecryptOaepFromOpenSslSha1AndSha256AndLabel) {
  struct Case {
    CK_MECHANISM_TYPE hash;
    CK_RSA_PKCS_MGF_TYPE mgf;
    const EVP_MD* md;
    Bytes label;
  };
  const Case cases[] = {{CKM_SHA_1, CKG_MGF1_SHA1, EVP_sha1(), {}},
                        {CKM_SHA256, CKG_MGF1_SHA256, EVP_sha256(), {}},
                        {CKM_SHA256, CKG_MGF1_SHA256, EVP_sha256(), ToBytes("label!")},
                        {CKM_SHA256, CKG_MGF1_SHA256, EVP_sha256(), Bytes{'l', 'b', 0}}};
  for (const Case& c : cases) {
    if (IsPlatformSlot(kUserSlot) && !c.label.empty() && c.label.back() != 0) {
      continue;  // a TPM takes only OAEP labels ending in a zero byte (TPM 2.0 Part 1)
    }
    SCOPED_TRACE(EVP_MD_get0_name(c.md) + std::string(c.label.empty() ? "" : " with label"));
    Bytes label = c.label;
    CK_RSA_PKCS_OAEP_PARAMS params{c.hash, c.mgf, CKZ_DATA_SPECIFIED,
                                   label.empty() ? nullptr : label.data(),
                                   static_cast<CK_ULONG>(label.size())};
    CK_MECHANISM mech{CKM_RSA_PKCS_OAEP, &params, sizeof params};
    const Bytes cipher = RsaEncrypt(pub_.get(), RSA_PKCS1_OAEP_PADDING, c.md, secret_, c.label);
    ASSERT_FALSE(cipher.empty());
    EXPECT_EQ(Decrypt(s_, &mech, kp_.priv, cipher), secret_);
  }
  // Wrong label: decryption fails without revealing anything.
  CK_RSA_PKCS_OAEP_PARAMS params{CKM_SHA256, CKG_MGF1_SHA256, CKZ_DATA_SPECIFIED, nullptr, 0};
  CK_MECHANISM mech{CKM_RSA_PKCS_OAEP, &params, sizeof params};
  const Bytes cipher =
      RsaEncrypt(pub_.get(), RSA_PKCS1_OAEP_PADDING, EVP_sha256(), secret_, ToBytes("other"));
  CK_RV rv = CKR_OK;
  Decrypt(s_, &mech, kp_.priv, cipher, &rv);
  EXPECT_CKR_ONE_OF(rv, CKR_ENCRYPTED_DATA_INVALID, CKR_DATA_INVALID);
}

TEST_F(CryptTest, DecryptRawRsaX509) {
  Bytes block(256, 0);
  block[1] = 0x42;  // below the modulus
  for (size_t i = 2; i < block.size(); ++i) {
    block[i] = static_cast<unsigned char>(i);
  }
  const Bytes cipher = RsaEncrypt(pub_.get(), RSA_NO_PADDING, nullptr, block);
  ASSERT_EQ(cipher.size(), 256u);
  CK_MECHANISM mech{CKM_RSA_X_509, nullptr, 0};
  const Bytes plain = Decrypt(s_, &mech, kp_.priv, cipher);
  // Raw RSA output is k bytes (leading zeros kept) per the spec.
  EXPECT_EQ(Hex(plain), Hex(block));
}

TEST_F(CryptTest, EncryptOnTokenDecryptOnTokenRoundTrip) {
  CK_RSA_PKCS_OAEP_PARAMS oaep{CKM_SHA256, CKG_MGF1_SHA256, CKZ_DATA_SPECIFIED, nullptr, 0};
  CK_MECHANISM mechs[] = {{CKM_RSA_PKCS, nullptr, 0}, {CKM_RSA_PKCS_OAEP, &oaep, sizeof oaep}};
  for (CK_MECHANISM& mech : mechs) {
    SCOPED_TRACE(mech.mechanism);
    Bytes in = secret_;
    ASSERT_CKR(CKR_OK, f_->C_EncryptInit(s_, &mech, kp_.pub));
    CK_ULONG len = 0;
    ASSERT_CKR(CKR_OK,
               f_->C_Encrypt(s_, in.data(), static_cast<CK_ULONG>(in.size()), nullptr, &len));
    EXPECT_EQ(len, 256u);
    Bytes cipher(len);
    CK_ULONG small = 3;
    EXPECT_CKR(CKR_BUFFER_TOO_SMALL, f_->C_Encrypt(s_, in.data(), static_cast<CK_ULONG>(in.size()),
                                                   cipher.data(), &small));
    ASSERT_CKR(CKR_OK,
               f_->C_Encrypt(s_, in.data(), static_cast<CK_ULONG>(in.size()), cipher.data(), &len));
    cipher.resize(len);
    EXPECT_EQ(Decrypt(s_, &mech, kp_.priv, cipher), secret_);
  }
}

TEST_F(CryptTest, DecryptStateAndErrors) {
  CK_MECHANISM mech{CKM_RSA_PKCS, nullptr, 0};
  Bytes cipher = RsaEncrypt(pub_.get(), RSA_PKCS1_PADDING, nullptr, secret_);
  const auto clen = static_cast<CK_ULONG>(cipher.size());
  Bytes out(256);
  CK_ULONG len = 256;
  EXPECT_CKR(CKR_OPERATION_NOT_INITIALIZED,
             f_->C_Decrypt(s_, cipher.data(), clen, out.data(), &len));
  ASSERT_CKR(CKR_OK, f_->C_DecryptInit(s_, &mech, kp_.priv));
  EXPECT_CKR(CKR_OPERATION_ACTIVE, f_->C_DecryptInit(s_, &mech, kp_.priv));
  len = 0;
  ASSERT_CKR(CKR_OK, f_->C_Decrypt(s_, cipher.data(), clen, nullptr, &len));
  EXPECT_GE(len, secret_.size());
  CK_ULONG small = 2;
  EXPECT_CKR(CKR_BUFFER_TOO_SMALL, f_->C_Decrypt(s_, cipher.data(), clen, out.data(), &small));
  EXPECT_GE(small, secret_.size());
  len = static_cast<CK_ULONG>(out.size());
  ASSERT_CKR(CKR_OK, f_->C_Decrypt(s_, cipher.data(), clen, out.data(), &len));
  EXPECT_EQ(Bytes(out.begin(), out.begin() + static_cast<long>(len)), secret_);
  EXPECT_CKR(CKR_OPERATION_NOT_INITIALIZED,
             f_->C_Decrypt(s_, cipher.data(), clen, out.data(), &len));
  // Wrong ciphertext length.
  ASSERT_CKR(CKR_OK, f_->C_DecryptInit(s_, &mech, kp_.priv));
  len = 256;
  EXPECT_CKR(CKR_ENCRYPTED_DATA_LEN_RANGE, f_->C_Decrypt(s_, cipher.data(), 100, out.data(), &len));
  // Garbage of the right length: padding check fails.
  Bytes garbage(256, 0x01);
  CK_RV rv = CKR_OK;
  Decrypt(s_, &mech, kp_.priv, garbage, &rv);
  EXPECT_CKR_ONE_OF(rv, CKR_ENCRYPTED_DATA_INVALID, CKR_DATA_INVALID);
  // OAEP without parameters.
  CK_MECHANISM oaep_no_params{CKM_RSA_PKCS_OAEP, nullptr, 0};
  EXPECT_CKR(CKR_MECHANISM_PARAM_INVALID, f_->C_DecryptInit(s_, &oaep_no_params, kp_.priv));
  // Too much plaintext for PKCS#1 v1.5 encryption.
  ASSERT_CKR(CKR_OK, f_->C_EncryptInit(s_, &mech, kp_.pub));
  Bytes big(250, 7);
  len = 256;
  EXPECT_CKR(CKR_DATA_LEN_RANGE, f_->C_Encrypt(s_, big.data(), 250, out.data(), &len));
}

TEST_F(CryptTest, KeyUsageAndTypeChecks) {
  const KeyPair no_decrypt = GenerateRsa(s_, 2048, {.decrypt = false});
  const KeyPair ec = GenerateEc(s_, EcParamsP256());
  ASSERT_TRUE(no_decrypt.ok() && ec.ok());
  CK_MECHANISM mech{CKM_RSA_PKCS, nullptr, 0};
  EXPECT_CKR(CKR_KEY_FUNCTION_NOT_PERMITTED, f_->C_DecryptInit(s_, &mech, no_decrypt.priv));
  EXPECT_CKR(CKR_KEY_TYPE_INCONSISTENT, f_->C_DecryptInit(s_, &mech, ec.priv));
  EXPECT_CKR(CKR_KEY_TYPE_INCONSISTENT, f_->C_EncryptInit(s_, &mech, ec.pub));
  CK_MECHANISM sign_only{CKM_SHA256_RSA_PKCS, nullptr, 0};
  EXPECT_CKR(CKR_MECHANISM_INVALID, f_->C_DecryptInit(s_, &sign_only, kp_.priv));
  CK_MECHANISM ecdsa{CKM_ECDSA, nullptr, 0};
  EXPECT_CKR(CKR_MECHANISM_INVALID, f_->C_EncryptInit(s_, &ecdsa, ec.pub));
  EXPECT_CKR(CKR_KEY_HANDLE_INVALID, f_->C_DecryptInit(s_, &mech, 0x7FFF1234));
  ASSERT_CKR(CKR_OK, f_->C_DecryptInit(s_, &mech, kp_.priv));
  EXPECT_CKR(CKR_ARGUMENTS_BAD, f_->C_Decrypt(s_, nullptr, 0, nullptr, nullptr));
}

}  // namespace
}  // namespace conf

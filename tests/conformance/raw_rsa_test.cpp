// CKM_RSA_X_509 signing and verification (raw RSA, PKCS#11 3.0 §2.1.6): the signature is the
// RSA private operation on the data as a big-endian integer. Oracles: OpenSSL's raw public
// operation recovers the left-padded data, and a PKCS#1 v1.5 block signed raw is a signature
// OpenSSL verifies as RSASSA-PKCS1-v1_5 (what the libp11 engine does for TLS).
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include <algorithm>

#include "ossl_support.h"
#include "p11_fixture.h"

namespace conf {
namespace {

class RawRsaTest : public P11Test {
 protected:
  PKey PublicOf(CK_SESSION_HANDLE s, const KeyPair& kp) {
    return RsaPublicKey(GetBytes(s, kp.pub, CKA_MODULUS), GetBytes(s, kp.pub, CKA_PUBLIC_EXPONENT));
  }
  CK_RV Verify(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE pub, Bytes data, Bytes sig) {
    CK_MECHANISM mech{CKM_RSA_X_509, nullptr, 0};
    CK_RV rv = f_->C_VerifyInit(s, &mech, pub);
    if (rv != CKR_OK) {
      return rv;
    }
    return f_->C_Verify(s, data.data(), static_cast<CK_ULONG>(data.size()), sig.data(),
                        static_cast<CK_ULONG>(sig.size()));
  }
};

// EMSA-PKCS1-v1_5 (RFC 8017 §9.2) of a SHA-256 DigestInfo, built here independently.
Bytes Pkcs1Block(const Bytes& digest_info, size_t k) {
  Bytes block(k, 0xFF);
  block[0] = 0x00;
  block[1] = 0x01;
  block[k - digest_info.size() - 1] = 0x00;
  std::copy(digest_info.begin(), digest_info.end(), block.end() - digest_info.size());
  return block;
}

TEST_F(RawRsaTest, SignatureIsTheRawPrivateOperation) {
  const CK_SESSION_HANDLE s = OpenSession();
  for (const bool token : {false, true}) {
    SCOPED_TRACE(token ? "token key" : "session key");
    KeyOptions o;
    o.token = token;
    const KeyPair kp = GenerateRsa(s, 2048, o);
    ASSERT_TRUE(kp.ok());
    PKey pub = PublicOf(s, kp);
    ASSERT_NE(pub, nullptr);
    CK_MECHANISM mech{CKM_RSA_X_509, nullptr, 0};

    // A full PKCS#1 block signed raw verifies as an ordinary PKCS#1 v1.5 signature.
    const Bytes data = ToBytes("the quick brown fox");
    const Bytes block = Pkcs1Block(Sha256DigestInfo(data), 256);
    const Bytes sig = Sign(s, &mech, kp.priv, block);
    ASSERT_EQ(sig.size(), 256u);
    EXPECT_TRUE(VerifyRsaPkcs1(pub.get(), EVP_sha256(), data, sig));
    EXPECT_CKR(CKR_OK, Verify(s, kp.pub, block, sig));

    // A short input is an integer: the public operation gives it back left-padded to k.
    const Bytes small = {0x01, 0x02, 0x03, 0x04, 0x05};
    const Bytes small_sig = Sign(s, &mech, kp.priv, small);
    ASSERT_EQ(small_sig.size(), 256u);
    Bytes expected(256 - small.size(), 0);
    expected.insert(expected.end(), small.begin(), small.end());
    EXPECT_EQ(Hex(RsaEncrypt(pub.get(), RSA_NO_PADDING, nullptr, small_sig)), Hex(expected));
    EXPECT_CKR(CKR_OK, Verify(s, kp.pub, small, small_sig));

    // Tampered data or signature, wrong signature length.
    const Bytes other = {0x01, 0x02, 0x03, 0x04, 0x04};  // small with its last bit flipped
    EXPECT_CKR(CKR_SIGNATURE_INVALID, Verify(s, kp.pub, other, small_sig));
    Bytes bad_sig = small_sig;
    bad_sig[100] ^= 0x40;
    EXPECT_CKR(CKR_SIGNATURE_INVALID, Verify(s, kp.pub, small, bad_sig));
    EXPECT_CKR(CKR_SIGNATURE_LEN_RANGE,
               Verify(s, kp.pub, small, Bytes(small_sig.begin(), small_sig.end() - 1)));
  }
}

TEST_F(RawRsaTest, InputRules) {
  const CK_SESSION_HANDLE s = OpenSession();
  const KeyPair kp = GenerateRsa(s, 2048);
  ASSERT_TRUE(kp.ok());
  CK_MECHANISM mech{CKM_RSA_X_509, nullptr, 0};
  CK_RV rv = CKR_OK;
  // Longer than the modulus: CKR_DATA_LEN_RANGE.
  Sign(s, &mech, kp.priv, Bytes(257, 0x01), &rv);
  EXPECT_CKR(CKR_DATA_LEN_RANGE, rv);
  // k bytes but not below the modulus: CKR_DATA_INVALID.
  Sign(s, &mech, kp.priv, Bytes(256, 0xFF), &rv);
  EXPECT_CKR(CKR_DATA_INVALID, rv);
  // The size query gives k.
  ASSERT_CKR(CKR_OK, f_->C_SignInit(s, &mech, kp.priv));
  Bytes data = {1, 2, 3};
  CK_ULONG len = 0;
  ASSERT_CKR(CKR_OK, f_->C_Sign(s, data.data(), 3, nullptr, &len));
  EXPECT_EQ(len, 256u);
  Bytes out(len);
  EXPECT_CKR(CKR_OK, f_->C_Sign(s, data.data(), 3, out.data(), &len));
}

TEST_F(RawRsaTest, SigningKeyThatMayNotDecryptStillSignsRaw) {
  // Raw signing goes through NCryptDecrypt without padding; CKA_DECRYPT=FALSE still forbids
  // decryption through PKCS#11.
  const CK_SESSION_HANDLE s = OpenSession();
  KeyOptions o;
  o.token = true;
  o.decrypt = false;
  const KeyPair kp = GenerateRsa(s, 2048, o);
  ASSERT_TRUE(kp.ok());
  CK_MECHANISM mech{CKM_RSA_X_509, nullptr, 0};
  CK_RV rv = CKR_GENERAL_ERROR;
  const Bytes sig = Sign(s, &mech, kp.priv, Bytes{9, 9, 9}, &rv);
  EXPECT_CKR(CKR_OK, rv);
  EXPECT_CKR(CKR_OK, Verify(s, kp.pub, Bytes{9, 9, 9}, sig));
  EXPECT_CKR(CKR_KEY_FUNCTION_NOT_PERMITTED, f_->C_DecryptInit(s, &mech, kp.priv));

  KeyOptions no_sign;
  no_sign.sign = false;
  const KeyPair decrypt_only = GenerateRsa(s, 2048, no_sign);
  ASSERT_TRUE(decrypt_only.ok());
  EXPECT_CKR(CKR_KEY_FUNCTION_NOT_PERMITTED, f_->C_SignInit(s, &mech, decrypt_only.priv));
}

}  // namespace
}  // namespace conf

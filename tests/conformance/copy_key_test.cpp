// C_CopyObject of key pair halves with an empty template (the copy keeps CKA_TOKEN): token and
// session halves are copied (CKA_COPYABLE says TRUE), the copy signs (verified by OpenSSL with
// the public key) and lives on when the original is destroyed. A token copy of a private key
// is a new persisted CNG key; CNG copies key material only by export, so a private key whose
// Export Policy forbids export cannot become a second token key: C_CopyObject says
// CKR_ACTION_PROHIBITED ("underlying policy restrictions on the token", PKCS#11 3.0 §5.1.6),
// while a session copy of it still works. On a hardware slot (CKF_HW_SLOT: the TPM) no private
// key leaves the device, whatever its Export Policy, so the same answer holds for every key.
#include <openssl/evp.h>

#include "ossl_support.h"
#include "p11_fixture.h"

namespace conf {
namespace {

class CopyKeyTest : public P11Test {
 protected:
  // ECDSA-SHA256 with key, verified by OpenSSL against the original public point.
  void ExpectSigns(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE key, EVP_PKEY* pub) {
    CK_MECHANISM mech{CKM_ECDSA_SHA256, nullptr, 0};
    const Bytes data = ToBytes("copied keys sign");
    CK_RV rv = CKR_GENERAL_ERROR;
    const Bytes sig = Sign(s, &mech, key, data, &rv);
    ASSERT_CKR(CKR_OK, rv);
    EXPECT_TRUE(VerifyEcdsa(pub, EVP_sha256(), data, sig, false));
  }

  PKey PublicOf(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE pub) {
    return EcPublicKey(GetBytes(s, pub, CKA_EC_PARAMS), GetBytes(s, pub, CKA_EC_POINT));
  }

  CK_OBJECT_HANDLE Copy(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE h, CK_RV expected = CKR_OK) {
    CK_OBJECT_HANDLE copy = CK_INVALID_HANDLE;
    EXPECT_CKR(expected, f_->C_CopyObject(s, h, nullptr, 0, &copy));
    return copy;
  }

  // Copies both halves of kp with empty templates, destroys the originals, and checks the
  // copies: same token flag, same public point, the private copy signs.
  void CopyBothHalvesAndDropOriginals(CK_SESSION_HANDLE s, const KeyPair& kp, bool token) {
    const Bytes point = GetBytes(s, kp.pub, CKA_EC_POINT);
    const PKey pub = PublicOf(s, kp.pub);
    ASSERT_NE(pub, nullptr);
    EXPECT_TRUE(GetBool(s, kp.priv, CKA_COPYABLE));
    EXPECT_TRUE(GetBool(s, kp.pub, CKA_COPYABLE));
    const CK_OBJECT_HANDLE priv_copy = Copy(s, kp.priv);
    const CK_OBJECT_HANDLE pub_copy = Copy(s, kp.pub);
    ASSERT_NE(priv_copy, CK_INVALID_HANDLE);
    ASSERT_NE(pub_copy, CK_INVALID_HANDLE);
    EXPECT_EQ(GetBool(s, priv_copy, CKA_TOKEN), token);
    EXPECT_EQ(GetBool(s, pub_copy, CKA_TOKEN), token);
    EXPECT_EQ(GetBytes(s, pub_copy, CKA_EC_POINT), point);
    ExpectSigns(s, priv_copy, pub.get());

    EXPECT_CKR(CKR_OK, f_->C_DestroyObject(s, kp.priv));
    EXPECT_CKR(CKR_OK, f_->C_DestroyObject(s, kp.pub));
    ExpectSigns(s, priv_copy, pub.get());
    EXPECT_EQ(GetBytes(s, pub_copy, CKA_EC_POINT), point);
    const PKey from_copy = PublicOf(s, pub_copy);
    ASSERT_NE(from_copy, nullptr);
    ExpectSigns(s, priv_copy, from_copy.get());
  }
};

TEST_F(CopyKeyTest, TokenKeyPairHalvesAreCopiedToTheToken) {
  const CK_SESSION_HANDLE s = OpenSession();
  const KeyPair kp =
      GenerateEc(s, EcParamsP256(), {.token = true, .label = "orig", .extractable = true});
  ASSERT_TRUE(kp.ok());
  if (IsHardwareSlot(kUserSlot)) {
    // The private half refuses, as a non-exportable key does; the public half is copied and
    // outlives its original, and the private key still signs.
    EXPECT_TRUE(GetBool(s, kp.priv, CKA_COPYABLE));
    Copy(s, kp.priv, CKR_ACTION_PROHIBITED);
    const Bytes point = GetBytes(s, kp.pub, CKA_EC_POINT);
    const CK_OBJECT_HANDLE pub_copy = Copy(s, kp.pub);
    ASSERT_NE(pub_copy, CK_INVALID_HANDLE);
    EXPECT_TRUE(GetBool(s, pub_copy, CKA_TOKEN));
    EXPECT_CKR(CKR_OK, f_->C_DestroyObject(s, kp.pub));
    EXPECT_EQ(GetBytes(s, pub_copy, CKA_EC_POINT), point);
    const PKey from_copy = PublicOf(s, pub_copy);
    ASSERT_NE(from_copy, nullptr);
    ExpectSigns(s, kp.priv, from_copy.get());
    // On the token: the private key and the public copy (its original stays destroyed).
    Reinitialize();
    const CK_SESSION_HANDLE s2 = OpenSession();
    Template priv;
    priv.Bool(CKA_TOKEN, true).Ulong(CKA_CLASS, CKO_PRIVATE_KEY);
    Template pub;
    pub.Bool(CKA_TOKEN, true).Ulong(CKA_CLASS, CKO_PUBLIC_KEY);
    EXPECT_EQ(Find(s2, priv).size(), 1u);
    const auto pubs = Find(s2, pub);
    ASSERT_EQ(pubs.size(), 1u);
    EXPECT_EQ(GetBytes(s2, pubs[0], CKA_EC_POINT), point);
    return;
  }
  CopyBothHalvesAndDropOriginals(s, kp, true);
  // The copies are persisted keys of their own: a fresh C_Initialize still finds them. One CNG
  // key pair shows as two objects, so the private copy brings a public twin: two public keys
  // (that twin and the public copy), one private key.
  Reinitialize();
  const CK_SESSION_HANDLE s2 = OpenSession();
  Template priv;
  priv.Bool(CKA_TOKEN, true).Ulong(CKA_CLASS, CKO_PRIVATE_KEY);
  Template pub;
  pub.Bool(CKA_TOKEN, true).Ulong(CKA_CLASS, CKO_PUBLIC_KEY);
  EXPECT_EQ(Find(s2, priv).size(), 1u);
  EXPECT_EQ(Find(s2, pub).size(), 2u);
}

TEST_F(CopyKeyTest, SessionKeyPairHalvesAreCopied) {
  const CK_SESSION_HANDLE s = OpenSession();
  const KeyPair kp = GenerateEc(s, EcParamsP256(), {.label = "session"});
  ASSERT_TRUE(kp.ok());
  CopyBothHalvesAndDropOriginals(s, kp, false);
}

TEST_F(CopyKeyTest, NonExportableTokenPrivateKeyCopiesOnlyToTheSession) {
  const CK_SESSION_HANDLE s = OpenSession();
  const KeyPair kp = GenerateEc(s, EcParamsP256(), {.token = true, .label = "sealed"});
  ASSERT_TRUE(kp.ok());
  const PKey pub = PublicOf(s, kp.pub);
  ASSERT_NE(pub, nullptr);
  Copy(s, kp.priv, CKR_ACTION_PROHIBITED);
  // Its public half is copied like any public key.
  const CK_OBJECT_HANDLE pub_copy = Copy(s, kp.pub);
  EXPECT_TRUE(GetBool(s, pub_copy, CKA_TOKEN));
  EXPECT_EQ(GetBytes(s, pub_copy, CKA_EC_POINT), GetBytes(s, kp.pub, CKA_EC_POINT));
  Template to_session;
  to_session.Bool(CKA_TOKEN, false);
  CK_OBJECT_HANDLE session_copy = CK_INVALID_HANDLE;
  ASSERT_CKR(CKR_OK,
             f_->C_CopyObject(s, kp.priv, to_session.data(), to_session.size(), &session_copy));
  ExpectSigns(s, session_copy, pub.get());
  // Nothing was added to the token by the refused copy: the pair and the public copy.
  Template priv;
  priv.Bool(CKA_TOKEN, true).Ulong(CKA_CLASS, CKO_PRIVATE_KEY);
  EXPECT_EQ(Find(s, priv).size(), 1u);
}

}  // namespace
}  // namespace conf

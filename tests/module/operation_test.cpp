// The session's operation state machine, through digests (no key needed) and, when the object
// layer can generate keys, an ECDSA signature: the size-query convention, CKR_OPERATION_ACTIVE,
// CKR_OPERATION_NOT_INITIALIZED, termination rules; plus find state and random numbers.
#include <openssl/evp.h>

#include <algorithm>
#include <cstring>

#include "module_test_support.h"

namespace module_test {
namespace {

std::vector<CK_BYTE> sha256(const std::vector<CK_BYTE>& data) {
  std::vector<CK_BYTE> out(EVP_MAX_MD_SIZE);
  unsigned len = 0;
  EXPECT_EQ(EVP_Digest(data.data(), data.size(), out.data(), &len, EVP_sha256(), nullptr), 1);
  out.resize(len);
  return out;
}

class Operations : public InitializedTest {
 protected:
  void SetUp() override {
    InitializedTest::SetUp();
    h = open(0, true);
  }
  CK_RV digest_init() {
    CK_MECHANISM mech{CKM_SHA256, nullptr, 0};
    return p11->C_DigestInit(h, &mech);
  }
  CK_SESSION_HANDLE h = CK_INVALID_HANDLE;
  std::vector<CK_BYTE> data{'c', 'n', 'g', '-', 'p', 'k', 'c', 's', '1', '1'};
};

TEST_F(Operations, SingleInitAndNotInitialized) {
  CK_BYTE out[64];
  CK_ULONG len = sizeof out;
  EXPECT_EQ(p11->C_Digest(h, data.data(), 4, out, &len), CKR_OPERATION_NOT_INITIALIZED);
  EXPECT_EQ(p11->C_DigestFinal(h, out, &len), CKR_OPERATION_NOT_INITIALIZED);
  ASSERT_EQ(digest_init(), CKR_OK);
  EXPECT_EQ(digest_init(), CKR_OPERATION_ACTIVE);
  // A NULL mechanism terminates the active operation (PKCS#11 3.0 §5.2) ...
  EXPECT_EQ(p11->C_DigestInit(h, nullptr), CKR_OK);
  EXPECT_EQ(p11->C_DigestFinal(h, out, &len), CKR_OPERATION_NOT_INITIALIZED);
  // ... and with none active it is a bad argument.
  EXPECT_EQ(p11->C_DigestInit(h, nullptr), CKR_ARGUMENTS_BAD);
  EXPECT_EQ(digest_init(), CKR_OK);
}

TEST_F(Operations, SizeQueryAndTooSmallKeepTheOperation) {
  ASSERT_EQ(digest_init(), CKR_OK);
  CK_ULONG len = 0;
  ASSERT_EQ(p11->C_Digest(h, data.data(), data.size(), nullptr, &len), CKR_OK);
  EXPECT_EQ(len, 32U);
  std::vector<CK_BYTE> out(len);
  CK_ULONG small = 31;
  ASSERT_EQ(p11->C_Digest(h, data.data(), data.size(), out.data(), &small), CKR_BUFFER_TOO_SMALL);
  EXPECT_EQ(small, 32U);
  ASSERT_EQ(p11->C_Digest(h, data.data(), data.size(), out.data(), &len), CKR_OK);
  EXPECT_EQ(out, sha256(data));
  // Success ended it.
  EXPECT_EQ(p11->C_Digest(h, data.data(), data.size(), out.data(), &len),
            CKR_OPERATION_NOT_INITIALIZED);
}

TEST_F(Operations, MultiPartMatchesSinglePart) {
  ASSERT_EQ(digest_init(), CKR_OK);
  ASSERT_EQ(p11->C_DigestUpdate(h, data.data(), 3), CKR_OK);
  ASSERT_EQ(p11->C_DigestUpdate(h, data.data() + 3, data.size() - 3), CKR_OK);
  CK_BYTE out[32];
  CK_ULONG len = sizeof out;
  // Single-part after an update is refused; the multi-part digest survives.
  EXPECT_EQ(p11->C_Digest(h, data.data(), data.size(), out, &len), CKR_OPERATION_ACTIVE);
  len = 0;
  ASSERT_EQ(p11->C_DigestFinal(h, nullptr, &len), CKR_OK);
  ASSERT_EQ(len, 32U);
  ASSERT_EQ(p11->C_DigestFinal(h, out, &len), CKR_OK);
  EXPECT_EQ(std::vector<CK_BYTE>(out, out + len), sha256(data));
}

TEST_F(Operations, ErrorsTerminateTheOperation) {
  ASSERT_EQ(digest_init(), CKR_OK);
  CK_BYTE out[32];
  EXPECT_EQ(p11->C_Digest(h, data.data(), data.size(), out, nullptr), CKR_ARGUMENTS_BAD);
  CK_ULONG len = sizeof out;
  EXPECT_EQ(p11->C_Digest(h, data.data(), data.size(), out, &len), CKR_OPERATION_NOT_INITIALIZED);
  ASSERT_EQ(digest_init(), CKR_OK);
  EXPECT_EQ(p11->C_DigestUpdate(h, nullptr, 5), CKR_ARGUMENTS_BAD);
  EXPECT_EQ(p11->C_DigestFinal(h, out, &len), CKR_OPERATION_NOT_INITIALIZED);
}

TEST_F(Operations, SessionCancelEndsNamedOperations) {
  ASSERT_EQ(digest_init(), CKR_OK);
  ASSERT_EQ(p11->C_SessionCancel(h, CKF_SIGN), CKR_OK);
  EXPECT_EQ(digest_init(), CKR_OPERATION_ACTIVE) << "digest not named";
  ASSERT_EQ(p11->C_SessionCancel(h, CKF_DIGEST), CKR_OK);
  EXPECT_EQ(digest_init(), CKR_OK);
}

TEST_F(Operations, OperationsArePerSession) {
  const CK_SESSION_HANDLE other = open(0, false);
  ASSERT_EQ(digest_init(), CKR_OK);
  CK_MECHANISM mech{CKM_SHA256, nullptr, 0};
  EXPECT_EQ(p11->C_DigestInit(other, &mech), CKR_OK);
  EXPECT_EQ(p11->C_CloseSession(other), CKR_OK);
  EXPECT_EQ(digest_init(), CKR_OPERATION_ACTIVE);
}

TEST_F(Operations, RandomNumbers) {
  std::vector<CK_BYTE> a(32, 0);
  std::vector<CK_BYTE> b(32, 0);
  ASSERT_EQ(p11->C_GenerateRandom(h, a.data(), a.size()), CKR_OK);
  ASSERT_EQ(p11->C_GenerateRandom(h, b.data(), b.size()), CKR_OK);
  EXPECT_NE(a, b);
  EXPECT_EQ(p11->C_GenerateRandom(h, nullptr, 8), CKR_ARGUMENTS_BAD);
  CK_BYTE seed[] = {1, 2, 3, 4};
  EXPECT_EQ(p11->C_SeedRandom(h, seed, sizeof seed), CKR_OK);
  EXPECT_EQ(p11->C_SeedRandom(h, nullptr, 4), CKR_ARGUMENTS_BAD);
}

TEST_F(Operations, FindStateMachine) {
  CK_OBJECT_HANDLE found[4];
  CK_ULONG count = 0;
  EXPECT_EQ(p11->C_FindObjects(h, found, 4, &count), CKR_OPERATION_NOT_INITIALIZED);
  EXPECT_EQ(p11->C_FindObjectsFinal(h), CKR_OPERATION_NOT_INITIALIZED);
  EXPECT_EQ(p11->C_FindObjectsInit(h, nullptr, 1), CKR_ARGUMENTS_BAD);
  // A vendor class matches nothing but is no error (clients.md §7).
  CK_OBJECT_CLASS trust = CKO_VENDOR_DEFINED + 3;
  CK_ATTRIBUTE tmpl[] = {{CKA_CLASS, &trust, sizeof trust}};
  ASSERT_EQ(p11->C_FindObjectsInit(h, tmpl, 1), CKR_OK);
  EXPECT_EQ(p11->C_FindObjectsInit(h, nullptr, 0), CKR_OPERATION_ACTIVE);
  EXPECT_EQ(p11->C_FindObjects(h, nullptr, 4, &count), CKR_ARGUMENTS_BAD);
  ASSERT_EQ(p11->C_FindObjects(h, found, 4, &count), CKR_OK);
  EXPECT_EQ(count, 0U);
  EXPECT_EQ(p11->C_FindObjectsFinal(h), CKR_OK);
  EXPECT_EQ(p11->C_FindObjectsInit(h, nullptr, 0), CKR_OK);
  EXPECT_EQ(p11->C_FindObjectsFinal(h), CKR_OK);
}

TEST_F(Operations, ReadOnlySessionCannotCreateTokenObjects) {
  const CK_SESSION_HANDLE ro = open(0, false);
  CK_OBJECT_CLASS cls = CKO_DATA;
  CK_BBOOL yes = CK_TRUE;
  CK_ATTRIBUTE tmpl[] = {{CKA_CLASS, &cls, sizeof cls}, {CKA_TOKEN, &yes, sizeof yes}};
  CK_OBJECT_HANDLE obj = CK_INVALID_HANDLE;
  EXPECT_EQ(p11->C_CreateObject(ro, tmpl, 2, &obj), CKR_SESSION_READ_ONLY);
  CK_MECHANISM gen{CKM_EC_KEY_PAIR_GEN, nullptr, 0};
  CK_OBJECT_HANDLE pub = CK_INVALID_HANDLE;
  CK_OBJECT_HANDLE priv = CK_INVALID_HANDLE;
  EXPECT_EQ(p11->C_GenerateKeyPair(ro, &gen, tmpl + 1, 1, nullptr, 0, &pub, &priv),
            CKR_SESSION_READ_ONLY);
  EXPECT_EQ(p11->C_CreateObject(ro, nullptr, 2, &obj), CKR_ARGUMENTS_BAD);
  EXPECT_EQ(p11->C_CreateObject(ro, tmpl, 2, nullptr), CKR_ARGUMENTS_BAD);
}

TEST_F(Operations, EcdsaSignSizeQueryAndVerify) {
  // P-256 as DER OID.
  CK_BYTE p256[] = {0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07};
  CK_BBOOL yes = CK_TRUE;
  CK_BBOOL no = CK_FALSE;
  CK_ATTRIBUTE pub_tmpl[] = {{CKA_EC_PARAMS, p256, sizeof p256},
                             {CKA_TOKEN, &no, sizeof no},
                             {CKA_VERIFY, &yes, sizeof yes}};
  CK_ATTRIBUTE priv_tmpl[] = {{CKA_TOKEN, &no, sizeof no}, {CKA_SIGN, &yes, sizeof yes}};
  CK_MECHANISM gen{CKM_EC_KEY_PAIR_GEN, nullptr, 0};
  CK_OBJECT_HANDLE pub = CK_INVALID_HANDLE;
  CK_OBJECT_HANDLE priv = CK_INVALID_HANDLE;
  ASSERT_EQ(p11->C_GenerateKeyPair(h, &gen, pub_tmpl, 3, priv_tmpl, 2, &pub, &priv), CKR_OK);

  CK_MECHANISM ecdsa{CKM_ECDSA, nullptr, 0};
  const auto digest = sha256(data);
  ASSERT_EQ(p11->C_SignInit(h, &ecdsa, priv), CKR_OK);
  EXPECT_EQ(p11->C_SignInit(h, &ecdsa, priv), CKR_OPERATION_ACTIVE);
  CK_ULONG len = 0;
  std::vector<CK_BYTE> in(digest);
  ASSERT_EQ(p11->C_Sign(h, in.data(), in.size(), nullptr, &len), CKR_OK);
  ASSERT_EQ(len, 64U);
  std::vector<CK_BYTE> sig(len);
  CK_ULONG small = 10;
  ASSERT_EQ(p11->C_Sign(h, in.data(), in.size(), sig.data(), &small), CKR_BUFFER_TOO_SMALL);
  EXPECT_EQ(small, 64U);
  ASSERT_EQ(p11->C_Sign(h, in.data(), in.size(), sig.data(), &len), CKR_OK);
  EXPECT_EQ(p11->C_Sign(h, in.data(), in.size(), sig.data(), &len), CKR_OPERATION_NOT_INITIALIZED);

  ASSERT_EQ(p11->C_VerifyInit(h, &ecdsa, pub), CKR_OK);
  EXPECT_EQ(p11->C_Verify(h, in.data(), in.size(), sig.data(), len), CKR_OK);
  sig[5] ^= 0x40;
  ASSERT_EQ(p11->C_VerifyInit(h, &ecdsa, pub), CKR_OK);
  EXPECT_EQ(p11->C_Verify(h, in.data(), in.size(), sig.data(), len), CKR_SIGNATURE_INVALID);
  EXPECT_EQ(p11->C_Verify(h, in.data(), in.size(), sig.data(), len), CKR_OPERATION_NOT_INITIALIZED);
  EXPECT_EQ(p11->C_SignInit(h, &ecdsa, priv + 100000), CKR_KEY_HANDLE_INVALID);
}

}  // namespace
}  // namespace module_test

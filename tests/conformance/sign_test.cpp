// C_Sign*/C_Verify* for RSA PKCS#1 v1.5, PSS and ECDSA, checked with OpenSSL; multi-part ==
// single-part; operation state rules (size queries, BUFFER_TOO_SMALL, not initialised/active).
#include <openssl/evp.h>

#include <algorithm>

#include "ossl_support.h"
#include "p11_fixture.h"

namespace conf {
namespace {

struct HashCase {
  const char* name;
  CK_MECHANISM_TYPE digest, rsa_pkcs, rsa_pss, ecdsa;
  CK_RSA_PKCS_MGF_TYPE mgf;
  const EVP_MD* (*md)();
};

const HashCase kHashes[] = {
    {"SHA1", CKM_SHA_1, CKM_SHA1_RSA_PKCS, CKM_SHA1_RSA_PKCS_PSS, CKM_ECDSA_SHA1, CKG_MGF1_SHA1,
     EVP_sha1},
    {"SHA224", CKM_SHA224, CKM_SHA224_RSA_PKCS, CKM_SHA224_RSA_PKCS_PSS, CKM_ECDSA_SHA224,
     CKG_MGF1_SHA224, EVP_sha224},
    {"SHA256", CKM_SHA256, CKM_SHA256_RSA_PKCS, CKM_SHA256_RSA_PKCS_PSS, CKM_ECDSA_SHA256,
     CKG_MGF1_SHA256, EVP_sha256},
    {"SHA384", CKM_SHA384, CKM_SHA384_RSA_PKCS, CKM_SHA384_RSA_PKCS_PSS, CKM_ECDSA_SHA384,
     CKG_MGF1_SHA384, EVP_sha384},
    {"SHA512", CKM_SHA512, CKM_SHA512_RSA_PKCS, CKM_SHA512_RSA_PKCS_PSS, CKM_ECDSA_SHA512,
     CKG_MGF1_SHA512, EVP_sha512},
};

class SignTest : public P11Test {
 protected:
  PKey PublicOf(CK_SESSION_HANDLE s, const KeyPair& kp) {
    if (GetUlong(s, kp.pub, CKA_KEY_TYPE) == CKK_RSA) {
      return RsaPublicKey(GetBytes(s, kp.pub, CKA_MODULUS),
                          GetBytes(s, kp.pub, CKA_PUBLIC_EXPONENT));
    }
    return EcPublicKey(GetBytes(s, kp.pub, CKA_EC_PARAMS), GetBytes(s, kp.pub, CKA_EC_POINT));
  }
  CK_RV VerifyOnToken(CK_SESSION_HANDLE s, CK_MECHANISM* mech, CK_OBJECT_HANDLE pub, Bytes data,
                      Bytes sig) {
    CK_RV rv = f_->C_VerifyInit(s, mech, pub);
    if (rv != CKR_OK) {
      return rv;
    }
    return f_->C_Verify(s, data.data(), static_cast<CK_ULONG>(data.size()), sig.data(),
                        static_cast<CK_ULONG>(sig.size()));
  }
  CK_RV VerifyOnTokenMultiPart(CK_SESSION_HANDLE s, CK_MECHANISM* mech, CK_OBJECT_HANDLE pub,
                               Bytes data, Bytes sig) {
    CK_RV rv = f_->C_VerifyInit(s, mech, pub);
    for (size_t off = 0; rv == CKR_OK && off < data.size(); off += 100) {
      rv = f_->C_VerifyUpdate(s, data.data() + off,
                              static_cast<CK_ULONG>(std::min<size_t>(100, data.size() - off)));
    }
    return rv == CKR_OK ? f_->C_VerifyFinal(s, sig.data(), static_cast<CK_ULONG>(sig.size())) : rv;
  }
  const Bytes data_ = Bytes(1000, 0x61);  // > one chunk, not a multiple of the chunk size
};

TEST_F(SignTest, RsaPkcs1EveryHashSingleAndMultiPart) {
  const CK_SESSION_HANDLE s = OpenSession();
  const KeyPair kp = GenerateRsa(s, 2048);
  ASSERT_TRUE(kp.ok());
  PKey pub = PublicOf(s, kp);
  ASSERT_NE(pub, nullptr);
  for (const HashCase& h : kHashes) {
    SCOPED_TRACE(h.name);
    if (!Offers(h.rsa_pkcs)) {
      continue;  // e.g. SHA-224 on a TPM without it
    }
    CK_MECHANISM mech{h.rsa_pkcs, nullptr, 0};
    const Bytes sig = Sign(s, &mech, kp.priv, data_);
    EXPECT_EQ(sig.size(), 256u);
    EXPECT_TRUE(VerifyRsaPkcs1(pub.get(), h.md(), data_, sig)) << "OpenSSL rejects the signature";
    EXPECT_EQ(Hex(SignMultiPart(s, &mech, kp.priv, data_, 100)), Hex(sig))
        << "PKCS#1 v1.5 is deterministic: multi-part must equal single-part";
    EXPECT_CKR(CKR_OK, VerifyOnToken(s, &mech, kp.pub, data_, sig));
    EXPECT_CKR(CKR_OK, VerifyOnTokenMultiPart(s, &mech, kp.pub, data_, sig));
    if (sig.size() != 256) {
      continue;  // already reported; nothing to tamper with
    }
    Bytes bad = sig;
    bad[10] ^= 1;
    EXPECT_CKR(CKR_SIGNATURE_INVALID, VerifyOnToken(s, &mech, kp.pub, data_, bad));
    EXPECT_CKR(CKR_SIGNATURE_INVALID, VerifyOnTokenMultiPart(s, &mech, kp.pub, data_, bad));
  }
}

TEST_F(SignTest, RsaPkcsRawDigestInfo) {
  const CK_SESSION_HANDLE s = OpenSession();
  const KeyPair kp = GenerateRsa(s, 2048);
  ASSERT_TRUE(kp.ok());
  PKey pub = PublicOf(s, kp);
  CK_MECHANISM raw{CKM_RSA_PKCS, nullptr, 0};
  const Bytes info = Sha256DigestInfo(data_);
  const Bytes sig = Sign(s, &raw, kp.priv, info);
  EXPECT_TRUE(VerifyRsaPkcs1(pub.get(), EVP_sha256(), data_, sig));
  CK_MECHANISM hashed{CKM_SHA256_RSA_PKCS, nullptr, 0};
  EXPECT_EQ(Hex(sig), Hex(Sign(s, &hashed, kp.priv, data_)));
  EXPECT_CKR(CKR_OK, VerifyOnToken(s, &raw, kp.pub, info, sig));
  // Input longer than k-11 bytes cannot be padded.
  CK_RV rv = CKR_OK;
  Sign(s, &raw, kp.priv, Bytes(250, 1), &rv);
  EXPECT_CKR(CKR_DATA_LEN_RANGE, rv);
}

TEST_F(SignTest, RsaPssRawAndHashedEveryHash) {
  const CK_SESSION_HANDLE s = OpenSession();
  const KeyPair kp = GenerateRsa(s, 2048);
  ASSERT_TRUE(kp.ok());
  PKey pub = PublicOf(s, kp);
  for (const HashCase& h : kHashes) {
    SCOPED_TRACE(h.name);
    const auto salt = static_cast<CK_ULONG>(EVP_MD_get_size(h.md()));
    CK_RSA_PKCS_PSS_PARAMS params{h.digest, h.mgf, salt};
    CK_MECHANISM hashed{h.rsa_pss, &params, sizeof params};
    if (h.digest == CKM_SHA224) {
      // Documented decision: CNG's PSS padding names its hash by a CNG algorithm id and CNG has
      // no SHA-224, so SHA-224 PSS is not offered (the module would not work on real ncrypt).
      EXPECT_CKR(CKR_MECHANISM_INVALID, f_->C_SignInit(s, &hashed, kp.priv));
      CK_MECHANISM raw224{CKM_RSA_PKCS_PSS, &params, sizeof params};
      EXPECT_CKR(CKR_MECHANISM_PARAM_INVALID, f_->C_SignInit(s, &raw224, kp.priv));
      continue;
    }
    if (!Offers(h.rsa_pss)) {
      continue;  // the platform provider signs PSS with the hashes its profile declares
    }
    Bytes sig = Sign(s, &hashed, kp.priv, data_);
    EXPECT_TRUE(VerifyRsaPss(pub.get(), h.md(), h.md(), static_cast<int>(salt), data_, sig, false));
    EXPECT_CKR(CKR_OK, VerifyOnToken(s, &hashed, kp.pub, data_, sig));
    const Bytes multi = SignMultiPart(s, &hashed, kp.priv, data_, 100);
    EXPECT_TRUE(
        VerifyRsaPss(pub.get(), h.md(), h.md(), static_cast<int>(salt), data_, multi, false));
    EXPECT_CKR(CKR_OK, VerifyOnTokenMultiPart(s, &hashed, kp.pub, data_, multi));

    CK_MECHANISM raw{CKM_RSA_PKCS_PSS, &params, sizeof params};
    const Bytes hash = Digest(h.md(), data_);
    sig = Sign(s, &raw, kp.priv, hash);
    EXPECT_TRUE(VerifyRsaPss(pub.get(), h.md(), h.md(), static_cast<int>(salt), hash, sig, true));
    EXPECT_CKR(CKR_OK, VerifyOnToken(s, &raw, kp.pub, hash, sig));
    if (sig.empty()) {
      continue;
    }
    sig[0] ^= 0x40;
    EXPECT_CKR(CKR_SIGNATURE_INVALID, VerifyOnToken(s, &raw, kp.pub, hash, sig));
  }
  // Zero salt is valid PSS.
  CK_RSA_PKCS_PSS_PARAMS zero_salt{CKM_SHA256, CKG_MGF1_SHA256, 0};
  CK_MECHANISM zero_salt_mech{CKM_SHA256_RSA_PKCS_PSS, &zero_salt, sizeof zero_salt};
  if (IsPlatformSlot(kUserSlot)) {
    // A TPM chooses the salt length itself (the digest length): it cannot honour sLen 0, and
    // the module refuses rather than return a signature with another salt length.
    CK_RV zero_rv = CKR_OK;
    EXPECT_TRUE(Sign(s, &zero_salt_mech, kp.priv, data_, &zero_rv).empty());
    EXPECT_CKR(CKR_MECHANISM_INVALID, zero_rv);
  } else {
    EXPECT_TRUE(VerifyRsaPss(pub.get(), EVP_sha256(), EVP_sha256(), 0, data_,
                             Sign(s, &zero_salt_mech, kp.priv, data_), false));
  }
  // An MGF1 hash other than the message hash: CNG's BCRYPT_PSS_PADDING_INFO cannot express
  // it, so a clean refusal is acceptable; a signature, if made, must be right.
  CK_RSA_PKCS_PSS_PARAMS mixed{CKM_SHA256, CKG_MGF1_SHA1, 32};
  CK_MECHANISM mixed_mech{CKM_SHA256_RSA_PKCS_PSS, &mixed, sizeof mixed};
  CK_RV rv = CKR_OK;
  const Bytes mixed_sig = Sign(s, &mixed_mech, kp.priv, data_, &rv);
  EXPECT_CKR_ONE_OF(rv, CKR_OK, CKR_MECHANISM_PARAM_INVALID);
  if (rv == CKR_OK) {
    EXPECT_TRUE(VerifyRsaPss(pub.get(), EVP_sha256(), EVP_sha1(), 32, data_, mixed_sig, false));
  }
}

TEST_F(SignTest, RsaPssParameterErrors) {
  const CK_SESSION_HANDLE s = OpenSession();
  const KeyPair kp = GenerateRsa(s, 2048);
  ASSERT_TRUE(kp.ok());
  CK_MECHANISM no_params{CKM_SHA256_RSA_PKCS_PSS, nullptr, 0};
  EXPECT_CKR(CKR_MECHANISM_PARAM_INVALID, f_->C_SignInit(s, &no_params, kp.priv));
  CK_RSA_PKCS_PSS_PARAMS mismatched{CKM_SHA384, CKG_MGF1_SHA384, 48};
  CK_MECHANISM hash_mismatch{CKM_SHA256_RSA_PKCS_PSS, &mismatched, sizeof mismatched};
  EXPECT_CKR(CKR_MECHANISM_PARAM_INVALID, f_->C_SignInit(s, &hash_mismatch, kp.priv));
  CK_RSA_PKCS_PSS_PARAMS ok{CKM_SHA256, CKG_MGF1_SHA256, 32};
  CK_MECHANISM short_len{CKM_RSA_PKCS_PSS, &ok, sizeof ok - 1};
  EXPECT_CKR(CKR_MECHANISM_PARAM_INVALID, f_->C_SignInit(s, &short_len, kp.priv));
  CK_RSA_PKCS_PSS_PARAMS bad_mgf{CKM_SHA256, 0x7777, 32};
  CK_MECHANISM mgf{CKM_RSA_PKCS_PSS, &bad_mgf, sizeof bad_mgf};
  EXPECT_CKR(CKR_MECHANISM_PARAM_INVALID, f_->C_SignInit(s, &mgf, kp.priv));
  // Raw PSS with a "hash" of the wrong length.
  CK_MECHANISM raw{CKM_RSA_PKCS_PSS, &ok, sizeof ok};
  CK_RV rv = CKR_OK;
  Sign(s, &raw, kp.priv, Bytes(20, 1), &rv);
  EXPECT_CKR(CKR_DATA_LEN_RANGE, rv);
}

TEST_F(SignTest, EcdsaEveryCurveEveryHash) {
  const CK_SESSION_HANDLE s = OpenSession();
  const std::pair<Bytes, size_t> curves[] = {
      {EcParamsP256(), 64}, {EcParamsP384(), 96}, {EcParamsP521(), 132}};
  for (const auto& [params, sig_len] : curves) {
    SCOPED_TRACE(CurveName(params));
    const KeyPair kp = GenerateEc(s, params);
    ASSERT_TRUE(kp.ok());
    PKey pub = PublicOf(s, kp);
    ASSERT_NE(pub, nullptr);
    CK_MECHANISM raw{CKM_ECDSA, nullptr, 0};
    for (const HashCase& h : kHashes) {
      SCOPED_TRACE(h.name);
      CK_MECHANISM mech{h.ecdsa, nullptr, 0};
      const Bytes sig = Sign(s, &mech, kp.priv, data_);
      EXPECT_EQ(sig.size(), sig_len) << "ECDSA signature is r||s, each the field size";
      EXPECT_TRUE(VerifyEcdsa(pub.get(), h.md(), data_, sig, false));
      const Bytes multi = SignMultiPart(s, &mech, kp.priv, data_, 100);
      EXPECT_TRUE(VerifyEcdsa(pub.get(), h.md(), data_, multi, false));
      EXPECT_CKR(CKR_OK, VerifyOnToken(s, &mech, kp.pub, data_, sig));
      EXPECT_CKR(CKR_OK, VerifyOnTokenMultiPart(s, &mech, kp.pub, data_, multi));
      const Bytes hash = Digest(h.md(), data_);
      const Bytes raw_sig = Sign(s, &raw, kp.priv, hash);
      EXPECT_EQ(raw_sig.size(), sig_len);
      EXPECT_TRUE(VerifyEcdsa(pub.get(), nullptr, hash, raw_sig, true));
      EXPECT_CKR(CKR_OK, VerifyOnToken(s, &raw, kp.pub, hash, raw_sig));
      if (raw_sig.size() != sig_len) {
        continue;
      }
      Bytes bad = raw_sig;
      bad[sig_len - 1] ^= 1;
      EXPECT_CKR(CKR_SIGNATURE_INVALID, VerifyOnToken(s, &raw, kp.pub, hash, bad));
    }
    Bytes hash(32, 9);
    Bytes wrong_len(sig_len - 2, 1);
    EXPECT_CKR_ONE_OF(VerifyOnToken(s, &raw, kp.pub, hash, wrong_len), CKR_SIGNATURE_LEN_RANGE,
                      CKR_SIGNATURE_INVALID);
  }
}

TEST_F(SignTest, SizeQueryAndBufferTooSmallKeepOperationActive) {
  const CK_SESSION_HANDLE s = OpenSession();
  const KeyPair kp = GenerateRsa(s, 2048);
  ASSERT_TRUE(kp.ok());
  CK_MECHANISM mech{CKM_SHA256_RSA_PKCS, nullptr, 0};
  Bytes data = data_;
  const auto dlen = static_cast<CK_ULONG>(data.size());
  ASSERT_CKR(CKR_OK, f_->C_SignInit(s, &mech, kp.priv));
  EXPECT_CKR(CKR_OPERATION_ACTIVE, f_->C_SignInit(s, &mech, kp.priv));
  // Any error other than CKR_BUFFER_TOO_SMALL ends the operation (PKCS#11 §5.11 C_Sign).
  EXPECT_CKR(CKR_ARGUMENTS_BAD, f_->C_Sign(s, data.data(), dlen, nullptr, nullptr));
  CK_ULONG len = 0;
  EXPECT_CKR(CKR_OPERATION_NOT_INITIALIZED, f_->C_Sign(s, data.data(), dlen, nullptr, &len));
  ASSERT_CKR(CKR_OK, f_->C_SignInit(s, &mech, kp.priv));
  ASSERT_CKR(CKR_OK, f_->C_Sign(s, data.data(), dlen, nullptr, &len));
  EXPECT_EQ(len, 256u);
  Bytes sig(len);
  CK_ULONG small = 10;
  EXPECT_CKR(CKR_BUFFER_TOO_SMALL, f_->C_Sign(s, data.data(), dlen, sig.data(), &small));
  EXPECT_EQ(small, 256u);
  ASSERT_CKR(CKR_OK, f_->C_Sign(s, data.data(), dlen, sig.data(), &len));
  EXPECT_EQ(len, 256u);
  // Finished: the operation is gone.
  EXPECT_CKR(CKR_OPERATION_NOT_INITIALIZED, f_->C_Sign(s, data.data(), dlen, sig.data(), &len));
  EXPECT_CKR(CKR_OPERATION_NOT_INITIALIZED, f_->C_SignUpdate(s, data.data(), dlen));
  EXPECT_CKR(CKR_OPERATION_NOT_INITIALIZED, f_->C_SignFinal(s, sig.data(), &len));
  EXPECT_CKR(CKR_OPERATION_NOT_INITIALIZED, f_->C_Verify(s, data.data(), dlen, sig.data(), len));
  EXPECT_CKR(CKR_OPERATION_NOT_INITIALIZED, f_->C_VerifyFinal(s, sig.data(), len));

  // Same for SignFinal.
  ASSERT_CKR(CKR_OK, f_->C_SignInit(s, &mech, kp.priv));
  ASSERT_CKR(CKR_OK, f_->C_SignUpdate(s, data.data(), dlen));
  len = 0;
  ASSERT_CKR(CKR_OK, f_->C_SignFinal(s, nullptr, &len));
  small = 1;
  EXPECT_CKR(CKR_BUFFER_TOO_SMALL, f_->C_SignFinal(s, sig.data(), &small));
  ASSERT_CKR(CKR_OK, f_->C_SignFinal(s, sig.data(), &len));
  EXPECT_CKR(CKR_OPERATION_NOT_INITIALIZED, f_->C_SignFinal(s, sig.data(), &len));
  // After single-part use of an update-started operation the spec says C_Sign is refused.
  ASSERT_CKR(CKR_OK, f_->C_SignInit(s, &mech, kp.priv));
  ASSERT_CKR(CKR_OK, f_->C_SignUpdate(s, data.data(), dlen));
  EXPECT_CKR_ONE_OF(f_->C_Sign(s, data.data(), dlen, sig.data(), &len), CKR_OPERATION_ACTIVE,
                    CKR_FUNCTION_FAILED, CKR_OPERATION_NOT_INITIALIZED);
}

TEST_F(SignTest, SignInitCancelWithNullMechanism) {
  const CK_SESSION_HANDLE s = OpenSession();
  const KeyPair kp = GenerateEc(s, EcParamsP256());
  ASSERT_TRUE(kp.ok());
  CK_MECHANISM mech{CKM_ECDSA_SHA256, nullptr, 0};
  ASSERT_CKR(CKR_OK, f_->C_SignInit(s, &mech, kp.priv));
  // PKCS#11 3.0: C_SignInit with a NULL mechanism terminates an active operation.
  EXPECT_CKR(CKR_OK, f_->C_SignInit(s, nullptr, kp.priv));
  EXPECT_CKR(CKR_OK, f_->C_SignInit(s, &mech, kp.priv));
}

TEST_F(SignTest, KeyAndMechanismMismatches) {
  const CK_SESSION_HANDLE s = OpenSession();
  const KeyPair rsa = GenerateRsa(s, 2048);
  const KeyPair ec = GenerateEc(s, EcParamsP256());
  const KeyPair no_sign = GenerateEc(s, EcParamsP256(), {.sign = false});
  ASSERT_TRUE(rsa.ok() && ec.ok() && no_sign.ok());
  CK_MECHANISM ecdsa{CKM_ECDSA_SHA256, nullptr, 0};
  CK_MECHANISM rsa_pkcs{CKM_SHA256_RSA_PKCS, nullptr, 0};
  EXPECT_CKR(CKR_KEY_TYPE_INCONSISTENT, f_->C_SignInit(s, &ecdsa, rsa.priv));
  EXPECT_CKR(CKR_KEY_TYPE_INCONSISTENT, f_->C_SignInit(s, &rsa_pkcs, ec.priv));
  EXPECT_CKR(CKR_KEY_FUNCTION_NOT_PERMITTED, f_->C_SignInit(s, &ecdsa, no_sign.priv));
  EXPECT_CKR_ONE_OF(f_->C_SignInit(s, &ecdsa, ec.pub), CKR_KEY_TYPE_INCONSISTENT,
                    CKR_KEY_FUNCTION_NOT_PERMITTED);
  CK_MECHANISM digest_only{CKM_SHA256, nullptr, 0};
  EXPECT_CKR(CKR_MECHANISM_INVALID, f_->C_SignInit(s, &digest_only, ec.priv));
  CK_MECHANISM derive_only{CKM_ECDH1_DERIVE, nullptr, 0};
  EXPECT_CKR(CKR_MECHANISM_INVALID, f_->C_SignInit(s, &derive_only, ec.priv));
  CK_MECHANISM oaep_only{CKM_RSA_PKCS_OAEP, nullptr, 0};
  EXPECT_CKR_ONE_OF(f_->C_SignInit(s, &oaep_only, rsa.priv), CKR_MECHANISM_INVALID,
                    CKR_MECHANISM_PARAM_INVALID);
  CK_MECHANISM unknown{kUnknownMechanism, nullptr, 0};
  EXPECT_CKR(CKR_MECHANISM_INVALID, f_->C_SignInit(s, &unknown, ec.priv));
  EXPECT_CKR(CKR_KEY_HANDLE_INVALID, f_->C_SignInit(s, &ecdsa, 0x7FFF1234));
  EXPECT_CKR(CKR_KEY_HANDLE_INVALID, f_->C_VerifyInit(s, &ecdsa, 0x7FFF1234));
  EXPECT_CKR(CKR_SESSION_HANDLE_INVALID, f_->C_SignInit(0x7FFF1234, &ecdsa, ec.priv));
  EXPECT_CKR(CKR_KEY_TYPE_INCONSISTENT, f_->C_VerifyInit(s, &ecdsa, rsa.pub));
  // None of the failures left an operation behind.
  EXPECT_CKR(CKR_OK, f_->C_SignInit(s, &ecdsa, ec.priv));
}

TEST_F(SignTest, SignRecoverIsRefusedCleanly) {
  const CK_SESSION_HANDLE s = OpenSession();
  const KeyPair kp = GenerateEc(s, EcParamsP256());
  ASSERT_TRUE(kp.ok());
  CK_MECHANISM mech{CKM_ECDSA, nullptr, 0};
  EXPECT_CKR_ONE_OF(f_->C_SignRecoverInit(s, &mech, kp.priv), CKR_FUNCTION_NOT_SUPPORTED,
                    CKR_MECHANISM_INVALID);
  EXPECT_CKR_ONE_OF(f_->C_VerifyRecoverInit(s, &mech, kp.pub), CKR_FUNCTION_NOT_SUPPORTED,
                    CKR_MECHANISM_INVALID);
}

}  // namespace
}  // namespace conf

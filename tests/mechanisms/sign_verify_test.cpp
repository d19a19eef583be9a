// Every sign mechanism: signatures made through NCrypt verify with plain OpenSSL and with our
// verify operations; multi-part equals single-part; input-length and signature errors.
#include <openssl/rsa.h>

#include <cstring>

#include "mech_test_support.h"

namespace mechtest {
namespace {

using p11::OpKind;

struct HashCase {
  CK_MECHANISM_TYPE rsa_pkcs;
  CK_MECHANISM_TYPE rsa_pss;  // 0: none (SHA-224)
  CK_MECHANISM_TYPE ecdsa;
  CK_MECHANISM_TYPE digest;
  CK_RSA_PKCS_MGF_TYPE mgf;
  const char* md_name;
};

const HashCase kHashes[] = {
    {CKM_SHA1_RSA_PKCS, CKM_SHA1_RSA_PKCS_PSS, CKM_ECDSA_SHA1, CKM_SHA_1, CKG_MGF1_SHA1, "SHA1"},
    {CKM_SHA224_RSA_PKCS, 0, CKM_ECDSA_SHA224, CKM_SHA224, CKG_MGF1_SHA224, "SHA224"},
    {CKM_SHA256_RSA_PKCS, CKM_SHA256_RSA_PKCS_PSS, CKM_ECDSA_SHA256, CKM_SHA256, CKG_MGF1_SHA256,
     "SHA256"},
    {CKM_SHA384_RSA_PKCS, CKM_SHA384_RSA_PKCS_PSS, CKM_ECDSA_SHA384, CKM_SHA384, CKG_MGF1_SHA384,
     "SHA384"},
    {CKM_SHA512_RSA_PKCS, CKM_SHA512_RSA_PKCS_PSS, CKM_ECDSA_SHA512, CKM_SHA512, CKG_MGF1_SHA512,
     "SHA512"},
};

// Feeds data in three uneven parts through update(), then final().
Bytes sign_multipart(const CK_MECHANISM& m, const p11::KeyView& key, const Bytes& data) {
  auto op = p11::start_operation(OpKind::kSign, m, &key, software_caps());
  EXPECT_TRUE(op->multi_part());
  const std::size_t a = data.size() / 3;
  const std::size_t b = data.size() / 2;
  op->update({data.data(), a});
  op->update({data.data() + a, b - a});
  op->update({data.data() + b, data.size() - b});
  return op->final();
}

CK_RV verify_multipart(const CK_MECHANISM& m, const p11::KeyView& key, const Bytes& data,
                       const Bytes& sig) {
  return rv_of([&] {
    auto op = p11::start_operation(OpKind::kVerify, m, &key, software_caps());
    op->update({data.data(), data.size() / 2});
    op->update({data.data() + data.size() / 2, data.size() - data.size() / 2});
    op->verify_final(sig);
  });
}

Bytes flipped(Bytes b, std::size_t at = 7) {
  b[at] ^= 0x01;
  return b;
}

TEST(RsaPkcsSign, HashCombinedVerifiesWithOpenSslAndOurVerify) {
  const TestKey& key = rsa2048();
  const Bytes data = random_bytes(1000);
  for (const HashCase& h : kHashes) {
    SCOPED_TRACE(h.md_name);
    const CK_MECHANISM m = mechanism(h.rsa_pkcs);
    const Bytes sig = sign(m, key.private_view(), data);
    ASSERT_EQ(sig.size(), 256U);
    EXPECT_TRUE(openssl_verify_pkcs1(key.pub.get(), h.md_name, data, sig));
    EXPECT_EQ(verify(m, key.public_view(), data, sig), CKR_OK);
    EXPECT_EQ(verify_multipart(m, key.public_view(), data, sig), CKR_OK);
    // PKCS#1 v1.5 is deterministic: multi-part must give the very same signature.
    EXPECT_EQ(sign_multipart(m, key.private_view(), data), sig);
    EXPECT_EQ(verify(m, key.public_view(), data, flipped(sig)), CKR_SIGNATURE_INVALID);
    EXPECT_EQ(verify(m, key.public_view(), flipped(data), sig), CKR_SIGNATURE_INVALID);
  }
}

TEST(RsaPkcsSign, RawDigestInfoSignsAsIs) {
  const TestKey& key = rsa2048();
  const Bytes data = random_bytes(77);
  const CK_MECHANISM m = mechanism(CKM_RSA_PKCS);
  for (const char* md_name : {"SHA1", "SHA256", "SHA512"}) {
    SCOPED_TRACE(md_name);
    const Bytes sig = sign(m, key.private_view(), digest_info(md_name, data));
    EXPECT_TRUE(openssl_verify_pkcs1(key.pub.get(), md_name, data, sig));
    EXPECT_EQ(verify(m, key.public_view(), digest_info(md_name, data), sig), CKR_OK);
    // Same as the hash-combined mechanism.
    const CK_MECHANISM combined =
        mechanism(std::string(md_name) == "SHA1"     ? CKM_SHA1_RSA_PKCS
                  : std::string(md_name) == "SHA256" ? CKM_SHA256_RSA_PKCS
                                                     : CKM_SHA512_RSA_PKCS);
    EXPECT_EQ(sign(combined, key.private_view(), data), sig);
  }
}

TEST(RsaPkcsSign, InputLengthLimitIsModulusMinus11) {
  const TestKey& key = rsa2048();
  const CK_MECHANISM m = mechanism(CKM_RSA_PKCS);
  EXPECT_NO_THROW(static_cast<void>(sign(m, key.private_view(), random_bytes(256 - 11))));
  EXPECT_EQ(rv_of([&] { sign(m, key.private_view(), random_bytes(256 - 10)); }),
            CKR_DATA_LEN_RANGE);
  const Bytes data = random_bytes(256 - 10);
  EXPECT_EQ(verify(m, key.public_view(), data, Bytes(256, 1)), CKR_DATA_LEN_RANGE);
}

TEST(RsaPkcsSign, SinglePartMechanismRefusesUpdateAndFinal) {
  const TestKey& key = rsa2048();
  const p11::KeyView view = key.private_view();
  const CK_MECHANISM m = mechanism(CKM_RSA_PKCS);
  auto op = p11::start_operation(OpKind::kSign, m, &view, software_caps());
  EXPECT_FALSE(op->multi_part());
  EXPECT_EQ(rv_of([&] { op->update(Bytes{1, 2, 3}); }), CKR_OPERATION_NOT_INITIALIZED);
  EXPECT_EQ(rv_of([&] { static_cast<void>(op->final()); }), CKR_OPERATION_NOT_INITIALIZED);
}

TEST(RsaPkcsVerify, WrongSignatureLengthIsLenRange) {
  const TestKey& key = rsa2048();
  const Bytes data = random_bytes(40);
  const CK_MECHANISM m = mechanism(CKM_SHA256_RSA_PKCS);
  Bytes sig = sign(m, key.private_view(), data);
  sig.pop_back();
  EXPECT_EQ(verify(m, key.public_view(), data, sig), CKR_SIGNATURE_LEN_RANGE);
  sig.resize(300);
  EXPECT_EQ(verify(m, key.public_view(), data, sig), CKR_SIGNATURE_LEN_RANGE);
  EXPECT_EQ(verify(m, key.public_view(), data, {}), CKR_SIGNATURE_LEN_RANGE);
}

TEST(RsaPssSign, RawDigestEveryHashAndSaltLength) {
  const TestKey& key = rsa2048();
  for (const HashCase& h : kHashes) {
    if (h.rsa_pss == 0) {
      continue;
    }
    const Bytes hash = digest(h.md_name, random_bytes(100));
    for (CK_ULONG salt : {CK_ULONG{0}, CK_ULONG{20}, CK_ULONG{hash.size()}}) {
      SCOPED_TRACE(std::string(h.md_name) + " salt " + std::to_string(salt));
      CK_RSA_PKCS_PSS_PARAMS params{h.digest, h.mgf, salt};
      const CK_MECHANISM m = mechanism(CKM_RSA_PKCS_PSS, &params, sizeof(params));
      const Bytes sig = sign(m, key.private_view(), hash);
      EXPECT_TRUE(openssl_verify_pss(key.pub.get(), h.md_name, static_cast<int>(salt), hash, sig));
      EXPECT_EQ(verify(m, key.public_view(), hash, sig), CKR_OK);
      EXPECT_EQ(verify(m, key.public_view(), hash, flipped(sig)), CKR_SIGNATURE_INVALID);
    }
  }
}

TEST(RsaPssSign, HashCombinedMultiPart) {
  const TestKey& key = rsa2048();
  const Bytes data = random_bytes(3000);
  for (const HashCase& h : kHashes) {
    if (h.rsa_pss == 0) {
      continue;
    }
    SCOPED_TRACE(h.md_name);
    const auto salt = static_cast<CK_ULONG>(EVP_MD_get_size(md(h.md_name)));
    CK_RSA_PKCS_PSS_PARAMS params{h.digest, h.mgf, salt};
    const CK_MECHANISM m = mechanism(h.rsa_pss, &params, sizeof(params));
    const Bytes one = sign(m, key.private_view(), data);
    const Bytes multi = sign_multipart(m, key.private_view(), data);
    for (const Bytes* sig : {&one, &multi}) {
      EXPECT_TRUE(openssl_verify_pss(key.pub.get(), h.md_name, static_cast<int>(salt),
                                     digest(h.md_name, data), *sig));
      EXPECT_EQ(verify(m, key.public_view(), data, *sig), CKR_OK);
      EXPECT_EQ(verify_multipart(m, key.public_view(), data, *sig), CKR_OK);
    }
  }
}

TEST(RsaPssSign, InputMustBeOneDigest) {
  const TestKey& key = rsa2048();
  CK_RSA_PKCS_PSS_PARAMS params{CKM_SHA256, CKG_MGF1_SHA256, 32};
  const CK_MECHANISM m = mechanism(CKM_RSA_PKCS_PSS, &params, sizeof(params));
  EXPECT_EQ(rv_of([&] { sign(m, key.private_view(), random_bytes(31)); }), CKR_DATA_LEN_RANGE);
  EXPECT_EQ(rv_of([&] { sign(m, key.private_view(), random_bytes(48)); }), CKR_DATA_LEN_RANGE);
  EXPECT_EQ(verify(m, key.public_view(), random_bytes(20), Bytes(256, 1)), CKR_DATA_LEN_RANGE);
}

TEST(RsaPssParams, Errors) {
  const TestKey& key = rsa2048();
  const p11::KeyView view = key.private_view();
  auto start = [&](CK_MECHANISM_TYPE type, void* p, CK_ULONG len) {
    return rv_of([&] {
      const CK_MECHANISM m = mechanism(type, p, len);
      static_cast<void>(p11::start_operation(OpKind::kSign, m, &view, software_caps()));
    });
  };
  CK_RSA_PKCS_PSS_PARAMS good{CKM_SHA256, CKG_MGF1_SHA256, 32};
  EXPECT_EQ(start(CKM_RSA_PKCS_PSS, &good, sizeof(good)), CKR_OK);
  EXPECT_EQ(start(CKM_RSA_PKCS_PSS, nullptr, 0), CKR_MECHANISM_PARAM_INVALID);
  EXPECT_EQ(start(CKM_RSA_PKCS_PSS, nullptr, sizeof(good)), CKR_MECHANISM_PARAM_INVALID);
  EXPECT_EQ(start(CKM_RSA_PKCS_PSS, &good, sizeof(good) - 1), CKR_MECHANISM_PARAM_INVALID);
  EXPECT_EQ(start(CKM_SHA256_RSA_PKCS_PSS, nullptr, 0), CKR_MECHANISM_PARAM_INVALID);
  CK_RSA_PKCS_PSS_PARAMS mgf_mismatch{CKM_SHA256, CKG_MGF1_SHA1, 32};
  EXPECT_EQ(start(CKM_RSA_PKCS_PSS, &mgf_mismatch, sizeof(good)), CKR_MECHANISM_PARAM_INVALID);
  CK_RSA_PKCS_PSS_PARAMS sha224{CKM_SHA224, CKG_MGF1_SHA224, 28};  // no CNG SHA-224
  EXPECT_EQ(start(CKM_RSA_PKCS_PSS, &sha224, sizeof(good)), CKR_MECHANISM_PARAM_INVALID);
  CK_RSA_PKCS_PSS_PARAMS not_a_hash{CKM_RSA_PKCS, CKG_MGF1_SHA256, 32};
  EXPECT_EQ(start(CKM_RSA_PKCS_PSS, &not_a_hash, sizeof(good)), CKR_MECHANISM_PARAM_INVALID);
  CK_RSA_PKCS_PSS_PARAMS other_hash{CKM_SHA384, CKG_MGF1_SHA384, 48};
  EXPECT_EQ(start(CKM_SHA256_RSA_PKCS_PSS, &other_hash, sizeof(good)), CKR_MECHANISM_PARAM_INVALID);
  // 2048-bit key: emLen 256, so sLen ≤ 256 − 32 − 2 = 222.
  CK_RSA_PKCS_PSS_PARAMS max_salt{CKM_SHA256, CKG_MGF1_SHA256, 222};
  EXPECT_EQ(start(CKM_RSA_PKCS_PSS, &max_salt, sizeof(good)), CKR_OK);
  CK_RSA_PKCS_PSS_PARAMS big_salt{CKM_SHA256, CKG_MGF1_SHA256, 223};
  EXPECT_EQ(start(CKM_RSA_PKCS_PSS, &big_salt, sizeof(good)), CKR_MECHANISM_PARAM_INVALID);
}

TEST(RsaPssParams, UnalignedParameterIsReadSafely) {
  const TestKey& key = rsa2048();
  const p11::KeyView view = key.private_view();
  CK_RSA_PKCS_PSS_PARAMS params{CKM_SHA256, CKG_MGF1_SHA256, 32};
  std::vector<std::uint8_t> storage(sizeof(params) + 1);
  std::memcpy(storage.data() + 1, &params, sizeof(params));
  const CK_MECHANISM m = mechanism(CKM_RSA_PKCS_PSS, storage.data() + 1, sizeof(params));
  const Bytes hash = digest("SHA256", Bytes{1, 2, 3});
  auto op = p11::start_operation(OpKind::kSign, m, &view, software_caps());
  EXPECT_TRUE(openssl_verify_pss(key.pub.get(), "SHA256", 32, hash, op->one_shot(hash)));
}

class EcdsaTest : public ::testing::TestWithParam<CK_ULONG> {};

TEST_P(EcdsaTest, RawDigestOfAnyLength) {
  const TestKey& key = ec_key(GetParam());
  const std::size_t field = (GetParam() + 7) / 8;
  const CK_MECHANISM m = mechanism(CKM_ECDSA);
  // Shorter, equal and longer than the field (longer is truncated, as OpenSSL does).
  for (std::size_t len : {std::size_t{20}, field, std::size_t{64}, std::size_t{100}}) {
    SCOPED_TRACE(len);
    const Bytes hash = random_bytes(len);
    const Bytes sig = sign(m, key.private_view(), hash);
    ASSERT_EQ(sig.size(), 2 * field);
    EXPECT_TRUE(openssl_verify_ecdsa(key.pub.get(), hash, sig));
    EXPECT_EQ(verify(m, key.public_view(), hash, sig), CKR_OK);
    EXPECT_EQ(verify(m, key.public_view(), flipped(hash, 0), sig), CKR_SIGNATURE_INVALID);
    EXPECT_EQ(verify(m, key.public_view(), hash, flipped(sig, 3)), CKR_SIGNATURE_INVALID);
    EXPECT_EQ(verify(m, key.public_view(), hash, Bytes(sig.begin(), sig.end() - 1)),
              CKR_SIGNATURE_LEN_RANGE);
  }
}

TEST_P(EcdsaTest, HashCombinedMultiPart) {
  const TestKey& key = ec_key(GetParam());
  const Bytes data = random_bytes(2049);
  for (const HashCase& h : kHashes) {
    SCOPED_TRACE(h.md_name);
    const CK_MECHANISM m = mechanism(h.ecdsa);
    const Bytes one = sign(m, key.private_view(), data);
    const Bytes multi = sign_multipart(m, key.private_view(), data);
    for (const Bytes* sig : {&one, &multi}) {
      EXPECT_TRUE(openssl_verify_ecdsa(key.pub.get(), digest(h.md_name, data), *sig));
      EXPECT_EQ(verify(m, key.public_view(), data, *sig), CKR_OK);
      EXPECT_EQ(verify_multipart(m, key.public_view(), data, *sig), CKR_OK);
      EXPECT_EQ(verify(m, key.public_view(), flipped(data), *sig), CKR_SIGNATURE_INVALID);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Curves, EcdsaTest, ::testing::Values(256, 384, 521));

TEST(Operation, FinishedOperationRefusesMore) {
  const TestKey& key = rsa2048();
  const p11::KeyView view = key.private_view();
  const CK_MECHANISM m = mechanism(CKM_SHA256_RSA_PKCS);
  auto op = p11::start_operation(OpKind::kSign, m, &view, software_caps());
  static_cast<void>(op->one_shot(Bytes{1}));
  EXPECT_EQ(rv_of([&] { op->update(Bytes{1}); }), CKR_OPERATION_NOT_INITIALIZED);
  EXPECT_EQ(rv_of([&] { static_cast<void>(op->final()); }), CKR_OPERATION_NOT_INITIALIZED);
  const CK_MECHANISM raw = mechanism(CKM_ECDSA);
  const p11::KeyView ec = ec_key(256).private_view();
  auto raw_op = p11::start_operation(OpKind::kSign, raw, &ec, software_caps());
  static_cast<void>(raw_op->one_shot(Bytes(32, 1)));
  EXPECT_EQ(rv_of([&] { static_cast<void>(raw_op->one_shot(Bytes(32, 1))); }),
            CKR_OPERATION_NOT_INITIALIZED);
}

}  // namespace
}  // namespace mechtest

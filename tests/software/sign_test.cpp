// Signing and verification: PKCS#1 v1.5 (hashed and raw DigestInfo), PSS, ECDSA; every
// signature is also checked by plain OpenSSL on a key rebuilt from the public blob.
#include <gtest/gtest.h>
#include <openssl/rsa.h>

#include "bcrypt.h"
#include "test_support.h"

namespace cng_test {
namespace {

using cng::Curve;
using cng::HashId;
using cng::KeyAlgorithm;
using cng::SignPadding;

struct HashCase {
  HashId id;
  const char* name;
};
constexpr HashCase kHashes[] = {{HashId::kMd5, "MD5"},
                                {HashId::kSha1, "SHA1"},
                                {HashId::kSha256, "SHA256"},
                                {HashId::kSha384, "SHA384"},
                                {HashId::kSha512, "SHA512"}};

// Plain OpenSSL verification. md nullptr: raw PKCS#1 / ECDSA without a digest binding.
bool openssl_verify(EVP_PKEY* pub, int padding, const char* md, int salt, ByteView tbs,
                    ByteView sig) {
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_pkey(nullptr, pub, nullptr);
  bool ok = ctx != nullptr && EVP_PKEY_verify_init(ctx) == 1;
  if (ok && padding != 0) {
    ok = EVP_PKEY_CTX_set_rsa_padding(ctx, padding) == 1;
    if (ok && md != nullptr) {
      ok = EVP_PKEY_CTX_set_signature_md(ctx, EVP_get_digestbyname(md)) == 1;
    }
    if (ok && padding == RSA_PKCS1_PSS_PADDING) {
      ok = EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx, salt) == 1;
    }
  }
  ok = ok && EVP_PKEY_verify(ctx, sig.data(), sig.size(), tbs.data(), tbs.size()) == 1;
  EVP_PKEY_CTX_free(ctx);
  return ok;
}

TEST(SoftwareSign, RsaPkcs1WithEachHash) {
  const auto key = shared_rsa(1024);
  const Pkey pub = pkey_from_public_blob(key->public_blob());
  const Bytes message = random_bytes(100);
  for (const auto& h : kHashes) {
    const Bytes hash = digest(h.name, message);
    const SignPadding pad{NCRYPT_PAD_PKCS1_FLAG, h.id, 0};
    const Bytes sig = key->sign_hash(pad, hash);
    ASSERT_EQ(sig.size(), 128U) << h.name;
    EXPECT_NO_THROW(key->verify_signature(pad, hash, sig)) << h.name;
    EXPECT_TRUE(openssl_verify(pub.get(), RSA_PKCS1_PADDING, h.name, 0, hash, sig)) << h.name;
    // PKCS#1 v1.5 is deterministic: the raw form over the DigestInfo gives the same bytes.
    const Bytes info = digest_info(h.name, hash);
    const SignPadding raw{NCRYPT_PAD_PKCS1_FLAG, HashId::kNone, 0};
    EXPECT_EQ(key->sign_hash(raw, info), sig) << h.name;
    EXPECT_NO_THROW(key->verify_signature(raw, info, sig)) << h.name;
  }
}

TEST(SoftwareSign, RsaPkcs1RawInputLimits) {
  const auto key = shared_rsa(1024);
  const SignPadding raw{NCRYPT_PAD_PKCS1_FLAG, HashId::kNone, 0};
  const Bytes fits = random_bytes(128 - 11);
  const Bytes sig = key->sign_hash(raw, fits);
  const Pkey pub = pkey_from_public_blob(key->public_blob());
  EXPECT_TRUE(openssl_verify(pub.get(), RSA_PKCS1_PADDING, nullptr, 0, fits, sig));
  EXPECT_EQ(status_of([&] { (void)key->sign_hash(raw, random_bytes(128 - 10)); }),
            NTE_INVALID_PARAMETER);
}

TEST(SoftwareSign, RsaPssWithSeveralSalts) {
  const auto key = shared_rsa(2048);
  const Pkey pub = pkey_from_public_blob(key->public_blob());
  const Bytes hash = digest("SHA256", random_bytes(64));
  // emLen = 256: the largest salt is 256 - 32 - 2 = 222.
  for (const DWORD salt : {0U, 20U, 32U, 64U, 222U}) {
    const SignPadding pad{NCRYPT_PAD_PSS_FLAG, HashId::kSha256, salt};
    const Bytes sig = key->sign_hash(pad, hash);
    EXPECT_NO_THROW(key->verify_signature(pad, hash, sig)) << salt;
    EXPECT_TRUE(openssl_verify(pub.get(), RSA_PKCS1_PSS_PADDING, "SHA256", static_cast<int>(salt),
                               hash, sig))
        << salt;
    if (salt > 0) {
      const SignPadding other{NCRYPT_PAD_PSS_FLAG, HashId::kSha256, salt - 1};
      EXPECT_EQ(status_of([&] { key->verify_signature(other, hash, sig); }), NTE_BAD_SIGNATURE);
    }
  }
  const SignPadding too_long{NCRYPT_PAD_PSS_FLAG, HashId::kSha256, 223};
  EXPECT_EQ(status_of([&] { (void)key->sign_hash(too_long, hash); }), NTE_INVALID_PARAMETER);
  const SignPadding sha512{NCRYPT_PAD_PSS_FLAG, HashId::kSha512, 64};
  const Bytes h512 = digest("SHA512", hash);
  EXPECT_TRUE(openssl_verify(pub.get(), RSA_PKCS1_PSS_PADDING, "SHA512", 64, h512,
                             key->sign_hash(sha512, h512)));
  const SignPadding no_hash{NCRYPT_PAD_PSS_FLAG, HashId::kNone, 32};
  EXPECT_EQ(status_of([&] { (void)key->sign_hash(no_hash, hash); }), NTE_INVALID_PARAMETER);
}

TEST(SoftwareSign, EcdsaOnEachCurveIsFixedLengthRs) {
  for (const auto curve : {Curve::kP256, Curve::kP384, Curve::kP521}) {
    const auto key = shared_ec(KeyAlgorithm::kEcdsa, curve);
    const Pkey pub = pkey_from_public_blob(key->public_blob());
    const std::size_t field = (cng::curve_bits(curve) + 7) / 8;
    for (const auto& h : kHashes) {
      const Bytes hash = digest(h.name, random_bytes(32));
      // Several signatures: r or s with leading zero bytes must still be padded.
      for (int i = 0; i < 8; ++i) {
        const Bytes sig = key->sign_hash(SignPadding{}, hash);
        ASSERT_EQ(sig.size(), 2 * field);
        EXPECT_NO_THROW(key->verify_signature(SignPadding{}, hash, sig));
        // A digest longer than the order is truncated per FIPS 186; OpenSSL agrees.
        EXPECT_TRUE(openssl_verify(pub.get(), 0, nullptr, 0, hash, ecdsa_der(sig))) << h.name;
      }
    }
  }
}

TEST(SoftwareSign, EcdhKeyCanSign) {
  const auto key = shared_ec(KeyAlgorithm::kEcdh, Curve::kP256);
  const Bytes hash = digest("SHA256", random_bytes(10));
  const Bytes sig = key->sign_hash(SignPadding{}, hash);
  const Pkey pub = pkey_from_public_blob(key->public_blob());
  EXPECT_TRUE(openssl_verify(pub.get(), 0, nullptr, 0, hash, ecdsa_der(sig)));
}

TEST(SoftwareSign, VerifiesOpenSslSignatures) {
  const auto key = shared_rsa(1024);
  const Pkey priv = pkey_from_pkcs8(key->export_private(NCRYPT_PKCS8_PRIVATE_KEY_BLOB));
  const Bytes hash = digest("SHA384", random_bytes(20));
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_pkey(nullptr, priv.get(), nullptr);
  ASSERT_EQ(EVP_PKEY_sign_init(ctx), 1);
  ASSERT_EQ(EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PSS_PADDING), 1);
  ASSERT_EQ(EVP_PKEY_CTX_set_signature_md(ctx, EVP_get_digestbyname("SHA384")), 1);
  ASSERT_EQ(EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx, 48), 1);
  Bytes sig(128);
  std::size_t len = sig.size();
  ASSERT_EQ(EVP_PKEY_sign(ctx, sig.data(), &len, hash.data(), hash.size()), 1);
  EVP_PKEY_CTX_free(ctx);
  EXPECT_NO_THROW(
      key->verify_signature(SignPadding{NCRYPT_PAD_PSS_FLAG, HashId::kSha384, 48}, hash, sig));
}

TEST(SoftwareSign, ErrorStatuses) {
  const auto rsa = shared_rsa(1024);
  const auto ec = shared_ec(KeyAlgorithm::kEcdsa, Curve::kP256);
  const Bytes h256 = digest("SHA256", random_bytes(8));
  const SignPadding pkcs1{NCRYPT_PAD_PKCS1_FLAG, HashId::kSha256, 0};
  // Digest length must match the hash.
  EXPECT_EQ(status_of([&] { (void)rsa->sign_hash(pkcs1, Bytes(20)); }), NTE_INVALID_PARAMETER);
  // No padding scheme on an RSA key.
  EXPECT_EQ(status_of([&] { (void)rsa->sign_hash(SignPadding{}, h256); }), NTE_INVALID_PARAMETER);
  const Bytes sig = rsa->sign_hash(pkcs1, h256);
  Bytes tampered = sig;
  tampered[5] ^= 0x40;
  EXPECT_EQ(status_of([&] { rsa->verify_signature(pkcs1, h256, tampered); }), NTE_BAD_SIGNATURE);
  Bytes other_hash = h256;
  other_hash[0] ^= 1;
  EXPECT_EQ(status_of([&] { rsa->verify_signature(pkcs1, other_hash, sig); }), NTE_BAD_SIGNATURE);
  EXPECT_EQ(status_of([&] { rsa->verify_signature(pkcs1, h256, ByteView(sig).first(127)); }),
            NTE_INVALID_PARAMETER);
  EXPECT_EQ(status_of([&] { rsa->verify_signature(pkcs1, ByteView(h256).first(31), sig); }),
            NTE_INVALID_PARAMETER);

  const Bytes ecsig = ec->sign_hash(SignPadding{}, h256);
  Bytes ec_tampered = ecsig;
  ec_tampered[40] ^= 0x01;
  EXPECT_EQ(status_of([&] { ec->verify_signature(SignPadding{}, h256, ec_tampered); }),
            NTE_BAD_SIGNATURE);
  EXPECT_EQ(
      status_of([&] { ec->verify_signature(SignPadding{}, h256, ByteView(ecsig).first(63)); }),
      NTE_INVALID_PARAMETER);
  EXPECT_EQ(status_of([&] { (void)ec->sign_hash(SignPadding{}, Bytes{}); }), NTE_INVALID_PARAMETER);
  // A key imported from its public blob verifies but cannot sign.
  const auto pub = provider().import_blob(BCRYPT_ECCPUBLIC_BLOB, ec->public_blob());
  EXPECT_NO_THROW(pub->verify_signature(SignPadding{}, h256, ecsig));
  EXPECT_EQ(status_of([&] { (void)pub->sign_hash(SignPadding{}, h256); }), NTE_BAD_KEY);
}

}  // namespace
}  // namespace cng_test

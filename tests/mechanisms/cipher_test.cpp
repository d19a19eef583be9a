// RSA encryption (ours, in software) and decryption (ours, through NCrypt) for CKM_RSA_PKCS,
// CKM_RSA_PKCS_OAEP and CKM_RSA_X_509, cross-checked with OpenSSL encryption.
#include <openssl/rsa.h>

#include "mech_test_support.h"

namespace mechtest {
namespace {

using p11::OpKind;

Bytes encrypt(const CK_MECHANISM& m, const Bytes& plain) {
  const p11::KeyView view = rsa2048().public_view();
  auto op = p11::start_operation(OpKind::kEncrypt, m, &view, software_caps());
  EXPECT_EQ(op->output_size(), 256U);
  return op->one_shot(plain);
}

Bytes decrypt(const CK_MECHANISM& m, const Bytes& cipher) {
  const p11::KeyView view = rsa2048().private_view();
  auto op = p11::start_operation(OpKind::kDecrypt, m, &view, software_caps());
  EXPECT_EQ(op->output_size(), 256U);  // upper bound before the result
  Bytes plain = op->one_shot(cipher);
  EXPECT_EQ(op->output_size(), plain.size());  // exact afterwards
  EXPECT_EQ(op->final(), plain);               // and repeatable
  return plain;
}

// OpenSSL's own RSA encryption with the public key.
Bytes openssl_encrypt(int padding, const char* oaep_md, const Bytes& label, const Bytes& plain) {
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_pkey(nullptr, rsa2048().pub.get(), nullptr);
  EXPECT_EQ(EVP_PKEY_encrypt_init(ctx), 1);
  EXPECT_EQ(EVP_PKEY_CTX_set_rsa_padding(ctx, padding), 1);
  if (oaep_md != nullptr) {
    EXPECT_EQ(EVP_PKEY_CTX_set_rsa_oaep_md(ctx, md(oaep_md)), 1);
    EXPECT_EQ(EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, md(oaep_md)), 1);
    if (!label.empty()) {
      void* copy = OPENSSL_memdup(label.data(), label.size());
      EXPECT_EQ(EVP_PKEY_CTX_set0_rsa_oaep_label(ctx, copy, static_cast<int>(label.size())), 1);
    }
  }
  Bytes out(256);
  std::size_t len = out.size();
  EXPECT_EQ(EVP_PKEY_encrypt(ctx, out.data(), &len, plain.data(), plain.size()), 1);
  EVP_PKEY_CTX_free(ctx);
  out.resize(len);
  return out;
}

struct OaepCase {
  CK_MECHANISM_TYPE hash;
  CK_RSA_PKCS_MGF_TYPE mgf;
  const char* md_name;
  std::size_t max_plain;  // 256 − 2·hLen − 2
};

const OaepCase kOaep[] = {
    {CKM_SHA_1, CKG_MGF1_SHA1, "SHA1", 214},
    {CKM_SHA256, CKG_MGF1_SHA256, "SHA256", 190},
    {CKM_SHA384, CKG_MGF1_SHA384, "SHA384", 158},
    {CKM_SHA512, CKG_MGF1_SHA512, "SHA512", 126},
};

TEST(RsaOaep, RoundTripsBothWaysWithAndWithoutLabel) {
  for (const OaepCase& c : kOaep) {
    for (const Bytes& label : {Bytes{}, Bytes{'l', 'a', 'b', 'e', 'l'}}) {
      SCOPED_TRACE(std::string(c.md_name) + " label " + std::to_string(label.size()));
      CK_RSA_PKCS_OAEP_PARAMS params{
          c.hash, c.mgf, CKZ_DATA_SPECIFIED,
          label.empty() ? nullptr : const_cast<std::uint8_t*>(label.data()), label.size()};
      const CK_MECHANISM m = mechanism(CKM_RSA_PKCS_OAEP, &params, sizeof(params));
      const Bytes plain = random_bytes(c.max_plain);
      const Bytes ours = encrypt(m, plain);
      EXPECT_EQ(ours.size(), 256U);
      EXPECT_EQ(decrypt(m, ours), plain);
      EXPECT_EQ(decrypt(m, openssl_encrypt(RSA_PKCS1_OAEP_PADDING, c.md_name, label, plain)),
                plain);
      EXPECT_EQ(rv_of([&] { encrypt(m, random_bytes(c.max_plain + 1)); }), CKR_DATA_LEN_RANGE);
    }
  }
}

TEST(RsaOaep, WrongLabelFailsToDecrypt) {
  const Bytes label{'a'};
  CK_RSA_PKCS_OAEP_PARAMS with_label{CKM_SHA256, CKG_MGF1_SHA256, CKZ_DATA_SPECIFIED,
                                     const_cast<std::uint8_t*>(label.data()), label.size()};
  CK_RSA_PKCS_OAEP_PARAMS no_label{CKM_SHA256, CKG_MGF1_SHA256, CKZ_DATA_SPECIFIED, nullptr, 0};
  const Bytes cipher =
      encrypt(mechanism(CKM_RSA_PKCS_OAEP, &with_label, sizeof(with_label)), Bytes{1, 2, 3});
  EXPECT_EQ(
      rv_of([&] { decrypt(mechanism(CKM_RSA_PKCS_OAEP, &no_label, sizeof(no_label)), cipher); }),
      CKR_ENCRYPTED_DATA_INVALID);
}

TEST(RsaOaep, ParameterErrors) {
  const p11::KeyView view = rsa2048().public_view();
  auto start = [&](void* p, CK_ULONG len) {
    return rv_of([&] {
      const CK_MECHANISM m = mechanism(CKM_RSA_PKCS_OAEP, p, len);
      static_cast<void>(p11::start_operation(OpKind::kEncrypt, m, &view, software_caps()));
    });
  };
  CK_RSA_PKCS_OAEP_PARAMS good{CKM_SHA256, CKG_MGF1_SHA256, CKZ_DATA_SPECIFIED, nullptr, 0};
  EXPECT_EQ(start(&good, sizeof(good)), CKR_OK);
  CK_RSA_PKCS_OAEP_PARAMS no_source{CKM_SHA256, CKG_MGF1_SHA256, 0, nullptr, 0};
  EXPECT_EQ(start(&no_source, sizeof(good)), CKR_OK);
  EXPECT_EQ(start(nullptr, 0), CKR_MECHANISM_PARAM_INVALID);
  EXPECT_EQ(start(&good, sizeof(good) + 1), CKR_MECHANISM_PARAM_INVALID);
  CK_RSA_PKCS_OAEP_PARAMS mgf{CKM_SHA256, CKG_MGF1_SHA1, CKZ_DATA_SPECIFIED, nullptr, 0};
  EXPECT_EQ(start(&mgf, sizeof(good)), CKR_MECHANISM_PARAM_INVALID);
  CK_RSA_PKCS_OAEP_PARAMS sha224{CKM_SHA224, CKG_MGF1_SHA224, CKZ_DATA_SPECIFIED, nullptr, 0};
  EXPECT_EQ(start(&sha224, sizeof(good)), CKR_MECHANISM_PARAM_INVALID);
  CK_RSA_PKCS_OAEP_PARAMS source{CKM_SHA256, CKG_MGF1_SHA256, 7, nullptr, 0};
  EXPECT_EQ(start(&source, sizeof(good)), CKR_MECHANISM_PARAM_INVALID);
  CK_RSA_PKCS_OAEP_PARAMS null_label{CKM_SHA256, CKG_MGF1_SHA256, CKZ_DATA_SPECIFIED, nullptr, 4};
  EXPECT_EQ(start(&null_label, sizeof(good)), CKR_MECHANISM_PARAM_INVALID);
}

TEST(RsaPkcsCipher, RoundTripsBothWays) {
  const CK_MECHANISM m = mechanism(CKM_RSA_PKCS);
  for (std::size_t len : {std::size_t{0}, std::size_t{1}, std::size_t{100}, std::size_t{245}}) {
    SCOPED_TRACE(len);
    const Bytes plain = random_bytes(len);
    EXPECT_EQ(decrypt(m, encrypt(m, plain)), plain);
    EXPECT_EQ(decrypt(m, openssl_encrypt(RSA_PKCS1_PADDING, nullptr, {}, plain)), plain);
  }
  EXPECT_EQ(rv_of([&] { encrypt(m, random_bytes(246)); }), CKR_DATA_LEN_RANGE);
}

TEST(RsaPkcsCipher, CiphertextErrors) {
  const CK_MECHANISM m = mechanism(CKM_RSA_PKCS);
  EXPECT_EQ(rv_of([&] { decrypt(m, random_bytes(255)); }), CKR_ENCRYPTED_DATA_LEN_RANGE);
  EXPECT_EQ(rv_of([&] { decrypt(m, random_bytes(257)); }), CKR_ENCRYPTED_DATA_LEN_RANGE);
  // A k-byte value below n that is no PKCS#1 block.
  Bytes garbage(256, 0x5a);
  garbage[0] = 0x00;
  EXPECT_EQ(rv_of([&] { decrypt(m, garbage); }), CKR_ENCRYPTED_DATA_INVALID);
}

TEST(RsaX509, ShortInputIsLeftPaddedWithZeros) {
  const CK_MECHANISM m = mechanism(CKM_RSA_X_509);
  const Bytes plain{'a', 'b', 'c'};
  Bytes block(256 - plain.size(), 0);
  block.insert(block.end(), plain.begin(), plain.end());
  const Bytes ours = encrypt(m, plain);
  EXPECT_EQ(ours, openssl_encrypt(RSA_NO_PADDING, nullptr, {}, block));  // raw RSA: deterministic
  EXPECT_EQ(decrypt(m, ours), block);
  // A full block whose top byte is zero (so it is below n) round-trips as is.
  Bytes full = random_bytes(256);
  full[0] = 0;
  EXPECT_EQ(decrypt(m, encrypt(m, full)), full);
  EXPECT_EQ(rv_of([&] { encrypt(m, random_bytes(257)); }), CKR_DATA_LEN_RANGE);
  EXPECT_EQ(rv_of([&] { encrypt(m, Bytes(256, 0xff)); }), CKR_DATA_INVALID);  // ≥ n
}

TEST(Cipher, SinglePartOnly) {
  const p11::KeyView pub = rsa2048().public_view();
  const p11::KeyView priv = rsa2048().private_view();
  const CK_MECHANISM m = mechanism(CKM_RSA_PKCS);
  auto enc = p11::start_operation(OpKind::kEncrypt, m, &pub, software_caps());
  auto dec = p11::start_operation(OpKind::kDecrypt, m, &priv, software_caps());
  EXPECT_FALSE(enc->multi_part());
  EXPECT_FALSE(dec->multi_part());
  EXPECT_EQ(rv_of([&] { enc->update(Bytes{1}); }), CKR_OPERATION_NOT_INITIALIZED);
  EXPECT_EQ(rv_of([&] { dec->update(Bytes{1}); }), CKR_OPERATION_NOT_INITIALIZED);
  EXPECT_EQ(rv_of([&] { static_cast<void>(dec->final()); }), CKR_OPERATION_NOT_INITIALIZED);
}

}  // namespace
}  // namespace mechtest

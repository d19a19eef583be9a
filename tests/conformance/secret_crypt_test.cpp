// AES encryption (ECB, CBC, CBC_PAD, CTR, GCM) and HMAC through CK_FUNCTION_LIST with secret
// key objects over CNG keys, single- and multi-part. OpenSSL computes every expected value
// from the key value given to C_CreateObject.
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>

#include "ossl_support.h"
#include "p11_fixture.h"

namespace conf {
namespace {

const EVP_CIPHER* Cipher(const char* mode, size_t key_len) {
  const std::string name = "AES-" + std::to_string(key_len * 8) + "-" + mode;
  return EVP_get_cipherbyname(name.c_str());
}

// OpenSSL's encryption: mode "ECB"/"CBC"/"CTR" (padding as asked); GCM appends the tag.
Bytes OsslEncrypt(const char* mode, const Bytes& key, const Bytes& iv, const Bytes& in, bool pad,
                  const Bytes& aad = {}, size_t tag_len = 0) {
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  const bool gcm = std::string(mode) == "GCM";
  EVP_EncryptInit_ex(ctx, Cipher(mode, key.size()), nullptr, nullptr, nullptr);
  if (gcm) {
    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(iv.size()), nullptr);
  }
  EVP_EncryptInit_ex(ctx, nullptr, nullptr, key.data(), iv.empty() ? nullptr : iv.data());
  EVP_CIPHER_CTX_set_padding(ctx, pad ? 1 : 0);
  int len = 0;
  if (gcm && !aad.empty()) {
    EVP_EncryptUpdate(ctx, nullptr, &len, aad.data(), static_cast<int>(aad.size()));
  }
  Bytes out(in.size() + 32);
  EVP_EncryptUpdate(ctx, out.data(), &len, in.data(), static_cast<int>(in.size()));
  int total = len;
  EVP_EncryptFinal_ex(ctx, out.data() + total, &len);
  total += len;
  out.resize(static_cast<size_t>(total));
  if (gcm) {
    Bytes tag(tag_len);
    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, static_cast<int>(tag_len), tag.data());
    out.insert(out.end(), tag.begin(), tag.end());
  }
  EVP_CIPHER_CTX_free(ctx);
  return out;
}

Bytes OsslHmac(const EVP_MD* md, const Bytes& key, const Bytes& data) {
  Bytes out(EVP_MAX_MD_SIZE);
  unsigned len = 0;
  HMAC(md, key.data(), static_cast<int>(key.size()), data.data(), data.size(), out.data(), &len);
  out.resize(len);
  return out;
}

class SecretCryptTest : public P11Test {
 protected:
  // Secret keys are kept only where the provider keeps AES and generic-secret keys.
  void SetUp() override {
    P11Test::SetUp();
    if (IsSkipped()) {
      return;
    }
    REQUIRE_MECHANISM(CKM_AES_KEY_GEN);
    REQUIRE_MECHANISM(CKM_GENERIC_SECRET_KEY_GEN);
  }
  CK_OBJECT_HANDLE Secret(CK_SESSION_HANDLE s, CK_KEY_TYPE type, const Bytes& value,
                          bool token = false, bool usable = true) {
    Template t;
    t.Ulong(CKA_CLASS, CKO_SECRET_KEY).Ulong(CKA_KEY_TYPE, type).Raw(CKA_VALUE, value);
    t.Bool(CKA_TOKEN, token).Str(CKA_LABEL, "crypt");
    t.Bool(CKA_ENCRYPT, usable).Bool(CKA_DECRYPT, usable).Bool(CKA_SIGN, usable);
    t.Bool(CKA_VERIFY, usable);
    CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
    EXPECT_CKR(CKR_OK, f_->C_CreateObject(s, t.data(), t.size(), &h));
    return h;
  }
  Bytes Crypt(bool encrypt, CK_SESSION_HANDLE s, CK_MECHANISM* m, CK_OBJECT_HANDLE key,
              const Bytes& in, CK_RV* rv_out = nullptr) {
    CK_RV rv = encrypt ? f_->C_EncryptInit(s, m, key) : f_->C_DecryptInit(s, m, key);
    Bytes out;
    if (rv == CKR_OK) {
      CK_ULONG len = 0;
      Bytes input = in;
      const auto call = [&](CK_BYTE_PTR o, CK_ULONG_PTR l) {
        return encrypt ? f_->C_Encrypt(s, input.data(), static_cast<CK_ULONG>(input.size()), o, l)
                       : f_->C_Decrypt(s, input.data(), static_cast<CK_ULONG>(input.size()), o, l);
      };
      rv = call(nullptr, &len);
      if (rv == CKR_OK) {
        out.resize(len);
        rv = call(out.data(), &len);
        out.resize(rv == CKR_OK ? len : 0);
      }
    }
    if (rv_out != nullptr) {
      *rv_out = rv;
    } else {
      EXPECT_CKR(CKR_OK, rv);
    }
    return out;
  }
  Bytes CryptMultiPart(bool encrypt, CK_SESSION_HANDLE s, CK_MECHANISM* m, CK_OBJECT_HANDLE key,
                       const Bytes& in, size_t chunk) {
    EXPECT_CKR(CKR_OK, encrypt ? f_->C_EncryptInit(s, m, key) : f_->C_DecryptInit(s, m, key));
    Bytes out;
    Bytes buf(in.size() + 64);
    for (size_t off = 0; off < in.size(); off += chunk) {
      CK_ULONG len = static_cast<CK_ULONG>(buf.size());
      Bytes part(in.begin() + static_cast<std::ptrdiff_t>(off),
                 in.begin() + static_cast<std::ptrdiff_t>(std::min(in.size(), off + chunk)));
      const CK_RV rv = encrypt
                           ? f_->C_EncryptUpdate(s, part.data(), static_cast<CK_ULONG>(part.size()),
                                                 buf.data(), &len)
                           : f_->C_DecryptUpdate(s, part.data(), static_cast<CK_ULONG>(part.size()),
                                                 buf.data(), &len);
      EXPECT_CKR(CKR_OK, rv);
      out.insert(out.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(len));
    }
    CK_ULONG len = static_cast<CK_ULONG>(buf.size());
    EXPECT_CKR(CKR_OK, encrypt ? f_->C_EncryptFinal(s, buf.data(), &len)
                               : f_->C_DecryptFinal(s, buf.data(), &len));
    out.insert(out.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(len));
    return out;
  }
};

TEST_F(SecretCryptTest, AesModesMatchOpenSslSingleAndMultiPart) {
  const CK_SESSION_HANDLE s = OpenSession();
  for (const size_t key_len : {16u, 24u, 32u}) {
    SCOPED_TRACE("AES-" + std::to_string(key_len * 8));
    const Bytes key = Digest(EVP_sha512(), ToBytes(std::to_string(key_len)));
    const Bytes value(key.begin(), key.begin() + static_cast<std::ptrdiff_t>(key_len));
    const CK_OBJECT_HANDLE h = Secret(s, CKK_AES, value);
    Bytes iv(16);
    for (size_t i = 0; i < iv.size(); ++i) {
      iv[i] = static_cast<std::uint8_t>(0xF0 + i);
    }
    const Bytes blocks(64, 0x5a);  // a block multiple
    const Bytes odd = ToBytes("not a multiple of the AES block size: 45 bytes");

    CK_MECHANISM ecb{CKM_AES_ECB, nullptr, 0};
    CK_MECHANISM cbc{CKM_AES_CBC, iv.data(), 16};
    CK_MECHANISM cbc_pad{CKM_AES_CBC_PAD, iv.data(), 16};
    CK_AES_CTR_PARAMS ctr_params{128, {}};
    std::copy(iv.begin(), iv.end(), ctr_params.cb);
    CK_MECHANISM ctr{CKM_AES_CTR, &ctr_params, sizeof ctr_params};
    struct Case {
      const char* name;
      CK_MECHANISM* mech;
      const char* mode;
      bool pad;
      const Bytes& data;
      Bytes iv;
    } cases[] = {{"ECB", &ecb, "ECB", false, blocks, {}},
                 {"CBC", &cbc, "CBC", false, blocks, iv},
                 {"CBC_PAD", &cbc_pad, "CBC", true, odd, iv},
                 {"CBC_PAD full block", &cbc_pad, "CBC", true, blocks, iv},
                 {"CTR", &ctr, "CTR", false, odd, iv}};
    for (const Case& c : cases) {
      SCOPED_TRACE(c.name);
      const Bytes expected = OsslEncrypt(c.mode, value, c.iv, c.data, c.pad);
      const Bytes ct = Crypt(true, s, c.mech, h, c.data);
      EXPECT_EQ(Hex(ct), Hex(expected));
      EXPECT_EQ(Hex(Crypt(false, s, c.mech, h, ct)), Hex(c.data));
      EXPECT_EQ(Hex(CryptMultiPart(true, s, c.mech, h, c.data, 7)), Hex(expected));
      EXPECT_EQ(Hex(CryptMultiPart(false, s, c.mech, h, ct, 13)), Hex(c.data));
    }

    // GCM: 12-byte IV, AAD, 128- and 96-bit tags.
    const Bytes gcm_iv = ToBytes("twelve bytes");
    Bytes aad = ToBytes("header");
    for (const CK_ULONG tag_bits : {128UL, 96UL}) {
      CK_GCM_PARAMS gcm{};
      gcm.pIv = const_cast<CK_BYTE_PTR>(gcm_iv.data());
      gcm.ulIvLen = static_cast<CK_ULONG>(gcm_iv.size());
      gcm.ulIvBits = gcm.ulIvLen * 8;
      gcm.pAAD = aad.data();
      gcm.ulAADLen = static_cast<CK_ULONG>(aad.size());
      gcm.ulTagBits = tag_bits;
      CK_MECHANISM m{CKM_AES_GCM, &gcm, sizeof gcm};
      const Bytes expected = OsslEncrypt("GCM", value, gcm_iv, odd, false, aad, tag_bits / 8);
      const Bytes ct = Crypt(true, s, &m, h, odd);
      EXPECT_EQ(Hex(ct), Hex(expected));
      EXPECT_EQ(Hex(CryptMultiPart(true, s, &m, h, odd, 10)), Hex(expected));
      EXPECT_EQ(Hex(Crypt(false, s, &m, h, ct)), Hex(odd));
      Bytes tampered = ct;
      tampered.back() ^= 1;
      CK_RV rv = CKR_OK;
      Crypt(false, s, &m, h, tampered, &rv);
      EXPECT_CKR(CKR_ENCRYPTED_DATA_INVALID, rv);
    }
  }
}

TEST_F(SecretCryptTest, AesErrors) {
  const CK_SESSION_HANDLE s = OpenSession();
  const CK_OBJECT_HANDLE h = Secret(s, CKK_AES, Bytes(16, 3));
  const CK_OBJECT_HANDLE unusable = Secret(s, CKK_AES, Bytes(16, 4), false, false);
  Bytes iv(16, 0);
  CK_MECHANISM ecb{CKM_AES_ECB, nullptr, 0};
  CK_RV rv = CKR_OK;
  Crypt(true, s, &ecb, h, Bytes(15, 1), &rv);
  EXPECT_CKR(CKR_DATA_LEN_RANGE, rv);
  Crypt(false, s, &ecb, h, Bytes(17, 1), &rv);
  EXPECT_CKR(CKR_ENCRYPTED_DATA_LEN_RANGE, rv);
  CK_MECHANISM short_iv{CKM_AES_CBC, iv.data(), 8};
  EXPECT_CKR(CKR_MECHANISM_PARAM_INVALID, f_->C_EncryptInit(s, &short_iv, h));
  EXPECT_CKR(CKR_KEY_FUNCTION_NOT_PERMITTED, f_->C_EncryptInit(s, &ecb, unusable));
  const KeyPair rsa = GenerateRsa(s, 2048);
  EXPECT_CKR(CKR_KEY_TYPE_INCONSISTENT, f_->C_EncryptInit(s, &ecb, rsa.pub));
  CK_MECHANISM rsa_mech{CKM_RSA_PKCS, nullptr, 0};
  EXPECT_CKR(CKR_KEY_TYPE_INCONSISTENT, f_->C_EncryptInit(s, &rsa_mech, h));
  // Buffer too small keeps the operation; the size query answers.
  ASSERT_CKR(CKR_OK, f_->C_EncryptInit(s, &ecb, h));
  Bytes in(32, 9);
  Bytes out(16);
  CK_ULONG len = 16;
  EXPECT_CKR(CKR_BUFFER_TOO_SMALL, f_->C_Encrypt(s, in.data(), 32, out.data(), &len));
  EXPECT_EQ(len, 32u);
  out.resize(32);
  EXPECT_CKR(CKR_OK, f_->C_Encrypt(s, in.data(), 32, out.data(), &len));
}

TEST_F(SecretCryptTest, TokenAesKeyEncryptsAfterReinitialize) {
  const CK_SESSION_HANDLE s = OpenSession();
  const Bytes value = ToBytes("0123456789ABCDEF");
  Secret(s, CKK_AES, value, true);
  Reinitialize();
  const CK_SESSION_HANDLE s2 = OpenSession();
  const auto found = FindByLabel(s2, CKO_SECRET_KEY, "crypt");
  ASSERT_EQ(found.size(), 1u);
  CK_MECHANISM ecb{CKM_AES_ECB, nullptr, 0};
  const Bytes data(48, 0x11);
  EXPECT_EQ(Hex(Crypt(true, s2, &ecb, found[0], data)),
            Hex(OsslEncrypt("ECB", value, {}, data, false)));
}

TEST_F(SecretCryptTest, HmacMatchesOpenSsl) {
  const CK_SESSION_HANDLE s = OpenSession();
  const Bytes key = ToBytes("an HMAC key that is 33 bytes long");
  const CK_OBJECT_HANDLE h = Secret(s, CKK_GENERIC_SECRET, key);
  const Bytes data(300, 0x61);
  struct Case {
    CK_MECHANISM_TYPE mech, general;
    const EVP_MD* (*md)();
  } cases[] = {{CKM_SHA_1_HMAC, CKM_SHA_1_HMAC_GENERAL, EVP_sha1},
               {CKM_SHA224_HMAC, CKM_SHA224_HMAC_GENERAL, EVP_sha224},
               {CKM_SHA256_HMAC, CKM_SHA256_HMAC_GENERAL, EVP_sha256},
               {CKM_SHA384_HMAC, CKM_SHA384_HMAC_GENERAL, EVP_sha384},
               {CKM_SHA512_HMAC, CKM_SHA512_HMAC_GENERAL, EVP_sha512}};
  for (const Case& c : cases) {
    SCOPED_TRACE(EVP_MD_get0_name(c.md()));
    const Bytes expected = OsslHmac(c.md(), key, data);
    CK_MECHANISM m{c.mech, nullptr, 0};
    const Bytes mac = Sign(s, &m, h, data);
    EXPECT_EQ(Hex(mac), Hex(expected));
    EXPECT_EQ(Hex(SignMultiPart(s, &m, h, data, 37)), Hex(expected));
    Bytes input = data;
    Bytes sig = mac;
    ASSERT_CKR(CKR_OK, f_->C_VerifyInit(s, &m, h));
    EXPECT_CKR(CKR_OK, f_->C_Verify(s, input.data(), static_cast<CK_ULONG>(input.size()),
                                    sig.data(), static_cast<CK_ULONG>(sig.size())));
    sig[0] ^= 1;
    ASSERT_CKR(CKR_OK, f_->C_VerifyInit(s, &m, h));
    EXPECT_CKR(CKR_SIGNATURE_INVALID,
               f_->C_Verify(s, input.data(), static_cast<CK_ULONG>(input.size()), sig.data(),
                            static_cast<CK_ULONG>(sig.size())));
    ASSERT_CKR(CKR_OK, f_->C_VerifyInit(s, &m, h));
    EXPECT_CKR(CKR_SIGNATURE_LEN_RANGE,
               f_->C_Verify(s, input.data(), static_cast<CK_ULONG>(input.size()), sig.data(),
                            static_cast<CK_ULONG>(sig.size() - 1)));
    CK_ULONG mac_len = 10;
    CK_MECHANISM general{c.general, &mac_len, sizeof mac_len};
    EXPECT_EQ(Hex(Sign(s, &general, h, data)), Hex(Bytes(expected.begin(), expected.begin() + 10)));
  }
  CK_MECHANISM with_param{CKM_SHA256_HMAC, const_cast<CK_BYTE_PTR>(key.data()), 4};
  EXPECT_CKR(CKR_MECHANISM_PARAM_INVALID, f_->C_SignInit(s, &with_param, h));
  CK_ULONG too_long = 33;
  CK_MECHANISM general_long{CKM_SHA256_HMAC_GENERAL, &too_long, sizeof too_long};
  EXPECT_CKR(CKR_MECHANISM_PARAM_INVALID, f_->C_SignInit(s, &general_long, h));
  const CK_OBJECT_HANDLE aes = Secret(s, CKK_AES, Bytes(16, 1));
  CK_MECHANISM hmac{CKM_SHA256_HMAC, nullptr, 0};
  EXPECT_CKR(CKR_KEY_TYPE_INCONSISTENT, f_->C_SignInit(s, &hmac, aes));
}

}  // namespace
}  // namespace conf

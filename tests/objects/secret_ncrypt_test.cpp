// A token AES key made through PKCS#11 (C_GenerateKey → NCryptCreatePersistedKey → properties →
// NCryptFinalizeKey) is an ordinary persisted CNG key: another NCrypt client opens it by its
// name and encrypts with NCryptEncrypt; OpenSSL checks the result against the key's value.
#include <openssl/evp.h>

#include "ncrypt.h"
#include "object_test_support.h"

namespace p11::test {
namespace {

class SecretNcryptTest : public ObjectLayerTest {};

TEST_F(SecretNcryptTest, TokenAesKeyIsUsedThroughNCryptEncrypt) {
  Template t;
  t.ulong(CKA_VALUE_LEN, 32).boolean(CKA_TOKEN, true).text(CKA_LABEL, "ncrypt-aes");
  t.boolean(CKA_ENCRYPT, true).boolean(CKA_DECRYPT, true);
  t.boolean(CKA_SENSITIVE, false).boolean(CKA_EXTRACTABLE, true);
  CK_MECHANISM gen{CKM_AES_KEY_GEN, nullptr, 0};
  const CK_OBJECT_HANDLE h = layer_->generate_key(rw_, gen, t.span());
  const std::optional<Bytes> value = attr(*layer_, h, CKA_VALUE);
  ASSERT_TRUE(value.has_value());
  ASSERT_EQ(value->size(), 32u);

  NCRYPT_PROV_HANDLE prov = 0;
  ASSERT_EQ(NCryptOpenStorageProvider(&prov, MS_KEY_STORAGE_PROVIDER, 0), ERROR_SUCCESS);
  NCRYPT_KEY_HANDLE key = 0;
  ASSERT_EQ(NCryptOpenKey(prov, &key, u"ncrypt-aes", 0, 0), ERROR_SUCCESS);
  char16_t algorithm[16] = {};
  DWORD size = 0;
  ASSERT_EQ(NCryptGetProperty(key, NCRYPT_ALGORITHM_PROPERTY, reinterpret_cast<PBYTE>(algorithm),
                              sizeof algorithm, &size, 0),
            ERROR_SUCCESS);
  EXPECT_EQ(std::u16string(algorithm), u"AES");
  const std::u16string ecb = BCRYPT_CHAIN_MODE_ECB;
  ASSERT_EQ(NCryptSetProperty(key, NCRYPT_CHAINING_MODE_PROPERTY,
                              reinterpret_cast<PBYTE>(const_cast<char16_t*>(ecb.c_str())),
                              static_cast<DWORD>((ecb.size() + 1) * sizeof(char16_t)), 0),
            ERROR_SUCCESS);
  Bytes plain(48, 0x3c);
  Bytes cipher(48);
  NCRYPT_CIPHER_PADDING_INFO info{
      sizeof info, NCRYPT_CIPHER_NO_PADDING_FLAG, nullptr, 0, nullptr, 0};
  DWORD written = 0;
  ASSERT_EQ(NCryptEncrypt(key, plain.data(), 48, &info, cipher.data(), 48, &written,
                          NCRYPT_PAD_CIPHER_FLAG),
            ERROR_SUCCESS);
  EXPECT_EQ(written, 48u);

  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  Bytes expected(64);
  int len = 0;
  EVP_EncryptInit_ex(ctx, EVP_aes_256_ecb(), nullptr, value->data(), nullptr);
  EVP_CIPHER_CTX_set_padding(ctx, 0);
  EVP_EncryptUpdate(ctx, expected.data(), &len, plain.data(), 48);
  EVP_CIPHER_CTX_free(ctx);
  expected.resize(48);
  EXPECT_EQ(cipher, expected);
  EXPECT_EQ(NCryptFreeObject(key), ERROR_SUCCESS);
  EXPECT_EQ(NCryptFreeObject(prov), ERROR_SUCCESS);
}

}  // namespace
}  // namespace p11::test

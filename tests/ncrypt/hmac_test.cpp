// Generic secret keys (model extension) and HMAC through NCryptSignHash/NCryptVerifySignature:
// RFC 4231 / RFC 2202 vectors, OpenSSL reference MACs, truncated MACs, error paths.
#include "symmetric_support.h"

namespace ncrypt_test {
namespace {

class HmacTest : public SymmetricTest {
 protected:
  static SECURITY_STATUS sign(NCRYPT_KEY_HANDLE key, const char16_t* hash, const Bytes& data,
                              Bytes& mac, ULONG cb_mac = 0) {
    NCRYPT_HMAC_PADDING_INFO info{hash, cb_mac};
    Bytes in = data;
    DWORD size = 0;
    SECURITY_STATUS s =
        NCryptSignHash(key, &info, in.data(), static_cast<DWORD>(in.size()), nullptr, 0, &size, 0);
    if (s != ERROR_SUCCESS) {
      return s;
    }
    mac.assign(size, 0);
    s = NCryptSignHash(key, &info, in.data(), static_cast<DWORD>(in.size()), mac.data(), size,
                       &size, 0);
    mac.resize(size);
    return s;
  }
  static SECURITY_STATUS verify(NCRYPT_KEY_HANDLE key, const char16_t* hash, const Bytes& data,
                                Bytes mac, ULONG cb_mac = 0) {
    NCRYPT_HMAC_PADDING_INFO info{hash, cb_mac};
    Bytes in = data;
    return NCryptVerifySignature(key, &info, in.data(), static_cast<DWORD>(in.size()), mac.data(),
                                 static_cast<DWORD>(mac.size()), 0);
  }
};

TEST_F(HmacTest, Rfc4231AndRfc2202Vectors) {
  const NCRYPT_KEY_HANDLE k1 = import_secret(NCRYPT_GENERIC_SECRET_ALGORITHM, Bytes(20, 0x0b));
  const Bytes hi = text("Hi There");
  Bytes mac;
  ASSERT_OK(sign(k1, NCRYPT_SHA1_ALGORITHM, hi, mac));
  EXPECT_EQ(mac, hex("b617318655057264e28bc0b6fb378c8ef146be00"));
  ASSERT_OK(sign(k1, NCRYPT_SHA224_ALGORITHM, hi, mac));
  EXPECT_EQ(mac, hex("896fb1128abbdf196832107cd49df33f47b4b1169912ba4f53684b22"));
  ASSERT_OK(sign(k1, NCRYPT_SHA256_ALGORITHM, hi, mac));
  EXPECT_EQ(mac, hex("b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"));
  EXPECT_OK(verify(k1, NCRYPT_SHA256_ALGORITHM, hi, mac));
  ASSERT_OK(sign(k1, NCRYPT_SHA384_ALGORITHM, hi, mac));
  EXPECT_EQ(mac, hex("afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59c"
                     "faea9ea9076ede7f4af152e8b2fa9cb6"));
  ASSERT_OK(sign(k1, NCRYPT_SHA512_ALGORITHM, hi, mac));
  EXPECT_EQ(mac, hex("87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cde"
                     "daa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854"));
  EXPECT_OK(verify(k1, NCRYPT_SHA512_ALGORITHM, hi, mac));

  const NCRYPT_KEY_HANDLE jefe = import_secret(NCRYPT_GENERIC_SECRET_ALGORITHM, text("Jefe"));
  ASSERT_OK(sign(jefe, NCRYPT_SHA256_ALGORITHM, text("what do ya want for nothing?"), mac));
  EXPECT_EQ(mac, hex("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"));

  // Test case 5: truncation to 128 bits.
  const NCRYPT_KEY_HANDLE k5 = import_secret(NCRYPT_GENERIC_SECRET_ALGORITHM, Bytes(20, 0x0c));
  const Bytes trunc = text("Test With Truncation");
  ASSERT_OK(sign(k5, NCRYPT_SHA256_ALGORITHM, trunc, mac, 16));
  EXPECT_EQ(mac, hex("a3b6167473100ee06e0c796c2955552b"));
  EXPECT_OK(verify(k5, NCRYPT_SHA256_ALGORITHM, trunc, mac, 16));
  // The length asked for is the length verified: a full MAC is not a 16-byte one, and a
  // truncated MAC does not pass where the full one is asked for.
  EXPECT_STATUS(NTE_BAD_SIGNATURE, verify(k5, NCRYPT_SHA256_ALGORITHM, trunc, mac));
  Bytes full;
  ASSERT_OK(sign(k5, NCRYPT_SHA256_ALGORITHM, trunc, full));
  EXPECT_STATUS(NTE_BAD_SIGNATURE, verify(k5, NCRYPT_SHA256_ALGORITHM, trunc, full, 16));
  mac[15] ^= 1;
  EXPECT_STATUS(NTE_BAD_SIGNATURE, verify(k5, NCRYPT_SHA256_ALGORITHM, trunc, mac, 16));
  for (const auto h : {k1, jefe, k5}) {
    EXPECT_OK(NCryptFreeObject(h));
  }
}

TEST_F(HmacTest, GeneratedKeysMatchOpenSslAndPersist) {
  NCRYPT_KEY_HANDLE key = 0;
  ASSERT_OK(
      NCryptCreatePersistedKey(provider_, &key, NCRYPT_GENERIC_SECRET_ALGORITHM, u"mac", 0, 0));
  EXPECT_EQ(dword_property(key, NCRYPT_LENGTH_PROPERTY), 256u);
  for (const DWORD bad : {0u, 4u, 12u, 4104u}) {
    EXPECT_STATUS(NTE_INVALID_PARAMETER, set_dword(key, NCRYPT_LENGTH_PROPERTY, bad));
  }
  ASSERT_OK(set_dword(key, NCRYPT_LENGTH_PROPERTY, 168));  // 21 bytes: any multiple of 8
  ASSERT_OK(set_dword(key, NCRYPT_EXPORT_POLICY_PROPERTY, NCRYPT_ALLOW_PLAINTEXT_EXPORT_FLAG));
  ASSERT_OK(NCryptFinalizeKey(key, 0));
  EXPECT_EQ(string_property(key, NCRYPT_ALGORITHM_GROUP_PROPERTY), u"GENERIC_SECRET");
  DWORD size = 0;
  EXPECT_STATUS(NTE_NOT_SUPPORTED,
                NCryptGetProperty(key, NCRYPT_BLOCK_LENGTH_PROPERTY, nullptr, 0, &size, 0));
  EXPECT_STATUS(NTE_NOT_SUPPORTED,
                NCryptGetProperty(key, NCRYPT_CHAINING_MODE_PROPERTY, nullptr, 0, &size, 0));
  const Bytes blob = export_key(key, NCRYPT_CIPHER_KEY_BLOB);
  ASSERT_EQ(blob.size(), 16u + 30u + 12u + 21u);  // u"GENERIC_SECRET\0" is 30 bytes
  const Bytes secret(blob.end() - 21, blob.end());
  EXPECT_EQ(blob, cipher_key_blob(u"GENERIC_SECRET", secret));
  const Bytes data = random_bytes(1000);
  Bytes mac;
  ASSERT_OK(sign(key, NCRYPT_SHA384_ALGORITHM, data, mac));
  EXPECT_EQ(mac, ref_hmac("SHA384", secret, data));
  EXPECT_OK(NCryptFreeObject(key));

  NCRYPT_PROV_HANDLE other = 0;
  ASSERT_OK(NCryptOpenStorageProvider(&other, MS_KEY_STORAGE_PROVIDER, 0));
  ASSERT_OK(NCryptOpenKey(other, &key, u"mac", 0, 0));
  EXPECT_OK(verify(key, NCRYPT_SHA384_ALGORITHM, data, mac));
  Bytes empty_mac;
  ASSERT_OK(sign(key, NCRYPT_SHA1_ALGORITHM, Bytes{}, empty_mac));  // empty message
  EXPECT_EQ(empty_mac, ref_hmac("SHA1", secret, Bytes{}));
  EXPECT_OK(NCryptFreeObject(key));
  EXPECT_OK(NCryptFreeObject(other));
}

TEST_F(HmacTest, ErrorPaths) {
  const NCRYPT_KEY_HANDLE key = import_secret(NCRYPT_GENERIC_SECRET_ALGORITHM, random_bytes(32));
  Bytes data = random_bytes(10);
  Bytes mac;
  EXPECT_STATUS(NTE_NOT_SUPPORTED, sign(key, u"MD5", data, mac));
  EXPECT_STATUS(NTE_INVALID_PARAMETER, sign(key, u"SHA3-999", data, mac));
  EXPECT_STATUS(NTE_INVALID_PARAMETER, sign(key, nullptr, data, mac));
  EXPECT_STATUS(NTE_INVALID_PARAMETER, sign(key, NCRYPT_SHA1_ALGORITHM, data, mac, 21));
  DWORD size = 0;
  EXPECT_STATUS(NTE_INVALID_PARAMETER,
                NCryptSignHash(key, nullptr, data.data(), 10, nullptr, 0, &size, 0));
  NCRYPT_HMAC_PADDING_INFO info{NCRYPT_SHA256_ALGORITHM, 0};
  EXPECT_STATUS(NTE_INVALID_PARAMETER, NCryptSignHash(key, &info, data.data(), 10, nullptr, 0,
                                                      &size, NCRYPT_PAD_PKCS1_FLAG));
  EXPECT_STATUS(NTE_BAD_FLAGS, NCryptSignHash(key, &info, data.data(), 10, nullptr, 0, &size,
                                              NCRYPT_PAD_OAEP_FLAG));
  ASSERT_OK(NCryptSignHash(key, &info, data.data(), 10, nullptr, 0, &size, 0));
  EXPECT_EQ(size, 32u);
  mac.assign(31, 0);
  EXPECT_STATUS(NTE_BUFFER_TOO_SMALL,
                NCryptSignHash(key, &info, data.data(), 10, mac.data(), 31, &size, 0));
  EXPECT_EQ(size, 32u);
  EXPECT_STATUS(NTE_INVALID_PARAMETER,
                NCryptVerifySignature(key, &info, data.data(), 10, nullptr, 32, 0));
  // An HMAC key does not encrypt.
  CipherInfo iv(Bytes(16, 0));
  Bytes out;
  EXPECT_STATUS(NTE_NOT_SUPPORTED, aes_call(true, key, Bytes(16, 0), iv.get(), out));
  EXPECT_OK(NCryptFreeObject(key));

  // Key Usage without signing.
  NCRYPT_KEY_HANDLE limited = 0;
  ASSERT_OK(NCryptCreatePersistedKey(provider_, &limited, NCRYPT_GENERIC_SECRET_ALGORITHM, nullptr,
                                     0, 0));
  ASSERT_OK(set_dword(limited, NCRYPT_KEY_USAGE_PROPERTY, NCRYPT_ALLOW_DECRYPT_FLAG));
  ASSERT_OK(NCryptFinalizeKey(limited, 0));
  EXPECT_STATUS(NTE_PERM, sign(limited, NCRYPT_SHA256_ALGORITHM, data, mac));
  EXPECT_STATUS(NTE_PERM, verify(limited, NCRYPT_SHA256_ALGORITHM, data, Bytes(32, 0)));
  EXPECT_OK(NCryptFreeObject(limited));
}

}  // namespace
}  // namespace ncrypt_test

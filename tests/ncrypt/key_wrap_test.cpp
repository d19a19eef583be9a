// Key wrapping inside the model: NCryptExportKey/NCryptImportKey with an AES key-encryption
// key. RFC 3394 and RFC 5649 vectors, OpenSSL reference wraps, round trips, error paths.
#include <openssl/evp.h>

#include <memory>
#include <stdexcept>

#include "cng_common/ossl_ptr.h"
#include "symmetric_support.h"

namespace ncrypt_test {
namespace {

// OpenSSL reference key wrap: "AES-128-WRAP", "AES-256-WRAP-PAD"…
Bytes ref_wrap(const std::string& cipher, const Bytes& kek, const Bytes& in, bool wrap) {
  const cng::ossl::CipherPtr c(EVP_CIPHER_fetch(nullptr, cipher.c_str(), nullptr));
  const cng::ossl::CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  Bytes out(in.size() + 16);
  int n = 0;
  int tail = 0;
  if (!c ||
      EVP_CipherInit_ex2(ctx.get(), c.get(), kek.data(), nullptr, wrap ? 1 : 0, nullptr) != 1 ||
      EVP_CipherUpdate(ctx.get(), out.data(), &n, in.data(), static_cast<int>(in.size())) != 1 ||
      EVP_CipherFinal_ex(ctx.get(), out.data() + n, &tail) != 1) {
    throw std::runtime_error("reference key wrap failed");
  }
  out.resize(static_cast<std::size_t>(n + tail));
  return out;
}

class KeyWrapTest : public SymmetricTest {
 protected:
  // A key-encryption key of known bytes, allowed to wrap.
  NCRYPT_KEY_HANDLE kek(const Bytes& bytes, DWORD usage = NCRYPT_ALLOW_KEY_IMPORT_FLAG) {
    Bytes blob = cipher_key_blob(u"AES", bytes);
    NCRYPT_KEY_HANDLE h = 0;
    EXPECT_OK(NCryptImportKey(provider_, 0, NCRYPT_CIPHER_KEY_BLOB, nullptr, &h, blob.data(),
                              static_cast<DWORD>(blob.size()), NCRYPT_DO_NOT_FINALIZE_FLAG));
    EXPECT_OK(set_dword(h, NCRYPT_KEY_USAGE_PROPERTY, usage));
    EXPECT_OK(NCryptFinalizeKey(h, 0));
    return h;
  }
  // A secret key of known bytes with the given export policy.
  NCRYPT_KEY_HANDLE secret(std::u16string_view alg, const Bytes& bytes,
                           DWORD policy = NCRYPT_ALLOW_EXPORT_FLAG) {
    Bytes blob = cipher_key_blob(alg, bytes);
    NCRYPT_KEY_HANDLE h = 0;
    EXPECT_OK(NCryptImportKey(provider_, 0, NCRYPT_CIPHER_KEY_BLOB, nullptr, &h, blob.data(),
                              static_cast<DWORD>(blob.size()), NCRYPT_DO_NOT_FINALIZE_FLAG));
    EXPECT_OK(set_dword(h, NCRYPT_EXPORT_POLICY_PROPERTY, policy));
    EXPECT_OK(NCryptFinalizeKey(h, 0));
    return h;
  }
  static SECURITY_STATUS wrap(NCRYPT_KEY_HANDLE key, NCRYPT_KEY_HANDLE kek, const char16_t* blob,
                              Bytes& out) {
    DWORD size = 0;
    SECURITY_STATUS s = NCryptExportKey(key, kek, blob, nullptr, nullptr, 0, &size, 0);
    if (s != ERROR_SUCCESS) {
      return s;
    }
    out.assign(size, 0);
    s = NCryptExportKey(key, kek, blob, nullptr, out.data(), size, &size, 0);
    out.resize(size);
    return s;
  }
  SECURITY_STATUS unwrap(NCRYPT_KEY_HANDLE kek, const char16_t* blob, Bytes data,
                         std::u16string alg, NCRYPT_KEY_HANDLE& out, const char16_t* name = nullptr,
                         DWORD flags = 0) {
    std::u16string key_name = name != nullptr ? name : u"";
    NCryptBuffer buffers[2] = {
        {static_cast<ULONG>((alg.size() + 1) * 2), NCRYPTBUFFER_PKCS_ALG_ID, alg.data()},
        {static_cast<ULONG>((key_name.size() + 1) * 2), NCRYPTBUFFER_PKCS_KEY_NAME,
         key_name.data()}};
    NCryptBufferDesc params{NCRYPTBUFFER_VERSION, name != nullptr ? 2u : 1u, buffers};
    return NCryptImportKey(provider_, kek, blob, alg.empty() ? nullptr : &params, &out, data.data(),
                           static_cast<DWORD>(data.size()), flags);
  }
};

TEST_F(KeyWrapTest, Rfc3394Vectors) {
  const NCRYPT_KEY_HANDLE k128 = kek(hex("000102030405060708090A0B0C0D0E0F"));
  const NCRYPT_KEY_HANDLE data = secret(u"AES", hex("00112233445566778899AABBCCDDEEFF"));
  Bytes out;
  ASSERT_OK(wrap(data, k128, BCRYPT_AES_WRAP_KEY_BLOB, out));
  EXPECT_EQ(out, hex("1FA68B0A8112B447AEF34BD8FB5A7B829D3E862371D2CFE5"));

  const NCRYPT_KEY_HANDLE k256 =
      kek(hex("000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F"));
  const NCRYPT_KEY_HANDLE data256 =
      secret(u"AES", hex("00112233445566778899AABBCCDDEEFF000102030405060708090A0B0C0D0E0F"));
  ASSERT_OK(wrap(data256, k256, BCRYPT_AES_WRAP_KEY_BLOB, out));
  EXPECT_EQ(out, hex("28C9F404C4B810F4CBCCB35CFB87F8263F5786E2D80ED326CBC7F0E71A99F43B"
                     "FB988B9B7A02DD21"));

  // Unwrap makes a normal key with those bytes.
  NCRYPT_KEY_HANDLE unwrapped = 0;
  ASSERT_OK(unwrap(k256, BCRYPT_AES_WRAP_KEY_BLOB, out, u"AES", unwrapped, nullptr,
                   NCRYPT_DO_NOT_FINALIZE_FLAG));
  ASSERT_OK(
      set_dword(unwrapped, NCRYPT_EXPORT_POLICY_PROPERTY, NCRYPT_ALLOW_PLAINTEXT_EXPORT_FLAG));
  ASSERT_OK(NCryptFinalizeKey(unwrapped, 0));
  EXPECT_EQ(export_key(unwrapped, NCRYPT_CIPHER_KEY_BLOB),
            cipher_key_blob(u"AES", hex("00112233445566778899AABBCCDDEEFF"
                                        "000102030405060708090A0B0C0D0E0F")));
  for (const auto h : {k128, data, k256, data256, unwrapped}) {
    EXPECT_OK(NCryptFreeObject(h));
  }
}

TEST_F(KeyWrapTest, Rfc5649VectorsAndPkcs7Variant) {
  const Bytes kek_bytes = hex("5840df6e29b02af1ab493b705bf16ea1ae8338f4dcc176a8");
  const NCRYPT_KEY_HANDLE k = kek(kek_bytes);
  const NCRYPT_KEY_HANDLE s20 =
      secret(u"GENERIC_SECRET", hex("c37b7e6492584340bed12207808941155068f738"));
  Bytes out;
  ASSERT_OK(wrap(s20, k, NCRYPT_AES_WRAP_PAD_KEY_BLOB, out));
  EXPECT_EQ(out, hex("138bdeaa9b8fa7fc61f97742e72248ee5ae6ae5360d1ae6a5f54f373fa543b6a"));
  const NCRYPT_KEY_HANDLE s7 = secret(u"GENERIC_SECRET", hex("466f7250617369"));
  ASSERT_OK(wrap(s7, k, NCRYPT_AES_WRAP_PAD_KEY_BLOB, out));
  EXPECT_EQ(out, hex("afbeb0f07dfbf5419200f2ccb50bb24f"));
  // 20 bytes are not a multiple of 8: RFC 3394 refuses, the PKCS#7 variant pads to 24.
  EXPECT_STATUS(NTE_BAD_LEN, wrap(s20, k, BCRYPT_AES_WRAP_KEY_BLOB, out));
  EXPECT_STATUS(NTE_BAD_LEN, wrap(s7, k, NCRYPT_AES_WRAP_PKCS7_KEY_BLOB, out));
  ASSERT_OK(wrap(s20, k, NCRYPT_AES_WRAP_PKCS7_KEY_BLOB, out));
  Bytes padded = hex("c37b7e6492584340bed12207808941155068f738");
  padded.insert(padded.end(), 4, 4);
  EXPECT_EQ(out, ref_wrap("AES-192-WRAP", kek_bytes, padded, true));
  NCRYPT_KEY_HANDLE back = 0;
  ASSERT_OK(unwrap(k, NCRYPT_AES_WRAP_PKCS7_KEY_BLOB, out, u"GENERIC_SECRET", back));
  EXPECT_EQ(dword_property(back, NCRYPT_LENGTH_PROPERTY), 160u);
  // The unwrapped secret computes the same HMAC as the original.
  NCRYPT_HMAC_PADDING_INFO info{NCRYPT_SHA256_ALGORITHM, 0};
  Bytes msg = text("abc");
  Bytes mac(32);
  DWORD size = 0;
  ASSERT_OK(NCryptSignHash(back, &info, msg.data(), 3, mac.data(), 32, &size, 0));
  EXPECT_EQ(mac, ref_hmac("SHA256", hex("c37b7e6492584340bed12207808941155068f738"), msg));
  // Padding that is not PKCS#7 under a valid RFC 3394 wrap.
  Bytes bad_pad = padded;
  bad_pad.back() = 3;
  EXPECT_STATUS(NTE_BAD_DATA, unwrap(k, NCRYPT_AES_WRAP_PKCS7_KEY_BLOB,
                                     ref_wrap("AES-192-WRAP", kek_bytes, bad_pad, true),
                                     u"GENERIC_SECRET", back));
  for (const auto h : {k, s20, s7, back}) {
    EXPECT_OK(NCryptFreeObject(h));
  }
}

TEST_F(KeyWrapTest, PrivateKeysWrapAsPkcs8AndUnwrapToWorkingKeys) {
  const Bytes kek_bytes = random_bytes(32);
  const NCRYPT_KEY_HANDLE k = kek(kek_bytes);
  for (const char16_t* alg : {u"RSA", u"ECDSA_P256", u"ECDH_P384"}) {
    const NCRYPT_KEY_HANDLE key = create_key(
        alg, nullptr, 0, true, 0, NCRYPT_ALLOW_EXPORT_FLAG | NCRYPT_ALLOW_PLAINTEXT_EXPORT_FLAG);
    const Bytes pkcs8 = export_key(key, NCRYPT_PKCS8_PRIVATE_KEY_BLOB);
    Bytes wrapped;
    ASSERT_OK(wrap(key, k, NCRYPT_AES_WRAP_PAD_KEY_BLOB, wrapped));
    EXPECT_EQ(ref_wrap("AES-256-WRAP-PAD", kek_bytes, wrapped, false), pkcs8);
    NCRYPT_KEY_HANDLE back = 0;
    ASSERT_OK(unwrap(k, NCRYPT_AES_WRAP_PAD_KEY_BLOB, wrapped, alg, back, u"unwrapped",
                     NCRYPT_OVERWRITE_KEY_FLAG));
    const bool rsa = std::u16string(alg) == u"RSA";
    // The same public key (an EC key comes back as ECDH_<curve>, as a PKCS#8 import does; the
    // blob magics differ in that letter only).
    const Bytes pub_back = export_key(back, BCRYPT_PUBLIC_KEY_BLOB);
    const Bytes pub = export_key(key, BCRYPT_PUBLIC_KEY_BLOB);
    ASSERT_EQ(pub_back.size(), pub.size());
    EXPECT_EQ(Bytes(pub_back.begin() + 4, pub_back.end()), Bytes(pub.begin() + 4, pub.end()));
    const std::u16string algorithm = string_property(back, NCRYPT_ALGORITHM_PROPERTY);
    EXPECT_EQ(algorithm,
              rsa ? u"RSA" : u"ECDH" + std::u16string(alg).substr(std::u16string(alg).find(u'_')));
    // It signs, and the original verifies.
    Bytes hash = random_bytes(32);
    BCRYPT_PKCS1_PADDING_INFO pkcs1{NCRYPT_SHA256_ALGORITHM};
    const DWORD flags = rsa ? NCRYPT_PAD_PKCS1_FLAG : 0;
    DWORD size = 0;
    ASSERT_OK(
        NCryptSignHash(back, rsa ? &pkcs1 : nullptr, hash.data(), 32, nullptr, 0, &size, flags));
    Bytes sig(size);
    ASSERT_OK(NCryptSignHash(back, rsa ? &pkcs1 : nullptr, hash.data(), 32, sig.data(), size, &size,
                             flags));
    EXPECT_OK(NCryptVerifySignature(key, rsa ? &pkcs1 : nullptr, hash.data(), 32, sig.data(), size,
                                    flags));
    // A wrong algorithm for what is inside.
    NCRYPT_KEY_HANDLE wrong = 0;
    EXPECT_STATUS(NTE_BAD_DATA, unwrap(k, NCRYPT_AES_WRAP_PAD_KEY_BLOB, wrapped,
                                       rsa ? u"ECDSA_P256" : u"RSA", wrong));
    EXPECT_STATUS(NTE_BAD_DATA, unwrap(k, NCRYPT_AES_WRAP_PAD_KEY_BLOB, wrapped,
                                       rsa ? u"ECDH" : u"ECDSA_P521", wrong));
    EXPECT_OK(NCryptFreeObject(back));
    EXPECT_OK(NCryptFreeObject(key));
  }
  EXPECT_EQ(file_count(user_dir()), 1u);  // the named unwrapped key
  EXPECT_OK(NCryptFreeObject(k));
}

TEST_F(KeyWrapTest, PolicyUsageAndParameterErrors) {
  const NCRYPT_KEY_HANDLE k = kek(random_bytes(16));
  const NCRYPT_KEY_HANDLE no_export = secret(u"AES", random_bytes(16), 0);
  const NCRYPT_KEY_HANDLE plain_only =
      secret(u"AES", random_bytes(16), NCRYPT_ALLOW_PLAINTEXT_EXPORT_FLAG);
  const NCRYPT_KEY_HANDLE ok = secret(u"AES", random_bytes(16));
  Bytes out;
  EXPECT_STATUS(NTE_NOT_SUPPORTED, wrap(no_export, k, BCRYPT_AES_WRAP_KEY_BLOB, out));
  EXPECT_STATUS(NTE_NOT_SUPPORTED, wrap(plain_only, k, BCRYPT_AES_WRAP_KEY_BLOB, out));
  // Plaintext blob types are not exported under a key; wrap blobs need one.
  EXPECT_STATUS(NTE_NOT_SUPPORTED, wrap(ok, k, NCRYPT_CIPHER_KEY_BLOB, out));
  EXPECT_STATUS(NTE_INVALID_PARAMETER, wrap(ok, 0, BCRYPT_AES_WRAP_KEY_BLOB, out));
  EXPECT_STATUS(NTE_INVALID_HANDLE, wrap(ok, static_cast<NCRYPT_KEY_HANDLE>(kGarbageHandle),
                                         BCRYPT_AES_WRAP_KEY_BLOB, out));
  // The wrapping key must be an AES key whose usage allows key import.
  const NCRYPT_KEY_HANDLE no_usage = kek(random_bytes(16), NCRYPT_ALLOW_DECRYPT_FLAG);
  EXPECT_STATUS(NTE_PERM, wrap(ok, no_usage, BCRYPT_AES_WRAP_KEY_BLOB, out));
  const NCRYPT_KEY_HANDLE hmac = secret(u"GENERIC_SECRET", random_bytes(16));
  EXPECT_STATUS(NTE_BAD_KEY, wrap(ok, hmac, BCRYPT_AES_WRAP_KEY_BLOB, out));
  NCRYPT_KEY_HANDLE unfinished = 0;
  ASSERT_OK(NCryptCreatePersistedKey(provider_, &unfinished, u"AES", nullptr, 0, 0));
  EXPECT_STATUS(NTE_BAD_KEY_STATE, wrap(ok, unfinished, BCRYPT_AES_WRAP_KEY_BLOB, out));

  // Size query then a short buffer.
  DWORD size = 0;
  ASSERT_OK(NCryptExportKey(ok, k, BCRYPT_AES_WRAP_KEY_BLOB, nullptr, nullptr, 0, &size, 0));
  EXPECT_EQ(size, 24u);
  out.assign(23, 0);
  EXPECT_STATUS(NTE_BUFFER_TOO_SMALL, NCryptExportKey(ok, k, BCRYPT_AES_WRAP_KEY_BLOB, nullptr,
                                                      out.data(), 23, &size, 0));
  ASSERT_OK(wrap(ok, k, BCRYPT_AES_WRAP_KEY_BLOB, out));

  // Unwrap errors: no algorithm, wrong key, bad lengths, tampering.
  NCRYPT_KEY_HANDLE h = 0;
  EXPECT_STATUS(NTE_INVALID_PARAMETER, unwrap(k, BCRYPT_AES_WRAP_KEY_BLOB, out, u"", h));
  EXPECT_STATUS(NTE_NOT_SUPPORTED, unwrap(k, BCRYPT_AES_WRAP_KEY_BLOB, out, u"DES", h));
  const NCRYPT_KEY_HANDLE other_kek = kek(random_bytes(16));
  EXPECT_STATUS(NTE_BAD_DATA, unwrap(other_kek, BCRYPT_AES_WRAP_KEY_BLOB, out, u"AES", h));
  EXPECT_STATUS(NTE_PERM, unwrap(no_usage, BCRYPT_AES_WRAP_KEY_BLOB, out, u"AES", h));
  EXPECT_STATUS(NTE_BAD_LEN,
                unwrap(k, BCRYPT_AES_WRAP_KEY_BLOB, Bytes(out.begin(), out.end() - 1), u"AES", h));
  EXPECT_STATUS(NTE_BAD_LEN, unwrap(k, BCRYPT_AES_WRAP_KEY_BLOB, Bytes(16, 1), u"AES", h));
  Bytes tampered = out;
  tampered[3] ^= 1;
  EXPECT_STATUS(NTE_BAD_DATA, unwrap(k, BCRYPT_AES_WRAP_KEY_BLOB, tampered, u"AES", h));
  EXPECT_STATUS(NTE_NOT_SUPPORTED, unwrap(k, NCRYPT_CIPHER_KEY_BLOB, out, u"AES", h));
  // A 40-byte secret unwrapped as AES: a length AES does not have.
  const NCRYPT_KEY_HANDLE s40 = secret(u"GENERIC_SECRET", random_bytes(40));
  ASSERT_OK(wrap(s40, k, BCRYPT_AES_WRAP_KEY_BLOB, out));
  EXPECT_STATUS(NTE_NOT_SUPPORTED, unwrap(k, BCRYPT_AES_WRAP_KEY_BLOB, out, u"AES", h));
  for (const auto x : {k, no_export, plain_only, ok, no_usage, hmac, unfinished, s40, other_kek}) {
    EXPECT_OK(NCryptFreeObject(x));
  }
}

}  // namespace
}  // namespace ncrypt_test

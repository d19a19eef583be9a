// NCryptEncrypt / NCryptDecrypt on AES keys: published vectors (NIST SP 800-38A, GCM test
// cases of SP 800-38D / McGrew-Viega), results of plain OpenSSL, and every error path.
#include <atomic>
#include <thread>
#include <vector>

#include "symmetric_support.h"

namespace ncrypt_test {
namespace {

const Bytes kKey128 = hex("2b7e151628aed2a6abf7158809cf4f3c");
const Bytes kKey256 = hex("603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4");
const Bytes kIv = hex("000102030405060708090a0b0c0d0e0f");
const Bytes kPlain =
    hex("6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51"
        "30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710");

class AesCipherTest : public SymmetricTest {};

TEST_F(AesCipherTest, Sp800_38aEcbAndCbcVectors) {
  const NCRYPT_KEY_HANDLE ecb = import_aes(kKey128, BCRYPT_CHAIN_MODE_ECB);
  CipherInfo none({});
  Bytes out;
  ASSERT_OK(aes_call(true, ecb, kPlain, none.get(), out));
  EXPECT_EQ(out, hex("3ad77bb40d7a3660a89ecaf32466ef97f5d3d58503b9699de785895a96fdbaaf"
                     "43b1cd7f598ece23881b00e3ed0306887b0c785e27e8ad3f8223207104725dd4"));
  Bytes back;
  ASSERT_OK(aes_call(false, ecb, out, none.get(), back));
  EXPECT_EQ(back, kPlain);

  const NCRYPT_KEY_HANDLE cbc = import_aes(kKey128);  // CBC is the default mode
  EXPECT_EQ(string_property(cbc, NCRYPT_CHAINING_MODE_PROPERTY), BCRYPT_CHAIN_MODE_CBC);
  CipherInfo iv(kIv);
  ASSERT_OK(aes_call(true, cbc, kPlain, iv.get(), out));
  EXPECT_EQ(out, hex("7649abac8119b246cee98e9b12e9197d5086cb9b507219ee95db113a917678b2"
                     "73bed6b8e3c1743b7116e69e222295163ff1caa1681fac09120eca307586e1a7"));
  const NCRYPT_KEY_HANDLE cbc256 = import_aes(kKey256);
  CipherInfo iv2(kIv);
  ASSERT_OK(aes_call(true, cbc256, kPlain, iv2.get(), out));
  EXPECT_EQ(out, hex("f58c4c04d6e5f1ba779eabfb5f7bfbd69cfc4e967edb808d679f777bc6702c7d"
                     "39f23369a9d9bacfa530e26304231461b2eb05e2c39be9fcda6c19078c6a9d1b"));
  for (const auto h : {ecb, cbc, cbc256}) {
    EXPECT_OK(NCryptFreeObject(h));
  }
}

TEST_F(AesCipherTest, CbcChainsThroughPbIvAcrossCalls) {
  const NCRYPT_KEY_HANDLE key = import_aes(kKey128);
  const Bytes whole = ref_cipher("AES-128-CBC", kKey128, kIv, kPlain, true, false);
  CipherInfo iv(kIv);
  Bytes first;
  Bytes second;
  ASSERT_OK(aes_call(true, key, Bytes(kPlain.begin(), kPlain.begin() + 32), iv.get(), first));
  EXPECT_EQ(iv.iv, Bytes(first.end() - 16, first.end()));  // the chaining value
  ASSERT_OK(aes_call(true, key, Bytes(kPlain.begin() + 32, kPlain.end()), iv.get(), second));
  first.insert(first.end(), second.begin(), second.end());
  EXPECT_EQ(first, whole);

  CipherInfo div(kIv);
  Bytes p1;
  Bytes p2;
  ASSERT_OK(aes_call(false, key, Bytes(whole.begin(), whole.begin() + 16), div.get(), p1));
  ASSERT_OK(aes_call(false, key, Bytes(whole.begin() + 16, whole.end()), div.get(), p2));
  p1.insert(p1.end(), p2.begin(), p2.end());
  EXPECT_EQ(p1, kPlain);
  EXPECT_OK(NCryptFreeObject(key));
}

TEST_F(AesCipherTest, Pkcs7PaddingMatchesOpenSsl) {
  for (const std::size_t key_len : {16u, 24u, 32u}) {
    const Bytes k = random_bytes(key_len);
    const NCRYPT_KEY_HANDLE key = import_aes(k);
    const std::string cbc = "AES-" + std::to_string(key_len * 8) + "-CBC";
    const std::string ecb = "AES-" + std::to_string(key_len * 8) + "-ECB";
    for (const std::size_t n : {0u, 1u, 15u, 16u, 17u, 100u}) {
      const Bytes plain = random_bytes(n);
      CipherInfo enc(kIv, NCRYPT_CIPHER_BLOCK_PADDING_FLAG);
      Bytes out;
      ASSERT_OK(aes_call(true, key, plain, enc.get(), out));
      EXPECT_EQ(out, ref_cipher(cbc.c_str(), k, kIv, plain, true, true)) << n;
      EXPECT_EQ(out.size(), (n / 16 + 1) * 16);
      CipherInfo dec(kIv, NCRYPT_CIPHER_BLOCK_PADDING_FLAG);
      Bytes back;
      ASSERT_OK(aes_call(false, key, out, dec.get(), back));
      EXPECT_EQ(back, plain);
    }
    ASSERT_OK(set_mode(key, BCRYPT_CHAIN_MODE_ECB));
    const Bytes plain = random_bytes(37);
    CipherInfo pad({}, NCRYPT_CIPHER_BLOCK_PADDING_FLAG);
    Bytes out;
    ASSERT_OK(aes_call(true, key, plain, pad.get(), out));
    EXPECT_EQ(out, ref_cipher(ecb.c_str(), k, {}, plain, true, true));
    EXPECT_OK(NCryptFreeObject(key));
  }
}

TEST_F(AesCipherTest, SizeQueryAndBufferTooSmall) {
  const NCRYPT_KEY_HANDLE key = import_aes(kKey128);
  CipherInfo iv(kIv, NCRYPT_CIPHER_BLOCK_PADDING_FLAG);
  Bytes in = random_bytes(20);
  DWORD size = 0;
  ASSERT_OK(NCryptEncrypt(key, in.data(), 20, iv.get(), nullptr, 0, &size, NCRYPT_PAD_CIPHER_FLAG));
  EXPECT_EQ(size, 32u);
  EXPECT_EQ(iv.iv, kIv);  // a size query leaves the IV alone
  Bytes out(31);
  EXPECT_STATUS(NTE_BUFFER_TOO_SMALL, NCryptEncrypt(key, in.data(), 20, iv.get(), out.data(), 31,
                                                    &size, NCRYPT_PAD_CIPHER_FLAG));
  EXPECT_EQ(size, 32u);
  EXPECT_EQ(iv.iv, kIv);
  out.resize(32);
  ASSERT_OK(
      NCryptEncrypt(key, in.data(), 20, iv.get(), out.data(), 32, &size, NCRYPT_PAD_CIPHER_FLAG));
  // Padded decryption: the query gives cbInput, the call the exact size.
  CipherInfo div(kIv, NCRYPT_CIPHER_BLOCK_PADDING_FLAG);
  ASSERT_OK(
      NCryptDecrypt(key, out.data(), 32, div.get(), nullptr, 0, &size, NCRYPT_PAD_CIPHER_FLAG));
  EXPECT_EQ(size, 32u);
  Bytes plain(19);
  EXPECT_STATUS(NTE_BUFFER_TOO_SMALL, NCryptDecrypt(key, out.data(), 32, div.get(), plain.data(),
                                                    19, &size, NCRYPT_PAD_CIPHER_FLAG));
  EXPECT_EQ(size, 20u);
  EXPECT_EQ(div.iv, kIv);
  plain.resize(20);
  ASSERT_OK(NCryptDecrypt(key, out.data(), 32, div.get(), plain.data(), 20, &size,
                          NCRYPT_PAD_CIPHER_FLAG));
  EXPECT_EQ(plain, in);
  // In place.
  CipherInfo ip(kIv);
  Bytes buf = kPlain;
  ASSERT_OK(
      NCryptEncrypt(key, buf.data(), 64, ip.get(), buf.data(), 64, &size, NCRYPT_PAD_CIPHER_FLAG));
  EXPECT_EQ(buf, ref_cipher("AES-128-CBC", kKey128, kIv, kPlain, true, false));
  CipherInfo ipd(kIv);
  ASSERT_OK(
      NCryptDecrypt(key, buf.data(), 64, ipd.get(), buf.data(), 64, &size, NCRYPT_PAD_CIPHER_FLAG));
  EXPECT_EQ(buf, kPlain);
  EXPECT_EQ(ipd.iv, ip.iv);  // both end on the last ciphertext block
  EXPECT_OK(NCryptFreeObject(key));
}

TEST_F(AesCipherTest, LengthPaddingAndParameterErrors) {
  const NCRYPT_KEY_HANDLE key = import_aes(kKey128);
  Bytes out;
  CipherInfo iv(kIv);
  EXPECT_STATUS(NTE_BAD_LEN, aes_call(true, key, random_bytes(17), iv.get(), out));
  EXPECT_STATUS(NTE_BAD_LEN, aes_call(false, key, random_bytes(15), iv.get(), out));
  CipherInfo pad(kIv, NCRYPT_CIPHER_BLOCK_PADDING_FLAG);
  EXPECT_STATUS(NTE_BAD_LEN, aes_call(false, key, Bytes{}, pad.get(), out));
  EXPECT_STATUS(NTE_BAD_LEN, aes_call(false, key, random_bytes(31), pad.get(), out));
  // Bad PKCS#7 padding: a block whose last byte is 0 after decryption.
  const Bytes bad = ref_cipher("AES-128-CBC", kKey128, kIv, Bytes(16, 0), true, false);
  EXPECT_STATUS(NTE_BAD_DATA, aes_call(false, key, bad, pad.get(), out));
  EXPECT_EQ(pad.iv, kIv);  // a failed call leaves the IV alone

  CipherInfo short_iv(Bytes(8, 1));
  EXPECT_STATUS(NTE_INVALID_PARAMETER, aes_call(true, key, kPlain, short_iv.get(), out));
  CipherInfo no_iv({});
  EXPECT_STATUS(NTE_INVALID_PARAMETER, aes_call(true, key, kPlain, no_iv.get(), out));
  CipherInfo wrong_size(kIv);
  wrong_size.info.cbSize = 8;
  EXPECT_STATUS(NTE_INVALID_PARAMETER, aes_call(true, key, kPlain, wrong_size.get(), out));
  CipherInfo bad_flags(kIv, 0x100);
  EXPECT_STATUS(NTE_BAD_FLAGS, aes_call(true, key, kPlain, bad_flags.get(), out));
  CipherInfo other(kIv, NCRYPT_CIPHER_OTHER_PADDING_FLAG);
  EXPECT_STATUS(NTE_INVALID_PARAMETER, aes_call(true, key, kPlain, other.get(), out));
  EXPECT_STATUS(NTE_INVALID_PARAMETER, aes_call(true, key, kPlain, nullptr, out));

  Bytes in = kPlain;
  DWORD size = 0;
  EXPECT_STATUS(NTE_INVALID_PARAMETER,
                NCryptEncrypt(key, in.data(), 64, iv.get(), nullptr, 0, &size, 0));
  EXPECT_STATUS(NTE_INVALID_PARAMETER,
                NCryptEncrypt(key, in.data(), 64, iv.get(), nullptr, 0, &size,
                              NCRYPT_PAD_CIPHER_FLAG | NCRYPT_PAD_PKCS1_FLAG));
  EXPECT_STATUS(NTE_BAD_FLAGS, NCryptEncrypt(key, in.data(), 64, iv.get(), nullptr, 0, &size,
                                             NCRYPT_PAD_CIPHER_FLAG | 0x01000000));
  // An ECB key takes no IV.
  ASSERT_OK(set_mode(key, BCRYPT_CHAIN_MODE_ECB));
  EXPECT_STATUS(NTE_INVALID_PARAMETER, aes_call(true, key, kPlain, iv.get(), out));
  // RSA keys refuse the cipher flag.
  const NCRYPT_KEY_HANDLE rsa = create_key(u"RSA", nullptr);
  EXPECT_STATUS(NTE_INVALID_PARAMETER, NCryptEncrypt(rsa, in.data(), 16, iv.get(), nullptr, 0,
                                                     &size, NCRYPT_PAD_CIPHER_FLAG));
  EXPECT_OK(NCryptFreeObject(rsa));
  EXPECT_OK(NCryptFreeObject(key));
}

TEST_F(AesCipherTest, GcmVectorsAndTagCheck) {
  const Bytes k = hex("feffe9928665731c6d6a8f9467308308");
  const NCRYPT_KEY_HANDLE key = import_aes(k, BCRYPT_CHAIN_MODE_GCM);
  const Bytes plain =
      hex("d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
          "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39");
  const Bytes cipher =
      hex("42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e"
          "21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091");
  GcmInfo enc(hex("cafebabefacedbaddecaf888"), hex("feedfacedeadbeeffeedfacedeadbeefabaddad2"), 16);
  Bytes out;
  ASSERT_OK(aes_call(true, key, plain, enc.get(), out));
  EXPECT_EQ(out, cipher);
  EXPECT_EQ(enc.tag, hex("5bc94fbc3221a5db94fae95ae7121a47"));

  GcmInfo dec(enc.nonce, enc.aad, 16);
  dec.tag = enc.tag;
  Bytes back;
  ASSERT_OK(aes_call(false, key, cipher, dec.get(), back));
  EXPECT_EQ(back, plain);
  dec.tag[0] ^= 1;
  EXPECT_STATUS(STATUS_AUTH_TAG_MISMATCH, aes_call(false, key, cipher, dec.get(), back));
  dec.tag[0] ^= 1;
  Bytes tampered = cipher;
  tampered[5] ^= 0x80;
  EXPECT_STATUS(STATUS_AUTH_TAG_MISMATCH, aes_call(false, key, tampered, dec.get(), back));
  EXPECT_STATUS(NTE_INVALID_PARAMETER, aes_call(true, key, plain, CipherInfo(kIv).get(), out));

  // All-zero key, nonce and block (test case 2) and an empty message (test case 1).
  const NCRYPT_KEY_HANDLE zero = import_aes(Bytes(16, 0), BCRYPT_CHAIN_MODE_GCM);
  GcmInfo z(Bytes(12, 0), {}, 16);
  ASSERT_OK(aes_call(true, zero, Bytes(16, 0), z.get(), out));
  EXPECT_EQ(out, hex("0388dace60b6a392f328c2b971b2fe78"));
  EXPECT_EQ(z.tag, hex("ab6e47d42cec13bdf53a67b21257bddf"));
  GcmInfo empty(Bytes(12, 0), {}, 16);
  ASSERT_OK(aes_call(true, zero, Bytes{}, empty.get(), out));
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(empty.tag, hex("58e2fccefa7e3061367f1d57a4e7455a"));
  EXPECT_OK(NCryptFreeObject(zero));
  EXPECT_OK(NCryptFreeObject(key));
}

TEST_F(AesCipherTest, GcmTruncatedTagsAndOddNoncesMatchOpenSsl) {
  const Bytes k = random_bytes(32);
  const NCRYPT_KEY_HANDLE key = import_aes(k, BCRYPT_CHAIN_MODE_GCM);
  DWORD size = 0;
  BCRYPT_AUTH_TAG_LENGTHS_STRUCT lengths{};
  ASSERT_OK(NCryptGetProperty(key, NCRYPT_AUTH_TAG_LENGTH, reinterpret_cast<PBYTE>(&lengths),
                              sizeof lengths, &size, 0));
  EXPECT_EQ(lengths.dwMinLength, 4u);
  EXPECT_EQ(lengths.dwMaxLength, 16u);
  EXPECT_EQ(lengths.dwIncrement, 1u);
  for (const std::size_t tag_len : {4u, 8u, 12u, 13u, 16u}) {
    for (const std::size_t nonce_len : {1u, 12u, 16u, 60u}) {
      const Bytes nonce = random_bytes(nonce_len);
      const Bytes aad = random_bytes(tag_len * 3);
      const Bytes plain = random_bytes(nonce_len + 7);
      Bytes ref_tag;
      const Bytes ref = ref_gcm_encrypt(k, nonce, aad, plain, tag_len, ref_tag);
      GcmInfo enc(nonce, aad, tag_len);
      Bytes out;
      ASSERT_OK(aes_call(true, key, plain, enc.get(), out));
      EXPECT_EQ(out, ref);
      EXPECT_EQ(enc.tag, ref_tag);
      GcmInfo dec(nonce, aad, tag_len);
      dec.tag = ref_tag;
      Bytes back;
      ASSERT_OK(aes_call(false, key, ref, dec.get(), back));
      EXPECT_EQ(back, plain);
    }
  }
  Bytes out;
  for (const std::size_t bad_tag : {0u, 3u, 17u}) {
    GcmInfo g(Bytes(12, 1), {}, bad_tag);
    EXPECT_STATUS(NTE_INVALID_PARAMETER, aes_call(true, key, Bytes(4, 0), g.get(), out));
  }
  GcmInfo no_nonce(Bytes(12, 1), {}, 16);
  no_nonce.auth.cbNonce = 0;
  EXPECT_STATUS(NTE_INVALID_PARAMETER, aes_call(true, key, Bytes(4, 0), no_nonce.get(), out));
  GcmInfo version(Bytes(12, 1), {}, 16);
  version.auth.dwInfoVersion = 2;
  EXPECT_STATUS(NTE_INVALID_PARAMETER, aes_call(true, key, Bytes(4, 0), version.get(), out));
  GcmInfo chained(Bytes(12, 1), {}, 16);
  chained.auth.dwFlags = BCRYPT_AUTH_MODE_CHAIN_CALLS_FLAG;
  EXPECT_STATUS(NTE_NOT_SUPPORTED, aes_call(true, key, Bytes(4, 0), chained.get(), out));
  GcmInfo with_iv(Bytes(12, 1), {}, 16);
  with_iv.info.pbIV = with_iv.nonce.data();
  with_iv.info.cbIV = 12;
  EXPECT_STATUS(NTE_INVALID_PARAMETER, aes_call(true, key, Bytes(4, 0), with_iv.get(), out));
  ASSERT_OK(set_mode(key, BCRYPT_CHAIN_MODE_CBC));
  EXPECT_STATUS(NTE_NOT_SUPPORTED,
                NCryptGetProperty(key, NCRYPT_AUTH_TAG_LENGTH, nullptr, 0, &size, 0));
  EXPECT_OK(NCryptFreeObject(key));
}

TEST_F(AesCipherTest, KeyUsageWithoutDecryptIsRefused) {
  NCRYPT_KEY_HANDLE key = 0;
  ASSERT_OK(NCryptCreatePersistedKey(provider_, &key, NCRYPT_AES_ALGORITHM, nullptr, 0, 0));
  ASSERT_OK(set_dword(key, NCRYPT_KEY_USAGE_PROPERTY, NCRYPT_ALLOW_SIGNING_FLAG));
  ASSERT_OK(NCryptFinalizeKey(key, 0));
  CipherInfo iv(kIv);
  Bytes out;
  EXPECT_STATUS(NTE_PERM, aes_call(true, key, kPlain, iv.get(), out));
  EXPECT_STATUS(NTE_PERM, aes_call(false, key, kPlain, iv.get(), out));
  Bytes data = kPlain;
  DWORD size = 0;
  NCRYPT_HMAC_PADDING_INFO hmac{NCRYPT_SHA256_ALGORITHM, 0};
  EXPECT_STATUS(NTE_NOT_SUPPORTED,
                NCryptSignHash(key, &hmac, data.data(), 64, nullptr, 0, &size, 0));
  EXPECT_OK(NCryptFreeObject(key));
}

TEST_F(AesCipherTest, ManyThreadsOnOneHandle) {
  const Bytes k = random_bytes(16);
  const NCRYPT_KEY_HANDLE key = import_aes(k, BCRYPT_CHAIN_MODE_GCM);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 100; ++i) {
        const Bytes nonce = random_bytes(12);
        const Bytes plain = random_bytes(static_cast<std::size_t>(t * 7 + i));
        Bytes ref_tag;
        const Bytes ref = ref_gcm_encrypt(k, nonce, {}, plain, 16, ref_tag);
        GcmInfo enc(nonce, {}, 16);
        Bytes out;
        GcmInfo dec(nonce, {}, 16);
        Bytes back;
        if (aes_call(true, key, plain, enc.get(), out) != ERROR_SUCCESS || out != ref ||
            enc.tag != ref_tag) {
          ++failures;
          continue;
        }
        dec.tag = enc.tag;
        if (aes_call(false, key, out, dec.get(), back) != ERROR_SUCCESS || back != plain) {
          ++failures;
        }
      }
    });
  }
  for (auto& th : threads) {
    th.join();
  }
  EXPECT_EQ(failures.load(), 0);
  EXPECT_OK(NCryptFreeObject(key));
}

}  // namespace
}  // namespace ncrypt_test

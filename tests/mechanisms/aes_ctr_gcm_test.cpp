// CKM_AES_CTR and CKM_AES_GCM over CNG AES keys: NIST SP 800-38A F.5 and the GCM
// specification's test cases (McGrew & Viega, cases 1-4 and 13-16), OpenSSL EVP references,
// multi-part against single-part, counter wrap, tag checks and parameter errors.
#include <cstring>

#include "secret_test_support.h"

namespace mechtest {
namespace {

using p11::OpKind;

const Bytes kPlain =
    hex("6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51"
        "30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710");

CK_AES_CTR_PARAMS ctr_params(const Bytes& cb, CK_ULONG bits) {
  CK_AES_CTR_PARAMS p{};
  p.ulCounterBits = bits;
  std::memcpy(p.cb, cb.data(), 16);
  return p;
}

TEST(AesCtr, Sp800_38aF5Vectors) {
  const Bytes counter = hex("f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff");
  const struct {
    Bytes key;
    Bytes cipher;
  } cases[] = {
      {hex("2b7e151628aed2a6abf7158809cf4f3c"),  // F.5.1 CTR-AES128
       hex("874d6191b620e3261bef6864990db6ce9806f66b7970fdff8617187bb9fffdff"
           "5ae4df3edbd5d35e5b4f09020db03eab1e031dda2fbe03d1792170a0f3009cee")},
      {hex("603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4"),  // F.5.5
       hex("601ec313775789a5b7a7f504bbf3d228f443e3ca4d62b59aca84e990cacaf5c5"
           "2b0930daa23de94ce87017ba2d84988ddfc9c58db67aada613c2dd08457941a6")},
  };
  for (const auto& c : cases) {
    const auto key = import_secret(CKK_AES, c.key);
    for (const CK_ULONG bits : {16UL, 32UL, 64UL, 128UL}) {
      SCOPED_TRACE(bits);
      CK_AES_CTR_PARAMS p = ctr_params(counter, bits);
      const CK_MECHANISM m = mechanism(CKM_AES_CTR, &p, sizeof(p));
      EXPECT_EQ(one_shot(OpKind::kEncrypt, m, key->view(), kPlain), c.cipher);
      EXPECT_EQ(multi_part(OpKind::kEncrypt, m, key->view(), kPlain, odd_chunks()), c.cipher);
      EXPECT_EQ(one_shot(OpKind::kDecrypt, m, key->view(), c.cipher), kPlain);
      EXPECT_EQ(multi_part(OpKind::kDecrypt, m, key->view(), c.cipher, {3, 29}), kPlain);
    }
  }
}

TEST(AesCtr, MatchesOpenSslWithOddChunks) {
  for (const std::size_t key_len : {16U, 24U, 32U}) {
    const auto key = random_aes(key_len);
    Bytes cb = random_bytes(16);
    cb[12] = cb[13] = 0;  // the 32-bit counter cannot carry out of its field for these sizes
    CK_AES_CTR_PARAMS p = ctr_params(cb, 32);
    const CK_MECHANISM m = mechanism(CKM_AES_CTR, &p, sizeof(p));
    for (const std::size_t n : {0U, 1U, 15U, 16U, 17U, 100U, 1000U}) {
      SCOPED_TRACE(std::to_string(key_len) + " n " + std::to_string(n));
      const Bytes plain = random_bytes(n);
      const Bytes expected =
          ossl_cipher(aes_name(key_len, "CTR").c_str(), key->value, cb, plain, true, false);
      EXPECT_EQ(one_shot(OpKind::kEncrypt, m, key->view(), plain), expected);
      EXPECT_EQ(one_shot(OpKind::kDecrypt, m, key->view(), expected), plain);
      for (const auto& chunks :
           std::vector<std::vector<std::size_t>>{odd_chunks(), {1}, {16}, {15, 2}}) {
        EXPECT_EQ(multi_part(OpKind::kEncrypt, m, key->view(), plain, chunks), expected);
        EXPECT_EQ(multi_part(OpKind::kDecrypt, m, key->view(), expected, chunks), plain);
      }
    }
  }
}

TEST(AesCtr, CounterWrapPastCounterBits) {
  const auto key = random_aes(16);
  const p11::KeyView view = key->view();
  Bytes cb = random_bytes(16);
  struct Case {
    CK_ULONG bits;
    std::uint8_t low;        // the last byte of the counter block
    std::size_t max_blocks;  // blocks before the counter field would wrap
  };
  for (const Case c : {Case{1, 0x00, 2}, Case{1, 0x01, 1}, Case{8, 0xFE, 2}, Case{3, 0xF9, 7},
                       Case{8, 0x00, 256}}) {
    SCOPED_TRACE("bits " + std::to_string(c.bits) + " low " + std::to_string(c.low));
    cb[15] = c.low;
    CK_AES_CTR_PARAMS p = ctr_params(cb, c.bits);
    const CK_MECHANISM m = mechanism(CKM_AES_CTR, &p, sizeof(p));
    const Bytes plain = random_bytes(16 * c.max_blocks);
    // Up to the last counter value the output is plain CTR (no carry out of the field yet).
    const Bytes expected = ossl_cipher("AES-128-CTR", key->value, cb, plain, true, false);
    EXPECT_EQ(one_shot(OpKind::kEncrypt, m, view, plain), expected);
    EXPECT_EQ(multi_part(OpKind::kEncrypt, m, view, plain, {7}), expected);
    const Bytes one_more = random_bytes(plain.size() + 1);
    EXPECT_EQ(rv_of([&] { one_shot(OpKind::kEncrypt, m, view, one_more); }), CKR_DATA_LEN_RANGE);
    EXPECT_EQ(rv_of([&] { one_shot(OpKind::kDecrypt, m, view, one_more); }),
              CKR_ENCRYPTED_DATA_LEN_RANGE);
    // Multi-part: the part that would need the wrapped counter fails; nothing of it is output.
    auto op = start_sw(OpKind::kEncrypt, m, &view);
    const Bytes got = op->update_output(plain);
    EXPECT_EQ(got, expected);
    EXPECT_EQ(rv_of([&] { static_cast<void>(op->update_output(Bytes{1})); }), CKR_DATA_LEN_RANGE);
  }
  // The whole 128-bit block as counter: all ones allows exactly one block.
  CK_AES_CTR_PARAMS p = ctr_params(Bytes(16, 0xFF), 128);
  const CK_MECHANISM m = mechanism(CKM_AES_CTR, &p, sizeof(p));
  EXPECT_EQ(one_shot(OpKind::kEncrypt, m, view, Bytes(16, 0)).size(), 16U);
  EXPECT_EQ(rv_of([&] { one_shot(OpKind::kEncrypt, m, view, Bytes(17, 0)); }), CKR_DATA_LEN_RANGE);
  // A 16-bit counter carries from its low byte into its high byte (…00ff → …0100).
  Bytes carry = random_bytes(16);
  carry[14] = 0x00;
  carry[15] = 0xFF;
  CK_AES_CTR_PARAMS p16 = ctr_params(carry, 16);
  const CK_MECHANISM m16 = mechanism(CKM_AES_CTR, &p16, sizeof(p16));
  const Bytes plain = random_bytes(64);
  EXPECT_EQ(multi_part(OpKind::kEncrypt, m16, view, plain, {5}),
            ossl_cipher("AES-128-CTR", key->value, carry, plain, true, false));
}

TEST(AesCtr, ParameterErrors) {
  const auto key = random_aes(16);
  const p11::KeyView view = key->view();
  auto start = [&](const CK_MECHANISM& m) {
    return rv_of([&] { static_cast<void>(start_sw(OpKind::kEncrypt, m, &view)); });
  };
  const Bytes cb = random_bytes(16);
  for (const CK_ULONG bits : {0UL, 129UL, 256UL}) {
    CK_AES_CTR_PARAMS p = ctr_params(cb, bits);
    EXPECT_EQ(start(mechanism(CKM_AES_CTR, &p, sizeof(p))), CKR_MECHANISM_PARAM_INVALID) << bits;
  }
  CK_AES_CTR_PARAMS p = ctr_params(cb, 64);
  EXPECT_EQ(start(mechanism(CKM_AES_CTR, &p, sizeof(p) - 1)), CKR_MECHANISM_PARAM_INVALID);
  EXPECT_EQ(start(mechanism(CKM_AES_CTR)), CKR_MECHANISM_PARAM_INVALID);
  EXPECT_EQ(start(mechanism(CKM_AES_CTR, nullptr, sizeof(p))), CKR_MECHANISM_PARAM_INVALID);
  EXPECT_EQ(start(mechanism(CKM_AES_CTR, &p, sizeof(p))), CKR_OK);
}

CK_GCM_PARAMS gcm_params(Bytes& iv, Bytes& aad, CK_ULONG tag_bits) {
  CK_GCM_PARAMS p{};
  p.pIv = iv.data();
  p.ulIvLen = iv.size();
  p.ulIvBits = 8 * iv.size();
  p.pAAD = aad.empty() ? nullptr : aad.data();
  p.ulAADLen = aad.size();
  p.ulTagBits = tag_bits;
  return p;
}

TEST(AesGcm, SpecificationTestCases) {
  const Bytes p3 =
      hex("d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
          "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255");
  const Bytes p4(p3.begin(), p3.begin() + 60);
  const Bytes k3 = hex("feffe9928665731c6d6a8f9467308308");
  const Bytes k15 = concat(k3, k3);
  const Bytes iv3 = hex("cafebabefacedbaddecaf888");
  const Bytes a4 = hex("feedfacedeadbeeffeedfacedeadbeefabaddad2");
  const Bytes c3 =
      hex("42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e"
          "21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091473f5985");
  const Bytes c15 =
      hex("522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
          "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad");
  const struct {
    int number;
    Bytes key, iv, aad, plain, cipher_and_tag;
  } cases[] = {
      {1, Bytes(16, 0), Bytes(12, 0), {}, {}, hex("58e2fccefa7e3061367f1d57a4e7455a")},
      {2,
       Bytes(16, 0),
       Bytes(12, 0),
       {},
       Bytes(16, 0),
       hex("0388dace60b6a392f328c2b971b2fe78ab6e47d42cec13bdf53a67b21257bddf")},
      {3, k3, iv3, {}, p3, concat(c3, hex("4d5c2af327cd64a62cf35abd2ba6fab4"))},
      {4, k3, iv3, a4, p4,
       concat(Bytes(c3.begin(), c3.begin() + 60), hex("5bc94fbc3221a5db94fae95ae7121a47"))},
      {13, Bytes(32, 0), Bytes(12, 0), {}, {}, hex("530f8afbc74536b9a963b4f1c4cb738b")},
      {14,
       Bytes(32, 0),
       Bytes(12, 0),
       {},
       Bytes(16, 0),
       hex("cea7403d4d606b6e074ec5d3baf39d18d0d1c8a799996bf0265b98b5d48ab919")},
      {15, k15, iv3, {}, p3, concat(c15, hex("b094dac5d93471bdec1a502270e3cc6c"))},
      {16, k15, iv3, a4, p4,
       concat(Bytes(c15.begin(), c15.begin() + 60), hex("76fc6ece0f4e1768cddf8853bb2d551b"))},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE("test case " + std::to_string(c.number));
    const auto key = import_secret(CKK_AES, c.key);
    Bytes iv = c.iv;
    Bytes aad = c.aad;
    CK_GCM_PARAMS p = gcm_params(iv, aad, 128);
    const CK_MECHANISM m = mechanism(CKM_AES_GCM, &p, sizeof(p));
    EXPECT_EQ(one_shot(OpKind::kEncrypt, m, key->view(), c.plain), c.cipher_and_tag);
    EXPECT_EQ(multi_part(OpKind::kEncrypt, m, key->view(), c.plain, odd_chunks()),
              c.cipher_and_tag);
    EXPECT_EQ(one_shot(OpKind::kDecrypt, m, key->view(), c.cipher_and_tag), c.plain);
    EXPECT_EQ(multi_part(OpKind::kDecrypt, m, key->view(), c.cipher_and_tag, odd_chunks()),
              c.plain);
  }
}

TEST(AesGcm, MatchesOpenSsl) {
  for (const std::size_t key_len : {16U, 24U, 32U}) {
    const auto key = random_aes(key_len);
    for (const std::size_t iv_len : {1U, 12U, 16U, 60U, 128U}) {
      for (const std::size_t aad_len : {0U, 20U}) {
        for (const std::size_t tag_len : {4U, 8U, 13U, 16U}) {
          for (const std::size_t n : {0U, 1U, 16U, 33U, 100U}) {
            SCOPED_TRACE(std::to_string(key_len) + "/" + std::to_string(iv_len) + "/" +
                         std::to_string(aad_len) + "/" + std::to_string(tag_len) + "/" +
                         std::to_string(n));
            Bytes iv = random_bytes(iv_len);
            Bytes aad = random_bytes(aad_len);
            const Bytes plain = random_bytes(n);
            CK_GCM_PARAMS p = gcm_params(iv, aad, 8 * tag_len);
            const CK_MECHANISM m = mechanism(CKM_AES_GCM, &p, sizeof(p));
            const Bytes expected = ossl_gcm_encrypt(key->value, iv, aad, plain, tag_len);
            EXPECT_EQ(one_shot(OpKind::kEncrypt, m, key->view(), plain), expected);
            EXPECT_EQ(multi_part(OpKind::kEncrypt, m, key->view(), plain, {7}), expected);
            EXPECT_EQ(one_shot(OpKind::kDecrypt, m, key->view(), expected), plain);
            EXPECT_EQ(multi_part(OpKind::kDecrypt, m, key->view(), expected, {5, 16}), plain);
          }
        }
      }
    }
  }
}

TEST(AesGcm, TagIsCheckedBeforeAnyPlaintext) {
  const auto key = random_aes(16);
  const p11::KeyView view = key->view();
  Bytes iv = random_bytes(12);
  Bytes aad = random_bytes(10);
  const Bytes plain = random_bytes(50);
  CK_GCM_PARAMS p = gcm_params(iv, aad, 96);
  const CK_MECHANISM m = mechanism(CKM_AES_GCM, &p, sizeof(p));
  const Bytes good = ossl_gcm_encrypt(key->value, iv, aad, plain, 12);
  for (const std::size_t flip : {0UL, 49UL, 50UL, 61UL}) {  // ciphertext and tag bytes
    Bytes bad = good;
    bad[flip] ^= 0x01;
    EXPECT_EQ(rv_of([&] { one_shot(OpKind::kDecrypt, m, view, bad); }), CKR_ENCRYPTED_DATA_INVALID);
    auto op = start_sw(OpKind::kDecrypt, m, &view);
    EXPECT_EQ(op->update_output_size(bad.size()), 0U);
    EXPECT_TRUE(op->update_output(bad).empty()) << "no plaintext before the tag is checked";
    EXPECT_EQ(rv_of([&] { static_cast<void>(op->final()); }), CKR_ENCRYPTED_DATA_INVALID);
  }
  Bytes other_aad = aad;
  other_aad[0] ^= 0x80;
  CK_GCM_PARAMS q = gcm_params(iv, other_aad, 96);
  const CK_MECHANISM wrong_aad = mechanism(CKM_AES_GCM, &q, sizeof(q));
  EXPECT_EQ(rv_of([&] { one_shot(OpKind::kDecrypt, wrong_aad, view, good); }),
            CKR_ENCRYPTED_DATA_INVALID);
  // Shorter than the tag.
  EXPECT_EQ(
      rv_of([&] { one_shot(OpKind::kDecrypt, m, view, Bytes(good.begin(), good.begin() + 11)); }),
      CKR_ENCRYPTED_DATA_LEN_RANGE);
  EXPECT_EQ(rv_of([&] { multi_part(OpKind::kDecrypt, m, view, Bytes(5, 0), {2}); }),
            CKR_ENCRYPTED_DATA_LEN_RANGE);
  // Size announcements: encrypt exact (plain + tag), decrypt the plaintext length.
  auto enc = start_sw(OpKind::kEncrypt, m, &view);
  EXPECT_EQ(enc->one_shot_output_size(50), 62U);
  EXPECT_TRUE(enc->update_output(plain).empty());
  EXPECT_EQ(enc->output_size(), 62U);
  auto dec = start_sw(OpKind::kDecrypt, m, &view);
  EXPECT_EQ(dec->one_shot_output_size(62), 50U);
  EXPECT_EQ(dec->one_shot_output_size(3), 0U);
}

TEST(AesGcm, ParameterErrors) {
  const auto key = random_aes(16);
  const p11::KeyView view = key->view();
  auto start = [&](const CK_MECHANISM& m) {
    return rv_of([&] { static_cast<void>(start_sw(OpKind::kDecrypt, m, &view)); });
  };
  Bytes iv = random_bytes(257);
  Bytes aad = random_bytes(8);
  CK_GCM_PARAMS p = gcm_params(iv, aad, 128);
  const CK_MECHANISM m = mechanism(CKM_AES_GCM, &p, sizeof(p));
  p.ulIvLen = 256;
  EXPECT_EQ(start(m), CKR_OK);
  for (const CK_ULONG len : {0UL, 257UL}) {
    p.ulIvLen = len;
    EXPECT_EQ(start(m), CKR_MECHANISM_PARAM_INVALID) << len;
  }
  p.ulIvLen = 12;
  p.pIv = nullptr;
  EXPECT_EQ(start(m), CKR_MECHANISM_PARAM_INVALID);
  p.pIv = iv.data();
  p.ulIvBits = 12345;  // ignored
  EXPECT_EQ(start(m), CKR_OK);
  for (const CK_ULONG bits : {0UL, 24UL, 28UL, 100UL, 136UL}) {
    p.ulTagBits = bits;
    EXPECT_EQ(start(m), CKR_MECHANISM_PARAM_INVALID) << bits;
  }
  for (const CK_ULONG bits : {32UL, 40UL, 96UL, 120UL, 128UL}) {
    p.ulTagBits = bits;
    EXPECT_EQ(start(m), CKR_OK) << bits;
  }
  p.pAAD = nullptr;
  EXPECT_EQ(start(m), CKR_MECHANISM_PARAM_INVALID);
  p.ulAADLen = 0;
  EXPECT_EQ(start(m), CKR_OK);
  EXPECT_EQ(start(mechanism(CKM_AES_GCM, &p, sizeof(p) - 1)), CKR_MECHANISM_PARAM_INVALID);
  EXPECT_EQ(start(mechanism(CKM_AES_GCM, &p, sizeof(p) + 8)), CKR_MECHANISM_PARAM_INVALID);
  EXPECT_EQ(start(mechanism(CKM_AES_GCM)), CKR_MECHANISM_PARAM_INVALID);
}

// The PKCS#11 2.40 header's CK_GCM_PARAMS (no ulIvBits) is accepted by its size.
TEST(AesGcm, AcceptsTheLayoutWithoutIvBits) {
  struct Gcm240 {
    CK_BYTE_PTR pIv;
    CK_ULONG ulIvLen;
    CK_BYTE_PTR pAAD;
    CK_ULONG ulAADLen;
    CK_ULONG ulTagBits;
  };
  const auto key = random_aes(32);
  Bytes iv = random_bytes(12);
  Bytes aad = random_bytes(16);
  Gcm240 p{iv.data(), iv.size(), aad.data(), aad.size(), 112};
  const CK_MECHANISM m = mechanism(CKM_AES_GCM, &p, sizeof(p));
  const Bytes plain = random_bytes(40);
  const Bytes expected = ossl_gcm_encrypt(key->value, iv, aad, plain, 14);
  EXPECT_EQ(one_shot(OpKind::kEncrypt, m, key->view(), plain), expected);
  EXPECT_EQ(one_shot(OpKind::kDecrypt, m, key->view(), expected), plain);
  p.ulTagBits = 20;
  EXPECT_EQ(rv_of([&] { one_shot(OpKind::kEncrypt, m, key->view(), plain); }),
            CKR_MECHANISM_PARAM_INVALID);
}

}  // namespace
}  // namespace mechtest
